import { computeRevision, type ClusterSpec } from '@berth/core';
import type { Simulation } from '@berth/sim-driver';
import type { PendingItem } from '../invariants/evidence.js';

/**
 * What has not converged to `spec`: every node whose current instance is missing, runs another
 * revision, is not InService, or whose member is not healthy — each with the reason.
 */
export function pending(sim: Pick<Simulation, 'world' | 'app'>, spec: ClusterSpec): PendingItem[] {
  const members = new Map(sim.app.status().members.map((m) => [m.nodeId, m]));
  const out: PendingItem[] = [];
  for (const node of spec.nodes) {
    const inst = sim.world.currentInstance(node.id);
    const want = computeRevision(spec, node.id);
    const m = members.get(node.id);
    if (!inst) out.push({ nodeId: node.id, reason: 'no running instance' });
    else if ((inst.tags['berth:revision'] ?? null) !== want) out.push({ nodeId: node.id, reason: `instance ${inst.id} runs ${inst.tags['berth:revision'] ?? 'no revision'}, want ${want}` });
    else if (inst.lifecycleState !== 'InService') out.push({ nodeId: node.id, reason: `instance ${inst.id} is ${inst.lifecycleState}${inst.tags['berth:phase'] ? ` (phase ${inst.tags['berth:phase']})` : ''}` });
    else if (!m || !m.healthy) out.push({ nodeId: node.id, reason: `member ${m ? (m.partitioned ? 'partitioned' : m.up ? 'catching up' : 'down') : 'missing'}` });
  }
  return out;
}
