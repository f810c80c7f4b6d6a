import { formatRollTime, quorumOf } from '@berth/core';
import type { TraceEntry } from '@berth/sim-driver';
import { FAULT_CATALOGUE } from '../faults/fault-catalogue.js';
import { describeFault } from '../faults/fault.js';
import { INVARIANT_NUMBERS, type InvariantId } from '../invariants/evidence.js';
import type { ScenarioResult } from '../scenario/run-scenario.js';
import type { LiveResolution } from './live-timeline.js';

export interface PhaseSegment {
  readonly fromMs: number;
  readonly toMs: number;
  /** A boot phase, `in-service`, `terminating`, `down` or `partitioned`. */
  readonly state: string;
}

/** The report's data: what the HTML shows, also written as JSON. Times are ms after the roll started. */
export interface ReportData {
  readonly title: string;
  readonly seed: number;
  readonly scenario: ScenarioResult['scenario'];
  readonly ok: boolean;
  readonly endMs: number;
  readonly nodes: readonly { readonly nodeId: string; readonly segments: readonly PhaseSegment[] }[];
  /** Healthy members minus quorum, stepwise. */
  readonly quorumMargin: readonly { readonly atMs: number; readonly margin: number }[];
  readonly faults: readonly { readonly atMs: number; readonly kind: string; readonly detail: string }[];
  /** `index` is 0-based, as in the `batch.started` event; the HTML shows `batch 1` for index 0. */
  readonly batches: readonly { readonly session: string; readonly index: number; readonly nodeIds: readonly string[]; readonly startMs: number; readonly endMs: number | null }[];
  /**
   * Replacements the controllers made: `started` — `replaceInstance` calls that went through;
   * `finished` — those whose node then had another instance InService (what a roll report counts
   * as replaced). Instances the Auto Scaling groups relaunched after a fault are not counted.
   */
  readonly replacements: { readonly started: number; readonly finished: number };
  readonly invariants: readonly { readonly id: InvariantId; readonly number: number; readonly violations: number; readonly messages: readonly string[] }[];
  readonly checks: ScenarioResult['checks'];
  readonly sessions: ScenarioResult['sessions'];
  readonly liveness: ScenarioResult['liveness'];
  readonly notes: readonly string[];
  /**
   * Where the timeline came from: a simulator trace (`buildReportData`, every state change) or
   * recorded live (`createTimelineRecorder`: a controller's events and the driver's
   * observations, on AWS or in the simulator). Absent in reports written before it existed.
   */
  readonly source?: 'simulator-trace' | 'live';
  /** What time 0 is, for the axis: `the roll started` (default), `the game-day started`. */
  readonly origin?: string;
  /** Live: what ran it (`AWS eu-west-1`, `simulator seed 42, fast profile`). */
  readonly target?: string | null;
  /** Live: how finely the lanes were sampled. */
  readonly resolution?: LiveResolution;
  /** Live: why the run stopped before its end (a game-day's kill switch...); null when it did not. */
  readonly stopped?: { readonly reason: string; readonly atMs: number; readonly detail: string } | null;
}

const FAULT_KINDS = /^fault\./;

/** A reported phase as a lane state: the bootstrap tags a failure `failed:<phase>:<reason>`. */
const laneState = (phase: string) => (phase === 'failed' || phase.startsWith('failed:') ? 'failed' : phase);

/**
 * Turns a scenario result (run with `keepEvidence`) into the timeline the report shows: every
 * node's phase over time, the quorum margin, faults, batches and the invariants checked.
 */
export function buildReportData(result: ScenarioResult, title = `Berth chaos run, seed ${result.scenario.seed}`): ReportData {
  const ev = result.evidence;
  if (!ev) throw new RangeError('buildReportData needs a result run with { keepEvidence: true }');
  const t0 = result.rollStartMs;
  const rel = (e: TraceEntry) => e.atMs - t0;
  const trace = ev.trace.filter((e) => e.atMs >= t0);
  const endMs = Math.max(1, (ev.trace[ev.trace.length - 1]?.atMs ?? t0) - t0);
  const current = new Map<string, string>();
  // The node's current instance at the roll's start.
  for (const e of ev.trace) if (e.atMs < t0 && e.kind === 'instance.launched' && e.nodeId && e.instanceId) current.set(e.nodeId, e.instanceId);
  const nodes = ev.spec.nodes.map((n) => {
    const segs: PhaseSegment[] = [];
    let state = 'in-service';
    let from = 0;
    const move = (at: number, next: string) => {
      if (next === state) return;
      if (at > from) segs.push({ fromMs: from, toMs: at, state });
      state = next;
      from = at;
    };
    for (const e of trace) {
      if (e.nodeId !== n.id) continue;
      const at = rel(e);
      if (e.kind === 'instance.launched' && e.instanceId) {
        current.set(n.id, e.instanceId);
        move(at, 'launching');
      } else if (e.instanceId && e.instanceId !== current.get(n.id)) {
        if (e.kind === 'instance.lifecycle' && String(e['to']).startsWith('Terminat') && state === 'in-service') move(at, 'terminating');
        continue;
      } else if (e.kind === 'instance.phase') move(at, laneState(String(e['phase'])));
      else if (e.kind === 'instance.lifecycle') {
        const to = String(e['to']);
        if (to === 'InService') move(at, 'in-service');
        else if (to.startsWith('Terminat')) move(at, 'terminating');
      } else if (e.kind === 'instance.state' && (e['to'] === 'terminated' || e['to'] === 'shutting-down')) move(at, 'down');
      else if (e.kind === 'app.partitioned') move(at, 'partitioned');
      else if (e.kind === 'app.partition-healed') move(at, 'in-service');
    }
    segs.push({ fromMs: from, toMs: endMs, state });
    return { nodeId: n.id, segments: segs };
  });

  const { quorum } = quorumOf(ev.spec.nodes.length);
  const healthy = new Set<string>();
  const cut = new Set<string>();
  for (const e of ev.trace) {
    if (e.atMs >= t0) break;
    if (e.kind === 'app.member-healthy' && e.nodeId) healthy.add(e.nodeId);
    if (e.kind === 'app.member-down' && e.nodeId) healthy.delete(e.nodeId);
  }
  const margin: { atMs: number; margin: number }[] = [{ atMs: 0, margin: healthy.size - quorum }];
  for (const e of trace) {
    if (!e.nodeId) continue;
    let changed = true;
    if (e.kind === 'app.member-healthy') healthy.add(e.nodeId);
    else if (e.kind === 'app.member-down') healthy.delete(e.nodeId);
    else if (e.kind === 'app.partitioned') cut.add(e.nodeId);
    else if (e.kind === 'app.partition-healed') cut.delete(e.nodeId);
    else changed = false;
    if (changed) margin.push({ atMs: rel(e), margin: [...healthy].filter((x) => !cut.has(x)).length - quorum });
  }

  const faults = trace
    .filter((e) => FAULT_KINDS.test(e.kind) && e.kind !== 'fault.api-error')
    .map((e) => ({ atMs: rel(e), kind: e.kind.replace(/^fault\./, ''), detail: Object.entries(e).filter(([k]) => !['atMs', 'seq', 'kind'].includes(k)).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ') }));
  for (const s of result.sessions) if (s.outcome === 'crashed') faults.push({ atMs: (s.settledAtMs ?? t0) - t0, kind: 'controller-crash', detail: s.session });
  // Controller and hook faults leave no trace in the simulator: the schedule says when they came.
  for (const f of result.scenario.faults) if (FAULT_CATALOGUE[f.kind].playedBy === 'runner' && f.kind !== 'controller-crash') faults.push({ atMs: f.atMs, kind: f.kind, detail: describeFault(f) });

  // A replacement finished when, after its call, another instance of the node came InService.
  const replaced = ev.calls.filter((c) => c.op === 'replaceInstance' && c.ok === true && c.nodeId !== null && c.startMs >= t0);
  const finished = replaced.filter((c) => trace.some((e) => e.atMs >= c.startMs && e.nodeId === c.nodeId && e.kind === 'instance.lifecycle' && e['to'] === 'InService' && e.instanceId !== c.instanceId));

  const byId = new Map<InvariantId, string[]>();
  for (const v of result.violations) byId.set(v.invariant, [...(byId.get(v.invariant) ?? []), `${formatRollTime(v.atMs - t0)} ${v.message}`]);
  return {
    title,
    seed: result.scenario.seed,
    scenario: result.scenario,
    ok: result.ok,
    endMs,
    nodes,
    quorumMargin: margin,
    faults: faults.sort((a, b) => a.atMs - b.atMs),
    batches: result.batches.map((b) => ({ session: b.session, index: b.index, nodeIds: b.nodeIds, startMs: b.startedAtMs - t0, endMs: b.finishedAtMs === null ? null : b.finishedAtMs - t0 })),
    replacements: { started: replaced.length, finished: finished.length },
    invariants: result.checked.map((id) => ({ id, number: INVARIANT_NUMBERS[id], violations: byId.get(id)?.length ?? 0, messages: byId.get(id) ?? [] })).sort((a, b) => a.number - b.number),
    checks: result.checks,
    sessions: result.sessions.map((s) => ({ ...s, startedAtMs: s.startedAtMs - t0, settledAtMs: s.settledAtMs === null ? null : s.settledAtMs - t0 })),
    liveness: result.liveness,
    notes: result.notes.map((n) => `[${n.invariant}] ${formatRollTime(n.atMs - t0)} ${n.message}`),
    source: 'simulator-trace',
  };
}
