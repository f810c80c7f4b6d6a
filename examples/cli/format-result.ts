/** The human forms of the commands' results (their `--json` forms are the data itself). */
import { formatRollTime, type ApplyResult, type ClusterStatus } from '@berth/core';
import type { PreflightReport } from '@berth/aws-driver';

export interface ApplySummary {
  /** Nodes whose Auto Scaling group apply created. */
  readonly created: readonly string[];
  /** Nodes that existed and had something changed (template version, tags...) or their volume grown. */
  readonly updated: readonly string[];
  readonly unchanged: readonly string[];
  /** Volumes grown, one per node (the size part of `modified`). */
  readonly resized: readonly string[];
  /** Volumes whose modification (size, type, IOPS, throughput) apply started, one per node. */
  readonly modified: readonly string[];
  /** Nodes whose healthy instance was registered with target groups that were missing it. */
  readonly registered: readonly string[];
  readonly dnsRecords: number;
}

const CHANGED = new Set(['created', 'updated', 'deleted', 'snapshotted']);

export function summarizeApply(r: ApplyResult): ApplySummary {
  const created: string[] = [];
  const updated: string[] = [];
  const unchanged: string[] = [];
  const touched = new Set([...r.volumesModified.map((x) => x.nodeId), ...r.registered.map((x) => x.nodeId)]);
  for (const n of r.nodes) {
    if (n.changes.some((c) => c.resource === 'auto-scaling-group' && c.action === 'created')) created.push(n.nodeId);
    else if (n.changes.some((c) => CHANGED.has(c.action)) || touched.has(n.nodeId)) updated.push(n.nodeId);
    else unchanged.push(n.nodeId);
  }
  // A node whose only change is its volume needs no ensureNode: it is updated all the same.
  for (const id of touched) if (!r.nodes.some((n) => n.nodeId === id)) updated.push(id);
  return {
    created,
    updated,
    unchanged,
    resized: r.resized.map((x) => x.nodeId),
    modified: r.volumesModified.map((x) => x.nodeId),
    registered: r.registered.map((x) => x.nodeId),
    dnsRecords: r.dnsRecords.length,
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function formatApply(r: ApplyResult): string {
  const s = summarizeApply(r);
  const lines: string[] = [];
  const ids = [...new Set([...r.nodes.map((n) => n.nodeId), ...r.volumesModified.map((c) => c.nodeId), ...r.registered.map((x) => x.nodeId)])];
  for (const id of ids) {
    const changes = r.nodes.find((n) => n.nodeId === id)?.changes.filter((c) => CHANGED.has(c.action)) ?? [];
    const volume = r.volumesModified.find((x) => x.nodeId === id);
    const registered = r.registered.find((x) => x.nodeId === id);
    if (changes.length === 0 && !volume && !registered) continue;
    lines.push(`${s.created.includes(id) ? '+' : '~'} ${id}`);
    for (const c of changes) lines.push(`    ${c.action} ${c.resource} ${c.id}${c.detail ? ` (${c.detail})` : ''}`);
    if (volume) {
      const size = volume.fields.length === 1 ? volume.fields.find((f) => f.field === 'sizeGiB') : undefined;
      const what = size ? `resized volume ${size.from} → ${size.to} GiB` : `modified volume ${volume.fields.map((f) => `${f.field} ${f.from ?? '(unset)'} → ${f.to}`).join(', ')}`;
      lines.push(`    ${what} (online; the node's grow watcher grows the file system, no reboot)`);
    }
    if (registered) lines.push(`    registered ${registered.instanceId} with ${registered.targetGroupArns.join(', ')}`);
  }
  for (const id of r.membership?.added ?? []) lines.push(`member added: ${id}`);
  for (const x of r.membership?.removed ?? []) lines.push(`- ${x.nodeId} removed: ${x.changes.map((c) => `${c.action} ${c.resource} ${c.id}`).join('; ')}`);
  if (r.dnsRecords.length > 0) lines.push(`DNS records set: ${r.dnsRecords.join(', ')}`);
  const removed = r.membership?.removed.length ?? 0;
  lines.push(
    s.created.length + s.updated.length + s.dnsRecords + removed === 0
      ? 'Apply complete: no changes.'
      : `Apply complete: ${s.created.length} created, ${s.updated.length} updated (${plural(s.modified.length, 'volume')} modified), ${s.unchanged.length} unchanged; ${plural(s.dnsRecords, 'DNS record')} set.${removed > 0 ? ` ${removed} removed.` : ''}`,
  );
  for (const id of r.membership?.notRemoved ?? []) lines.push(`not removed: ${id} is in AWS but not in the spec (--remove-nodes ${id} removes it)`);
  return lines.join('\n');
}

export function formatStatus(s: ClusterStatus): string {
  const rows = [['NODE', 'AZ', 'STATE', 'HEALTH', 'REVISION', 'INSTANCE', 'CAUSE']];
  for (const n of s.nodes) {
    rows.push([n.nodeId, n.az, n.state, n.healthy ? 'healthy' : 'down', n.provisioned ? (n.outdated ? 'outdated' : 'current') : '-', n.current?.instanceId ?? '-', n.cause ?? '']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  const q = s.quorum;
  const why = [
    ...(s.outdated.length > 0 ? [`${s.outdated.length} outdated (${s.outdated.join(', ')})`] : []),
    ...(q.down > 0 ? [`${q.down} down`] : []),
    ...(s.pendingVolumeChanges.length > 0
      ? [`${plural(s.pendingVolumeChanges.length, 'volume')} to modify (${s.pendingVolumeChanges.map((c) => `${c.nodeId} ${c.fields.map((f) => `${f.field} ${f.from ?? '(unset)'} → ${f.to}`).join(', ')}`).join('; ')}; apply modifies them)`]
      : []),
    ...(s.volumeRefusals.length > 0 ? [`${plural(s.volumeRefusals.length, 'volume change')} refused (${s.volumeRefusals.map((i) => i.message).join(' ')})`] : []),
  ];
  const lines = [`Cluster ${s.clusterName}`, ...table, `quorum: ${q.healthy}/${q.size} healthy, margin ${q.margin} (quorum ${q.quorum}, tolerance ${q.tolerance}); ${s.converged ? 'converged' : `not converged: ${why.join('; ')}`}`];
  if (s.paused.length > 0) lines.push(`paused: ${s.paused.join(', ')} (resume-node brings ${s.paused.length === 1 ? 'it' : 'them'} back)`);
  if (s.membership.joining.length > 0) lines.push(`joining: ${s.membership.joining.join(', ')} (apply adds ${s.membership.joining.length === 1 ? 'it' : 'them'} one at a time)`);
  if (s.membership.orphans.length > 0) lines.push(`not in the spec: ${s.membership.orphans.join(', ')} (apply --remove-nodes removes ${s.membership.orphans.length === 1 ? 'it' : 'them'})`);
  for (const st of s.stuck) lines.push(`stuck: ${st.nodeId} ${st.instanceId ?? '(no instance)'} for ${formatRollTime(st.stuckMs)} in ${st.phase}${st.activity ? `; ${st.activity}` : ''}`);
  if (s.leader !== null) lines.push(`leader: ${s.leader}`);
  lines.push(`lock: ${s.lock ? `held by ${s.lock.holder} until ${new Date(s.lock.expiresAtMs).toISOString()}` : 'free'}`);
  if (s.roll) {
    const r = s.roll;
    const hold = r.hold ? `; holding (${r.hold.kind}${r.hold.percent !== null ? ` ${r.hold.percent}%` : ''}) ${r.hold.untilMs === null ? 'until approved' : `until ${formatRollTime(r.hold.untilMs - r.startedAtMs)}`}` : '';
    lines.push(`roll ${r.rollId}: ${r.state}, ${r.replaced.length} of ${r.total} replaced${r.batch !== null ? `, batch ${r.batch} (${r.inFlight.join(', ')})` : ''}${hold}`);
  }
  return lines.join('\n');
}


export function formatPreflight(r: PreflightReport): string {
  const lines = [r.ok ? `Preflight passed: ${plural(r.checked.length, 'check')} (${r.checked.join(', ')}).` : `Preflight found ${plural(r.problems.length, 'problem')} in ${plural(r.checked.length, 'check')} (${r.checked.join(', ')}).`];
  for (const p of r.problems) lines.push(`  - ${p.path || '(account)'} [${p.check}]: ${p.message}`);
  for (const s of r.skipped) lines.push(`  skipped ${s.check}: ${s.reason}`);
  return lines.join('\n');
}

/** The problems as one message, for stderr. */
export function preflightMessage(r: PreflightReport): string {
  return `Preflight found ${plural(r.problems.length, 'problem')}; nothing was changed:\n${r.problems.map((p) => `  - ${p.path || '(account)'} [${p.check}]: ${p.message}`).join('\n')}`;
}
