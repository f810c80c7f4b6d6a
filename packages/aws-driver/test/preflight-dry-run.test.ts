// preflight's DryRun requests on recording fake clients: moto answers DryRunOperation whatever
// the request carries, so only the inputs themselves can show what IAM would judge.
import { describe, expect, it } from 'vitest';
import { TAG } from '../src/index.js';
import { awsError, fakeDriver, fakeSpec, type FakeHandler, type RecordedCall } from './support/recording-client.js';

const spec = fakeSpec();
const dryRunOk = () => {
  throw awsError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
};
const account: Record<string, FakeHandler> = {
  DescribeImages: () => ({ Images: [{ ImageId: spec.image, RootDeviceName: '/dev/sda1', State: 'available' }] }),
  CreateNetworkInterface: dryRunOk,
  CreateVolume: dryRunOk,
  RunInstances: dryRunOk,
};
const only = (calls: RecordedCall[], operation: string) => calls.filter((c) => c.operation === operation).map((c) => c.input);
const tagsOf = (specs: unknown, type: string) =>
  Object.fromEntries(((specs as { ResourceType: string; Tags: { Key: string; Value: string }[] }[]).find((t) => t.ResourceType === type)?.Tags ?? []).map((t) => [t.Key, t.Value]));
const without = (input: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(Object.entries(input).filter(([k]) => !keys.includes(k)));

describe('preflight DryRun requests (fake clients)', () => {
  // Regression: the dry runs sent no tags and no security groups, so the generated policy's
  // aws:RequestTag conditions denied them (and RunInstances was judged on the VPC's default group).
  it('carry the cluster tags and security groups, as ensureNode does', async () => {
    const calls: RecordedCall[] = [];
    const report = await fakeDriver(account, calls).preflight(spec);
    expect(report.problems.filter((p) => p.check === 'permissions')).toEqual([]);
    expect(report.checked).toContain('permissions');

    const [eni] = only(calls, 'CreateNetworkInterface');
    expect(eni).toMatchObject({ DryRun: true, SubnetId: 'subnet-0a1b2c3d', PrivateIpAddress: '10.0.1.10', Groups: ['sg-0123456789abcdef0', 'sg-0fedcba9876543210'] });
    expect(tagsOf(eni!.TagSpecifications, 'network-interface')).toMatchObject({ [TAG.cluster]: 'kafka', [TAG.node]: 'n1', team: 'data' });

    const [volume] = only(calls, 'CreateVolume');
    expect(volume).toMatchObject({ DryRun: true, AvailabilityZone: 'eu-west-1a', Size: 100 });
    expect(tagsOf(volume!.TagSpecifications, 'volume')).toMatchObject({ [TAG.cluster]: 'kafka', [TAG.node]: 'n1', [TAG.volume]: 'data', [TAG.nodeIp]: '10.0.1.10' });

    const [run] = only(calls, 'RunInstances');
    expect(run).toMatchObject({
      DryRun: true,
      ImageId: spec.image,
      InstanceType: 'm6i.large',
      IamInstanceProfile: { Name: 'kafka-node' },
      MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' },
      NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: 'subnet-0a1b2c3d', Groups: ['sg-0123456789abcdef0', 'sg-0fedcba9876543210'] }],
      BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: expect.objectContaining({ DeleteOnTermination: true }) }],
    });
    expect(tagsOf(run!.TagSpecifications, 'instance')).toMatchObject({ [TAG.cluster]: 'kafka', [TAG.node]: 'n1', [TAG.revision]: expect.stringMatching(/^r-/) });
    expect(tagsOf(run!.TagSpecifications, 'volume')).toMatchObject({ [TAG.cluster]: 'kafka', [TAG.volume]: 'root' });
  });

  it("are ensureNode's requests, built by the same functions", async () => {
    const dry: RecordedCall[] = [];
    await fakeDriver(account, dry).preflight(spec);
    const real: RecordedCall[] = [];
    await fakeDriver(
      {
        ...account,
        CreateNetworkInterface: () => ({ NetworkInterface: { NetworkInterfaceId: 'eni-0new' } }),
        CreateVolume: () => ({ VolumeId: 'vol-0new', State: 'creating' }),
        CreateLaunchTemplate: () => ({ LaunchTemplate: { LaunchTemplateId: 'lt-0new' } }),
        CreateAutoScalingGroup: () => ({}),
        PutLifecycleHook: () => ({}),
      },
      real,
    ).ensureNode(spec, 'n1');
    expect(without(only(dry, 'CreateNetworkInterface')[0]!, 'DryRun')).toEqual(only(real, 'CreateNetworkInterface')[0]);
    expect(without(only(dry, 'CreateVolume')[0]!, 'DryRun')).toEqual(without(only(real, 'CreateVolume')[0]!, 'ClientToken'));
    // The launch: every field the template has, but its network (the ENI to be) and user data.
    const template = only(real, 'CreateLaunchTemplate')[0]!.LaunchTemplateData as Record<string, unknown>;
    const launch = only(dry, 'RunInstances')[0]!;
    expect(without(launch, 'DryRun', 'MinCount', 'MaxCount', 'NetworkInterfaces')).toEqual(without(template, 'UserData', 'NetworkInterfaces'));
  });

  it('reports a denied dry run as a permissions problem naming the operation', async () => {
    const report = await fakeDriver({ ...account, CreateVolume: () => { throw awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.', 403); } }, []).preflight(spec);
    expect(report.problems.filter((p) => p.check === 'permissions').map((p) => p.message)).toEqual([expect.stringContaining('not allowed to CreateVolume')]);
  });
});
