// Issue 10, strategies: canary, bake time, checkpoints, pause/resume, and where status() says the
// roll stands. Every roll runs the production controller and the production AWS driver against
// the simulated account; assertions are on the controller's public events and status(), and on
// the world (which instances run which revision).
import { BerthConfigError, BerthRollHaltedError, computeRevision, createController, formatPlan, type Controller, type ControllerEvents, type RollHold, type RollHooks } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { HOUR, MIN, SEC, cluster, describeOutcome, groupRevision, notOn, provision, within } from './roll-safety-support.js';

type Logged = { name: string; atMs: number; e: unknown };

function log(c: Controller): Logged[] {
  const out: Logged[] = [];
  const names: (keyof ControllerEvents)[] = ['batch.started', 'batch.baking', 'batch.completed', 'roll.held', 'roll.resumed', 'roll.paused', 'node.replaced', 'roll.halted', 'roll.completed'];
  for (const name of names) c.on(name, (e: { atMs: number }) => out.push({ name, atMs: e.atMs, e }));
  return out;
}

const first = (l: Logged[], name: string) => l.find((x) => x.name === name);
const all = (l: Logged[], name: string) => l.filter((x) => x.name === name);

describe('canary', () => {
  it('replaces one node, bakes for holdMs with the health watched, then rolls the rest', async () => {
    const { sim, spec, next } = cluster({ seed: 101 });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      const events = log(c);
      const outcome = await within(sim, c.roll({ maxUnavailable: 2, tolerateAzLoss: false, canary: { holdMs: 20 * MIN } }), 6 * HOUR);
      return { events, outcome: describeOutcome(outcome, sim.clock.now()) };
    });
    expect(r.outcome).toBe('completed');
    const batches = all(r.events, 'batch.started').map((x) => (x.e as ControllerEvents['batch.started']).nodeIds);
    expect(batches[0], 'the canary is one node').toHaveLength(1);
    const held = first(r.events, 'roll.held');
    expect(held?.e).toMatchObject({ kind: 'canary', percent: null, replaced: batches[0], total: 5 });
    expect((held?.e as ControllerEvents['roll.held']).untilMs).toBe((held?.atMs ?? 0) + 20 * MIN);
    // Nothing else starts before the hold is over.
    const second = all(r.events, 'batch.started')[1];
    expect(second && held && second.atMs - held.atMs).toBeGreaterThanOrEqual(20 * MIN);
    expect(first(r.events, 'roll.resumed')?.e).toMatchObject({ by: 'hold-elapsed' });
    expect(notOn(sim, next)).toEqual([]);
  });

  it('without holdMs, holds until resume(): status() says holding after the canary, and no other node is touched meanwhile', async () => {
    const { sim, spec, next } = cluster({ seed: 102 });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller', lockTtlMs: 5 * MIN });
      const events = log(c);
      const rolling = c.roll({ canary: true });
      let heldAt: number | null = null;
      c.on('roll.held', (e) => (heldAt = e.atMs));
      while (heldAt === null) await sim.clock.sleep(10 * SEC);
      // An hour on hold: longer than the lease's TTL, so the lease must be renewed meanwhile.
      await sim.clock.sleep(HOUR);
      const during = await c.status();
      const onNew = next.nodes.filter((n) => sim.world.currentInstance(n.id)?.tags['berth:revision'] === computeRevision(next, n.id)).map((n) => n.id);
      c.resume();
      const outcome = await within(sim, rolling, 6 * HOUR);
      return { events, during, onNew, outcome: describeOutcome(outcome, sim.clock.now()) };
    });
    expect(r.during.roll).toMatchObject({ state: 'holding', total: 5, hold: { kind: 'canary', untilMs: null } });
    expect(r.during.roll?.replaced).toHaveLength(1);
    expect(r.onNew, 'only the canary runs the new revision while held').toEqual(r.during.roll?.replaced);
    expect(r.during.lock).toMatchObject({ holder: 'roller', mine: true });
    expect(r.during.converged).toBe(false);
    expect(first(r.events, 'roll.resumed')?.e).toMatchObject({ by: 'resume' });
    expect(r.outcome).toBe('completed');
    expect(notOn(sim, next)).toEqual([]);
  });

  it('the approve hook lets it go on; it is asked with the hold', async () => {
    const { sim, spec, next } = cluster({ seed: 103 });
    const asked: RollHold[] = [];
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const hooks: RollHooks = {
        ...sim.hooks,
        approve: (hold) => {
          asked.push(hold);
          return asked.length >= 4;
        },
      };
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks, holderId: 'roller' });
      const events = log(c);
      const outcome = await within(sim, c.roll({ canary: { nodes: 2 }, tolerateAzLoss: false, maxUnavailable: 2 }), 6 * HOUR);
      return { events, outcome: describeOutcome(outcome, sim.clock.now()) };
    });
    expect(r.outcome).toBe('completed');
    expect(asked).toHaveLength(4);
    expect(asked[0]).toMatchObject({ kind: 'canary', total: 5, percent: null });
    expect(asked[0]?.replaced).toHaveLength(2);
    expect(first(r.events, 'roll.resumed')?.e).toMatchObject({ by: 'approve' });
  });

  it('a canary that fails during its hold halts the roll and rolls its group back; no other node was touched', async () => {
    const { sim, spec, next } = cluster({ seed: 104 });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      const events = log(c);
      let canary: string | null = null;
      c.on('roll.held', (e) => {
        canary = e.replaced[0] ?? null;
        // Five minutes into the hold, the canary's instance dies.
        void sim.clock.sleep(5 * MIN).then(() => sim.faults.killInstance(canary as string));
      });
      const outcome = await within(sim, c.roll({ canary: { holdMs: 30 * MIN } }), 6 * HOUR);
      return { events, canary: canary as string | null, outcome };
    });
    expect(r.outcome.state).toBe('rejected');
    const err = (r.outcome as { error: unknown }).error;
    expect(err).toBeInstanceOf(BerthRollHaltedError);
    const halt = err as BerthRollHaltedError;
    expect(halt.phase).toBe('bake');
    expect(halt.nodeIds).toEqual([r.canary]);
    expect(halt.message).toMatch(/during the canary hold/);
    expect(halt.rolledBack).toEqual([r.canary]);
    expect(groupRevision(sim, spec, r.canary as string)).toBe(computeRevision(spec, r.canary as string));
    expect(halt.untouched).toHaveLength(4);
    expect(all(r.events, 'batch.started')).toHaveLength(1);
  });
});

describe('bake time', () => {
  it('every batch counts as done only after bakeMs healthy', async () => {
    const { sim, spec, next } = cluster({ seed: 111 });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      const events = log(c);
      const outcome = await within(sim, c.roll({ bakeMs: 10 * MIN }), 12 * HOUR);
      return { events, outcome: describeOutcome(outcome, sim.clock.now()) };
    });
    expect(r.outcome).toBe('completed');
    const baking = all(r.events, 'batch.baking');
    const completed = all(r.events, 'batch.completed');
    expect(baking).toHaveLength(completed.length);
    for (const [i, b] of baking.entries()) {
      const done = completed[i] as Logged;
      expect(done.atMs - b.atMs, `batch ${i + 1} baked`).toBeGreaterThanOrEqual(10 * MIN);
      // The next batch starts only after this one baked.
      const nextStart = all(r.events, 'batch.started')[i + 1];
      if (nextStart) expect(nextStart.atMs).toBeGreaterThanOrEqual(done.atMs);
    }
  });

  it('a node of an earlier batch dying during a bake halts the roll, naming it (the health is watched, not sampled once)', async () => {
    const { sim, spec, next } = cluster({ seed: 112 });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      const events = log(c);
      let victim: string | null = null;
      let bakingAt = 0;
      c.on('batch.baking', (e) => {
        if (all(events, 'batch.baking').length !== 2) return;
        bakingAt = e.atMs;
        // The first batch's node dies 3 minutes into the second batch's bake (of 15).
        victim = (first(events, 'batch.started')?.e as ControllerEvents['batch.started']).nodeIds[0] ?? null;
        void sim.clock.sleep(3 * MIN).then(() => sim.faults.killInstance(victim as string));
      });
      const outcome = await within(sim, c.roll({ bakeMs: 15 * MIN }), 12 * HOUR);
      return { events, victim: victim as string | null, bakingAt, outcome };
    });
    expect(r.outcome.state).toBe('rejected');
    const halt = (r.outcome as { error: unknown }).error as BerthRollHaltedError;
    expect(halt).toBeInstanceOf(BerthRollHaltedError);
    expect(halt.phase).toBe('bake');
    expect(halt.nodeIds).toContain(r.victim);
    expect(halt.message).toMatch(/during the bake after batch \d+/);
    // Halted within one poll interval (10 s) of the loss, long before the bake's end.
    expect((r.outcome as { atMs: number }).atMs - r.bakingAt).toBeLessThan(3 * MIN + 10 * SEC);
    expect(all(r.events, 'batch.started')).toHaveLength(2);
  });

  it('the cluster-health hook saying no during a bake halts the roll, naming the hook', async () => {
    const { sim, spec, next } = cluster({ seed: 113 });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      let bakingSince: number | null = null;
      const hooks: RollHooks = {
        ...sim.hooks,
        clusterHealthy: (ctx) => (bakingSince !== null && sim.clock.now() - bakingSince > 2 * MIN ? false : (sim.hooks.clusterHealthy?.(ctx) ?? true)),
      };
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks, holderId: 'roller' });
      c.on('batch.baking', (e) => (bakingSince = e.atMs));
      const outcome = await within(sim, c.roll({ bakeMs: 10 * MIN }), 12 * HOUR);
      return { outcome };
    });
    const halt = (r.outcome as { error: unknown }).error as BerthRollHaltedError;
    expect(halt).toBeInstanceOf(BerthRollHaltedError);
    expect(halt.phase).toBe('bake');
    expect(halt.hook).toBe('clusterHealthy');
  });
});

describe('checkpoints', () => {
  it('pauses at 40 % (2 of 5 replaced) until resume(), and status() says where the roll stands', async () => {
    const { sim, spec, next } = cluster({ seed: 121 });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      const events = log(c);
      const rolling = c.roll({ checkpoints: [40, 80] });
      const holds: ControllerEvents['roll.held'][] = [];
      const statuses: Awaited<ReturnType<Controller['status']>>[] = [];
      c.on('roll.held', (e) => holds.push(e));
      for (let seen = 0; seen < 2; ) {
        await sim.clock.sleep(10 * SEC);
        if (holds.length > seen) {
          seen = holds.length;
          await sim.clock.sleep(30 * MIN);
          statuses.push(await c.status());
          c.resume();
        }
      }
      const outcome = await within(sim, rolling, 6 * HOUR);
      return { events, holds, statuses, outcome: describeOutcome(outcome, sim.clock.now()) };
    });
    expect(r.outcome).toBe('completed');
    expect(r.holds.map((h) => [h.kind, h.percent, h.replaced.length])).toEqual([
      ['checkpoint', 40, 2],
      ['checkpoint', 80, 4],
    ]);
    expect(r.statuses.map((s) => [s.roll?.state, s.roll?.replaced.length, s.roll?.total, s.roll?.hold?.percent])).toEqual([
      ['holding', 2, 5, 40],
      ['holding', 4, 5, 80],
    ]);
    expect(notOn(sim, next)).toEqual([]);
  });
});

describe('pause and resume', () => {
  it('pause() stops the roll before its next batch, the lease stays held past its TTL, resume() continues', async () => {
    const { sim, spec, next } = cluster({ seed: 131 });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller', lockTtlMs: 2 * MIN });
      const events = log(c);
      const rolling = c.roll();
      c.once('batch.started', () => c.pause());
      while (!first(events, 'roll.paused')) await sim.clock.sleep(10 * SEC);
      const pausedAt = sim.clock.now();
      await sim.clock.sleep(HOUR);
      const during = await c.status();
      const startedWhilePaused = all(events, 'batch.started').filter((x) => x.atMs > pausedAt).length;
      c.resume();
      const outcome = await within(sim, rolling, 6 * HOUR);
      return { events, during, startedWhilePaused, outcome: describeOutcome(outcome, sim.clock.now()) };
    });
    expect(r.startedWhilePaused).toBe(0);
    expect(r.during.roll?.state).toBe('paused');
    expect(r.during.roll?.replaced).toHaveLength(1);
    expect(r.during.lock).toMatchObject({ holder: 'roller', mine: true });
    // The batch in flight finished before the pause took effect.
    expect(first(r.events, 'batch.completed')?.atMs).toBeLessThanOrEqual(first(r.events, 'roll.paused')?.atMs ?? 0);
    expect(first(r.events, 'roll.resumed')?.e).toMatchObject({ by: 'resume' });
    expect(r.outcome).toBe('completed');
  });
});

describe('bad strategy options', () => {
  it('fail before the lock or any call, naming the option', async () => {
    const { sim, next } = cluster({ seed: 141 });
    await sim.run(async () => {
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      const before = JSON.stringify(sim.driver.apiCallCounts?.() ?? {});
      for (const [options, path] of [
        [{ canary: { nodes: 0 } }, 'canary.nodes'],
        [{ canary: { holdMs: -1 } }, 'canary.holdMs'],
        [{ bakeMs: Number.NaN }, 'bakeMs'],
        [{ checkpoints: [50, 100] }, 'checkpoints[1]'],
        [{ checkpoints: [30, 30] }, 'checkpoints'],
      ] as const) {
        const err = await c.roll(options).catch((e: unknown) => e);
        expect(err, JSON.stringify(options)).toBeInstanceOf(BerthConfigError);
        expect((err as BerthConfigError).issues.map((i) => i.path)).toEqual([path]);
        await expect(c.plan(options)).rejects.toBeInstanceOf(BerthConfigError);
      }
      expect(JSON.stringify(sim.driver.apiCallCounts?.() ?? {})).toBe(before);
    });
  });
});

describe('the plan shows the strategy', () => {
  it('canary, its hold, checkpoints and the bake time are in the schedule and in formatPlan', async () => {
    const { sim, spec, next } = cluster({ seed: 151 });
    const plan = await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'planner' });
      return c.plan({ canary: { holdMs: 15 * MIN }, checkpoints: [60], bakeMs: 5 * MIN, maxUnavailable: 2, tolerateAzLoss: false });
    });
    const s = plan.schedule;
    expect(s.canary).toEqual({ nodes: 1, holdMs: 15 * MIN });
    expect(s.bakeMs).toBe(5 * MIN);
    expect(s.batches[0]).toMatchObject({ canary: true, holdAfter: { kind: 'canary', holdMs: 15 * MIN } });
    expect(s.batches[0]?.nodeIds).toHaveLength(1);
    expect(s.batches.slice(1).every((b) => !b.canary)).toBe(true);
    // 60 % of 5 is 3 nodes: the hold follows the batch that brings the count to 3 or more.
    let count = 0;
    const at = s.batches.findIndex((b) => (count += b.nodeIds.length) >= 3);
    expect(s.batches[at]?.holdAfter).toMatchObject({ kind: 'checkpoint', percent: 60, holdMs: null });
    const text = formatPlan(plan);
    expect(text).toMatch(/bake 5m after every batch/);
    expect(text).toMatch(/ 1\. \S+ \([a-z0-9-]+\) {2}canary\n {6}then hold \(canary\): bake 15m, health watched, then go on/);
    expect(text).toMatch(/then hold \(checkpoint 60%\): until resume\(\) or the approve hook says go/);
  });
});
