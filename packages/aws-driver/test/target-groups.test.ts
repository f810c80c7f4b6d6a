import { DescribeImagesCommand, DescribeSubnetsCommand, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { BerthConfigError, BerthDriverError, type ClusterSpec } from '@berth/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAwsDriver } from '../src/index.js';
import { clientConfig, clusterSpec, failure, useMotoWorld, type AwsWorld } from './support/aws-fixture.js';

// The driver's target-group methods on moto: the calls, their number, what the driver reads
// back, errors and bad input. What moto does not show (no draining, every target healthy at
// once, no health checks) is listed in docs/aws-behaviour.md ("What moto 5.2.1 does not do")
// and tested in the simulator (packages/sim-driver/test/elbv2.test.ts, ELB-n).

const m = useMotoWorld();
let elb: ElasticLoadBalancingV2Client;
beforeEach(() => {
  elb = new ElasticLoadBalancingV2Client(clientConfig(m.moto.endpoint));
});
afterEach(() => elb.destroy());

/** A running instance in the world's first subnet (moto launches at once). */
async function runInstance(world: AwsWorld): Promise<string> {
  const image = (await world.ec2.send(new DescribeImagesCommand({ ImageIds: [world.image] }))).Images?.[0]?.ImageId ?? world.image;
  const r = await world.ec2.send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', SubnetId: world.subnets[0]!.id }));
  return r.Instances?.[0]?.InstanceId as string;
}

/** A TCP target group in the world's VPC behind a network load balancer, as an operator makes it. */
async function targetGroup(world: AwsWorld, name: string, o: { interval?: number; healthy?: number; delaySec?: number } = {}): Promise<string> {
  const vpcId = await vpcOf(world);
  const g = await elb.send(
    new CreateTargetGroupCommand({
      Name: name,
      Protocol: 'TCP',
      Port: 9092,
      VpcId: vpcId,
      TargetType: 'instance',
      ...(o.interval !== undefined && { HealthCheckIntervalSeconds: o.interval }),
      ...(o.healthy !== undefined && { HealthyThresholdCount: o.healthy }),
    }),
  );
  const arn = g.TargetGroups?.[0]?.TargetGroupArn as string;
  if (o.delaySec !== undefined) {
    await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(o.delaySec) }] }));
  }
  const lb = await elb.send(new CreateLoadBalancerCommand({ Name: `${name}-lb`, Type: 'network', Scheme: 'internal', Subnets: world.subnets.map((s) => s.id) }));
  await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancers?.[0]?.LoadBalancerArn, Protocol: 'TCP', Port: 9092, DefaultActions: [{ Type: 'forward', TargetGroupArn: arn }] }));
  return arn;
}

async function vpcOf(world: AwsWorld): Promise<string> {
  return (await world.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [world.subnets[0]!.id] }))).Subnets?.[0]?.VpcId as string;
}

function withGroups(world: AwsWorld, arns: string[]): ClusterSpec {
  return clusterSpec(world, 3, { loadBalancer: { targetGroupArns: arns } });
}

const delta = (before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>) =>
  Object.fromEntries(Object.entries(after).filter(([k, v]) => v !== (before[k] ?? 0)).map(([k, v]) => [k, v - (before[k] ?? 0)]));

describe('AWS driver target groups (moto)', () => {
  it('describeTargetGroups reads each group\'s deregistration delay, HealthyThresholdCount × HealthCheckIntervalSeconds and its targets: 1 + 2 calls per group', async () => {
    const { world, driver } = m;
    const kafka = await targetGroup(world, 'kafka', { interval: 10, healthy: 3, delaySec: 30 });
    const plain = await targetGroup(world, 'kafka-tls');
    const spec = withGroups(world, [kafka, plain]);
    const [a, b] = [await runInstance(world), await runInstance(world)];
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: kafka, Targets: [{ Id: b }, { Id: a }] }));

    const before = driver.apiCallCounts();
    const groups = await driver.describeTargetGroups(spec, [kafka, plain]);
    expect(delta(before, driver.apiCallCounts())).toEqual({ DescribeTargetGroups: 1, DescribeTargetGroupAttributes: 2, DescribeTargetHealth: 2 });
    expect(groups.map((g) => g.targetGroupArn)).toEqual([kafka, plain]);
    expect(groups[0]).toMatchObject({ deregistrationDelayMs: 30_000, healthyAfterMs: 30_000 });
    // moto: healthy at once (AWS: initial first, ELB-3).
    expect(groups[0]!.targets).toEqual([...[a, b].sort()].map((instanceId) => ({ instanceId, state: 'healthy', reason: null })));
    // ELB-6 defaults: 300 s, 5 × 30 s.
    expect(groups[1]).toEqual({ targetGroupArn: plain, deregistrationDelayMs: 300_000, healthyAfterMs: 150_000, targets: [] });
    expect(await driver.describeTargetGroups(spec, [])).toEqual([]);
  });

  it('registerTargets and deregisterTargets: one call per group, idempotent; a target that is not registered is no error', async () => {
    const { world, driver } = m;
    const [g1, g2] = [await targetGroup(world, 'kafka'), await targetGroup(world, 'kafka-tls')];
    const spec = withGroups(world, [g1, g2]);
    const [a, b] = [await runInstance(world), await runInstance(world)];
    const ids = async (arn: string) => ((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions ?? []).map((d) => d.Target?.Id).sort();

    let before = driver.apiCallCounts();
    await driver.registerTargets(spec, [g1, g2], [a, b]);
    expect(delta(before, driver.apiCallCounts())).toEqual({ RegisterTargets: 2 });
    await driver.registerTargets(spec, [g1, g2], [a, b]);
    expect(await ids(g1)).toEqual([a, b].sort());
    expect(await ids(g2)).toEqual([a, b].sort());

    before = driver.apiCallCounts();
    await driver.deregisterTargets(spec, [g1], [a]);
    expect(delta(before, driver.apiCallCounts())).toEqual({ DeregisterTargets: 1 });
    expect(await ids(g1)).toEqual([b]);
    // moto answers InvalidTarget for a target that is not registered (AWS: success, ELB-11): the driver carries on.
    await driver.deregisterTargets(spec, [g1], [a]);
    await driver.deregisterTargets(spec, [g1, g2], [a, b]);
    expect(await ids(g1)).toEqual([]);
    expect(await ids(g2)).toEqual([]);
    await driver.registerTargets(spec, [g1], []);
    await driver.deregisterTargets(spec, [g1], []);
  });

  it('ELB-10: registering an instance that is not running fails with InvalidTarget, not retryable, naming the instance', async () => {
    const { world, driver } = m;
    const g = await targetGroup(world, 'kafka');
    const spec = withGroups(world, [g]);
    const gone = await runInstance(world);
    await world.ec2.send(new TerminateInstancesCommand({ InstanceIds: [gone] }));
    const err = await failure(driver.registerTargets(spec, [g], [gone]));
    expect(err).toBeInstanceOf(BerthDriverError);
    expect(err).toMatchObject({ operation: 'RegisterTargets', awsCode: 'InvalidTarget', retryable: false });
    expect((err as Error).message).toContain(gone);
  });

  it('a target group that does not exist is a non-retryable TargetGroupNotFound naming its ARN, also among several', async () => {
    const { world, driver } = m;
    const g = await targetGroup(world, 'kafka');
    const missing = g.replace(/targetgroup\/kafka\/[0-9a-f]{16}$/, 'targetgroup/gone/0123456789abcdef');
    const spec = withGroups(world, [g, missing]);
    for (const call of [() => driver.describeTargetGroups(spec, [g, missing]), () => driver.describeTargetGroups(spec, [missing]), () => driver.registerTargets(spec, [missing], ['i-0123456789abcdef0'])]) {
      const err = await failure(call());
      expect(err).toBeInstanceOf(BerthDriverError);
      expect(err).toMatchObject({ awsCode: 'TargetGroupNotFound', retryable: false });
      expect((err as Error).message).toContain(missing);
      expect((err as Error).message).not.toContain(`${g} `);
    }
  });

  it('refuses ARNs outside the spec region or partition, malformed ARNs and instance ids before any call', async () => {
    const { world, driver } = m;
    const spec = withGroups(world, ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/kafka/0123456789abcdef']);
    const before = driver.apiCallCounts();
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => driver.describeTargetGroups(spec, ['arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/kafka/0123456789abcdef']), /targetGroupArns\[0\]: .*is in eu-west-1, but cluster 'kafka' is in us-east-1/],
      [() => driver.registerTargets(spec, ['arn:aws-cn:elasticloadbalancing:us-east-1:123456789012:targetgroup/kafka/0123456789abcdef'], ['i-0123456789abcdef0']), /partition 'aws-cn'/],
      [() => driver.deregisterTargets(spec, ['arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/kafka/0123456789abcdef'], ['i-0123456789abcdef0']), /is not a target group ARN/],
      [() => driver.registerTargets(spec, ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/kafka/0123456789abcdef'], ['kafka-1']), /instanceIds\[0\]: 'kafka-1' is not an EC2 instance id/],
    ];
    for (const [call, message] of cases) {
      const err = await failure(call());
      expect(err).toBeInstanceOf(BerthConfigError);
      expect((err as Error).message).toMatch(message);
    }
    expect(driver.apiCallCounts()).toEqual(before);
    // A spec in another region than the driver's: refused, as ensureNode refuses it.
    const elsewhere = { ...spec, region: 'eu-west-1' };
    expect(await failure(driver.describeTargetGroups(elsewhere, []))).toMatchObject({ awsCode: 'RegionMismatch' });
  });

  it('throttling (ELBv2 Throttling, HTTP 400 "Rate exceeded") is a retryable throttling error', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling', Code: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    const driver = createAwsDriver({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, clients: { elbv2: { send: () => Promise.reject(throttled) } } });
    const spec = withGroups(m.world, ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/kafka/0123456789abcdef']);
    const err = await failure(driver.describeTargetGroups(spec, spec.loadBalancer!.targetGroupArns));
    expect(err).toMatchObject({ awsCode: 'Throttling', retryable: true, throttling: true });
    driver.destroy();
  });
});
