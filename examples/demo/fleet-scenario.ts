/**
 * The fleet benchmark's scenario (bench/fleet.ts): clusters of one simulated AWS watched for a
 * while, by plain watch() loops at the intervals watch() had before fleet mode (`before`) or at
 * today's defaults (`plain`), or by createFleet() (`fleet`), counting the calls
 * every rate-limited service answered. Lives here because examples/ resolves the built packages.
 */
import { createController, createFleet, defineCluster, type ClusterSpec } from '@berth/core';
import { createSimulation, simulatedClusterInput, type Simulation } from '@berth/sim-driver';

/** What one run does. */
export interface FleetScenarioOptions {
  readonly clusters: number;
  readonly nodes: number;
  readonly minutes: number;
  readonly seed: number;
  /** Called at the end of the watched time, before the simulation is dropped (memory checks). */
  readonly inspect?: (sim: Simulation) => void;
}

let peakRss = 0;
const sampleRss = () => {
  const rss = process.memoryUsage().rss;
  if (rss > peakRss) peakRss = rss;
};

/** `count` clusters of `nodes` nodes each with its own addresses in the shared subnets. */
function fleetSpecs(count: number, nodes: number): ClusterSpec[] {
  return Array.from({ length: count }, (_, c) => defineCluster(simulatedClusterInput({ name: `c${String(c + 1).padStart(3, '0')}`, nodes, addressOffset: c * nodes })));
}

export type Bucket = 'ec2Describe' | 'ec2Mutate' | 'autoscaling' | 'route53' | 'dynamodb' | 'sqs' | 'other';
/** The simulator's bucket a call draws on (dynamodb, sqs: not rate-limited there). */
const bucketOf = (service: string, operation: string): Bucket =>
  service === 'ec2' ? (operation.startsWith('Describe') ? 'ec2Describe' : 'ec2Mutate') : service === 'autoscaling' || service === 'route53' || service === 'dynamodb' || service === 'sqs' ? service : 'other';

export interface FleetScenarioResult {
  mode: string;
  wallS: number;
  calls: Record<Bucket, number>;
  throttled: Record<Bucket, number>;
  byOp: Map<string, number>;
  failures: number;
  warnings: string[];
  kills: number;
  /** Peak RSS while watching (provisioning excluded), and RSS when watching began. */
  peakRssMb: number;
  rssAtWatchStartMb: number;
  /** Heap in use after a full GC at the end of the hour (0 without node --expose-gc). */
  liveHeapMb: number;
  refill: Partial<Record<Bucket, number>>;
}

/** Runs one mode in a fresh simulation; `peakRssMb` is the process's peak while it ran. */
export async function runFleetScenario(which: 'before' | 'plain' | 'fleet', o: FleetScenarioOptions): Promise<FleetScenarioResult> {
  const { seed, minutes } = o;
  const clusterCount = o.clusters;
  const nodeCount = o.nodes;
  peakRss = 0;
  const sim: Simulation = createSimulation({ seed, profile: 'realistic' });
  const specs = fleetSpecs(clusterCount, nodeCount);
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message.slice(0, 120)}`);
  process.on('warning', onWarning);
  const zero = (): Record<Bucket, number> => ({ ec2Describe: 0, ec2Mutate: 0, autoscaling: 0, route53: 0, dynamodb: 0, sqs: 0, other: 0 });
  const calls = zero();
  const throttled = zero();
  const byOp = new Map<string, number>();
  let counting = false;
  let n = 0;
  sim.onApiCall((c) => {
    if (++n % 2000 === 0) sampleRss();
    if (!counting) return;
    const b = bucketOf(c.service, c.operation);
    calls[b]++;
    byOp.set(`${c.service}:${c.operation}`, (byOp.get(`${c.service}:${c.operation}`) ?? 0) + 1);
    if (c.errorCode && /Throttl|RequestLimitExceeded|Rate/i.test(c.errorCode)) throttled[b]++;
  });
  let failures = 0;
  let kills = 0;
  let rssAtWatchStart = 0;
  let liveHeap = 0;
  const t0 = performance.now();
  await sim.run(async () => {
    // Provision every cluster, ten at a time (not measured).
    const provisioners = specs.map((spec) => createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: `provision-${spec.name}` }));
    // apply() is idempotent: one throttled beyond the runtime's retries runs again.
    const provision = async (c: (typeof provisioners)[number]) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await c.apply();
        } catch (err) {
          if (attempt >= 10) throw err;
          await sim.clock.sleep(30_000);
        }
      }
    };
    for (let i = 0; i < provisioners.length; i += 5) await Promise.all(provisioners.slice(i, i + 5).map(provision));
    await sim.waitUntil(() => specs.every((s) => s.nodes.every((nd) => sim.world.currentInstance(nd.id)?.lifecycleState === 'InService')), { everyMs: 10_000, timeoutMs: 3_600_000 });
    sampleRss();
    rssAtWatchStart = process.memoryUsage().rss;
    peakRss = 0;
    console.error(`${which}: ${specs.length} clusters provisioned in ${((performance.now() - t0) / 1000).toFixed(0)} s wall`);
    const stop = new AbortController();
    counting = true;
    const start = sim.clock.now();
    let running: Promise<unknown>;
    if (which !== 'fleet') {
      running = Promise.all(
        specs.map((spec) =>
          createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: `watch-${spec.name}` })
            // `before`: the intervals watch() had before fleet mode (10 s, a full look every fifth);
            // `plain`: today's watch() defaults, without a fleet.
            .watch({ signal: stop.signal, ...(which === 'before' && { intervalMs: 10_000, fullLookIntervalMs: 50_000 }) })
            .catch(() => void failures++),
        ),
      );
    } else {
      const fleet = createFleet({ clusters: specs.map((spec) => ({ spec, hooks: sim.hooks })), driver: sim.driver, clock: sim.clock, seed, holderId: 'fleet-1' });
      fleet.on('cluster.failed', () => void failures++);
      running = fleet.run({ signal: stop.signal });
    }
    // A few faults: an instance killed every ten minutes, in a different cluster each time.
    for (let t = 1; t <= Math.floor(minutes / 10); t++) {
      await sim.clock.sleep(start + t * 600_000 - 300_000 - sim.clock.now());
      const spec = specs[(t * 37) % specs.length] as ClusterSpec;
      sim.faults.killInstance((spec.nodes[t % spec.nodes.length] as { id: string }).id);
      kills++;
      console.error(`${which}: ${t * 10 - 5} simulated minutes, ${((performance.now() - t0) / 1000).toFixed(0)} s wall`);
    }
    await sim.clock.sleep(Math.max(0, start + minutes * 60_000 - sim.clock.now()));
    counting = false;
    sampleRss();
    // With node --expose-gc: the live heap at the end of the hour (what V8 keeps is more).
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) {
      gc();
      liveHeap = process.memoryUsage().heapUsed;
    }
    o.inspect?.(sim);
    stop.abort();
    await running;
  });
  sampleRss();
  process.off('warning', onWarning);
  return { refill: { ec2Describe: sim.options.limits.ec2Describe.refillPerSec, ec2Mutate: sim.options.limits.ec2Mutate.refillPerSec, autoscaling: sim.options.limits.autoscaling.refillPerSec, route53: sim.options.limits.route53.refillPerSec }, mode: which, wallS: (performance.now() - t0) / 1000, calls, throttled, byOp, failures, warnings, kills, peakRssMb: peakRss / 1024 / 1024, rssAtWatchStartMb: rssAtWatchStart / 1024 / 1024, liveHeapMb: liveHeap / 1024 / 1024 };
}

