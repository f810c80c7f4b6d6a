import { readFileSync } from 'node:fs';
import { createController, defineCluster, formatPlan } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput } from '../src/index.js';

const DOC = new URL('../../../docs/plan.md', import.meta.url);

/** The fenced block after `marker` in docs/plan.md. */
function docBlock(marker: string): string {
  const text = readFileSync(DOC, 'utf8');
  const at = text.indexOf(marker);
  const start = text.indexOf('```text\n', at) + '```text\n'.length;
  return text.slice(start, text.indexOf('\n```', start));
}

describe('plan() and formatPlan on the simulator', () => {
  it('a 7-node image and volume-size change: fields, batches, caps and the summary (the text in docs/plan.md)', async () => {
    const sim = createSimulation({ seed: 21, profile: 'fast' });
    const input = simulatedClusterInput({ nodes: 7, name: 'kafka' });
    const spec = defineCluster(input);
    const next = defineCluster({ ...input, image: 'ami-0fedcba9876543210', dataVolume: { ...input.dataVolume, sizeGiB: (input.dataVolume?.sizeGiB ?? 50) + 30 } });
    const text = await sim.run(async () => {
      await createController({ spec, driver: sim.driver, clock: sim.clock, holderId: 'setup' }).apply();
      while (!(sim.app.clusterHealthy() && spec.nodes.every((n) => sim.world.currentInstance(n.id)?.lifecycleState === 'InService'))) await sim.clock.sleep(1_000);
      const before = sim.trace.length;
      const plan = await createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'planner' }).plan({ maxUnavailable: 3 });
      expect(sim.trace.slice(before).filter((e) => !e.kind.startsWith('app.') && !e.kind.startsWith('dns.insync'))).toEqual([]);
      expect(plan.schedule.batches.map((b) => b.nodeIds.length).reduce((a, b) => a + b, 0)).toBe(7);
      expect(plan.nodes.filter((n) => n.action === 'replace')).toHaveLength(7);
      expect(plan.resizes).toHaveLength(7);
      return formatPlan(plan);
    });
    expect(text).toBe(docBlock('<!-- plan: 7 nodes, image and size -->'));
  });

  it('says "No changes." for a converged cluster, and "to create" for one that does not exist', async () => {
    const sim = createSimulation({ seed: 22, profile: 'fast' });
    const spec = defineCluster(simulatedClusterInput({ nodes: 3, name: 'zk' }));
    await sim.run(async () => {
      const c = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'p' });
      const planned = await c.plan();
      expect(planned.exists).toBe(false);
      expect(planned.roll, 'no roll step (and no halt) before the nodes exist').toBeNull();
      const fresh = formatPlan(planned);
      expect(fresh).toMatch(/^Cluster zk does not exist yet: 3 nodes to create \(quorum 2, tolerance 1\)\./);
      expect(fresh).toMatch(/\+ zk-1 \(eu-west-1a\) will be created/);
      expect(fresh).toMatch(/Plan: 3 to create, 0 to replace, 0 to update in place\./);
      await c.apply();
      while (!sim.app.clusterHealthy()) await sim.clock.sleep(1_000);
      expect(formatPlan(await c.plan())).toMatch(/^Cluster zk: 3 nodes, quorum 2, tolerance 1\.\n\nNo changes\. The cluster matches its spec\./);
    });
  });
});
