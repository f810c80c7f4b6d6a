// Announced disruptions (spot interruption warnings, scheduled events) as the production AWS
// driver (sim.driver) sees them on the simulated account, IAM evaluated.
import { defineCluster, type ClusterChange, type ClusterSpec, type InstanceObservation } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { simulatedClusterInput, type Simulation } from '../src/index.js';
import { provision, retrying, setup, until } from './helpers.js';

/** The node's current (not terminated) instance as the driver observes it. */
async function observed(sim: Simulation, spec: ClusterSpec, nodeId: string, scope: 'full' | 'instances' = 'instances'): Promise<InstanceObservation | undefined> {
  const o = await retrying(sim, () => sim.driver.observe(spec, { scope }));
  return o.nodes[nodeId]?.instances.find((i) => i.ec2State === 'pending' || i.ec2State === 'running');
}

/** Takes whatever is on the queue (launch events of the provisioning) so the next wait starts clean. */
async function drain(sim: Simulation, spec: ClusterSpec): Promise<void> {
  while ((await retrying(sim, () => sim.driver.waitForChange!(spec, { timeoutMs: 1_000 }))).length > 0);
}

describe('disruption notices through sim.driver', () => {
  it('a spot interruption: within one waitForChange the driver reports a disruption change, and the next observe() shows it on the instance with its deadline', async () => {
    const { sim, spec } = setup({ seed: 21, spot: true, timings: { spotNoticeMs: 120_000 } });
    await sim.run(async () => {
      await provision(sim, spec);
      await drain(sim, spec);
      const instanceId = sim.world.currentInstance('demo-2')?.id as string;
      sim.faults.spotInterrupt('demo-2');
      sim.driver.resetApiCallCounts();
      const changes = await retrying(sim, () => sim.driver.waitForChange!(spec, { timeoutMs: 20_000 }));
      const atMs = Math.floor(sim.clock.now() / 1000) * 1000; // the event's time, to the second (delivery takes under a second)
      expect(changes).toEqual([{ atMs: expect.any(Number), nodeId: 'demo-2', instanceId, kind: 'disruption', detail: 'spot-interruption (instance-action: terminate)' } satisfies ClusterChange]);
      const noticedAtMs = (changes[0] as ClusterChange).atMs;
      expect(atMs - noticedAtMs).toBeLessThanOrEqual(1_000);
      // The driver knew the instance from its observations: no lookup.
      expect(sim.driver.apiCallCounts()).toEqual({ ReceiveMessage: 1, DeleteMessageBatch: 1 });

      const seen = await observed(sim, spec, 'demo-2');
      expect(seen?.instanceId).toBe(instanceId);
      expect(seen?.disruption).toEqual({ kind: 'spot-interruption', noticedAtMs, deadlineMs: noticedAtMs + 120_000, detail: 'instance-action: terminate' });
      expect((await observed(sim, spec, 'demo-1'))?.disruption).toBeUndefined();

      // Once the instance is gone and replaced, the new one carries no notice.
      await until(sim, () => {
        const cur = sim.world.currentInstance('demo-2');
        return !!cur && cur.id !== instanceId && cur.lifecycleState === 'InService';
      }, 'demo-2 replaced');
      const next = await observed(sim, spec, 'demo-2');
      expect(next?.instanceId).not.toBe(instanceId);
      expect(next?.disruption).toBeUndefined();
    });
    expect(sim.account.iamDenials()).toEqual([]);
  });

  it('a fresh look sees a warning already on the queue: observe() takes it off with a short poll, and the next waitForChange still returns the change', async () => {
    const { sim, spec } = setup({ seed: 22, spot: true, timings: { spotNoticeMs: 120_000 } });
    await sim.run(async () => {
      await provision(sim, spec);
      await drain(sim, spec);
      const instanceId = sim.world.currentInstance('demo-3')?.id as string;
      sim.faults.spotInterrupt('demo-3');
      await sim.clock.sleep(2_000); // delivered to the queue, nobody waiting on it
      sim.driver.resetApiCallCounts();
      const seen = await observed(sim, spec, 'demo-3');
      expect(seen?.disruption?.kind).toBe('spot-interruption');
      expect(sim.driver.apiCallCounts()).toMatchObject({ ReceiveMessage: 1, DeleteMessageBatch: 1 });
      sim.driver.resetApiCallCounts();
      const changes = await sim.driver.waitForChange!(spec, { timeoutMs: 20_000 });
      expect(changes.map((c) => [c.kind, c.nodeId, c.instanceId])).toEqual([['disruption', 'demo-3', instanceId]]);
      expect(sim.driver.apiCallCounts()).toEqual({}); // handed over, not polled again
    });
  });

  it("a warning for another cluster's instance is skipped after one lookup; the same instance is not looked up again", async () => {
    const { sim, spec } = setup({ seed: 23, spot: true, timings: { spotNoticeMs: 120_000 } });
    const input = simulatedClusterInput({ name: 'other', nodes: 3 });
    const other = defineCluster({ ...input, nodes: input.nodes.map((n) => ({ ...n, ip: n.ip.replace(/\.(\d+)$/, (_m, h: string) => `.${Number(h) + 100}`) })) });
    await sim.run(async () => {
      await provision(sim, spec);
      await retrying(sim, () => sim.driver.ensureNode(other, 'other-1'));
      await until(sim, () => sim.world.currentInstance('other-1')?.lifecycleState === 'InService', 'other-1 in service');
      await drain(sim, spec);
      sim.faults.spotInterrupt('other-1');
      sim.driver.resetApiCallCounts();
      expect(await retrying(sim, () => sim.driver.waitForChange!(spec, { timeoutMs: 20_000 }))).toEqual([]);
      expect(sim.driver.apiCallCounts()).toEqual({ ReceiveMessage: 1, DescribeInstances: 1, DeleteMessageBatch: 1 });
      sim.faults.spotInterrupt('other-1'); // a duplicate warning (delivery is at least once)
      sim.driver.resetApiCallCounts();
      expect(await retrying(sim, () => sim.driver.waitForChange!(spec, { timeoutMs: 20_000 }))).toEqual([]);
      expect(sim.driver.apiCallCounts().DescribeInstances).toBeUndefined();
      expect(Object.values((await sim.driver.observe(spec, { scope: 'instances' })).nodes).flatMap((n) => n.instances).filter((i) => i.disruption)).toEqual([]);
    });
    expect(sim.account.iamDenials()).toEqual([]);
  });

  it('a scheduled retirement: a full observe() shows it on the instance with NotBefore as deadline, later looks keep it, and it goes with the instance', async () => {
    const { sim, spec } = setup({ seed: 24 });
    await sim.run(async () => {
      await provision(sim, spec);
      const instanceId = sim.world.currentInstance('demo-1')?.id as string;
      const notBefore = sim.clock.now() + 2 * 3600_000;
      sim.faults.scheduleInstanceEvent('demo-1', { code: 'instance-retirement', inMs: 2 * 3600_000 });
      // The cheap scope does not look at scheduled events.
      expect((await observed(sim, spec, 'demo-1'))?.disruption).toBeUndefined();
      const full = await observed(sim, spec, 'demo-1', 'full');
      const lookedAt = sim.clock.now();
      expect(full?.disruption).toEqual({ kind: 'scheduled-retirement', noticedAtMs: expect.any(Number), deadlineMs: notBefore, detail: 'instance-retirement: The instance is running on degraded hardware' });
      expect(full!.disruption!.noticedAtMs).toBeLessThanOrEqual(lookedAt);
      // Remembered for the cheap looks, and a second full look keeps when it was first seen.
      await sim.clock.sleep(60_000);
      expect((await observed(sim, spec, 'demo-1'))?.disruption).toEqual(full?.disruption);
      expect((await observed(sim, spec, 'demo-1', 'full'))?.disruption).toEqual(full?.disruption);
      // (Terminated instances leave describes after a while: gone counts too.)
      await until(sim, () => (sim.world.instance(instanceId)?.ec2State ?? 'terminated') === 'terminated', 'retired', 60_000);
      await until(sim, () => sim.world.currentInstance('demo-1')?.lifecycleState === 'InService', 'demo-1 replaced', 10_000);
      const after = await retrying(sim, () => sim.driver.observe(spec, { scope: 'full' }));
      expect(after.nodes['demo-1']?.instances.filter((i) => i.disruption)).toEqual([]);
    });
    expect(sim.account.iamDenials()).toEqual([]);
  });
});
