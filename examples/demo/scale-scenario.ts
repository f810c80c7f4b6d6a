/**
 * The fleet-scale measurement behind bench/scale.ts (issue 13): a cluster of any size on the
 * simulator, rolled in part through the production AWS driver, with the roll's CPU and the
 * describe calls of each observation.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createController, defineCluster, type ClusterInput } from '@berth/core';
import { createSimulation, simulatedClusterInput } from '@berth/sim-driver';

/** Past this many nodes, only the first ROLLED are replaced. */
export const ROLLED = 20;
const NEW_IMAGE = 'ami-0fedcba9876543210';
const OBSERVE_OPS = new Set(['DescribeAutoScalingGroups', 'DescribeInstances', 'DescribeScalingActivities', 'DescribeNetworkInterfaces', 'DescribeVolumes', 'ListResourceRecordSets', 'DescribeInstanceStatus', 'ReceiveMessage']);

/** simulatedClusterInput with /20 subnets, so 999 nodes' IPs fit in three AZs, and no DNS (a record of 999 values is past Route 53's limit of 1,000 records per change, R53-5). */
export function scaleClusterInput(nodes: number): ClusterInput {
  return simulatedClusterInput({ nodes, name: 'scale', dns: false, subnetPrefix: 20 });
}

/** One size's figures. */
export interface ScaleRow {
  nodes: number;
  replaced: number;
  provisionWallMs: number;
  rollCpuMs: number;
  rollWallMs: number;
  looks: number;
  callsPerLook: number;
  instancesLook: Record<string, number>;
  fullLook: Record<string, number>;
}

/**
 * Provisions `nodes` nodes in a fresh simulation (not measured), counts one `instances` and one
 * `full` look of the converged cluster, then rolls the first min(nodes, ROLLED) nodes to a new
 * image (maxUnavailable 1) measuring the roll's CPU and the describe calls of each look.
 */
export async function measureScale(nodes: number, seed: number, options: { readonly rolled?: number; readonly profile?: string } = {}): Promise<ScaleRow> {
  // Rate limits out of the way: apply() provisions every node at once, and 999 nodes' creates
  // would spend their retries throttled. The figures here are CPU and calls, not throttling.
  const big = { capacity: 1_000_000, refillPerSec: 1_000_000 };
  const sim = createSimulation({ seed, profile: 'realistic', limits: { ec2Describe: big, ec2Mutate: big, autoscaling: big, route53: big } });
  // QUOTA-1: one group per node; past 500 the account needs a quota increase.
  if (nodes > 500) sim.account.setGroupQuota(nodes + 10);
  const input = scaleClusterInput(nodes);
  const spec = defineCluster(input);
  const next = defineCluster({ ...input, image: NEW_IMAGE });
  const toRoll = Math.min(nodes, options.rolled ?? ROLLED);
  const skip = next.nodes.slice(toRoll).map((n) => n.id);

  // Observation calls: the driver's describe calls between observe()'s entry and exit (its
  // other calls — the lease's DynamoDB calls, running meanwhile — are not describes).
  let looks = 0;
  let lookCalls = 0;
  const observe = sim.driver.observe.bind(sim.driver);
  const lookDiff = async (look: () => Promise<unknown>) => {
    const before = { ...sim.driver.apiCallCounts() };
    await look();
    const after = sim.driver.apiCallCounts();
    const diff: Record<string, number> = {};
    for (const [op, c] of Object.entries(after)) if (OBSERVE_OPS.has(op) && c !== (before[op] ?? 0)) diff[op] = c - (before[op] ?? 0);
    return diff;
  };
  const countLook = (scope: 'instances' | 'full') => lookDiff(() => observe(spec, { scope }));

  let provisionWallMs = 0;
  let rollCpuMs = 0;
  let rollWallMs = 0;
  let instancesLook: Record<string, number> = {};
  let fullLook: Record<string, number> = {};
  await sim.run(async () => {
    const t0 = performance.now();
    const provisioner = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'bench-provision' });
    await provisioner.apply();
    while (!(await provisioner.status()).converged || !sim.app.clusterHealthy()) await sim.clock.sleep(10_000);
    // The change queue still holds every node's boot events (attaching … in-service): drain it, so
    // the roll's looks are the roll's, not a backlog of ~7 messages per node read 10 at a time.
    if (sim.driver.waitForChange) while ((await sim.driver.waitForChange(spec, { timeoutMs: 1_000 })).length > 0);
    provisionWallMs = performance.now() - t0;
    instancesLook = await countLook('instances');
    fullLook = await countLook('full');

    const wrapped: typeof observe = async (s, o) => {
      let out: Awaited<ReturnType<typeof observe>> | undefined;
      const diff = await lookDiff(async () => (out = await observe(s, o)));
      looks++;
      if (process.env['SCALE_TRACE']) console.log(`look ${o?.scope} at ${sim.clock.now()} ${new Error().stack?.split('\n').slice(2, 6).map((l) => l.trim().replace(/\(.*\/(.*?)\)/, '$1')).join(' < ')}`);
      lookCalls += Object.values(diff).reduce((a, b) => a + b, 0);
      return out as Awaited<ReturnType<typeof observe>>;
    };
    // The roller's driver: the simulation's, with its observe() counted.
    const target = sim.driver;
    const driver = new Proxy({} as typeof target, {
      has: (_, prop) => prop in target,
      get(_, prop) {
        if (prop === 'observe') return wrapped;
        if (prop === 'waitForChange' && process.env['SCALE_TRACE'] && target.waitForChange) {
          const w = target.waitForChange.bind(target);
          return async (...a: Parameters<typeof w>) => {
            const r = await w(...a);
            console.log(`changes at ${sim.clock.now()}: ${r.map((c) => `${c.kind}:${c.nodeId ?? ''}:${c.detail ?? c.phase ?? ''}`).join(' ')}`);
            return r;
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    looks = 0;
    lookCalls = 0;
    const roller = createController({ spec: next, driver, clock: sim.clock, hooks: sim.hooks, holderId: 'bench-roll' });
    const profiler = options.profile ? await startProfile() : null;
    const cpu0 = process.cpuUsage();
    const w0 = performance.now();
    const report = await roller.roll({ maxUnavailable: 1, skip });
    rollWallMs = performance.now() - w0;
    const cpu = process.cpuUsage(cpu0);
    if (profiler && options.profile) await profiler.stop(options.profile);
    rollCpuMs = (cpu.user + cpu.system) / 1000;
    if (report.outcome !== 'completed') throw new Error(`${nodes} nodes: roll ${report.outcome}: ${report.haltReason}`);
  });
  return { nodes, replaced: toRoll, provisionWallMs, rollCpuMs, rollWallMs, looks, callsPerLook: lookCalls / Math.max(1, looks), instancesLook, fullLook };
}


/** A V8 CPU profile of what runs until `stop(path)`, written as a .cpuprofile (Chrome DevTools, speedscope). */
async function startProfile(): Promise<{ stop(path: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    async stop(path) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(path, JSON.stringify(profile));
      session.disconnect();
    },
  };
}
