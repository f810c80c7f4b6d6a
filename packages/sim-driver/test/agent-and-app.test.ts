import { defineCluster } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { simulatedClusterInput } from '../src/index.js';
import { simContext } from '../src/internal.js';
import { provision, replaceNode, setup, until } from './helpers.js';

describe('node agent', () => {
  it('a bad image fails at the chosen phase, tags the reason and abandons; the group tries again', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      const next = defineCluster({ ...simulatedClusterInput({ nodes: 3 }), image: 'ami-0badbadbadbadbad0' });
      sim.faults.markImageBad('ami-0badbadbadbadbad0', { phase: 'configuring', reason: 'configure script exited 1' });
      await sim.driver.ensureNode(next, 'demo-1');
      const old = sim.world.currentInstance('demo-1')!;
      await sim.driver.replaceInstance(next, 'demo-1', old.id);
      await until(sim, () => sim.trace.some((e) => e.kind === 'hook.abandoned'), 'abandon', 100);
      const obs = await sim.driver.observe(next, { scope: 'instances' });
      const failed = obs.nodes['demo-1']!.instances.find((i) => i.phase === 'failed')!;
      // The one berth:phase tag carries `failed:<phase>:<reason>`, as the real bootstrap writes it.
      expect(failed.phaseReason).toBe('configuring:configure script exited 1');
      await until(sim, () => sim.world.instancesOf('demo-1').length >= 3, 'a new attempt', 100);
    });
    const phases = sim.trace.filter((e) => e.kind === 'instance.phase' && e.nodeId === 'demo-1').map((e) => e.phase);
    const firstBad = phases.slice(6, 10);
    expect(firstBad).toEqual(['attaching', 'mounting', 'configuring', 'failed:configuring:configure script exited 1']);
    expect(sim.trace.filter((e) => e.kind === 'agent.failed')[0]).toMatchObject({ phase: 'configuring', reason: 'configure script exited 1' });
  });

  it("with onFailure 'wait' a failed boot stays in Pending:Wait, heartbeating, for manual repair", async () => {
    const { sim, spec } = setup({}, { onFailure: 'wait', heartbeatTimeoutSec: 60 });
    sim.faults.markImageBad(spec.image, { phase: 'joining', reason: 'cannot reach peers' });
    await sim.run(async () => {
      await sim.driver.ensureNode(spec, 'demo-1');
      await sim.clock.sleep(600_000);
    });
    const inst = sim.world.currentInstance('demo-1')!;
    expect(inst.lifecycleState).toBe('Pending:Wait');
    // Phase and reason in the one tag (there is no berth:phase-reason tag on AWS).
    expect(inst.tags['berth:phase']).toBe('failed:joining:cannot reach peers');
    expect(sim.world.instancesOf('demo-1')).toHaveLength(1);
  });

  it('a blank volume is formatted once and never again; a larger volume is grown at mount', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      for (const n of spec.nodes) await replaceNode(sim, spec, n.id);
      // ensureNode never resizes a volume (it says to use modifyVolume); modifyVolume grows the
      // EBS volume, and with its watcher stopped the bootstrap grows the file system when it next
      // mounts it, at boot.
      const bigger = defineCluster(simulatedClusterInput({ nodes: 3, dataVolumeSizeGiB: 150 }));
      const res = await sim.driver.ensureNode(bigger, 'demo-2');
      expect(res.changes.find((c) => c.resource === 'volume')).toMatchObject({ action: 'unchanged', detail: expect.stringContaining('modifyVolume') });
      sim.faults.stopGrowWatcher('demo-2');
      await sim.driver.modifyVolume(bigger, 'demo-2', bigger.nodes[1]!.dataVolume);
      await until(sim, () => sim.world.volumeOf('demo-2')!.sizeGiB === 150, 'optimizing', 100);
      await sim.clock.sleep(60_000);
      expect(sim.world.volumeOf('demo-2')!.data?.fsSizeGiB).toBe(100);
      sim.faults.killInstance('demo-2');
      await until(sim, () => sim.trace.some((e) => e.kind === 'volume.fs-grown' && e.nodeId === 'demo-2'), 'grown', 100);
      await until(sim, () => sim.app.clusterHealthy(), 'healthy', 100);
    });
    const formatted = sim.trace.filter((e) => e.kind === 'volume.formatted');
    expect(formatted.map((e) => e.nodeId).sort()).toEqual(['demo-1', 'demo-2', 'demo-3']);
    expect(sim.trace.filter((e) => e.kind === 'volume.mounted').length).toBeGreaterThanOrEqual(7);
    expect(sim.app.status().dataLoss).toEqual([]);
    expect(sim.world.volumeOf('demo-2')!.data?.fsSizeGiB).toBe(150);
  });

  it('a volume restored from a snapshot keeps its data and is not formatted', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      await sim.clock.sleep(60_000);
      const { snapshotId } = await sim.driver.snapshotVolume(spec, 'demo-1', { wait: true });
      const snap = sim.world.snapshots.find((s) => s.id === snapshotId)!;
      expect(snap.state).toBe('completed');
      expect(snap.data?.appIndex).toBeGreaterThan(0);
      await sim.driver.deleteNode(spec, 'demo-1', { policy: 'delete' });
      const restored = defineCluster({ ...simulatedClusterInput({ nodes: 3 }), dataVolume: { sizeGiB: 100, type: 'gp3', mountPath: '/var/lib/app', snapshotId } });
      await sim.driver.ensureNode(restored, 'demo-1');
      await until(sim, () => sim.world.currentInstance('demo-1')?.tags['berth:phase'] === 'in-service', 'in service', 100);
    });
    expect(sim.trace.filter((e) => e.kind === 'volume.formatted' && e.nodeId === 'demo-1')).toHaveLength(1);
  });

  it('a stuck attachment past attachTimeoutSec fails the boot in attaching', async () => {
    const { sim, spec } = setup();
    sim.faults.stuckAttach('demo-1', 3_600_000);
    await sim.run(async () => {
      await sim.driver.ensureNode(spec, 'demo-1');
      await until(sim, () => sim.trace.some((e) => e.kind === 'agent.failed'), 'failure', 1_000);
    });
    expect(sim.trace.find((e) => e.kind === 'agent.failed')).toMatchObject({ phase: 'attaching' });
  });
});

describe('quorum application', () => {
  it('elects a new leader after the leader is lost, and stays available without losing committed entries', async () => {
    const { sim, spec } = setup({}, { nodes: 5 });
    await sim.run(async () => {
      await provision(sim, spec);
      await sim.clock.sleep(30_000);
      const before = sim.app.status();
      expect(before.available).toBe(true);
      expect(before.commitIndex).toBeGreaterThan(0);
      const leader = before.leaderId!;
      sim.faults.killInstance(leader);
      expect(sim.app.leaderId()).toBeNull();
      expect(sim.app.available()).toBe(false);
      await until(sim, () => sim.app.leaderId() !== null, 'election', 1);
      expect(sim.app.leaderId()).not.toBe(leader);
      await sim.clock.sleep(10_000);
      const after = sim.app.status();
      expect(after.available).toBe(true);
      expect(after.term).toBe(before.term + 1);
      expect(after.commitIndex).toBeGreaterThan(before.commitIndex);
      expect(after.lostCommitted).toBe(0);
      await until(sim, () => sim.app.clusterHealthy(), 'replacement caught up', 100);
    });
    const lost = sim.trace.find((e) => e.kind === 'app.leader-lost')!;
    const elected = sim.trace.filter((e) => e.kind === 'app.leader-elected').at(-1)!;
    const [lo, hi] = sim.options.timings.appElectionTimeoutMs;
    expect(elected.atMs - lost.atMs).toBeGreaterThanOrEqual(lo);
    expect(elected.atMs - lost.atMs).toBeLessThanOrEqual(hi);
  });

  it('without a quorum there is no leader and no write', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      const leader = sim.app.leaderId()!;
      const others = spec.nodes.map((n) => n.id).filter((id) => id !== leader);
      sim.faults.partition(others[0]!, 60_000);
      sim.faults.partition(others[1]!, 60_000);
      const idx = sim.app.status().commitIndex;
      await sim.clock.sleep(30_000);
      expect(sim.app.available()).toBe(false);
      expect(sim.app.status().commitIndex).toBe(idx);
      await until(sim, () => sim.app.clusterHealthy(), 'healed', 100);
    });
  });

  it('beforeReplace steps the leader down and a new leader is elected elsewhere', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      const leader = sim.app.leaderId()!;
      expect(await sim.hooks.isLeader!(leader, null as never)).toBe(true);
      await sim.hooks.beforeReplace!(leader, { spec, observation: await sim.driver.observe(spec), signal: new AbortController().signal });
      expect(sim.app.leaderId()).not.toBeNull();
      expect(sim.app.leaderId()).not.toBe(leader);
    });
  });

  it('detects data loss: a deleted volume, a blank one in its place, and committed entries no volume holds', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      await sim.clock.sleep(60_000);
      // Out of band: the node's instance is lost and someone deletes its volume.
      const ctx = simContext(sim);
      const vol = sim.world.volumeOf('demo-1')!;
      ctx.asg.suspend('berth-demo-demo-1', ['Launch']);
      sim.faults.killInstance('demo-1');
      await until(sim, () => vol.attachment === null, 'detached', 10);
      ctx.ec2.deleteVolume(vol.id);
      expect(sim.app.status().dataLoss.map((d) => d.reason)).toEqual(['volume-deleted']);
      // ensureNode puts a blank volume in its place; the replacement starts on it.
      await sim.driver.ensureNode(spec, 'demo-1');
      ctx.asg.resume('berth-demo-demo-1', ['Launch']);
      // Fails fast if the replacement cannot boot (see 'a node whose data volume was replaced boots on the new volume').
      const failed = () => sim.trace.find((e) => e.kind === 'agent.failed' && e.nodeId === 'demo-1');
      await until(sim, () => sim.app.status().dataLoss.length === 2 || failed() !== undefined, 'blank volume seen', 100);
      expect(failed(), JSON.stringify(failed())).toBeUndefined();
      expect(sim.app.status().dataLoss[1]).toMatchObject({ nodeId: 'demo-1', reason: 'blank-volume' });
      // The others still hold every committed entry.
      expect(sim.app.status().lostCommitted).toBe(0);
      await until(sim, () => sim.app.clusterHealthy(), 'caught up', 100);
      const committed = sim.app.status().commitIndex;
      for (const n of spec.nodes) await sim.driver.deleteNode(spec, n.id, { policy: 'delete' });
      expect(sim.app.status().lostCommitted).toBeGreaterThanOrEqual(committed);
    });
    expect(sim.trace.some((e) => e.kind === 'app.committed-lost')).toBe(true);
  });
});
