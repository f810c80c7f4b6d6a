// Shrinking a failing fault schedule (issue 12): delta debugging keeps only the faults the
// failure needs, deterministically, within its budget; explore() shrinks each failure it finds.
import { describe, expect, it } from 'vitest';
import { explore, randomScenario, shrinkScenario, type Scenario } from '../../src/index.js';
import { mutantRoll } from '../support/mutants.js';

/** A scenario with `count` faults (drawn from seeds until one has that many). */
function withFaults(count: number): Scenario {
  for (let seed = 1; ; seed++) {
    const s = randomScenario(seed, { sizes: [5], maxFaults: 10 });
    if (s.faults.length >= count) return { ...s, faults: s.faults.slice(0, count) };
  }
}

describe('shrinkScenario', () => {
  it('keeps exactly the faults the failure needs (two of eight), in their order and timing, and drops an irrelevant crash point', async () => {
    const base = withFaults(8);
    const scenario: Scenario = { ...base, crashPoint: { index: 3, when: 'before', restart: 'new-holder' } };
    const needed = [scenario.faults[2]!, scenario.faults[5]!].map((f) => JSON.stringify(f));
    const fails = async (c: Scenario) => needed.every((n) => c.faults.some((f) => JSON.stringify(f) === n));
    const r = await shrinkScenario(scenario, fails);
    expect(r.scenario.faults).toEqual([scenario.faults[2], scenario.faults[5]]);
    expect(r.scenario.crashPoint).toBeNull();
    expect({ ...r.scenario, faults: [], crashPoint: null }).toEqual({ ...scenario, faults: [], crashPoint: null });
    // Deterministic, and within its budget.
    expect(await shrinkScenario(scenario, fails)).toEqual(r);
    const capped = await shrinkScenario(scenario, fails, { maxTries: 3 });
    expect(capped.tries).toBe(3);
    expect(await fails(capped.scenario)).toBe(true);
  });

  it('a failure that needs no fault shrinks to an empty schedule; one that needs all keeps all', async () => {
    const scenario = withFaults(5);
    expect((await shrinkScenario(scenario, async () => true)).scenario.faults).toEqual([]);
    const all = async (c: Scenario) => c.faults.length === scenario.faults.length;
    expect((await shrinkScenario(scenario, all)).scenario.faults).toEqual(scenario.faults);
  });
});

describe('explore({ shrinkTries })', () => {
  it('shrinks each failure of a broken roll (every node at once): the shrunk scenario still fails quorum safety, with no more faults than it had', async () => {
    const summary = await explore({ runs: 2, seed: 31, sizes: [3], maxFaults: 3, roll: mutantRoll({ batchAll: true }), shrinkTries: 12 });
    expect(summary.failures).toHaveLength(2);
    expect(summary.failures.some((f) => f.scenario.faults.length > 0)).toBe(true);
    for (const f of summary.failures) {
      expect(f.shrunk).toBeDefined();
      expect(f.shrunk!.scenario.faults.length).toBeLessThanOrEqual(f.scenario.faults.length);
      expect(f.shrunk!.violations.map((v) => v.invariant)).toContain('quorum-safety');
      // The bug needs no fault: every fault goes.
      expect(f.shrunk!.scenario.faults).toEqual([]);
    }
  }, 120_000);
});
