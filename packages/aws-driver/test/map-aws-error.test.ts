import { AutoScalingClient, DescribeAutoScalingGroupsCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { DeleteVolumeCommand, DescribeVolumesCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { ChangeResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { BerthAbortError, BerthDriverError } from '@berth/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { mapAwsError } from '../src/index.js';
import { clientConfig, clusterSpec, createWorld, failure, motoDriver } from './support/aws-fixture.js';
import { sharedMoto, type MotoServer } from './support/moto-server.js';

let moto: MotoServer;
beforeAll(async () => {
  moto = sharedMoto();
});

describe('mapAwsError on real error responses (moto)', () => {
  it('maps EC2, Auto Scaling and Route 53 client errors to non-retryable BerthDriverErrors with the AWS code', async () => {
    const ec2 = new EC2Client(clientConfig(moto.endpoint));
    const asg = new AutoScalingClient(clientConfig(moto.endpoint));
    const r53 = new Route53Client(clientConfig(moto.endpoint));
    const cases: [string, () => Promise<unknown>, string][] = [
      ['TerminateInstances', () => ec2.send(new TerminateInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })), 'InvalidInstanceID.NotFound'],
      ['DescribeVolumes', () => ec2.send(new DescribeVolumesCommand({ VolumeIds: ['vol-0123456789abcdef0'] })), 'InvalidVolume.NotFound'],
      ['UpdateAutoScalingGroup', () => asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'nope', MinSize: 1 })), 'ValidationError'],
      [
        'ChangeResourceRecordSets',
        () => r53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: 'ZNOSUCHZONE', ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: 'a.b', Type: 'A', TTL: 1, ResourceRecords: [{ Value: '10.0.0.1' }] } }] } })),
        'NoSuchHostedZone',
      ],
    ];
    for (const [op, p, code] of cases) {
      const mapped = mapAwsError(op, await failure(p()));
      expect(mapped, op).toBeInstanceOf(BerthDriverError);
      expect(mapped, op).toMatchObject({ code: 'DRIVER_ERROR', operation: op, awsCode: code, retryable: false, throttling: false });
      expect(mapped.message).toContain(`${op} failed with ${code}`);
    }
    ec2.destroy();
    asg.destroy();
    r53.destroy();
  });

  it('treats NotFound on an id this driver just created as eventual consistency (retryable)', async () => {
    const ec2 = new EC2Client(clientConfig(moto.endpoint));
    const err = await failure(ec2.send(new DeleteVolumeCommand({ VolumeId: 'vol-0123456789abcdef0' })));
    expect(mapAwsError('DeleteVolume', err)).toMatchObject({ retryable: false });
    expect(mapAwsError('DeleteVolume', err, { afterCreate: true })).toMatchObject({ retryable: true, throttling: false });
    expect(mapAwsError('DeleteVolume', err, { recentlyCreated: (m) => m.includes('vol-0123456789abcdef0') })).toMatchObject({ retryable: true });
    ec2.destroy();
  });

  it('errors raised by the driver itself name the node and say what to do', async () => {
    await moto.reset();
    const world = await createWorld(moto.endpoint);
    const driver = motoDriver(moto.endpoint);
    const spec = clusterSpec(world, 3);
    await expect(driver.snapshotVolume(spec, 'n1')).rejects.toMatchObject({ awsCode: 'NotProvisioned', message: expect.stringContaining('node n1') });
    await expect(driver.ensureNode(spec, 'n9')).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    driver.destroy();
    world.ec2.destroy();
  });

  it('throttling, 5xx, transient states and aborts (synthetic SDK errors)', () => {
    const sdk = (name: string, status: number, message = name) => Object.assign(new Error(message), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
    expect(mapAwsError('DescribeInstances', sdk('RequestLimitExceeded', 503))).toMatchObject({ retryable: true, throttling: true });
    expect(mapAwsError('DescribeAutoScalingGroups', sdk('Throttling', 400, 'Rate exceeded'))).toMatchObject({ retryable: true, throttling: true });
    expect(mapAwsError('ChangeResourceRecordSets', sdk('PriorRequestNotComplete', 400))).toMatchObject({ retryable: true, throttling: true });
    expect(mapAwsError('DescribeInstances', sdk('InternalError', 500))).toMatchObject({ retryable: true, throttling: false });
    expect(mapAwsError('DeleteNetworkInterface', sdk('InvalidNetworkInterface.InUse', 400))).toMatchObject({ retryable: true });
    expect(mapAwsError('DeleteAutoScalingGroup', sdk('ScalingActivityInProgress', 400))).toMatchObject({ retryable: true });
    expect(mapAwsError('CreateVolume', sdk('UnauthorizedOperation', 403))).toMatchObject({ retryable: false, awsCode: 'UnauthorizedOperation' });
    // An HTML error page: only the status is left.
    expect(mapAwsError('X', Object.assign(new Error('Deserialization error'), { $metadata: { httpStatusCode: 502 } }))).toMatchObject({ awsCode: 'Http502', retryable: true });
    expect(mapAwsError('X', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toMatchObject({ awsCode: 'ECONNRESET', retryable: true });
    expect(mapAwsError('X', Object.assign(new Error('aborted'), { name: 'AbortError' }))).toBeInstanceOf(BerthAbortError);
  });

  it('SDK retries are off by default (maxAttempts 1): one request per failed call; the driver counts its calls, not SDK attempts', async () => {
    const driver = motoDriver(moto.endpoint);
    const world = await createWorld(moto.endpoint);
    const spec = clusterSpec(world, 3);
    driver.resetApiCallCounts();
    await expect(driver.completeLifecycle(spec, 'n1', 'i-0123456789abcdef0', 'CONTINUE')).resolves.toBeUndefined();
    const forced = motoDriver(moto.endpoint, { capabilities: { lifecycleHooks: true } });
    await expect(forced.completeLifecycle(spec, 'n1', 'i-0123456789abcdef0', 'CONTINUE')).rejects.toMatchObject({ awsCode: 'Http500', retryable: true });
    expect(forced.apiCallCounts()).toEqual({ CompleteLifecycleAction: 1 });
    expect(((await forced.completeLifecycle(spec, 'n1', 'i-0123456789abcdef0', 'CONTINUE').catch((e: Error) => e)) as Error).cause).toMatchObject({ $metadata: { attempts: 1 } });
    // With SDK retries on, the SDK sends the request twice inside one driver call, counted once.
    const retrying = motoDriver(moto.endpoint, { capabilities: { lifecycleHooks: true }, maxAttempts: 2 });
    const err = await retrying.completeLifecycle(spec, 'n1', 'i-0123456789abcdef0', 'CONTINUE').catch((e: Error) => e);
    expect(err).toMatchObject({ awsCode: 'Http500', cause: { $metadata: { attempts: 2 } } });
    expect(retrying.apiCallCounts()).toEqual({ CompleteLifecycleAction: 1 });
    for (const d of [driver, forced, retrying]) d.destroy();
    const asg = new AutoScalingClient(clientConfig(moto.endpoint));
    await asg.send(new DescribeAutoScalingGroupsCommand({}));
    asg.destroy();
    world.ec2.destroy();
  });
});
