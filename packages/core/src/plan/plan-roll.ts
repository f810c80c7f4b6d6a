import type { ClusterObservation } from '../observation.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import { clusterStatuses, type NodeStatus } from './node-status.js';
import { quorumOf, type QuorumMath } from './quorum.js';

/** A replacement this controller started and has not seen finish. */
export interface InFlightReplacement {
  readonly nodeId: string;
  readonly oldInstanceId: string;
  readonly startedAtMs: number;
}

export interface RollPolicy {
  /** The most nodes disrupted at once; always capped by the quorum tolerance. */
  readonly maxUnavailable: number;
  /** The node the application says leads now; replaced last. */
  readonly leaderId: string | null;
  /** How long one replacement may take before the roll halts. */
  readonly replacementTimeoutMs: number;
  /** Replacements started by this roll, by node id. */
  readonly inFlight: ReadonlyMap<string, InFlightReplacement>;
  /** Failures reported before this time are ignored (to retry a revision after a fix outside Berth). */
  readonly ignoreFailuresBeforeMs: number;
  /** Node ids to leave alone. */
  readonly skip?: ReadonlySet<string>;
}

export type RollAction =
  | { readonly type: 'update-templates'; readonly nodeIds: readonly string[] }
  | { readonly type: 'replace'; readonly nodeIds: readonly string[]; readonly instanceIds: readonly string[] }
  | { readonly type: 'wait'; readonly reason: string; readonly nodeIds: readonly string[] }
  | {
      readonly type: 'halt';
      readonly reason: string;
      readonly nodeId: string | null;
      readonly phase: string | null;
      readonly lastError: string | null;
      readonly code: 'FAILED' | 'TIMEOUT' | 'NOT_PROVISIONED';
    }
  | { readonly type: 'done' };

export interface RollPlan {
  readonly action: RollAction;
  readonly quorum: QuorumMath & {
    readonly healthy: number;
    readonly down: number;
    /** How many more nodes may be disrupted now: min(maxUnavailable, tolerance − down). */
    readonly budget: number;
  };
  readonly statuses: readonly NodeStatus[];
  /** Outdated nodes in the order they will be replaced (leader last). */
  readonly order: readonly string[];
}

/**
 * The pure decision of what a roll does next. No I/O, no clock, no randomness: the same
 * inputs always give the same plan, so it is property-tested directly.
 *
 * Safety rules: a disruption never starts while it could leave fewer than quorum healthy
 * members (counting nodes already down or in flight); every node outside a batch must be
 * healthy; the leader goes last; a failure or a timeout halts with the node, its phase and
 * its last error, and nothing else is touched.
 */
export function planRoll(observation: ClusterObservation, spec: ClusterSpec, policy: RollPolicy, nowMs: number): RollPlan {
  const statuses = clusterStatuses(spec, observation);
  const q = quorumOf(spec.nodes.length);
  const healthy = statuses.filter((s) => s.healthy).length;
  const down = statuses.length - healthy;
  const maxUnavailable = Math.max(1, Math.floor(policy.maxUnavailable));
  const budget = Math.min(maxUnavailable, q.tolerance - down);
  const skip = policy.skip ?? new Set<string>();
  const order = replacementOrder(statuses.filter((s) => s.outdated && !skip.has(s.nodeId)), policy.leaderId);
  const plan = (action: RollAction): RollPlan => ({ action, quorum: { ...q, healthy, down, budget }, statuses, order });

  const unprovisioned = statuses.filter((s) => !s.provisioned);
  if (unprovisioned.length > 0) {
    return plan({
      type: 'halt',
      code: 'NOT_PROVISIONED',
      reason: `node ${unprovisioned.map((s) => s.nodeId).join(', ')} has no Auto Scaling group; run apply() first`,
      nodeId: unprovisioned[0]?.nodeId ?? null,
      phase: null,
      lastError: null,
    });
  }

  // A node that failed on the desired revision halts everything: the next node would fail too.
  for (const s of statuses) {
    if (s.failure && s.failure.launchedAtMs >= policy.ignoreFailuresBeforeMs && !skip.has(s.nodeId)) {
      return plan({
        type: 'halt',
        code: 'FAILED',
        reason: `node ${s.nodeId} failed to boot revision ${s.desiredRevision} (instance ${s.failure.instanceId}${s.failure.phase ? `, in phase ${s.failure.phase}` : ''}): ${s.failure.reason}`,
        nodeId: s.nodeId,
        phase: s.failure.phase,
        lastError: s.failure.reason,
      });
    }
  }

  // Replacements that take too long halt the roll.
  for (const r of policy.inFlight.values()) {
    const s = statuses.find((x) => x.nodeId === r.nodeId);
    if (!s || (s.healthy && !s.outdated)) continue;
    if (nowMs - r.startedAtMs > policy.replacementTimeoutMs) {
      const phase = s.phase ?? s.state;
      return plan({
        type: 'halt',
        code: 'TIMEOUT',
        reason: `node ${s.nodeId} did not come back InService within ${Math.round(policy.replacementTimeoutMs / 1000)} s (stuck in ${phase}${s.lastActivityError ? `; last group error: ${s.lastActivityError}` : ''})`,
        nodeId: s.nodeId,
        phase,
        lastError: s.lastActivityError,
      });
    }
  }

  const staleTemplates = statuses.filter((s) => s.templateOutdated && !skip.has(s.nodeId)).map((s) => s.nodeId);
  if (staleTemplates.length > 0) return plan({ type: 'update-templates', nodeIds: staleTemplates });

  if (order.length === 0 && down === 0) return plan({ type: 'done' });

  const notHealthy = statuses.filter((s) => !s.healthy);
  if (notHealthy.length > 0) {
    // Every node outside a batch must be healthy before the batch starts.
    return plan({
      type: 'wait',
      reason: `waiting for ${notHealthy.map((s) => `${s.nodeId} (${s.state})`).join(', ')} to be InService and healthy`,
      nodeIds: notHealthy.map((s) => s.nodeId),
    });
  }
  if (budget <= 0) {
    return plan({ type: 'wait', reason: `no disruption budget: ${down} of ${q.size} down, tolerance ${q.tolerance}`, nodeIds: [] });
  }
  if (order.length === 0) return plan({ type: 'done' });

  const nonLeaders = order.filter((id) => id !== policy.leaderId);
  const batch = nonLeaders.length > 0 ? nonLeaders.slice(0, budget) : order.slice(0, 1);
  return plan({
    type: 'replace',
    nodeIds: batch,
    instanceIds: batch.map((id) => statuses.find((s) => s.nodeId === id)?.current?.instanceId as string),
  });
}

/** Outdated nodes by id, the leader last. */
function replacementOrder(outdated: readonly NodeStatus[], leaderId: string | null): string[] {
  const ids = outdated.map((s) => s.nodeId).sort();
  return [...ids.filter((id) => id !== leaderId), ...ids.filter((id) => id === leaderId)];
}
