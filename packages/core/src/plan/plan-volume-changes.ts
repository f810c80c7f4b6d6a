import type { ConfigIssue } from '../errors.js';
import type { VolumeObservation } from '../observation.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import { VOLUME_LIMITS, volumeProblems, type VolumeType } from '../spec/volume-limits.js';

/** A data-volume setting that `ModifyVolume` changes in place. */
export type VolumeField = 'sizeGiB' | 'type' | 'iops' | 'throughputMiBps';

/**
 * What a node's data volume should become. `iops`/`throughputMiBps` null: not asked for (the
 * volume keeps its value, or takes the new type's default).
 */
export interface VolumeTarget {
  readonly sizeGiB: number;
  readonly type: VolumeType;
  readonly iops: number | null;
  readonly throughputMiBps: number | null;
}

/** One node's data-volume modification: each changed field `from → to`, and the target sent. */
export interface VolumeChange {
  readonly nodeId: string;
  readonly volumeId: string;
  readonly fields: readonly { readonly field: VolumeField; readonly from: string | number | null; readonly to: string | number }[];
  readonly target: VolumeTarget;
}

/** The latest modification of a volume, as `DescribeVolumesModifications` reports it. */
export interface VolumeModificationRecord {
  readonly volumeId: string;
  readonly state: 'modifying' | 'optimizing' | 'completed' | 'failed';
  readonly startedAtMs: number;
  /** When it completed or failed (null while under way). */
  readonly endedAtMs: number | null;
  readonly targetSizeGiB: number | null;
  readonly targetType: string | null;
  readonly targetIops: number | null;
  readonly targetThroughputMiBps: number | null;
}

/**
 * How long Berth waits after a modification of a volume started before it starts the next one:
 * the six-hour cooldown of the EBS documentation (docs/aws-behaviour.md EBS-12). Six-hour spacing
 * also keeps within the newer rule of four modifications per rolling 24 hours (EBS-7).
 */
export const VOLUME_MODIFICATION_COOLDOWN_MS = 6 * 3600_000;

/** A time as `2026-12-03T18:00:00Z` (UTC, to the second). */
export function formatUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The data-volume changes the spec asks of the observed volumes, pure: size, type, IOPS and
 * throughput that differ (spec fields left unset ask nothing), and the problems that refuse a
 * change before any call — a shrink (EBS-7), or a target the volume type does not allow once the
 * values the volume keeps are counted (EBS-8, EBS-13).
 */
export function planVolumeChanges(observation: { readonly nodes: Readonly<Record<string, { readonly volume: VolumeObservation | null } | undefined>> }, spec: ClusterSpec): { changes: VolumeChange[]; refusals: ConfigIssue[] } {
  const changes: VolumeChange[] = [];
  const refusals: ConfigIssue[] = [];
  spec.nodes.forEach((n, i) => {
    const vol = observation.nodes[n.id]?.volume;
    if (!vol) return;
    const want = n.dataVolume;
    const path = (f: VolumeField) => `nodes[${i}].dataVolume.${f}`;
    if (want.sizeGiB < vol.sizeGiB) {
      refusals.push({
        path: path('sizeGiB'),
        message: `node ${n.id}: its data volume ${vol.volumeId} is ${vol.sizeGiB} GiB and EBS volumes only grow, so ${want.sizeGiB} GiB is refused; set sizeGiB to ${vol.sizeGiB} or more (to shrink, move the data to a new node).`,
      });
      return;
    }
    const fields: { field: VolumeField; from: string | number | null; to: string | number }[] = [];
    if (want.sizeGiB > vol.sizeGiB) fields.push({ field: 'sizeGiB', from: vol.sizeGiB, to: want.sizeGiB });
    if (want.type !== vol.type) fields.push({ field: 'type', from: vol.type || null, to: want.type });
    if (want.iops !== null && want.iops !== vol.iops) fields.push({ field: 'iops', from: vol.iops, to: want.iops });
    if (want.throughputMiBps !== null && want.throughputMiBps !== vol.throughputMiBps) fields.push({ field: 'throughputMiBps', from: vol.throughputMiBps, to: want.throughputMiBps });
    if (fields.length === 0) return;
    // What the volume becomes (EBS-13): values the spec leaves unset stay while the type stays
    // (throughput: gp3 to gp3); a new type takes 3,000 IOPS (gp3, io1, io2) and 125 MiB/s (gp3).
    const sameType = want.type === vol.type;
    const lim = VOLUME_LIMITS[want.type];
    const iops = want.iops ?? (lim.iops ? (sameType && vol.iops !== null ? vol.iops : 3000) : undefined);
    const throughputMiBps = want.throughputMiBps ?? (lim.throughputMiBps ? (sameType && vol.throughputMiBps !== null ? vol.throughputMiBps : 125) : undefined);
    const problems = volumeProblems({ type: want.type, sizeGiB: want.sizeGiB, iops, throughputMiBps });
    if (problems.length > 0) {
      const kept = [
        want.iops === null && iops !== undefined ? `${iops} IOPS` : null,
        want.throughputMiBps === null && throughputMiBps !== undefined ? `${throughputMiBps} MiB/s` : null,
      ].filter((k): k is string => k !== null);
      const keeps = kept.length > 0 ? ` (the volume keeps its ${kept.join(' and ')} where the spec sets none)` : '';
      for (const [field, message] of problems) {
        refusals.push({ path: path(field as VolumeField), message: `node ${n.id}: ModifyVolume of ${vol.volumeId} to ${describeTarget(want.type, want.sizeGiB, iops, throughputMiBps)} is not allowed${keeps}: ${message}` });
      }
      return;
    }
    changes.push({ nodeId: n.id, volumeId: vol.volumeId, fields, target: { sizeGiB: want.sizeGiB, type: want.type, iops: want.iops, throughputMiBps: want.throughputMiBps } });
  });
  return { changes, refusals };
}

function describeTarget(type: string, sizeGiB: number, iops: number | undefined, throughputMiBps: number | undefined): string {
  return [type, `${sizeGiB} GiB`, iops !== undefined ? `${iops} IOPS` : null, throughputMiBps !== undefined ? `${throughputMiBps} MiB/s` : null].filter(Boolean).join(', ');
}

/** Whether the modification under way already asks for this target (a re-run of apply()). */
function asksFor(m: VolumeModificationRecord, t: VolumeTarget): boolean {
  return (
    (m.targetSizeGiB === null || m.targetSizeGiB === t.sizeGiB) &&
    (m.targetType === null || m.targetType === t.type) &&
    (t.iops === null || m.targetIops === t.iops) &&
    (t.throughputMiBps === null || m.targetThroughputMiBps === t.throughputMiBps)
  );
}

/**
 * Splits planned changes by what the volumes' latest modifications allow, pure: `perform` may
 * start now; `underWay` are already being made by a modification in progress with the same
 * target; `refusals` name the node and say when the next modification is allowed — while the
 * previous one is `modifying`/`optimizing`, and within six hours of its start (EBS-7, EBS-12).
 */
export function checkVolumeModifications(
  changes: readonly VolumeChange[],
  spec: ClusterSpec,
  latest: readonly VolumeModificationRecord[],
  nowMs: number,
): { perform: VolumeChange[]; underWay: VolumeChange[]; refusals: ConfigIssue[] } {
  const byVolume = new Map(latest.map((m) => [m.volumeId, m]));
  const perform: VolumeChange[] = [];
  const underWay: VolumeChange[] = [];
  const refusals: ConfigIssue[] = [];
  for (const c of changes) {
    const m = byVolume.get(c.volumeId);
    if (!m) {
      perform.push(c);
      continue;
    }
    const inProgress = m.state === 'modifying' || m.state === 'optimizing';
    if (inProgress && asksFor(m, c.target)) {
      underWay.push(c);
      continue;
    }
    const nextMs = m.startedAtMs + VOLUME_MODIFICATION_COOLDOWN_MS;
    if (!inProgress && nowMs >= nextMs) {
      perform.push(c);
      continue;
    }
    const i = spec.nodes.findIndex((n) => n.id === c.nodeId);
    const what = c.fields.map((f) => `${f.field} ${f.from ?? '(unset)'} → ${f.to}`).join(', ');
    const when = inProgress
      ? `its last modification (started ${formatUtc(m.startedAtMs)}) is still ${m.state}; AWS allows the next one once it completes, and Berth not before ${formatUtc(nextMs)}`
      : `its last modification started ${formatUtc(m.startedAtMs)}; AWS asks for six hours between modifications of a volume, so the next one is allowed at ${formatUtc(nextMs)}`;
    refusals.push({
      path: `nodes[${i}].dataVolume.${c.fields[0]?.field ?? 'sizeGiB'}`,
      message: `node ${c.nodeId}: ModifyVolume of ${c.volumeId} (${what}) is refused: ${when}. Run apply() again then, or keep the current values in the spec until then.`,
    });
  }
  return { perform, underWay, refusals };
}
