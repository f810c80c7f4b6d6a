// Blue/green over a DNS record in the simulator: the production AWS driver over the simulated
// account, Route 53 propagation included; ground truth is what a resolver answers (changes count
// once INSYNC) and the world's instances, groups, ENIs and volumes.
import { BerthDeployError, formatBlueGreenPlan, type DeployReport } from '@berth/core';
import { describe, expect, it } from 'vitest';
import {
  HOUR,
  MIN,
  NEW_IMAGE,
  OLD_IMAGE,
  RECORD,
  crashable,
  dnsSim,
  ipsOf,
  launched,
  launchesPerNode,
  leftovers,
  recordEvents,
  resolved,
  running,
  sideInput,
  tier,
  ZONE,
} from './blue-green-support.js';

describe('blue/green over DNS', () => {
  it('deploys: a first deploy brings blue up and points the record at it; the next brings green up, switches the record, waits out the TTL, keeps blue for the window, then deletes it', async () => {
    const sim = dnsSim({ seed: 3 });
    const bg = tier(sim);
    const ev = recordEvents(bg);
    const r = await sim.run(async () => {
      const first = await bg.deploy({ image: OLD_IMAGE });
      const afterFirst = resolved(sim);
      const plan = await bg.plan({ image: NEW_IMAGE });
      const blueBefore = running(sim, 'blue');
      let blueAtWindow: Record<string, string> = {};
      bg.once('window.started', () => (blueAtWindow = running(sim, 'blue')));
      const second = await bg.deploy({ image: NEW_IMAGE });
      const status = await bg.status();
      const again = await bg.deploy({ image: NEW_IMAGE });
      return { first, afterFirst, plan, blueBefore, blueAtWindow, second, status, again };
    });
    expect(r.first).toMatchObject({ outcome: 'completed', from: null, to: 'blue', live: 'blue', deleted: [] });
    expect(r.afterFirst).toEqual(ipsOf('blue'));

    // The plan said what happens, in order, deletion included.
    expect(r.plan.target).toBe('green');
    expect(r.plan.steps.map((s) => s.kind)).toEqual(['create-side', 'wait-healthy', 'verify', 'shift-traffic', 'rollback-window', 'delete-side']);
    expect(r.plan.changes).toEqual([{ field: 'image', from: OLD_IMAGE, to: NEW_IMAGE }]);
    const text = formatBlueGreenPlan(r.plan);
    expect(text).toContain('+ create green (web-green, 3 nodes');
    expect(text).toContain(`~ shift traffic blue → green: UPSERT ${RECORD} A`);
    expect(text).toContain('- delete blue (web-blue, 3 nodes: web-blue-1, web-blue-2, web-blue-3; data volumes: delete) after the rollback window');

    expect(r.second).toMatchObject({ outcome: 'completed', from: 'blue', to: 'green', live: 'green' });
    expect(r.second.deleted.map((d) => d.side)).toEqual(['blue']);
    expect(resolved(sim)).toEqual(ipsOf('green'));
    expect(leftovers(sim, 'blue')).toEqual([]);
    expect(Object.keys(running(sim, 'green')).sort()).toEqual(['web-green-1', 'web-green-2', 'web-green-3']);
    for (const id of Object.values(running(sim, 'green'))) expect(sim.world.instance(id)?.imageId).toBe(NEW_IMAGE);
    // Blue kept serving through the shift: none of its instances was replaced.
    expect(r.blueAtWindow).toEqual(r.blueBefore);

    // The wait after the switch: propagation (60 s) + the old TTL (60 s); then the window (30 min).
    const dnsAt = r.second.steps.find((s) => s.step === 'traffic.dns')?.atMs as number;
    const shiftedAt = r.second.steps.find((s) => s.step === 'traffic.shifted')?.atMs as number;
    const windowAt = r.second.steps.find((s) => s.step === 'window.started')?.atMs as number;
    const deletingAt = r.second.steps.filter((s) => s.step === 'side.deleting').at(-1)?.atMs as number;
    expect(shiftedAt - dnsAt).toBeGreaterThanOrEqual(120_000);
    expect(deletingAt - windowAt).toBeGreaterThanOrEqual(30 * MIN);

    expect(r.status.live).toBe('green');
    expect(r.status.sides.blue.exists).toBe(false);
    expect(r.status.sides.green).toMatchObject({ healthy: 3, total: 3, images: [NEW_IMAGE] });
    expect(r.again.outcome).toBe('no-change');
    // The generated policies (each side's, and iamPolicyFor(bg.trafficSpec)) allowed every call.
    expect(sim.account.iamDenials()).toEqual([]);
    expect(ev.names.filter((n) => n.startsWith('traffic.') || n.startsWith('window.'))).toEqual([
      'traffic.shifting:blue',
      'traffic.dns',
      'traffic.shifted:blue',
      'traffic.shifting:green',
      'traffic.dns',
      'traffic.shifted:green',
      'window.started',
      'window.ended',
    ]);
  });

  it('verify says no: green is deleted, blue and the record untouched', async () => {
    const sim = dnsSim({ seed: 4 });
    const bg = tier(sim, { hooks: { verify: (side, ctx) => !(side === 'green' && ctx.stage === 'before-shift') } });
    const r = await sim.run(async () => {
      await bg.deploy({ image: OLD_IMAGE });
      const blue = running(sim, 'blue');
      const err = await bg.deploy({ image: NEW_IMAGE }).catch((e: unknown) => e);
      return { blue, err };
    });
    expect(r.err).toBeInstanceOf(BerthDeployError);
    expect(r.err).toMatchObject({ code: 'DEPLOY_FAILED', stage: 'verify', side: 'green', live: 'blue', shiftedBack: false, deleted: 'green' });
    expect((r.err as Error).message).toContain('verify said no. Traffic stays on blue, untouched; green was deleted');
    expect(resolved(sim)).toEqual(ipsOf('blue'));
    expect(running(sim, 'blue')).toEqual(r.blue);
    expect(leftovers(sim, 'green')).toEqual([]);
  });

  it('a new image that fails its boot: the deploy fails fast, green deleted, blue untouched', async () => {
    const sim = dnsSim({ seed: 5 });
    const bg = tier(sim);
    const r = await sim.run(async () => {
      await bg.deploy({ image: OLD_IMAGE });
      const blue = running(sim, 'blue');
      sim.faults.markImageBad(NEW_IMAGE, { phase: 'configuring', reason: 'config template missing' });
      const err = await bg.deploy({ image: NEW_IMAGE }).catch((e: unknown) => e);
      return { blue, err };
    });
    expect(r.err).toMatchObject({ code: 'DEPLOY_FAILED', stage: 'healthy', live: 'blue', deleted: 'green' });
    expect((r.err as Error).message).toContain('config template missing');
    expect(resolved(sim)).toEqual(ipsOf('blue'));
    expect(running(sim, 'blue')).toEqual(r.blue);
    expect(leftovers(sim, 'green')).toEqual([]);
  });

  it('keepFailedSide: the failed green stays; the next deploy of that revision picks it up without launching anything new', async () => {
    const sim = dnsSim({ seed: 6 });
    let allow = false;
    const bg = tier(sim, { keepFailedSide: true, hooks: { verify: (side) => side === 'blue' || allow } });
    const r = await sim.run(async () => {
      await bg.deploy({ image: OLD_IMAGE });
      const err = await bg.deploy({ image: NEW_IMAGE }).catch((e: unknown) => e);
      const kept = running(sim, 'green');
      allow = true;
      const plan = await bg.plan({ image: NEW_IMAGE });
      const report = await bg.deploy({ image: NEW_IMAGE });
      return { err, kept, plan, report };
    });
    expect(r.err).toMatchObject({ stage: 'verify', deleted: null });
    expect(Object.keys(r.kept)).toHaveLength(3);
    expect(r.plan.resume).toContain('green exists on the requested revision with no traffic');
    expect(r.report.outcome).toBe('completed');
    expect(launched(sim, 'green').sort()).toEqual(Object.values(r.kept).sort());
    expect(resolved(sim)).toEqual(ipsOf('green'));
  });

  it('a green node lost in the rollback window: traffic goes back to blue automatically, green is deleted, and the error says so', async () => {
    const sim = dnsSim({ seed: 7 });
    const bg = tier(sim);
    const r = await sim.run(async () => {
      await bg.deploy({ image: OLD_IMAGE });
      const blue = running(sim, 'blue');
      bg.once('window.started', () => void sim.clock.sleep(5 * MIN).then(() => sim.faults.killInstance('web-green-2')));
      const events = recordEvents(bg);
      const err = await bg.deploy({ image: NEW_IMAGE }).catch((e: unknown) => e);
      return { blue, err, events };
    });
    expect(r.err).toMatchObject({ code: 'DEPLOY_FAILED', stage: 'window', side: 'green', live: 'blue', shiftedBack: true, deleted: 'green' });
    expect((r.err as Error).message).toMatch(/web-green-2 is .*Traffic went back to blue; green was deleted/);
    expect(r.events.names).toContain('traffic.shifted-back:blue');
    expect(resolved(sim)).toEqual(ipsOf('blue'));
    expect(running(sim, 'blue')).toEqual(r.blue);
    expect(leftovers(sim, 'green')).toEqual([]);
    expect((r.err as BerthDeployError).report?.outcome).toBe('failed');
  });

  it('rollback() during the window: the deploy resolves rolled-back with traffic on blue', async () => {
    const sim = dnsSim({ seed: 8 });
    const bg = tier(sim);
    const r = await sim.run(async () => {
      await bg.deploy({ image: OLD_IMAGE });
      let rolled: Promise<unknown> | null = null;
      bg.once('window.started', () => {
        rolled = sim.clock.sleep(10 * MIN).then(() => bg.rollback({ reason: 'error rate up on the dashboard' }));
      });
      const report: DeployReport = await bg.deploy({ image: NEW_IMAGE });
      return { report, rolled: await rolled };
    });
    expect(r.report).toMatchObject({ outcome: 'rolled-back', from: 'blue', to: 'green', live: 'blue' });
    expect(r.rolled).toMatchObject({ live: 'blue', from: 'green' });
    expect(resolved(sim)).toEqual(ipsOf('blue'));
    expect(leftovers(sim, 'green')).toEqual([]);
  });

  it('a crash after the record switched: another process picks up — the window starts again, then blue is deleted; nothing is launched twice', async () => {
    const sim = dnsSim({ seed: 9 });
    let dead = false;
    const first = tier(sim, { driver: crashable(sim.driver, () => dead), sessionId: 'run-1', runtime: { retry: { maxAttempts: 1 } }, lockTtlMs: 120_000 });
    const kill = new AbortController();
    first.once('traffic.dns', () => {
      dead = true;
      kill.abort(new Error('SIGKILL'));
    });
    const r = await sim.run(async () => {
      await tier(sim, { holderId: 'setup' }).deploy({ image: OLD_IMAGE });
      const err = await first.deploy({ image: NEW_IMAGE, signal: kill.signal }).catch((e: unknown) => e);
      const green = running(sim, 'green');
      // A new process: another holder, so it waits until the dead one's lease has expired.
      const second = tier(sim, { holderId: 'deployer-2' });
      const held = await second.deploy({ image: NEW_IMAGE }).catch((e: unknown) => e);
      await sim.clock.sleep(3 * MIN);
      const status = await second.status();
      const plan = await second.plan({ image: NEW_IMAGE });
      const report = await second.deploy({ image: NEW_IMAGE });
      return { err, green, held, status, plan, report };
    });
    expect(r.err).toBeInstanceOf(Error);
    expect(r.held).toMatchObject({ code: 'LOCK_HELD' });
    expect(r.status.live).toBe('green');
    expect(r.status.sides.blue.exists).toBe(true);
    expect(r.plan.resume).toContain('traffic already goes to green');
    expect(r.plan.steps.map((s) => s.kind)).toEqual(['settle', 'rollback-window', 'delete-side']);
    expect(r.report).toMatchObject({ outcome: 'completed', to: 'green', live: 'green' });
    expect(r.report.deleted.map((d) => d.side)).toEqual(['blue']);
    expect(launched(sim, 'green').sort()).toEqual(Object.values(r.green).sort());
    expect(launchesPerNode(sim, 'green')).toEqual({ 'web-green-1': 1, 'web-green-2': 1, 'web-green-3': 1 });
    expect(leftovers(sim, 'blue')).toEqual([]);
    expect(resolved(sim)).toEqual(ipsOf('green'));
  });

  it('a crash while green boots: the same process identity resumes at once and finishes the deploy', async () => {
    const sim = dnsSim({ seed: 10 });
    let dead = false;
    const first = tier(sim, { driver: crashable(sim.driver, () => dead), sessionId: 'run-1', runtime: { retry: { maxAttempts: 1 } } });
    const kill = new AbortController();
    first.once('side.waiting', (e) => {
      if (e.side !== 'green') return;
      dead = true;
      kill.abort(new Error('SIGKILL'));
    });
    const r = await sim.run(async () => {
      await tier(sim, { holderId: 'setup' }).deploy({ image: OLD_IMAGE });
      const err = await first.deploy({ image: NEW_IMAGE, signal: kill.signal }).catch((e: unknown) => e);
      const again = tier(sim, { sessionId: 'run-1' });
      const plan = await again.plan({ image: NEW_IMAGE });
      const report = await again.deploy({ image: NEW_IMAGE });
      return { err, plan, report };
    });
    expect(r.err).toBeInstanceOf(Error);
    expect(r.plan.resume).toContain('green exists on the requested revision with no traffic');
    expect(r.report).toMatchObject({ outcome: 'completed', live: 'green' });
    expect(launchesPerNode(sim, 'green')).toEqual({ 'web-green-1': 1, 'web-green-2': 1, 'web-green-3': 1 });
    expect(resolved(sim)).toEqual(ipsOf('green'));
    expect(leftovers(sim, 'blue')).toEqual([]);
  });

  it('rollback() from another process after a crash in the window: traffic goes back to blue; green stays until deleteIdle()', async () => {
    const sim = dnsSim({ seed: 11 });
    let dead = false;
    const first = tier(sim, { driver: crashable(sim.driver, () => dead), sessionId: 'run-1', runtime: { retry: { maxAttempts: 1 } }, lockTtlMs: 60_000 });
    first.once('window.started', () => (dead = true));
    const r = await sim.run(async () => {
      await tier(sim, { holderId: 'setup' }).deploy({ image: OLD_IMAGE });
      await first.deploy({ image: NEW_IMAGE }).catch(() => undefined);
      await sim.clock.sleep(2 * MIN);
      const ops = tier(sim, { holderId: 'operator' });
      const rolled = await ops.rollback();
      const status = await ops.status();
      const deleted = await ops.deleteIdle();
      const nothing = await ops.rollback().catch((e: unknown) => e);
      return { rolled, status, deleted, nothing };
    });
    expect(r.rolled).toMatchObject({ live: 'blue', from: 'green' });
    expect(r.status.live).toBe('blue');
    expect(r.status.sides.green.exists).toBe(true);
    expect(r.deleted?.side).toBe('green');
    expect(leftovers(sim, 'green')).toEqual([]);
    expect(resolved(sim)).toEqual(ipsOf('blue'));
    expect(r.nothing).toMatchObject({ code: 'DEPLOY_FAILED', stage: 'rollback' });
    expect((r.nothing as Error).message).toContain('nothing to roll back to: web-green (green) does not exist');
  });

  it('a third deploy goes back to blue; sides with records of their own in the zone keep them right, and lose them with the side', async () => {
    const sim = dnsSim({ seed: 12 });
    const bg = tier(sim, { rollbackWindowMs: 5 * MIN, blue: sideInput('blue', OLD_IMAGE, { dns: true }), green: sideInput('green', OLD_IMAGE, { dns: true }) });
    const third = 'ami-0aaaaaaaaaaaaaaaa';
    const r = await sim.run(async () => {
      await bg.deploy({ image: OLD_IMAGE });
      await bg.deploy({ image: NEW_IMAGE });
      const report = await bg.deploy({ image: third });
      return { report };
    });
    expect(r.report).toMatchObject({ outcome: 'completed', from: 'green', to: 'blue', live: 'blue' });
    expect(resolved(sim)).toEqual(ipsOf('blue'));
    for (const id of Object.values(running(sim, 'blue'))) expect(sim.world.instance(id)?.imageId).toBe(third);
    expect(leftovers(sim, 'green')).toEqual([]);
    expect(sim.clock.now() - sim.options.startTimeMs).toBeLessThan(3 * HOUR);
    const records = sim.world.dnsRecords(ZONE).map((rr) => `${rr.name} ${[...rr.values].sort().join(',')}`);
    expect(records.filter((rr) => rr.includes('green'))).toEqual([]);
    expect(records).toContain(`web-blue.example.com. ${ipsOf('blue').join(',')}`);
    expect(records).toContain(`${RECORD}. ${ipsOf('blue').join(',')}`);
  });

  it('rollback() while green boots: the deploy stops before any shift, green is deleted, the record never moved', async () => {
    const sim = dnsSim({ seed: 13 });
    const bg = tier(sim);
    const r = await sim.run(async () => {
      await bg.deploy({ image: OLD_IMAGE });
      let rolled: Promise<unknown> | null = null;
      bg.once('side.waiting', () => (rolled = bg.rollback({ reason: 'wrong build' })));
      const events = recordEvents(bg);
      const report = await bg.deploy({ image: NEW_IMAGE });
      return { report, rolled: await rolled, events };
    });
    expect(r.report).toMatchObject({ outcome: 'rolled-back', from: 'blue', to: 'green', live: 'blue', shiftedAtMs: null });
    expect(r.rolled).toMatchObject({ live: 'blue', from: null });
    expect(r.events.names.some((n) => n.startsWith('traffic.'))).toBe(false);
    expect(resolved(sim)).toEqual(ipsOf('blue'));
    expect(leftovers(sim, 'green')).toEqual([]);
  });

  it('an idle side kept on another revision is deleted first (in the plan), then created on the new one', async () => {
    const sim = dnsSim({ seed: 14 });
    const third = 'ami-0aaaaaaaaaaaaaaaa';
    const bg = tier(sim, { keepFailedSide: true, hooks: { verify: (_side, ctx) => ctx.spec.image !== NEW_IMAGE } });
    const r = await sim.run(async () => {
      await bg.deploy({ image: OLD_IMAGE });
      await bg.deploy({ image: NEW_IMAGE }).catch(() => undefined);
      const kept = Object.values(running(sim, 'green')).sort();
      const plan = await bg.plan({ image: third });
      const report = await bg.deploy({ image: third });
      return { kept, plan, report };
    });
    expect(r.kept).toHaveLength(3);
    expect(r.plan.steps[0]).toMatchObject({ kind: 'delete-side', side: 'green', when: 'now' });
    expect(formatBlueGreenPlan(r.plan)).toMatch(/1\. - delete green \(web-green, 3 nodes: .*\) now: it takes no traffic and runs another revision \(images ami-0fedcba9876543210\)/);
    expect(r.report).toMatchObject({ outcome: 'completed', live: 'green' });
    expect(r.report.deleted.map((d) => d.side)).toEqual(['green', 'blue']);
    for (const id of r.kept) expect(Object.values(running(sim, 'green'))).not.toContain(id);
    for (const id of Object.values(running(sim, 'green'))) expect(sim.world.instance(id)?.imageId).toBe(third);
  });
});
