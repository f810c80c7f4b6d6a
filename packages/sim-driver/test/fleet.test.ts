import { getEventListeners } from 'node:events';
import { createController, createFleet, defineCluster, type ClusterSpec, type ControllerEvents, type Fleet } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput, type Simulation } from '../src/index.js';
import { provision } from './helpers.js';

/** `count` clusters of `nodes` nodes with addresses of their own in the shared subnets. */
function clusters(count: number, nodes: number): ClusterSpec[] {
  return Array.from({ length: count }, (_, c) => defineCluster(simulatedClusterInput({ name: `f${c + 1}`, nodes, addressOffset: c * nodes })));
}

function simulation(): Simulation {
  return createSimulation({ seed: 3, profile: 'fast' });
}

describe('watch() in fleets', () => {
  it('backs off when AWS throttles its looks (watch.throttled) and keeps watching: a node lost afterwards is reported and recovered', async () => {
    const sim = simulation();
    const [spec] = clusters(1, 3) as [ClusterSpec];
    const throttled: ControllerEvents['watch.throttled'][] = [];
    const events: string[] = [];
    let outcome = 'running';
    await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec, driver: sim.driver, clock: sim.clock, holderId: 'watcher' });
      c.on('watch.throttled', (e) => throttled.push(e));
      c.on('node.lost', (e) => events.push(`lost ${e.nodeId}`));
      c.on('node.recovered', (e) => events.push(`recovered ${e.nodeId}`));
      const ac = new AbortController();
      const watching = c.watch({ signal: ac.signal, intervalMs: 10_000 }).then(
        () => void (outcome = 'resolved'),
        (err: unknown) => void (outcome = `rejected: ${String(err)}`),
      );
      await sim.clock.sleep(5_000);
      sim.faults.apiErrors({ operations: ['DescribeInstances'], code: 'throttle', rate: 1, durationMs: 15 * 60_000 });
      await sim.clock.sleep(16 * 60_000);
      expect(outcome).toBe('running');
      sim.faults.killInstance(`${spec.name}-2`);
      await sim.clock.sleep(10 * 60_000);
      ac.abort();
      await watching;
    });
    expect(outcome).toBe('resolved');
    expect(throttled.length).toBeGreaterThan(2);
    expect(throttled[0]).toMatchObject({ operation: 'DescribeInstances', attempt: 1 });
    // Exponential and capped: each pause is at least half its cap, the caps double from 5 s.
    for (const e of throttled) {
      const cap = Math.min(300_000, 5_000 * 2 ** (e.attempt - 1));
      expect(e.delayMs).toBeGreaterThanOrEqual(cap / 2);
      expect(e.delayMs).toBeLessThanOrEqual(cap);
    }
    expect(events).toEqual([`lost ${spec.name}-2`, `recovered ${spec.name}-2`]);
  });

  it('many watches on one AbortSignal add no listener to it (no MaxListenersExceededWarning)', async () => {
    const sim = simulation();
    const [spec] = clusters(1, 3) as [ClusterSpec];
    const shared = new AbortController();
    let listeners = -1;
    await sim.run(async () => {
      await provision(sim, spec);
      const watching = Array.from({ length: 25 }, (_, i) => createController({ spec, driver: sim.driver, clock: sim.clock, holderId: `w${i}` }).watch({ signal: shared.signal, intervalMs: 5_000 }));
      await sim.clock.sleep(30_000);
      listeners = getEventListeners(shared.signal, 'abort').length;
      shared.abort();
      await Promise.all(watching);
    });
    expect(listeners).toBe(0);
  });
});

describe('createFleet() on one simulated AWS', () => {
  it('paces every look of its clusters within looksPerSecond, change-driven ones included, and reports each cluster on its controller', async () => {
    const sim = simulation();
    const specs = clusters(3, 3);
    const lost: string[] = [];
    let describes = 0;
    let counting = false;
    sim.onApiCall((c) => {
      // Every look (of any scope) makes one DescribeInstances for clusters this small (docs/aws-driver.md).
      if (counting && c.callerKind === 'controller' && c.operation === 'DescribeInstances') describes++;
    });
    await sim.run(async () => {
      for (const s of specs) await provision(sim, s);
      const fleet = createFleet({ clusters: specs, driver: sim.driver, clock: sim.clock, looksPerSecond: 0.05, burst: 1, seed: 5 });
      for (const s of specs) fleet.controller(s.name).on('node.lost', (e) => lost.push(e.nodeId));
      const ac = new AbortController();
      counting = true;
      const running = fleet.run({ signal: ac.signal });
      await sim.clock.sleep(60_000);
      expect(fleet.watching()).toEqual(['f1', 'f2', 'f3']);
      sim.faults.killInstance('f2-1');
      await sim.clock.sleep(29 * 60_000);
      ac.abort();
      await running;
      counting = false;
    });
    expect(lost).toEqual(['f2-1']);
    // 30 minutes at 0.05 looks/s: at most 90 looks (plus the one the bucket starts with).
    expect(describes).toBeLessThanOrEqual(91);
    expect(describes).toBeGreaterThan(30);
  });

  it('three members share the clusters by watch leases; a dead member\'s clusters are taken over once its leases expire', async () => {
    const sim = simulation();
    const specs = clusters(6, 3);
    const ttl = 60_000;
    const member = (id: string): Fleet =>
      createFleet({ clusters: specs, driver: sim.driver, clock: sim.clock, holderId: id, looksPerSecond: 0.2, intervalMs: 120_000, share: { leaseTtlMs: ttl, maxClusters: 3 } });
    const members = { a: member('member-a'), b: member('member-b'), c: member('member-c') };
    const taken: { clusterName: string; by: string; atMs: number }[] = [];
    for (const [id, m] of Object.entries(members)) m.on('cluster.watching', (e) => taken.push({ clusterName: e.clusterName, by: id, atMs: e.atMs }));
    const stops = { a: new AbortController(), b: new AbortController(), c: new AbortController() };
    let before: Record<string, string[]> = {};
    let after: Record<string, string[]> = {};
    let diedAtMs = 0;
    await sim.run(async () => {
      const running = (['a', 'b', 'c'] as const).map((id) => members[id].run({ signal: stops[id].signal, ...(id === 'a' && { releaseOnStop: false }) }));
      await sim.clock.sleep(2 * ttl);
      before = { a: members.a.watching(), b: members.b.watching(), c: members.c.watching() };
      // Member a dies: it stops renewing and leaves its leases to expire.
      stops.a.abort();
      await running[0];
      diedAtMs = sim.clock.now();
      await sim.clock.sleep(2 * ttl);
      after = { a: members.a.watching(), b: members.b.watching(), c: members.c.watching() };
      stops.b.abort();
      stops.c.abort();
      await Promise.all(running);
    });
    const all = specs.map((s) => s.name).sort();
    // Before: every cluster watched by exactly one member, none more than its share.
    expect([...before.a!, ...before.b!, ...before.c!].sort()).toEqual(all);
    for (const w of Object.values(before)) expect(w.length).toBeLessThanOrEqual(3);
    // After: a's clusters went to b and c — not before a's leases could have expired.
    expect(after.a).toEqual([]);
    expect([...after.b!, ...after.c!].sort()).toEqual(all);
    for (const name of before.a!) {
      const takeover = taken.find((t) => t.clusterName === name && t.by !== 'a' && t.atMs >= diedAtMs);
      expect(takeover, name).toBeDefined();
      expect(takeover!.atMs).toBeGreaterThan(diedAtMs - ttl / 3 + ttl - 1);
    }
    expect(before.a!.length).toBeGreaterThan(0);
  });

  it('refuses bad options before any call, naming the field', () => {
    const sim = simulation();
    const specs = clusters(2, 3);
    expect(() => createFleet({ clusters: [], driver: sim.driver, clock: sim.clock })).toThrow(/clusters must name at least one cluster/);
    expect(() => createFleet({ clusters: [specs[0]!, specs[0]!], driver: sim.driver, clock: sim.clock })).toThrow(/f1 is named twice/);
    expect(() => createFleet({ clusters: specs, driver: sim.driver, clock: sim.clock, looksPerSecond: 0 })).toThrow(/looksPerSecond must be a positive number/);
    expect(() => createFleet({ clusters: specs, driver: sim.driver, clock: sim.clock, share: { leaseTtlMs: 10_000, renewEveryMs: 20_000 } })).toThrow(/share.renewEveryMs/);
  });
});
