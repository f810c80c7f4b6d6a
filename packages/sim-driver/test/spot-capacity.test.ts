// Spot nodes on the simulated account through the production driver (sim.driver), IAM
// evaluated: spot launches from the launch template keep the node's ENI and volume; missing
// spot capacity makes watch() fall the node back to on-demand after capacity.fallbackAfterSec,
// and back to spot after capacity.spotRetryAfterSec (a quorum-checked replacement under the
// lease); the fallback state lives on the group, so a new controller keeps it.
import { BerthCapabilityError, createController, defineCluster, type ControllerEvents } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { DeleteTagsCommand } from '@aws-sdk/client-auto-scaling';
import { CONTROLLER_ROLE, createSimulation, simulatedClusterInput } from '../src/index.js';
import { provision, retrying, until } from './helpers.js';

const MIN = 60_000;

function spotSetup(seed: number, capacity: Record<string, unknown> = {}) {
  const sim = createSimulation({ seed, profile: 'fast', spot: 'templates', timings: { spotNoticeMs: 120_000 } });
  const spec = defineCluster({ ...simulatedClusterInput({ nodes: 3 }), capacity: { spot: true, fallbackAfterSec: 300, spotRetryAfterSec: 1800, ...capacity } });
  return { sim, spec };
}

describe('spot capacity', () => {
  it('SPOT-1: a spot node launches spot from its template and keeps its ENI, IP and data volume', async () => {
    const { sim, spec } = spotSetup(31);
    await sim.run(async () => {
      await provision(sim, spec);
      const obs = await retrying(sim, () => sim.driver.observe(spec, { scope: 'full' }));
      for (const n of spec.nodes) {
        const node = obs.nodes[n.id];
        const inst = node?.instances.find((i) => i.ec2State === 'running');
        expect(inst?.spot).toBe(true);
        expect(node?.eni?.attachedInstanceId).toBe(inst?.instanceId);
        expect(node?.eni?.ip).toBe(n.ip);
        expect(node?.volume?.attachments.map((a) => a.instanceId)).toEqual([inst?.instanceId]);
        expect(node?.group?.onDemandSinceMs ?? null).toBeNull();
      }
    });
    expect(sim.account.iamDenials()).toEqual([]);
  });

  it('turning spot on makes every node outdated: plan() shows capacity.spot false → true, and a roll moves them to spot one batch at a time', async () => {
    const sim = createSimulation({ seed: 37, profile: 'fast', spot: 'templates' });
    const onDemand = defineCluster(simulatedClusterInput({ nodes: 3 }));
    const spot = defineCluster({ ...simulatedClusterInput({ nodes: 3 }), capacity: { spot: true } });
    await sim.run(async () => {
      await provision(sim, onDemand);
      expect(sim.world.currentInstance('demo-1')?.spot).toBe(false);
      const c = createController({ spec: spot, driver: sim.driver, clock: sim.clock });
      const plan = await c.plan();
      expect(plan.nodes.map((n) => [n.nodeId, n.action, n.changes.find((x) => x.field === 'capacity.spot')])).toEqual(
        ['demo-1', 'demo-2', 'demo-3'].map((id) => [id, 'replace', { field: 'capacity.spot', from: 'false', to: 'true' }]),
      );
      await c.roll();
      expect(spot.nodes.map((n) => sim.world.currentInstance(n.id)?.spot)).toEqual([true, true, true]);
    });
    expect(sim.account.iamDenials()).toEqual([]);
  });

  it('a spec asking for spot on a driver without capabilities.spot is refused before any call', () => {
    const sim = createSimulation({ seed: 32, profile: 'fast' });
    const spec = defineCluster({ ...simulatedClusterInput({ nodes: 3 }), nodes: simulatedClusterInput({ nodes: 3 }).nodes.map((n, i) => (i === 1 ? { ...n, capacity: { spot: true } } : n)) });
    expect(() => createController({ spec, driver: sim.driver, clock: sim.clock })).toThrow(BerthCapabilityError);
    expect(() => createController({ spec, driver: sim.driver, clock: sim.clock })).toThrow(/node demo-2: capacity.spot/);
    expect(sim.driver.apiCallCounts()).toEqual({});
  });

  it('SPOT-3: spot capacity missing in the AZ: the node falls back to on-demand after fallbackAfterSec, a new controller keeps the fallback, and it returns to spot after spotRetryAfterSec under the lease with quorum', async () => {
    const { sim, spec } = spotSetup(33);
    const az = spec.nodes.find((n) => n.id === 'demo-2')?.az as string;
    const events: { name: string; e: unknown }[] = [];
    await sim.run(async () => {
      await provision(sim, spec);
      const others = ['demo-1', 'demo-3'].map((id) => sim.world.currentInstance(id)?.id);
      const lostId = sim.world.currentInstance('demo-2')?.id as string;
      // No spot in demo-2's AZ for 20 minutes, then the instance goes.
      sim.faults.spotCapacity(az, 20 * MIN);
      sim.faults.killInstance('demo-2');
      const startMs = sim.clock.now();

      const first = createController({ spec, driver: sim.driver, clock: sim.clock, pollIntervalMs: 10_000 });
      first.on('node.capacity', (e: ControllerEvents['node.capacity']) => events.push({ name: 'node.capacity', e }));
      const stop1 = new AbortController();
      const watch1 = first.watch({ signal: stop1.signal });
      await until(sim, () => events.length >= 1, 'fall back to on-demand', 5_000);
      const fellBack = events[0]?.e as ControllerEvents['node.capacity'];
      expect(fellBack).toMatchObject({ nodeId: 'demo-2', market: 'on-demand', replacedInstanceId: null });
      expect(fellBack.reason).toMatch(/no spot capacity in .* for \d+ s/);
      // Not before the stated time: the spot launches failed for at least fallbackAfterSec.
      expect(fellBack.atMs - startMs).toBeGreaterThanOrEqual(300_000);
      // The group's failed launches said why, as Auto Scaling does.
      const failed = sim.world.groups.find((g) => g.name.endsWith('-demo-2'))?.activities.filter((a) => a.status === 'Failed') ?? [];
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.some((a) => /^Could not launch Spot Instances\. InsufficientInstanceCapacity - There is no Spot capacity available that matches your request\. Launching EC2 instance failed\.$/.test(a.statusMessage ?? ''))).toBe(true);

      await until(sim, () => sim.world.currentInstance('demo-2')?.lifecycleState === 'InService' && sim.world.currentInstance('demo-2')?.tags['berth:phase'] === 'in-service', 'demo-2 back on-demand');
      const od = sim.world.currentInstance('demo-2');
      expect(od?.spot).toBe(false);
      expect(od?.id).not.toBe(lostId);
      expect(od?.eniId).toBe(sim.world.enis.find((e) => e.tags['berth:node'] === 'demo-2')?.id);
      stop1.abort();
      await watch1;

      // A restarted controller sees the fallback on the group and keeps it.
      const obs = await retrying(sim, () => sim.driver.observe(spec, { scope: 'instances' }));
      const since = obs.nodes['demo-2']?.group?.onDemandSinceMs as number;
      expect(since).toBeLessThanOrEqual(fellBack.atMs);
      expect(fellBack.atMs - since).toBeLessThan(MIN);
      const second = createController({ spec, driver: sim.driver, clock: sim.clock, pollIntervalMs: 10_000 });
      second.on('node.capacity', (e: ControllerEvents['node.capacity']) => events.push({ name: 'node.capacity', e }));
      await second.apply();
      const group = sim.world.group('demo', 'demo-2');
      expect(sim.world.launchTemplates.find((t) => t.id === group?.launchTemplate.id)?.name).toMatch(/-od$/);
      const stop2 = new AbortController();
      const watch2 = second.watch({ signal: stop2.signal });
      await until(sim, () => events.length >= 2, 'back to spot', 10_000);
      const back = events[1]?.e as ControllerEvents['node.capacity'];
      expect(back).toMatchObject({ nodeId: 'demo-2', market: 'spot', replacedInstanceId: od?.id });
      expect(back.atMs - fellBack.atMs).toBeGreaterThanOrEqual(1_800_000);
      await until(sim, () => {
        const cur = sim.world.currentInstance('demo-2');
        return !!cur && cur.id !== od?.id && cur.lifecycleState === 'InService' && cur.tags['berth:phase'] === 'in-service';
      }, 'demo-2 back on spot');
      expect(sim.world.currentInstance('demo-2')?.spot).toBe(true);
      // Only demo-2 was touched.
      expect(['demo-1', 'demo-3'].map((id) => sim.world.currentInstance(id)?.id)).toEqual(others);
      stop2.abort();
      await watch2;
    });
    expect(events.map((x) => (x.e as ControllerEvents['node.capacity']).market)).toEqual(['on-demand', 'spot']);
    expect(sim.account.iamDenials()).toEqual([]);
  });

  it('an interruption: the watcher tags `stopping` (observe() shows it), runs the pre-stop step and unmounts before EC2 takes the instance; the node recovers on spot', async () => {
    // No watch() here: the watcher's path alone (with watch(): the next test).
    const { sim, spec } = spotSetup(35);
    await sim.run(async () => {
      await provision(sim, spec);
      const old = sim.world.currentInstance('demo-3')?.id as string;
      sim.faults.spotInterrupt('demo-3');
      // The controller's look shows the phase the watcher tagged (berth:phase = stopping).
      const seen = async () => (await retrying(sim, () => sim.driver.observe(spec, { scope: 'instances' }))).nodes['demo-3']?.instances.find((i) => i.instanceId === old)?.phase;
      await until(sim, async () => (await seen()) === 'stopping', 'stopping seen', 1_000, 120_000);
      await until(sim, () => {
        const cur = sim.world.currentInstance('demo-3');
        return !!cur && cur.id !== old && cur.lifecycleState === 'InService' && cur.tags['berth:phase'] === 'in-service';
      }, 'demo-3 recovered');
      const trace = sim.trace.filter((e) => e.instanceId === old).map((e) => e.kind);
      expect(trace.indexOf('agent.pre-stop')).toBeGreaterThan(-1);
      expect(trace.indexOf('agent.unmounted')).toBeGreaterThan(trace.indexOf('agent.pre-stop'));
      // Unmounted before EC2 terminated it.
      const unmountedAt = sim.trace.find((e) => e.kind === 'agent.unmounted' && e.instanceId === old)?.atMs as number;
      const gone = sim.trace.find((e) => e.kind === 'instance.state' && e.instanceId === old && e['to'] === 'shutting-down')?.atMs as number;
      expect(unmountedAt).toBeLessThan(gone);
      expect(sim.world.currentInstance('demo-3')?.spot).toBe(true);
      expect(sim.world.volumeOf('demo-3')?.attachment?.instanceId).toBe(sim.world.currentInstance('demo-3')?.id);
    });
    expect(sim.account.iamDenials()).toEqual([]);
  });

  it('an interruption under watch(): the controller drains and runs beforeReplace but leaves the instance to its watcher (pre-stop, unmount) and EC2; the node recovers on spot', async () => {
    const { sim, spec } = spotSetup(37);
    await sim.run(async () => {
      await provision(sim, spec);
      const old = sim.world.currentInstance('demo-3')?.id as string;
      const c = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'watcher' });
      const preempting: string[] = [];
      c.on('node.preempting', (e) => preempting.push(e.instanceId));
      const replacing: string[] = [];
      c.on('node.replacing', (e) => replacing.push(e.instanceId));
      const stop = new AbortController();
      const watching = c.watch({ signal: stop.signal }).catch(() => undefined);
      sim.faults.spotInterrupt('demo-3');
      await until(sim, () => {
        const cur = sim.world.currentInstance('demo-3');
        return !!cur && cur.id !== old && cur.lifecycleState === 'InService' && cur.tags['berth:phase'] === 'in-service';
      }, 'demo-3 recovered');
      stop.abort();
      await watching;
      expect(preempting).toEqual([old]);
      expect(replacing).toEqual([]);
      const trace = sim.trace.filter((e) => e.instanceId === old).map((e) => e.kind);
      expect(trace).toContain('agent.pre-stop');
      expect(trace.indexOf('agent.unmounted')).toBeGreaterThan(trace.indexOf('agent.pre-stop'));
    });
    expect(sim.account.iamDenials()).toEqual([]);
  });

  it('IAM-18: the controller policy of a spot cluster lets it delete only the fallback tag of its groups', async () => {
    const { sim, spec } = spotSetup(36);
    await sim.run(async () => {
      for (const n of spec.nodes) await retrying(sim, () => sim.driver.ensureNode(spec, n.id));
      await retrying(sim, () => sim.driver.setCapacityMarket(spec, 'demo-1', 'on-demand'));
      await retrying(sim, () => sim.driver.setCapacityMarket(spec, 'demo-1', 'spot'));
      const asController = sim.awsAs(CONTROLLER_ROLE).autoScaling;
      const group = sim.world.group('demo', 'demo-1')?.name as string;
      await expect(asController.send(new DeleteTagsCommand({ Tags: [{ ResourceId: group, ResourceType: 'auto-scaling-group', Key: 'berth:node-ip' }] }))).rejects.toThrow(/not authorized to perform: autoscaling:DeleteTags/);
    });
    expect(sim.account.iamDenials().map((d) => d.action)).toEqual(['autoscaling:DeleteTags']);
  });

  it('the return to spot waits while another node is down (quorum)', async () => {
    const { sim, spec } = spotSetup(34, { spotRetryAfterSec: 300 });
    const az = spec.nodes.find((n) => n.id === 'demo-1')?.az as string;
    const events: ControllerEvents['node.capacity'][] = [];
    await sim.run(async () => {
      await provision(sim, spec);
      sim.faults.spotCapacity(az, 6 * MIN); // long enough for the fall-back (300 s) only
      sim.faults.killInstance('demo-1');
      const c = createController({ spec, driver: sim.driver, clock: sim.clock, pollIntervalMs: 10_000 });
      c.on('node.capacity', (e) => events.push(e));
      const stop = new AbortController();
      const watching = c.watch({ signal: stop.signal });
      await until(sim, () => sim.world.currentInstance('demo-1')?.lifecycleState === 'InService' && sim.world.currentInstance('demo-1')?.spot === false, 'demo-1 on-demand', 5_000);
      // demo-3 stops: taking demo-1 for spot now would leave one healthy member of three.
      sim.faults.markImageBad(spec.image, { phase: 'configuring', reason: 'held down for the test' });
      sim.faults.killInstance('demo-3');
      const since = sim.clock.now();
      // Past spotRetryAfterSec (300 s) since the fall-back: the return is due, but quorum does not allow it.
      await sim.clock.sleep(6 * MIN);
      expect(events.map((e) => e.market)).toEqual(['on-demand']);
      expect(sim.clock.now() - (events[0]?.atMs ?? Infinity)).toBeGreaterThan(300_000);
      expect(sim.clock.now() - since).toBeGreaterThanOrEqual(6 * MIN);
      stop.abort();
      await watching;
    });
  });
});
