import { describe, expect, it } from 'vitest';
import { provision, setup, until } from './helpers.js';

describe('Auto Scaling rules', () => {
  it('a launch hook without heartbeats times out and applies DefaultResult ABANDON: terminated and replaced', async () => {
    const { sim, spec } = setup({}, { heartbeatTimeoutSec: 60, defaultResult: 'ABANDON' });
    sim.faults.markImageBad(spec.image, { phase: 'launching', reason: 'kernel panic' });
    await sim.run(async () => {
      await sim.driver.ensureNode(spec, 'demo-1');
      await until(sim, () => sim.world.instancesOf('demo-1').length >= 2, 'a replacement launch', 1_000);
    });
    const wait = sim.trace.find((e) => e.kind === 'instance.lifecycle' && e.to === 'Pending:Wait')!;
    const timeout = sim.trace.find((e) => e.kind === 'hook.timeout')!;
    expect(timeout.defaultResult).toBe('ABANDON');
    expect(timeout.instanceId).toBe(wait.instanceId);
    expect(timeout.atMs - wait.atMs).toBe(60_000);
    expect(sim.world.instance(wait.instanceId!)?.lifecycleState).toMatch(/^Terminat/);
  });

  it('heartbeat timeout with DefaultResult CONTINUE lets the instance go InService', async () => {
    const { sim, spec } = setup({}, { heartbeatTimeoutSec: 30, defaultResult: 'CONTINUE' });
    sim.faults.markImageBad(spec.image, { phase: 'launching', reason: 'user data never runs' });
    await sim.run(async () => {
      await sim.driver.ensureNode(spec, 'demo-1');
      await until(sim, () => sim.world.currentInstance('demo-1')?.lifecycleState === 'InService', 'InService', 1_000);
    });
    expect(sim.trace.filter((e) => e.kind === 'hook.timeout').map((e) => e.defaultResult)).toEqual(['CONTINUE']);
    expect(sim.world.instancesOf('demo-1')).toHaveLength(1);
  });

  it('heartbeats keep a slow boot waiting past the heartbeat timeout', async () => {
    const { sim, spec } = setup({ timings: { agentConfigureMs: [200_000, 200_000] } }, { heartbeatTimeoutSec: 60 });
    await sim.run(() => provision(sim, spec));
    expect(sim.trace.some((e) => e.kind === 'hook.timeout')).toBe(false);
    expect(sim.world.agentApiCalls.RecordLifecycleActionHeartbeat).toBeGreaterThan(0);
  });

  it('CompleteLifecycleAction ABANDON terminates the instance and the group launches a replacement', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await sim.driver.ensureNode(spec, 'demo-2');
      await until(sim, () => sim.world.currentInstance('demo-2')?.lifecycleState === 'Pending:Wait', 'Pending:Wait', 10);
      const first = sim.world.currentInstance('demo-2')!;
      await sim.driver.completeLifecycle(spec, 'demo-2', first.id, 'ABANDON');
      expect(sim.world.instance(first.id)?.lifecycleState).toBe('Terminating');
      await until(sim, () => (sim.world.currentInstance('demo-2')?.id ?? first.id) !== first.id, 'replacement', 10);
      // Completing an action that is no longer pending is refused.
      await expect(sim.driver.completeLifecycle(spec, 'demo-2', first.id, 'CONTINUE')).rejects.toMatchObject({ awsCode: 'ValidationError' });
    });
  });

  it('a suspended Launch process stops the group from replacing a lost instance', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      const { simContext } = await import('../src/internal.js');
      simContext(sim).asg.suspend('berth-demo-demo-1', ['Launch']);
      sim.faults.killInstance('demo-1');
      await sim.clock.sleep(600_000);
      expect(sim.world.currentInstance('demo-1')).toBeNull();
      simContext(sim).asg.resume('berth-demo-demo-1', ['Launch']);
      await until(sim, () => sim.world.currentInstance('demo-1')?.lifecycleState === 'InService', 'replacement', 100);
    });
  });
});
