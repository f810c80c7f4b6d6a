import { defineCluster, type ClusterInput, type ClusterSpec } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput, type Simulation } from '../src/index.js';

// Issue 13: an observation costs the same calls from 3 to 1,000 nodes. One cluster grows from 3
// to 99, 300 and 1,000 nodes (every node provisioned by the production AWS driver's
// ensureNode); once every node is in service, each size's looks are counted.

/** simulatedClusterInput with /20 subnets (1,000 nodes' IPs fit in three AZs) and no DNS (R53-5: a record of 1,000 values is past a change's limit). */
function input(nodes: number): ClusterInput {
  return simulatedClusterInput({ nodes, name: 'big', dns: false, allowUnsafeSize: true, subnetPrefix: 20 });
}

async function calls(sim: Simulation, look: () => Promise<unknown>): Promise<Record<string, number>> {
  sim.driver.resetApiCallCounts();
  await look();
  return { ...sim.driver.apiCallCounts() };
}

async function inService(sim: Simulation, spec: ClusterSpec): Promise<void> {
  for (;;) {
    const o = await sim.driver.observe(spec, { scope: 'instances' });
    if (spec.nodes.every((n) => o.nodes[n.id]?.instances.some((i) => i.lifecycleState === 'InService' && i.phase === 'in-service'))) return;
    await sim.clock.sleep(5_000);
  }
}

describe('observation at scale (AWS driver on the simulator)', () => {
  it('costs the same calls per look for 3, 99, 300 and 1,000 nodes: at most two DescribeInstances once every node is settled (one while the instances fit a page), one DescribeAutoScalingGroups by name while a node is in flight', { timeout: 120_000 }, async () => {
    // Rate limits out of the way (1,000 creates at once), IAM off for speed (the other tests observe with IAM on).
    const big = { capacity: 1_000_000, refillPerSec: 1_000_000 };
    const sim = createSimulation({ seed: 13, profile: 'fast', iam: 'off', limits: { ec2Describe: big, ec2Mutate: big, autoscaling: big, route53: big } });
    sim.account.setGroupQuota(1_000); // QUOTA-1: one group per node, past the default 500
    const full = input(1_000);
    const looks: Record<number, { instances: Record<string, number>; probe: Record<string, number>; inFlight: Record<string, number>; full: Record<string, number> }> = {};
    await sim.run(async () => {
      let made = 0;
      for (const size of [3, 99, 300, 1_000]) {
        const spec = defineCluster({ ...full, nodes: full.nodes.slice(0, size) });
        await Promise.all(spec.nodes.slice(made).map((n) => sim.driver.ensureNode(spec, n.id)));
        made = size;
        await inService(sim, spec);
        const fullLook = await calls(sim, () => sim.driver.observe(spec, { scope: 'full' }));
        const instances = await calls(sim, () => sim.driver.observe(spec, { scope: 'instances' }));
        const probe = await calls(sim, () => sim.driver.observe(spec, { scope: 'groups' }));
        // One node in flight: its instance replaced.
        const node = spec.nodes[size - 1]!;
        const o = await sim.driver.observe(spec, { scope: 'instances' });
        await sim.driver.replaceInstance(spec, node.id, o.nodes[node.id]!.instances[0]!.instanceId);
        const inFlight = await calls(sim, () => sim.driver.observe(spec, { scope: 'instances' }));
        const after = await sim.driver.observe(spec, { scope: 'instances' });
        expect(Object.keys(after.nodes)).toHaveLength(size);
        expect(after.nodes[node.id]!.group).toMatchObject({ desiredCapacity: 1 });
        await inService(sim, spec);
        looks[size] = { instances, probe, inFlight, full: fullLook };
      }
    });
    for (const size of [3, 99, 300, 1_000]) {
      const l = looks[size]!;
      // Settled: the live instances and the failed ones, nothing else — in one unfiltered page while
      // the cluster's instances (terminated ones included) fit in one (EC2-13), else apart (EC2-14).
      const describes = size < 800 ? 1 : 2;
      expect(l.instances, `${size} nodes`).toEqual({ DescribeInstances: describes });
      // The probe after a settled look: every group by tag, ceil(n / 100) pages (ASG-13) — it has nothing in flight to narrow to.
      expect(l.probe, `${size} nodes`).toEqual({ DescribeAutoScalingGroups: Math.ceil(size / 100) });
      // A node in flight: its group by name (ASG-33), one call; activities only if it looks stuck (ASG-34).
      expect(l.inFlight.DescribeInstances, `${size} nodes`).toBe(describes);
      expect(l.inFlight.DescribeAutoScalingGroups, `${size} nodes`).toBe(1);
      expect((l.inFlight.DescribeScalingActivities ?? 0) <= 1, `${size} nodes`).toBe(true);
      // A full look refreshes every group (pages of 100) and reads ENIs, volumes and events in one page each.
      expect(l.full, `${size} nodes`).toEqual({
        DescribeAutoScalingGroups: Math.ceil(size / 100),
        DescribeInstances: describes,
        DescribeNetworkInterfaces: 1,
        DescribeVolumes: 1,
        DescribeInstanceStatus: 1,
      });
    }
  });
});
