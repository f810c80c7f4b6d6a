import type { Violation } from '../invariants/evidence.js';
import { randomScenario, type RandomScenarioOptions } from './random-scenario.js';
import { replayCommand } from './replay-command.js';
import { runScenario, type RollFn, type ScenarioResult } from './run-scenario.js';
import { shrinkScenario } from './shrink.js';
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
  /** The roll under test (default: Berth's controller), as `runScenario` takes it. */
  readonly roll?: RollFn;
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
    const run = (sc: Scenario) => runScenario(sc, options.roll ? { roll: options.roll } : {});
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
      failures.push({ scenario, violations: result.violations, replay: replayCommand(seed, options), ...(shrunk && { shrunk }) });
    }
    options.onResult?.(result, i);
  }
  return { runs, failures, faultsInjected: faults, virtualMs, livenessOutcomes: liveness };
}
