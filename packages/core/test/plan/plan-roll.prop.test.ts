import fc from 'fast-check';
import { planRoll, quorumOf, type InstanceObservation } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { observation, spec, type NodeShape } from '../support/fixtures.js';

const shapeArb: fc.Arbitrary<NodeShape> = fc.oneof(
  fc.constant<NodeShape>({}),
  fc.constant<NodeShape>({ revision: 'current' }),
  fc.constant<NodeShape>({ noInstance: true, leaving: true }),
  fc.record({
    revision: fc.constantFrom<'current' | 'old'>('current', 'old'),
    lifecycle: fc.constantFrom<InstanceObservation['lifecycleState']>('Pending', 'Pending:Wait', 'Pending:Proceed', 'InService'),
    phase: fc.constantFrom<InstanceObservation['phase']>('attaching', 'mounting', 'joining', 'healthy', 'in-service'),
  }),
);

describe('planRoll properties', () => {
  it('never disrupts more than min(maxUnavailable, tolerance − down), and only healthy outdated nodes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(3, 5, 7, 9),
        fc.array(shapeArb, { minLength: 9, maxLength: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.option(fc.integer({ min: 1, max: 9 }), { nil: null }),
        (n, shapes, maxUnavailable, leader) => {
          const s = spec(n);
          const obs = observation(s, Object.fromEntries(s.nodes.map((node, i) => [node.id, shapes[i] as NodeShape])));
          const leaderId = leader && leader <= n ? `n${leader}` : null;
          const plan = planRoll(obs, s, { maxUnavailable, leaderId, replacementTimeoutMs: 1e9, inFlight: new Map(), ignoreFailuresBeforeMs: 0 }, 0);
          const q = quorumOf(n);
          if (plan.action.type !== 'replace') return;
          const down = plan.statuses.filter((x) => !x.healthy).length;
          expect(plan.action.nodeIds.length).toBeLessThanOrEqual(Math.min(maxUnavailable, q.tolerance - down));
          expect(plan.action.nodeIds.length).toBeGreaterThan(0);
          // Healthy members after the batch starts still make a quorum.
          expect(n - down - plan.action.nodeIds.length).toBeGreaterThanOrEqual(q.quorum);
          for (const id of plan.action.nodeIds) {
            const st = plan.statuses.find((x) => x.nodeId === id)!;
            expect(st.healthy && st.outdated).toBe(true);
          }
          // The leader only goes when nothing else is left.
          if (leaderId && plan.action.nodeIds.includes(leaderId)) {
            expect(plan.order.filter((id) => id !== leaderId)).toEqual([]);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
