// The pure decision of watch()'s spot step (plan-capacity.ts), on hand-made observations.
import { describe, expect, it } from 'vitest';
import type { ClusterObservation, GroupObservation } from '../../src/observation.js';
import { planCapacity, trackSpotMissing } from '../../src/plan/plan-capacity.js';
import { observation, spec } from '../support/fixtures.js';

const s = spec(3, { capacity: { spot: true, fallbackAfterSec: 300, spotRetryAfterSec: 1800 } });
const [a, b] = s.nodes.map((n) => n.id) as [string, string];

/** The observation with `group` fields set on node `id`. */
function withGroup(obs: ClusterObservation, id: string, group: Partial<GroupObservation>): ClusterObservation {
  const node = obs.nodes[id]!;
  return { ...obs, nodes: { ...obs.nodes, [id]: { ...node, group: { ...node.group!, ...group } } } };
}

describe('planCapacity', () => {
  const now = 10_000_000;

  it('falls back only once spot has been missing for fallbackAfterSec and the node has no healthy instance', () => {
    const down = observation(s, { [a]: { noInstance: true, revision: 'current' } });
    expect(planCapacity(withGroup(down, a, { spotUnavailableSinceMs: now - 299_000 }), s, now)).toEqual([]);
    expect(planCapacity(withGroup(down, a, { spotUnavailableSinceMs: now - 300_000 }), s, now)).toEqual([{ nodeId: a, action: 'fall-back', replaceInstanceId: null, reason: expect.stringMatching(/^no spot capacity in .* for 300 s/) }]);
    // What earlier looks saw reaches further back than the activities this one read.
    expect(planCapacity(withGroup(down, a, { spotUnavailableSinceMs: now - 10_000 }), s, now, new Map([[a, now - 400_000]]))).toHaveLength(1);
    // A healthy node is not falling short of anything.
    expect(planCapacity(withGroup(observation(s), a, { spotUnavailableSinceMs: now - 900_000 }), s, now)).toEqual([]);
    // Without onDemandFallback: never.
    const noFallback = spec(3, { capacity: { spot: true, onDemandFallback: false } });
    const downNoFb = observation(noFallback, { [a]: { noInstance: true, revision: 'current' } });
    expect(planCapacity(withGroup(downNoFb, a, { spotUnavailableSinceMs: now - 900_000 }), noFallback, now)).toEqual([]);
  });

  it('returns to spot after spotRetryAfterSec, replacing a healthy up-to-date on-demand instance; not a booting or outdated one', () => {
    const healthy = withGroup(observation(s, { [b]: { revision: 'current' } }), b, { onDemandSinceMs: now - 1_800_000 });
    expect(planCapacity(healthy, s, now)).toEqual([{ nodeId: b, action: 'return-to-spot', replaceInstanceId: `i-${b}-new`, reason: expect.stringMatching(/trying spot again$/) }]);
    expect(planCapacity(withGroup(observation(s, { [b]: { revision: 'current' } }), b, { onDemandSinceMs: now - 1_799_000 }), s, now)).toEqual([]);
    expect(planCapacity(withGroup(observation(s, { [b]: { revision: 'current', lifecycle: 'Pending:Wait' } }), b, { onDemandSinceMs: now - 1_800_000 }), s, now)).toEqual([]);
    expect(planCapacity(withGroup(observation(s, { [b]: { revision: 'old' } }), b, { onDemandSinceMs: now - 1_800_000 }), s, now)).toEqual([]);
    // No instance: only the template goes back, nothing to replace.
    expect(planCapacity(withGroup(observation(s, { [b]: { noInstance: true } }), b, { onDemandSinceMs: now - 1_800_000 }), s, now)).toEqual([expect.objectContaining({ nodeId: b, action: 'return-to-spot', replaceInstanceId: null })]);
  });

  it('trackSpotMissing keeps the earliest time while the failures last, and forgets it at the first look without them', () => {
    const memory = new Map<string, number>();
    const obs = observation(s);
    trackSpotMissing(memory, withGroup(obs, a, { spotUnavailableSinceMs: 5_000 }));
    trackSpotMissing(memory, withGroup(obs, a, { spotUnavailableSinceMs: 9_000 }));
    expect(memory.get(a)).toBe(5_000);
    trackSpotMissing(memory, obs);
    expect(memory.has(a)).toBe(false);
  });
});
