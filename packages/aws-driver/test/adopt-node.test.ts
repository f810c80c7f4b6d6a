// Adoption's AWS side on moto (docs/adopt.md): the checks, DeleteOnTermination=false and the
// tags, on an instance launched with RunInstances as a cluster Berth did not launch has them.
// The take-over's timing, the ENI and volume freed by termination and the node's launch onto
// them are behaviour moto does not show (see the notes below): packages/sim-driver/test/adopt-node.test.ts.
import { CreateNetworkInterfaceCommand, CreateVolumeCommand, DescribeInstancesCommand, DescribeNetworkInterfacesCommand, DescribeVolumesCommand, RunInstancesCommand, StopInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { BerthConfigError, BerthDriverError, defineCluster, type ClusterSpec } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { TAG } from '../src/index.js';
import { clusterInput, failure, useMotoWorld } from './support/aws-fixture.js';

const aws = useMotoWorld();

const tagsOf = (tags: { Key?: string; Value?: string }[] | undefined) => Object.fromEntries((tags ?? []).map((t) => [t.Key, t.Value]));

/** An instance launched outside Berth in the first subnet: its primary interface with `ip`, a 50 GiB gp3 data volume at /dev/sdf. */
async function launchUnmanaged(ip: string, subnet = 0): Promise<Instance> {
  const w = aws.world;
  const r = await w.ec2.send(
    new RunInstancesCommand({
      ImageId: w.image,
      InstanceType: 't3.medium',
      MinCount: 1,
      MaxCount: 1,
      // DeleteOnTermination spelled out: AWS's defaults (EC2-9, EBS-4), which moto does not apply.
      NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: w.subnets[subnet]!.id, PrivateIpAddress: ip, Groups: [w.securityGroupId], DeleteOnTermination: true }],
      BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 50, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } }],
    }),
  );
  return describe1(r.Instances![0]!.InstanceId!);
}

async function describe1(instanceId: string): Promise<Instance> {
  const d = await aws.world.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return d.Reservations![0]!.Instances![0]!;
}

/** n1 of a 3-node spec, adopting the instance's interface and data volume. */
function adoptingSpec(inst: Instance): ClusterSpec {
  const input = clusterInput(aws.world, 3);
  const data = inst.BlockDeviceMappings!.find((m) => m.DeviceName === '/dev/sdf')!.Ebs!.VolumeId!;
  return defineCluster({ ...input, nodes: input.nodes.map((n, i) => (i === 0 ? { ...n, adopt: { eniId: inst.NetworkInterfaces![0]!.NetworkInterfaceId!, volumeId: data } } : n)) });
}

describe('adoption on moto', () => {
  it('takeOverAdoption tags a free interface and volume as the node\'s; a second run changes nothing', async () => {
    // moto keeps an instance's interface in-use after the instance terminates (ENI-5, "What moto
    // 5.2.1 does not do"), so the take-over after a termination is shown in the simulator; here the
    // interface and the volume are free from the start (e.g. detached by hand from a stopped instance).
    const w = aws.world;
    const eni = await w.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: w.subnets[0]!.id, PrivateIpAddress: '10.0.1.10', Groups: [w.securityGroupId] }));
    const vol = await w.ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 50, VolumeType: 'gp3', Encrypted: true }));
    const input = clusterInput(w, 3);
    const adopt = { eniId: eni.NetworkInterface!.NetworkInterfaceId!, volumeId: vol.VolumeId! };
    const spec = defineCluster({ ...input, nodes: input.nodes.map((n, i) => (i === 0 ? { ...n, adopt } : n)) });
    const r = await aws.driver.takeOverAdoption!(spec, 'n1', adopt);
    expect(r).toMatchObject({ eniId: adopt.eniId, volumeId: adopt.volumeId, instanceId: null, adopted: true });
    expect(r.changes.map((c) => `${c.resource}:${c.action}`)).toEqual(['network-interface:updated', 'volume:updated']);
    const e = (await w.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [adopt.eniId] }))).NetworkInterfaces![0]!;
    const v = (await w.ec2.send(new DescribeVolumesCommand({ VolumeIds: [adopt.volumeId] }))).Volumes![0]!;
    expect(tagsOf(e.TagSet)).toEqual({ [TAG.cluster]: 'kafka', [TAG.node]: 'n1', [TAG.nodeIp]: '10.0.1.10', team: 'data' });
    expect(tagsOf(v.Tags)).toEqual({ [TAG.cluster]: 'kafka', [TAG.node]: 'n1', [TAG.nodeIp]: '10.0.1.10', [TAG.volume]: 'data', team: 'data' });
    expect((await aws.driver.takeOverAdoption!(spec, 'n1', adopt)).changes).toEqual([]);
    // Now the node's: ensureNode finds them by their tags instead of creating others.
    const ensured = await aws.driver.ensureNode(spec, 'n1');
    expect(ensured.changes.filter((c) => c.resource === 'network-interface' || c.resource === 'volume').map((c) => `${c.resource}:${c.action}:${c.id}`)).toEqual([
      `network-interface:unchanged:${adopt.eniId}`,
      `volume:unchanged:${adopt.volumeId}`,
    ]);
    // Another cluster cannot adopt them any more.
    const other = defineCluster({ ...input, name: 'other', nodes: input.nodes.map((n, i) => (i === 0 ? { ...n, adopt } : n)) });
    const refused = (await failure(aws.driver.checkAdoption!(other, 'n1', adopt))) as BerthConfigError;
    expect(refused.issues.map((i) => i.message).join('\n')).toMatch(/already belongs to kafka\/n1/);
  });

  it('checkAdoption finds the interface and data volume on the instance, and with protect sets DeleteOnTermination=false on both', async () => {
    const inst = await launchUnmanaged('10.0.1.10');
    const spec = adoptingSpec(inst);
    const eniId = inst.NetworkInterfaces![0]!.NetworkInterfaceId!;
    const volumeId = spec.nodes[0]!.adopt!.volumeId;
    const readOnly = await aws.driver.checkAdoption!(spec, 'n1', { instanceId: inst.InstanceId! });
    expect(readOnly).toMatchObject({ nodeId: 'n1', eniId, volumeId, instanceId: inst.InstanceId, instanceState: 'running', eniDeviceIndex: 0, adopted: false, changes: [] });
    const protectedCheck = await aws.driver.checkAdoption!(spec, 'n1', spec.nodes[0]!.adopt!, { protect: true });
    expect(protectedCheck.changes.map((c) => `${c.resource}:${c.action}:${c.id}`)).toEqual([`network-interface:updated:${eniId}`, `volume:updated:${volumeId}`]);
    const after = await describe1(inst.InstanceId!);
    expect(after.BlockDeviceMappings!.find((m) => m.DeviceName === '/dev/sdf')!.Ebs!.DeleteOnTermination).toBe(false);
    // moto accepts ModifyNetworkInterfaceAttribute's Attachment but does not apply it (the simulator does: ENI-8).
    expect(after.NetworkInterfaces![0]!.Attachment!.DeleteOnTermination).toBe(true);
  });

  it('refuses a wrong IP, a wrong subnet, a volume of another size or type, before any change', async () => {
    const inst = await launchUnmanaged('10.0.1.10');
    const good = adoptingSpec(inst);
    const input = clusterInput(aws.world, 3);
    // n2 (10.0.2.10 in the second subnet) names n1's resources; the spec's volume is smaller and gp2.
    const wrong = defineCluster({ ...input, dataVolume: { ...input.dataVolume, sizeGiB: 40, type: 'gp2' }, nodes: input.nodes.map((n, i) => (i === 1 ? { ...n, adopt: good.nodes[0]!.adopt! } : n)) });
    const e = (await failure(aws.driver.checkAdoption!(wrong, 'n2', wrong.nodes[1]!.adopt!, { protect: true }))) as BerthConfigError;
    expect(e).toBeInstanceOf(BerthConfigError);
    expect(e.issues.map((i) => i.path)).toEqual(['nodes[1].adopt.eniId', 'nodes[1].adopt.eniId', 'nodes[1].adopt.volumeId', 'nodes[1].adopt.volumeId', 'nodes[1].adopt.volumeId']);
    expect(e.message).toMatch(/private IP is 10\.0\.1\.10, the node's ip is 10\.0\.2\.10/);
    expect(e.message).toMatch(/is in us-east-1a, the node's subnet .* is in us-east-1b/);
    expect(e.message).toMatch(/is gp3, the spec says gp2/);
    expect(e.message).toMatch(/is 50 GiB, the spec says 40 GiB and EBS volumes never shrink/);
    const before = await describe1(inst.InstanceId!);
    const counts = aws.driver.apiCallCounts();
    expect([counts['ModifyInstanceAttribute'], counts['ModifyNetworkInterfaceAttribute'], counts['CreateTags']]).toEqual([undefined, undefined, undefined]);
    expect(before.State!.Name).toBe('running');
  });

  it('takeOverAdoption refuses a stopped instance whose primary interface the node needs, touching nothing (EC2-10)', async () => {
    const inst = await launchUnmanaged('10.0.1.10');
    const spec = adoptingSpec(inst);
    const adopt = spec.nodes[0]!.adopt!;
    await aws.driver.checkAdoption!(spec, 'n1', adopt, { protect: true });
    await aws.world.ec2.send(new StopInstancesCommand({ InstanceIds: [inst.InstanceId!] }));
    const e = (await failure(aws.driver.takeOverAdoption!(spec, 'n1', adopt))) as BerthDriverError;
    expect(e).toBeInstanceOf(BerthDriverError);
    expect(e.awsCode).toBe('UnmanagedInstanceNotTerminated');
    expect(e.message).toMatch(/is stopped, so its network interface and volume are still attached\. .* is its primary interface \(device index 0\)/);
    expect(e.message).toMatch(/Terminate it \(aws ec2 terminate-instances --instance-ids i-\w+\)/);
    const eni = (await aws.world.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [adopt.eniId] }))).NetworkInterfaces![0]!;
    const vol = (await aws.world.ec2.send(new DescribeVolumesCommand({ VolumeIds: [adopt.volumeId] }))).Volumes![0]!;
    expect(tagsOf(eni.TagSet)[TAG.cluster]).toBeUndefined();
    expect(tagsOf(vol.Tags)[TAG.cluster]).toBeUndefined();
  });
});
