import { describe, expect, it } from 'vitest';
import { checkInvariants, runScenario, type InvariantId, type Scenario } from '../../src/index.js';
import { mutantRoll, skippingRoll, staleViewRoll, volumeDeletingRoll } from '../support/mutants.js';

const base: Scenario = { seed: 11, nodes: 3, profile: 'fast', maxUnavailable: 1, faults: [] };
const ids = (r: { violations: readonly { invariant: InvariantId }[] }) => [...new Set(r.violations.map((v) => v.invariant))];

describe('each invariant catches a mutant', () => {
  it('the real controller passes every invariant on the same scenarios', async () => {
    const badImage = (phase: 'configuring' | 'launching'): Scenario => ({ ...base, faults: [{ kind: 'bad-image', phase, reason: 'x', atMs: 0, stabilityMs: 0 }] });
    for (const s of [base, { ...base, nodes: 5, maxUnavailable: 2 }, badImage('configuring'), badImage('launching')]) {
      const r = await runScenario(s, { keepEvidence: true });
      expect(r.violations).toEqual([]);
      // Replaced instances took their root volumes with them: not a data volume lost.
      expect(r.evidence!.trace.some((e) => e.kind === 'volume.deleted' && e['launchedWith'] !== undefined)).toBe(true);
    }
  });

  it('1 quorum-safety: a roll that replaces every node at once', async () => {
    const r = await runScenario(base, { roll: mutantRoll({ batchAll: true }) });
    expect(ids(r)).toContain('quorum-safety');
  });

  // A roll that looks, plans chaos-1, passes its gates and waits, then replaces without looking again.
  const partitionWhileWaiting = { ...base, faults: [{ kind: 'partition' as const, nodeId: 'chaos-2', durationMs: 30_000, atMs: 2_000, stabilityMs: 300 }] };

  it('1 quorum-safety: a roll that decides on a view older than the freshness bound (chaos-2 partitioned while it waits)', async () => {
    const r = await runScenario(partitionWhileWaiting, { roll: staleViewRoll(15_000), invariants: ['quorum-safety'] });
    expect(r.violations.map((v) => v.message)).toEqual([
      expect.stringMatching(/^replaceInstance\(chaos-1\) by ctl-a#1 at \+\d+: 1 healthy left \(chaos-3\), quorum 2; decided on a view 150\d\d ms old, bound 10000 ms \(its last look ended at \+\d+; it waited in clusterHealthy .*beforeReplace\(chaos-1\)/),
    ]);
  });

  it('1 quorum-safety: a dip caused by a partition alone, after a look within the bound, is noted, not blamed', async () => {
    const r = await runScenario(partitionWhileWaiting, { roll: staleViewRoll(5_000), invariants: ['quorum-safety'] });
    expect(r.violations).toEqual([]);
    expect(r.notes.map((n) => n.message)).toEqual([expect.stringMatching(/^replaceInstance\(chaos-1\).*a fault took chaos-2 after the controller's look 50\d\d ms before \(within the 10000 ms bound; not blamed\)$/)]);
  });

  it('4 data-retained: a cleanup that deletes a retained volume', async () => {
    const r = await runScenario(base, { roll: volumeDeletingRoll });
    expect(ids(r)).toContain('data-retained');
  });

  it('5 liveness: a roll that reports success but skipped a node', async () => {
    const r = await runScenario(base, { roll: skippingRoll });
    expect(ids(r)).toEqual(['liveness']);
    expect(r.liveness?.pending.map((p) => p.nodeId)).toEqual(['chaos-1']);
  });

  it('6 failure-containment: a roll that carries on after a node failed', async () => {
    const r = await runScenario({ ...base, faults: [{ kind: 'bad-image', phase: 'mounting', reason: 'bad', atMs: 0, stabilityMs: 0 }] }, { roll: mutantRoll({ ignoreFailures: true }) });
    expect(ids(r)).toContain('failure-containment');
  });

  it('6 failure-containment: a roll that carries on after a replacement never came back (a bad image that never boots reports no failure)', async () => {
    const badLaunch: Scenario = { ...base, faults: [{ kind: 'bad-image', phase: 'launching', reason: 'bad', atMs: 0, stabilityMs: 0 }] };
    const r = await runScenario(badLaunch, { roll: mutantRoll({ ignoreFailures: true }), invariants: ['failure-containment'], replacementTimeoutMs: 60_000 });
    expect(r.violations[0]?.message).toMatch(/^ctl-a#1 called replaceInstance\(chaos-2\) after it saw chaos-1 not back \d+ ms after its replacement started \(timeout 60000 ms\)/);
  });

  it('7 single-controller: a roll that ignores the lock while another holds it', async () => {
    const r = await runScenario({ ...base, faults: [{ kind: 'second-controller', atMs: 500, stabilityMs: 0 }] }, { roll: mutantRoll({ ignoreLock: true }) });
    expect(ids(r)).toContain('single-controller');
  });

  it('7 single-controller: two controllers with one holder id (two sessions) are two owners', async () => {
    // A lock that takes the second acquire as "already ours" lets both in (their fencing tokens
    // differ); one that tells sessions apart refuses the second, which this mutant ignores.
    const r = await runScenario({ ...base, faults: [{ kind: 'same-holder-controller', atMs: 500, stabilityMs: 0 }] }, { roll: mutantRoll({ ignoreLockHeld: true }), invariants: ['single-controller'] });
    expect(r.sessions.map((s) => `${s.session} ${s.holder}`).slice(0, 2)).toEqual(['ctl-a#1 ctl-a', 'ctl-a#2 ctl-a']);
    expect(r.violations.length).toBeGreaterThan(0);
    expect(r.violations.map((v) => v.message).join('\n')).toMatch(/ctl-a#[12] \(holder ctl-a\) called \w+\(chaos-\d\) at \+\d+ (under session ctl-a#1 \(token \d+\), but the lease is ctl-a( \(session ctl-a#2\))?, token|holding no lease of its own)/);
  });

  it('8 no-double-replace: a roll that replaces updated nodes again', async () => {
    const r = await runScenario(base, { roll: mutantRoll({ ignoreRevision: true }) });
    expect(ids(r)).toContain('no-double-replace');
  });

  it('9 iam-allowed: a node role without autoscaling:CompleteLifecycleAction (the bootstrap cannot finish)', async () => {
    const drop = (doc: unknown) => {
      const d = doc as { Statement: { Action: string[] }[] };
      return { ...d, Statement: d.Statement.map((st) => ({ ...st, Action: st.Action.filter((a) => a !== 'autoscaling:CompleteLifecycleAction') })).filter((st) => st.Action.length > 0) };
    };
    const r = await runScenario(base, { onSimulation: (sim) => sim.account.transformPolicies((role, doc) => (role === 'node' ? drop(doc) : doc)) });
    expect(ids(r)).toContain('iam-allowed');
    expect(r.violations.find((v) => v.invariant === 'iam-allowed')?.message).toMatch(/^IAM denied autoscaling:CompleteLifecycleAction on arn:aws:autoscaling:\S+ to arn:aws:sts::123456789012:assumed-role\//);
  });

  // The simulator enforces single-attach and ownership itself, so no controller can break 2 and 3
  // through the Driver seam: their mutant is a broken backend, played by editing a real trace.
  it('2 single-attach: a backend that attaches a volume to a second instance', async () => {
    const r = await runScenario(base, { keepEvidence: true });
    const ev = r.evidence!;
    const roots = new Set(ev.trace.filter((e) => e.kind === 'volume.created' && e['launchedWith'] !== undefined).map((e) => e['volumeId']));
    const attach = ev.trace.find((e) => e.kind === 'volume.attachment' && e['state'] === 'attached' && !roots.has(e['volumeId']))!;
    const other = ev.trace.find((e) => e.kind === 'instance.launched' && e.nodeId !== attach.nodeId)!;
    const broken = [...ev.trace, { ...attach, seq: 1e9, instanceId: other.instanceId }];
    // The real trace holds root volumes detached from their terminated instances: not a second attachment.
    expect(ev.trace.some((e) => e.kind === 'volume.attachment' && roots.has(e['volumeId']))).toBe(true);
    expect(checkInvariants({ ...ev, trace: ev.trace }, ['single-attach']).violations).toEqual([]);
    expect(checkInvariants({ ...ev, trace: broken }, ['single-attach']).violations.length).toBeGreaterThan(0);
    // A root volume belongs to the instance it was launched with.
    const launched = ev.trace.find((e) => e.kind === 'instance.launched' && typeof e['rootVolumeId'] === 'string')!;
    const stolenRoot = [...ev.trace, { ...attach, seq: 1e9 + 1, volumeId: launched['rootVolumeId'], instanceId: other.instanceId === launched.instanceId ? attach.instanceId : other.instanceId }];
    expect(checkInvariants({ ...ev, trace: stolenRoot }, ['single-attach']).violations[0]?.message).toMatch(/^root volume vol-\w+ of i-\w+ is attached on i-\w+$/);
  });

  it('3 ownership: a backend that gives a node another node’s IP or volume', async () => {
    const r = await runScenario(base, { keepEvidence: true });
    const ev = r.evidence!;
    expect(checkInvariants(ev, ['ownership']).violations).toEqual([]);
    const eni = ev.trace.find((e) => e.kind === 'eni.created' && e.nodeId === 'chaos-1')!;
    const stolenIp = [...ev.trace, { ...eni, seq: 1e9, nodeId: 'chaos-2' }];
    expect(checkInvariants({ ...ev, trace: stolenIp }, ['ownership']).violations[0]?.message).toMatch(/serves chaos-2/);
    // What a full observation records (a roll itself only looks at groups and instances): first
    // faithful, then with two nodes' resources swapped, as a broken backend would report them.
    const volumeOf = (nodeId: string) => String(ev.trace.find((e) => e.kind === 'volume.created' && e.nodeId === nodeId && e['launchedWith'] === undefined)!['volumeId']);
    const res = Object.fromEntries(ev.spec.nodes.map((n) => [n.id, { ip: n.ip, volumeId: volumeOf(n.id) }]));
    const obs = ev.calls.find((c) => c.observed)!;
    const faithful = { ...obs, observed: { ...obs.observed!, resources: res } };
    expect(checkInvariants({ ...ev, calls: [...ev.calls, faithful] }, ['ownership']).violations).toEqual([]);
    const swapped = { ...obs, observed: { ...obs.observed!, resources: { ...res, 'chaos-1': res['chaos-2']!, 'chaos-2': res['chaos-1']! } } };
    expect(checkInvariants({ ...ev, calls: [...ev.calls, swapped] }, ['ownership']).violations.length).toBeGreaterThan(0);
    // Root volumes carry the node's tags too: a backend that reports one as the node's data volume.
    const root = ev.trace.find((e) => e.kind === 'volume.created' && e.nodeId === 'chaos-1' && e['launchedWith'] !== undefined)!;
    const rootAsData = { ...obs, observed: { ...obs.observed!, resources: { ...res, 'chaos-1': { ip: res['chaos-1']!.ip, volumeId: String(root['volumeId']) } } } };
    expect(checkInvariants({ ...ev, calls: [...ev.calls, rootAsData] }, ['ownership']).violations[0]?.message).toMatch(/observed root volume vol-\w+ \(of instance i-\w+\) as chaos-1's data volume/);
  });
});
