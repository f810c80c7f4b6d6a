import { createPrng, defineCluster, type ClusterInput, type ClusterSpec, type RollHooks } from '@berth/core';
import { createSimulation, type Simulation } from '@berth/sim-driver';
import type { Fault } from '../faults/fault.js';
import { randomScenario } from './random-scenario.js';
import type { Scenario } from './scenario.js';
import type { ChaosStrategy, StrategyContext, StrategyRollOptions } from './strategy.js';
import type { RollFn } from './run-scenario.js';

/** A strategy made concrete for one simulation: the specs, hooks and roll the run uses. */
export interface ResolvedStrategy {
  readonly input: ClusterInput;
  /** What is provisioned (the user's image) and what the roll goes to (the target image). */
  readonly spec0: ClusterSpec;
  readonly spec: ClusterSpec;
  readonly targetImage: string;
  readonly hooks: RollHooks | null;
  /** The strategy's own roll function (bound to its context), if it gave one. */
  readonly roll: RollFn | null;
  readonly rollOptions: StrategyRollOptions;
}

/** The region a strategy's cluster lives in, when it can be read without a simulation. */
export function strategyRegion(strategy: ChaosStrategy): string | undefined {
  return typeof strategy.cluster === 'function' ? undefined : strategy.cluster.region;
}

/** The context of a strategy run (its PRNG is the seed's `strategy` stream). */
export function strategyContext(sim: Simulation, seed: number, profile: 'fast' | 'realistic', spec?: ClusterSpec): StrategyContext {
  return { sim, seed, profile, rng: createPrng(seed).derive('strategy'), ...(spec && { spec }) };
}

/**
 * Evaluates the strategy in `sim`: its cluster input (defined with `defineCluster`, whose errors
 * name the field), the target spec, its hooks (over the simulation's application hooks, which
 * stand in for any hook the strategy does not give) and its roll.
 *
 * @example
 * ```ts
 * const sim = createSimulation({ seed: 7, region: 'eu-west-1' });
 * const { spec0, spec, hooks } = resolveStrategy(strategy, sim, 7, 'fast', TARGET_IMAGE);
 * ```
 */
export function resolveStrategy(strategy: ChaosStrategy, sim: Simulation, seed: number, profile: 'fast' | 'realistic', targetDefault: string): ResolvedStrategy {
  const ctx0 = strategyContext(sim, seed, profile);
  const input = typeof strategy.cluster === 'function' ? strategy.cluster(ctx0) : strategy.cluster;
  if (input.region !== undefined && input.region !== sim.options.region) {
    throw new Error(`chaos strategy '${strategy.name}': cluster.region is ${input.region}, the simulation's account is in ${sim.options.region} (a cluster function must keep the region; give the cluster input itself to choose it)`);
  }
  const spec0 = defineCluster(input);
  const targetImage = strategy.targetImage ?? targetDefault;
  const spec = defineCluster({ ...input, image: targetImage });
  const ctx = strategyContext(sim, seed, profile, spec);
  const own = strategy.hooks?.(ctx) ?? null;
  const hooks = own ? { ...sim.hooks, ...own } : null;
  const r = strategy.roll;
  const roll: RollFn | null = typeof r === 'function' ? (args) => r(args, ctx) : null;
  return { input, spec0, spec, targetImage, hooks, roll, rollOptions: typeof r === 'function' || r === undefined ? {} : r };
}

/**
 * The scenario a seed stands for under a strategy: the same draw as `randomScenario` (fault mix,
 * schedule, crash of none) over the strategy's cluster — its node count, its node ids, its fault
 * kinds, count and weights, its profile — with the strategy's `maxUnavailable` when it sets one.
 * Throws (naming the field) when the strategy's cluster is not a valid spec.
 *
 * @example
 * ```ts
 * const scenario = strategyScenario(strategy, 1234);
 * const result = await runScenario(scenario, { strategy });
 * ```
 */
export function strategyScenario(strategy: ChaosStrategy, seed: number): Scenario {
  const profile = strategy.profile ?? 'fast';
  const region = strategyRegion(strategy);
  const input =
    typeof strategy.cluster === 'function'
      ? strategy.cluster(strategyContext(createSimulation({ seed, profile, ...(region && { region }) }), seed, profile))
      : strategy.cluster;
  const spec = defineCluster(input);
  const ids = spec.nodes.map((n) => n.id);
  const f = strategy.faults ?? {};
  const drawn = randomScenario(seed, {
    profile,
    sizes: [ids.length],
    ...(f.kinds && { kinds: f.kinds }),
    ...(f.maxFaults !== undefined && { maxFaults: f.maxFaults }),
    ...(f.weights && { weights: f.weights }),
  });
  const r = strategy.roll;
  const maxUnavailable = typeof r === 'object' && r.maxUnavailable !== undefined ? r.maxUnavailable : drawn.maxUnavailable;
  // The generator names nodes chaos-1 … chaos-N: the strategy's nodes, in spec order.
  const rename = (id: string): string => ids[Number(/^chaos-(\d+)$/.exec(id)?.[1] ?? 0) - 1] ?? id;
  const faults = drawn.faults.map((x) => ('nodeId' in x ? { ...x, nodeId: rename(x.nodeId) } : x) as Fault);
  return { ...drawn, maxUnavailable, faults };
}
