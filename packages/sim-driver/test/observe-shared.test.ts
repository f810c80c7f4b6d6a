import { defineCluster, type ClusterInput, type ClusterObservation } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput, type Simulation } from '../src/index.js';

// Issue 13, fleet mode: concurrent observe() calls for several clusters of one region and
// account share one set of describes (aws-driver observe-batch.ts), each caller getting its
// own cluster's observation.

/** Cluster `name`, its node IPs from `.{10 + offset}` up so several clusters share the subnets. */
function input(name: string, offset: number): ClusterInput {
  const base = simulatedClusterInput({ nodes: 3, name });
  return { ...base, nodes: base.nodes.map((n) => ({ ...n, ip: n.ip.replace(/\.(\d+)$/, (_, h: string) => `.${Number(h) + offset}`) })) };
}

const total = (c: Readonly<Record<string, number>>) => Object.values(c).reduce((a, b) => a + b, 0);

/**
 * What an observation says, without its time (looks taken apart are taken at different times; a
 * `groups` probe dates the instances it knows only from their group at the look).
 */
const shape = (o: ClusterObservation) => ({
  ...o,
  observedAtMs: 0,
  nodes: Object.fromEntries(Object.entries(o.nodes).map(([id, n]) => [id, { ...n, instances: n.instances.map((i) => (o.scope === 'groups' ? { ...i, launchedAtMs: 0 } : i)) }])),
});

async function settle(sim: Simulation, specs: ReturnType<typeof defineCluster>[]): Promise<void> {
  for (;;) {
    const looks = await Promise.all(specs.map((s) => sim.driver.observe(s, { scope: 'instances' })));
    if (looks.every((o, i) => specs[i]!.nodes.every((n) => o.nodes[n.id]?.instances.some((x) => x.lifecycleState === 'InService' && x.phase === 'in-service')))) return;
    await sim.clock.sleep(5_000);
  }
}

describe('observations shared by several clusters', () => {
  it('three clusters observed at once cost the describes of one look, and each gets the observation it gets alone', async () => {
    const sim = createSimulation({ seed: 21, profile: 'fast' });
    const specs = ['alpha', 'beta', 'gamma'].map((name, i) => defineCluster(input(name, i * 40)));
    await sim.run(async () => {
      for (const spec of specs) for (const n of spec.nodes) await sim.driver.ensureNode(spec, n.id);
      await settle(sim, specs);
      for (const scope of ['full', 'instances', 'groups'] as const) {
        sim.driver.resetApiCallCounts();
        const alone = await sim.driver.observe(specs[0]!, { scope });
        const one = { ...sim.driver.apiCallCounts() };
        const apart = [alone, ...(await Promise.all(specs.slice(1).map((s) => sim.driver.observe(s, { scope }))))];
        sim.driver.resetApiCallCounts();
        const together = await Promise.all(specs.map((s) => sim.driver.observe(s, { scope })));
        const shared = { ...sim.driver.apiCallCounts() };
        // DNS is per cluster (each has its own records); everything else is one call for all.
        const { ListResourceRecordSets: dnsShared = 0, ...restShared } = shared;
        const { ListResourceRecordSets: dnsOne = 0, ...restOne } = one;
        expect(restShared, scope).toEqual(restOne);
        expect(dnsShared, scope).toBe(dnsOne * specs.length);
        expect(total(shared), scope).toBeLessThan(total(one) * specs.length);
        together.forEach((o, i) => {
          expect(o.clusterName).toBe(specs[i]!.name);
          expect(Object.keys(o.nodes).sort()).toEqual(specs[i]!.nodes.map((n) => n.id).sort());
          expect(shape(o)).toEqual(shape(apart[i]!));
        });
      }
      // A caller whose signal aborts is rejected; the others get their looks.
      const ac = new AbortController();
      const looks = specs.map((s, i) => sim.driver.observe(s, { scope: 'instances', ...(i === 1 && { signal: ac.signal }) }));
      ac.abort();
      const results = await Promise.allSettled(looks);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    });
  });
});
