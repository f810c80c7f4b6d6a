// The report recorded live (a controller's events and the driver's observations, as on AWS)
// against the report built from the simulator's trace, for the same roll.
import { createController, type Controller } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { buildReportData, createTimelineRecorder, renderHtmlReport, runScenario, type ReportData, type RollFn, type Scenario, type TimelineRecorder } from '../src/index.js';

const scenario: Scenario = { seed: 7, nodes: 5, profile: 'fast', maxUnavailable: 2, faults: [] };

/** Each lane's states in order, repeats merged. */
const phasesOf = (data: ReportData) => data.nodes.map((n) => n.segments.map((s) => s.state).filter((s, i, all) => s !== all[i - 1]));
const isSubsequence = (part: readonly string[], whole: readonly string[]) => {
  let i = 0;
  for (const s of whole) if (s === part[i]) i++;
  return i === part.length;
};

describe('createTimelineRecorder', () => {
  it('a roll recorded live shows the nodes, batches and phases the trace shows, in the same order', async () => {
    let recorder: TimelineRecorder | null = null;
    // The default roll, with a recorder attached the way one attaches to a roll on AWS.
    const roll: RollFn = async (a) => {
      recorder ??= createTimelineRecorder({ spec: a.spec, clock: a.clock });
      const c: Controller = createController({ spec: a.spec, driver: recorder.observing(a.driver), clock: a.clock, hooks: a.hooks, holderId: a.holderId, sessionId: a.sessionId });
      recorder.attach(c);
      c.on('batch.started', (e) => a.onBatch({ index: e.index, nodeIds: e.nodeIds, atMs: e.atMs, phase: 'started' }));
      c.on('batch.completed', (e) => a.onBatch({ index: e.index, nodeIds: e.nodeIds, atMs: e.atMs, phase: 'completed' }));
      return c.roll({ maxUnavailable: a.maxUnavailable, retryFailed: a.retryFailed, replacementTimeoutMs: a.replacementTimeoutMs, signal: a.signal });
    };
    const result = await runScenario(scenario, { keepEvidence: true, roll });
    expect(result.ok).toBe(true);
    const trace = buildReportData(result);
    const live = recorder!.toReportData({ title: 'live' });

    expect(trace.source).toBe('simulator-trace');
    expect(live.source).toBe('live');
    expect(live.nodes.map((n) => n.nodeId)).toEqual(trace.nodes.map((n) => n.nodeId));
    expect(live.batches.map((b) => [b.index, [...b.nodeIds].sort()])).toEqual(trace.batches.map((b) => [b.index, [...b.nodeIds].sort()]));
    expect(live.replacements).toEqual(trace.replacements);
    expect(live.sessions.map((s) => s.outcome)).toEqual(['completed']);
    // Every node was replaced: in both, its lane leaves in-service and comes back.
    const [tracePhases, livePhases] = [phasesOf(trace), phasesOf(live)];
    livePhases.forEach((p, i) => {
      expect(p[0], live.nodes[i]!.nodeId).toBe('in-service');
      expect(p.at(-1), live.nodes[i]!.nodeId).toBe('in-service');
      expect(p.length, live.nodes[i]!.nodeId).toBeGreaterThan(2);
      // Modulo resolution: what the live recording saw, the trace saw too, in that order.
      expect(isSubsequence(p.filter((s) => s !== 'healthy'), tracePhases[i]!), `${live.nodes[i]!.nodeId}: ${p.join(' → ')} within ${tracePhases[i]!.join(' → ')}`).toBe(true);
    });
    // Batches happen at the same times (the recorder's start is the roll's, within a look).
    live.batches.forEach((b, i) => expect(Math.abs(b.startMs - trace.batches[i]!.startMs)).toBeLessThan(2_000));
    expect(live.quorumMargin.some((m) => m.margin < 2)).toBe(true);
    expect(live.resolution!.observations).toBeGreaterThan(3);
    expect(live.resolution!.note).toMatch(/a phase shorter than the time between observations \(up to \S+\) may not show/);

    // One renderer for both; the same sections, the live one says how it was sampled.
    const [h1, h2] = [renderHtmlReport(trace), renderHtmlReport(live)];
    const sections = (h: string) => [...h.matchAll(/<h2>([A-Z][a-z]+)/g)].map((m) => m[1]);
    expect(sections(h2)).toEqual(sections(h1));
    expect(h2).toContain('id="resolution"');
    expect(h2).toMatch(/No invariants checked — recorded live, 5 nodes, maxUnavailable 2; ok/);
    expect(Object.keys(live).sort()).toEqual(expect.arrayContaining(Object.keys(trace).sort()));
  }, 20_000);

  it('records faults, kill switches and notes; a stopped recording is not ok', () => {
    let now = 1_000_000;
    const clock = { now: () => now, sleep: async () => {} } as never;
    const spec = { name: 'x', nodes: [{ id: 'a' }, { id: 'b' }, { id: 'c' }] } as never;
    const r = createTimelineRecorder({ spec, clock, origin: 'the game-day started' });
    now += 5_000;
    r.fault({ kind: 'kill-instance', nodeId: 'b', atMs: 5_000, stabilityMs: 0 });
    now += 1_000;
    r.note('kill switch: file /tmp/stop exists');
    const data = r.toReportData({ stopped: { reason: 'kill-switch', atMs: 6_000, detail: 'file /tmp/stop exists' } });
    expect(data.faults).toEqual([{ atMs: 5_000, kind: 'kill-instance', detail: '+5s kill-instance b' }]);
    expect(data.notes).toEqual(['+6s kill switch: file /tmp/stop exists']);
    expect(data.ok).toBe(false);
    expect(data.nodes.map((n) => n.segments)).toEqual([0, 1, 2].map(() => [{ fromMs: 0, toMs: 6_000, state: 'in-service' }]));
    const html = renderHtmlReport(data);
    expect(html).toContain('Stopped at +6s: kill-switch — file /tmp/stop exists');
    expect(html).toContain('time since the game-day started');
  });
});
