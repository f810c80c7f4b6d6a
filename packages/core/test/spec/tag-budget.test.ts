// The tag limit defineCluster enforces (USER_TAGS_MAX) against what the AWS driver really puts on
// each resource: a cluster with the most tags allowed, provisioned, grown, rolled, one node fallen
// back to on-demand and paused, in the simulator
// (the production driver on simulated AWS), must fit AWS's 50 tags everywhere (TAG-1), and the
// budget must be tight — one resource reaches 50 — so the limit is not stricter than needed.
import { createController, defineCluster } from '@berth/core';
import { createSimulation, simulatedClusterInput } from '@berth/sim-driver';
import { describe, expect, it } from 'vitest';
import { AWS_TAGS_PER_RESOURCE, USER_TAGS_MAX } from '../../src/spec/tag-limits.js';

describe('the tag budget', () => {
  it(`${USER_TAGS_MAX} user tags fit on every resource Berth makes, through provisioning, a grow, a roll, a spot fallback and a pause`, async () => {
    const sim = createSimulation({ seed: 11, profile: 'fast', spot: 'templates' });
    const tags = Object.fromEntries(Array.from({ length: USER_TAGS_MAX }, (_, i) => [`team-tag-${i}`, `value-${i}`]));
    // Spot nodes, so a group can carry the on-demand fallback's mark too.
    const input = { ...simulatedClusterInput({ nodes: 5 }), tags, capacity: { spot: true } };
    const founders = defineCluster({ ...input, nodes: input.nodes.slice(0, 3) });
    const spec = defineCluster(input);
    const next = defineCluster({ ...input, image: 'ami-0fedcba9876543210' });

    await sim.run(async () => {
      const c = createController({ spec: founders, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'provisioner' });
      await c.apply();
      while (!(await c.status()).converged || !sim.app.clusterHealthy()) await sim.clock.sleep(5_000);
      // Two nodes join the running cluster: their groups carry berth:membership.
      const grow = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'grower' });
      await grow.apply();
      while (!(await grow.status()).converged || !sim.app.clusterHealthy()) await sim.clock.sleep(5_000);
      // A roll makes each node's second template, which also names its predecessor.
      const roller = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      await roller.roll({ maxUnavailable: 1 });
      // The worst case for a group: a joined node that fell back to on-demand and was paused.
      await sim.driver.setCapacityMarket(next, 'demo-5', 'on-demand');
      await roller.pauseNode('demo-5');
    });
    const own = (keys: Iterable<string>) => [...keys].filter((k) => !k.toLowerCase().startsWith('aws:'));
    const counts: [string, number][] = [
      ...sim.world.instances.map((i) => [i.id, own(Object.keys(i.tags)).length] as [string, number]),
      ...sim.world.volumes.map((v) => [v.id, own(Object.keys(v.tags)).length] as [string, number]),
      ...sim.world.enis.map((e) => [e.id, own(Object.keys(e.tags)).length] as [string, number]),
      ...sim.world.launchTemplates.map((t) => [t.id, own(Object.keys(t.tags)).length] as [string, number]),
      ...sim.world.snapshots.map((s) => [s.id, own(Object.keys(s.tags)).length] as [string, number]),
      ...sim.world.groups.map((g) => [g.name, own(g.tags.keys()).length] as [string, number]),
    ];
    expect(counts.length).toBeGreaterThan(3 * 5);
    for (const [id, n] of counts) expect(n, `${id} carries ${n} tags`).toBeLessThanOrEqual(AWS_TAGS_PER_RESOURCE);
    expect(Math.max(...counts.map(([, n]) => n))).toBe(AWS_TAGS_PER_RESOURCE);
    const worst = sim.world.groups.find((g) => g.name.endsWith('-demo-5'));
    expect(worst && own(worst.tags.keys()).filter((k) => k.startsWith('berth:') || k === 'Name')).toHaveLength(AWS_TAGS_PER_RESOURCE - USER_TAGS_MAX);
    // Every instance carries the user's tags and the bootstrap could still write its phase.
    for (const i of sim.world.instances) expect(Object.keys(i.tags)).toEqual(expect.arrayContaining([...Object.keys(tags), 'berth:phase']));
  });
});
