import fc from 'fast-check';
import { createActor } from 'xstate';
import { nodeMachine, nodeStatus, type NodeMachineEmitted, type Phase } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { NodeTracker } from '../../src/controller/node-tracker.js';
import { observation, spec, type NodeShape } from '../support/fixtures.js';

type Step = { shape: NodeShape } | { replace: string } | { notify: Phase; instanceId: string } | { terminated: string };

const s = spec(3);
const PHASES: Phase[] = ['attaching', 'mounting', 'joining', 'healthy', 'in-service', 'failed'];
const step: fc.Arbitrary<Step> = fc.oneof(
  fc
    .record({
      revision: fc.constantFrom('current', 'old'),
      lifecycle: fc.constantFrom('InService', 'Pending:Wait', 'Terminating'),
      phase: fc.constantFrom(null, ...PHASES),
      noInstance: fc.boolean(),
      leaving: fc.boolean(),
    } as const)
    .map((shape) => ({ shape: shape as NodeShape })),
  fc.constantFrom('i-n1-old', 'i-n1-new').map((id) => ({ replace: id })),
  fc.record({ notify: fc.constantFrom(...PHASES), instanceId: fc.constantFrom('i-n1-old', 'i-n1-new', 'i-n1-other') }),
  fc.constantFrom('i-n1-old', 'i-n1-new', 'i-n1-other').map((id) => ({ terminated: id })),
);

function statusOf(shape: NodeShape) {
  return nodeStatus(s, 'n1', observation(s, { n1: shape }).nodes.n1);
}

describe('NodeTracker (pure transitions)', () => {
  it('emits what a live node-machine actor emits, and ends in its state, for any sequence of events', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 14 }), (steps) => {
        const fromActor: NodeMachineEmitted[] = [];
        const actor = createActor(nodeMachine, { input: { nodeId: 'n1', atMs: 0 } });
        actor.on('*', (e) => fromActor.push(e));
        actor.start();
        const fromTracker: NodeMachineEmitted[] = [];
        const tracker = new NodeTracker(['n1'], 0, (e) => fromTracker.push(e));
        // The tracker steps a node with an observation only when it differs from the last one it stepped with (since a replace).
        let lastKey: string | null = null;
        steps.forEach((st, i) => {
          const atMs = 1_000 * (i + 1);
          if ('replace' in st) {
            actor.send({ type: 'replace', instanceId: st.replace, atMs });
            lastKey = null;
            tracker.replacing('n1', st.replace, atMs);
          } else if ('terminated' in st) {
            actor.send({ type: 'terminated', instanceId: st.terminated, atMs });
            tracker.notified([{ kind: 'terminated', nodeId: 'n1', instanceId: st.terminated, atMs, detail: null } as never]);
          } else if ('notify' in st) {
            actor.send({ type: 'phase-reported', instanceId: st.instanceId, phase: st.notify, reason: st.notify === 'failed' ? 'boom' : null, atMs });
            tracker.notified([{ kind: 'phase', nodeId: 'n1', instanceId: st.instanceId, phase: st.notify, atMs, detail: 'boom' } as never]);
          } else {
            const status = statusOf(st.shape);
            const c = status.current;
            const key = `${status.state}|${status.healthy}|${c?.instanceId}|${c?.phase}|${c?.lifecycleState}|${status.leaving.map((x) => x.instanceId).join(',')}`;
            if (key !== lastKey) actor.send({ type: 'observed', status, atMs });
            lastKey = key;
            tracker.observed([status], atMs);
          }
        });
        expect(fromTracker).toEqual(fromActor);
        expect(tracker.states()).toEqual({ n1: String(actor.getSnapshot().value) });
        actor.stop();
      }),
      { numRuns: 300, seed: 13 },
    );
  });

  it('changes nothing after stop(), as a stopped actor; halted() still reads the last state', () => {
    const emitted: NodeMachineEmitted[] = [];
    const tracker = new NodeTracker(['n1'], 0, (e) => emitted.push(e));
    tracker.observed([statusOf({})], 1_000);
    tracker.replacing('n1', 'i-n1-old', 2_000);
    tracker.stop();
    tracker.observed([statusOf({ revision: 'current', lifecycle: 'Pending:Wait', phase: 'joining' })], 3_000);
    expect(emitted).toEqual([]);
    expect(tracker.states()).toEqual({ n1: 'replacing' });
    tracker.halted('n1', 'timed out', 4_000);
    expect(emitted).toEqual([{ type: 'failed', nodeId: 'n1', instanceId: null, reason: 'timed out', atMs: 4_000 }]);
  });
});
