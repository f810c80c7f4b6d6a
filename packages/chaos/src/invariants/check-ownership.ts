import type { ChaosEvidence, InvariantResult, Violation } from './evidence.js';
import { rootVolumes } from './root-volumes.js';

/**
 * Invariant 3: a node's IP and volume never change owner. Every ENI and data volume attachment
 * must join resources and instances of the same node, a node's IP never changes, an IP never
 * serves two nodes, and what the controllers observed agrees (a node's observed volume is its
 * data volume, never an instance's root volume).
 */
export function checkOwnership(evidence: ChaosEvidence): InvariantResult {
  const violations: Violation[] = [];
  const roots = rootVolumes(evidence.trace);
  const instanceNode = new Map<string, string>();
  const ipOwner = new Map<string, string>();
  const nodeIp = new Map<string, string>();
  const volumeOwner = new Map<string, string>();
  const specIp = new Map(evidence.spec.nodes.map((n) => [n.id, n.ip]));
  const flag = (atMs: number, nodeId: string | null, message: string) => violations.push({ invariant: 'ownership', atMs, nodeId, message });
  const ownIp = (atMs: number, nodeId: string, ip: string) => {
    const owner = ipOwner.get(ip);
    if (owner && owner !== nodeId) flag(atMs, nodeId, `IP ${ip} of ${owner} now serves ${nodeId}`);
    ipOwner.set(ip, owner ?? nodeId);
    const before = nodeIp.get(nodeId);
    if (before && before !== ip) flag(atMs, nodeId, `${nodeId} changed IP from ${before} to ${ip}`);
    nodeIp.set(nodeId, before ?? ip);
    const want = specIp.get(nodeId);
    if (want && want !== ip) flag(atMs, nodeId, `${nodeId} has IP ${ip}, its spec says ${want}`);
  };
  for (const e of evidence.trace) {
    if (e.kind === 'instance.launched' && e.instanceId && e.nodeId) instanceNode.set(e.instanceId, e.nodeId);
    else if ((e.kind === 'eni.created' || e.kind === 'eni.attached') && e.nodeId && typeof e['ip'] === 'string') {
      ownIp(e.atMs, e.nodeId, e['ip']);
      const inst = e.instanceId ? instanceNode.get(e.instanceId) : undefined;
      if (inst && inst !== e.nodeId) flag(e.atMs, e.nodeId, `ENI ${String(e['eniId'])} of ${e.nodeId} attached to ${e.instanceId} of ${inst}`);
    } else if (e.kind === 'volume.created' && e.nodeId && !roots.has(String(e['volumeId']))) {
      volumeOwner.set(String(e['volumeId']), e.nodeId);
    } else if (e.kind === 'volume.attachment' && e['state'] !== 'detached' && !roots.has(String(e['volumeId']))) {
      const volumeId = String(e['volumeId']);
      const owner = volumeOwner.get(volumeId) ?? e.nodeId;
      const inst = e.instanceId ? instanceNode.get(e.instanceId) : undefined;
      if (owner && inst && owner !== inst) flag(e.atMs, inst, `volume ${volumeId} of ${owner} ${String(e['state'])} to ${e.instanceId} of ${inst}`);
    }
  }
  for (const c of evidence.calls) {
    for (const [nodeId, r] of Object.entries(c.observed?.resources ?? {})) {
      if (r.ip) {
        const owner = ipOwner.get(r.ip);
        if (owner && owner !== nodeId) flag(c.endMs ?? c.startMs, nodeId, `${c.session} observed IP ${r.ip} (${owner}'s) on ${nodeId}`);
      }
      if (r.volumeId) {
        const root = roots.get(r.volumeId);
        if (root !== undefined) flag(c.endMs ?? c.startMs, nodeId, `${c.session} observed root volume ${r.volumeId} (of instance ${root}) as ${nodeId}'s data volume`);
        const owner = volumeOwner.get(r.volumeId);
        if (owner && owner !== nodeId) flag(c.endMs ?? c.startMs, nodeId, `${c.session} observed volume ${r.volumeId} (${owner}'s) on ${nodeId}`);
      }
    }
  }
  return { violations, notes: [] };
}
