// watch({ onStuck }) on the production AWS driver over the simulator. Simulator only: moto
// implements no lifecycle hooks (its instances never wait in Pending:Wait, and
// CompleteLifecycleAction answers HTTP 500), so a stuck launch cannot be shown there.
import { createController, defaultStuckAfterMs, defineCluster, type ClusterSpec, type ControllerEvents } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput, type Simulation } from '../src/index.js';
import { until } from './helpers.js';

function setup(seed: number, bootstrap: { attachTimeoutSec: number }, heartbeatTimeoutSec = 300) {
  const sim = createSimulation({ seed, profile: 'fast' });
  const input = simulatedClusterInput({ nodes: 3, onFailure: 'wait', heartbeatTimeoutSec });
  const spec = defineCluster({ ...input, bootstrap: { ...input.bootstrap, ...bootstrap } });
  return { sim, spec };
}

async function provision(sim: Simulation, spec: ClusterSpec): Promise<void> {
  const c = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'provisioner' });
  await c.apply();
  await until(sim, async () => (await c.status()).converged && sim.app.clusterHealthy(), 'cluster converged');
}

type Log = { name: keyof ControllerEvents; e: Record<string, unknown> }[];

function record(c: ReturnType<typeof createController>): Log {
  const log: Log = [];
  for (const name of ['node.stuck', 'node.abandoned', 'node.abandon-deferred', 'node.recovered', 'node.paused'] as const) {
    c.on(name, (e) => log.push({ name, e: e as unknown as Record<string, unknown> }));
  }
  return log;
}

const live = (sim: Simulation, nodeId: string) => sim.world.instancesOf(nodeId).filter((i) => i.ec2State !== 'terminated' && i.ec2State !== 'shutting-down');

describe('stuck nodes (simulator only)', () => {
  it('ASG-23: a launch held in Pending:Wait past the bound is reported with its phase and reason, abandoned once, and the group launches an instance that boots', async () => {
    const { sim, spec } = setup(41, { attachTimeoutSec: 120 });
    await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'watcher' });
      const log = record(c);
      const ac = new AbortController();
      // The new instance's volume attach hangs past the bootstrap's attach timeout: it reports
      // failed:attaching:attach-timeout and (onFailure: wait) holds its launch, heartbeating.
      sim.faults.stuckAttach('demo-2', 420_000);
      sim.faults.killInstance('demo-2');
      const watching = c.watch({ signal: ac.signal, onStuck: 'abandon', stuckAfterMs: 300_000, repairDns: false });
      await until(sim, () => log.some((l) => l.name === 'node.abandoned'), 'abandoned', 5_000, 3600_000);
      const stuck = log.filter((l) => l.name === 'node.stuck');
      expect(stuck).toHaveLength(1);
      const first = stuck[0]?.e as ControllerEvents['node.stuck'];
      expect(first).toMatchObject({ nodeId: 'demo-2', lifecycleState: 'Pending:Wait', reason: 'attaching: attach-timeout', phase: 'failed (attaching: attach-timeout)' });
      expect(first.stuckMs).toBeGreaterThan(300_000);
      const abandoned = log.find((l) => l.name === 'node.abandoned')?.e as ControllerEvents['node.abandoned'];
      expect(abandoned.instanceId).toBe(first.instanceId);
      expect(sim.world.instance(first.instanceId as string)?.ec2State).toMatch(/shutting-down|terminated/);
      // The group launches another, which boots (the attach fault is over by then).
      await until(sim, () => live(sim, 'demo-2').some((i) => i.id !== first.instanceId && i.lifecycleState === 'InService' && i.tags['berth:phase'] === 'in-service'), 'a new demo-2 in service', 5_000, 3600_000);
      await sim.clock.sleep(600_000);
      ac.abort();
      await watching;
      expect(log.filter((l) => l.name === 'node.abandoned')).toHaveLength(1);
      expect(log.filter((l) => l.name === 'node.abandon-deferred')).toEqual([]);
      expect(log.some((l) => l.name === 'node.recovered')).toBe(true);
    });
    expect(sim.account.iamDenials()).toEqual([]);
  });

  it("onStuck 'report' only reports, once per instance; status() lists the node as stuck past the default bound", async () => {
    const { sim, spec } = setup(42, { attachTimeoutSec: 120 });
    await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'watcher' });
      const log = record(c);
      sim.faults.stuckAttach('demo-3', 100_000_000);
      sim.faults.killInstance('demo-3');
      const ac = new AbortController();
      const watching = c.watch({ signal: ac.signal, stuckAfterMs: 300_000, repairDns: false });
      const bound = defaultStuckAfterMs(spec);
      expect(bound).toBe((120 + 600 + 900 + 300) * 1000);
      await sim.clock.sleep(bound + 120_000);
      ac.abort();
      await watching;
      expect(log.map((l) => l.name)).toEqual(['node.stuck']);
      const stuckInstance = live(sim, 'demo-3')[0];
      expect(stuckInstance?.lifecycleState).toBe('Pending:Wait');
      const status = await c.status();
      expect(status.stuck).toEqual([
        expect.objectContaining({ nodeId: 'demo-3', instanceId: stuckInstance?.id, lifecycleState: 'Pending:Wait', reason: 'attaching: attach-timeout' }),
      ]);
      expect(status.stuck[0]?.stuckMs).toBeGreaterThan(bound);
    });
  });

  it('abandon is deferred when the other nodes hold no quorum and the stuck instances are still booting; and while another controller holds the lease', async () => {
    // A long attach timeout: the instances keep attaching (no failure reported), heartbeating.
    const { sim, spec } = setup(43, { attachTimeoutSec: 3_600 }, 600);
    await sim.run(async () => {
      await provision(sim, spec);
      const c = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'watcher' });
      const log = record(c);
      sim.faults.stuckAttach('demo-2', 100_000_000);
      sim.faults.stuckAttach('demo-3', 100_000_000);
      sim.faults.killInstance('demo-2');
      sim.faults.killInstance('demo-3');
      const ac = new AbortController();
      const watching = c.watch({ signal: ac.signal, onStuck: 'abandon', stuckAfterMs: 300_000, repairDns: false });
      await sim.clock.sleep(900_000);
      ac.abort();
      await watching;
      const deferred = log.filter((l) => l.name === 'node.abandon-deferred').map((l) => l.e as ControllerEvents['node.abandon-deferred']);
      expect(deferred.map((d) => d.nodeId).sort()).toEqual(['demo-2', 'demo-3']);
      for (const d of deferred) expect(d.reason).toMatch(/the other nodes hold no quorum \(1 healthy, quorum 2\) and i-\w+ is still booting \(attaching\)/);
      expect(log.some((l) => l.name === 'node.abandoned')).toBe(false);
      for (const id of ['demo-2', 'demo-3']) expect(live(sim, id).map((i) => i.lifecycleState)).toEqual(['Pending:Wait']);
    });

    const other = setup(44, { attachTimeoutSec: 120 });
    await other.sim.run(async () => {
      const { sim, spec } = other;
      await provision(sim, spec);
      const c = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'watcher' });
      const log = record(c);
      sim.faults.stuckAttach('demo-1', 100_000_000);
      sim.faults.killInstance('demo-1');
      await sim.driver.lock.acquire(spec, { holder: 'roller', session: 'roll-1', ttlMs: 3_600_000 });
      const ac = new AbortController();
      const watching = c.watch({ signal: ac.signal, onStuck: 'abandon', stuckAfterMs: 300_000, repairDns: false });
      await sim.clock.sleep(900_000);
      ac.abort();
      await watching;
      const deferred = log.filter((l) => l.name === 'node.abandon-deferred').map((l) => l.e as ControllerEvents['node.abandon-deferred']);
      expect(deferred).toHaveLength(1);
      expect(deferred[0]?.reason).toMatch(/another controller holds the cluster's lease/);
      expect(log.some((l) => l.name === 'node.abandoned')).toBe(false);
    });
  });

  it('watch() refuses bad onStuck and stuckAfterMs before any call', async () => {
    const { sim, spec } = setup(45, { attachTimeoutSec: 120 });
    const c = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks });
    sim.driver.resetApiCallCounts();
    const signal = new AbortController().signal;
    await expect(c.watch({ signal, onStuck: 'kill' as never })).rejects.toThrow(/onStuck must be 'report' or 'abandon', got "kill"/);
    await expect(c.watch({ signal, stuckAfterMs: -1 })).rejects.toThrow(/stuckAfterMs must be a positive number/);
    expect(sim.driver.apiCallCounts()).toEqual({});
  });
});
