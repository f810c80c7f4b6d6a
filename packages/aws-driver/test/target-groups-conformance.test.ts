import { DescribeSubnetsCommand, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { defineCluster, type ClusterSpec, type TargetGroupObservation } from '@berth/core';
import { createSimulation, simulatedClusterInput, type Simulation } from '@berth/sim-driver';
import { describe, expect, it } from 'vitest';
import type { AwsDriver } from '../src/index.js';
import { clientConfig, clusterSpec, useMotoWorld } from './support/aws-fixture.js';

// The simulated ELBv2 and moto agree on what the driver reads: the same requests get answers of
// the same shape (the fields describeTargetGroups reads, their types, the errors' name, code,
// status and class), and the driver makes the same observation of both. Their timing differs
// (moto: healthy at once; the simulator: initial first, ELB-3): the simulator's targets are read
// once its health checks have made them healthy.

interface ElbLike {
  send(command: unknown): Promise<unknown>;
}

/** The shape of a value: leaves become their type, arrays the shape of their first item. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? [] : [shape(v[0])];
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([k]) => k !== '$metadata').sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, shape(x)]));
  }
  return v instanceof Date ? 'date' : typeof v;
}

/** Only the paths the driver reads (target-groups.ts), from a shape. */
function read(s: unknown, paths: readonly string[]): Record<string, unknown> {
  const at = (x: unknown, path: string): unknown =>
    path.split('.').reduce<unknown>((cur, k) => {
      if (cur === undefined) return undefined;
      if (k === '[]') return Array.isArray(cur) ? cur[0] : undefined;
      return (cur as Record<string, unknown>)[k];
    }, x);
  return Object.fromEntries(paths.map((p) => [p, at(s, p)]));
}

const READ = {
  groups: ['TargetGroups.[].TargetGroupArn', 'TargetGroups.[].HealthCheckIntervalSeconds', 'TargetGroups.[].HealthyThresholdCount', 'NextMarker'],
  attributes: ['Attributes.[].Key', 'Attributes.[].Value'],
  health: ['TargetHealthDescriptions.[].Target.Id', 'TargetHealthDescriptions.[].TargetHealth.State', 'TargetHealthDescriptions.[].TargetHealth.Reason'],
} as const;

interface Answers {
  readonly groups: unknown;
  readonly attributes: unknown;
  readonly health: unknown;
  readonly unregistered: unknown;
  readonly notFound: unknown;
  readonly notRunning: unknown;
  readonly observation: readonly TargetGroupObservation[];
}

async function errorOf(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { Code?: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, code: err.Code, status: err.$metadata?.httpStatusCode, class: err.constructor.name, message: err.message.replace(/i-[0-9a-f]+/g, 'i-…') };
  }
  throw new Error('expected the call to fail');
}

/** The same requests on either backend: `running` two running instances, `gone` one that is not running. */
async function answers(elb: ElbLike, driver: AwsDriver, spec: ClusterSpec, arn: string, running: readonly string[], gone: string, other: string, settle: () => Promise<void>): Promise<Answers> {
  await elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: running.map((Id) => ({ Id })) }));
  await settle();
  const missing = arn.replace(/[0-9a-f]{16}$/, 'fedcba9876543210');
  return {
    groups: await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] })),
    attributes: await elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn })),
    health: await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })),
    unregistered: await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn, Targets: [{ Id: other }] })),
    notFound: await errorOf(elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [missing] }))),
    notRunning: await errorOf(elb.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: gone }] }))),
    observation: await driver.describeTargetGroups(spec, [arn]),
  };
}

const m = useMotoWorld();

async function onMoto(): Promise<Answers> {
  const { world, driver } = m;
  const elb = new ElasticLoadBalancingV2Client(clientConfig(m.moto.endpoint));
  try {
    const vpcId = (await world.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [world.subnets[0]!.id] }))).Subnets?.[0]?.VpcId;
    const g = await elb.send(new CreateTargetGroupCommand({ Name: 'kafka', Protocol: 'TCP', Port: 9092, VpcId: vpcId, HealthCheckIntervalSeconds: 10, HealthyThresholdCount: 3 }));
    const arn = g.TargetGroups?.[0]?.TargetGroupArn as string;
    await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }] }));
    const lb = await elb.send(new CreateLoadBalancerCommand({ Name: 'kafka', Type: 'network', Scheme: 'internal', Subnets: world.subnets.map((s) => s.id) }));
    await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancers?.[0]?.LoadBalancerArn, Protocol: 'TCP', Port: 9092, DefaultActions: [{ Type: 'forward', TargetGroupArn: arn }] }));
    const run = async () => (await world.ec2.send(new RunInstancesCommand({ ImageId: world.image, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', SubnetId: world.subnets[0]!.id }))).Instances?.[0]?.InstanceId as string;
    const [a, b, gone, other] = [await run(), await run(), await run(), await run()];
    await world.ec2.send(new TerminateInstancesCommand({ InstanceIds: [gone] }));
    const spec = clusterSpec(world, 3, { loadBalancer: { targetGroupArns: [arn] } });
    return await answers(elb, driver, spec, arn, [a, b], gone, other, async () => undefined);
  } finally {
    elb.destroy();
  }
}

async function onSimulator(): Promise<Answers> {
  const sim: Simulation = createSimulation({ seed: 11, profile: 'fast', iam: 'off' });
  const arn = sim.account.createTargetGroup({ name: 'kafka', protocol: 'TCP', port: 9092, healthCheckIntervalSec: 10, healthyThreshold: 3, deregistrationDelaySec: 30 });
  const spec = defineCluster({ ...simulatedClusterInput({ nodes: 3 }), loadBalancer: { targetGroupArns: [arn] } });
  return sim.run(async () => {
    for (const n of spec.nodes) await sim.driver.ensureNode(spec, n.id);
    const running = () => spec.nodes.map((n) => sim.world.currentInstance(n.id)).filter((i) => i?.ec2State === 'running').map((i) => i!.id);
    while (running().length < 3) await sim.clock.sleep(1_000);
    const [a, b, c] = running() as [string, string, string];
    sim.faults.killInstance(c); // a replacement launches; `c` is shutting down
    // Healthy after 3 checks 10 s apart (ELB-3), once the application on them is.
    return answers(sim.aws.elbv2, sim.driver, spec, arn, [a, b], c, c, () => sim.clock.sleep(35_000));
  });
}

describe('ELBv2: the simulator and moto agree on what the driver reads', () => {
  it('the same requests get answers of the same shape, the same errors, and the same observation', async () => {
    const [moto, simulated] = [await onMoto(), await onSimulator()];
    for (const [k, paths] of Object.entries(READ) as [keyof typeof READ, readonly string[]][]) {
      expect(read(shape(simulated[k]), paths), k).toEqual(read(shape(moto[k]), paths));
    }
    // Every field of moto's target group is in the simulator's (the simulator may say more).
    const keys = (a: Answers) => Object.keys((a.groups as { TargetGroups: Record<string, unknown>[] }).TargetGroups[0]!).filter((k) => k !== 'LoadBalancerArns');
    expect(keys(simulated)).toEqual(expect.arrayContaining(keys(moto)));
    expect(shape(simulated.health)).toEqual(shape(moto.health));
    // A target named but not registered: unused, Target.NotRegistered, on both.
    const row = (a: Answers) => (a.unregistered as { TargetHealthDescriptions: { TargetHealth: unknown }[] }).TargetHealthDescriptions[0]!.TargetHealth;
    expect(row(simulated)).toEqual(row(moto));
    expect(simulated.notFound).toEqual(moto.notFound);
    expect(simulated.notRunning).toEqual(moto.notRunning);
    // The driver's observation of both, but for the ARNs and instance ids.
    const plain = (a: Answers) => a.observation.map((g) => ({ ...g, targetGroupArn: 'arn', targets: g.targets.map((t) => ({ ...t, instanceId: 'i-…' })) }));
    expect(plain(simulated)).toEqual(plain(moto));
    expect(plain(moto)).toEqual([{ targetGroupArn: 'arn', deregistrationDelayMs: 30_000, healthyAfterMs: 30_000, targets: [0, 1].map(() => ({ instanceId: 'i-…', state: 'healthy', reason: null })) }]);
  });
});
