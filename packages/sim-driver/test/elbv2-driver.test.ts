import type { IamPolicyDocument } from '@berth/aws-driver';
import { BerthDriverError, defineCluster, type ClusterSpec } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput, type Simulation } from '../src/index.js';
import { provision } from './helpers.js';

// The production AWS driver's target-group methods (sim.driver) on the simulated ELBv2, IAM
// evaluated with the generated policy: what a roll behind a load balancer will see.

const TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/kafka/0123456789abcdef';
const SEC = 1000;

function lbSpec(arns: readonly string[] = [TG]): ClusterSpec {
  return defineCluster({ ...simulatedClusterInput({ nodes: 3 }), loadBalancer: { targetGroupArns: [...arns] } });
}

async function provisioned(seed = 3, arns?: readonly string[]): Promise<{ sim: Simulation; spec: ClusterSpec; ids: string[] }> {
  const sim = createSimulation({ seed, profile: 'fast' });
  const spec = lbSpec(arns);
  await sim.run(() => provision(sim, spec));
  return { sim, spec, ids: spec.nodes.map((n) => sim.world.currentInstance(n.id)?.id as string) };
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('the AWS driver on the simulated ELBv2', () => {
  it('sim.driver is the AWS driver with loadBalancers; prepare() makes the target groups a spec names, in use behind a load balancer', async () => {
    const { sim, spec } = await provisioned();
    expect(sim.driver.capabilities.loadBalancers).toBe(true);
    const [g] = await sim.run(() => sim.driver.describeTargetGroups(spec, [TG]));
    expect(g).toEqual({ targetGroupArn: TG, deregistrationDelayMs: 300_000, healthyAfterMs: 150_000, targets: [] });
    expect(sim.account.iamDenials()).toEqual([]);
  });

  it('a target registered by the driver is healthy after healthyAfterMs, drains for deregistrationDelayMs after deregisterTargets, then is gone; IAM allows it all', async () => {
    const { sim, spec, ids } = await provisioned();
    await sim.run(async () => {
      const [a, b] = ids as [string, string];
      await sim.driver.registerTargets(spec, [TG], [a, b]);
      const states = async () => (await sim.driver.describeTargetGroups(spec, [TG]))[0]!.targets.map((t) => [t.instanceId, t.state, t.reason]);
      const sorted = [a, b].sort();
      expect(await states()).toEqual(sorted.map((id) => [id, 'initial', 'Elb.RegistrationInProgress']));
      const { healthyAfterMs, deregistrationDelayMs } = (await sim.driver.describeTargetGroups(spec, [TG]))[0]!;
      await sim.clock.sleep(healthyAfterMs + 5 * SEC);
      expect(await states()).toEqual(sorted.map((id) => [id, 'healthy', null]));
      await sim.driver.deregisterTargets(spec, [TG], [a]);
      await sim.driver.deregisterTargets(spec, [TG], [a]); // idempotent
      expect((await states()).find((t) => t[0] === a)).toEqual([a, 'draining', 'Target.DeregistrationInProgress']);
      await sim.clock.sleep(deregistrationDelayMs + 5 * SEC);
      expect(await states()).toEqual([[b, 'healthy', null]]);
    });
    expect(sim.account.iamDenials()).toEqual([]);
    expect(sim.driver.apiCallCounts()).toMatchObject({ RegisterTargets: 1, DeregisterTargets: 2 });
  });

  it('a group made with sim.account.createTargetGroup before the spec sets its own timing; the spec\'s preparation puts it behind a load balancer', async () => {
    const sim = createSimulation({ seed: 4, profile: 'fast' });
    const arn = sim.account.createTargetGroup({ name: 'kafka', port: 9092, healthCheckIntervalSec: 10, healthyThreshold: 2, deregistrationDelaySec: 20 });
    const spec = lbSpec([arn]);
    await sim.run(() => provision(sim, spec));
    await sim.run(async () => {
      const id = sim.world.currentInstance(spec.nodes[0]!.id)!.id;
      await sim.driver.registerTargets(spec, [arn], [id]);
      await sim.clock.sleep(21 * SEC);
      expect(await sim.driver.describeTargetGroups(spec, [arn])).toEqual([{ targetGroupArn: arn, deregistrationDelayMs: 20_000, healthyAfterMs: 20_000, targets: [{ instanceId: id, state: 'healthy', reason: null }] }]);
    });
    expect(sim.account.iamDenials()).toEqual([]);
  });

  it('a group the account does not have: TargetGroupNotFound naming it, not retryable', async () => {
    const { sim, spec } = await provisioned();
    const missing = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/gone/00000000000000ff';
    const err = await sim.run(() => failure(sim.driver.describeTargetGroups(spec, [TG, missing])));
    expect(err).toBeInstanceOf(BerthDriverError);
    expect(err).toMatchObject({ awsCode: 'TargetGroupNotFound', retryable: false });
    expect((err as Error).message).toContain(missing);
  });

  it('ELB-13: the generated policy allows the target-group calls; without any one of its ELBv2 actions, the call that needs it is AccessDenied', async () => {
    const spec = lbSpec();
    const without = (action: string) => (role: 'controller' | 'node', doc: unknown) => {
      if (role !== 'controller') return doc;
      const d = doc as IamPolicyDocument;
      return { ...d, Statement: d.Statement.map((s) => ({ ...s, Action: s.Action.filter((a) => a !== action) })).filter((s) => s.Action.length > 0) };
    };
    const calls: Record<string, (sim: Simulation, id: string) => Promise<unknown>> = {
      'elasticloadbalancing:DescribeTargetGroups': (sim) => sim.driver.describeTargetGroups(spec, [TG]),
      'elasticloadbalancing:DescribeTargetGroupAttributes': (sim) => sim.driver.describeTargetGroups(spec, [TG]),
      'elasticloadbalancing:DescribeTargetHealth': (sim) => sim.driver.describeTargetGroups(spec, [TG]),
      'elasticloadbalancing:RegisterTargets': (sim, id) => sim.driver.registerTargets(spec, [TG], [id]),
      'elasticloadbalancing:DeregisterTargets': (sim, id) => sim.driver.deregisterTargets(spec, [TG], [id]),
    };
    const sim = createSimulation({ seed: 5, profile: 'fast' });
    await sim.run(() => provision(sim, spec));
    const id = sim.world.currentInstance(spec.nodes[0]!.id)!.id;
    // Every ELBv2 action the generated policy grants is one of these.
    const granted = sim.driver.iamPolicyFor(spec).controller.Statement.flatMap((s) => s.Action).filter((a) => a.startsWith('elasticloadbalancing:'));
    expect(granted.sort()).toEqual(Object.keys(calls).sort());
    await sim.run(async () => {
      for (const call of Object.values(calls)) await call(sim, id);
    });
    expect(sim.account.iamDenials()).toEqual([]);
    for (const [action, call] of Object.entries(calls)) {
      sim.account.transformPolicies(without(action));
      sim.account.prepare(spec);
      const before = sim.account.iamDenials().length;
      const err = await sim.run(() => failure(call(sim, id)));
      expect(err, action).toMatchObject({ awsCode: 'AccessDenied', retryable: false });
      expect((err as Error).message).toContain(action);
      expect(sim.account.iamDenials().slice(before)).toEqual([expect.objectContaining({ action, resource: action.includes(':Describe') ? '*' : TG })]);
    }
  });
});
