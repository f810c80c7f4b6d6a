import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { DescribeAutoScalingGroupsCommand, AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DescribeSubnetsCommand } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { createBlueGreen, type BlueGreenOptions, type ClusterInput } from '@berth/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSystemClock } from '../src/index.js';
import { clientConfig, clusterInput, useMotoWorld, type AwsWorld } from './support/aws-fixture.js';

/*
 * Blue/green through moto (issue 10), both variants: the production driver's wire calls for a
 * whole deploy — both sides provisioned with apply(), the record UPSERTed or the targets
 * registered and deregistered, the old side deleted with deleteNode — and status() reading the
 * live side back from Route 53 or ELBv2.
 *
 * What moto cannot show here (the simulator's blue-green tests do):
 *  - the waits: instances are InService at once with no boot phases, Route 53 changes are INSYNC
 *    at once, targets are healthy at once and leave with no draining (ELBv2 health checks and the
 *    deregistration delay are not run), so the TTL wait, the draining, a node failing its boot,
 *    targets never getting healthy, or the window failing on its own never happen; the window
 *    failure below comes from `verify`;
 *  - a crash and a second process resuming under the lease (moto does not serialise writes).
 */

const clock = createSystemClock();
const aws = useMotoWorld({ lockTable: true });
const RECORD = 'web.kafka.internal';

function side(world: AwsWorld, name: string, hostBase: number): ClusterInput {
  const base = clusterInput(world, 3, {
    name,
    dataVolume: { sizeGiB: 8, type: 'gp3', mountPath: '/srv', deletionPolicy: 'delete' },
    dns: { hostedZoneId: world.hostedZoneId, clusterRecord: `${name}.kafka.internal`, nodeRecordTemplate: '{node}.kafka.internal', ttl: 30 },
  });
  return { ...base, nodes: base.nodes.map((n, i) => ({ ...n, id: `${name}-${i + 1}`, ip: n.ip.replace(/\.\d+$/, `.${hostBase}`) })) };
}

function tier(overrides: Partial<BlueGreenOptions> = {}) {
  return createBlueGreen({
    name: 'web',
    driver: aws.driver,
    clock,
    blue: side(aws.world, 'web-blue', 10),
    green: side(aws.world, 'web-green', 40),
    traffic: { dns: { hostedZoneId: aws.world.hostedZoneId, recordName: RECORD, ttl: 0 } },
    rollbackWindowMs: 300,
    pollIntervalMs: 50,
    dnsPropagationMs: 0,
    holderId: 'bg-moto',
    ...overrides,
  });
}

let r53: Route53Client;
let asg: AutoScalingClient;
let elb: ElasticLoadBalancingV2Client;
beforeEach(() => {
  r53 = new Route53Client(clientConfig(aws.moto.endpoint));
  asg = new AutoScalingClient(clientConfig(aws.moto.endpoint));
  elb = new ElasticLoadBalancingV2Client(clientConfig(aws.moto.endpoint));
});
afterEach(() => {
  r53.destroy();
  asg.destroy();
  elb.destroy();
});

/** A TCP target group behind a network load balancer, as an operator makes it once for the tier. */
async function targetGroup(world: AwsWorld): Promise<string> {
  const vpcId = (await world.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [world.subnets[0]!.id] }))).Subnets?.[0]?.VpcId as string;
  const g = await elb.send(new CreateTargetGroupCommand({ Name: 'web', Protocol: 'TCP', Port: 80, VpcId: vpcId, TargetType: 'instance', HealthCheckIntervalSeconds: 10, HealthyThresholdCount: 2 }));
  const arn = g.TargetGroups?.[0]?.TargetGroupArn as string;
  await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '0' }] }));
  const lb = await elb.send(new CreateLoadBalancerCommand({ Name: 'web-lb', Type: 'network', Scheme: 'internal', Subnets: world.subnets.map((x) => x.id) }));
  await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancers?.[0]?.LoadBalancerArn, Protocol: 'TCP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: arn }] }));
  return arn;
}

async function targets(arn: string): Promise<string[]> {
  const r = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
  return (r.TargetHealthDescriptions ?? []).filter((d) => d.TargetHealth?.State !== 'draining').map((d) => d.Target?.Id ?? '').sort();
}

async function record(name: string): Promise<string[] | null> {
  const r = await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: aws.world.hostedZoneId }));
  const rr = (r.ResourceRecordSets ?? []).find((x) => x.Type === 'A' && x.Name?.replace(/\.$/, '') === name);
  return rr ? (rr.ResourceRecords ?? []).map((v) => v.Value ?? '').sort() : null;
}

async function groupsOf(cluster: string): Promise<string[]> {
  const r = await asg.send(new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: 'tag:berth:cluster', Values: [cluster] }] }));
  return (r.AutoScalingGroups ?? []).map((g) => g.AutoScalingGroupName ?? '').sort();
}

const ips = (bg: ReturnType<typeof tier>, s: 'blue' | 'green') => bg.sides[s].nodes.map((n) => n.ip).sort();

describe('blue/green through moto (DNS)', () => {
  it('a first deploy points the record at blue; the next brings green up, moves the record, and deletes blue with its records', async () => {
    const bg = tier();
    const first = await bg.deploy({ image: aws.world.image });
    expect(first).toMatchObject({ outcome: 'completed', to: 'blue', live: 'blue' });
    expect(await record(RECORD)).toEqual(ips(bg, 'blue'));
    expect(await groupsOf('web-green')).toEqual([]); // never looked at, never made

    const plan = await bg.plan({ image: aws.world.otherImage });
    expect(plan.steps.map((s) => s.kind)).toEqual(['create-side', 'wait-healthy', 'verify', 'shift-traffic', 'rollback-window', 'delete-side']);
    expect(plan.changes).toEqual([{ field: 'image', from: aws.world.image, to: aws.world.otherImage }]);

    const second = await bg.deploy({ image: aws.world.otherImage });
    expect(second).toMatchObject({ outcome: 'completed', from: 'blue', to: 'green', live: 'green' });
    expect(await record(RECORD)).toEqual(ips(bg, 'green'));
    expect(await groupsOf('web-blue')).toEqual([]);
    expect(await record('web-blue.kafka.internal')).toBeNull();
    expect(await record('web-green.kafka.internal')).toEqual(ips(bg, 'green'));
    const status = await bg.status();
    expect(status.live).toBe('green');
    expect(status.sides.green).toMatchObject({ exists: true, healthy: 3, images: [aws.world.otherImage] });
    expect(status.sides.blue.exists).toBe(false);
    expect(status.lock).toBeNull();
    expect((await bg.deploy({ image: aws.world.otherImage })).outcome).toBe('no-change');
  });

  it('verify says no in the rollback window: the record goes back to blue and green is deleted', async () => {
    const bg = tier();
    await bg.deploy({ image: aws.world.image });
    const failing = tier({ hooks: { verify: (s, ctx) => !(s === 'green' && ctx.stage === 'window') } });
    await expect(failing.deploy({ image: aws.world.otherImage })).rejects.toMatchObject({ code: 'DEPLOY_FAILED', stage: 'window', live: 'blue', shiftedBack: true, deleted: 'green' });
    expect(await record(RECORD)).toEqual(ips(bg, 'blue'));
    expect(await groupsOf('web-green')).toEqual([]);
    expect(await groupsOf('web-blue')).toHaveLength(3);
    expect((await bg.status()).live).toBe('blue');
  });
});

describe('blue/green through moto (target groups)', () => {
  it('a first deploy registers blue; the next registers green, deregisters blue and deletes it; status() reads the live side from the group', async () => {
    const arn = await targetGroup(aws.world);
    // moto answers healthy at once: wait no longer than a second for what AWS takes 2 × 10 s.
    const bg = tier({ traffic: { targetGroupArns: [arn] }, registerTimeoutMs: 1_000 });
    await bg.deploy({ image: aws.world.image });
    const blue = (await bg.status()).sides.blue.instanceIds;
    expect(blue).toHaveLength(3);
    expect(await targets(arn)).toEqual([...blue].sort());

    const report = await bg.deploy({ image: aws.world.otherImage });
    expect(report).toMatchObject({ outcome: 'completed', from: 'blue', to: 'green', live: 'green' });
    const status = await bg.status();
    expect(status).toMatchObject({ live: 'green', traffic: { kind: 'target-groups', state: 'green', foreign: [] } });
    expect(await targets(arn)).toEqual([...status.sides.green.instanceIds].sort());
    expect(await groupsOf('web-blue')).toEqual([]);
    const calls = aws.driver.apiCallCounts();
    expect(calls['RegisterTargets']).toBe(2);
    expect(calls['DeregisterTargets']).toBe(1);
  });

  it('verify says no before the shift: green never reaches the group and is deleted; blue stays registered', async () => {
    const arn = await targetGroup(aws.world);
    const bg = tier({ traffic: { targetGroupArns: [arn] }, registerTimeoutMs: 1_000, hooks: { verify: (s, ctx) => !(s === 'green' && ctx.stage === 'before-shift') } });
    await bg.deploy({ image: aws.world.image });
    const blue = [...(await bg.status()).sides.blue.instanceIds].sort();
    await expect(bg.deploy({ image: aws.world.otherImage })).rejects.toMatchObject({ code: 'DEPLOY_FAILED', stage: 'verify', live: 'blue', deleted: 'green' });
    expect(await targets(arn)).toEqual(blue);
    expect(await groupsOf('web-green')).toEqual([]);
  });
});
