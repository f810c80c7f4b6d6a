import { BerthDriverError, defineCluster, type ClusterSpec, type InstanceObservation } from '@berth/core';
import { createSimulation, simulatedClusterInput, type Simulation, type SimulatedClusterOptions, type SimulationOptions } from '../src/index.js';

export function setup(
  simOptions: SimulationOptions = {},
  clusterOptions: SimulatedClusterOptions = {},
): { sim: Simulation; spec: ClusterSpec } {
  const sim = createSimulation({ seed: 1, profile: 'fast', ...simOptions });
  const spec = defineCluster(simulatedClusterInput({ nodes: 3, ...clusterOptions }));
  return { sim, spec };
}

/** Waits (virtual time) until `cond` holds, polling every `stepMs`. */
export async function until(sim: Simulation, cond: () => boolean | Promise<boolean>, what: string, stepMs = 1_000, maxMs = 6 * 3600_000): Promise<void> {
  const start = sim.clock.now();
  while (!(await cond())) {
    if (sim.clock.now() - start > maxMs) throw new Error(`timed out waiting for ${what}`);
    await sim.clock.sleep(stepMs);
  }
}

/** Retries throttled calls the way core's runtime wrapper does (tests use the raw driver). */
export async function retrying<T>(sim: Simulation, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof BerthDriverError) || !e.retryable || attempt > 20) throw e;
      await sim.clock.sleep(1_000 * Math.min(attempt + 1, 5));
    }
  }
}

/**
 * Provisions every node and waits until each instance is InService and its bootstrap has
 * reported `in-service` (its last step, after CompleteLifecycleAction), and the app is healthy.
 */
export async function provision(sim: Simulation, spec: ClusterSpec): Promise<void> {
  for (const n of spec.nodes) await retrying(sim, () => sim.driver.ensureNode(spec, n.id));
  const done = (nodeId: string): boolean => {
    const i = sim.world.currentInstance(nodeId);
    return i?.lifecycleState === 'InService' && i.tags['berth:phase'] === 'in-service';
  };
  await until(sim, () => spec.nodes.every((n) => done(n.id)) && sim.app.clusterHealthy(), 'cluster in service');
}

export async function currentInstance(sim: Simulation, spec: ClusterSpec, nodeId: string): Promise<InstanceObservation | null> {
  const obs = await sim.driver.observe(spec, { scope: 'instances' });
  return obs.nodes[nodeId]?.instances.find((i) => i.ec2State === 'pending' || i.ec2State === 'running') ?? null;
}

/**
 * What a controller does for one node, driven by waitForChange: replace, then wait for the
 * replacement's launch event (Auto Scaling's "Launch Successful", sent once it is InService)
 * and the application's health. (The queue also carries the bootstrap's phases: they are skipped here.)
 */
export async function replaceNode(sim: Simulation, spec: ClusterSpec, nodeId: string): Promise<string> {
  const old = sim.world.currentInstance(nodeId);
  if (!old) throw new Error(`no instance for ${nodeId}`);
  const observation = await retrying(sim, () => sim.driver.observe(spec, { scope: 'instances' }));
  await sim.hooks.beforeReplace?.(nodeId, { spec, observation, signal: new AbortController().signal });
  await retrying(sim, () => sim.driver.replaceInstance(spec, nodeId, old.id));
  for (;;) {
    const changes = await retrying(sim, () => sim.driver.waitForChange!(spec, { timeoutMs: 60_000 }));
    const inService = changes.some((c) => c.nodeId === nodeId && c.kind === 'lifecycle' && c.detail === 'InService');
    if (inService || changes.length === 0) {
      const cur = sim.world.currentInstance(nodeId);
      if (cur && cur.id !== old.id && cur.lifecycleState === 'InService' && sim.app.clusterHealthy()) return cur.id;
    }
  }
}
