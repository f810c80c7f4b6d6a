// The EC2 rules adoption relies on (docs/aws-behaviour.md ENI-8, ENI-9, EBS-20, EC2-9), through
// the simulated API, on an instance launched outside Berth.
import {
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeVolumesCommand,
  DetachNetworkInterfaceCommand,
  EC2ServiceException,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { expectAwsError, rulesAccount, SG, SUBNET, until } from './account-fixture.js';

function unmanaged() {
  const { sim } = rulesAccount();
  const old = sim.account.createUnmanagedInstance({ subnetId: SUBNET.a, ip: '10.0.1.50', securityGroupIds: [SG] });
  return { sim, old };
}

describe('EC2 rules of adoption', () => {
  it('EC2-9: a launch outside Berth makes its primary interface (device index 0) and its block-device volumes with DeleteOnTermination=true', async () => {
    const { sim, old } = unmanaged();
    await sim.run(async () => {
      const r = await sim.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [old.instanceId] }));
      const inst = r.Reservations?.[0]?.Instances?.[0];
      expect(inst?.State?.Name).toBe('running');
      expect(inst?.NetworkInterfaces?.[0]).toMatchObject({ NetworkInterfaceId: old.eniId, PrivateIpAddress: '10.0.1.50', Attachment: { DeviceIndex: 0, DeleteOnTermination: true } });
      const devices = Object.fromEntries((inst?.BlockDeviceMappings ?? []).map((m) => [m.DeviceName, m.Ebs]));
      expect(devices['/dev/xvda']).toMatchObject({ VolumeId: old.rootVolumeId, DeleteOnTermination: true });
      expect(devices['/dev/sdf']).toMatchObject({ VolumeId: old.volumeId, DeleteOnTermination: true });
    });
  });

  it('ENI-8: an interface whose attachment has DeleteOnTermination=true is deleted with its instance; ModifyNetworkInterfaceAttribute sets it to false and the interface stays, available, with its IP', async () => {
    const gone = unmanaged();
    await gone.sim.run(async () => {
      await gone.sim.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [gone.old.instanceId] }));
      await until(gone.sim, () => gone.sim.world.instance(gone.old.instanceId)?.ec2State !== 'shutting-down', 'terminated');
      await expectAwsError(gone.sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [gone.old.eniId] })), 'InvalidNetworkInterfaceID.NotFound', 400, EC2ServiceException);
    });

    const kept = unmanaged();
    await kept.sim.run(async () => {
      const before = await kept.sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [kept.old.eniId] }));
      const attachmentId = before.NetworkInterfaces?.[0]?.Attachment?.AttachmentId;
      await expectAwsError(kept.sim.aws.ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: kept.old.eniId, Attachment: { AttachmentId: 'eni-attach-0000000000000000f', DeleteOnTermination: false } })), 'InvalidAttachmentID.NotFound', 400, EC2ServiceException);
      await kept.sim.aws.ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: kept.old.eniId, Attachment: { AttachmentId: attachmentId, DeleteOnTermination: false } }));
      const modified = await kept.sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [kept.old.eniId] }));
      expect(modified.NetworkInterfaces?.[0]?.Attachment?.DeleteOnTermination).toBe(false);
      await kept.sim.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [kept.old.instanceId] }));
      await until(kept.sim, () => kept.sim.world.instance(kept.old.instanceId)?.ec2State !== 'shutting-down', 'terminated');
      const after = await kept.sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [kept.old.eniId] }));
      expect(after.NetworkInterfaces?.[0]).toMatchObject({ Status: 'available', PrivateIpAddress: '10.0.1.50' });
      expect(after.NetworkInterfaces?.[0]?.Attachment).toBeUndefined();
    });
  });

  it('ENI-9: DetachNetworkInterface of a primary interface (device index 0) fails with OperationNotPermitted, from a running instance', async () => {
    const { sim, old } = unmanaged();
    await sim.run(async () => {
      const d = await sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [old.eniId] }));
      await expectAwsError(sim.aws.ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: d.NetworkInterfaces?.[0]?.Attachment?.AttachmentId })), 'OperationNotPermitted', 400, EC2ServiceException, /device index 0/);
      expect(sim.world.instance(old.instanceId)?.ec2State).toBe('running');
    });
  });

  it('EBS-20: ModifyInstanceAttribute BlockDeviceMappings sets DeleteOnTermination of an attached volume; with false the volume outlives the instance, with its data', async () => {
    const { sim, old } = unmanaged();
    await sim.run(async () => {
      await expectAwsError(sim.aws.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: old.instanceId, BlockDeviceMappings: [{ DeviceName: '/dev/sdg', Ebs: { DeleteOnTermination: false } }] })), 'InvalidInstanceAttributeValue', 400, EC2ServiceException);
      await sim.aws.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: old.instanceId, BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeId: old.volumeId, DeleteOnTermination: false } }] }));
      const v = await sim.aws.ec2.send(new DescribeVolumesCommand({ VolumeIds: [old.volumeId] }));
      expect(v.Volumes?.[0]?.Attachments?.[0]?.DeleteOnTermination).toBe(false);
      await sim.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [old.instanceId] }));
      await until(sim, () => sim.world.instance(old.instanceId)?.ec2State !== 'shutting-down', 'terminated');
      const after = await sim.aws.ec2.send(new DescribeVolumesCommand({ VolumeIds: [old.volumeId] }));
      expect(after.Volumes?.[0]).toMatchObject({ State: 'available', Attachments: [] });
      // The root volume kept DeleteOnTermination=true and went with the instance.
      await expectAwsError(sim.aws.ec2.send(new DescribeVolumesCommand({ VolumeIds: [old.rootVolumeId] })), 'InvalidVolume.NotFound', 400, EC2ServiceException);
    });
  });
});
