import type { ClusterObservation } from '../observation.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import { clusterStatuses } from './node-status.js';

/** One change of a spot node's market that `watch()` makes (docs/spot.md). */
export interface CapacityStep {
  readonly nodeId: string;
  /** `fall-back`: the group launches on-demand from now on; `return-to-spot`: spot again. */
  readonly action: 'fall-back' | 'return-to-spot';
  /** The running on-demand instance a return to spot replaces (a disruption), or null. */
  readonly replaceInstanceId: string | null;
  readonly reason: string;
}

/**
 * The market changes the spot nodes are due, from one observation (pure). A node on spot whose
 * group has failed to get spot capacity for `fallbackAfterSec` and that has no healthy instance
 * falls back to on-demand (when `onDemandFallback`). A node on its fallback for
 * `spotRetryAfterSec` (or whose spec no longer allows the fallback) returns to spot: when it runs
 * a healthy on-demand instance, that instance is to be replaced, which the caller does one node
 * at a time, on a fresh look, under the lease and when quorum allows. Fall-backs come first.
 * `seenMissingSince`: per node, since when earlier looks saw spot capacity missing without a break.
 */
export function planCapacity(observation: ClusterObservation, spec: ClusterSpec, nowMs: number, seenMissingSince?: ReadonlyMap<string, number>): CapacityStep[] {
  const statuses = new Map(clusterStatuses(spec, observation).map((s) => [s.nodeId, s]));
  const fallBacks: CapacityStep[] = [];
  const returns: CapacityStep[] = [];
  for (const node of spec.nodes) {
    const c = node.capacity;
    const group = observation.nodes[node.id]?.group;
    const s = statuses.get(node.id);
    if (!c.spot || !group || !s) continue;
    const odSince = group.onDemandSinceMs ?? null;
    if (odSince === null) {
      // The observation's figure only reaches back as far as the activities it read: the caller's
      // memory of earlier looks (while the failures went on) may reach further.
      const observed = group.spotUnavailableSinceMs ?? null;
      const remembered = seenMissingSince?.get(node.id);
      const missingSince = observed === null ? null : remembered === undefined ? observed : Math.min(observed, remembered);
      if (!c.onDemandFallback || missingSince === null || s.healthy) continue;
      const missingMs = nowMs - missingSince;
      if (missingMs < c.fallbackAfterSec * 1000) continue;
      fallBacks.push({ nodeId: node.id, action: 'fall-back', replaceInstanceId: null, reason: `no spot capacity in ${node.az} for ${Math.round(missingMs / 1000)} s (capacity.fallbackAfterSec ${c.fallbackAfterSec}): ${group.lastActivityError ?? 'launches failing'}` });
      continue;
    }
    const onDemandMs = nowMs - odSince;
    if (c.onDemandFallback && onDemandMs < c.spotRetryAfterSec * 1000) continue;
    const why = c.onDemandFallback ? `on-demand for ${Math.round(onDemandMs / 1000)} s (capacity.spotRetryAfterSec ${c.spotRetryAfterSec}): trying spot again` : 'capacity.onDemandFallback is off: back to spot';
    // A running on-demand instance goes only when it is healthy and current (a roll handles an
    // outdated one; a booting one is left to finish first).
    const cur = s.current;
    if (cur && !cur.spot) {
      if (!s.healthy || s.outdated) continue;
      returns.push({ nodeId: node.id, action: 'return-to-spot', replaceInstanceId: cur.instanceId, reason: why });
    } else {
      returns.push({ nodeId: node.id, action: 'return-to-spot', replaceInstanceId: null, reason: why });
    }
  }
  return [...fallBacks, ...returns];
}

/**
 * Carries the "spot capacity missing since" of each node from look to look: the earliest time
 * seen while every look since said capacity was missing; forgotten at the first look that does not.
 */
export function trackSpotMissing(memory: Map<string, number>, observation: ClusterObservation): void {
  for (const [nodeId, node] of Object.entries(observation.nodes)) {
    const since = node.group?.spotUnavailableSinceMs ?? null;
    if (since === null || (node.group?.onDemandSinceMs ?? null) !== null) memory.delete(nodeId);
    else memory.set(nodeId, Math.min(since, memory.get(nodeId) ?? since));
  }
}
