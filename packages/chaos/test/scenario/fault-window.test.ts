import { describe, expect, it } from 'vitest';
import { faultWindowMs, randomScenario, runScenario, type FaultKind, type ScenarioResult } from '../../src/index.js';

/** The situations issue 9 names, as they show in a run's evidence. */
function situations(r: ScenarioResult) {
  const ev = r.evidence!;
  const roll = r.sessions[0]!;
  const rollEnd = roll.settledAtMs ?? Infinity;
  const firstBatch = r.batches.find((b) => b.session === roll.session)?.startedAtMs ?? Infinity;
  const openHook = (t: number) => ev.hookCalls!.some((h) => (h.hook === 'clusterHealthy' || h.hook === 'beforeReplace') && h.startMs <= t && t <= (h.endMs ?? Infinity));
  const inBatch = (t: number) => r.batches.some((b) => b.startedAtMs <= t && t <= (b.finishedAtMs ?? rollEnd));
  return {
    partitionDuringGate: ev.trace.some((e) => e.kind === 'fault.partition' && openHook(e.atMs)),
    spotNoticeMidRoll: ev.trace.some((e) => e.kind === 'fault.spot-interruption' && firstBatch <= e.atMs && e.atMs <= rollEnd),
    azOutageMidBatch: ev.trace.some((e) => e.kind === 'fault.az-outage' && inBatch(e.atMs)),
  };
}

describe('generated fault schedules', () => {
  it('draw start times over the whole roll: about 250 profile units per batch', () => {
    expect(faultWindowMs(3, 1, 'fast')).toBe(7_500);
    expect(faultWindowMs(5, 1, 'fast')).toBe(12_500);
    expect(faultWindowMs(5, 3, 'fast')).toBe(7_500); // batches of at most the tolerance (2)
    expect(faultWindowMs(3, 1, 'realistic')).toBe(750_000);
    for (let seed = 1; seed <= 50; seed++) {
      const s = randomScenario(seed);
      for (const f of s.faults) expect(f.atMs).toBeLessThanOrEqual(faultWindowMs(s.nodes, s.maxUnavailable, s.profile));
    }
  });

  it('reach a partition during a gate or hook, a spot notice mid-roll and an AZ outage mid-batch', async () => {
    // A third of partitions wait for the controller's next gate (atNextGate); start times cover the whole roll.
    const kinds: FaultKind[] = ['partition', 'spot-interruption', 'az-outage'];
    const seen = { partitionDuringGate: 0, spotNoticeMidRoll: 0, azOutageMidBatch: 0 };
    for (let seed = 1; seed <= 8; seed++) {
      const r = await runScenario(randomScenario(seed, { kinds, sizes: [3] }), { keepEvidence: true, invariants: [] });
      const s = situations(r);
      for (const k of Object.keys(seen) as (keyof typeof seen)[]) if (s[k]) seen[k]++;
    }
    expect(seen.partitionDuringGate).toBeGreaterThan(0);
    expect(seen.spotNoticeMidRoll).toBeGreaterThan(0);
    expect(seen.azOutageMidBatch).toBeGreaterThan(0);
  }, 60_000);
});
