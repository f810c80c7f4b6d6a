// The controller end to end on the simulator: what issue 2 asks a roll to guarantee.
import {
  BerthAbortError,
  BerthLockError,
  BerthRollHaltedError,
  computeRevision,
  createController,
  defineCluster,
  type ClusterSpec,
  type ControllerEvents,
  type Driver,
  type RollReport,
} from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput, type Simulation } from '../src/index.js';

const NEW_IMAGE = 'ami-0fedcba9876543210';

function setup(nodes = 5, seed = 7) {
  const sim = createSimulation({ seed, profile: 'fast' });
  const input = simulatedClusterInput({ nodes });
  const spec = defineCluster(input);
  const next = defineCluster({ ...input, image: NEW_IMAGE });
  return { sim, spec, next };
}

async function provision(sim: Simulation, spec: ClusterSpec): Promise<void> {
  const c = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'provisioner' });
  await c.apply();
  while (!(await c.status()).converged || !sim.app.clusterHealthy()) await sim.clock.sleep(1_000);
}

/** Terminations the controller asked for, by node, from the driver's call log in the trace. */
function terminations(sim: Simulation): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of sim.trace) if (e.kind === 'instance.lifecycle' && e.to === 'Terminating' && e.nodeId) out.set(e.nodeId, (out.get(e.nodeId) ?? 0) + 1);
  return out;
}

const samples = new WeakMap<Simulation, number[]>();
/** From now on, records how many app members are healthy after every state change. */
function sampleHealth(sim: Simulation): void {
  const list: number[] = [];
  samples.set(sim, list);
  sim.onTrace(() => list.push(sim.app.status().members.filter((m) => m.healthy).length));
}
function healthySamples(sim: Simulation): number[] {
  return samples.get(sim) ?? [];
}

function record<K extends keyof ControllerEvents>(c: { on(k: K, f: (e: ControllerEvents[K]) => void): unknown }, name: K, into: ControllerEvents[K][]): void {
  c.on(name, (e) => into.push(e));
}

describe('controller.roll() on the simulator', () => {
  it('replaces every node once, leader last, and reports it', async () => {
    const { sim, spec, next } = setup(5);
    const replaced: ControllerEvents['node.replaced'][] = [];
    const batches: ControllerEvents['batch.started'][] = [];
    let leaderAtStart: string | null = null;
    const report = await sim.run(async () => {
      await provision(sim, spec);
      leaderAtStart = sim.app.leaderId();
      sampleHealth(sim);
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      record(c, 'node.replaced', replaced);
      record(c, 'batch.started', batches);
      return c.roll({ maxUnavailable: 1 });
    });
    expect(report.outcome).toBe('completed');
    expect(report.replacedCount).toBe(5);
    expect(batches.map((b) => b.nodeIds.length)).toEqual([1, 1, 1, 1, 1]);
    expect(batches.at(-1)?.nodeIds).toEqual([leaderAtStart]);
    expect(new Set(replaced.map((r) => r.nodeId)).size).toBe(5);
    for (const n of next.nodes) {
      const inst = sim.world.currentInstance(n.id);
      expect(inst?.tags['berth:revision']).toBe(computeRevision(next, n.id));
      expect(inst?.lifecycleState).toBe('InService');
    }
    expect([...terminations(sim).values()].every((n) => n === 1)).toBe(true);
    expect(Math.min(...healthySamples(sim))).toBeGreaterThanOrEqual(3);
    expect(sim.app.status().lostCommitted).toBe(0);
    expect(report.apiCalls.TerminateInstanceInAutoScalingGroup).toBe(5);
    // IAM evaluated every call of the controller and of the bootstraps, and denied none.
    expect(sim.options.iam).toBe('evaluate');
    expect(sim.world.iamStats.checks).toBeGreaterThan(report.apiCallsTotal);
    expect(sim.world.iamStats.denied).toBe(0);
    const n0 = report.nodes[0]!;
    expect(n0.durationMs).toBeGreaterThan(0);
    expect(Object.keys(n0.phasesAtMs)).toContain('in-service');
  });

  // Batches are AZ-aware and the leader goes last alone, so after the first batch their sizes
  // depend on where the elected leader runs (timing): the bound and the first batch are fixed.
  it.each([
    ['maxUnavailable 2 on 5 nodes replaces two at a time and never drops below quorum', 5, 11, 2, 2, 3],
    ['a 1-tolerance cluster (3 nodes) is never disrupted twice at once, whatever maxUnavailable says', 3, 4, 3, 1, 2],
  ])('%s', async (_name, nodes, seed, maxUnavailable, largestBatch, quorum) => {
    const { sim, spec, next } = setup(nodes, seed);
    const batches: ControllerEvents['batch.started'][] = [];
    await sim.run(async () => {
      await provision(sim, spec);
      sampleHealth(sim);
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      record(c, 'batch.started', batches);
      await c.roll({ maxUnavailable });
    });
    const sizes = batches.map((b) => b.nodeIds.length);
    expect(sizes[0]).toBe(largestBatch);
    expect(Math.max(...sizes)).toBe(largestBatch);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(nodes);
    expect(Math.min(...healthySamples(sim))).toBeGreaterThanOrEqual(quorum);
  });

  it('a bad image halts the roll at the first node, names node, phase and error, and touches nothing else', async () => {
    const { sim, spec, next } = setup(5, 3);
    sim.faults.markImageBad(NEW_IMAGE, { phase: 'mounting', reason: 'mkfs.xfs: device busy' });
    let halted: ControllerEvents['roll.halted'] | null = null;
    const err = await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      c.on('roll.halted', (e) => (halted = e));
      return c.roll({ maxUnavailable: 1 }).then(
        () => null,
        (e: unknown) => e,
      );
    });
    expect(err).toBeInstanceOf(BerthRollHaltedError);
    const h = err as BerthRollHaltedError & { report: RollReport };
    expect(h.report.batches).toHaveLength(1);
    expect(h.nodeId).toBe(h.report.batches[0]?.nodeIds[0]);
    expect(h.phase).toBe('mounting');
    expect(h.lastError).toBe('mkfs.xfs: device busy');
    expect(h.message).toMatch(new RegExp(`node ${h.nodeId} failed to boot revision r-[0-9a-f]{16}`));
    expect(halted).not.toBeNull();
    // Only the first node was ever terminated by the roll; the others still run the old image.
    expect([...terminations(sim).keys()]).toEqual([h.nodeId]);
    for (const n of spec.nodes.filter((x) => x.id !== h.nodeId)) {
      expect(sim.world.currentInstance(n.id)?.imageId).toBe(spec.image);
      expect(sim.world.currentInstance(n.id)?.lifecycleState).toBe('InService');
    }
    expect(h.report.outcome).toBe('halted');
  });

  it('a crash mid-roll, then roll() again, converges without replacing any node twice', async () => {
    const { sim, spec, next } = setup(5, 5);
    await sim.run(async () => {
      await provision(sim, spec);
      // A controller whose process dies: once its 2nd replacement went out (node.replacing), every call fails and it never releases its lease.
      let dead = false;
      const dying = crashable(sim.driver, () => dead);
      const first = createController({ spec: next, driver: dying, clock: sim.clock, hooks: sim.hooks, holderId: 'roller', sessionId: 'roller-run-1', runtime: { retry: { maxAttempts: 1 } } });
      let started = 0;
      first.on('node.replacing', () => {
        if (++started === 2) dead = true;
      });
      await expect(first.roll()).rejects.toThrow();
      // Another controller instance with the same holder id (a new session) does not inherit the lease.
      const other = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller', sessionId: 'roller-run-2', runtime: { retry: { maxAttempts: 1 } } });
      await expect(other.roll()).rejects.toMatchObject({ code: 'LOCK_HELD', holder: 'roller', message: expect.stringContaining('same holder id') });
      // The restarted controller with the same identity (holder and session) continues.
      const second = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller', sessionId: 'roller-run-1' });
      const report = await second.roll();
      expect(report.outcome).toBe('completed');
      // The replacement in flight when the first died finishes by itself: the second counts it
      // neither as already current nor as its own (it reports only what it did), so 1 + 3.
      expect(report.alreadyCurrent.length + report.replacedCount).toBe(4);
    });
    expect([...terminations(sim).values()].every((n) => n === 1)).toBe(true);
    for (const n of next.nodes) expect(sim.world.currentInstance(n.id)?.tags['berth:revision']).toBe(computeRevision(next, n.id));
  });

  it('with a node already down, it waits for it and never has more than the tolerance down', async () => {
    const { sim, spec, next } = setup(5, 9);
    const waits: ControllerEvents['roll.waiting'][] = [];
    await sim.run(async () => {
      await provision(sim, spec);
      sampleHealth(sim);
      sim.faults.killInstance('demo-3');
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      record(c, 'roll.waiting', waits);
      const report = await c.roll({ maxUnavailable: 2 });
      expect(report.outcome).toBe('completed');
    });
    expect(waits.length).toBeGreaterThan(0);
    expect(Math.min(...healthySamples(sim))).toBeGreaterThanOrEqual(3);
  });

  it('aborting stops the roll with BerthAbortError and releases the lease', async () => {
    const { sim, spec, next } = setup(3, 2);
    await sim.run(async () => {
      await provision(sim, spec);
      const ac = new AbortController();
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      c.on('node.replaced', () => ac.abort(new Error('operator pressed stop')));
      await expect(c.roll({ signal: ac.signal })).rejects.toBeInstanceOf(BerthAbortError);
      const lease = await sim.driver.lock.inspect(next);
      expect(lease?.expiresAtMs).toBeLessThanOrEqual(sim.clock.now());
    });
    expect(terminations(sim).size).toBe(1);
  });

  it('refuses to start while another controller holds the lock, touching nothing', async () => {
    const { sim, spec, next } = setup(3, 2);
    await sim.run(async () => {
      await provision(sim, spec);
      await sim.driver.lock.acquire(next, { holder: 'someone-else', session: 'someone-else-session', ttlMs: 600_000 });
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      const err = await c.roll().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BerthLockError);
      expect((err as BerthLockError).code).toBe('LOCK_HELD');
      expect((err as BerthLockError).holder).toBe('someone-else');
    });
    expect(terminations(sim).size).toBe(0);
  });

  it('calls beforeReplace and afterReplace per node, gates on clusterHealthy, and halts when a hook throws', async () => {
    const { sim, spec, next } = setup(3, 8);
    const calls: string[] = [];
    await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({
        spec: next,
        driver: sim.driver,
        clock: sim.clock,
        holderId: 'roller',
        hooks: {
          ...sim.hooks,
          beforeReplace: async (id, ctx) => {
            calls.push(`before ${id}`);
            await sim.hooks.beforeReplace?.(id, ctx);
            if (calls.filter((x) => x.startsWith('before')).length === 2) throw new Error('drain failed: partitions still on broker');
          },
          afterReplace: (id) => void calls.push(`after ${id}`),
          clusterHealthy: (ctx) => {
            calls.push('healthy?');
            return sim.hooks.clusterHealthy?.(ctx) ?? true;
          },
        },
      });
      const err = (await c.roll().catch((e: unknown) => e)) as BerthRollHaltedError;
      expect(err).toBeInstanceOf(BerthRollHaltedError);
      expect(err.message).toMatch(/Hook 'beforeReplace' for node demo-\d threw: drain failed/);
    });
    expect(calls[0]).toBe('healthy?');
    expect(calls.filter((x) => x.startsWith('after'))).toHaveLength(1);
    expect(terminations(sim).size).toBe(1);
  });

  it('halts when clusterHealthy stays false at a gate, before touching anything', async () => {
    const { sim, spec, next } = setup(3, 8);
    await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, holderId: 'roller', hooks: { clusterHealthy: () => false } });
      const err = (await c.roll({ healthTimeoutMs: 60_000 }).catch((e: unknown) => e)) as BerthRollHaltedError;
      expect(err).toBeInstanceOf(BerthRollHaltedError);
      expect(err.reason).toMatch(/cluster-health hook stayed false for 60 s before the batch/);
    });
    expect(terminations(sim).size).toBe(0);
  });

  it('apply() with a new image leaves running nodes on their template: the roll moves each with its batch', async () => {
    const { sim, spec, next } = setup(3, 8);
    await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      const applied = await c.apply();
      // Converged (tags, group, hook, DNS), the template kept.
      expect(applied.nodes.map((n) => n.changes.find((x) => x.resource === 'launch-template'))).toEqual(
        spec.nodes.map(() => expect.objectContaining({ action: 'unchanged', detail: expect.stringMatching(/\(kept: the roll moves it\)$/) })),
      );
      expect(applied.nodes.flatMap((n) => n.changes.filter((x) => x.action !== 'unchanged'))).toEqual([]);
      const st = await c.status();
      expect(st.nodes.map((n) => n.templateOutdated)).toEqual([true, true, true]);
      // A loss now relaunches the revision the node ran.
      sim.faults.killInstance(spec.nodes[1]!.id);
      const report = await c.roll({ maxUnavailable: 1 });
      expect(report.outcome).toBe('completed');
      expect((await c.status()).converged).toBe(true);
    });
  });

  it('plan() says what would happen and changes nothing; a second apply() changes nothing', async () => {
    const { sim, spec, next } = setup(3, 6);
    await sim.run(async () => {
      await provision(sim, spec);
      const before = sim.trace.length;
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      const plan = await c.plan();
      // Templates move only when a node's own batch starts: the plan's first step is the first batch.
      expect(plan.roll?.action.type).toBe('replace');
      expect(plan.roll?.order).toHaveLength(3);
      expect(plan.apply.nodes.map((n) => n.reasons.join())).toEqual(spec.nodes.map(() => expect.stringMatching(/launch template is at revision/)));
      const mutations = sim.trace.slice(before).filter((e) => !e.kind.startsWith('app.') && !e.kind.startsWith('dns.insync'));
      expect(mutations).toEqual([]);
      const again = await createController({ spec, driver: sim.driver, clock: sim.clock, holderId: 'provisioner' }).apply();
      expect(again.nodes).toEqual([]);
      expect(again.dnsRecords).toEqual([]);
    });
  });

  it('status() reports each node and the quorum margin', async () => {
    const { sim, spec } = setup(5, 6);
    await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec, driver: sim.driver, clock: sim.clock, holderId: 'x' });
      const st = await c.status();
      expect(st.converged).toBe(true);
      expect(st.quorum).toMatchObject({ size: 5, quorum: 3, tolerance: 2, healthy: 5, margin: 2 });
      sim.faults.killInstance('demo-2');
      await sim.clock.sleep(200);
      const after = await c.status();
      expect(after.quorum.margin).toBe(1);
      expect(after.nodes.find((n) => n.nodeId === 'demo-2')?.healthy).toBe(false);
    });
  });
});

describe('controller.roll() without change notifications (polling, as the AWS driver without its change queue)', () => {
  it("completes, probing with the one-call 'groups' scope, and stays within ~20 calls per replacement", async () => {
    const sim = createSimulation({ seed: 21, profile: 'realistic' });
    const input = simulatedClusterInput({ nodes: 5 });
    const spec = defineCluster(input);
    const next = defineCluster({ ...input, image: NEW_IMAGE });
    const report = await sim.run(async () => {
      await provision(sim, spec);
      const d = sim.driver;
      // The same driver with its notifications hidden.
      const polling: Driver = {
        name: d.name,
        capabilities: { ...d.capabilities, changeNotifications: false },
        observe: d.observe.bind(d),
        ensureNode: d.ensureNode.bind(d),
        replaceInstance: d.replaceInstance.bind(d),
        completeLifecycle: d.completeLifecycle.bind(d),
        setDns: d.setDns.bind(d),
        snapshotVolume: d.snapshotVolume.bind(d),
        modifyVolume: d.modifyVolume.bind(d),
        ...(d.volumeModifications && { volumeModifications: d.volumeModifications.bind(d) }),
        deleteNode: d.deleteNode.bind(d),
        lock: d.lock,
        apiCallCounts: () => d.apiCallCounts(),
      };
      return createController({ spec: next, driver: polling, clock: sim.clock, hooks: sim.hooks, holderId: 'poller' }).roll();
    });
    expect(report.outcome).toBe('completed');
    expect(report.replacedCount).toBe(5);
    expect(report.apiCalls.ReceiveMessage ?? 0).toBe(0);
    // Probes are DescribeAutoScalingGroups alone: many more of those than of DescribeInstances.
    expect(report.apiCalls.DescribeAutoScalingGroups!).toBeGreaterThan(2 * report.apiCalls.DescribeInstances!);
    // The AWS driver's fixed cost per replaced node is 6 calls: ensureNode with the roll's
    // observation (DescribeLaunchTemplates, CreateLaunchTemplate, UpdateAutoScalingGroup; the
    // image once per roll) and replaceInstance (DescribeAutoScalingInstances, Terminate…).
    // Polling adds ~1 probe per 10 s of a ~2.5 min (realistic) replacement on top (measured: 21
    // calls per replacement at seed 21); a full observe per probe would double it.
    expect(report.apiCallsTotal / report.replacedCount).toBeLessThan(25);
    expect((report.apiCalls.DescribeAutoScalingGroups! - report.replacedCount) / report.replacedCount).toBeLessThan(16);
  });
});

describe('controller.watch() on the simulator', () => {
  it('reports a lost node and its recovery, and repairs DNS drift, without disrupting anything', async () => {
    const { sim, spec } = setup(3, 12);
    const events: string[] = [];
    await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec, driver: sim.driver, clock: sim.clock, holderId: 'watcher', pollIntervalMs: 1_000 });
      c.on('node.lost', (e) => events.push(`lost ${e.nodeId}`));
      c.on('node.recovered', (e) => events.push(`recovered ${e.nodeId}`));
      c.on('dns.repaired', (e) => events.push(`dns ${e.records.join(',')}`));
      const ac = new AbortController();
      const watching = c.watch({ signal: ac.signal, intervalMs: 1_000 });
      await sim.clock.sleep(2_000);
      sim.faults.killInstance('demo-2');
      // Drift: someone points the cluster record elsewhere.
      await sim.driver.setDns(spec, [{ name: spec.dns!.clusterRecord, values: ['10.9.9.9'] }]);
      // DNS is checked on the full looks, every 5 minutes by default (DEFAULT_FULL_LOOK_INTERVAL_MS).
      await sim.clock.sleep(320_000);
      ac.abort();
      await watching;
    });
    expect(events).toContain('lost demo-2');
    expect(events).toContain('recovered demo-2');
    expect(events.some((e) => e.startsWith('dns ') && e.includes(spec.dns!.clusterRecord))).toBe(true);
    expect(terminations(sim).get('demo-1') ?? 0).toBe(0);
  });
});

/** A driver that fails every call once `dead()` says so: a controller process that died. */
function crashable(driver: Driver, dead: () => boolean): Driver {
  const fail = async (): Promise<never> => {
    throw new Error('controller process died');
  };
  const wrap = <F extends (...args: never[]) => Promise<unknown>>(f: F): F => ((...args: never[]) => (dead() ? fail() : f(...args))) as F;
  return {
    ...driver,
    name: driver.name,
    capabilities: driver.capabilities,
    observe: wrap(driver.observe.bind(driver)),
    ensureNode: wrap(driver.ensureNode.bind(driver)),
    replaceInstance: wrap(driver.replaceInstance.bind(driver)),
    completeLifecycle: wrap(driver.completeLifecycle.bind(driver)),
    setDns: wrap(driver.setDns.bind(driver)),
    snapshotVolume: wrap(driver.snapshotVolume.bind(driver)),
    modifyVolume: wrap(driver.modifyVolume.bind(driver)),
    ...(driver.volumeModifications && { volumeModifications: wrap(driver.volumeModifications.bind(driver)) }),
    deleteNode: wrap(driver.deleteNode.bind(driver)),
    ...(driver.waitForChange && { waitForChange: wrap(driver.waitForChange.bind(driver)) }),
    ...(driver.apiCallCounts && { apiCallCounts: driver.apiCallCounts.bind(driver) }),
    lock: {
      acquire: wrap(driver.lock.acquire.bind(driver.lock)),
      renew: wrap(driver.lock.renew.bind(driver.lock)),
      release: wrap(driver.lock.release.bind(driver.lock)),
      inspect: wrap(driver.lock.inspect.bind(driver.lock)),
    },
  };
}
