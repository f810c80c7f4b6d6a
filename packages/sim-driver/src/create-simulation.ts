import { createPrng, type Clock, type Driver, type Prng, type RollHooks } from '@berth/core';
import { AgentHost } from './agent.js';
import { QuorumApp, type AppStatus } from './app.js';
import { AwsApi } from './aws-api.js';
import { FaultState } from './fault-state.js';
import { createFaults, type SimFaults } from './faults.js';
import { resolveSimOptions, type ResolvedSimOptions, type SimulationOptions } from './options.js';
import { Scheduler, type RunOptions } from './scheduler.js';
import { SimClock } from './sim-clock.js';
import { STREAMS, type SimContext, type StreamName } from './sim-context.js';
import { SimDriver } from './sim-driver.js';
import { createSimHooks } from './sim-hooks.js';
import { registerContext } from './internal.js';
import { SimWorld } from './sim-world.js';
import { TraceRecorder, type TraceEntry, type TraceListener } from './trace.js';
import { AutoScaling } from './world/autoscaling.js';
import { ChangeFeed } from './world/change-feed.js';
import { Ec2 } from './world/ec2.js';
import { Route53 } from './world/route53.js';
import { WorldState } from './world/world-state.js';

/** The simulated quorum application, as tests and invariant checkers see it. */
export interface SimApp {
  status(): AppStatus;
  /** Who leads now (null during an election). */
  leaderId(): string | null;
  /** A leader with a quorum of healthy members. */
  available(): boolean;
  /** Available, and every up member caught up. */
  clusterHealthy(): boolean;
  /** Makes the leader step down (a new election among the others); false when `nodeId` does not lead. */
  stepDown(nodeId: string): boolean;
}

export interface Simulation {
  readonly seed: number;
  /** Resolved options (profile timings, limits...), frozen and printable. */
  readonly options: ResolvedSimOptions;
  readonly driver: Driver & { apiCallCounts(): Readonly<Record<string, number>> };
  readonly clock: Clock;
  /** Every state change, in order. */
  readonly trace: readonly TraceEntry[];
  readonly world: SimWorld;
  readonly faults: SimFaults;
  readonly app: SimApp;
  readonly hooks: RollHooks;
  /** Runs `fn` under virtual time and returns (or throws) what it does. */
  run<T>(fn: () => T | Promise<T>, options?: RunOptions): Promise<T>;
  /** Called with every new trace entry (e.g. continuous invariant checks). Returns an unsubscribe. */
  onTrace(listener: TraceListener): () => void;
}

/**
 * Creates a deterministic simulation of the AWS services Berth uses (EC2, EBS, Auto Scaling,
 * Route 53, the lock table and the change queue), of the node bootstrap, and of a quorum
 * application. One seed gives one run, bit for bit.
 *
 * @example
 * ```ts
 * import { defineCluster } from '@berth/core';
 * import { createSimulation, simulatedClusterInput } from '@berth/sim-driver';
 *
 * const sim = createSimulation({ seed: 42, profile: 'realistic' });
 * const spec = defineCluster(simulatedClusterInput({ nodes: 5 }));
 * await sim.run(async () => {
 *   for (const node of spec.nodes) await sim.driver.ensureNode(spec, node.id);
 *   while (!sim.app.clusterHealthy()) await sim.clock.sleep(10_000);
 * });
 * console.log(`seed ${sim.seed}: healthy after ${sim.world.elapsedMs} ms`, sim.driver.apiCallCounts());
 * ```
 */
export function createSimulation(options: SimulationOptions = {}): Simulation {
  const resolved = resolveSimOptions(options);
  const scheduler = new Scheduler(resolved.startTimeMs, resolved.maxVirtualMs);
  const trace = new TraceRecorder(() => scheduler.nowMs);
  const root = createPrng(resolved.seed);
  const rng = Object.fromEntries(STREAMS.map((s) => [s, root.derive(s)])) as Record<StreamName, Prng>;
  const ctx = { options: resolved, scheduler, trace, rng, state: new WorldState(), faults: new FaultState() } as Partial<Record<keyof SimContext, unknown>>;
  const c = ctx as unknown as SimContext;
  Object.assign(ctx, {
    ec2: new Ec2(c),
    asg: new AutoScaling(c),
    route53: new Route53(c),
    changes: new ChangeFeed(c),
    app: new QuorumApp(c),
    agents: new AgentHost(c),
  });
  ctx.api = new AwsApi(c);
  const driver = new SimDriver(c);
  const app: SimApp = {
    status: () => c.app.status(),
    leaderId: () => c.app.leaderId,
    available: () => c.app.available(),
    clusterHealthy: () => c.app.clusterHealthy(),
    stepDown: (nodeId) => c.app.stepDown(nodeId),
  };
  trace.record('sim.started', { seed: resolved.seed, profile: resolved.profile });
  const sim: Simulation = {
    seed: resolved.seed,
    options: resolved,
    driver,
    clock: new SimClock(scheduler),
    trace: trace.entries,
    world: new SimWorld(c),
    faults: createFaults(c),
    app,
    hooks: createSimHooks(c),
    run: (fn, options) => scheduler.run(fn, options),
    onTrace: (l) => trace.subscribe(l),
  };
  registerContext(sim, c);
  return sim;
}
