import { quorumOf } from '@berth/core';
import { timeIn, type ChaosEvidence, type InvariantNote, type InvariantResult, type Violation } from './evidence.js';
import { rootVolumes } from './root-volumes.js';

/**
 * Invariant 4: no data volume is deleted or replaced by a blank one under `retain`, and
 * committed data is never lost while quorum held. A loss after faults alone took the quorum
 * away is recorded as a note. Instances' root volumes (created by a launch, deleted with their
 * instance: `launchedWith` in the trace) are not data volumes and are left out.
 */
export function checkDataRetained(evidence: ChaosEvidence): InvariantResult {
  const violations: Violation[] = [];
  const notes: InvariantNote[] = [];
  const { quorum } = quorumOf(evidence.spec.nodes.length);
  const policy = (nodeId: string | undefined) => evidence.spec.nodes.find((n) => n.id === nodeId)?.dataVolume.deletionPolicy ?? evidence.spec.dataVolume.deletionPolicy;
  const roots = rootVolumes(evidence.trace);
  const t = timeIn(evidence);
  const volumeOf = new Map<string, string>();
  const up = new Set<string>();
  const cut = new Set<string>();
  let members = 0;
  let quorumLostAt: number | null = null;
  let hadQuorum = false;
  for (const e of evidence.trace) {
    switch (e.kind) {
      case 'volume.created': {
        const node = e.nodeId;
        if (!node || roots.has(String(e['volumeId']))) break;
        const before = volumeOf.get(node);
        if (before && policy(node) === 'retain') {
          violations.push({ invariant: 'data-retained', atMs: e.atMs, nodeId: node, message: `${node} got a new volume ${String(e['volumeId'])} while its retained volume ${before} existed` });
        }
        volumeOf.set(node, String(e['volumeId']));
        break;
      }
      case 'volume.deleted':
        if (!roots.has(String(e['volumeId'])) && policy(e.nodeId) === 'retain') violations.push({ invariant: 'data-retained', atMs: e.atMs, nodeId: e.nodeId ?? null, message: `retained volume ${String(e['volumeId'])} of ${e.nodeId ?? '?'} was deleted` });
        break;
      case 'app.data-loss':
        violations.push({ invariant: 'data-retained', atMs: e.atMs, nodeId: e.nodeId ?? null, message: `${e.nodeId ?? '?'} lost ${String(e['entries'])} persisted entries (${String(e['reason'])})` });
        break;
      case 'app.member-added':
        members = Number(e['members']);
        break;
      case 'app.member-up':
        if (e.nodeId) up.add(e.nodeId);
        break;
      case 'app.member-down':
        if (e.nodeId) up.delete(e.nodeId);
        break;
      case 'app.partitioned':
        if (e.nodeId) cut.add(e.nodeId);
        break;
      case 'app.partition-healed':
        if (e.nodeId) cut.delete(e.nodeId);
        break;
      case 'app.committed-lost':
        if (quorumLostAt === null) violations.push({ invariant: 'data-retained', atMs: e.atMs, nodeId: e.nodeId ?? null, message: `${String(e['entries'])} committed entries lost while quorum held` });
        else notes.push({ invariant: 'data-retained', atMs: e.atMs, message: `${String(e['entries'])} committed entries lost after quorum was lost at ${t(quorumLostAt)}` });
        break;
      default:
        break;
    }
    if (members >= evidence.spec.nodes.length && up.size > 0 && quorumLostAt === null) {
      const reachable = [...up].filter((n) => !cut.has(n)).length;
      if (reachable < quorum && hadQuorum) quorumLostAt = e.atMs;
    }
    if (!hadQuorum && [...up].filter((n) => !cut.has(n)).length >= quorum) hadQuorum = true;
  }
  return { violations, notes };
}
