import { DescribeScalingActivitiesCommand, SuspendProcessesCommand, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  EC2ServiceException,
  ModifyNetworkInterfaceAttributeCommand,
  type NetworkInterface,
} from '@aws-sdk/client-ec2';
import { defineCluster } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { simulatedClusterInput, type Simulation } from '../../src/index.js';
import { AZ, createEni, createGroup, createNode, createTemplate, expectAwsError, instanceIn, rulesAccount, SG, SUBNET, until } from './account-fixture.js';

async function eni(sim: Simulation, id: string): Promise<NetworkInterface> {
  const r = await sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }));
  return r.NetworkInterfaces?.[0] as NetworkInterface;
}

const SG2 = 'sg-0fedcba9876543210';

const create = (sim: Simulation, ip: string) => sim.aws.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: SUBNET.a, PrivateIpAddress: ip, Groups: [SG] }));

describe('network interfaces', () => {
  it('ENI-2: CreateNetworkInterface refuses an address already used in the subnet (InvalidIPAddress.InUse) or outside its CIDR (InvalidParameterValue)', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await create(sim, '10.0.1.10');
      await expectAwsError(create(sim, '10.0.1.10'), 'InvalidIPAddress.InUse', 400, EC2ServiceException, /The specified address is already in use\./);
      await expectAwsError(create(sim, '10.0.2.10'), 'InvalidParameterValue', 400, EC2ServiceException, /10\.0\.2\.10 does not fall within the subnet's address range/);
      await expectAwsError(create(sim, '10.0.1.256'), 'InvalidParameterValue', 400, EC2ServiceException);
      // The address is free again once its interface is deleted.
      const holder = (await sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'addresses.private-ip-address', Values: ['10.0.1.10'] }] }))).NetworkInterfaces?.[0];
      await sim.aws.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: holder?.NetworkInterfaceId }));
      expect((await create(sim, '10.0.1.10')).NetworkInterface?.PrivateIpAddress).toBe('10.0.1.10');
    });
  });

  it('ENI-3: the first four and the last address of the subnet are AWS\'s and cannot be assigned', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      for (const ip of ['10.0.1.0', '10.0.1.1', '10.0.1.2', '10.0.1.3', '10.0.1.255']) {
        await expectAwsError(create(sim, ip), 'InvalidParameterValue', 400, EC2ServiceException, new RegExp(`^Address ${ip.replace(/\./g, '\\.')} is in subnet's reserved address range$`));
      }
      expect((await create(sim, '10.0.1.4')).NetworkInterface?.PrivateIpAddress).toBe('10.0.1.4');
      expect((await create(sim, '10.0.1.254')).NetworkInterface?.PrivateIpAddress).toBe('10.0.1.254');
      // Without an address, EC2 picks the first free assignable one.
      expect((await sim.aws.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: SUBNET.a, Groups: [SG] }))).NetworkInterface?.PrivateIpAddress).toBe('10.0.1.5');
    });
  });

  it('ENI-1: an interface lives in its subnet\'s AZ and keeps its address across instances; it is attached to one instance at a time', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const node = await createNode(sim, 'n1', { subnet: 'b' });
      expect(await eni(sim, node.eniId)).toMatchObject({ AvailabilityZone: AZ.b, SubnetId: SUBNET.b, PrivateIpAddress: node.ip });
      const first = await instanceIn(sim, 'n1', 'InService');
      // A second group whose template names the same interface cannot launch while the first instance holds it.
      await createTemplate(sim, 'lt-thief', node.eniId);
      await createGroup(sim, 'thief', 'lt-thief', { azs: [AZ.b] });
      await sim.clock.sleep(10_000);
      const thief = await sim.aws.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'thief' }));
      expect(thief.Activities?.length).toBeGreaterThan(0);
      expect(thief.Activities?.every((a) => a.StatusCode === 'Failed' && a.StatusMessage === `Interface: [${node.eniId}] in use. Launching EC2 instance failed.`)).toBe(true);
      expect((await eni(sim, node.eniId)).Attachment?.InstanceId).toBe(first);

      await sim.aws.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: first, ShouldDecrementDesiredCapacity: false }));
      await until(sim, () => sim.world.instance(first)?.ec2State === 'terminated', 'terminated');
      await until(sim, async () => {
        const a = (await eni(sim, node.eniId)).Attachment?.InstanceId;
        return a !== undefined && a !== first;
      }, 'the interface attached to a new instance');
      const holder = (await eni(sim, node.eniId)).Attachment?.InstanceId as string;
      const inst = (await sim.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [holder] }))).Reservations?.[0]?.Instances?.[0];
      expect(inst).toMatchObject({ PrivateIpAddress: node.ip, SubnetId: SUBNET.b, Placement: { AvailabilityZone: AZ.b } });
      expect(inst?.NetworkInterfaces?.map((n) => [n.NetworkInterfaceId, n.Attachment?.DeviceIndex])).toEqual([[node.eniId, 0]]);
    });
  });

  it('ENI-1, ASG-2: a group whose Availability Zones do not hold the interface never launches', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1', { subnet: 'a', azs: [AZ.b] });
      await sim.clock.sleep(10_000);
      const acts = await sim.aws.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'n1' }));
      expect(acts.Activities?.length).toBeGreaterThan(0);
      expect(acts.Activities?.every((a) => a.StatusCode === 'Failed')).toBe(true);
      expect(sim.world.instances.filter((i) => i.groupName === 'n1')).toEqual([]);
    });
  });

  it('ENI-4: the instance\'s security groups are those of its primary interface (device index 0)', async () => {
    const { sim } = rulesAccount();
    // A second security group in the same VPC (the account has what a spec names).
    sim.account.prepare(defineCluster({ ...simulatedClusterInput({ nodes: 3, name: 'other' }), securityGroupIds: [SG2] }), { policies: false });
    await sim.run(async () => {
      const node = await createNode(sim, 'n1');
      const id = await instanceIn(sim, 'n1', 'InService');
      const groupsOf = async () => (await sim.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0]?.SecurityGroups?.map((g) => g.GroupId);
      expect(await groupsOf()).toEqual([SG]);
      await sim.aws.ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: node.eniId, Groups: [SG2, SG] }));
      expect(await groupsOf()).toEqual([SG2, SG]);
      await expectAwsError(
        sim.aws.ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: node.eniId, Groups: ['sg-00000000000000bad'] })),
        'InvalidGroup.NotFound',
        400,
        EC2ServiceException,
      );
    });
  });

  it('ENI-5: an interface created separately stays in-use while its instance shuts down, then is available again with the same address', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const node = await createNode(sim, 'n1');
      const id = await instanceIn(sim, 'n1', 'InService');
      expect((await eni(sim, node.eniId)).Attachment).toMatchObject({ InstanceId: id, DeviceIndex: 0, Status: 'attached', DeleteOnTermination: false });
      // Take the group out of the way so nothing relaunches on the interface.
      await sim.aws.autoScaling.send(new SuspendProcessesCommand({ AutoScalingGroupName: 'n1', ScalingProcesses: ['Launch'] }));
      await sim.aws.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: id, ShouldDecrementDesiredCapacity: false }));
      await until(sim, () => sim.world.instance(id)?.ec2State === 'shutting-down', 'shutting-down', 1);
      expect(await eni(sim, node.eniId)).toMatchObject({ Status: 'in-use', Attachment: { InstanceId: id } });
      await until(sim, () => sim.world.instance(id)?.ec2State === 'terminated', 'terminated', 1);
      const after = await eni(sim, node.eniId);
      expect(after).toMatchObject({ Status: 'available', PrivateIpAddress: node.ip });
      expect(after.Attachment).toBeUndefined();
    });
    const terminated = sim.trace.find((e) => e.kind === 'instance.state' && e.to === 'terminated')!;
    const released = sim.trace.find((e) => e.kind === 'eni.released')!;
    expect(released.atMs).toBe(terminated.atMs);
  });

  it('ENI-6: a launch naming the interface while its old instance shuts down fails with InvalidNetworkInterface.InUse, and the group retries until it is free', async () => {
    const { sim } = rulesAccount({ timings: { shuttingDownMs: [20_000, 20_000] } });
    await sim.run(async () => {
      const node = await createNode(sim, 'n1');
      const old = await instanceIn(sim, 'n1', 'InService');
      await sim.aws.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: old, ShouldDecrementDesiredCapacity: false }));
      const next = await instanceIn(sim, 'n1', 'InService');
      expect(next).not.toBe(old);
      const acts = (await sim.aws.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'n1' }))).Activities ?? [];
      const failed = acts.filter((a) => a.StatusCode === 'Failed');
      expect(failed.length).toBeGreaterThan(1);
      for (const a of failed) {
        expect(a.StatusMessage).toBe(`Interface: [${node.eniId}] in use. Launching EC2 instance failed.`);
        expect(a.Description).toBe(`Launching a new EC2 instance.  Status Reason: Interface: [${node.eniId}] in use. Launching EC2 instance failed.`);
      }
    });
    const terminated = sim.trace.find((e) => e.kind === 'instance.state' && e.to === 'terminated')!;
    const failures = sim.trace.filter((e) => e.kind === 'group.launch-failed');
    const launched = sim.trace.filter((e) => e.kind === 'instance.launched');
    expect(failures.every((f) => f.atMs < terminated.atMs && String(f.error).startsWith('InvalidNetworkInterface.InUse'))).toBe(true);
    expect(launched).toHaveLength(2);
    expect(launched[1]!.atMs).toBeGreaterThanOrEqual(terminated.atMs);
  });

  it('ENI-7: DeleteNetworkInterface of an attached interface fails with InvalidNetworkInterface.InUse', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const node = await createNode(sim, 'n1');
      await instanceIn(sim, 'n1', 'InService');
      await expectAwsError(sim.aws.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: node.eniId })), 'InvalidNetworkInterface.InUse', 400, EC2ServiceException, new RegExp(node.eniId));
      const free = await createEni(sim, SUBNET.a);
      await sim.aws.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: free.id }));
      await expectAwsError(sim.aws.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: free.id })), 'InvalidNetworkInterfaceID.NotFound', 400, EC2ServiceException);
    });
  });
});
