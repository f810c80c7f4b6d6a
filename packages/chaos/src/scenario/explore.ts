import type { Violation } from '../invariants/evidence.js';
import { randomScenario, type RandomScenarioOptions } from './random-scenario.js';
import { replayCommand } from './replay-command.js';
import { runScenario, type ScenarioResult } from './run-scenario.js';
import type { Scenario } from './scenario.js';

export interface ExploreOptions extends RandomScenarioOptions {
  readonly runs: number;
  /** The first scenario's seed; run i uses seed + i. */
  readonly seed: number;
  /** Seeds skipped (known failures tracked elsewhere). */
  readonly exclude?: ReadonlySet<number>;
  /** Called after every scenario. */
  readonly onResult?: (result: ScenarioResult, index: number) => void;
  readonly signal?: AbortSignal;
}

export interface ExploreFailure {
  readonly scenario: Scenario;
  readonly violations: readonly Violation[];
  readonly replay: string;
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
  const failures: ExploreFailure[] = [];
  const liveness: Record<string, number> = {};
  let faults = 0;
  let virtualMs = 0;
  let runs = 0;
  for (let i = 0; i < options.runs; i++) {
    if (options.signal?.aborted) break;
    const seed = options.seed + i;
    if (options.exclude?.has(seed)) continue;
    const scenario = randomScenario(seed, options);
    const result = await runScenario(scenario);
    runs++;
    faults += scenario.faults.length;
    virtualMs += result.virtualMs;
    const key = result.liveness?.outcome ?? 'none';
    liveness[key] = (liveness[key] ?? 0) + 1;
    if (!result.ok) failures.push({ scenario, violations: result.violations, replay: replayCommand(seed, options) });
    options.onResult?.(result, i);
  }
  return { runs, failures, faultsInjected: faults, virtualMs, livenessOutcomes: liveness };
}
