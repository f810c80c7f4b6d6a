// watch() and roll() in one controller: a step watch() takes under the lease (a spot preemption,
// a DNS repair, a spot fallback) must not take and then hand back the lease a roll of the same
// controller holds. Before the fix, watch() "acquired" the roll's own lease, replaced the
// interrupted node, and released the lease at the end: the roll then stopped with LOCK_LOST.
import { createController, defineCluster } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { simulatedClusterInput } from '../src/index.js';
import { provision, setup, until } from './helpers.js';

describe('watch() during a roll of the same controller', () => {
  it('a spot interruption noticed by watch() mid-roll leaves the roll its lease: the roll completes', async () => {
    const { sim, spec } = setup({ seed: 5, spot: true, timings: { spotNoticeMs: 120_000 } }, { nodes: 5 });
    const next = defineCluster({ ...simulatedClusterInput({ nodes: 5 }), image: 'ami-0fedcba9876543210' });
    await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'one-controller' });
      const preempting: string[] = [];
      c.on('node.preempting', (e: { nodeId: string }) => preempting.push(e.nodeId));
      const stop = new AbortController();
      const watching = c.watch({ signal: stop.signal }).catch(() => undefined);
      let batches = 0;
      c.on('batch.completed', () => batches++);
      const rolling = c.roll({ maxUnavailable: 1 });
      await until(sim, () => batches >= 1, 'the first batch');
      // A node the roll has not reached yet (still on the old image).
      const target = spec.nodes.map((n) => n.id).find((id) => sim.world.currentInstance(id)?.imageId === spec.nodes[0]!.image) as string;
      expect(target).toBeDefined();
      sim.faults.spotInterrupt(target);
      const result = await rolling;
      stop.abort();
      await watching;
      expect(result.outcome).toBe('completed');
      for (const n of next.nodes) expect(sim.world.currentInstance(n.id)?.imageId).toBe(next.nodes[0]!.image);
      // watch() left the node to the roll that held the lease.
      expect(preempting).toEqual([]);
    });
  }, 120_000);
});
