import type { Scenario } from './scenario.js';

/** A shrunk failing scenario and how many candidate scenarios it took. */
export interface ShrinkResult {
  readonly scenario: Scenario;
  /** Candidates run (each one scenario run). */
  readonly tries: number;
}

/**
 * Minimises a failing scenario's fault schedule by delta debugging (ddmin, Zeller): drops ever
 * smaller chunks of faults while the scenario still fails, then the crash point. The cluster,
 * the roll options and the kept faults (their timing included) stay as they were, so the result
 * replays bit for bit. `fails` runs a candidate and says whether it still fails; at most
 * `maxTries` candidates are run (default 64). Deterministic: the same input gives the same result.
 */
export async function shrinkScenario(scenario: Scenario, fails: (candidate: Scenario) => Promise<boolean>, options: { readonly maxTries?: number } = {}): Promise<ShrinkResult> {
  const maxTries = options.maxTries ?? 64;
  let tries = 0;
  let best = scenario;
  const attempt = async (candidate: Scenario): Promise<boolean> => {
    if (tries >= maxTries) return false;
    tries++;
    if (!(await fails(candidate))) return false;
    best = candidate;
    return true;
  };
  let n = 2;
  while (best.faults.length > 0 && tries < maxTries) {
    const faults = best.faults;
    if (faults.length === 1) {
      await attempt({ ...best, faults: [] });
      break;
    }
    const size = Math.ceil(faults.length / n);
    let reduced = false;
    for (let start = 0; start < faults.length; start += size) {
      const complement = [...faults.slice(0, start), ...faults.slice(start + size)];
      if (await attempt({ ...best, faults: complement })) {
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= faults.length) break;
      n = Math.min(n * 2, faults.length);
    }
  }
  if (best.crashPoint) await attempt({ ...best, crashPoint: null });
  return { scenario: best, tries };
}
