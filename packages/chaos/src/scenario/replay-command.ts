import { describeFault } from '../faults/fault.js';
import type { Violation } from '../invariants/evidence.js';
import type { RandomScenarioOptions } from './random-scenario.js';
import { replayRecipe, replayToken, strategyToken } from './replay-token.js';
import type { Scenario } from './scenario.js';

/**
 * The one line that replays a `pnpm chaos` scenario: a replay token that carries the seed and
 * every generator option (profile, sizes, fault count, kinds), so no flag can change what it draws.
 */
export function replayCommand(seed: number, options: RandomScenarioOptions = {}): string {
  return `pnpm chaos --replay ${replayToken(replayRecipe(seed, options))}`;
}

/**
 * The line that replays run `seed` of a strategy: `berth-chaos replay SEED@MODULE` when the
 * strategy came from a module, else the `explore` call that plays that one seed.
 *
 * @example
 * ```ts
 * strategyReplayCommand(41, 'kafka', 'examples/chaos/kafka-strategy.ts'); // 'berth-chaos replay 41@examples/chaos/kafka-strategy.ts'
 * ```
 */
export function strategyReplayCommand(seed: number, name: string, modulePath?: string): string {
  return modulePath ? `berth-chaos replay ${strategyToken(seed, modulePath)}` : `explore({ strategy: ${JSON.stringify(name)}, seed: ${seed}, runs: 1 })`;
}

/** A failure as people read it: seed, the (shrunk) schedule, violations and how to replay. */
export function formatFailure(scenario: Scenario, violations: readonly Violation[], replay: string): string {
  const lines = [
    `chaos failure: seed ${scenario.seed}, ${scenario.nodes} nodes, ${scenario.profile} profile, maxUnavailable ${scenario.maxUnavailable}`,
    `fault schedule (${scenario.faults.length}):`,
    ...scenario.faults.map((f) => `  ${describeFault(f)}`),
    ...(scenario.crashPoint ? [`  crash at call #${scenario.crashPoint.index} (${scenario.crashPoint.when}, restart ${scenario.crashPoint.restart})`] : []),
    'violations:',
    ...violations.map((v) => `  [${v.invariant}] +${v.atMs}ms ${v.message}`),
    `scenario: ${JSON.stringify(scenario)}`,
    `replay: ${replay}`,
  ];
  return lines.join('\n');
}
