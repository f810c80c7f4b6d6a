// Issue 9, findings 1–7: hand-written fault schedules on the simulator under which a roll broke
// quorum or misbehaved. Each test places its faults in the roll (through the hooks it passes and
// the events it hears) and asserts on ground truth — the simulated application's members, the
// world's instances and launch templates, the API calls the account answered — and on the
// controller's public API. Finding 8 (the chaos checkers) is tested in the chaos package.
import { ABORT_SETTLE_BOUND_MS, BerthLockError, BerthRollHaltedError, computeRevision, createController, defineCluster, type HookContext, type RollHooks } from '@berth/core';
import { describe, expect, it } from 'vitest';
import {
  HOUR,
  MIN,
  NEW_IMAGE,
  OLD_IMAGE,
  SEC,
  azOf,
  causeCode,
  cluster,
  describeHealth,
  describeOutcome,
  groupRevision,
  healthyMembers,
  later,
  notOn,
  provision,
  recordHealth,
  recordTerminations,
  spareFollowers,
  within,
} from './roll-safety-support.js';

const DRAIN_MS = 15 * SEC; // longer than the controller's default freshness bound (10 s)

describe('finding 1: a disruption is decided on a fresh view, not on the one the batch was planned on', () => {
  it('two followers die while the roll waits at the clusterHealthy gate: the batch planned before is not replaced (5 nodes, maxUnavailable 2)', async () => {
    const { sim, spec, next } = cluster({ seed: 11, profile: 'realistic' });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const health = recordHealth(sim);
      const victims: string[] = [];
      const hooks: RollHooks = {
        ...sim.hooks,
        clusterHealthy: async (ctx) => {
          if (victims.length === 0) {
            // The last two followers by id: a batch of the first two by id (the order before issue 9) leaves them alone.
            victims.push(...spareFollowers(sim).slice(-2));
            for (const v of victims) sim.faults.killInstance(v);
            await sim.clock.sleep(DRAIN_MS, ctx.signal); // a slow application check
          }
          return sim.app.clusterHealthy(); // 3 of 5 healthy, a leader: the application says yes
        },
      };
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks, holderId: 'roller' });
      const outcome = await within(sim, c.roll({ maxUnavailable: 2 }), 6 * HOUR);
      health.stop();
      return { health: health.read(), outcome: describeOutcome(outcome, sim.clock.now()), victims };
    });
    expect(r.victims).toHaveLength(2);
    expect(r.health.lowest.healthy, describeHealth(r.health)).toBeGreaterThanOrEqual(r.health.quorum);
    expect(r.outcome).toBe('completed');
    expect(notOn(sim, next)).toEqual([]);
  });

  it('two followers die during a slow beforeReplace: the node is not replaced on the view taken before the hook (5 nodes, maxUnavailable 2)', async () => {
    const { sim, spec, next } = cluster({ seed: 12, profile: 'realistic' });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const health = recordHealth(sim);
      let batch: readonly string[] = [];
      const victims: string[] = [];
      const hooks: RollHooks = {
        ...sim.hooks,
        beforeReplace: async (nodeId, ctx) => {
          if (victims.length === 0) {
            victims.push(...spareFollowers(sim, [...batch, nodeId]).slice(0, 2));
            later(sim, 5 * SEC, () => victims.forEach((v) => sim.faults.killInstance(v)));
            await sim.clock.sleep(DRAIN_MS, ctx.signal); // draining the node
          }
          await sim.hooks.beforeReplace?.(nodeId, ctx);
        },
      };
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks, holderId: 'roller' });
      const batches: string[][] = [];
      c.on('batch.started', (e) => {
        batches.push([...e.nodeIds]);
        if (batch.length === 0) batch = e.nodeIds;
      });
      // Batches of two, as in the schedule (sizing for an AZ loss would make them one node).
      const outcome = await within(sim, c.roll({ maxUnavailable: 2, tolerateAzLoss: false }), 6 * HOUR);
      health.stop();
      return { health: health.read(), outcome: describeOutcome(outcome, sim.clock.now()), victims, batches };
    });
    expect(r.victims).toHaveLength(2);
    expect(r.health.lowest.healthy, describeHealth(r.health)).toBeGreaterThanOrEqual(r.health.quorum);
    expect(r.outcome).toBe('completed');
    expect(notOn(sim, next)).toEqual([]);
    expect(r.batches.some((b) => b.length === 2), `batches: ${JSON.stringify(r.batches)}`).toBe(true);
  });

  it('a follower is partitioned 1 s after a batch started replacing: no further node is replaced while that leaves less than quorum', async () => {
    const { sim, spec, next } = cluster({ seed: 13, profile: 'realistic' });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const health = recordHealth(sim);
      let batch: readonly string[] = [];
      let victim: string | null = null;
      const hooks: RollHooks = {
        ...sim.hooks,
        beforeReplace: async (nodeId, ctx) => {
          await sim.clock.sleep(DRAIN_MS, ctx.signal); // every node is drained first
          await sim.hooks.beforeReplace?.(nodeId, ctx);
        },
      };
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks, holderId: 'roller' });
      const batches: string[][] = [];
      c.on('batch.started', (e) => {
        batches.push([...e.nodeIds]);
        if (batch.length === 0) batch = e.nodeIds;
      });
      c.on('node.replacing', (e) => {
        if (victim !== null) return;
        victim = spareFollowers(sim, [...batch, e.nodeId])[0] ?? null;
        const v = victim;
        if (v) later(sim, 1 * SEC, () => sim.faults.partition(v, 100 * SEC));
      });
      // Batches of two, as in the schedule (sizing for an AZ loss would make them one node).
      const outcome = await within(sim, c.roll({ maxUnavailable: 2, tolerateAzLoss: false }), 6 * HOUR);
      health.stop();
      return { health: health.read(), outcome: describeOutcome(outcome, sim.clock.now()), victim, batches };
    });
    expect(r.victim).not.toBeNull();
    expect(r.health.lowest.healthy, describeHealth(r.health)).toBeGreaterThanOrEqual(r.health.quorum);
    expect(r.outcome).toBe('completed');
    expect(r.batches[0], 'the first batch').toHaveLength(2);
  });
});

describe('finding 2: the roll holds a live lease at every write, through long hooks and pauses', () => {
  it('a 700 s drain hook (lease 600 s) and a second controller rolling meanwhile: never two members down because of two controllers (3 nodes)', async () => {
    const { sim, spec, next, input } = cluster({ seed: 21 }, { nodes: 3 });
    // Another operator's roll of the same cluster, to a bigger instance type: every node is outdated for it.
    const resize = defineCluster({ ...input, image: NEW_IMAGE, instanceType: 'm6i.xlarge' });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      // The new image boots slowly: the other operator's first replacement is still under way when the drain ends.
      sim.faults.markImageSlow(NEW_IMAGE, 300);
      const health = recordHealth(sim);
      const drained = new Set<string>();
      let second: Promise<unknown> | null = null;
      let secondOutcome = 'never started';
      const hooks: RollHooks = {
        ...sim.hooks,
        beforeReplace: async (nodeId, ctx) => {
          drained.add(nodeId);
          if (drained.size === 2 && second === null) {
            // 620 s into this drain operator B rolls: A's 600 s lease, taken before its first batch, has run out unless renewed.
            const other = createController({ spec: resize, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'operator-b' });
            second = sim.clock.sleep(620 * SEC).then(async () => {
              const o = await within(sim, other.roll({ maxUnavailable: 1 }), 3 * HOUR);
              secondOutcome = describeOutcome(o, sim.clock.now());
            });
            await sim.clock.sleep(700 * SEC, ctx.signal);
          }
          await sim.hooks.beforeReplace?.(nodeId, ctx);
        },
      };
      const a = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks, holderId: 'operator-a', lockTtlMs: 600_000 });
      const first = within(sim, a.roll({ maxUnavailable: 1 }), 3 * HOUR);
      const firstOutcome = describeOutcome(await first, sim.clock.now());
      await within(sim, (second as Promise<unknown> | null) ?? Promise.resolve(), 3 * HOUR);
      health.stop();
      return { health: health.read(), firstOutcome, secondOutcome };
    });
    expect(r.health.lowest.healthy, describeHealth(r.health)).toBeGreaterThanOrEqual(r.health.quorum);
    expect(r.secondOutcome).toMatch(/^BerthLockError LOCK_HELD/);
    expect(r.firstOutcome).toBe('completed');
  });

  it('a beforeReplace hook longer than the lease does not end the roll mid-replacement (700 s hook, 600 s lease)', async () => {
    const { sim, spec, next } = cluster({ seed: 22 }, { nodes: 3 });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      let slow = true;
      const hooks: RollHooks = {
        ...sim.hooks,
        beforeReplace: async (nodeId, ctx) => {
          if (slow) {
            slow = false;
            await sim.clock.sleep(700 * SEC, ctx.signal);
          }
          await sim.hooks.beforeReplace?.(nodeId, ctx);
        },
      };
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks, holderId: 'roller', lockTtlMs: 600_000 });
      const outcome = await within(sim, c.roll({ maxUnavailable: 1 }), 3 * HOUR);
      return { outcome: describeOutcome(outcome, sim.clock.now()) };
    });
    expect(r.outcome).toBe('completed');
    expect(notOn(sim, next)).toEqual([]);
  });

  it('a roll paused for 15 min still holds its lease: another controller cannot take the cluster meanwhile', async () => {
    const { sim, spec, next } = cluster({ seed: 23 }, { nodes: 3 });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller', lockTtlMs: 600_000 });
      let pausedAtMs: number | null = null;
      c.on('batch.completed', () => {
        if (pausedAtMs !== null) return;
        pausedAtMs = sim.clock.now();
        c.pause();
      });
      const rolling = within(sim, c.roll({ maxUnavailable: 1 }), 3 * HOUR);
      while (pausedAtMs === null) await sim.clock.sleep(1 * SEC);
      await sim.clock.sleep(15 * MIN);
      const lease = sim.world.lock(spec.name);
      const now = sim.clock.now();
      const leaseNow = !lease
        ? 'no lease'
        : lease.expiresAtMs <= now
          ? `ran out ${Math.round((now - lease.expiresAtMs) / 1000)} s ago`
          : `held by ${lease.holder}`;
      const other = await sim.driver.lock.acquire(next, { holder: 'operator-c', session: 'operator-c/1', ttlMs: 60_000 }).then(
        async (l) => {
          await sim.driver.lock.release(next, l);
          return 'acquired';
        },
        (e: unknown) => (e instanceof BerthLockError ? e.code : String(e)),
      );
      c.resume();
      const outcome = describeOutcome(await rolling, sim.clock.now());
      return { leaseNow, other, outcome };
    });
    expect(r.leaseNow).toBe('held by roller');
    expect(r.other).toBe('LOCK_HELD');
    expect(r.outcome).toBe('completed');
  });
});

describe('finding 3: two controllers with one holder id are two owners', () => {
  it('a second controller with the same holderId cannot roll while the first holds the lease, and touches nothing', async () => {
    const { sim, spec, next } = cluster({ seed: 31 }, { nodes: 3 });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const health = recordHealth(sim);
      let secondRoll: Promise<unknown> | null = null;
      let secondOutcome = 'never started';
      const touchedBySecond: string[] = [];
      const second = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'ops', sessionId: 'ops@host-2' });
      second.on('node.replacing', (e) => touchedBySecond.push(`replaced ${e.nodeId}`));
      second.on('apply.node', (e) => e.changes.length > 0 && touchedBySecond.push(`changed ${e.nodeId}`));
      const hooks: RollHooks = {
        ...sim.hooks,
        beforeReplace: async (nodeId, ctx) => {
          if (secondRoll === null) {
            // The same operator's job started again on another host, 10 s into the first one's drain.
            secondRoll = sim.clock.sleep(10 * SEC).then(async () => {
              secondOutcome = describeOutcome(await within(sim, second.roll({ maxUnavailable: 1 }), 3 * HOUR), sim.clock.now());
            });
            await sim.clock.sleep(30 * SEC, ctx.signal);
          }
          await sim.hooks.beforeReplace?.(nodeId, ctx);
        },
      };
      const first = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks, holderId: 'ops', sessionId: 'ops@host-1' });
      const firstOutcome = describeOutcome(await within(sim, first.roll({ maxUnavailable: 1 }), 3 * HOUR), sim.clock.now());
      await within(sim, (secondRoll as Promise<unknown> | null) ?? Promise.resolve(), 3 * HOUR);
      health.stop();
      return { secondOutcome, touchedBySecond, firstOutcome, health: health.read() };
    });
    expect(r.secondOutcome).toMatch(/^BerthLockError LOCK_HELD/);
    expect(r.touchedBySecond).toEqual([]);
    expect(r.firstOutcome).toBe('completed');
    expect(r.health.lowest.healthy, describeHealth(r.health)).toBeGreaterThanOrEqual(r.health.quorum);
  });
});

describe('finding 4: hooks run with bounds', () => {
  const hang = (): Promise<never> => new Promise<never>(() => undefined); // ignores ctx.signal, never settles

  it('a beforeReplace hook that ignores its signal halts the roll with HOOK_TIMEOUT naming the hook and the node, and fires the signal', async () => {
    const { sim, spec, next } = cluster({ seed: 41 }, { nodes: 3 });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const terminations = recordTerminations(sim);
      let hooked: { nodeId: string; signal: AbortSignal } | null = null;
      const hooks: RollHooks = {
        ...sim.hooks,
        beforeReplace: (nodeId, ctx) => {
          hooked ??= { nodeId, signal: ctx.signal };
          return hang();
        },
      };
      const hookTimeoutsMs = { beforeReplace: 60 * SEC };
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks, holderId: 'roller', hookTimeoutsMs });
      const outcome = await within(sim, c.roll({ maxUnavailable: 1, hookTimeoutsMs }), 35 * MIN);
      const h = hooked as { nodeId: string; signal: AbortSignal } | null;
      return { outcome, text: describeOutcome(outcome, sim.clock.now()), hooked: h?.nodeId ?? null, signalFired: h?.signal.aborted ?? false, terminated: terminations.map((t) => t.nodeId) };
    });
    expect(r.hooked).not.toBeNull();
    expect(r.text).toMatch(/^BerthRollHaltedError ROLL_HALTED/);
    const err = (r.outcome as { error: BerthRollHaltedError }).error;
    expect({ hook: err.hook, nodeId: err.nodeId, cause: causeCode(err) }).toEqual({ hook: 'beforeReplace', nodeId: r.hooked, cause: 'HOOK_TIMEOUT' });
    expect(r.signalFired).toBe(true);
    expect(r.terminated).toEqual([]);
  });

  it('a clusterHealthy gate that never answers halts the roll with HOOK_TIMEOUT before any node is touched', async () => {
    const { sim, spec, next } = cluster({ seed: 42 }, { nodes: 3 });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const terminations = recordTerminations(sim);
      const hooks: RollHooks = { ...sim.hooks, clusterHealthy: () => hang() };
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks, holderId: 'roller', hookTimeoutsMs: { clusterHealthy: 30 * SEC } });
      const outcome = await within(sim, c.roll({ maxUnavailable: 1 }), 10 * MIN);
      return { outcome, text: describeOutcome(outcome, sim.clock.now()), terminated: terminations.map((t) => t.nodeId) };
    });
    expect(r.text).toMatch(/^BerthRollHaltedError ROLL_HALTED/);
    const err = (r.outcome as { error: BerthRollHaltedError }).error;
    expect({ hook: err.hook, cause: causeCode(err) }).toEqual({ hook: 'clusterHealthy', cause: 'HOOK_TIMEOUT' });
    expect(r.terminated).toEqual([]);
  });

  it(`an abort while a hook ignores its signal: roll() settles within ABORT_SETTLE_BOUND_MS (${ABORT_SETTLE_BOUND_MS} ms) with ABORTED`, async () => {
    const { sim, spec, next } = cluster({ seed: 43 }, { nodes: 3 });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const terminations = recordTerminations(sim);
      const ac = new AbortController();
      let abortedAtMs: number | null = null;
      const hooks: RollHooks = {
        ...sim.hooks,
        beforeReplace: () => {
          if (abortedAtMs === null) {
            later(sim, 5 * SEC, () => {
              abortedAtMs = sim.clock.now();
              ac.abort(new Error('operator pressed stop'));
            });
          }
          return hang();
        },
      };
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks, holderId: 'roller' });
      const outcome = await within(sim, c.roll({ maxUnavailable: 1, signal: ac.signal }), 10 * MIN);
      const settledAfterMs = outcome.state === 'pending' || abortedAtMs === null ? null : outcome.atMs - abortedAtMs;
      return { text: describeOutcome(outcome, sim.clock.now()), settledAfterMs, abortedAtMs, terminated: terminations.map((t) => t.nodeId) };
    });
    expect(r.abortedAtMs).not.toBeNull();
    expect(r.text).toMatch(/ABORTED/);
    expect(r.settledAfterMs).not.toBeNull();
    expect(r.settledAfterMs as number).toBeLessThanOrEqual(ABORT_SETTLE_BOUND_MS);
    expect(r.terminated).toEqual([]);
  });
});

describe('finding 5: an announced spot interruption counts as a disruption', () => {
  it('a spot notice mid-roll: no batch starts that leaves quorum at risk when the noticed node goes (3 nodes)', async () => {
    const { sim, spec, next } = cluster({ seed: 51, profile: 'realistic', spot: true }, { nodes: 3 });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      sim.faults.markImageSlow(NEW_IMAGE, 2); // replacements outlast the 2-minute notice
      const health = recordHealth(sim);
      let noticed: string | null = null;
      let gateSlowed = false;
      const hooks: RollHooks = {
        ...sim.hooks,
        clusterHealthy: async (ctx: HookContext) => {
          // The first gate after the notice takes longer than the freshness bound: the controller must have seen it.
          if (noticed !== null && !gateSlowed) {
            gateSlowed = true;
            await sim.clock.sleep(DRAIN_MS, ctx.signal);
          }
          return sim.app.clusterHealthy();
        },
      };
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks, holderId: 'roller' });
      c.on('batch.completed', (e) => {
        if (noticed !== null) return;
        noticed = e.nodeIds[0] ?? null; // the node just replaced (a spot instance) gets its 2-minute warning
        if (noticed) sim.faults.spotInterrupt(noticed);
      });
      const outcome = await within(sim, c.roll({ maxUnavailable: 1 }), 6 * HOUR);
      health.stop();
      return { health: health.read(), outcome: describeOutcome(outcome, sim.clock.now()), noticed };
    });
    expect(r.noticed).not.toBeNull();
    expect(r.health.lowest.healthy, describeHealth(r.health)).toBeGreaterThanOrEqual(r.health.quorum);
    expect(r.outcome).toBe('completed');
  });

  it('watch() replaces a spot-noticed node gracefully (beforeReplace, then its own termination) before the 2-minute deadline', async () => {
    const { sim, spec } = cluster({ seed: 52, profile: 'realistic', spot: true }, { nodes: 3 });
    const noticeMs = sim.options.timings.spotNoticeMs;
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const health = recordHealth(sim);
      const terminations = recordTerminations(sim);
      const before: { nodeId: string; atMs: number }[] = [];
      const hooks: RollHooks = {
        ...sim.hooks,
        beforeReplace: async (nodeId, ctx) => {
          before.push({ nodeId, atMs: sim.clock.now() });
          await sim.hooks.beforeReplace?.(nodeId, ctx);
        },
      };
      const c = createController({ spec, driver: sim.driver, clock: sim.clock, hooks, holderId: 'watcher' });
      const ac = new AbortController();
      const watching = c.watch({ signal: ac.signal, intervalMs: 5 * SEC });
      await sim.clock.sleep(30 * SEC);
      const victim = spareFollowers(sim)[0] as string;
      const noticedInstance = sim.world.currentInstance(victim)?.id ?? null;
      const deadline = sim.clock.now() + noticeMs;
      sim.faults.spotInterrupt(victim);
      await sim.clock.sleep(noticeMs + 10 * MIN);
      ac.abort();
      await within(sim, watching, 1 * MIN);
      health.stop();
      return {
        victim,
        deadline,
        hookedInTime: before.filter((b) => b.nodeId === victim && b.atMs < deadline).map((b) => b.nodeId),
        terminatedInTime: terminations.filter((t) => t.instanceId === noticedInstance && t.atMs < deadline).map((t) => t.nodeId),
        healthyNow: healthyMembers(sim).length,
        health: health.read(),
      };
    });
    expect(r.hookedInTime).toEqual([r.victim]);
    expect(r.terminatedInTime).toEqual([r.victim]);
    expect(r.healthyNow).toBe(3);
    expect(r.health.lowest.healthy, describeHealth(r.health)).toBeGreaterThanOrEqual(r.health.quorum);
  });
});

describe('finding 6: a halted roll leaves the untouched nodes on the revision they run, and rolls the failed one back', () => {
  it('after a bad-image halt, the groups of untouched nodes still launch the old revision and the failed node is rolled back', async () => {
    const { sim, spec, next } = cluster({ seed: 61 });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      sim.faults.markImageBad(NEW_IMAGE, { phase: 'mounting', reason: 'mkfs.xfs: device busy' });
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      const outcome = await within(sim, c.roll({ maxUnavailable: 1 }), 3 * HOUR);
      const launchesNew = spec.nodes.filter((n) => groupRevision(sim, spec, n.id) === computeRevision(next, n.id)).map((n) => n.id);
      return { outcome, text: describeOutcome(outcome, sim.clock.now()), launchesNew };
    });
    expect(r.text).toMatch(/^BerthRollHaltedError ROLL_HALTED/);
    const err = (r.outcome as { error: BerthRollHaltedError }).error;
    const failed = err.nodeId as string;
    const others = spec.nodes.map((n) => n.id).filter((id) => id !== failed);
    // Ground truth: no group launches the bad revision any more.
    expect(r.launchesNew, 'nodes whose Auto Scaling group launches the new (bad) revision after the halt').toEqual([]);
    expect({ rolledBack: [...err.rolledBack], untouched: [...err.untouched].sort() }).toEqual({ rolledBack: [failed], untouched: others });
  });

  it('after a bad-image halt, an unrelated instance loss relaunches on the old image and the cluster returns to full strength', async () => {
    const { sim, spec, next } = cluster({ seed: 62 });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      sim.faults.markImageBad(NEW_IMAGE, { phase: 'mounting', reason: 'mkfs.xfs: device busy' });
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      const outcome = await within(sim, c.roll({ maxUnavailable: 1, onFailure: 'rollback' }), 3 * HOUR);
      const failed = outcome.state === 'rejected' && outcome.error instanceof BerthRollHaltedError ? outcome.error.nodeId : null;
      // EC2 loses another node's instance after the halt; its group relaunches it.
      const victim = spareFollowers(sim, failed ? [failed] : [])[0] as string;
      const lost = sim.world.currentInstance(victim)?.id;
      sim.faults.killInstance(victim);
      let relaunched = sim.world.currentInstance(victim);
      for (let i = 0; i < 600 && (!relaunched || relaunched.id === lost); i++) {
        await sim.clock.sleep(1 * SEC);
        relaunched = sim.world.currentInstance(victim);
      }
      const relaunchedImage = relaunched && relaunched.id !== lost ? relaunched.imageId : null;
      // Then: every member back (the failed node on its old revision too), within 5 min.
      for (let i = 0; i < 300 && healthyMembers(sim).length < spec.nodes.length; i++) await sim.clock.sleep(1 * SEC);
      return { text: describeOutcome(outcome, sim.clock.now()), failed, victim, relaunchedImage, healthy: healthyMembers(sim).length, failedImage: failed ? (sim.world.currentInstance(failed)?.imageId ?? null) : null };
    });
    expect(r.text).toMatch(/^BerthRollHaltedError ROLL_HALTED/);
    expect(r.failed).not.toBeNull();
    expect(r.relaunchedImage, `image of ${r.victim}'s relaunched instance`).toBe(OLD_IMAGE);
    expect(r.healthy).toBe(spec.nodes.length);
    expect(r.failedImage).toBe(OLD_IMAGE);
  });
});

describe('finding 7: batches are AZ-aware', () => {
  it('5 nodes over 3 AZs, maxUnavailable 2: no batch contains nodes of two AZs', async () => {
    const { sim, spec, next } = cluster({ seed: 71 });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const health = recordHealth(sim);
      const batches: string[][] = [];
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      c.on('batch.started', (e) => batches.push([...e.nodeIds]));
      const outcome = await within(sim, c.roll({ maxUnavailable: 2 }), 3 * HOUR);
      health.stop();
      return { batches, outcome: describeOutcome(outcome, sim.clock.now()), health: health.read() };
    });
    const spanning = r.batches.filter((b) => new Set(b.map((id) => azOf(spec, id))).size > 1).map((b) => b.map((id) => `${id}@${azOf(spec, id)}`).join(' + '));
    expect(spanning, 'batches spanning two AZs').toEqual([]);
    expect(r.outcome).toBe('completed');
    expect(r.batches.flat().sort()).toEqual(spec.nodes.map((n) => n.id).sort());
    expect(r.health.lowest.healthy, describeHealth(r.health)).toBeGreaterThanOrEqual(r.health.quorum);
  });

  it("waves: 'az' rolls one AZ at a time (the leader, replaced last, aside)", async () => {
    const { sim, spec, next } = cluster({ seed: 72 });
    const r = await sim.run(async () => {
      await provision(sim, spec);
      const batches: { nodeIds: string[]; leader: string | null }[] = [];
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      c.on('batch.started', (e) => batches.push({ nodeIds: [...e.nodeIds], leader: sim.app.leaderId() }));
      const outcome = await within(sim, c.roll({ maxUnavailable: 1, waves: 'az' }), 3 * HOUR);
      return { batches, outcome: describeOutcome(outcome, sim.clock.now()) };
    });
    // The AZ of every batch but the leader's (the last one: the leader is replaced last; the app
    // may have handed leadership on in beforeReplace by the time the batch starts), in roll order;
    // each AZ must form one run.
    const last = r.batches[r.batches.length - 1];
    expect(last?.nodeIds.length, 'the leader goes alone, last').toBe(1);
    const azs = r.batches.slice(0, -1).map((b) => [...new Set(b.nodeIds.map((id) => azOf(spec, id)))].join('+'));
    const runs = azs.filter((az, i) => i === 0 || az !== azs[i - 1]);
    expect(runs, `AZ of each batch in order: ${azs.join(', ')}`).toEqual([...new Set(runs)]);
    expect(r.outcome).toBe('completed');
  });
});
