import { createActor } from 'xstate';
import { nodeMachine, nodeStatus, type InstanceObservation, type NodeMachineEmitted, type Phase } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { failureAtHalt, phaseAdvances } from '../../src/machines/node-machine.js';
import { observation, spec, type NodeShape } from '../support/fixtures.js';

type Step = NodeShape | { replace: string } | { notify: Phase; instanceId?: string; reason?: string } | { terminated: string };

function run(steps: Step[]) {
  const s = spec(3);
  const emitted: NodeMachineEmitted[] = [];
  const states: string[] = [];
  const actor = createActor(nodeMachine, { input: { nodeId: 'n1', atMs: 0 } });
  actor.on('*', (e) => emitted.push(e));
  actor.start();
  steps.forEach((step, t) => {
    if ('replace' in step) actor.send({ type: 'replace', instanceId: step.replace, atMs: t });
    else if ('terminated' in step) actor.send({ type: 'terminated', instanceId: step.terminated, atMs: t });
    else if ('notify' in step) actor.send({ type: 'phase-reported', instanceId: step.instanceId ?? 'i-n1-new', phase: step.notify, reason: step.reason ?? null, atMs: t });
    else actor.send({ type: 'observed', status: nodeStatus(s, 'n1', observation(s, { n1: step }).nodes.n1), atMs: t });
    states.push(String(actor.getSnapshot().value));
  });
  return { emitted, states, actor };
}

const phasesOf = (emitted: NodeMachineEmitted[], instanceId = 'i-n1-new') => emitted.filter((e) => e.type === 'phase' && e.instanceId === instanceId).map((e) => (e as { phase: Phase }).phase);

/** An instance of the new revision that left (terminating) while it booted. */
const leftInstance = (phase: Phase, phaseReason: string | null = null): InstanceObservation => ({
  instanceId: 'i-n1-gone',
  lifecycleState: 'Terminating',
  ec2State: 'shutting-down',
  revision: null,
  phase,
  phaseReason,
  az: 'eu-west-1a',
  launchedAtMs: 600_000,
  healthStatus: 'Healthy',
  spot: false,
});

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
    expect(phasesOf(emitted)).toEqual(['attaching', 'mounting', 'healthy', 'in-service']);
    expect(emitted.filter((e) => e.type === 'lost' || e.type === 'failed')).toEqual([]);
    expect(emitted.find((e) => e.type === 'replaced')).toMatchObject({ oldInstanceId: 'i-n1-old', newInstanceId: 'i-n1-new', cause: 'replace' });
  });

  it('reports a loss that nobody commanded, then the recovery', () => {
    const { emitted, states } = run([{}, { noInstance: true, leaving: true }, { revision: 'current', lifecycle: 'Pending:Wait', phase: 'joining' }, { revision: 'current' }]);
    expect(states).toEqual(['inService', 'recovering', 'booting', 'inService']);
    expect(emitted.find((e) => e.type === 'lost')).toMatchObject({ instanceId: 'i-n1-old' });
    expect(emitted.find((e) => e.type === 'replaced')).toMatchObject({ cause: 'recover', newInstanceId: 'i-n1-new' });
  });

  it('goes to failed with the reason the instance reported, once', () => {
    const failed = { revision: 'current', lifecycle: 'Pending:Wait', phase: 'failed', phaseReason: 'mounting: no device' } as const;
    const { emitted, states } = run([{}, { replace: 'i-n1-old' }, failed, failed]);
    expect(states).toEqual(['inService', 'replacing', 'failed', 'failed']);
    expect(emitted.filter((e) => e.type === 'failed')).toEqual([{ type: 'failed', nodeId: 'n1', instanceId: 'i-n1-new', reason: 'mounting: no device', atMs: 2 }]);
    expect(phasesOf(emitted)).toEqual(['failed']);
  });

  it('does not repeat a phase event for an unchanged phase', () => {
    const { emitted } = run([{}, {}, {}, { revision: 'current', lifecycle: 'Pending:Wait', phase: 'joining' }, { revision: 'current', lifecycle: 'Pending:Wait', phase: 'joining' }]);
    expect(emitted.filter((e) => e.type === 'phase')).toHaveLength(1);
  });

  describe('the first observation is a baseline (no replay of what happened before the controller started)', () => {
    it('emits nothing for nodes in service, booting, failed or gone when first seen', () => {
      for (const first of [{}, { revision: 'current', lifecycle: 'Pending:Wait', phase: 'mounting' }, { revision: 'current', lifecycle: 'Pending:Wait', phase: 'failed', phaseReason: 'x' }, { noInstance: true }] as const) {
        expect(run([first]).emitted).toEqual([]);
      }
    });

    it('a replacement already under way when the controller starts: only its later phases are news', () => {
      const { emitted, states } = run([
        { revision: 'current', lifecycle: 'Pending:Wait', phase: 'mounting' },
        { notify: 'attaching' },
        { notify: 'mounting' },
        { notify: 'joining' },
        { revision: 'current' },
      ]);
      expect(states).toEqual(['booting', 'booting', 'booting', 'booting', 'inService']);
      expect(phasesOf(emitted)).toEqual(['joining', 'in-service']);
      // It finished, but not as this controller's replacement, nor as a recovery it saw start.
      expect(emitted.find((e) => e.type === 'replaced')).toMatchObject({ cause: 'initial' });
    });

    it('a node that had failed before is not reported failed again', () => {
      const failed = { revision: 'current', lifecycle: 'Pending:Wait', phase: 'failed', phaseReason: 'mounting: no device' } as const;
      const { emitted, actor } = run([failed, failed, { notify: 'failed', reason: 'mounting: no device' }]);
      expect(emitted).toEqual([]);
      expect(failureAtHalt(actor.getSnapshot(), 'halted', 9)).toBeNull();
    });

    it('ignores notified phases until it has a baseline', () => {
      const { emitted } = run([{ notify: 'attaching' }, {}]);
      expect(emitted).toEqual([]);
    });
  });

  describe('phases notified between observations', () => {
    it('emits each notified phase once, in boot order, and drops late (out-of-order) reports', () => {
      const { emitted } = run([
        {},
        { replace: 'i-n1-old' },
        { notify: 'attaching' },
        { notify: 'configuring' },
        { notify: 'mounting' }, // late: configuring came first
        { revision: 'current', lifecycle: 'Pending:Wait', phase: 'configuring' }, // the look shows what was notified
        { revision: 'current', lifecycle: 'Pending:Wait', phase: 'mounting' }, // a lagging look
        { notify: 'joining' },
        { notify: 'healthy' },
        { revision: 'current' },
        { notify: 'in-service' },
      ]);
      expect(phasesOf(emitted)).toEqual(['attaching', 'configuring', 'joining', 'healthy', 'in-service']);
      expect(emitted.filter((e) => e.type === 'replaced')).toHaveLength(1);
    });

    it('a notified failure is a failure at once; the look that follows does not repeat it', () => {
      const { emitted, states } = run([
        {},
        { replace: 'i-n1-old' },
        { notify: 'mounting' },
        { notify: 'failed', reason: 'mounting:volume-not-found' },
        { revision: 'current', lifecycle: 'Pending:Wait', phase: 'failed', phaseReason: 'mounting:volume-not-found' },
      ]);
      expect(states.at(-1)).toBe('failed');
      expect(emitted.filter((e) => e.type === 'failed')).toEqual([{ type: 'failed', nodeId: 'n1', instanceId: 'i-n1-new', reason: 'mounting:volume-not-found', atMs: 3 }]);
    });

    it('after a failure, a retry (the bootstrap repaired by hand) reports its phases again', () => {
      expect(phaseAdvances('failed', 'attaching')).toBe(true);
      expect(phaseAdvances('joining', 'failed')).toBe(true);
      expect(phaseAdvances('joining', 'mounting')).toBe(false);
      expect(phaseAdvances('in-service', 'in-service')).toBe(false);
      const { emitted } = run([{}, { replace: 'i-n1-old' }, { notify: 'mounting' }, { notify: 'failed', reason: 'x' }, { notify: 'attaching' }, { notify: 'mounting' }]);
      expect(phasesOf(emitted)).toEqual(['mounting', 'failed', 'attaching', 'mounting']);
    });

    it('a late report about the instance the node left behind is not news', () => {
      const { emitted } = run([{}, { replace: 'i-n1-old' }, { notify: 'attaching' }, { notify: 'in-service', instanceId: 'i-n1-old' }]);
      expect(phasesOf(emitted, 'i-n1-old')).toEqual([]);
    });
  });

  describe('failures without a failed tag', () => {
    it('an instance seen booting that leaves before InService failed (lifecycle action abandoned, hook timed out)', () => {
      const { emitted, states } = run([
        {},
        { replace: 'i-n1-old' },
        { revision: 'current', lifecycle: 'Pending:Wait', phase: 'joining' },
        { noInstance: true, extra: [leftInstance('joining')] },
      ]);
      expect(states.at(-1)).toBe('recovering'); // the group launches another
      expect(emitted.filter((e) => e.type === 'failed')).toEqual([
        { type: 'failed', nodeId: 'n1', instanceId: 'i-n1-new', reason: expect.stringMatching(/^instance i-n1-new terminated before InService \(last phase joining; its lifecycle action was abandoned/), atMs: 3 },
      ]);
    });

    it('a notified termination of an instance the node was booting (never seen by a look) is a failure; of the old one, not', () => {
      const { emitted } = run([{}, { replace: 'i-n1-old' }, { terminated: 'i-n1-old' }, { terminated: 'i-n1-hung' }, { terminated: 'i-n1-hung' }, { noInstance: true }, { terminated: 'i-n1-next' }]);
      expect(emitted.filter((e) => e.type === 'failed').map((e) => [e.instanceId, (e as { reason: string }).reason.slice(0, 50)])).toEqual([
        ['i-n1-hung', 'instance i-n1-hung terminated before InService (la'],
        ['i-n1-next', 'instance i-n1-next terminated before InService (la'],
      ]);
      // In service, a termination is a loss the looks report, not a failed boot.
      expect(run([{}, { terminated: 'i-n1-other' }]).emitted).toEqual([]);
      // Started mid-replacement: the old instance still shutting down at the start is not news.
      expect(run([{ revision: 'current', lifecycle: 'Pending:Wait', phase: 'mounting', leaving: true }, { terminated: 'i-n1-leaving' }]).emitted).toEqual([]);
    });

    it('one that left with a failed tag the looks never caught gets the tag’s reason', () => {
      const { emitted } = run([
        {},
        { replace: 'i-n1-old' },
        { notify: 'configuring', instanceId: 'i-n1-gone' },
        { noInstance: true, extra: [leftInstance('failed', 'configuring:configure-exit-3')] },
      ]);
      expect(emitted.filter((e) => e.type === 'failed')).toEqual([{ type: 'failed', nodeId: 'n1', instanceId: 'i-n1-gone', reason: 'configuring:configure-exit-3', atMs: 3 }]);
    });

    it('a halt on a node still booting without a failure reported makes it failed with the halt’s reason; otherwise nothing', () => {
      const booting = run([{}, { replace: 'i-n1-old' }, { revision: 'current', lifecycle: 'Pending:Wait', phase: 'joining' }]);
      expect(failureAtHalt(booting.actor.getSnapshot(), 'node n1 did not come back InService within 1800 s', 5)).toEqual({
        type: 'failed',
        nodeId: 'n1',
        instanceId: 'i-n1-new',
        reason: 'node n1 did not come back InService within 1800 s',
        atMs: 5,
      });
      // Launches that keep failing: no new instance yet.
      const noInstance = run([{}, { replace: 'i-n1-old' }, { noInstance: true }]);
      expect(failureAtHalt(noInstance.actor.getSnapshot(), 'timed out', 5)).toMatchObject({ instanceId: null, reason: 'timed out' });
      // Back in service (a gate halted after it), or already reported failed: nothing more.
      const back = run([{}, { replace: 'i-n1-old' }, { revision: 'current' }]);
      expect(failureAtHalt(back.actor.getSnapshot(), 'gate', 5)).toBeNull();
      const failed = run([{}, { replace: 'i-n1-old' }, { revision: 'current', lifecycle: 'Pending:Wait', phase: 'failed', phaseReason: 'x' }, { noInstance: true }]);
      expect(failureAtHalt(failed.actor.getSnapshot(), 'halt', 5)).toBeNull();
    });
  });
});
