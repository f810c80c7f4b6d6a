import { createController, defineCluster } from '@berth/core';
import { createSimulation, simulatedClusterInput } from '@berth/sim-driver';
import { describe, expect, it } from 'vitest';
import { createDriverInjector, createSimInjector, GameDayError, runGameDay, type Fault, type GameDayPlan } from '../src/index.js';

async function staging(nodes = 5) {
  const sim = createSimulation({ seed: 9, profile: 'fast' });
  const spec = defineCluster({ ...simulatedClusterInput({ nodes, name: 'gd' }), tags: { env: 'staging' } });
  await sim.run(async () => {
    await createController({ spec, driver: sim.driver, clock: sim.clock, holderId: 'setup' }).apply();
    while (!(sim.app.clusterHealthy() && spec.nodes.every((n) => sim.world.currentInstance(n.id)?.lifecycleState === 'InService'))) await sim.clock.sleep(1_000);
  });
  return { sim, spec, base: { spec, driver: sim.driver, clock: sim.clock, injector: createSimInjector(sim) } };
}
const kill = (nodeId: string, atMs: number): Fault => ({ kind: 'kill-instance', nodeId, atMs, stabilityMs: 2_000 });
const plan = (steps: Fault[], extra: Partial<GameDayPlan> = {}): GameDayPlan => ({ name: 'test', targetTags: { env: 'staging' }, steps, ...extra });
const faultsIn = (trace: readonly { kind: string }[]) => trace.filter((e) => e.kind.startsWith('fault.')).length;

describe('runGameDay', () => {
  it('plays a schedule and reports what it did', async () => {
    const { sim, base } = await staging();
    const r = await sim.run(() => runGameDay(plan([kill('gd-2', 0), { kind: 'partition', nodeId: 'gd-4', durationMs: 3_000, atMs: 5_000, stabilityMs: 1_000 }]), base));
    expect(r.stopped?.detail ?? null).toBeNull();
    expect(r.actions.map((a) => a.status)).toEqual(['injected', 'injected']);
    expect(faultsIn(sim.trace)).toBe(2);
  });

  it('a dry run lists the actions and injects nothing', async () => {
    const { sim, base } = await staging();
    const r = await sim.run(() => runGameDay(plan([kill('gd-2', 0), kill('gd-3', 60_000)]), { ...base, dryRun: true }));
    expect(r.actions.map((a) => a.description)).toEqual(['+0s kill-instance gd-2', '+1m kill-instance gd-3']);
    expect(r.actions.every((a) => a.status === 'would-inject')).toBe(true);
    expect(faultsIn(sim.trace)).toBe(0);
  });

  it('selects the target by tags and refuses a cluster without them', async () => {
    const { sim, base } = await staging();
    await expect(sim.run(() => runGameDay({ ...plan([kill('gd-1', 0)]), targetTags: { env: 'production' } }, base))).rejects.toMatchObject({ code: 'NO_TARGET' });
  });

  it('refuses a blast radius above the tolerance unless forced', async () => {
    const { sim, base } = await staging(3);
    const p = plan([kill('gd-1', 0), kill('gd-2', 500)]);
    await expect(sim.run(() => runGameDay(p, base))).rejects.toBeInstanceOf(GameDayError);
    const forced = await sim.run(() => runGameDay({ ...p, force: true }, base));
    expect(forced.blastRadius).toBe(2);
    expect(forced.actions.every((a) => a.status === 'injected')).toBe(true);
  });

  it('stops when quorum is at risk, on the user callback, on a violation and on the kill switch', async () => {
    {
      const { sim, base } = await staging(3);
      // The partition heals after the kill would start: two nodes at risk at once.
      const r = await sim.run(() => runGameDay(plan([{ kind: 'partition', nodeId: 'gd-1', durationMs: 1, atMs: 0, stabilityMs: 0 }, kill('gd-2', 100)], { force: false }), { ...base, minQuorumMargin: 1, stopWhen: (s) => s.margin < 1 }));
      expect(r.stopped?.reason === 'stop-condition' || r.stopped === null).toBe(true);
    }
    {
      const { sim, base } = await staging(5);
      const r = await sim.run(() => runGameDay(plan([kill('gd-1', 0), kill('gd-2', 50)]), { ...base, minQuorumMargin: 2 }));
      expect(r.stopped?.reason).toBe('quorum-at-risk');
      expect(r.actions.map((a) => a.status)).toEqual(['injected', 'not-reached']);
    }
    {
      const { sim, base } = await staging();
      const r = await sim.run(() => runGameDay(plan([kill('gd-1', 0)]), { ...base, stopWhen: () => true }));
      expect(r.stopped?.reason).toBe('stop-condition');
      expect(faultsIn(sim.trace)).toBe(0);
    }
    {
      const { sim, base } = await staging();
      const r = await sim.run(() => runGameDay(plan([kill('gd-1', 0)]), { ...base, violations: () => [{ invariant: 'quorum-safety', atMs: 0, nodeId: null, message: 'x' }] }));
      expect(r.stopped?.reason).toBe('invariant-violation');
    }
    {
      const { sim, base } = await staging();
      const kill$ = new AbortController();
      const r = await sim.run(async () => {
        const p = runGameDay(plan([kill('gd-1', 0), kill('gd-3', 120_000)]), { ...base, signal: kill$.signal });
        await sim.clock.sleep(10_000);
        kill$.abort();
        return p;
      });
      expect(r.stopped?.reason).toBe('kill-switch');
      expect(r.actions.map((a) => a.status)).toEqual(['injected', 'not-reached']);
    }
  });

  it('the driver injector (the AWS path) terminates through replaceInstance', async () => {
    const { sim, spec, base } = await staging();
    const injector = createDriverInjector(sim.driver);
    expect(injector.supports('partition')).toBe(false);
    const before = sim.world.currentInstance('gd-3')!.id;
    await sim.run(() => runGameDay(plan([kill('gd-3', 0)]), { ...base, injector }));
    expect(sim.world.instance(before)?.lifecycleState).toMatch(/^Terminat/);
    expect(spec.name).toBe('gd');
  });
});
