import { formatDuration } from '../format-duration.js';
import { PHASE_ORDER, type Phase } from '../observation.js';

export interface NodeReplacementReport {
  readonly nodeId: string;
  /** The batch's `index` (0-based, as in `batch.started`; people see it 1-based: `batch 1`). */
  readonly batch: number;
  readonly oldInstanceId: string;
  readonly newInstanceId: string | null;
  readonly startedAtMs: number;
  readonly finishedAtMs: number | null;
  readonly durationMs: number | null;
  /** When each phase was first seen on the new instance (clock ms). */
  readonly phasesAtMs: Readonly<Partial<Record<Phase, number>>>;
  /** Time spent in each phase (ms), from consecutive phase sightings. */
  readonly phaseDurationsMs: Readonly<Partial<Record<Phase, number>>>;
}

export interface BatchReport {
  /** 0-based position in the roll, as in `batch.started`; {@link formatRollReport} shows `batch 1`. */
  readonly index: number;
  readonly nodeIds: readonly string[];
  readonly startedAtMs: number;
  readonly finishedAtMs: number | null;
}

export interface RollReport {
  readonly rollId: string;
  readonly clusterName: string;
  readonly outcome: 'completed' | 'halted' | 'aborted';
  readonly haltReason: string | null;
  readonly startedAtMs: number;
  readonly finishedAtMs: number;
  readonly durationMs: number;
  readonly maxUnavailable: number;
  readonly nodes: readonly NodeReplacementReport[];
  readonly batches: readonly BatchReport[];
  /** Nodes already on the desired revision when the roll started. */
  readonly alreadyCurrent: readonly string[];
  readonly replacedCount: number;
  /** Cloud API calls made during the roll, by operation (from the driver). */
  readonly apiCalls: Readonly<Record<string, number>>;
  readonly apiCallsTotal: number;
  /** Driver operations (observe, replaceInstance...) with retries, from the runtime wrapper. */
  readonly operations: Readonly<Record<string, { calls: number; retries: number; failures: number; throttled: number }>>;
}

/** Collects what a roll did; the controller turns it into a frozen {@link RollReport}. */
export class RollRecorder {
  readonly rollId: string;
  readonly clusterName: string;
  readonly startedAtMs: number;
  readonly maxUnavailable: number;
  readonly #nodes = new Map<string, { batch: number; oldInstanceId: string; newInstanceId: string | null; startedAtMs: number; finishedAtMs: number | null; phases: Partial<Record<Phase, number>> }>();
  readonly #batches: { index: number; nodeIds: readonly string[]; startedAtMs: number; finishedAtMs: number | null }[] = [];
  alreadyCurrent: readonly string[] = [];

  constructor(rollId: string, clusterName: string, startedAtMs: number, maxUnavailable: number) {
    this.rollId = rollId;
    this.clusterName = clusterName;
    this.startedAtMs = startedAtMs;
    this.maxUnavailable = maxUnavailable;
  }

  batchStarted(nodeIds: readonly string[], atMs: number): number {
    const index = this.#batches.length;
    this.#batches.push({ index, nodeIds, startedAtMs: atMs, finishedAtMs: null });
    return index;
  }
  /** When the batch started (clock ms). */
  batchStartedAtMs(index: number): number {
    return this.#batches[index]?.startedAtMs ?? this.startedAtMs;
  }
  /** The batch never ran (its first replacement never went out): forget it, so the next batch takes its index. */
  cancelBatch(index: number): void {
    const last = this.#batches.length - 1;
    if (index !== last || [...this.#nodes.values()].some((n) => n.batch === index)) return;
    this.#batches.pop();
  }
  batchFinished(index: number, atMs: number): number {
    const b = this.#batches[index];
    if (b) b.finishedAtMs = atMs;
    return b ? atMs - b.startedAtMs : 0;
  }
  replacing(nodeId: string, oldInstanceId: string, batch: number, atMs: number): void {
    this.#nodes.set(nodeId, { batch, oldInstanceId, newInstanceId: null, startedAtMs: atMs, finishedAtMs: null, phases: {} });
  }
  /** The replacement call did not go through: forget it. */
  cancelReplacing(nodeId: string): void {
    const n = this.#nodes.get(nodeId);
    if (n && n.finishedAtMs === null) this.#nodes.delete(nodeId);
  }
  phase(nodeId: string, instanceId: string, phase: Phase, atMs: number): void {
    const n = this.#nodes.get(nodeId);
    if (!n || instanceId === n.oldInstanceId || n.finishedAtMs !== null) return;
    n.newInstanceId = instanceId;
    if (n.phases[phase] === undefined) n.phases[phase] = atMs;
  }
  replaced(nodeId: string, newInstanceId: string, atMs: number): number {
    const n = this.#nodes.get(nodeId);
    if (!n) return 0;
    n.newInstanceId = newInstanceId;
    n.finishedAtMs = atMs;
    if (n.phases['in-service'] === undefined) n.phases['in-service'] = atMs;
    return atMs - n.startedAtMs;
  }
  /**
   * The shortest replacement finished so far in this roll (ms), once at least `minSamples`
   * have finished (one slow outlier alone must not set the pace), else null.
   */
  shortestReplacementMs(minSamples = 2): number | null {
    let best: number | null = null;
    let samples = 0;
    for (const n of this.#nodes.values()) {
      if (n.finishedAtMs === null) continue;
      samples++;
      if (best === null || n.finishedAtMs - n.startedAtMs < best) best = n.finishedAtMs - n.startedAtMs;
    }
    return samples >= minSamples ? best : null;
  }
  isReplacing(nodeId: string): boolean {
    const n = this.#nodes.get(nodeId);
    return !!n && n.finishedAtMs === null;
  }

  finish(outcome: RollReport['outcome'], haltReason: string | null, atMs: number, apiCalls: Record<string, number>, operations: RollReport['operations']): RollReport {
    const nodes: NodeReplacementReport[] = [...this.#nodes].map(([nodeId, n]) => {
      const seen = (Object.entries(n.phases) as [Phase, number][]).sort((a, b) => a[1] - b[1]);
      const phaseDurationsMs: Partial<Record<Phase, number>> = {};
      seen.forEach(([p, t], i) => {
        const next = seen[i + 1];
        if (next) phaseDurationsMs[p] = next[1] - t;
      });
      return {
        nodeId,
        batch: n.batch,
        oldInstanceId: n.oldInstanceId,
        newInstanceId: n.newInstanceId,
        startedAtMs: n.startedAtMs,
        finishedAtMs: n.finishedAtMs,
        durationMs: n.finishedAtMs === null ? null : n.finishedAtMs - n.startedAtMs,
        phasesAtMs: { ...n.phases },
        phaseDurationsMs,
      };
    });
    return Object.freeze({
      rollId: this.rollId,
      clusterName: this.clusterName,
      outcome,
      haltReason,
      startedAtMs: this.startedAtMs,
      finishedAtMs: atMs,
      durationMs: atMs - this.startedAtMs,
      maxUnavailable: this.maxUnavailable,
      nodes,
      batches: this.#batches.map((b) => ({ ...b })),
      alreadyCurrent: this.alreadyCurrent,
      replacedCount: nodes.filter((n) => n.finishedAtMs !== null).length,
      apiCalls,
      apiCallsTotal: Object.values(apiCalls).reduce((a, b) => a + b, 0),
      operations,
    });
  }
}

/** Per-operation difference between two call-count snapshots. */
export function diffCounts(after: Readonly<Record<string, number>>, before: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

/**
 * A moment of a roll as people read it: the time since the roll started, `+45s`, `+1m05s`,
 * `+1h02m` (the one time format of reports, the demo and the HTML timeline).
 *
 * @example
 * ```ts
 * formatRollTime(report.nodes[0].finishedAtMs! - report.startedAtMs); // '+2m25s'
 * ```
 */
export function formatRollTime(sinceStartMs: number): string {
  if (sinceStartMs === 0) return '+0s';
  return sinceStartMs < 0 ? formatDuration(sinceStartMs) : `+${formatDuration(sinceStartMs)}`;
}

/**
 * The report as text: outcome, then each batch (numbered from 1) with its nodes, each with its
 * instances, when it started and finished and when each boot phase was first seen — every time
 * relative to the roll's start ({@link formatRollTime}), every duration with `formatDuration`.
 *
 * @example
 * ```ts
 * const report = await controller.roll();
 * console.log(formatRollReport(report));
 * // Roll kafka-…: completed in 8m24s (maxUnavailable 1); 3 nodes replaced
 * //   batch 1  +1s → +2m25s  n2
 * //     n2  i-0a… → i-0b…  +1s → +2m24s (2m23s)  attaching +2m, mounting +2m03s, …
 * ```
 */
export function formatRollReport(report: RollReport): string {
  const at = (ms: number | null) => (ms === null ? '…' : formatRollTime(ms - report.startedAtMs));
  const n = report.replacedCount;
  const lines = [
    `Roll ${report.rollId}: ${report.outcome} in ${formatDuration(report.durationMs)} (maxUnavailable ${report.maxUnavailable}); ${n} node${n === 1 ? '' : 's'} replaced${report.alreadyCurrent.length > 0 ? `, ${report.alreadyCurrent.length} already current (${report.alreadyCurrent.join(', ')})` : ''}`,
  ];
  if (report.haltReason !== null) lines.push(`  ${report.outcome === 'aborted' ? 'aborted' : 'halted'}: ${report.haltReason}`);
  for (const b of report.batches) {
    lines.push(`  batch ${b.index + 1}  ${at(b.startedAtMs)} → ${at(b.finishedAtMs)}  ${b.nodeIds.join(', ')}`);
    for (const n of report.nodes.filter((x) => x.batch === b.index)) {
      const phases = PHASE_ORDER.filter((p) => n.phasesAtMs[p] !== undefined).map((p) => `${p} ${at(n.phasesAtMs[p] as number)}`);
      const took = n.durationMs === null ? 'not finished' : formatDuration(n.durationMs);
      lines.push(`    ${n.nodeId}  ${n.oldInstanceId} → ${n.newInstanceId ?? '?'}  ${at(n.startedAtMs)} → ${at(n.finishedAtMs)} (${took})${phases.length > 0 ? `  ${phases.join(', ')}` : ''}`);
    }
  }
  const calls = Object.entries(report.apiCalls).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  lines.push(`  API calls: ${report.apiCallsTotal}${calls.length > 0 ? ` (${calls.map(([op, n]) => `${op} ${n}`).join(', ')})` : ''}`);
  return lines.join('\n');
}
