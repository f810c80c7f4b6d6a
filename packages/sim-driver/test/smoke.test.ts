import { defineCluster } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput } from '../src/index.js';

describe('smoke', () => {
  it('provisions a 5-node cluster and gets healthy', async () => {
    const sim = createSimulation({ seed: 7, profile: 'realistic' });
    const spec = defineCluster(simulatedClusterInput({ nodes: 5 }));
    await sim.run(async () => {
      for (const n of spec.nodes) await sim.driver.ensureNode(spec, n.id);
      while (!sim.app.clusterHealthy()) await sim.clock.sleep(5_000);
      const obs = await sim.driver.observe(spec);
      console.log(JSON.stringify(obs.nodes['demo-1'], null, 1));
    });
    console.log(sim.world.elapsedMs, sim.app.status(), sim.driver.apiCallCounts(), sim.world.agentApiCalls, sim.trace.length);
    expect(sim.app.clusterHealthy()).toBe(true);
  });
});
