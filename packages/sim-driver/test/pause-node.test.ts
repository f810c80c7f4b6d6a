// pauseNode / resumeNode on the production AWS driver over the simulator (IAM evaluated).
import { BerthConfigError, BerthNodeRefusedError, BerthRollHaltedError, createController, defineCluster, type ClusterSpec, type ControllerEvents } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput, type Simulation } from '../src/index.js';
import { until } from './helpers.js';

const NEW_IMAGE = 'ami-0fedcba9876543210';

function setup(nodes = 3, seed = 31) {
  const sim = createSimulation({ seed, profile: 'fast' });
  const input = simulatedClusterInput({ nodes });
  return { sim, spec: defineCluster(input), next: defineCluster({ ...input, image: NEW_IMAGE }) };
}

function controller(sim: Simulation, spec: ClusterSpec, holderId = 'operator') {
  return createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId });
}

async function provision(sim: Simulation, spec: ClusterSpec): Promise<void> {
  const c = controller(sim, spec, 'provisioner');
  await c.apply();
  await until(sim, async () => (await c.status()).converged && sim.app.clusterHealthy(), 'cluster converged');
}

const liveInstance = (sim: Simulation, nodeId: string) => sim.world.instancesOf(nodeId).find((i) => i.ec2State !== 'terminated' && i.ec2State !== 'shutting-down') ?? null;

describe('pauseNode / resumeNode (simulator)', () => {
  it('ASG-20, ASG-21: pause scales the group to 0 keeping ENI, IP, volume, template and DNS; apply() and watch() leave it paused; resume brings the same ENI, IP and volume back', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      const c = controller(sim, spec);
      const events: { name: string; e: unknown }[] = [];
      for (const name of ['node.paused', 'node.resumed', 'node.lost', 'node.stuck', 'node.recovered'] as const) c.on(name, (e) => events.push({ name, e }));
      const before = { eni: sim.world.eniOf('demo-2'), volume: sim.world.volumeOf('demo-2'), instance: liveInstance(sim, 'demo-2'), group: sim.world.group(spec.name, 'demo-2') };
      const zone = spec.dns?.hostedZoneId as string;
      const records = sim.world.dnsRecords(zone);

      const paused = await c.pauseNode('demo-2');
      expect(paused).toMatchObject({ nodeId: 'demo-2', instanceId: before.instance?.id, unchanged: false });
      expect(events.map((x) => x.name)).toEqual(['node.paused']);
      await until(sim, () => liveInstance(sim, 'demo-2') === null && sim.world.eniOf('demo-2')?.status === 'available' && sim.world.volumeOf('demo-2')?.state === 'available', 'demo-2 stopped, ENI and volume free');
      const g = sim.world.group(spec.name, 'demo-2');
      expect([g?.minSize, g?.maxSize, g?.desiredCapacity]).toEqual([0, 1, 0]);
      expect(Number(g?.tags.get('berth:paused')?.value)).toBeGreaterThan(0);
      expect(g?.launchTemplate).toEqual(before.group?.launchTemplate);
      expect(sim.world.eniOf('demo-2')).toMatchObject({ id: before.eni?.id, ip: before.eni?.ip });
      expect(sim.world.volumeOf('demo-2')?.id).toBe(before.volume?.id);
      expect(sim.world.dnsRecords(zone)).toEqual(records);

      const status = await c.status();
      expect(status.paused).toEqual(['demo-2']);
      expect(status.nodes.find((n) => n.nodeId === 'demo-2')).toMatchObject({ state: 'paused', paused: true, healthy: false });
      expect(status.quorum).toMatchObject({ healthy: 2, down: 1, margin: 0 });
      expect(status.stuck).toEqual([]);

      // apply() (and ensureNode under it) keeps the group at 0.
      const applied = await c.apply();
      expect(applied.nodes.map((n) => n.nodeId)).toEqual([]);
      await sim.driver.ensureNode(spec, 'demo-2');
      // watch() neither recovers it nor calls it lost or stuck.
      const ac = new AbortController();
      const watching = c.watch({ signal: ac.signal, stuckAfterMs: 60_000, onStuck: 'abandon' });
      await sim.clock.sleep(600_000);
      ac.abort();
      await watching;
      expect(liveInstance(sim, 'demo-2')).toBeNull();
      expect(sim.world.group(spec.name, 'demo-2')?.desiredCapacity).toBe(0);
      expect(events.map((x) => x.name)).toEqual(['node.paused']);

      // A second pause is a no-op.
      expect(await c.pauseNode('demo-2')).toMatchObject({ unchanged: true, changes: [] });

      const resumed = await c.resumeNode('demo-2', { wait: true });
      const now = liveInstance(sim, 'demo-2');
      expect(resumed.instanceId).toBe(now?.id);
      expect(now?.id).not.toBe(before.instance?.id);
      expect(now?.lifecycleState).toBe('InService');
      expect(sim.world.eniOf('demo-2')).toMatchObject({ id: before.eni?.id, ip: before.eni?.ip, attachedInstanceId: now?.id });
      expect(now?.privateIp).toBe(before.instance?.privateIp);
      expect(sim.world.volumeOf('demo-2')?.attachment?.instanceId).toBe(now?.id);
      expect(sim.world.group(spec.name, 'demo-2')?.tags.has('berth:paused')).toBe(false);
      expect(events.map((x) => x.name)).toEqual(['node.paused', 'node.resumed']);
      const after = await c.status();
      expect(after.paused).toEqual([]);
      expect(after.converged).toBe(true);
    });
    expect(sim.account.iamDenials()).toEqual([]);
  });

  it('is refused when quorum does not allow it, on a fresh look, naming the node and why; bad input fails before any call', async () => {
    const { sim, spec } = setup(3, 32);
    await sim.run(async () => {
      await provision(sim, spec);
      const c = controller(sim, spec);
      sim.driver.resetApiCallCounts();
      await expect(c.pauseNode('demo-9')).rejects.toBeInstanceOf(BerthConfigError);
      await expect(c.pauseNode('demo-9')).rejects.toThrow(/no such node.*demo-1, demo-2, demo-3/);
      expect(sim.driver.apiCallCounts()).toEqual({});

      sim.faults.killInstance('demo-1');
      await until(sim, () => liveInstance(sim, 'demo-1') === null || liveInstance(sim, 'demo-1')?.lifecycleState !== 'InService', 'demo-1 down');
      const err = await c.pauseNode('demo-2').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BerthNodeRefusedError);
      expect((err as BerthNodeRefusedError).nodeId).toBe('demo-2');
      expect((err as Error).message).toMatch(/pauseNode\(demo-2\) refused: without demo-2, 1 of 3 nodes would be healthy, fewer than the quorum of 2 \(down: demo-1/);
      expect(sim.world.group(spec.name, 'demo-2')?.desiredCapacity).toBe(1);
      expect(sim.world.group(spec.name, 'demo-2')?.tags.has('berth:paused')).toBe(false);
      expect(sim.world.lock(spec.name)?.expiresAtMs ?? 0).toBeLessThanOrEqual(sim.clock.now()); // the lease was released
      // Once demo-1 is back, the same call goes through.
      await until(sim, async () => (await c.status()).converged, 'demo-1 back');
      await c.pauseNode('demo-2');
      // And a second node may not follow it: that would leave 1 of 3.
      await expect(c.pauseNode('demo-3')).rejects.toThrow(/pauseNode\(demo-3\) refused: without demo-3, 1 of 3 nodes would be healthy.*demo-2 \(paused\)/);
    });
  });

  it('is refused while another controller holds the lease (a roll there)', async () => {
    const { sim, spec } = setup(3, 33);
    await sim.run(async () => {
      await provision(sim, spec);
      await sim.driver.lock.acquire(spec, { holder: 'roller', session: 'roll-1', ttlMs: 600_000 });
      const c = controller(sim, spec);
      await expect(c.pauseNode('demo-2')).rejects.toThrow(/pauseNode\(demo-2\) refused: another controller holds the cluster's lease/);
      await expect(c.resumeNode('demo-2')).rejects.toMatchObject({ code: 'LOCK_HELD', holder: 'roller' });
      expect(sim.world.group(spec.name, 'demo-2')?.desiredCapacity).toBe(1);
    });
  });

  it('a restarted controller sees the paused node (the mark is on the group), keeps it at 0 through apply(), and resumes it', async () => {
    const { sim, spec } = setup(3, 34);
    await sim.run(async () => {
      await provision(sim, spec);
      await controller(sim, spec, 'first').pauseNode('demo-3');
      const second = controller(sim, spec, 'second');
      const s = await second.status();
      expect(s.paused).toEqual(['demo-3']);
      await second.apply();
      await sim.clock.sleep(300_000);
      expect(liveInstance(sim, 'demo-3')).toBeNull();
      await second.resumeNode('demo-3');
      await until(sim, async () => (await second.status()).converged, 'demo-3 back');
    });
  });

  it('a roll with a paused node: the paused node gets the new template, is not waited for, and boots the new revision on resume (5 nodes); with 3 nodes the roll halts PAUSED', async () => {
    const { sim, spec, next } = setup(5, 35);
    await sim.run(async () => {
      await provision(sim, spec);
      await controller(sim, spec).pauseNode('demo-4');
      const roller = controller(sim, next, 'roller');
      const applied: ControllerEvents['apply.node'][] = [];
      roller.on('apply.node', (e) => applied.push(e));
      const report = await roller.roll();
      // The paused node's template moved through the driver's template-only path (no rediscovery of ENI, volume, DNS).
      const moved = applied.filter((e) => e.nodeId === 'demo-4');
      expect(moved).toHaveLength(1);
      expect(new Set(moved[0]?.changes.map((c) => c.resource))).toEqual(new Set(['launch-template', 'auto-scaling-group']));
      expect(report.outcome).toBe('completed');
      expect(report.nodes.map((n) => n.nodeId).sort()).toEqual(['demo-1', 'demo-2', 'demo-3', 'demo-5']);
      const status = await roller.status();
      expect(status.paused).toEqual(['demo-4']);
      expect(status.nodes.find((n) => n.nodeId === 'demo-4')?.templateOutdated).toBe(false);
      expect(liveInstance(sim, 'demo-4')).toBeNull();
      await roller.resumeNode('demo-4', { wait: true });
      expect(liveInstance(sim, 'demo-4')?.imageId).toBe(NEW_IMAGE);
      expect((await roller.status()).converged).toBe(true);
    });

    const three = setup(3, 36);
    await three.sim.run(async () => {
      await provision(three.sim, three.spec);
      await controller(three.sim, three.spec).pauseNode('demo-2');
      const halted: ControllerEvents['roll.halted'][] = [];
      const roller = controller(three.sim, three.next, 'roller');
      roller.on('roll.halted', (e) => halted.push(e));
      const err = await roller.roll().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BerthRollHaltedError);
      expect((err as Error).message).toMatch(/node demo-2 is paused and counts as down.*resume it \(resumeNode\) first/);
      expect(halted[0]?.phase).toBe('paused');
      // Nothing was replaced.
      expect(['demo-1', 'demo-3'].map((id) => liveInstance(three.sim, id)?.imageId)).toEqual([three.spec.image, three.spec.image]);
    });
  });
});
