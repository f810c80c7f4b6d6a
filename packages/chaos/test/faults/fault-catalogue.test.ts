import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeFault, FAULT_CATALOGUE, FAULT_KINDS, faultArb, faultSettledAtMs, randomScenario, type FaultKind } from '../../src/index.js';

describe('fault catalogue', () => {
  it('covers every fault of the issue, each with a stability period', () => {
    const wanted: FaultKind[] = ['kill-instance', 'spot-interruption', 'az-outage', 'stuck-attach', 'slow-attach', 'eni-release-delay', 'bad-image', 'slow-boot', 'api-throttle', 'api-5xx', 'consistency-lag', 'partition', 'controller-crash', 'second-controller', 'same-holder-controller', 'slow-hook'];
    expect([...FAULT_KINDS].sort()).toEqual([...wanted].sort());
    for (const k of FAULT_KINDS) expect(FAULT_CATALOGUE[k].stabilityMs).toBeGreaterThanOrEqual(0);
  });

  it('every arbitrary fault is of its kind, settles after it starts and describes itself', () => {
    for (const kind of FAULT_KINDS) {
      fc.assert(
        fc.property(faultArb(kind, 5, 'fast'), (f) => {
          expect(f.kind).toBe(kind);
          expect(faultSettledAtMs(f)).toBeGreaterThanOrEqual(f.atMs);
          expect(describeFault(f)).toContain(kind);
        }),
        { numRuns: 20, seed: 1 },
      );
    }
  });

  it('randomScenario: one seed, one scenario; seeds pick different fault mixes (swarm)', () => {
    expect(randomScenario(77)).toEqual(randomScenario(77));
    const mixes = new Set(Array.from({ length: 50 }, (_, i) => [...new Set(randomScenario(i + 1).faults.map((f) => f.kind))].sort().join(',')));
    expect(mixes.size).toBeGreaterThan(20);
  });
});
