// ensureNode's idempotency keys, on recording fake clients (moto ignores ClientToken and lets
// two interfaces hold one IP, so it can show neither path).
import { gunzipSync } from 'node:zlib';
import { BerthDriverError } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { clientToken } from '../src/client-token.js';
import { createAwsDriver, LAUNCH_HOOK_NAME, TAG, type AwsDriverClients } from '../src/index.js';
import { awsError, fakeDriver, fakeSpec, recordingClient, type FakeHandler, type RecordedCall } from './support/recording-client.js';

const spec = fakeSpec();
const SUBNET = 'subnet-0a1b2c3d';

/** The AWS of node n1 before it is provisioned; `over` replaces some answers. */
function freshNode(over: Record<string, FakeHandler> = {}): Record<string, FakeHandler> {
  return {
    CreateNetworkInterface: () => ({ NetworkInterface: { NetworkInterfaceId: 'eni-0new' } }),
    CreateVolume: () => ({ VolumeId: 'vol-0new', State: 'creating' }),
    CreateLaunchTemplate: () => ({ LaunchTemplate: { LaunchTemplateId: 'lt-0new' } }),
    CreateAutoScalingGroup: () => ({}),
    DescribeLifecycleHooks: () => ({
      LifecycleHooks: [
        { LifecycleHookName: LAUNCH_HOOK_NAME, LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: spec.lifecycle.heartbeatTimeoutSec, DefaultResult: spec.lifecycle.defaultResult },
      ],
    }),
    ...over,
  };
}

/** Answers the IP lookup (subnet-id + addresses.private-ip-address) with `holder`; the tag lookup finds nothing. */
const ipHeldBy = (holder: Record<string, unknown> | undefined): Record<string, FakeHandler> => ({
  CreateNetworkInterface: () => {
    throw awsError('InvalidIPAddress.InUse', 'The specified address is already in use.');
  },
  DescribeNetworkInterfaces: (input) => {
    const filters = (input.Filters ?? []) as { Name: string }[];
    return filters.some((f) => f.Name === 'subnet-id') && holder ? { NetworkInterfaces: [holder] } : { NetworkInterfaces: [] };
  },
});

const inputsOf = (calls: RecordedCall[], operation: string) => calls.filter((c) => c.operation === operation).map((c) => c.input);

describe('clientToken', () => {
  it('is the same for the same parts, differs when any part does, and reads no clock', () => {
    const a = clientToken('kafka', 'n1', 'data-volume', 'eni-0aaa');
    expect(a).toMatch(/^[0-9a-f]{48}$/);
    expect(clientToken('kafka', 'n1', 'data-volume', 'eni-0aaa')).toBe(a);
    expect(clientToken('kafka', 'n1', 'data-volume', 'eni-0bbb')).not.toBe(a); // a node created again: new ENI, new token
    expect(clientToken('kafka', 'n2', 'data-volume', 'eni-0aaa')).not.toBe(a);
    expect(clientToken('kafka', 'n1', 'data-volume', 'eni-0aaa', 'vol-0gone')).not.toBe(a);
    expect(clientToken('a', 'bc')).not.toBe(clientToken('ab', 'c'));
  });
});

describe('ensureNode idempotency keys (fake clients)', () => {
  // Regression: tokens were bucketed by clock hour, so a delete and re-create within the hour
  // got the deleted volume back, and a retry across the hour made a second volume.
  it("CreateVolume's token is the node's incarnation (its ENI id); the ENI and the template send none", async () => {
    const calls: RecordedCall[] = [];
    const driver = fakeDriver(freshNode(), calls);
    const r = await driver.ensureNode(spec, 'n1');
    expect(r.changes.map((c) => `${c.resource}:${c.action}`)).toEqual(['network-interface:created', 'volume:created', 'launch-template:created', 'auto-scaling-group:created', 'lifecycle-hook:created']);
    expect(inputsOf(calls, 'CreateVolume')[0]!.ClientToken).toBe(clientToken('kafka', 'n1', 'data-volume', 'eni-0new'));
    expect(inputsOf(calls, 'CreateNetworkInterface')[0]).not.toHaveProperty('ClientToken');
    expect(inputsOf(calls, 'CreateLaunchTemplate')[0]).not.toHaveProperty('ClientToken');

    // The same node provisioned again after deleteNode has a new ENI, hence a new token.
    const again: RecordedCall[] = [];
    await fakeDriver(freshNode({ CreateNetworkInterface: () => ({ NetworkInterface: { NetworkInterfaceId: 'eni-0next' } }) }), again).ensureNode(spec, 'n1');
    expect(inputsOf(again, 'CreateVolume')[0]!.ClientToken).toBe(clientToken('kafka', 'n1', 'data-volume', 'eni-0next'));
  });

  it('CreateVolume answering with a deleted volume (token spent since): creates again with the token salted by that id', async () => {
    const calls: RecordedCall[] = [];
    const answers = [{ VolumeId: 'vol-0gone', State: 'deleted' }, { VolumeId: 'vol-0new', State: 'creating' }];
    const driver = fakeDriver(freshNode({ CreateVolume: () => answers.shift() }), calls);
    const r = await driver.ensureNode(spec, 'n1');
    expect(inputsOf(calls, 'CreateVolume').map((i) => i.ClientToken)).toEqual([
      clientToken('kafka', 'n1', 'data-volume', 'eni-0new'),
      clientToken('kafka', 'n1', 'data-volume', 'eni-0new', 'vol-0gone'),
    ]);
    expect(r.changes.find((c) => c.resource === 'volume')).toMatchObject({ action: 'created', id: 'vol-0new' });
  });

  it('InvalidIPAddress.InUse: adopts the interface holding the IP when it carries this cluster and node', async () => {
    const calls: RecordedCall[] = [];
    const mine = {
      NetworkInterfaceId: 'eni-0mine',
      PrivateIpAddress: '10.0.1.10',
      SubnetId: SUBNET,
      Groups: spec.securityGroupIds.map((GroupId) => ({ GroupId })),
      TagSet: [
        { Key: TAG.cluster, Value: 'kafka' },
        { Key: TAG.node, Value: 'n1' },
      ],
    };
    const driver = fakeDriver(freshNode(ipHeldBy(mine)), calls);
    const r = await driver.ensureNode(spec, 'n1');
    expect(r.changes[0]).toMatchObject({ resource: 'network-interface', action: 'unchanged', id: 'eni-0mine', detail: expect.stringContaining('found by its IP 10.0.1.10') });
    expect(inputsOf(calls, 'DescribeNetworkInterfaces')[1]!.Filters).toEqual([
      { Name: 'subnet-id', Values: [SUBNET] },
      { Name: 'addresses.private-ip-address', Values: ['10.0.1.10'] },
    ]);
    expect(inputsOf(calls, 'CreateVolume')[0]!.ClientToken).toBe(clientToken('kafka', 'n1', 'data-volume', 'eni-0mine'));
    const data = inputsOf(calls, 'CreateLaunchTemplate')[0]!.LaunchTemplateData as { NetworkInterfaces: unknown[] };
    expect(data.NetworkInterfaces).toEqual([{ DeviceIndex: 0, NetworkInterfaceId: 'eni-0mine', DeleteOnTermination: false }]);
  });

  it("InvalidIPAddress.InUse by someone else's interface: stops and names the holder", async () => {
    const other = { NetworkInterfaceId: 'eni-0other', PrivateIpAddress: '10.0.1.10', SubnetId: SUBNET, Description: 'a database', Attachment: { InstanceId: 'i-0other' }, TagSet: [] };
    const err = await fakeDriver(freshNode(ipHeldBy(other)), []).ensureNode(spec, 'n1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthDriverError);
    expect(err).toMatchObject({ awsCode: 'InvalidIPAddress.InUse', retryable: false });
    expect((err as Error).message).toMatch(/node n1's IP 10\.0\.1\.10 .* held by eni-0other \(a database, attached to i-0other\)/);
    expect((err as Error).message).toContain('give the node a free IP');

    // Another node's interface (of this cluster) is not this node's either.
    const sibling = { ...other, Description: '', Attachment: undefined, TagSet: [{ Key: TAG.cluster, Value: 'kafka' }, { Key: TAG.node, Value: 'n2' }] };
    await expect(fakeDriver(freshNode(ipHeldBy(sibling)), []).ensureNode(spec, 'n1')).rejects.toThrow(/tagged berth:cluster=kafka berth:node=n2/);
  });

  it('InvalidIPAddress.InUse with no holder visible yet is retryable (eventual consistency)', async () => {
    await expect(fakeDriver(freshNode(ipHeldBy(undefined)), []).ensureNode(spec, 'n1')).rejects.toMatchObject({ awsCode: 'InvalidIPAddress.InUse', retryable: true });
  });

  // Regression: the bootstrap found the node's volumes by berth:cluster/berth:node, which root
  // volumes carry too, and its group by lookups the node policy did not allow.
  it("renders the user data with the node's volume id, group and hook; the group is made in the node's AZ", async () => {
    const calls: RecordedCall[] = [];
    await fakeDriver(freshNode(), calls).ensureNode(spec, 'n1');
    const data = inputsOf(calls, 'CreateLaunchTemplate')[0]!.LaunchTemplateData as { UserData: string };
    const text = gunzipSync(Buffer.from(data.UserData, 'base64')).toString('utf8');
    expect(text).toContain("BERTH_VOLUME_ID='vol-0new'\n");
    expect(text).toContain("BERTH_ASG_NAME='berth-kafka-n1'\n");
    expect(text).toContain("BERTH_LIFECYCLE_HOOK_NAME='berth-launch'\n");

    const group = inputsOf(calls, 'CreateAutoScalingGroup')[0]!;
    expect(group.AvailabilityZones).toEqual(['eu-west-1a']);
    expect(group).not.toHaveProperty('VPCZoneIdentifier');
    expect(group.Tags).toEqual(expect.arrayContaining([expect.objectContaining({ Key: TAG.nodeIp, Value: '10.0.1.10', PropagateAtLaunch: false })]));
    const volumeTags = (inputsOf(calls, 'CreateVolume')[0]!.TagSpecifications as { Tags: unknown[] }[])[0]!.Tags;
    expect(volumeTags).toEqual(expect.arrayContaining([{ Key: TAG.nodeIp, Value: '10.0.1.10' }, { Key: TAG.volume, Value: 'data' }]));
  });
});

describe('clients that are only `send` (a simulated AWS)', () => {
  it('counts every call the driver makes, by operation, without a middleware stack', async () => {
    const calls: RecordedCall[] = [];
    const driver = fakeDriver(freshNode(), calls);
    await driver.ensureNode(spec, 'n1');
    const byOperation: Record<string, number> = {};
    for (const c of calls) byOperation[c.operation] = (byOperation[c.operation] ?? 0) + 1;
    expect(driver.apiCallCounts()).toEqual(byOperation);
    driver.resetApiCallCounts();
    expect(driver.apiCallCounts()).toEqual({});
    driver.destroy(); // the fakes have no destroy: skipped, not thrown

    // A call that fails counts too: it was sent.
    const failing = fakeDriver(freshNode(ipHeldBy(undefined)), []);
    await expect(failing.ensureNode(spec, 'n1')).rejects.toThrow();
    expect(failing.apiCallCounts()).toEqual({ CreateNetworkInterface: 1, DescribeNetworkInterfaces: 2 });
  });

  it('destroy() destroys the clients passed in that have a destroy', () => {
    let destroyed = 0;
    const client = { ...recordingClient({}, []), destroy: () => void destroyed++ };
    const driver = createAwsDriver({ region: 'eu-west-1', clients: { ec2: client, autoScaling: recordingClient({}, []) } as unknown as AwsDriverClients, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    driver.destroy();
    expect(destroyed).toBe(1);
  });
});
