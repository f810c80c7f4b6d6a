import { describe, expect, it } from 'vitest';
import { runScenario, type InvariantId, type Scenario } from '../src/index.js';
import { mutantRoll } from './support/mutants.js';

const CHECKED: InvariantId[] = ['quorum-safety', 'single-controller', 'no-double-replace'];
const base: Scenario = { seed: 5, nodes: 3, profile: 'fast', maxUnavailable: 1, faults: [] };

describe('systematic crash points', () => {
  it('crashing the controller before or after every driver call of a roll keeps invariants 1, 7 and 8', async () => {
    const clean = await runScenario(base, { keepEvidence: true });
    const K = clean.evidence!.calls.filter((c) => c.session === 'ctl-a#1').length;
    expect(K).toBeGreaterThan(10);
    let runs = 0;
    for (let k = 0; k <= K; k++) {
      for (const when of ['after', 'before'] as const) {
        const restart = k % 3 === 2 ? 'new-holder' : 'same-holder';
        const r = await runScenario({ ...base, crashPoint: { index: k, when, restart } }, { invariants: CHECKED });
        runs++;
        if (r.violations.length > 0) throw new Error(`crash ${when} call #${k} (restart ${restart}): ${r.violations.map((v) => `[${v.invariant}] ${v.message}`).join('; ')}`);
      }
    }
    expect(runs).toBe(2 * (K + 1));
  }, 120_000);

  it('crash points catch a restart that replaces updated nodes again', async () => {
    // The mutant checks revisions only on its first pass; after a crash it redoes everything.
    let caught = 0;
    for (let k = 5; k <= 40; k += 5) {
      const r = await runScenario({ ...base, crashPoint: { index: k, when: 'after', restart: 'same-holder' } }, { roll: mutantRoll({ ignoreRevision: true }), invariants: CHECKED });
      if (r.violations.some((v) => v.invariant === 'no-double-replace')) caught++;
    }
    expect(caught).toBeGreaterThan(0);
  }, 60_000);
});
