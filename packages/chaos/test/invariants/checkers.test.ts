import { defineCluster, DEFAULT_FRESHNESS_MS } from '@berth/core';
import { simulatedClusterInput, type TraceEntry } from '@berth/sim-driver';
import { describe, expect, it } from 'vitest';
import { checkFailureContainment, checkLiveness, checkQuorumSafety, checkSingleController, type ChaosEvidence, type DriverCall, type HaltRecord, type HeldLease } from '../../src/index.js';

// Hand-made evidence: each rule on the smallest story that breaks it, whatever the controller does today.
const spec = defineCluster(simulatedClusterInput({ nodes: 3, name: 'chaos' }));
const all = ['chaos-1', 'chaos-2', 'chaos-3'];

let seq = 0;
function call(session: string, op: string, startMs: number, more: Partial<DriverCall> = {}): DriverCall {
  return {
    seq: seq++,
    holder: session.split('#')[0]!,
    session,
    op,
    nodeId: null,
    instanceId: null,
    desiredRevision: null,
    startMs,
    endMs: startMs + 5,
    ok: true,
    error: null,
    detail: op === 'observe' ? 'instances' : null,
    observed: null,
    truth: null,
    ignoreFailuresBeforeMs: 0,
    lease: null,
    ...more,
  };
}
const look = (session: string, atMs: number, healthy: string[], more: Partial<NonNullable<DriverCall['observed']>> = {}) =>
  call(session, 'observe', atMs, { observed: { healthy, updated: [], failures: [], resources: {}, ...more } });
const replace = (session: string, atMs: number, nodeId: string, truth: string[], lease: HeldLease | null = null) => call(session, 'replaceInstance', atMs, { nodeId, instanceId: `i-${nodeId}`, truth: { healthy: truth }, lease });
const lockEvent = (kind: string, atMs: number, detail: Record<string, unknown>): TraceEntry => ({ atMs, seq: seq++, kind, clusterName: 'chaos', ...detail });
const evidence = (calls: DriverCall[], more: Partial<ChaosEvidence> = {}): ChaosEvidence => ({ spec, trace: [], calls, ...more });

describe('quorum-safety: the freshness bound', () => {
  it('blames a disruption decided on a view older than the bound, though a fault caused the dip', () => {
    // The look saw everyone healthy; chaos-2 was partitioned during a 60 s gate; chaos-1 replaced anyway.
    const r = checkQuorumSafety(evidence([look('ctl-a#1', 1_000, all), replace('ctl-a#1', 61_000, 'chaos-1', ['chaos-1', 'chaos-3'])], { hookCalls: [{ session: 'ctl-a#1', hook: 'clusterHealthy', nodeId: null, startMs: 1_010, endMs: 60_990, outcome: 'returned', error: null, delayedMs: 59_000 }] }));
    expect(r.notes).toEqual([]);
    expect(r.violations.map((v) => v.message)).toEqual([
      `replaceInstance(chaos-1) by ctl-a#1 at +61000: 1 healthy left (chaos-3), quorum 2; decided on a view 59995 ms old, bound ${DEFAULT_FRESHNESS_MS} ms (its last look ended at +1005; it waited in clusterHealthy +1010…+60990)`,
    ]);
  });

  it('notes a dip on a fresh view caused by a fault after it (not blamed)', () => {
    const r = checkQuorumSafety(evidence([look('ctl-a#1', 1_000, all), replace('ctl-a#1', 3_000, 'chaos-1', ['chaos-1', 'chaos-3'])]));
    expect(r.violations).toEqual([]);
    expect(r.notes.map((n) => n.message)).toEqual([expect.stringMatching(/a fault took chaos-2 after the controller's look 1995 ms before \(within the 10000 ms bound; not blamed\)$/)]);
  });

  it('takes the bound from the evidence, and ignores group probes (they show nobody healthy)', () => {
    const probe = call('ctl-a#1', 'observe', 2_500, { detail: 'groups', observed: { healthy: [], updated: [], failures: [], resources: {} } });
    const calls = [look('ctl-a#1', 1_000, all), probe, replace('ctl-a#1', 3_000, 'chaos-1', ['chaos-1', 'chaos-3'])];
    expect(checkQuorumSafety(evidence(calls)).violations).toEqual([]);
    expect(checkQuorumSafety(evidence(calls, { freshnessBoundMs: 1_000 })).violations[0]?.message).toMatch(/decided on a view 1995 ms old, bound 1000 ms/);
  });
});

describe('single-controller: sessions, not holder ids', () => {
  const lease = (session: string, token: number): HeldLease => ({ holder: 'ctl-a', session, token, expiresAtMs: 600_000 });

  it('two controllers with one holder id are two owners (trace with sessions)', () => {
    const trace = [lockEvent('lock.acquired', 0, { holder: 'ctl-a', session: 'ctl-a#1', token: 1, expiresAtMs: 600_000 }), lockEvent('lock.acquired', 1_000, { holder: 'ctl-a', session: 'ctl-a#2', token: 2, expiresAtMs: 601_000 })];
    const calls = [replace('ctl-a#1', 500, 'chaos-1', all, lease('ctl-a#1', 1)), replace('ctl-a#2', 1_500, 'chaos-2', all, lease('ctl-a#2', 2)), replace('ctl-a#1', 2_000, 'chaos-3', all, lease('ctl-a#1', 1))];
    const r = checkSingleController(evidence(calls, { trace }));
    expect(r.violations.map((v) => v.message)).toEqual(['ctl-a#1 (holder ctl-a) called replaceInstance(chaos-3) at +2000 under session ctl-a#1 (token 1), but the lease is ctl-a (session ctl-a#2), token 2, until +601000']);
  });

  it('tells the sessions apart by fencing token when the trace does not name them', () => {
    const trace = [lockEvent('lock.acquired', 0, { holder: 'ctl-a', token: 1, expiresAtMs: 600_000 }), lockEvent('lock.acquired', 1_000, { holder: 'ctl-a', token: 2, expiresAtMs: 601_000 })];
    const calls = [replace('ctl-a#1', 2_000, 'chaos-3', all, lease('ctl-a#1', 1)), replace('ctl-a#2', 2_000, 'chaos-2', all, lease('ctl-a#2', 2))];
    const r = checkSingleController(evidence(calls, { trace }));
    expect(r.violations.map((v) => v.message)).toEqual([
      'ctl-a#1 (holder ctl-a) called replaceInstance(chaos-3) at +2000 under session ctl-a#1 (token 1), but the lease is ctl-a, token 2, until +601000',
      'ctl-a#1 (replaceInstance) and ctl-a#2 (replaceInstance) mutated the cluster at the same time (+2000) (one holder id, ctl-a, two sessions)',
    ]);
  });

  it('a session that holds no lease mutates without one, whoever holds it', () => {
    const trace = [lockEvent('lock.acquired', 0, { holder: 'ctl-a', session: 'ctl-a#1', token: 1, expiresAtMs: 600_000 })];
    const r = checkSingleController(evidence([replace('ctl-a#2', 1_000, 'chaos-1', all, null)], { trace }));
    expect(r.violations[0]?.message).toBe('ctl-a#2 (holder ctl-a) called replaceInstance(chaos-1) at +1000 holding no lease of its own (the lease is ctl-a (session ctl-a#1), token 1, until +600000)');
  });
});

describe('failure-containment: timeouts are failures', () => {
  it('a replacement still not back after the timeout is a failure its session must not spread', () => {
    const calls = [
      replace('ctl-a#1', 0, 'chaos-1', all),
      look('ctl-a#1', 50_000, ['chaos-2', 'chaos-3']),
      look('ctl-a#1', 700_000, ['chaos-2', 'chaos-3']),
      replace('ctl-a#1', 700_010, 'chaos-2', ['chaos-2', 'chaos-3']),
    ];
    expect(checkFailureContainment(evidence(calls)).violations).toEqual([]);
    expect(checkFailureContainment(evidence(calls, { replacementTimeoutMs: 600_000 })).violations.map((v) => v.message)).toEqual([
      'ctl-a#1 called replaceInstance(chaos-2) after it saw chaos-1 not back 700005 ms after its replacement started (timeout 600000 ms) at +700005',
    ]);
  });

  it('a replacement that came back is no failure, and rolling a failed group back is allowed', () => {
    const calls = [
      replace('ctl-a#1', 0, 'chaos-1', all),
      look('ctl-a#1', 50_000, all, { updated: ['chaos-1'] }),
      replace('ctl-a#1', 60_000, 'chaos-2', all),
      look('ctl-a#1', 61_000, ['chaos-1', 'chaos-3'], { failures: [{ nodeId: 'chaos-2', instanceId: 'i-2b', launchedAtMs: 60_500 }] }),
      call('ctl-a#1', 'restoreLaunchTemplate', 62_000, { nodeId: 'chaos-2' }),
      call('ctl-a#1', 'ensureNode', 63_000, { nodeId: 'chaos-3' }),
    ];
    expect(checkFailureContainment(evidence(calls, { replacementTimeoutMs: 600_000 })).violations.map((v) => v.message)).toEqual(['ctl-a#1 called ensureNode(chaos-3) after it saw chaos-2 fail (instance i-2b) at +61005']);
  });
});

describe('liveness: halts are read from their fields', () => {
  const halt = (more: Partial<HaltRecord>): HaltRecord => ({ session: 'ctl-a#1', atMs: 10_000, nodeId: null, nodeIds: [], phase: null, hook: null, lastError: null, rolledBack: [], untouched: [], message: 'Roll halted', ...more });
  const halted = (h: HaltRecord) => ({ outcome: 'halted' as const, haltNodeId: h.nodeId, halt: h, message: h.message, durationMs: 1, boundMs: 2, pending: [] });

  it('a halt that names its node only in the message names none', () => {
    const h = halt({ hook: 'beforeReplace', message: "Roll halted: Hook 'beforeReplace' for node chaos-2 threw: drain failed" });
    expect(checkLiveness(evidence([], { liveness: halted(h) })).violations[0]?.message).toMatch(/^the roll halted without naming a node in its fields \(nodeId, nodeIds\) \(hook beforeReplace\)/);
    expect(checkLiveness(evidence([], { liveness: halted({ ...h, nodeIds: ['chaos-2'] }) })).violations).toEqual([]);
  });

  it("a halt's untouched and rolled-back nodes must be true of its session's calls", () => {
    const h = halt({ nodeId: 'chaos-1', nodeIds: ['chaos-1'], untouched: ['chaos-2', 'chaos-3'], rolledBack: ['chaos-1'] });
    const calls = [replace('ctl-a#1', 1_000, 'chaos-1', all), replace('ctl-a#1', 2_000, 'chaos-2', all), replace('ctl-a#2', 3_000, 'chaos-3', all)];
    expect(checkLiveness(evidence(calls, { halts: [h] })).violations.map((v) => v.message)).toEqual([
      "ctl-a#1's halt says chaos-2 was untouched, but it called replaceInstance(chaos-2) at +2000",
      "ctl-a#1's halt says chaos-1 was rolled back, but it restored no launch template of chaos-1",
    ]);
    const honest = [calls[0]!, call('ctl-a#1', 'restoreLaunchTemplate', 9_000, { nodeId: 'chaos-1' })];
    expect(checkLiveness(evidence(honest, { halts: [h] })).violations).toEqual([]);
  });
});
