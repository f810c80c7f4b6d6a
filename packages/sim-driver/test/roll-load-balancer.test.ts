// Issue 10, load balancers: a roll drains a node out of its ELBv2 target groups before its
// instance goes, and admits the new instance (healthy in every group) before the batch counts.
// The production controller and AWS driver run against the simulated account's ELBv2, whose
// health checks follow the simulated application and whose draining lasts the deregistration
// delay (docs/aws-behaviour.md, ELB rules).
import { BerthRollHaltedError, createController, defineCluster, type ControllerEvents } from '@berth/core';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { HOUR, MIN, SEC, cluster, describeOutcome, notOn, provision, within } from './roll-safety-support.js';
import type { Simulation } from '../src/index.js';

async function targets(sim: Simulation, arn: string): Promise<Map<string, string>> {
  const out = await sim.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
  return new Map((out.TargetHealthDescriptions ?? []).map((d) => [d.Target?.Id ?? '', d.TargetHealth?.State ?? '']));
}

/** A cluster behind one target group (30 s drain, checks every 10 s, 3 to be healthy). */
function lbCluster(seed: number, tg: { loadBalancerSubnets?: null } = {}) {
  const c = cluster({ seed });
  c.sim.account.prepare(c.spec); // the VPC and subnets the load balancer goes in
  const arn = c.sim.account.createTargetGroup({
    name: `demo-${seed}`,
    port: 9092,
    deregistrationDelaySec: 30,
    healthCheckIntervalSec: 10,
    healthyThreshold: 3,
    loadBalancerSubnets: c.spec.subnets.map((s) => s.id),
    ...tg,
  });
  const spec = defineCluster({ ...c.input, loadBalancer: { targetGroupArns: [arn] } });
  const next = defineCluster({ ...c.input, image: c.next.image, loadBalancer: { targetGroupArns: [arn] } });
  return { ...c, arn, spec, next };
}

describe('load balancer (ELBv2 target groups)', () => {
  it('apply() registers the healthy instances; a roll drains each old one before it goes and admits each new one healthy before the batch counts', async () => {
    const { sim, spec, next, arn } = lbCluster(201);
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const provisioner = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'provisioner' });
      const applied = await provisioner.apply();
      const before = await targets(sim, arn);
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      const log: { name: string; atMs: number; e: Record<string, unknown> }[] = [];
      for (const name of ['node.draining', 'node.replacing', 'node.registered', 'batch.completed'] as const) c.on(name, (e: ControllerEvents[typeof name]) => log.push({ name, atMs: e.atMs, e: e as unknown as Record<string, unknown> }));
      // What the load balancer says about the old instance when the controller terminates it.
      const atTermination: string[] = [];
      c.on('node.replacing', (e) => {
        void targets(sim, arn).then((t) => atTermination.push(t.get(e.instanceId) ?? 'absent'));
      });
      const outcome = await within(sim, c.roll({ maxUnavailable: 1 }), 6 * HOUR);
      const after = await targets(sim, arn);
      return { applied, before, after, log, atTermination, outcome: describeOutcome(outcome, sim.clock.now()) };
    });
    expect(r.outcome).toBe('completed');
    expect(r.applied.registered.map((x) => x.nodeId).sort()).toEqual(spec.nodes.map((n) => n.id));
    expect([...r.before.values()].every((s) => s === 'healthy' || s === 'initial')).toBe(true);
    // Every old instance left the group (drained) before it was terminated.
    expect(r.atTermination).toHaveLength(5);
    expect(r.atTermination.every((s) => s === 'absent' || s === 'unused')).toBe(true);
    for (const d of r.log.filter((x) => x.name === 'node.draining')) {
      const replacing = r.log.find((x) => x.name === 'node.replacing' && x.e.nodeId === d.e.nodeId);
      expect(replacing && replacing.atMs - d.atMs, `${String(d.e.nodeId)} drained for the 30 s delay`).toBeGreaterThanOrEqual(30 * SEC);
    }
    // Every new instance is healthy in the group, none of the old ones is there.
    const current = next.nodes.map((n) => sim.world.currentInstance(n.id)?.id ?? '');
    expect(current.map((id) => r.after.get(id))).toEqual(current.map(() => 'healthy'));
    expect([...r.after.keys()].filter((id) => !current.includes(id))).toEqual([]);
    // Each batch counted only after its node was registered healthy.
    const registered = r.log.filter((x) => x.name === 'node.registered');
    const completed = r.log.filter((x) => x.name === 'batch.completed');
    expect(registered).toHaveLength(5);
    for (const [i, b] of completed.entries()) expect(b.atMs).toBeGreaterThanOrEqual(registered[i]?.atMs ?? Infinity);
    expect(notOn(sim, next)).toEqual([]);
  });

  it('a new instance the load balancer never finds healthy halts the roll (phase load-balancer), naming the target state', async () => {
    // No load balancer uses the group: its targets stay `unused` (Target.NotInUse), never healthy.
    const { sim, spec, next } = lbCluster(202, { loadBalancerSubnets: null });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      const outcome = await within(sim, c.roll({ healthTimeoutMs: 5 * MIN }), 6 * HOUR);
      return { outcome };
    });
    expect(r.outcome.state).toBe('rejected');
    const halt = (r.outcome as { error: unknown }).error as BerthRollHaltedError;
    expect(halt).toBeInstanceOf(BerthRollHaltedError);
    expect(halt.phase).toBe('load-balancer');
    expect(halt.message).toMatch(/unused \(Target\.NotInUse\)/);
    expect(halt.nodeIds).toHaveLength(1);
    expect(halt.untouched).toHaveLength(4);
  });

  it('watch() registers the instance of a node the group recovered by itself', async () => {
    const { sim, spec, arn } = lbCluster(203);
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'watcher' });
      await c.apply();
      const stop = new AbortController();
      const watching = c.watch({ signal: stop.signal });
      const victim = spec.nodes[1]?.id as string;
      const old = sim.world.currentInstance(victim)?.id;
      sim.faults.killInstance(victim);
      let now = '';
      for (let i = 0; i < 180 && now !== 'healthy'; i++) {
        await sim.clock.sleep(20 * SEC);
        const id = sim.world.currentInstance(victim)?.id;
        now = id && id !== old ? ((await targets(sim, arn)).get(id) ?? '') : '';
      }
      stop.abort();
      await watching;
      return { now };
    });
    expect(r.now).toBe('healthy');
  });
});
