import { azWarnings, checkDisruption, planRoll, type RollPolicy } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { observation, spec, type NodeShape } from '../support/fixtures.js';

const policy = (p: Partial<RollPolicy> = {}): RollPolicy => ({
  maxUnavailable: 1,
  leaderId: null,
  replacementTimeoutMs: 600_000,
  inFlight: new Map(),
  ignoreFailuresBeforeMs: 0,
  ...p,
});

const cases: {
  name: string;
  nodes: number;
  shapes?: Record<string, NodeShape>;
  policy?: Partial<RollPolicy>;
  now?: number;
  expected: Record<string, unknown>;
  quorum?: Record<string, number>;
}[] = [
  {
    name: 'all outdated, maxUnavailable 1 → one node, lowest id first',
    nodes: 5,
    expected: { type: 'replace', nodeIds: ['n1'], instanceIds: ['i-n1-old'] },
    quorum: { quorum: 3, tolerance: 2, down: 0, budget: 1 },
  },
  {
    name: 'maxUnavailable 2 in a 5-node cluster → two nodes of one AZ (no batch is AZ-loss-safe on 2/2/1)',
    nodes: 5,
    policy: { maxUnavailable: 2 },
    expected: { type: 'replace', nodeIds: ['n1', 'n4'] },
  },
  {
    name: 'AZ-loss safety off: still one AZ per batch',
    nodes: 5,
    policy: { maxUnavailable: 2, tolerateAzLoss: false },
    expected: { type: 'replace', nodeIds: ['n1', 'n4'] },
  },
  {
    name: 'a batch shrinks until losing any one AZ still leaves a quorum (9 nodes, 3 per AZ)',
    nodes: 9,
    policy: { maxUnavailable: 3 },
    expected: { type: 'replace', nodeIds: ['n1'] },
    quorum: { budget: 3, azBudget: 1 },
  },
  {
    name: 'waves: az finishes one AZ before the next',
    nodes: 7,
    shapes: { n1: { revision: 'current' }, n4: { revision: 'current' } },
    policy: { maxUnavailable: 1, waves: 'az' },
    expected: { type: 'replace', nodeIds: ['n7'] },
  },
  {
    name: 'balanced waves take the AZ with the most outdated nodes left',
    nodes: 7,
    shapes: { n1: { revision: 'current' }, n4: { revision: 'current' } },
    policy: { maxUnavailable: 1 },
    expected: { type: 'replace', nodeIds: ['n2'] },
  },
  {
    name: 'maxUnavailable above tolerance is capped by the tolerance',
    nodes: 5,
    policy: { maxUnavailable: 10 },
    expected: { type: 'replace', nodeIds: ['n1', 'n4'] },
    quorum: { budget: 2 },
  },
  {
    name: 'a 1-tolerance cluster (3 nodes) never takes two at once',
    nodes: 3,
    policy: { maxUnavailable: 3 },
    expected: { type: 'replace', nodeIds: ['n1'] },
    quorum: { quorum: 2, tolerance: 1, budget: 1 },
  },
  {
    name: 'the leader goes last',
    nodes: 3,
    policy: { leaderId: 'n1' },
    expected: { type: 'replace', nodeIds: ['n2'] },
  },
  {
    name: 'the leader alone when it is the only outdated node',
    nodes: 3,
    shapes: { n2: { revision: 'current' }, n3: { revision: 'current' } },
    policy: { leaderId: 'n1' },
    expected: { type: 'replace', nodeIds: ['n1'] },
  },
  {
    name: 'a node already down: wait, touch nothing',
    nodes: 5,
    shapes: { n4: { noInstance: true, leaving: true } },
    policy: { maxUnavailable: 2 },
    expected: { type: 'wait' },
    quorum: { down: 1, budget: 1 },
  },
  {
    name: 'a node down in a 1-tolerance cluster: no budget at all',
    nodes: 3,
    shapes: { n3: { lifecycle: 'Pending:Wait', phase: 'mounting', revision: 'current' } },
    expected: { type: 'wait' },
    quorum: { down: 1, budget: 0 },
  },
  {
    name: 'everything current and healthy → done',
    nodes: 3,
    shapes: { n1: { revision: 'current' }, n2: { revision: 'current' }, n3: { revision: 'current' } },
    expected: { type: 'done' },
  },
  {
    name: 'current but one still booting → wait, not done',
    nodes: 3,
    shapes: { n1: { revision: 'current' }, n2: { revision: 'current' }, n3: { revision: 'current', lifecycle: 'Pending:Wait', phase: 'joining' } },
    expected: { type: 'wait' },
  },
  {
    name: 'a node on the desired revision whose group launches an older one gets its template back in line',
    nodes: 3,
    shapes: { n2: { revision: 'current', groupRevision: 'old' } },
    expected: { type: 'update-templates', nodeIds: ['n2'] },
  },
  {
    name: 'outdated nodes keep their old template until their own batch (a loss relaunches a proven revision)',
    nodes: 3,
    shapes: { n2: { groupRevision: 'old' }, n3: { groupRevision: 'old' } },
    expected: { type: 'replace', nodeIds: ['n1'] },
  },
  {
    name: 'a node with a spot interruption notice counts as down: wait',
    nodes: 3,
    shapes: { n2: { disruption: true } },
    expected: { type: 'wait', nodeIds: ['n2'] },
  },
  {
    name: 'a node without a group halts: run apply() first',
    nodes: 3,
    shapes: { n2: { noGroup: true, noInstance: true } },
    expected: { type: 'halt', code: 'NOT_PROVISIONED', nodeId: 'n2' },
  },
  {
    name: 'a failure on the desired revision halts, naming node, phase and error',
    nodes: 5,
    shapes: { n1: { revision: 'current', lifecycle: 'Pending:Wait', phase: 'failed', phaseReason: 'mounting: mkfs.xfs exited 1' } },
    expected: { type: 'halt', code: 'FAILED', nodeId: 'n1', phase: 'mounting', lastError: 'mkfs.xfs exited 1' },
  },
  {
    name: 'a terminated failed instance still halts (the group relaunched it)',
    nodes: 5,
    shapes: {
      n1: {
        revision: 'current',
        lifecycle: 'Pending:Wait',
        phase: 'attaching',
        extra: [
          { instanceId: 'i-dead', lifecycleState: 'Terminated', ec2State: 'terminated', revision: 'current', phase: 'failed', phaseReason: 'configuring: exit 3', az: 'eu-west-1a', launchedAtMs: 900_000, healthStatus: 'Unhealthy', spot: false },
        ],
      },
    },
    expected: { type: 'halt', code: 'FAILED', nodeId: 'n1', phase: 'configuring', lastError: 'exit 3' },
  },
  {
    name: 'a failed instance of an older revision is a lost node, not a roll failure',
    nodes: 5,
    shapes: {
      n1: {
        extra: [
          { instanceId: 'i-dead', lifecycleState: 'Terminated', ec2State: 'terminated', revision: 'r-old', phase: 'failed', phaseReason: 'configuring: exit 3', az: 'eu-west-1a', launchedAtMs: 900_000, healthStatus: 'Unhealthy', spot: false },
        ],
      },
    },
    expected: { type: 'replace', nodeIds: ['n1'] },
  },
  {
    name: 'failures before ignoreFailuresBeforeMs are ignored (retryFailed)',
    nodes: 3,
    shapes: { n1: { revision: 'current', lifecycle: 'Pending:Wait', phase: 'failed', phaseReason: 'boom', launchedAtMs: 10 } },
    policy: { ignoreFailuresBeforeMs: 100 },
    expected: { type: 'wait' },
  },
  {
    name: 'a replacement past its timeout halts, naming the phase it is stuck in',
    nodes: 5,
    shapes: { n1: { revision: 'current', lifecycle: 'Pending:Wait', phase: 'joining' } },
    policy: { inFlight: new Map([['n1', { nodeId: 'n1', oldInstanceId: 'i-n1-old', startedAtMs: 0 }]]), replacementTimeoutMs: 60_000 },
    now: 120_000,
    expected: { type: 'halt', code: 'TIMEOUT', nodeId: 'n1', phase: 'joining' },
  },
  {
    name: 'skipped nodes are left alone',
    nodes: 3,
    policy: { skip: new Set(['n1']) },
    expected: { type: 'replace', nodeIds: ['n2'] },
  },
];

describe('planRoll', () => {
  it.each(cases)('$name', ({ nodes, shapes, policy: p, now, expected, quorum }) => {
    const s = spec(nodes);
    const plan = planRoll(observation(s, shapes), s, policy(p), now ?? 1_000_000);
    expect(plan.action).toMatchObject(expected);
    if (quorum) expect(plan.quorum).toMatchObject(quorum);
  });

  it('is pure: the same inputs give equal plans and the inputs are not changed', () => {
    const s = spec(5);
    const obs = observation(s, { n2: { revision: 'current' } });
    const before = JSON.stringify(obs);
    expect(planRoll(obs, s, policy(), 5)).toEqual(planRoll(obs, s, policy(), 5));
    expect(JSON.stringify(obs)).toBe(before);
  });

  it('the failed halt names the instance and the revision', () => {
    const s = spec(3);
    const plan = planRoll(observation(s, { n2: { revision: 'current', lifecycle: 'Pending:Wait', phase: 'failed', phaseReason: 'configuring: exit 3' } }), s, policy(), 0);
    expect(plan.action.type === 'halt' && plan.action.reason).toMatch(/node n2 failed to boot revision r-[0-9a-f]{16} \(instance i-n2-new, in phase configuring\): exit 3/);
  });
});

describe('checkDisruption (the check at the moment of use)', () => {
  const s = spec(5);
  const pol = { ignoreFailuresBeforeMs: 0 };
  const check = (shapes: Record<string, NodeShape>, nodeId: string, disrupted: string[] = [], maxUnavailable = 2) =>
    checkDisruption(observation(s, shapes), s, pol, { nodeId, instanceId: `i-${nodeId}-old`, disrupted: new Set(disrupted), maxUnavailable });

  it('allows a healthy outdated node when everything else is healthy', () => {
    expect(check({}, 'n1')).toEqual({ ok: true });
  });
  it('allows the second node of a batch while the first is down', () => {
    expect(check({ n1: { noInstance: true, leaving: true } }, 'n4', ['n1'])).toEqual({ ok: true });
  });
  it('refuses when a node outside the batch went down since the batch was planned', () => {
    expect(check({ n2: { noInstance: true } }, 'n1')).toMatchObject({ ok: false, reason: expect.stringMatching(/n2 .* went down since the batch was planned/) });
  });
  it('refuses when a node outside the batch got a spot interruption notice', () => {
    expect(check({ n3: { disruption: true } }, 'n1')).toMatchObject({ ok: false });
  });
  it('refuses beyond the budget, and beyond the tolerance whatever maxUnavailable says', () => {
    expect(check({ n1: { noInstance: true } }, 'n4', ['n1'], 1)).toMatchObject({ ok: false, reason: expect.stringMatching(/budget of 1/) });
    expect(check({ n1: { noInstance: true }, n4: { noInstance: true } }, 'n2', ['n1', 'n4'], 5)).toMatchObject({ ok: false, reason: expect.stringMatching(/budget of 2/) });
  });
  it('refuses a node that no longer runs the planned instance, or already runs the desired revision', () => {
    expect(check({ n1: { revision: 'current' } }, 'n1')).toMatchObject({ ok: false });
  });
  it('refuses once a node failed on the desired revision', () => {
    expect(check({ n2: { revision: 'current', lifecycle: 'Pending:Wait', phase: 'failed', phaseReason: 'mounting: boom' } }, 'n1')).toMatchObject({ ok: false, reason: expect.stringMatching(/n2 failed/) });
  });
});

describe('azWarnings', () => {
  it('warns about an AZ holding at least the tolerance, and says what layout avoids it', () => {
    const w = azWarnings(spec(5));
    expect(w).toHaveLength(2);
    expect(w[0]).toMatch(/AZ eu-west-1a holds 2 of 5 nodes \(n1, n4\), at least the quorum tolerance of 2: an outage of eu-west-1a during any replacement loses the quorum\. Spread the nodes over at least 5 AZs \(at most 1 per AZ\)/);
    expect(azWarnings(spec(3))[0]).toMatch(/No layout of 3 nodes avoids it/);
  });
});
