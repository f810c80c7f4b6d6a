import { createActor } from 'xstate';
import { nodeMachine, nodeStatus, type NodeMachineEmitted } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { observation, spec, type NodeShape } from '../support/fixtures.js';

function run(steps: (NodeShape | { replace: string })[]) {
  const s = spec(3);
  const emitted: NodeMachineEmitted[] = [];
  const states: string[] = [];
  const actor = createActor(nodeMachine, { input: { nodeId: 'n1', atMs: 0 } });
  actor.on('*', (e) => emitted.push(e));
  actor.start();
  steps.forEach((step, t) => {
    if ('replace' in step) actor.send({ type: 'replace', instanceId: step.replace, atMs: t });
    else actor.send({ type: 'observed', status: nodeStatus(s, 'n1', observation(s, { n1: step }).nodes.n1), atMs: t });
    states.push(String(actor.getSnapshot().value));
  });
  return { emitted, states };
}

describe('node machine', () => {
  it('follows a commanded replacement through its phases and reports it replaced', () => {
    const { emitted, states } = run([
      {},
      { replace: 'i-n1-old' },
      { noInstance: true, leaving: true },
      { revision: 'current', lifecycle: 'Pending:Wait', phase: 'attaching' },
      { revision: 'current', lifecycle: 'Pending:Wait', phase: 'mounting' },
      { revision: 'current', lifecycle: 'Pending:Wait', phase: 'mounting' },
      { revision: 'current', lifecycle: 'Pending:Wait', phase: 'healthy' },
      { revision: 'current' },
    ]);
    expect(states).toEqual(['inService', 'replacing', 'replacing', 'booting', 'booting', 'booting', 'booting', 'inService']);
    expect(emitted.filter((e) => e.type === 'phase' && e.instanceId === 'i-n1-new').map((e) => (e as { phase: string }).phase)).toEqual([
      'attaching',
      'mounting',
      'healthy',
      'in-service',
    ]);
    expect(emitted.filter((e) => e.type === 'lost')).toEqual([]);
    expect(emitted.find((e) => e.type === 'replaced')).toMatchObject({ oldInstanceId: 'i-n1-old', newInstanceId: 'i-n1-new', cause: 'replace' });
  });

  it('reports a loss that nobody commanded, then the recovery', () => {
    const { emitted, states } = run([{}, { noInstance: true, leaving: true }, { revision: 'current', lifecycle: 'Pending:Wait', phase: 'joining' }, { revision: 'current' }]);
    expect(states).toEqual(['inService', 'recovering', 'booting', 'inService']);
    expect(emitted.find((e) => e.type === 'lost')).toMatchObject({ instanceId: 'i-n1-old' });
    expect(emitted.find((e) => e.type === 'replaced')).toMatchObject({ cause: 'recover', newInstanceId: 'i-n1-new' });
  });

  it('goes to failed with the reason the instance reported', () => {
    const { emitted, states } = run([{ revision: 'current', lifecycle: 'Pending:Wait', phase: 'failed', phaseReason: 'mounting: no device' }]);
    expect(states).toEqual(['failed']);
    expect(emitted.find((e) => e.type === 'failed')).toMatchObject({ reason: 'mounting: no device' });
  });

  it('does not repeat a phase event for an unchanged phase', () => {
    const { emitted } = run([{}, {}, {}]);
    expect(emitted.filter((e) => e.type === 'phase')).toHaveLength(1);
  });
});
