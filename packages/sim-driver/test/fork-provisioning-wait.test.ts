// Issue 12 (chaos on every core): a scenario's provisioning waits with sim.waitUntil, the checks
// inside the world's events. A fork of a provisioned simulation (snapshot + copy) was the first
// plan; BENCHMARKS.md ("Issue 12: chaos on every core") says why it is not done and what it would
// save. What is here must not change a run: same instants, same trace, same events fired.
import { createController, defineCluster } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput, type Simulation } from '../src/index.js';

const spec = defineCluster(simulatedClusterInput({ nodes: 3, name: 'wait' }));
const ready = (sim: Simulation) => () => sim.app.clusterHealthy() && spec.nodes.every((n) => sim.world.currentInstance(n.id)?.lifecycleState === 'InService');

async function provision(seed: number, wait: (sim: Simulation) => Promise<boolean>) {
  const sim = createSimulation({ seed, profile: 'fast' });
  let held = false;
  await sim.run(async () => {
    await createController({ spec, driver: sim.driver, clock: sim.clock, holderId: 'setup', sessionId: 'setup' }).apply();
    held = await wait(sim);
    // What runs next sees the same world at the same instant.
    await sim.clock.sleep(5_000);
  });
  return { held, nowMs: sim.world.nowMs, events: sim.world.eventsFired, trace: sim.trace };
}

describe('sim.waitUntil', () => {
  it('waits as a sleep loop does: same instants, same trace, same events', async () => {
    const loop = await provision(11, async (sim) => {
      const deadline = sim.clock.now() + 3_600_000;
      while (!ready(sim)() && sim.clock.now() < deadline) await sim.clock.sleep(1_000);
      return ready(sim)();
    });
    const waited = await provision(11, (sim) => sim.waitUntil(ready(sim), { everyMs: 1_000, timeoutMs: 3_600_000 }));
    expect(loop.held).toBe(true);
    expect(waited).toEqual(loop);
  });

  it('resolves false at the timeout, true at once when the predicate already holds, and refuses a bad period', async () => {
    const sim = createSimulation({ seed: 1, profile: 'fast' });
    await sim.run(async () => {
      const t0 = sim.clock.now();
      expect(await sim.waitUntil(() => false, { everyMs: 1_000, timeoutMs: 10_500 })).toBe(false);
      expect(sim.clock.now() - t0).toBe(11_000);
      expect(await sim.waitUntil(() => true, { everyMs: 1_000 })).toBe(true);
      expect(sim.clock.now() - t0).toBe(11_000);
      expect(() => sim.waitUntil(() => true, { everyMs: 0 })).toThrow(/everyMs must be a positive number/);
    });
  });
});
