import { describeFault } from '../faults/fault.js';
import type { Violation } from '../invariants/evidence.js';
import type { Scenario } from './scenario.js';

/** The one line that replays a `pnpm chaos` seed. */
export function replayCommand(seed: number, profile: 'fast' | 'realistic' = 'fast'): string {
  return `pnpm chaos --replay ${seed}${profile === 'realistic' ? ' --profile realistic' : ''}`;
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
