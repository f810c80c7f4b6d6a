import { planVolumeChanges, type VolumeChange } from './plan-volume-changes.js';
import { secretWarnings } from '../spec/secret-warnings.js';
import { quorumOf } from './quorum.js';
import type { ConfigIssue } from '../errors.js';
import { orphanIds } from './plan-membership.js';
import type { DnsRecordSet } from '../driver.js';
import { liveInstances, type ClusterObservation } from '../observation.js';
import { computeRevision } from '../revision.js';
import { nodeRecordName, type ClusterSpec } from '../spec/cluster-spec.js';

export interface NodeApplyStep {
  readonly nodeId: string;
  /** Why the node needs `ensureNode`, in words. Empty when it is converged. */
  readonly reasons: readonly string[];
  /**
   * The launch template's revision changes and the node runs an instance of another revision:
   * the roll moves the template with the node's own batch, so `apply()` converges the rest and
   * keeps the template (`keepTemplate`; moving it now would make a lost instance relaunch on an
   * unproven revision).
   */
  readonly leftToRoll: boolean;
}

export interface ApplyPlan {
  /** Nodes that need `ensureNode` (only those with reasons). */
  readonly nodes: readonly NodeApplyStep[];
  /** DNS records to UPSERT (missing or drifted), when the spec has DNS. */
  readonly dns: readonly DnsRecordSet[];
  /** Data volumes smaller than the spec asks: the size part of `volumeChanges`. */
  readonly resizes: readonly { readonly nodeId: string; readonly fromGiB: number; readonly toGiB: number }[];
  /** Data volumes whose size, type, IOPS or throughput differ from the spec: `modifyVolume` (apply does it, online). */
  readonly volumeChanges: readonly VolumeChange[];
  /** Volume changes refused before any call (a shrink, a target the type does not allow): apply() throws them. */
  readonly volumeRefusals: readonly ConfigIssue[];
  /** Things apply will not change by itself, for the user to decide. */
  readonly warnings: readonly string[];
}

/** The DNS records a spec wants: one per node, and the cluster record with every node's IP. */
export function desiredDnsRecords(spec: ClusterSpec): DnsRecordSet[] {
  if (!spec.dns) return [];
  const dns = spec.dns;
  return [
    { name: dns.clusterRecord, values: spec.nodes.map((n) => n.ip).sort() },
    ...spec.nodes.map((n) => ({ name: nodeRecordName(dns, n.id), values: [n.ip] })),
  ];
}

const normName = (n: string) => n.replace(/\.$/, '').toLowerCase();

/**
 * What `apply()` must do to converge the cloud on the spec: pure, from a full observation.
 */
export function planApply(observation: ClusterObservation, spec: ClusterSpec): ApplyPlan {
  const nodes: NodeApplyStep[] = [];
  const volumes = planVolumeChanges(observation, spec);
  const resizes = volumes.changes.flatMap((c) => c.fields.filter((f) => f.field === 'sizeGiB').map((f) => ({ nodeId: c.nodeId, fromGiB: f.from as number, toGiB: f.to as number })));
  const warnings: string[] = [];
  for (const n of spec.nodes) {
    const o = observation.nodes[n.id];
    const reasons: string[] = [];
    let templateMoves = false;
    if (!o?.group) reasons.push('no Auto Scaling group');
    else {
      const g = o.group;
      if (g.revision !== computeRevision(spec, n.id)) {
        templateMoves = true;
        reasons.push(`launch template is at revision ${g.revision ?? 'unknown'}, spec wants ${computeRevision(spec, n.id)}`);
      }
      // A paused node (pauseNode()) is kept at 0/1/0 until resumeNode().
      const paused = g.pausedAtMs !== undefined && g.pausedAtMs !== null;
      if (paused ? g.minSize !== 0 || g.maxSize !== 1 || g.desiredCapacity > 1 : g.minSize !== 1 || g.maxSize !== 1 || g.desiredCapacity !== 1) {
        reasons.push(`group size is ${g.minSize}/${g.maxSize}/${g.desiredCapacity}, not ${paused ? '0/1/0 (paused)' : '1/1/1'}`);
      }
      if (!g.hasLaunchHook) reasons.push('launch lifecycle hook missing');
    }
    if (!o?.eni) reasons.push('no network interface');
    else if (o.eni.ip !== n.ip) warnings.push(`node ${n.id}: its network interface ${o.eni.eniId} has IP ${o.eni.ip}, the spec says ${n.ip}; a node's IP never moves, so Berth leaves it — delete the node to change its IP`);
    if (!o?.volume) reasons.push('no data volume');
    const live = o ? liveInstances(o) : [];
    const runsOther = live.length > 0 && live.every((i) => i.revision !== computeRevision(spec, n.id));
    if (reasons.length > 0) nodes.push({ nodeId: n.id, reasons, leftToRoll: templateMoves && runsOther });
  }
  const dns: DnsRecordSet[] = [];
  if (spec.dns && observation.dnsRecords) {
    const have = new Map(observation.dnsRecords.map((r) => [normName(r.name), r]));
    // A node the spec lost stays in the cluster record until it is removed (apply({ removeNodes })).
    const orphanIps = orphanIds(spec, observation).flatMap((id) => (observation.nodes[id]?.eni ? [observation.nodes[id].eni.ip] : []));
    const wanted = desiredDnsRecords(spec).map((r, i) => (i === 0 && orphanIps.length > 0 ? { ...r, values: [...new Set([...r.values, ...orphanIps])].sort() } : r));
    for (const want of wanted) {
      const got = have.get(normName(want.name));
      const same = got && got.ttl === spec.dns.ttl && [...got.values].sort().join(',') === [...want.values].sort().join(',');
      if (!same) dns.push(want);
    }
  }
  warnings.push(...azWarnings(spec));
  warnings.push(...secretWarnings(spec));
  return { nodes, dns, resizes, volumeChanges: volumes.changes, volumeRefusals: volumes.refusals, warnings };
}

/**
 * Layout warnings: an AZ holding at least the quorum tolerance means that AZ's outage during
 * any replacement loses the quorum.
 */
export function azWarnings(spec: ClusterSpec): string[] {
  const q = quorumOf(spec.nodes.length);
  const perAz = new Map<string, string[]>();
  for (const n of spec.nodes) perAz.set(n.az, [...(perAz.get(n.az) ?? []), n.id]);
  const out: string[] = [];
  for (const [az, ids] of [...perAz].sort()) {
    if (q.tolerance > 0 && ids.length >= q.tolerance) {
      const advice =
        q.tolerance > 1
          ? `Spread the nodes over at least ${Math.ceil(spec.nodes.length / (q.tolerance - 1))} AZs (at most ${q.tolerance - 1} per AZ) to keep a quorum through an AZ outage during a roll.`
          : `No layout of ${spec.nodes.length} nodes avoids it (the tolerance is 1); ${spec.nodes.length + 2} nodes over as many AZs would.`;
      out.push(`AZ ${az} holds ${ids.length} of ${spec.nodes.length} nodes (${ids.join(', ')}), at least the quorum tolerance of ${q.tolerance}: an outage of ${az} during any replacement loses the quorum. ${advice}`);
    }
  }
  return out;
}

