import { describe, expect, it } from 'vitest';
import type { Simulation } from '@berth/sim-driver';
import { runScenario, type Scenario } from '../../src/index.js';
import { mutantRoll } from '../support/mutants.js';

// Two fault steps far apart: a short, mild slow boot at the roll's start, another 20 min later. A roll that replaces every node at once breaks quorum safety seconds after the first
// step, and its nodes are back (the dip over) long before the second.
const scenario: Scenario = {
  seed: 21,
  nodes: 3,
  profile: 'fast',
  maxUnavailable: 1,
  faults: [
    { kind: 'slow-boot', factor: 2, durationMs: 1_000, atMs: 0, stabilityMs: 0 },
    { kind: 'slow-boot', factor: 2, durationMs: 1_000, atMs: 1_200_000, stabilityMs: 0 },
  ],
};

describe('invariants after every trace entry', () => {
  it('a quorum-safety violation that comes and goes between two fault steps is caught at its trace entry, and the run stops there', async () => {
    const roll = mutantRoll({ batchAll: true });
    const live = await runScenario(scenario, { roll, invariants: ['quorum-safety', 'single-attach'] });
    expect(live.ok).toBe(false);
    expect(live.liveHit).toMatchObject({ violations: [expect.objectContaining({ invariant: 'quorum-safety' })] });
    const v = live.violations.find((x) => x.invariant === 'quorum-safety')!;
    // Caught between the steps: before the second fault's time, by the check at the entry, not by a step's.
    expect(v.atMs - live.rollStartMs).toBeLessThan(1_200_000);
    expect(live.checks.map((c) => c.step)).toEqual(['after +0s slow-boot ×2 1s', expect.stringMatching(/^at trace #\d+ .* \(\+\d+ ms, live check\)$/)]);
    expect(live.checks.at(-1)!.violations).toBeGreaterThan(0);

    // Checked only at the steps (before this change), the same failure is seen after the second
    // fault, 20 min late: the run went on with a broken quorum and the step names the wrong fault.
    let sim: Simulation | null = null;
    const stepped = await runScenario(scenario, { roll, invariants: ['quorum-safety', 'single-attach'], live: false, onSimulation: (s) => (sim = s) });
    expect(stepped.ok).toBe(false);
    expect(stepped.checks.map((c) => [c.step, c.violations > 0])).toEqual([
      ['after +0s slow-boot ×2 1s', false],
      ['after +20m slow-boot ×2 1s', true],
    ]);
    // By then the dip was over: the application is healthy again.
    expect((sim as Simulation | null)?.app.clusterHealthy()).toBe(true);
    expect(stepped.checks[1]!.atMs).toBeGreaterThanOrEqual(1_200_000);
  });

  it('the real controller on the same schedule: no live hit, both steps checked, liveness judged', async () => {
    const r = await runScenario(scenario);
    expect(r.violations).toEqual([]);
    expect(r.liveHit).toBeNull();
    expect(r.checks.map((c) => c.step)).toEqual(['after +0s slow-boot ×2 1s', 'after +20m slow-boot ×2 1s', 'faults healed', 'liveness']);
  });
});
