import {
  BerthAbortError,
  BerthDriverError,
  BerthRollHaltedError,
  createController,
  defineCluster,
  PHASE_ORDER,
  type ClusterSpec,
  type Controller,
  type ControllerEventName,
  type ControllerEvents,
  type Driver,
  type RollOptions,
} from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput, type Simulation } from '../src/index.js';

/*
 * The controller's events as a user sees them, on the production driver over the simulator:
 * boot phases in change-queue mode, no replay of what happened before a controller started,
 * node.failed on every way a replacement fails, one final event per roll, and batch.started
 * only for batches that ran.
 */

const NEW_IMAGE = 'ami-0fedcba9876543210';

function setup(nodes = 3, seed = 5, lifecycle?: { heartbeatTimeoutSec: number }) {
  const sim = createSimulation({ seed, profile: 'fast' });
  const input = { ...simulatedClusterInput({ nodes }), ...(lifecycle && { lifecycle }) };
  const spec = defineCluster(input);
  const next = defineCluster({ ...input, image: NEW_IMAGE });
  return { sim, spec, next };
}

async function provision(sim: Simulation, spec: ClusterSpec): Promise<void> {
  const c = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'provisioner' });
  await c.apply();
  while (!(await c.status()).converged || !sim.app.clusterHealthy()) await sim.clock.sleep(1_000);
}

type Logged = { [K in ControllerEventName]: { name: K; e: ControllerEvents[K] } }[ControllerEventName];

/** Every event the controller emits, in order. */
function recordAll(c: Controller): Logged[] {
  const names: ControllerEventName[] = [
    'roll.started', 'roll.waiting', 'batch.started', 'batch.completed', 'node.replacing', 'node.phase', 'node.replaced', 'node.failed',
    'node.lost', 'node.recovered', 'node.stuck', 'roll.halted', 'roll.aborted', 'roll.completed', 'roll.failed',
  ];
  const log: Logged[] = [];
  for (const name of names) (c.on as (n: string, f: (e: unknown) => void) => unknown)(name, (e) => log.push({ name, e } as Logged));
  return log;
}

const of = <K extends ControllerEventName>(log: readonly Logged[], name: K) => log.filter((l) => l.name === name).map((l) => l.e as ControllerEvents[K]);
const finals = (log: readonly Logged[]) => log.filter((l) => l.name === 'roll.completed' || l.name === 'roll.halted' || l.name === 'roll.aborted' || l.name === 'roll.failed').map((l) => l.name);

const DRIVER_METHODS = ['observe', 'ensureNode', 'replaceInstance', 'completeLifecycle', 'setDns', 'snapshotVolume', 'restoreLaunchTemplate', 'modifyVolume', 'volumeModifications', 'deleteNode', 'describeTargetGroups', 'registerTargets', 'deregisterTargets', 'waitForChange'] as const;
const LOCK_METHODS = ['acquire', 'renew', 'release', 'inspect'] as const;

/** The production driver with every cloud call (lock included) passed through `around`. */
function wrapped(driver: Driver, around: (op: string, call: () => Promise<unknown>) => Promise<unknown>): Driver {
  const d = driver as unknown as Record<string, unknown>;
  const lock = driver.lock as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  const out: Record<string, unknown> = {
    name: driver.name,
    capabilities: driver.capabilities,
    canRestoreLaunchTemplate: d['canRestoreLaunchTemplate'],
    apiCallCounts: () => driver.apiCallCounts?.() ?? {},
    lock: Object.fromEntries(LOCK_METHODS.map((m) => [m, (...a: unknown[]) => around(`lock.${m}`, () => lock[m]!.apply(driver.lock, a))])),
  };
  for (const m of DRIVER_METHODS) {
    const f = d[m];
    if (typeof f === 'function') out[m] = (...a: unknown[]) => around(m, () => (f as (...x: unknown[]) => Promise<unknown>).apply(driver, a));
  }
  return out as unknown as Driver;
}

/** The production driver, whose calls fail once `dead()` says so (a controller process that died). */
function dying(driver: Driver, dead: () => boolean): Driver {
  return wrapped(driver, (_, call) => (dead() ? Promise.reject(new Error('the controller process died')) : call()));
}

async function rollOutcome(c: Controller, options: RollOptions = {}): Promise<unknown> {
  return c.roll(options).then(
    (r) => r,
    (e: unknown) => e,
  );
}

describe('controller events', () => {
  it('change-queue mode: node.phase reports every boot phase of each new instance, in order, and the report has them', async () => {
    const { sim, spec, next } = setup(3);
    expect(sim.driver.capabilities.changeNotifications).toBe(true);
    const { log, report } = await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      const log = recordAll(c);
      return { log, report: await c.roll() };
    });
    expect(report.replacedCount).toBe(3);
    for (const n of report.nodes) {
      const phases = of(log, 'node.phase').filter((e) => e.instanceId === n.newInstanceId);
      const order = phases.map((e) => PHASE_ORDER.indexOf(e.phase));
      // Forward only, each once, and the boot's middle phases are there (not only in-service).
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(new Set(order).size).toBe(order.length);
      expect(phases.map((e) => e.phase)).toEqual(expect.arrayContaining(['attaching', 'mounting', 'configuring', 'joining', 'in-service']));
      expect(Object.keys(n.phasesAtMs)).toEqual(expect.arrayContaining(['attaching', 'mounting', 'configuring', 'joining', 'in-service']));
      // Between the node's node.replacing and node.replaced.
      const replacing = of(log, 'node.replacing').find((e) => e.nodeId === n.nodeId)!;
      const replaced = of(log, 'node.replaced').find((e) => e.nodeId === n.nodeId)!;
      for (const p of phases) expect(p.atMs).toBeGreaterThanOrEqual(Math.floor(replacing.atMs / 1000) * 1000);
      expect(log.indexOf(log.find((l) => l.e === phases[0])!)).toBeLessThan(log.findIndex((l) => l.e === replaced));
    }
    // Nothing about the old instances or the nodes not being replaced: no replay at the start.
    const newIds = new Set(report.nodes.map((n) => n.newInstanceId));
    expect(of(log, 'node.phase').filter((e) => !newIds.has(e.instanceId))).toEqual([]);
    expect(of(log, 'node.failed')).toEqual([]);
  });

  it('a controller started mid-roll (after a crash) emits nothing about what happened before it started', async () => {
    const { sim, spec, next } = setup(5, 7);
    const { second, startedAtMs, report } = await sim.run(async () => {
      await provision(sim, spec);
      let dead = false;
      const first = createController({ spec: next, driver: dying(sim.driver, () => dead), clock: sim.clock, hooks: sim.hooks, holderId: 'roller', sessionId: 'run-1', runtime: { retry: { maxAttempts: 1 } } });
      // It dies while its second replacement boots (some phases of it already reported).
      first.on('node.phase', (e) => {
        if (e.phase === 'mounting' && of(firstLog, 'node.replaced').length === 1) dead = true;
      });
      const firstLog = recordAll(first);
      await expect(first.roll()).rejects.toThrow();
      await sim.clock.sleep(2_000);
      const startedAtMs = sim.clock.now();
      const restarted = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller', sessionId: 'run-1' });
      const second = recordAll(restarted);
      return { second, startedAtMs, report: await restarted.roll() };
    });
    expect(report.outcome).toBe('completed');
    // Nothing from before its start; no phase of a node it did not see change after it started.
    for (const l of second) expect(l.e.atMs, `${l.name} ${JSON.stringify(l.e)}`).toBeGreaterThanOrEqual(Math.floor(startedAtMs / 1000) * 1000);
    const replacing = new Set(of(second, 'node.replacing').map((e) => e.nodeId));
    // node.replaced only for its own replacements (the one the first controller started finishes unannounced).
    expect(of(second, 'node.replaced').map((e) => e.nodeId).sort()).toEqual([...replacing].sort());
    expect(report.replacedCount).toBe(replacing.size);
    expect(of(second, 'node.failed')).toEqual([]);
    expect(of(second, 'node.lost')).toEqual([]);
    // The in-service nodes at its start are not re-announced in service.
    const inServiceAtStart = of(second, 'node.phase').filter((e) => e.phase === 'in-service' && !report.nodes.some((n) => n.newInstanceId === e.instanceId));
    expect(inServiceAtStart.length).toBeLessThanOrEqual(1); // at most the node the first controller left booting
  });

  it('a second watch() started mid-roll reports only what happens after it started', async () => {
    const { sim, spec, next } = setup(3, 9);
    const { watched, startedAtMs, serving } = await sim.run(async () => {
      await provision(sim, spec);
      const roller = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      const ac = new AbortController();
      let watched: Logged[] = [];
      let startedAtMs = 0;
      const serving: string[] = [];
      roller.on('node.replaced', () => {
        if (startedAtMs !== 0) return;
        startedAtMs = sim.clock.now();
        // What was in service when it started (the test's look at the world, not the watcher's).
        for (const n of next.nodes) {
          const i = sim.world.currentInstance(n.id);
          if (i?.lifecycleState === 'InService') serving.push(i.id);
        }
        const watcher = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'watcher' });
        watched = recordAll(watcher);
        void watcher.watch({ signal: ac.signal, repairDns: false });
      });
      await roller.roll();
      await sim.clock.sleep(5_000);
      ac.abort();
      await sim.clock.sleep(1);
      return { watched, startedAtMs, serving };
    });
    expect(startedAtMs).toBeGreaterThan(0);
    for (const l of watched) expect(l.e.atMs, `${l.name} ${JSON.stringify(l.e)}`).toBeGreaterThanOrEqual(Math.floor(startedAtMs / 1000) * 1000);
    // Its first look is a baseline: no in-service phase (nor any other) for the instances already serving.
    expect(serving.length).toBeGreaterThanOrEqual(2);
    expect(of(watched, 'node.phase').filter((e) => serving.includes(e.instanceId))).toEqual([]);
    // The roll went on while it watched: it saw later replacements as losses and recoveries, never as failures.
    expect(of(watched, 'node.failed')).toEqual([]);
  });

  describe('node.failed on a failed replacement, with the reason, then the halt', () => {
    it('the bootstrap reports failed', async () => {
      const { sim, spec, next } = setup(3);
      sim.faults.markImageBad(NEW_IMAGE, { phase: 'mounting', reason: 'mkfs.xfs: device busy' });
      const { log, err } = await sim.run(async () => {
        await provision(sim, spec);
        const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
        const log = recordAll(c);
        return { log, err: await rollOutcome(c) };
      });
      expect(err).toBeInstanceOf(BerthRollHaltedError);
      const failed = of(log, 'node.failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ nodeId: (err as BerthRollHaltedError).nodeId, reason: expect.stringContaining('mkfs.xfs: device busy') });
      expect(failed[0]!.instanceId).toMatch(/^i-/);
      expect(finals(log)).toEqual(['roll.halted']);
      expect(log.findIndex((l) => l.name === 'node.failed')).toBeLessThan(log.findIndex((l) => l.name === 'roll.halted'));
    });

    it('the lifecycle action is abandoned without a failed tag (user data never ran; the hook timed out)', async () => {
      const { sim, spec, next } = setup(3, 5, { heartbeatTimeoutSec: 30 });
      sim.faults.markImageBad(NEW_IMAGE, { phase: 'launching', reason: 'kernel panic' });
      const { log, err } = await sim.run(async () => {
        await provision(sim, spec);
        const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
        const log = recordAll(c);
        return { log, err: await rollOutcome(c, { replacementTimeoutMs: 120_000 }) };
      });
      expect(err).toBeInstanceOf(BerthRollHaltedError);
      const failed = of(log, 'node.failed');
      // One event per instance the group launched and the hook's timeout abandoned (the halt adds none).
      expect(failed.length).toBeGreaterThanOrEqual(1);
      for (const f of failed) expect(f).toMatchObject({ nodeId: (err as BerthRollHaltedError).nodeId, instanceId: expect.stringMatching(/^i-/), reason: expect.stringMatching(/terminated before InService/) });
      expect(new Set(failed.map((f) => f.instanceId)).size).toBe(failed.length);
      expect(sim.trace.filter((e) => e.kind === 'hook.timeout' && failed.some((f) => f.instanceId === e.instanceId))).toHaveLength(failed.length);
      expect(finals(log)).toEqual(['roll.halted']);
    });

    it('launches keep failing (the ENI stays in use) until the replacement times out', async () => {
      const { sim, spec, next } = setup(3);
      const { log, err } = await sim.run(async () => {
        await provision(sim, spec);
        sim.faults.eniReleaseDelay(3_600_000);
        const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
        const log = recordAll(c);
        return { log, err: await rollOutcome(c, { replacementTimeoutMs: 120_000 }) };
      });
      expect(err).toBeInstanceOf(BerthRollHaltedError);
      const h = err as BerthRollHaltedError;
      const failed = of(log, 'node.failed');
      expect(failed).toEqual([{ nodeId: h.nodeId, instanceId: null, reason: expect.stringMatching(/did not come back InService within 120 s .*(InUse|in use)/), atMs: expect.any(Number) }]);
      expect(h.message).toContain(failed[0]!.reason);
      expect(finals(log)).toEqual(['roll.halted']);
    });

    it('the new instance boots too slowly: the replacement times out', async () => {
      const { sim, spec, next } = setup(3);
      sim.faults.markImageSlow(NEW_IMAGE, 500);
      const { log, err } = await sim.run(async () => {
        await provision(sim, spec);
        const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
        const log = recordAll(c);
        return { log, err: await rollOutcome(c, { replacementTimeoutMs: 60_000 }) };
      });
      expect(err).toBeInstanceOf(BerthRollHaltedError);
      const failed = of(log, 'node.failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ nodeId: (err as BerthRollHaltedError).nodeId, instanceId: expect.stringMatching(/^i-/), reason: expect.stringMatching(/did not come back InService within 60 s/) });
      expect(finals(log)).toEqual(['roll.halted']);
    });
  });

  describe('one final event per roll', () => {
    const abortPoints: [string, (c: Controller, abort: () => void) => void][] = [
      ['right after it started', (c, abort) => c.on('roll.started', abort)],
      ['as a batch starts (while its replacement boots)', (c, abort) => c.on('batch.started', abort)],
      ['while a new instance boots', (c, abort) => c.on('node.phase', (e) => e.phase === 'configuring' && abort())],
      ['as a node is replaced (before the health gate)', (c, abort) => c.on('node.replaced', abort)],
      ['between batches', (c, abort) => c.on('batch.completed', abort)],
    ];
    it.each(abortPoints)('aborted %s: roll.aborted exactly once, no other final event', async (_, when) => {
      const { sim, spec, next } = setup(3);
      const { log, err } = await sim.run(async () => {
        await provision(sim, spec);
        const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
        const log = recordAll(c);
        const ac = new AbortController();
        when(c, () => ac.abort());
        const err = await rollOutcome(c, { signal: ac.signal });
        await sim.clock.sleep(60_000); // nothing comes after it
        return { log, err };
      });
      expect(err).toBeInstanceOf(BerthAbortError);
      expect(finals(log)).toEqual(['roll.aborted']);
      expect(log.at(-1)?.name).toBe('roll.aborted');
      const aborted = of(log, 'roll.aborted')[0]!;
      expect(aborted.report.outcome).toBe('aborted');
      expect((err as { report?: unknown }).report).toBe(aborted.report);
    });

    it('a roll that cannot take the lease (another controller holds it) ends with roll.failed, code LOCK_HELD', async () => {
      const { sim, spec, next } = setup(3);
      const { log, err } = await sim.run(async () => {
        await provision(sim, spec);
        await sim.driver.lock.acquire(next, { holder: 'someone-else', session: 'someone-else-1', ttlMs: 600_000 });
        const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
        const log = recordAll(c);
        const err = await rollOutcome(c, {});
        return { log, err };
      });
      expect((err as { code?: string }).code).toBe('LOCK_HELD');
      expect(finals(log)).toEqual(['roll.failed']);
      const failed = of(log, 'roll.failed')[0]!;
      expect(failed).toMatchObject({ code: 'LOCK_HELD', message: expect.stringContaining('someone-else') });
      expect((err as { report?: unknown }).report).toBe(failed.report);
    });

    it('a signal aborted before roll() starts: it rejects at once and emits nothing', async () => {
      const { sim, next } = setup(3);
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      const log = recordAll(c);
      const ac = new AbortController();
      ac.abort();
      await expect(sim.run(() => c.roll({ signal: ac.signal }))).rejects.toThrow();
      expect(log).toEqual([]);
    });
  });

  it('no batch.started for a batch that never ran (its replacement call did not go through); indices stay gapless', async () => {
    const { sim, spec, next } = setup(3);
    let failures = 1;
    const flaky = wrapped(sim.driver, (op, call) => {
      if (op === 'replaceInstance' && failures-- > 0) return Promise.reject(new BerthDriverError('TerminateInstanceInAutoScalingGroup', 'Throttling', 'Rate exceeded', { throttling: true }));
      return call();
    });
    const { log, report } = await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec: next, driver: flaky, clock: sim.clock, hooks: sim.hooks, holderId: 'roller', runtime: { retry: { maxAttempts: 1 } } });
      const log = recordAll(c);
      return { log, report: await c.roll() };
    });
    expect(report.outcome).toBe('completed');
    expect(of(log, 'roll.waiting').some((e) => /replaceInstance did not go through/.test(e.reason))).toBe(true);
    const started = of(log, 'batch.started');
    const completed = of(log, 'batch.completed');
    expect(started.map((e) => e.index)).toEqual([0, 1, 2]);
    expect(completed.map((e) => e.index)).toEqual([0, 1, 2]);
    expect(report.batches.map((b) => b.index)).toEqual([0, 1, 2]);
    expect(report.batches.every((b) => b.finishedAtMs !== null)).toBe(true);
    // Each batch.started comes right before its first node.replacing.
    for (const s of started) {
      const i = log.findIndex((l) => l.e === s);
      expect(log[i + 1]?.name).toBe('node.replacing');
    }
  });
});
