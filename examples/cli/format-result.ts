/** The human forms of the commands' results (their `--json` forms are the data itself). */
import { formatRollTime, type ApplyResult, type ClusterStatus } from '@berth/core';
import type { PreflightReport } from '@berth/aws-driver';

export interface ApplySummary {
  /** Nodes whose Auto Scaling group apply created. */
  readonly created: readonly string[];
  /** Nodes that existed and had something changed (template version, tags...) or their volume grown. */
  readonly updated: readonly string[];
  readonly unchanged: readonly string[];
  /** Volumes grown, one per node. */
  readonly resized: readonly string[];
  /** Nodes whose healthy instance was registered with target groups that were missing it. */
  readonly registered: readonly string[];
  readonly dnsRecords: number;
}

const CHANGED = new Set(['created', 'updated', 'deleted', 'snapshotted']);

export function summarizeApply(r: ApplyResult): ApplySummary {
  const created: string[] = [];
  const updated: string[] = [];
  const unchanged: string[] = [];
  const touched = new Set([...r.resized.map((x) => x.nodeId), ...r.registered.map((x) => x.nodeId)]);
  for (const n of r.nodes) {
    if (n.changes.some((c) => c.resource === 'auto-scaling-group' && c.action === 'created')) created.push(n.nodeId);
    else if (n.changes.some((c) => CHANGED.has(c.action)) || touched.has(n.nodeId)) updated.push(n.nodeId);
    else unchanged.push(n.nodeId);
  }
  return { created, updated, unchanged, resized: r.resized.map((x) => x.nodeId), registered: r.registered.map((x) => x.nodeId), dnsRecords: r.dnsRecords.length };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function formatApply(r: ApplyResult): string {
  const s = summarizeApply(r);
  const lines: string[] = [];
  for (const n of r.nodes) {
    const changes = n.changes.filter((c) => CHANGED.has(c.action));
    const resize = r.resized.find((x) => x.nodeId === n.nodeId);
    const registered = r.registered.find((x) => x.nodeId === n.nodeId);
    if (changes.length === 0 && !resize && !registered) continue;
    lines.push(`${s.created.includes(n.nodeId) ? '+' : '~'} ${n.nodeId}`);
    for (const c of changes) lines.push(`    ${c.action} ${c.resource} ${c.id}${c.detail ? ` (${c.detail})` : ''}`);
    if (resize) lines.push(`    resized volume ${resize.fromGiB} → ${resize.toGiB} GiB (online; the bootstrap grows the file system at the node's next boot)`);
    if (registered) lines.push(`    registered ${registered.instanceId} with ${registered.targetGroupArns.join(', ')}`);
  }
  for (const id of r.membership?.added ?? []) lines.push(`member added: ${id}`);
  for (const x of r.membership?.removed ?? []) lines.push(`- ${x.nodeId} removed: ${x.changes.map((c) => `${c.action} ${c.resource} ${c.id}`).join('; ')}`);
  if (r.dnsRecords.length > 0) lines.push(`DNS records set: ${r.dnsRecords.join(', ')}`);
  const removed = r.membership?.removed.length ?? 0;
  lines.push(
    s.created.length + s.updated.length + s.dnsRecords + removed === 0
      ? 'Apply complete: no changes.'
      : `Apply complete: ${s.created.length} created, ${s.updated.length} updated (${plural(s.resized.length, 'volume')} resized), ${s.unchanged.length} unchanged; ${plural(s.dnsRecords, 'DNS record')} set.${removed > 0 ? ` ${removed} removed.` : ''}`,
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
    ...(s.pendingResizes.length > 0 ? [`${plural(s.pendingResizes.length, 'volume')} to grow (${s.pendingResizes.map((r) => `${r.nodeId} ${r.fromGiB} → ${r.toGiB} GiB`).join(', ')}; apply grows them)`] : []),
  ];
  const lines = [`Cluster ${s.clusterName}`, ...table, `quorum: ${q.healthy}/${q.size} healthy, margin ${q.margin} (quorum ${q.quorum}, tolerance ${q.tolerance}); ${s.converged ? 'converged' : `not converged: ${why.join('; ')}`}`];
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
