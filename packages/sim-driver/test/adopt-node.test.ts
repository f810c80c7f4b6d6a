// Adopting an existing, unmanaged cluster node by node (docs/adopt.md), on the simulator: the
// production AWS driver and the real controller over simulated EC2, Auto Scaling and IAM.
import { BerthConfigError, BerthError, createController, defineCluster, type ClusterInput, type ClusterSpec, type ControllerEvents, type RollHooks } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput, type Simulation, type UnmanagedInstance } from '../src/index.js';

interface Unmanaged {
  readonly sim: Simulation;
  readonly input: ClusterInput;
  readonly spec: ClusterSpec;
  readonly old: readonly UnmanagedInstance[];
}

/** A 3-node cluster running on instances Berth did not launch, each node's spec adopting its ENI and volume. */
async function unmanagedCluster(seed = 5, tweak: (old: readonly UnmanagedInstance[], input: ClusterInput) => ClusterInput = (_o, i) => i): Promise<Unmanaged> {
  const sim = createSimulation({ seed, profile: 'fast' });
  const base = simulatedClusterInput({ nodes: 3, name: 'zk' });
  sim.account.prepare(defineCluster(base));
  const old = base.nodes.map((n) => sim.account.createUnmanagedInstance({ subnetId: n.subnetId, ip: n.ip, securityGroupIds: base.securityGroupIds, member: n.id, dataVolume: { sizeGiB: 100, encrypted: true } }));
  const adopting: ClusterInput = { ...base, nodes: base.nodes.map((n, i) => ({ ...n, adopt: { eniId: old[i]?.eniId as string, volumeId: old[i]?.volumeId as string } })) };
  const input = tweak(old, adopting);
  return { sim, input, spec: defineCluster(input), old };
}

/** The user's hook: terminates the unmanaged instance (as `aws ec2 terminate-instances` would) and confirms. */
function terminating(sim: Simulation): RollHooks['confirmUnmanagedStopped'] {
  return (_nodeId, instanceId) => {
    if (instanceId) sim.faults.killInstance(instanceId);
    return true;
  };
}

/** Trace entries that would mean Berth touched an ENI or volume (beyond DeleteOnTermination). */
function touches(sim: Simulation, ids: readonly string[]): unknown[] {
  return sim.trace.filter((e) => ['volume.attachment', 'eni.attached', 'eni.released', 'eni.deleted', 'volume.deleted', 'instance.state'].includes(e.kind) && ids.some((id) => Object.values(e).includes(id)));
}

describe('controller.adopt() on the simulator', () => {
  it('adopts a 3-node unmanaged cluster node by node: same IPs, same volumes with their data, quorum kept throughout', async () => {
    const { sim, spec, old } = await unmanagedCluster();
    const adopted: ControllerEvents['node.adopted'][] = [];
    const c = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: { ...sim.hooks, confirmUnmanagedStopped: terminating(sim) }, holderId: 'migrator' });
    c.on('node.adopted', (e) => adopted.push(e));
    const adopting: ControllerEvents['node.adopting'][] = [];
    c.on('node.adopting', (e) => adopting.push(e));
    const healthy: number[] = [];
    await sim.run(async () => {
      while (!sim.app.clusterHealthy()) await sim.clock.sleep(1_000);
      // Let the application write for a while on the old instances.
      await sim.clock.sleep(60_000);
      const written = sim.app.status().commitIndex;
      expect(written).toBeGreaterThan(0);
      sim.onTrace(() => healthy.push(sim.app.status().members.filter((m) => m.healthy).length));
      const results = await c.adoptAll();
      expect(results.map((r) => r.nodeId)).toEqual(['zk-1', 'zk-2', 'zk-3']);
      const status = await c.status();
      expect(status.converged).toBe(true);
      for (const [i, n] of spec.nodes.entries()) {
        const o = old[i] as UnmanagedInstance;
        const r = results[i];
        expect(r).toMatchObject({ nodeId: n.id, eniId: o.eniId, volumeId: o.volumeId, fromInstanceId: o.instanceId });
        const inst = sim.world.currentInstance(n.id);
        expect(inst?.id).toBe(r?.instanceId);
        expect(inst?.privateIp).toBe(n.ip);
        expect(inst?.groupName).toBe(`berth-zk-${n.id}`);
        expect(sim.world.instance(o.instanceId)?.ec2State ?? 'terminated').toBe('terminated');
        // The same volume, attached to the node's instance, its file system kept.
        const vol = sim.world.volumes.find((v) => v.id === o.volumeId);
        expect(vol?.attachment?.instanceId).toBe(inst?.id);
        expect(vol?.tags).toMatchObject({ 'berth:cluster': 'zk', 'berth:node': n.id, 'berth:volume': 'data', 'berth:node-ip': n.ip });
      }
      expect(sim.trace.filter((e) => e.kind === 'volume.formatted')).toEqual([]);
      expect(sim.app.status().dataLoss).toEqual([]);
      expect(sim.app.status().commitIndex).toBeGreaterThanOrEqual(written);
    });
    // One node down at a time: never fewer than a quorum (2 of 3) of healthy members.
    expect(Math.min(...healthy)).toBeGreaterThanOrEqual(2);
    // Each node followed only after the previous one was healthy.
    expect(adopted.map((e) => e.nodeId)).toEqual(['zk-1', 'zk-2', 'zk-3']);
    expect(adopting.map((e) => [e.nodeId, e.eniId, e.volumeId, e.instanceId])).toEqual(old.map((o, i) => [`zk-${i + 1}`, o.eniId, o.volumeId, o.instanceId]));
    // Each adoption began after the previous node was healthy.
    for (let i = 1; i < 3; i++) expect((adopting[i] as { atMs: number }).atMs).toBeGreaterThanOrEqual((adopted[i - 1] as { atMs: number }).atMs);
    expect(sim.account.iamDenials()).toEqual([]);
  });

  it('refuses a wrong IP, a wrong subnet or AZ and another cluster\'s resources, naming node and field, before changing anything', async () => {
    const { sim, input, old } = await unmanagedCluster(6);
    const stray = sim.account.createUnmanagedInstance({ subnetId: 'subnet-000a0001', ip: '10.0.2.50', dataVolume: { encrypted: true } });
    const otherAz = sim.account.createUnmanagedInstance({ subnetId: 'subnet-000a0001', ip: '10.0.2.40', dataVolume: { az: 'eu-west-1a', encrypted: true } });
    const claimed = sim.account.createUnmanagedInstance({ subnetId: 'subnet-000a0002', ip: '10.0.3.40', dataVolume: { encrypted: true }, tags: { 'berth:cluster': 'kafka', 'berth:node': 'kafka-3' } });
    /** The spec with node `index` adopting `adopt` (and the IP given). */
    const variant = (index: number, adopt: { eniId: string; volumeId: string }, ip?: string) =>
      createController({
        spec: defineCluster({ ...input, nodes: input.nodes.map((n, i) => (i === index ? { ...n, ...(ip !== undefined && { ip }), adopt } : n)) }),
        driver: sim.driver,
        clock: sim.clock,
        hooks: { ...sim.hooks, confirmUnmanagedStopped: terminating(sim) },
      });
    const refusal = (p: Promise<unknown>) => p.then(() => expect.fail('adopt() should refuse'), (e: unknown) => (expect(e).toBeInstanceOf(BerthConfigError), e as BerthConfigError));
    await sim.run(async () => {
      // zk-1 names another instance's interface (another IP, another subnet) with its own volume.
      const wrongIp = await refusal(variant(0, { eniId: stray.eniId, volumeId: old[0]?.volumeId as string }).adopt('zk-1'));
      expect(wrongIp.issues.map((i) => i.path)).toEqual(['nodes[0].adopt.eniId', 'nodes[0].adopt.eniId', 'nodes[0].adopt']);
      expect(wrongIp.message).toMatch(/node zk-1: eni-\w+'s private IP is 10\.0\.2\.50, the node's ip is 10\.0\.1\.10/);
      expect(wrongIp.message).toMatch(/is in subnet subnet-000a0001, the node's subnet is subnet-000a0000/);
      // A volume in another AZ than the node's subnet.
      const wrongAz = await refusal(variant(1, { eniId: otherAz.eniId, volumeId: otherAz.volumeId }, '10.0.2.40').adopt('zk-2'));
      expect(wrongAz.issues).toEqual([expect.objectContaining({ path: 'nodes[1].adopt.volumeId', message: expect.stringMatching(/is in eu-west-1a, the node's subnet subnet-000a0001 is in eu-west-1b/) })]);
      // Resources another cluster's node already carries the tags of.
      const taken = await refusal(variant(2, { eniId: claimed.eniId, volumeId: claimed.volumeId }, '10.0.3.40').adopt('zk-3'));
      expect(taken.issues.map((i) => i.path)).toEqual(['nodes[2].adopt.eniId', 'nodes[2].adopt.volumeId']);
      expect(taken.message).toMatch(/already belongs to kafka\/kafka-3/);
      // By instance: it has no interface with the node's IP.
      const byInstance = await refusal(variant(0, { eniId: old[0]?.eniId as string, volumeId: old[0]?.volumeId as string }).adopt('zk-1', { instanceId: stray.instanceId }));
      expect(byInstance.issues[0]).toMatchObject({ path: 'instanceId', message: expect.stringMatching(/has no network interface with the node's ip 10\.0\.1\.10 \(its IPs: 10\.0\.2\.50\)/) });
    });
    // Nothing was touched: every unmanaged instance still runs with its ENI and volume, DeleteOnTermination as it was.
    const all = [...old, stray, otherAz, claimed];
    for (const o of all) expect(sim.world.instance(o.instanceId)?.ec2State).toBe('running');
    expect(touches(sim, all.flatMap((o) => [o.eniId, o.volumeId, o.instanceId]))).toEqual([]);
    expect(sim.trace.filter((e) => e.kind === 'eni.attachment-modified' || e.kind === 'volume.attachment-modified')).toEqual([]);
  });

  it('without a confirming hook nothing is detached, attached or tagged; without any hook nothing is called', async () => {
    const { sim, spec, old } = await unmanagedCluster(7);
    const o = old[0] as UnmanagedInstance;
    const noHook = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks });
    const asked: (string | null)[] = [];
    const declining = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: { ...sim.hooks, confirmUnmanagedStopped: (_n, id) => (asked.push(id), false) } });
    await sim.run(async () => {
      while (!sim.app.clusterHealthy()) await sim.clock.sleep(1_000);
      const calls = JSON.stringify(sim.driver.apiCallCounts());
      const missing = await noHook.adopt('zk-1').catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(BerthConfigError);
      expect((missing as BerthConfigError).issues[0]).toMatchObject({ path: 'hooks.confirmUnmanagedStopped' });
      expect(JSON.stringify(sim.driver.apiCallCounts())).toBe(calls);
      const declined = await declining.adopt('zk-1').catch((e: unknown) => e);
      expect(declined).toBeInstanceOf(BerthError);
      expect((declined as BerthError).code).toBe('HOOK_FAILED');
      expect((declined as Error).message).toMatch(/did not confirm that i-\w+ is terminated: nothing was detached, attached or tagged/);
    });
    expect(asked).toEqual([o.instanceId]);
    expect(sim.world.instance(o.instanceId)?.ec2State).toBe('running');
    expect(touches(sim, [o.eniId, o.volumeId, o.instanceId])).toEqual([]);
    const eni = sim.world.enis.find((e) => e.id === o.eniId);
    expect(eni?.tags['berth:cluster']).toBeUndefined();
    expect(sim.world.volumes.find((v) => v.id === o.volumeId)?.tags['berth:cluster']).toBeUndefined();
    // The one change: DeleteOnTermination=false on both, so terminating the instance keeps them.
    expect(sim.trace.filter((e) => e.kind === 'eni.attachment-modified' || e.kind === 'volume.attachment-modified').map((e) => e.deleteOnTermination)).toEqual([false, false]);
    expect(sim.app.clusterHealthy()).toBe(true);
  });

  it('refuses to take over while the unmanaged instance still runs, whatever the hook says', async () => {
    const { sim, spec, old } = await unmanagedCluster(8);
    const o = old[0] as UnmanagedInstance;
    const lying = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: { ...sim.hooks, confirmUnmanagedStopped: () => true } });
    await sim.run(async () => {
      while (!sim.app.clusterHealthy()) await sim.clock.sleep(1_000);
      const e = await lying.adopt('zk-1').catch((x: unknown) => x);
      expect((e as Error).message).toMatch(/the unmanaged instance i-\w+ is running.*primary interface \(device index 0\).*Nothing was detached, attached or tagged/s);
    });
    expect(sim.world.instance(o.instanceId)?.ec2State).toBe('running');
    expect(touches(sim, [o.eniId, o.volumeId, o.instanceId])).toEqual([]);
    expect(sim.world.enis.find((e) => e.id === o.eniId)?.tags['berth:cluster']).toBeUndefined();
  });

  it('refuses the next node while an adopted node is down: no quorum without it, nothing touched', async () => {
    const { sim, spec, old } = await unmanagedCluster(10);
    const asked: string[] = [];
    const terminate = terminating(sim) as NonNullable<RollHooks['confirmUnmanagedStopped']>;
    const confirmUnmanagedStopped: RollHooks['confirmUnmanagedStopped'] = (n, id, ctx) => {
      asked.push(n);
      return terminate(n, id, ctx);
    };
    const c = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: { ...sim.hooks, confirmUnmanagedStopped } });
    await sim.run(async () => {
      while (!sim.app.clusterHealthy()) await sim.clock.sleep(1_000);
      await c.adopt('zk-1');
      // zk-1's instance is lost and its AZ cannot launch another: with it down, taking zk-2 down too would leave 1 of 3.
      sim.faults.azOutage('eu-west-1a', 3_600_000);
      sim.faults.killInstance('zk-1');
      await sim.clock.sleep(5_000);
      const e = await c.adopt('zk-2').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(BerthError);
      expect((e as BerthError).code).toBe('ROLL_HALTED');
      expect((e as Error).message).toMatch(/node zk-2 was not adopted: taking it down while zk-1 is down would leave fewer than 2 of 3 members/);
    });
    expect(asked).toEqual(['zk-1']);
    const o = old[1] as UnmanagedInstance;
    expect(sim.world.instance(o.instanceId)?.ec2State).toBe('running');
    expect(touches(sim, [o.eniId, o.volumeId, o.instanceId])).toEqual([]);
  });

  it('apply() leaves nodes still to adopt alone instead of creating interfaces for their IPs', async () => {
    const { sim, spec } = await unmanagedCluster(9);
    const c = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks });
    await sim.run(async () => {
      const r = await c.apply();
      expect(r.nodes).toEqual([]);
      expect(r.warnings.filter((w) => w.includes('adopt'))).toEqual(['zk-1', 'zk-2', 'zk-3'].map((id) => `node ${id}: not provisioned, its spec adopts an existing network interface and volume: run adopt('${id}') (docs/adopt.md)`));
    });
  });
});
