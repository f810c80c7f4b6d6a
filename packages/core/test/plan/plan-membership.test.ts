import { checkAddition, checkRemoval, planMembership, planRoll, type ClusterObservation, type MembershipStep, type NodeObservation } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { observation, spec } from '../support/fixtures.js';

const removal = (sizeBefore: number): MembershipStep => ({ kind: 'remove', nodeId: 'x', stage: 'decommission', sizeBefore, sizeAfter: sizeBefore - 1, quorumAfter: Math.floor((sizeBefore - 1) / 2) + 1 });
const addition = (sizeBefore: number): MembershipStep => ({ kind: 'add', nodeId: 'x', stage: 'create', sizeBefore, sizeAfter: sizeBefore + 1, quorumAfter: Math.floor((sizeBefore + 1) / 2) + 1 });

/** Node `id` of `obs` reshaped. */
function withNode(obs: ClusterObservation, id: string, f: (n: NodeObservation) => NodeObservation): ClusterObservation {
  return { ...obs, nodes: { ...obs.nodes, [id]: f(obs.nodes[id] as NodeObservation) } };
}

describe('membership quorum math', () => {
  it.each([
    // sizeBefore, healthy members besides the leaving one, leaving node healthy, safe?
    [5, 3, true, true], // 5 → 4: 3 of 4 after; the change agreed by 3 of 5 (its vote included)
    [5, 2, true, false], // 2 of 4 after is no majority
    [5, 3, false, true],
    [4, 2, true, true], // 4 → 3: agreed by 3 of 4 with its vote, 2 of 3 after
    [4, 2, false, false], // it is down: 3 of 4 must agree without it
    [4, 3, false, true],
    [3, 2, true, true], // 3 → 2: both that stay must be healthy
    [3, 1, true, false],
    [2, 1, true, true], // 2 → 1: agreed by both
    [2, 1, false, false], // 1 of 2 cannot agree on anything
    [1, 0, true, false], // nothing would be left
  ])('removing one of %i members with %i others healthy (it healthy: %s): safe %s', (size, healthy, leavingHealthy, safe) => {
    expect(checkRemoval(removal(size), healthy, leavingHealthy) === null).toBe(safe);
  });

  it('names the numbers when it refuses', () => {
    expect(checkRemoval(removal(5), 2, true)).toBe(
      "removing x (5 → 4 members) needs 3 healthy members besides it (a majority of 5 to agree on the change, x's vote included, and 3 of 4 after it); 2 are healthy",
    );
    expect(checkRemoval(removal(1), 0, true)).toBe('removing x would leave no member');
  });

  it.each([
    [3, 3, true, true], // 3 → 4: 4 of 4 healthy
    [3, 2, true, true], // 3 of 4
    [3, 2, false, false], // 2 of 4 is no majority
    [4, 3, false, true], // 4 → 5: 3 of 5
    [1, 1, false, false], // 1 → 2 with the new node not up: 1 of 2
  ])('adding to %i members with %i healthy (new node healthy: %s): safe %s', (size, healthy, joiningHealthy, safe) => {
    expect(checkAddition(addition(size), healthy, joiningHealthy) === null).toBe(safe);
  });
});

describe('planMembership', () => {
  const five = spec(5);
  const three = spec(3);

  it('a cluster with no group yet is created at once (bootstrap): no steps', () => {
    const obs = observation(three, { n1: { noGroup: true }, n2: { noGroup: true }, n3: { noGroup: true } });
    const p = planMembership(obs, three);
    expect(p.bootstrap).toBe(true);
    expect(p.steps).toEqual([]);
  });

  it('grows one node at a time, each step sized from the membership before it', () => {
    const obs = observation(five, { n4: { noGroup: true, noInstance: true }, n5: { noGroup: true, noInstance: true } });
    const p = planMembership(obs, five);
    expect(p.members).toEqual(['n1', 'n2', 'n3']);
    expect(p.steps.map((s) => [s.kind, s.nodeId, s.stage, s.sizeBefore, s.sizeAfter, s.quorumAfter])).toEqual([
      ['add', 'n4', 'create', 3, 4, 3],
      ['add', 'n5', 'create', 4, 5, 3],
    ]);
    expect(p.warnings.join(' ')).toContain('passes through 4 members');
  });

  it('a group tagged joining is an addition to finish (a controller died mid-change)', () => {
    let obs = observation(five, { n5: { noGroup: true, noInstance: true } });
    obs = withNode(obs, 'n4', (n) => ({ ...n, group: n.group && { ...n.group, membership: 'joining' } }));
    expect(planMembership(obs, five).steps.map((s) => `${s.nodeId} ${s.stage}`)).toEqual(['n4 join', 'n5 create']);
  });

  it('removes a node the spec lost only when told to, unhealthy ones first', () => {
    const obs = observation(five, { n5: { noInstance: true } });
    const kept = planMembership(obs, three);
    expect(kept.orphans).toEqual(['n4', 'n5']);
    expect(kept.steps).toEqual([]);
    expect(kept.notRemoved).toEqual(['n4', 'n5']);
    expect(kept.warnings[0]).toContain("apply({ removeNodes: ['n4', 'n5'] })");
    const named = planMembership(obs, three, { removeNodes: ['n4'] });
    expect(named.steps.map((s) => s.nodeId)).toEqual(['n4']);
    expect(named.notRemoved).toEqual(['n5']);
    const all = planMembership(obs, three, { removeNodes: true });
    expect(all.steps.map((s) => [s.nodeId, s.sizeBefore, s.sizeAfter, s.quorumAfter])).toEqual([
      ['n5', 5, 4, 3],
      ['n4', 4, 3, 2],
    ]);
  });

  it('an orphan without its group only has its deletion left; a retained volume alone is no node', () => {
    let obs = observation(five);
    obs = withNode(obs, 'n4', (n) => ({ ...n, group: null, instances: [] }));
    obs = withNode(obs, 'n5', (n) => ({ ...n, group: null, instances: [], eni: null }));
    const p = planMembership(obs, three, { removeNodes: true });
    expect(p.orphans).toEqual(['n4']);
    expect(p.steps.map((s) => [s.nodeId, s.stage, s.sizeBefore, s.sizeAfter])).toEqual([['n4', 'delete', 3, 3]]);
  });
});

describe('planRoll and membership', () => {
  const policy = { maxUnavailable: 1, replacementTimeoutMs: 1_800_000, leaderId: null, inFlight: new Map(), ignoreFailuresBeforeMs: 0 };

  it('halts while a node is still joining', () => {
    const s = spec(5);
    const obs = withNode(observation(s), 'n5', (n) => ({ ...n, group: n.group && { ...n.group, membership: 'joining' } }));
    const plan = planRoll(obs, s, policy, 1_000_000);
    expect(plan.action).toMatchObject({ type: 'halt', code: 'MEMBERSHIP', nodeIds: ['n5'] });
    expect(plan.action.type === 'halt' && plan.action.reason).toContain('a roll never overlaps a membership change');
  });

  it('halts while a node the spec lost still has its group', () => {
    const obs = observation(spec(5));
    const plan = planRoll(obs, spec(3), policy, 1_000_000);
    expect(plan.action).toMatchObject({ type: 'halt', code: 'MEMBERSHIP', nodeIds: ['n4', 'n5'] });
  });

  it('a member tagged member rolls as any other', () => {
    const s = spec(3);
    const obs = withNode(observation(s), 'n3', (n) => ({ ...n, group: n.group && { ...n.group, membership: 'member' } }));
    expect(planRoll(obs, s, policy, 1_000_000).action.type).toBe('replace');
  });
});
