import { abandonVerdict, checkDisruption, clusterStatuses, defaultStuckAfterMs, planApply, planCluster, planRoll, stuckNode, type ClusterObservation, type ClusterSpec, type RollPolicy } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { observation, spec, type NodeShape } from '../support/fixtures.js';

const policy = (p: Partial<RollPolicy> = {}): RollPolicy => ({ maxUnavailable: 1, leaderId: null, replacementTimeoutMs: 600_000, inFlight: new Map(), ignoreFailuresBeforeMs: 0, ...p });

/** The observation with `pausedIds` paused: group 0/1/0 with the mark, no instance. */
function withPaused(s: ClusterSpec, pausedIds: readonly string[], shapes: Record<string, NodeShape> = {}): ClusterObservation {
  const o = observation(s, { ...Object.fromEntries(pausedIds.map((id) => [id, { noInstance: true }])), ...shapes });
  const nodes = { ...o.nodes };
  for (const id of pausedIds) {
    const n = nodes[id];
    if (n?.group) nodes[id] = { ...n, group: { ...n.group, minSize: 0, maxSize: 1, desiredCapacity: 0, pausedAtMs: 900_000 } };
  }
  return { ...o, nodes };
}

describe('paused nodes in the planner', () => {
  it('a paused node is down, in state paused, with a cause that says how to bring it back', () => {
    const s = spec(3);
    const st = clusterStatuses(s, withPaused(s, ['n2'])).find((x) => x.nodeId === 'n2');
    expect(st).toMatchObject({ state: 'paused', paused: true, healthy: false, cause: 'paused at 900000 (resumeNode() brings it back)' });
  });

  it('apply() leaves a paused group at 0/1/0', () => {
    const s = spec(3);
    const o = withPaused(s, ['n2'], { n1: { revision: 'current' }, n3: { revision: 'current' } });
    expect(planApply(o, s).nodes).toEqual([]);
  });

  it('a roll moves a paused node\'s stale template first, then replaces the others within the budget left, never waiting for the paused node', () => {
    const s = spec(5);
    expect(planRoll(withPaused(s, ['n2'], { n2: { noInstance: true, groupRevision: 'old' } }), s, policy(), 1_000_000).action).toEqual({ type: 'update-templates', nodeIds: ['n2'] });
    const o = withPaused(s, ['n2']);
    const plan = planRoll(o, s, policy(), 1_000_000);
    expect(plan.action).toMatchObject({ type: 'replace', nodeIds: ['n1'] });
    expect(plan.quorum).toMatchObject({ down: 1, budget: 1 });
    expect(checkDisruption(o, s, policy(), { nodeId: 'n1', instanceId: 'i-n1-old', disrupted: new Set(), maxUnavailable: 1 })).toEqual({ ok: true });
    // No deadline runs for it, however long it stays paused.
    expect(planRoll(o, s, policy({ inFlight: new Map([['n2', { nodeId: 'n2', oldInstanceId: '', startedAtMs: 0 }]]) }), 10_000_000).action.type).toBe('replace');
    // Once every other node is current, the roll is done: the paused node is not waited for.
    const done = withPaused(s, ['n2'], { n1: { revision: 'current' }, n3: { revision: 'current' }, n4: { revision: 'current' }, n5: { revision: 'current' } });
    expect(planRoll(done, s, policy(), 1_000_000).action).toEqual({ type: 'done' });
  });

  it('halts PAUSED when the paused nodes leave no budget (3 nodes, one paused)', () => {
    const s = spec(3);
    const action = planRoll(withPaused(s, ['n2']), s, policy(), 1_000_000).action;
    expect(action).toMatchObject({ type: 'halt', code: 'PAUSED', nodeId: 'n2', phase: 'paused' });
    expect(action.type === 'halt' && action.reason).toMatch(/node n2 is paused and counts as down: with 1 of 3 down \(tolerance 1\) no outdated node may be replaced; resume it \(resumeNode\) first/);
  });

  it('plan() says a paused node is not waited for, and leaves it out of the batches', () => {
    const s = spec(5);
    const plan = planCluster(withPaused(s, ['n2']), s, { maxUnavailable: 1, leaderId: null });
    expect(plan.warnings).toContain('n2 is paused: counted as down (the roll moves its launch template and does not wait for it; resumeNode brings it back)');
    expect(plan.warnings.some((w) => /not healthy now/.test(w))).toBe(false);
    expect(plan.nodes.find((n) => n.nodeId === 'n2')?.action).not.toBe('replace');
  });

  it('a node down for another reason still makes the roll wait (only paused nodes are not waited for)', () => {
    const s = spec(5);
    const o = withPaused(s, ['n2'], { n3: { lifecycle: 'Pending:Wait', phase: 'attaching' } });
    expect(planRoll(o, s, policy(), 1_000_000).action).toMatchObject({ type: 'wait', nodeIds: ['n3'] });
  });
});

describe('stuck nodes', () => {
  const s = spec(3);
  const stuckShapes = (phase: NodeShape['phase'], reason?: string): Record<string, NodeShape> => ({ n2: { lifecycle: 'Pending:Wait', phase, launchedAtMs: 0, ...(reason !== undefined && { phaseReason: reason }) } });

  it('the default bound is the bootstrap\'s timeouts plus one heartbeat timeout', () => {
    expect(defaultStuckAfterMs(s)).toBe((s.bootstrap.attachTimeoutSec + s.bootstrap.configureTimeoutSec + s.bootstrap.healthTimeoutSec + s.lifecycle.heartbeatTimeoutSec) * 1000);
  });

  it('a Pending:Wait instance past the bound is stuck with its phase and the bootstrap\'s reason; before the bound, or paused, it is not', () => {
    const st = clusterStatuses(s, observation(s, stuckShapes('failed', 'attaching:attach-timeout'))).find((x) => x.nodeId === 'n2');
    expect(stuckNode(st!, 1_000_000, 600_000)).toEqual({
      nodeId: 'n2',
      instanceId: 'i-n2-old',
      lifecycleState: 'Pending:Wait',
      phase: 'failed (attaching: attach-timeout)',
      sinceMs: 0,
      stuckMs: 1_000_000,
      reason: 'attaching: attach-timeout',
      activity: null,
    });
    expect(stuckNode(st!, 1_000_000, 1_000_000)).toBeNull();
    const paused = clusterStatuses(s, withPaused(s, ['n2'])).find((x) => x.nodeId === 'n2');
    expect(stuckNode(paused!, 10_000_000, 1, 0)).toBeNull();
  });

  it('abandon: allowed when the others hold a quorum; deferred without one while the instance still boots; allowed without one when it failed', () => {
    const booting = clusterStatuses(s, observation(s, stuckShapes('attaching')));
    expect(abandonVerdict(s, booting, 'n2', 'i-n2-old')).toEqual({ ok: true });
    const noQuorum = clusterStatuses(s, observation(s, { ...stuckShapes('attaching'), n3: { noInstance: true } }));
    expect(abandonVerdict(s, noQuorum, 'n2', 'i-n2-old')).toEqual({ ok: false, reason: 'the other nodes hold no quorum (1 healthy, quorum 2) and i-n2-old is still booting (attaching): it may restore the quorum sooner than a new instance would' });
    const failed = clusterStatuses(s, observation(s, { ...stuckShapes('failed', 'configuring:exit 3'), n3: { noInstance: true } }));
    expect(abandonVerdict(s, failed, 'n2', 'i-n2-old')).toEqual({ ok: true });
    expect(abandonVerdict(s, booting, 'n2', 'i-other')).toMatchObject({ ok: false, reason: 'instance i-other is no longer the node\'s current instance' });
    const inService = clusterStatuses(s, observation(s));
    expect(abandonVerdict(s, inService, 'n2', 'i-n2-old')).toMatchObject({ ok: false, reason: expect.stringMatching(/is InService, not Pending:Wait/) });
  });
});
