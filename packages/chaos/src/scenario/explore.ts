import type { RollHooks } from '@berth/core';
import type { Violation } from '../invariants/evidence.js';
import { randomScenario, type RandomScenarioOptions } from './random-scenario.js';
import { replayCommand, strategyReplayCommand } from './replay-command.js';
import { runScenario, type RollFn, type ScenarioResult } from './run-scenario.js';
import { shrinkScenario } from './shrink.js';
import type { Scenario } from './scenario.js';
import { defineStrategy, type ChaosStrategy, type StrategyContext, type StrategyFaults, type StrategyRollFn, type StrategyRollOptions } from './strategy.js';
import { strategyScenario } from './strategy-run.js';

export interface ExploreOptions extends RandomScenarioOptions {
  readonly runs: number;
  /** The first scenario's seed; run i uses seed + i. */
  readonly seed: number;
  /** Seeds skipped (known failures tracked elsewhere). */
  readonly exclude?: ReadonlySet<number>;
  /** Called after every scenario. */
  readonly onResult?: (result: ScenarioResult, index: number) => void;
  readonly signal?: AbortSignal;
  /**
   * The roll under test (default: Berth's controller), as `runScenario` takes it; with a
   * strategy (or `cluster`), roll options or a strategy roll function are accepted too.
   */
  readonly roll?: RollFn | StrategyRollOptions | StrategyRollFn;
  /**
   * Play the user's strategy (their cluster, hooks, roll options, fault mix) instead of the
   * built-in generated cluster. Run i plays `strategyScenario(strategy, seed + i)`.
   */
  readonly strategy?: ChaosStrategy;
  /** Shorthand for a strategy: the cluster input (or a function of the simulation). With `roll`, `hooks`, `faults`, `targetImage`. */
  readonly cluster?: ChaosStrategy['cluster'];
  readonly hooks?: (ctx: StrategyContext) => Partial<RollHooks>;
  readonly faults?: StrategyFaults;
  readonly targetImage?: string;
  /**
   * The strategy's module path, as `berth-chaos run` loaded it: failures' replay commands name it
   * (`berth-chaos replay SEED@MODULE`).
   */
  readonly strategyModule?: string;
  /**
   * Shrink each failure's fault schedule (`shrinkScenario`, at most this many candidate runs per
   * failure); 0 or absent: no shrinking.
   */
  readonly shrinkTries?: number;
}

export interface ExploreFailure {
  readonly scenario: Scenario;
  readonly violations: readonly Violation[];
  readonly replay: string;
  /** With `shrinkTries`: the smallest schedule found that still fails, and its violations. */
  readonly shrunk?: { readonly scenario: Scenario; readonly violations: readonly Violation[]; readonly tries: number };
}

export interface ExploreSummary {
  readonly runs: number;
  readonly failures: readonly ExploreFailure[];
  readonly faultsInjected: number;
  readonly virtualMs: number;
  readonly livenessOutcomes: Readonly<Record<string, number>>;
}

/**
 * Explores `runs` seeded scenarios one after the other (swarm mode: each seed picks its own fault mix).
 *
 * @example
 * ```ts
 * const summary = await explore({ runs: 100, seed: 1 });
 * for (const f of summary.failures) console.log(f.replay);
 * ```
 */
export async function explore(options: ExploreOptions): Promise<ExploreSummary> {
  const strategy = strategyOf(options);
  const draw = (seed: number): Scenario => (strategy ? strategyScenario(strategy, seed) : randomScenario(seed, options));
  const replay = (seed: number): string => (strategy ? strategyReplayCommand(seed, strategy.name, options.strategyModule) : replayCommand(seed, options));
  const builtInRoll = typeof options.roll === 'function' ? (options.roll as RollFn) : undefined;
  const run = (sc: Scenario) => runScenario(sc, strategy ? { strategy } : builtInRoll ? { roll: builtInRoll } : {});
  const failures: ExploreFailure[] = [];
  const liveness: Record<string, number> = {};
  let faults = 0;
  let virtualMs = 0;
  let runs = 0;
  for (let i = 0; i < options.runs; i++) {
    if (options.signal?.aborted) break;
    const seed = options.seed + i;
    if (options.exclude?.has(seed)) continue;
    const scenario = draw(seed);
    const result = await run(scenario);
    runs++;
    faults += scenario.faults.length;
    virtualMs += result.virtualMs;
    const key = result.liveness?.outcome ?? 'none';
    liveness[key] = (liveness[key] ?? 0) + 1;
    if (!result.ok) {
      let shrunk: ExploreFailure['shrunk'];
      if (options.shrinkTries) {
        const found = await shrinkScenario(scenario, async (c) => !(await run(c)).ok, { maxTries: options.shrinkTries });
        shrunk = { scenario: found.scenario, violations: (await run(found.scenario)).violations, tries: found.tries };
      }
      failures.push({ scenario, violations: result.violations, replay: replay(seed), ...(shrunk && { shrunk }) });
    }
    options.onResult?.(result, i);
  }
  return { runs, failures, faultsInjected: faults, virtualMs, livenessOutcomes: liveness };
}

/** The strategy `explore` plays: `options.strategy`, or one made of `cluster`/`roll`/`hooks`/`faults`; null: built-in scenarios. */
function strategyOf(o: ExploreOptions): ChaosStrategy | null {
  if (o.strategy) {
    if (o.cluster !== undefined) throw new Error('explore: give either strategy or cluster (with roll/hooks/faults), not both');
    if (o.roll !== undefined || o.hooks !== undefined || o.faults !== undefined) throw new Error('explore: a strategy carries its own roll, hooks and faults; give them in the strategy, not beside it');
    return o.strategy;
  }
  if (o.cluster === undefined) {
    if (o.hooks !== undefined || o.faults !== undefined || o.targetImage !== undefined) throw new Error('explore: hooks, faults and targetImage need a cluster (or a strategy)');
    if (o.roll !== undefined && typeof o.roll !== 'function') throw new Error('explore: roll options need a cluster (or a strategy); built-in scenarios take a roll function');
    return null;
  }
  return defineStrategy({
    name: 'inline',
    cluster: o.cluster,
    ...(o.roll !== undefined && { roll: o.roll as StrategyRollOptions | StrategyRollFn }),
    ...(o.hooks && { hooks: o.hooks }),
    ...(o.faults && { faults: o.faults }),
    ...(o.targetImage && { targetImage: o.targetImage }),
    ...(o.profile && { profile: o.profile }),
  });
}
