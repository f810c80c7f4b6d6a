// Blue/green behind a persistent target group in the simulator: the production AWS driver's
// target-group calls on the simulated ELBv2 (health checks that follow each side's members,
// draining for the deregistration delay), IAM evaluated with the generated policies. Ground truth
// is DescribeTargetHealth as the simulated service answers it.
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { BerthDeployError } from '@berth/core';
import { describe, expect, it } from 'vitest';
import type { Simulation } from '../src/index.js';
import { MIN, NEW_IMAGE, OLD_IMAGE, SEC, crashable, dnsSim, launchesPerNode, leftovers, recordEvents, running, tier } from './blue-green-support.js';

const tgArn = (sim: Simulation) => `arn:aws:elasticloadbalancing:${sim.account.region}:${sim.account.accountId}:targetgroup/web/0123456789abcdef`;

function tgTier(sim: Simulation, options: Parameters<typeof tier>[1] = {}) {
  return tier(sim, { traffic: { targetGroupArns: [tgArn(sim)] }, ...options });
}

/** The group's targets as ELBv2 reports them: `instance state`, sorted. */
async function targets(sim: Simulation): Promise<string[]> {
  const r = await sim.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn(sim) }));
  return (r.TargetHealthDescriptions ?? []).map((d) => `${d.Target?.Id} ${d.TargetHealth?.State}`).sort();
}

const healthy = (ids: Record<string, string>) => Object.values(ids).map((id) => `${id} healthy`).sort();

describe('blue/green over target groups', () => {
  it('deploys: blue registered first; then green registered and healthy before blue is deregistered and drained; blue deleted after the window', async () => {
    const sim = dnsSim({ seed: 21 });
    const bg = tgTier(sim);
    const ev = recordEvents(bg);
    const r = await sim.run(async () => {
      const first = await bg.deploy({ image: OLD_IMAGE });
      const afterFirst = await targets(sim);
      const blue = running(sim, 'blue');
      let atShift: string[] = [];
      bg.once('traffic.registered', () => void targets(sim).then((t) => (atShift = t)));
      const plan = await bg.plan({ image: NEW_IMAGE });
      const second = await bg.deploy({ image: NEW_IMAGE });
      await sim.clock.sleep(SEC);
      return { first, afterFirst, blue, atShift, plan, second, after: await targets(sim), status: await bg.status() };
    });
    expect(r.first).toMatchObject({ outcome: 'completed', to: 'blue', live: 'blue' });
    expect(r.afterFirst).toEqual(healthy(r.blue));
    expect(r.plan.steps.find((s) => s.kind === 'shift-traffic')).toMatchObject({ how: "register green's instances in every target group and wait until each is healthy, then deregister blue's and wait out the deregistration delay" });
    // Both sides healthy in the group at the moment green counted as registered: no gap.
    expect(r.atShift.filter((t) => t.endsWith('healthy'))).toHaveLength(6);
    expect(r.second).toMatchObject({ outcome: 'completed', from: 'blue', to: 'green', live: 'green' });
    expect(r.after).toEqual(healthy(running(sim, 'green')));
    expect(leftovers(sim, 'blue')).toEqual([]);
    expect(r.status).toMatchObject({ live: 'green', traffic: { state: 'green', kind: 'target-groups' } });
    // The waits: at least HealthyThresholdCount × interval (5 × 30 s) to healthy, the 300 s deregistration delay.
    const step = (name: string) => r.second.steps.filter((s) => s.step === name).at(-1)?.atMs as number;
    expect(step('traffic.registered') - step('traffic.shifting')).toBeGreaterThanOrEqual(150 * SEC);
    expect(step('traffic.shifted') - step('traffic.deregistering')).toBeGreaterThanOrEqual(300 * SEC);
    expect(ev.names.filter((n) => n.startsWith('traffic.'))).toEqual([
      'traffic.shifting:blue',
      'traffic.registered:blue',
      'traffic.shifted:blue',
      'traffic.shifting:green',
      'traffic.registered:green',
      'traffic.deregistering:blue',
      'traffic.shifted:green',
    ]);
    expect(sim.account.iamDenials()).toEqual([]);
  });

  it('verify says no: green is never registered and deleted; blue stays registered and healthy throughout', async () => {
    const sim = dnsSim({ seed: 22 });
    const bg = tgTier(sim, { hooks: { verify: (side, ctx) => !(side === 'green' && ctx.stage === 'before-shift') } });
    const r = await sim.run(async () => {
      await bg.deploy({ image: OLD_IMAGE });
      const blue = running(sim, 'blue');
      const seen = new Set<string>();
      let polling = true;
      const poll = (async () => {
        while (polling) {
          for (const t of await targets(sim)) seen.add(t);
          await sim.clock.sleep(10 * SEC);
        }
      })();
      const err = await bg.deploy({ image: NEW_IMAGE }).catch((e: unknown) => e);
      polling = false;
      await poll;
      return { blue, err, seen: [...seen].sort() };
    });
    expect(r.err).toMatchObject({ code: 'DEPLOY_FAILED', stage: 'verify', live: 'blue', deleted: 'green' });
    expect(r.seen).toEqual(healthy(r.blue));
    expect(await sim.run(() => targets(sim))).toEqual(healthy(r.blue));
    expect(leftovers(sim, 'green')).toEqual([]);
  });

  it("green's targets never get healthy (its members cut off): green is deregistered and deleted, blue untouched", async () => {
    const sim = dnsSim({ seed: 23 });
    const bg = tgTier(sim, { registerTimeoutMs: 5 * MIN });
    bg.on('side.verified', (e) => {
      if (e.side === 'green') for (const n of ['web-green-1', 'web-green-2', 'web-green-3']) sim.faults.partition(n, 3_600_000);
    });
    const r = await sim.run(async () => {
      await bg.deploy({ image: OLD_IMAGE });
      const blue = running(sim, 'blue');
      const err = await bg.deploy({ image: NEW_IMAGE }).catch((e: unknown) => e);
      await sim.clock.sleep(SEC);
      return { blue, err, after: await targets(sim) };
    });
    expect(r.err).toBeInstanceOf(BerthDeployError);
    expect(r.err).toMatchObject({ stage: 'shift', live: 'blue', shiftedBack: false, deleted: 'green' });
    expect((r.err as Error).message).toMatch(/green's targets were not healthy within 300 s: i-\w+ is (initial|unhealthy)/);
    expect(r.after).toEqual(healthy(r.blue));
    expect(running(sim, 'blue')).toEqual(r.blue);
    expect(leftovers(sim, 'green')).toEqual([]);
  });

  it('a green instance lost in the window: blue is registered again and healthy before green is deregistered; green deleted', async () => {
    const sim = dnsSim({ seed: 24 });
    const bg = tgTier(sim);
    bg.once('window.started', () => void sim.clock.sleep(4 * MIN).then(() => sim.faults.killInstance('web-green-1')));
    const r = await sim.run(async () => {
      await bg.deploy({ image: OLD_IMAGE });
      const blue = running(sim, 'blue');
      let atBack: string[] = [];
      bg.once('traffic.registered', () => void targets(sim).then((t) => (atBack = t)));
      const err = await bg.deploy({ image: NEW_IMAGE }).catch((e: unknown) => e);
      await sim.clock.sleep(SEC);
      return { blue, err, atBack, after: await targets(sim) };
    });
    expect(r.err).toMatchObject({ code: 'DEPLOY_FAILED', stage: 'window', live: 'blue', shiftedBack: true, deleted: 'green' });
    expect((r.err as Error).message).toMatch(/web-green-1/);
    expect(r.after).toEqual(healthy(r.blue));
    expect(running(sim, 'blue')).toEqual(r.blue);
    expect(leftovers(sim, 'green')).toEqual([]);
  });

  it('a crash between registering green and deregistering blue: status says mixed; a new process finishes the shift, the window, and deletes blue', async () => {
    const sim = dnsSim({ seed: 25 });
    let dead = false;
    const kill = new AbortController();
    const first = tgTier(sim, { driver: crashable(sim.driver, () => dead), sessionId: 'run-1', runtime: { retry: { maxAttempts: 1 } }, lockTtlMs: 120_000 });
    first.on('traffic.registered', (e) => {
      if (e.side !== 'green') return;
      dead = true;
      kill.abort(new Error('SIGKILL'));
    });
    const r = await sim.run(async () => {
      await tgTier(sim, { holderId: 'setup' }).deploy({ image: OLD_IMAGE });
      const err = await first.deploy({ image: NEW_IMAGE, signal: kill.signal }).catch((e: unknown) => e);
      const second = tgTier(sim, { holderId: 'deployer-2' });
      const status = await second.status();
      const held = await second.deploy({ image: NEW_IMAGE }).catch((e: unknown) => e);
      await sim.clock.sleep(3 * MIN);
      const plan = await second.plan({ image: NEW_IMAGE });
      const report = await second.deploy({ image: NEW_IMAGE });
      await sim.clock.sleep(SEC);
      return { err, status, held, plan, report, after: await targets(sim) };
    });
    expect(r.err).toBeInstanceOf(Error);
    expect(r.status).toMatchObject({ live: null, traffic: { state: 'mixed' } });
    expect(r.held).toMatchObject({ code: 'LOCK_HELD' });
    expect(r.plan.resume).toMatch(/^a shift to green stopped part-way/);
    expect(r.report).toMatchObject({ outcome: 'completed', from: 'blue', to: 'green', live: 'green' });
    expect(r.after).toEqual(healthy(running(sim, 'green')));
    expect(launchesPerNode(sim, 'green')).toEqual({ 'web-green-1': 1, 'web-green-2': 1, 'web-green-3': 1 });
    expect(leftovers(sim, 'blue')).toEqual([]);
  });

  it('rollback() from another process during the window: blue registered again, green deregistered and kept', async () => {
    const sim = dnsSim({ seed: 26 });
    let dead = false;
    const kill = new AbortController();
    const first = tgTier(sim, { driver: crashable(sim.driver, () => dead), sessionId: 'run-1', runtime: { retry: { maxAttempts: 1 } }, lockTtlMs: 60_000 });
    first.once('window.started', () => {
      dead = true;
      kill.abort(new Error('SIGKILL'));
    });
    const r = await sim.run(async () => {
      await tgTier(sim, { holderId: 'setup' }).deploy({ image: OLD_IMAGE });
      await first.deploy({ image: NEW_IMAGE, signal: kill.signal }).catch(() => undefined);
      await sim.clock.sleep(2 * MIN);
      const ops = tgTier(sim, { holderId: 'operator' });
      const rolled = await ops.rollback();
      await sim.clock.sleep(SEC);
      return { rolled, after: await targets(sim), status: await ops.status() };
    });
    expect(r.rolled).toMatchObject({ live: 'blue', from: 'green' });
    expect(r.after).toEqual(healthy(running(sim, 'blue')));
    expect(r.status.sides.green.exists).toBe(true);
  });
});
