import type { ClusterObservation } from '../observation.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import { clusterStatuses, type NodeStatus } from './node-status.js';
import { quorumOf, type QuorumMath } from './quorum.js';
import { membershipBlock } from './plan-membership.js';

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
  /**
   * How batches walk the AZs. `balanced` (default): each batch takes the AZ with the most
   * outdated nodes left, so every AZ keeps a mix while the roll runs; `az`: one AZ at a time, in
   * name order (a bad image reaches one AZ only). Either way a batch never spans two AZs.
   */
  readonly waves?: 'balanced' | 'az';
  /**
   * Size batches so that losing any one AZ on top of the batch still leaves a quorum, where the
   * layout allows it (default true). Off: any batch within one AZ up to the budget.
   */
  readonly tolerateAzLoss?: boolean;
}

export type RollAction =
  /** Nodes already on the desired revision whose group still launches an older one. */
  | { readonly type: 'update-templates'; readonly nodeIds: readonly string[] }
  | { readonly type: 'replace'; readonly nodeIds: readonly string[]; readonly instanceIds: readonly string[] }
  | { readonly type: 'wait'; readonly reason: string; readonly nodeIds: readonly string[] }
  | {
      readonly type: 'halt';
      readonly reason: string;
      readonly nodeId: string | null;
      readonly nodeIds: readonly string[];
      readonly phase: string | null;
      readonly lastError: string | null;
      readonly code: 'FAILED' | 'TIMEOUT' | 'NOT_PROVISIONED' | 'PAUSED' | 'MEMBERSHIP';
    }
  | { readonly type: 'done' };

export interface RollPlan {
  readonly action: RollAction;
  readonly quorum: QuorumMath & {
    readonly healthy: number;
    readonly down: number;
    /** How many more nodes may be disrupted now: min(maxUnavailable, tolerance − down). */
    readonly budget: number;
    /**
     * The batch size after the AZ checks: within one AZ, and the largest (≤ budget) after which
     * the loss of any one AZ still leaves a quorum, when the layout allows one.
     */
    readonly azBudget: number;
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
 *
 * Paused nodes (`pauseNode()`) count as down, are not replaced (they have no instance) and are
 * not waited for: their launch template moves with the `update-templates` step, so
 * `resumeNode()` boots the desired revision. When, with them down, no budget is left for the
 * outdated nodes, the roll halts (`PAUSED`) instead of waiting for a node nobody resumes.
 */
export function planRoll(observation: ClusterObservation, spec: ClusterSpec, policy: RollPolicy, nowMs: number): RollPlan {
  const statuses = clusterStatuses(spec, observation);
  const q = quorumOf(spec.nodes.length);
  const healthy = statuses.filter((s) => s.healthy).length;
  const down = statuses.length - healthy;
  const maxUnavailable = Math.max(1, Math.floor(policy.maxUnavailable));
  const budget = Math.min(maxUnavailable, q.tolerance - down);
  const skip = policy.skip ?? new Set<string>();
  const outdated = statuses.filter((s) => s.outdated && !s.paused && !skip.has(s.nodeId));
  const order = replacementOrder(outdated, policy.leaderId, policy.waves ?? 'balanced');
  let azBudget = 0;
  const plan = (action: RollAction): RollPlan => ({ action, quorum: { ...q, healthy, down, budget, azBudget }, statuses, order });

  const unprovisioned = statuses.filter((s) => !s.provisioned);
  if (unprovisioned.length > 0) {
    return plan({
      type: 'halt',
      code: 'NOT_PROVISIONED',
      reason: `node ${unprovisioned.map((s) => s.nodeId).join(', ')} has no Auto Scaling group; run apply() first`,
      nodeId: unprovisioned[0]?.nodeId ?? null,
      nodeIds: unprovisioned.map((s) => s.nodeId),
      phase: null,
      lastError: null,
    });
  }

  // A roll never overlaps a membership change (a node joining, a node the spec lost): planMembership.
  const membership = membershipBlock(observation, spec);
  if (membership) return plan({ type: 'halt', code: 'MEMBERSHIP', reason: membership.reason, nodeId: membership.nodeIds[0] ?? null, nodeIds: membership.nodeIds, phase: null, lastError: null });

  // A node that failed on the desired revision halts everything: the next node would fail too.
  const failed = firstFailure(statuses, policy);
  if (failed?.failure) {
    return plan({
      type: 'halt',
      code: 'FAILED',
      reason: `node ${failed.nodeId} failed to boot revision ${failed.desiredRevision} (instance ${failed.failure.instanceId}${failed.failure.phase ? `, in phase ${failed.failure.phase}` : ''}): ${failed.failure.reason}`,
      nodeId: failed.nodeId,
      nodeIds: [failed.nodeId],
      phase: failed.failure.phase,
      lastError: failed.failure.reason,
    });
  }

  // Replacements that take too long halt the roll.
  for (const r of policy.inFlight.values()) {
    const s = statuses.find((x) => x.nodeId === r.nodeId);
    // A paused node is down on purpose: no deadline runs for it.
    if (!s || s.paused || (s.healthy && !s.outdated)) continue;
    if (nowMs - r.startedAtMs > policy.replacementTimeoutMs) {
      const phase = s.phase ?? s.state;
      return plan({
        type: 'halt',
        code: 'TIMEOUT',
        reason: `node ${s.nodeId} did not come back InService within ${Math.round(policy.replacementTimeoutMs / 1000)} s (stuck in ${phase}${s.cause ? `; ${s.cause}` : ''})`,
        nodeId: s.nodeId,
        nodeIds: [s.nodeId],
        phase,
        lastError: s.cause,
      });
    }
  }

  // Templates move to the new revision only when a node's own batch starts (startBatch does it).
  // Here: nodes already running the desired revision whose group would relaunch an older one.
  // Paused nodes too: no instance runs, so resumeNode() launches what the group names.
  const staleTemplates = statuses.filter((s) => s.templateOutdated && (!s.outdated || s.paused) && !skip.has(s.nodeId)).map((s) => s.nodeId);
  if (staleTemplates.length > 0) return plan({ type: 'update-templates', nodeIds: staleTemplates });

  // Paused nodes are down but not waited for: nobody but resumeNode() brings them back.
  const notHealthy = statuses.filter((s) => !s.healthy && !s.paused);
  if (order.length === 0 && notHealthy.length === 0) return plan({ type: 'done' });

  if (notHealthy.length > 0) {
    // Every node outside a batch must be healthy before the batch starts.
    return plan({
      type: 'wait',
      reason: `waiting for ${notHealthy.map((s) => `${s.nodeId} (${s.state})`).join(', ')} to be InService and healthy`,
      nodeIds: notHealthy.map((s) => s.nodeId),
    });
  }
  const paused = statuses.filter((s) => s.paused);
  if (budget <= 0 && paused.length > 0 && down - paused.length < q.tolerance) {
    return plan({
      type: 'halt',
      code: 'PAUSED',
      reason: `node ${paused.map((s) => s.nodeId).join(', ')} ${paused.length === 1 ? 'is' : 'are'} paused and count${paused.length === 1 ? 's' : ''} as down: with ${down} of ${q.size} down (tolerance ${q.tolerance}) no outdated node may be replaced; resume ${paused.length === 1 ? 'it' : 'them'} (resumeNode) first`,
      nodeId: paused[0]?.nodeId ?? null,
      nodeIds: paused.map((s) => s.nodeId),
      phase: 'paused',
      lastError: null,
    });
  }
  if (budget <= 0) {
    return plan({ type: 'wait', reason: `no disruption budget: ${down} of ${q.size} down, tolerance ${q.tolerance}`, nodeIds: [] });
  }
  if (order.length === 0) return plan({ type: 'done' });

  const batch = nextBatch(statuses, order, policy.leaderId, budget, q.quorum, policy.tolerateAzLoss ?? true);
  azBudget = batch.length;
  return plan({
    type: 'replace',
    nodeIds: batch,
    instanceIds: batch.map((id) => statuses.find((s) => s.nodeId === id)?.current?.instanceId as string),
  });
}

/** The first node that failed on its desired revision (a failure the roll does not ignore). */
function firstFailure(statuses: readonly NodeStatus[], policy: Pick<RollPolicy, 'ignoreFailuresBeforeMs' | 'skip'>): NodeStatus | null {
  return statuses.find((s) => !!s.failure && s.failure.launchedAtMs >= policy.ignoreFailuresBeforeMs && !policy.skip?.has(s.nodeId)) ?? null;
}

/**
 * The next batch: outdated nodes of one AZ (the first in `order`'s AZ sequence), the leader
 * last and alone, at most `budget`; with `tolerateAzLoss`, the largest such batch after which
 * losing any one AZ still leaves a quorum. When the layout allows no such batch (even one
 * node), AZ safety cannot be had and the whole budget is used within the AZ.
 */
export function nextBatch(statuses: readonly NodeStatus[], order: readonly string[], leaderId: string | null, budget: number, quorum: number, tolerateAzLoss: boolean): string[] {
  const byId = new Map(statuses.map((s) => [s.nodeId, s]));
  const nonLeaders = order.filter((id) => id !== leaderId);
  if (nonLeaders.length === 0) return order.slice(0, 1);
  const az = byId.get(nonLeaders[0] as string)?.az;
  const candidates = nonLeaders.filter((id) => byId.get(id)?.az === az).slice(0, budget);
  if (!tolerateAzLoss) return candidates;
  for (let size = candidates.length; size >= 1; size--) {
    if (survivesAzLoss(statuses, new Set(candidates.slice(0, size)), quorum)) return candidates.slice(0, size);
  }
  return candidates;
}

/** After disrupting `batch`, would losing any single AZ still leave `quorum` healthy nodes? */
export function survivesAzLoss(statuses: readonly NodeStatus[], batch: ReadonlySet<string>, quorum: number): boolean {
  const perAz = new Map<string, number>();
  let left = 0;
  for (const s of statuses) {
    if (!s.healthy || batch.has(s.nodeId)) continue;
    left++;
    perAz.set(s.az, (perAz.get(s.az) ?? 0) + 1);
  }
  for (const n of perAz.values()) if (left - n < quorum) return false;
  return true;
}

/**
 * Outdated nodes in replacement order, the leader last. `balanced`: round-robin over AZs, the
 * AZ with the most outdated nodes first (ties by name); `az`: AZ by AZ in name order. Within an
 * AZ, by node id.
 */
export function replacementOrder(outdated: readonly NodeStatus[], leaderId: string | null, waves: 'balanced' | 'az'): string[] {
  const byAz = new Map<string, string[]>();
  for (const s of [...outdated].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0))) {
    if (s.nodeId === leaderId) continue;
    const list = byAz.get(s.az) ?? [];
    list.push(s.nodeId);
    byAz.set(s.az, list);
  }
  const azs = [...byAz.keys()].sort();
  const out: string[] = [];
  if (waves === 'az') {
    for (const az of azs) out.push(...(byAz.get(az) as string[]));
  } else {
    // Repeatedly take one node from the AZ with the most left: AZs drain evenly.
    // Ties go to the AZ picked least recently, so consecutive batches alternate.
    const left = new Map(azs.map((az) => [az, [...(byAz.get(az) as string[])]]));
    const lastPicked = new Map(azs.map((az) => [az, -1]));
    for (let step = 0; ; step++) {
      let best: string | null = null;
      for (const az of azs) {
        const n = left.get(az)?.length ?? 0;
        if (n === 0) continue;
        const bestN = best === null ? -1 : (left.get(best)?.length ?? 0);
        if (best === null || n > bestN || (n === bestN && (lastPicked.get(az) as number) < (lastPicked.get(best) as number))) best = az;
      }
      if (best === null) break;
      lastPicked.set(best, step);
      out.push((left.get(best) as string[]).shift() as string);
    }
  }
  if (outdated.some((s) => s.nodeId === leaderId)) out.push(leaderId as string);
  return out;
}

/** What the controller knows at the moment it is about to disrupt a node. */
export interface DisruptionCheck {
  readonly nodeId: string;
  /** The instance the batch was planned to replace. */
  readonly instanceId: string;
  /** Nodes of the current batch already disrupted (they may be down). */
  readonly disrupted: ReadonlySet<string>;
  readonly maxUnavailable: number;
}

export type DisruptionVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Check at the moment of use: on a fresh observation, may this node's instance be terminated
 * now? Yes only if no failure halts the roll, the node still runs the planned (outdated)
 * instance and is healthy, every node outside the batch is healthy, and the batch with this
 * node stays within the budget. Pure: the controller calls it right before `replaceInstance`.
 */
export function checkDisruption(observation: ClusterObservation, spec: ClusterSpec, policy: Pick<RollPolicy, 'ignoreFailuresBeforeMs' | 'skip'>, check: DisruptionCheck): DisruptionVerdict {
  const statuses = clusterStatuses(spec, observation);
  const q = quorumOf(spec.nodes.length);
  const failed = firstFailure(statuses, policy);
  if (failed) return { ok: false, reason: `node ${failed.nodeId} failed on the new revision` };
  const self = statuses.find((s) => s.nodeId === check.nodeId);
  if (!self) return { ok: false, reason: `node ${check.nodeId} is not in the spec` };
  if (self.current?.instanceId !== check.instanceId) return { ok: false, reason: `node ${check.nodeId} no longer runs ${check.instanceId} (now ${self.current?.instanceId ?? 'none'})` };
  if (!self.outdated) return { ok: false, reason: `node ${check.nodeId} already runs the desired revision` };
  if (!self.healthy) return { ok: false, reason: `node ${check.nodeId} is not healthy (${self.state})` };
  // Paused nodes were down when the batch was planned: they take from the quorum tolerance, not from maxUnavailable.
  const others = statuses.filter((s) => !s.healthy && !s.paused && s.nodeId !== check.nodeId && !check.disrupted.has(s.nodeId));
  if (others.length > 0) return { ok: false, reason: `${others.map((s) => `${s.nodeId} (${s.state})`).join(', ')} went down since the batch was planned` };
  const paused = statuses.filter((s) => s.paused).length;
  const down = statuses.filter((s) => !s.healthy).length - paused;
  const limit = Math.min(Math.max(1, Math.floor(check.maxUnavailable)), q.tolerance - paused);
  if (down + 1 > limit) return { ok: false, reason: `${down} node(s) down already${paused > 0 ? ` (and ${paused} paused)` : ''}; one more would exceed the budget of ${limit}` };
  return { ok: true };
}
