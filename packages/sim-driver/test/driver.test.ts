import { BerthLockError, defineCluster } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput } from '../src/index.js';
import { provision, retrying, setup, until } from './helpers.js';

function diff(after: Readonly<Record<string, number>>, before: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) out[k] = v - (before[k] ?? 0);
  return out;
}

describe('SimDriver', () => {
  it('observe costs the same calls for 3 and 31 nodes (paginated tag-filtered describes)', async () => {
    const costs: Array<{ full: Record<string, number>; instances: Record<string, number>; nodes: number }> = [];
    for (const n of [3, 31]) {
      const sim = createSimulation({ seed: 3, profile: 'fast' });
      const spec = defineCluster(simulatedClusterInput({ nodes: n }));
      await sim.run(async () => {
        await provision(sim, spec);
        const c0 = sim.driver.apiCallCounts();
        const obs = await sim.driver.observe(spec);
        const c1 = sim.driver.apiCallCounts();
        await sim.driver.observe(spec, { scope: 'instances' });
        costs.push({ full: diff(c1, c0), instances: diff(sim.driver.apiCallCounts(), c1), nodes: Object.keys(obs.nodes).length });
        expect(obs.dnsRecords).toHaveLength(n);
        expect(Object.values(obs.nodes).every((nd) => nd.group && nd.eni && nd.volume && nd.instances[0]?.phase === 'in-service')).toBe(true);
      });
    }
    expect(costs[0]!.nodes).toBe(3);
    expect(costs[1]!.nodes).toBe(31);
    expect(costs[0]!.full).toEqual({ DescribeAutoScalingGroups: 1, DescribeInstances: 1, DescribeNetworkInterfaces: 1, DescribeVolumes: 1, ListResourceRecordSets: 1 });
    expect(costs[1]!.full).toEqual(costs[0]!.full);
    expect(costs[0]!.instances).toEqual({ DescribeAutoScalingGroups: 1, DescribeInstances: 1 });
    expect(costs[1]!.instances).toEqual(costs[0]!.instances);
  });

  it('observe pages DescribeAutoScalingGroups by 100 like AWS', async () => {
    const { sim } = setup();
    const spec = defineCluster(simulatedClusterInput({ nodes: 101 }));
    await sim.run(async () => {
      for (const n of spec.nodes) await retrying(sim, () => sim.driver.ensureNode(spec, n.id));
      const c0 = sim.driver.apiCallCounts();
      const obs = await sim.driver.observe(spec, { scope: 'instances' });
      expect(diff(sim.driver.apiCallCounts(), c0).DescribeAutoScalingGroups).toBe(2);
      expect(Object.values(obs.nodes).filter((n) => n.group !== null)).toHaveLength(101);
    });
  });

  it('ensureNode is idempotent, and a new image only adds a launch template version', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      const first = await sim.driver.ensureNode(spec, 'demo-1');
      expect(first.changes.map((c) => `${c.resource}:${c.action}`)).toEqual([
        'network-interface:created',
        'volume:created',
        'launch-template:created',
        'auto-scaling-group:created',
        'lifecycle-hook:created',
        'dns-record:created',
      ]);
      await sim.clock.sleep(5_000);
      const again = await sim.driver.ensureNode(spec, 'demo-1');
      expect(again.changes.every((c) => c.action === 'unchanged')).toBe(true);
      expect(again.revision).toBe(first.revision);
      const next = defineCluster({ ...simulatedClusterInput({ nodes: 3 }), image: 'ami-0fedcba9876543210' });
      const upd = await sim.driver.ensureNode(next, 'demo-1');
      expect(upd.revision).not.toBe(first.revision);
      expect(upd.changes.filter((c) => c.action !== 'unchanged').map((c) => `${c.resource}:${c.action}`)).toEqual([
        'launch-template-version:created',
        'auto-scaling-group:updated',
      ]);
      const obs = await sim.driver.observe(next);
      expect(obs.nodes['demo-1']!.group!.revision).toBe(upd.revision);
      expect(obs.nodes['demo-1']!.group!.launchTemplateVersion).toBe('2');
    });
    expect(sim.world.enis).toHaveLength(1);
    expect(sim.world.volumes).toHaveLength(1);
  });

  it('deleteNode honours the deletion policy: retain keeps, snapshot snapshots then deletes, delete deletes', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      const vols = Object.fromEntries(spec.nodes.map((n) => [n.id, sim.world.volumeOf(n.id)!.id]));
      const retain = await sim.driver.deleteNode(spec, 'demo-1', { policy: 'retain' });
      expect(retain.changes.find((c) => c.resource === 'volume')).toMatchObject({ action: 'retained', id: vols['demo-1'] });
      expect(retain.snapshotId).toBeNull();
      expect(sim.world.volumes.some((v) => v.id === vols['demo-1'])).toBe(true);
      expect(sim.world.group(spec.name, 'demo-1')).toBeNull();
      expect(sim.world.eniOf('demo-1')).toBeNull();

      const snap = await sim.driver.deleteNode(spec, 'demo-2', { policy: 'snapshot' });
      expect(snap.snapshotId).toMatch(/^snap-/);
      expect(sim.world.snapshots.find((s) => s.id === snap.snapshotId)?.state).toBe('completed');
      expect(snap.changes.filter((c) => c.resource === 'volume').map((c) => c.action)).toEqual(['snapshotted', 'deleted']);
      expect(sim.world.volumes.some((v) => v.id === vols['demo-2'])).toBe(false);

      const del = await sim.driver.deleteNode(spec, 'demo-3', { policy: 'delete' });
      expect(del.changes.find((c) => c.resource === 'volume')?.action).toBe('deleted');
      expect(sim.world.volumes.some((v) => v.id === vols['demo-3'])).toBe(false);
      expect(sim.world.dnsRecords('Z0123456789ABCDEFGHIJ')).toEqual([]);
    });
  });

  it('lock: a second holder is refused while the lease runs, takes over after expiry, and the first holder loses it', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      const a = await sim.driver.lock.acquire(spec, { holder: 'ci-a', ttlMs: 60_000 });
      expect(a.token).toBe(1);
      const refused = await sim.driver.lock.acquire(spec, { holder: 'ci-b', ttlMs: 60_000 }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(BerthLockError);
      expect((refused as BerthLockError).code).toBe('LOCK_HELD');
      expect((refused as BerthLockError).holder).toBe('ci-a');
      const renewed = await sim.driver.lock.renew(spec, a, { ttlMs: 60_000 });
      await sim.clock.sleep(61_000);
      const b = await sim.driver.lock.acquire(spec, { holder: 'ci-b', ttlMs: 60_000 });
      expect(b.token).toBe(2);
      await expect(sim.driver.lock.renew(spec, renewed, { ttlMs: 60_000 })).rejects.toMatchObject({ code: 'LOCK_LOST' });
      await sim.driver.lock.release(spec, renewed); // no-op: not ours any more
      expect((await sim.driver.lock.inspect(spec))?.holder).toBe('ci-b');
      await sim.driver.lock.release(spec, b);
      const c = await sim.driver.lock.acquire(spec, { holder: 'ci-c', ttlMs: 1_000 });
      expect(c.token).toBe(3);
    });
    const counts = sim.driver.apiCallCounts();
    expect(counts.PutItem).toBe(4);
    expect(counts.GetItem).toBe(2);
    expect(counts.UpdateItem).toBe(2);
    expect(counts.DeleteItem).toBe(2);
  });

  it('waitForChange returns every queued change at once, [] after at most 20 s, and counts one ReceiveMessage per call', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      while ((await sim.driver.waitForChange!(spec, { timeoutMs: 0 })).length > 0);
      const t0 = sim.clock.now();
      expect(await sim.driver.waitForChange!(spec, { timeoutMs: 3_600_000 })).toEqual([]);
      expect(sim.clock.now() - t0).toBeGreaterThanOrEqual(20_000);
      expect(sim.clock.now() - t0).toBeLessThan(21_000);
      const before = sim.driver.apiCallCounts().ReceiveMessage ?? 0;
      const old = sim.world.currentInstance('demo-2')!;
      await sim.driver.replaceInstance(spec, 'demo-2', old.id);
      const seen: string[] = [];
      let calls = 0;
      while (!seen.includes('phase:in-service')) {
        const changes = await sim.driver.waitForChange!(spec, { timeoutMs: 60_000 });
        calls++;
        for (const c of changes) seen.push(c.kind === 'phase' ? `phase:${c.phase}` : c.kind === 'launch-failed' ? `${c.kind}:${c.detail.split(':')[0]}` : `${c.kind}:${c.detail}`);
        expect(changes.every((c) => c.nodeId === 'demo-2')).toBe(true);
      }
      expect(seen[0]).toBe('lifecycle:Terminating');
      expect(seen).toContain('launch-failed:InvalidNetworkInterface.InUse');
      expect(seen).toContain('terminated:Terminated');
      expect(seen).toContain('lifecycle:Pending:Wait');
      expect(seen.filter((s) => s.startsWith('phase:'))).toEqual(['phase:attaching', 'phase:mounting', 'phase:configuring', 'phase:joining', 'phase:healthy', 'phase:in-service']);
      expect((sim.driver.apiCallCounts().ReceiveMessage ?? 0) - before).toBe(calls);
      const ac = new AbortController();
      const p = sim.driver.waitForChange!(spec, { timeoutMs: 10_000, signal: ac.signal });
      await sim.clock.sleep(1);
      ac.abort();
      await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    });
  });

  it('replaceInstance is idempotent once the old instance has left its group; an unknown id is a ValidationError', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      const old = sim.world.currentInstance('demo-1')!;
      await retrying(sim, () => sim.driver.replaceInstance(spec, 'demo-1', old.id));
      await until(sim, () => {
        const cur = sim.world.currentInstance('demo-1');
        return !!cur && cur.id !== old.id && cur.lifecycleState === 'InService' && old.ec2State === 'terminated';
      }, 'replacement in service, old instance terminated');
      const replacement = sim.world.currentInstance('demo-1')!.id;
      // A retry after success (e.g. the first answer was lost): Auto Scaling no longer knows the
      // instance, the driver must not fail the caller nor touch the replacement.
      await sim.driver.replaceInstance(spec, 'demo-1', old.id);
      expect(sim.world.currentInstance('demo-1')?.id).toBe(replacement);
      expect(sim.world.currentInstance('demo-1')?.lifecycleState).toBe('InService');
      await expect(sim.driver.replaceInstance(spec, 'demo-1', 'i-0000000000000dead')).rejects.toMatchObject({ awsCode: 'ValidationError', retryable: false });
    });
  });

  it("by default the change queue carries only what Auto Scaling sends to EventBridge, no phase tags", async () => {
    const { sim, spec } = setup({ notifications: 'lifecycle' });
    await sim.run(async () => {
      await provision(sim, spec);
      while ((await sim.driver.waitForChange!(spec, { timeoutMs: 0 })).length > 0);
      const old = sim.world.currentInstance('demo-1')!;
      await sim.driver.replaceInstance(spec, 'demo-1', old.id);
      const seen = new Set<string>();
      while (!seen.has('lifecycle:InService') || !seen.has('terminated:Terminated')) {
        for (const c of await sim.driver.waitForChange!(spec, { timeoutMs: 60_000 })) seen.add(`${c.kind}:${c.kind === 'launch-failed' ? '' : c.detail}`);
      }
      expect([...seen].sort()).toEqual(['lifecycle:InService', 'terminated:Terminated']);
    });
  });

  it("the 'groups' probe is one DescribeAutoScalingGroups call, with lifecycle states and no tags", async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      const before = sim.driver.apiCallCounts();
      const obs = await sim.driver.observe(spec, { scope: 'groups' });
      expect(diff(sim.driver.apiCallCounts(), before)).toEqual({ DescribeAutoScalingGroups: 1 });
      expect(obs.scope).toBe('groups');
      for (const n of spec.nodes) {
        const i = obs.nodes[n.id]?.instances[0];
        expect(i?.lifecycleState).toBe('InService');
        expect(i?.revision).toBeNull();
      }
    });
  });

  it('every method honours an aborted signal', async () => {
    const { sim, spec } = setup();
    const signal = AbortSignal.abort();
    await sim.run(async () => {
      await expect(sim.driver.observe(spec, { signal })).rejects.toMatchObject({ code: 'ABORTED' });
      await expect(sim.driver.ensureNode(spec, 'demo-1', { signal })).rejects.toMatchObject({ code: 'ABORTED' });
      await expect(sim.driver.lock.acquire(spec, { holder: 'x', ttlMs: 1, signal })).rejects.toMatchObject({ code: 'ABORTED' });
      await expect(sim.driver.setDns(spec, [{ name: 'a.example.com', values: ['10.0.1.10'] }], { signal })).rejects.toMatchObject({ code: 'ABORTED' });
    });
    expect(sim.world.enis).toHaveLength(0);
  });

  it('controller and bootstrap API calls are counted apart', async () => {
    const { sim, spec } = setup();
    await sim.run(() => provision(sim, spec));
    expect(sim.driver.apiCallCounts().AttachVolume).toBeUndefined();
    expect(sim.world.agentApiCalls.AttachVolume).toBe(3);
    expect(sim.world.agentApiCalls.CompleteLifecycleAction).toBe(3);
  });

  it('resizeVolume only grows; the running bootstrap grows the file system once the volume is optimizing', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      await expect(sim.driver.resizeVolume(spec, 'demo-1', 50)).rejects.toMatchObject({ awsCode: 'InvalidParameterValue' });
      await sim.driver.resizeVolume(spec, 'demo-1', 200);
      await until(sim, () => sim.world.volumeOf('demo-1')!.data?.fsSizeGiB === 200, 'fs grown', 100);
      await expect(sim.driver.resizeVolume(spec, 'demo-1', 300)).rejects.toMatchObject({ awsCode: 'IncorrectModificationState' });
    });
  });
});
