import type { ClusterObservation } from '../observation.js';
import { computeRevision } from '../revision.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import { clusterStatuses, type NodeStatus } from './node-status.js';
import { planApply, type ApplyPlan } from './plan-apply.js';
import { planMembership, type MembershipPlan, type RemoveNodesOption } from './plan-membership.js';
import { nextBatch, replacementOrder } from './plan-roll.js';
import { quorumOf } from './quorum.js';
import { canaryCap, holdDue, NO_HOLDS, type HoldDue, type HoldPolicy } from './roll-holds.js';
import { formatDuration } from '../format-duration.js';

/** One field that changes, as the user wrote it in the spec. */
export interface FieldChange {
  readonly field: string;
  /** Null when the cloud does not say (e.g. an instance not yet visible). */
  readonly from: string | number | null;
  readonly to: string | number;
}

export interface NodePlan {
  readonly nodeId: string;
  readonly az: string;
  /**
   * `create`: no group yet (apply); `replace`: its instance is replaced by a roll, in `batch`;
   * `update`: no new instance, only resources apply converges (a volume to grow, a template);
   * `none`.
   */
  readonly action: 'create' | 'replace' | 'update' | 'none';
  /** 1-based batch of the roll that replaces it, when it is replaced. */
  readonly batch: number | null;
  readonly leader: boolean;
  readonly changes: readonly FieldChange[];
}

export interface PlannedBatch {
  readonly index: number;
  readonly nodeIds: readonly string[];
  readonly az: string;
  /** Part of the canary (the first nodes replaced, before the canary hold). */
  readonly canary: boolean;
  /** The hold after this batch: the canary's, or a checkpoint's. */
  readonly holdAfter: HoldDue | null;
}

export interface RollSchedule {
  readonly batches: readonly PlannedBatch[];
  /** What was asked for, and the largest batch the schedule holds. */
  readonly requestedMaxUnavailable: number;
  readonly effectiveMaxUnavailable: number;
  /** Why the effective figure is below the requested one (empty when it is not). */
  readonly capped: readonly string[];
  readonly waves: 'balanced' | 'az';
  /** Bake time after every batch (0: none). */
  readonly bakeMs: number;
  readonly canary: { readonly nodes: number; readonly holdMs: number | null } | null;
  readonly checkpoints: readonly number[];
}

export interface ClusterPlan {
  readonly clusterName: string;
  readonly size: number;
  readonly quorum: number;
  readonly tolerance: number;
  readonly nodes: readonly NodePlan[];
  readonly schedule: RollSchedule;
  /** Volumes `apply()` grows (online) before the roll: the size part of `volumeChanges`. */
  readonly resizes: readonly { readonly nodeId: string; readonly fromGiB: number; readonly toGiB: number }[];
  /** Data volumes `apply()` modifies online (size, type, IOPS, throughput), each field `from → to`. */
  readonly volumeChanges: ApplyPlan['volumeChanges'];
  /** Volume changes apply() refuses before any call, naming the node (a shrink, a value the type does not allow). */
  readonly volumeRefusals: ApplyPlan['volumeRefusals'];
  readonly warnings: readonly string[];
  /** Nothing to create, replace, grow or converge. */
  readonly noChanges: boolean;
  /** Whether any node of the cluster exists yet (false: every node is to create). */
  readonly exists: boolean;
  /** Nodes added or removed one at a time, and nodes in AWS the spec no longer lists (`planMembership`). */
  readonly membership?: MembershipPlan;
}

export interface ClusterPlanPolicy {
  readonly maxUnavailable: number;
  readonly leaderId: string | null;
  readonly waves?: 'balanced' | 'az';
  readonly tolerateAzLoss?: boolean;
  readonly skip?: ReadonlySet<string>;
  /** Canary, checkpoints and bake time (`resolveHoldPolicy`). Default none. */
  readonly holds?: HoldPolicy;
  /** Which nodes outside the spec `apply()` would remove (`ApplyOptions.removeNodes`). Default none. */
  readonly removeNodes?: RemoveNodesOption;
}

/**
 * The whole plan, pure: what `apply()` creates and converges, and every batch a roll would run
 * if the cluster stayed healthy — the same batch choice as `planRoll` (one AZ per batch, sized
 * for an AZ loss, leader last) — with each node's changes as spec fields, not revision hashes.
 * A roll re-plans at every step on what it sees; this is the schedule it starts from.
 */
export function planCluster(observation: ClusterObservation, spec: ClusterSpec, policy: ClusterPlanPolicy): ClusterPlan {
  const statuses = clusterStatuses(spec, observation);
  const q = quorumOf(spec.nodes.length);
  const apply = planApply(observation, spec);
  const skip = policy.skip ?? new Set<string>();
  const waves = policy.waves ?? 'balanced';
  const requested = Math.max(1, Math.floor(policy.maxUnavailable));
  const toReplace = statuses.filter((s) => s.provisioned && s.current && s.outdated && !skip.has(s.nodeId));
  const order = replacementOrder(toReplace, policy.leaderId, waves);

  // Batches, assuming every node is healthy when its batch comes.
  const healthy = statuses.map((s): NodeStatus => ({ ...s, healthy: true }));
  const azOf = new Map(statuses.map((s) => [s.nodeId, s.az]));
  const budget = Math.min(requested, q.tolerance);
  const holds = policy.holds ?? NO_HOLDS;
  const batches: PlannedBatch[] = [];
  let left = order;
  let replaced = 0;
  while (left.length > 0) {
    const cap = canaryCap(holds, replaced);
    const ids = nextBatch(healthy, left, policy.leaderId, Math.max(1, Math.min(budget, cap ?? Infinity)), q.quorum, policy.tolerateAzLoss ?? true);
    const taken = new Set(ids);
    const before = replaced;
    replaced += ids.length;
    batches.push({ index: batches.length + 1, nodeIds: ids, az: azOf.get(ids[0] as string) ?? '', canary: cap !== null, holdAfter: holdDue(holds, before, replaced, order.length) });
    left = left.filter((id) => !taken.has(id));
  }
  // The canary's own small batches are not what limits the rest of the roll.
  const effective = batches.reduce((m, b) => Math.max(m, b.canary && batches.some((x) => !x.canary) ? 0 : b.nodeIds.length), 0);
  const capped: string[] = [];
  if (requested > q.tolerance) capped.push(`the quorum tolerance is ${q.tolerance} (${q.size} nodes, quorum ${q.quorum})`);
  if (batches.length > 0 && effective < Math.min(requested, q.tolerance)) {
    const perAz = new Map<string, number>();
    for (const id of order) {
      const az = azOf.get(id) ?? '';
      perAz.set(az, (perAz.get(az) ?? 0) + 1);
    }
    const widest = Math.max(...perAz.values());
    capped.push(
      widest <= effective
        ? `a batch never spans two AZs (at most ${widest} outdated node${widest === 1 ? '' : 's'} per AZ)`
        : `batches are sized so that losing any one AZ still leaves a quorum (tolerateAzLoss)`,
    );
  }
  // Paused nodes (pauseNode()) are down but not waited for: they take from the quorum tolerance.
  const down = statuses.filter((s) => !s.healthy && !s.paused).length;
  const paused = statuses.filter((s) => s.paused).map((s) => s.nodeId);
  const warnings = [...apply.warnings];
  if (down > 0) warnings.push(`${down} node${down === 1 ? ' is' : 's are'} not healthy now (${statuses.filter((s) => !s.healthy && !s.paused).map((s) => s.nodeId).join(', ')}): the roll waits for ${down === 1 ? 'it' : 'them'} before its first batch`);
  if (paused.length > 0) warnings.push(`${paused.join(', ')} ${paused.length === 1 ? 'is' : 'are'} paused: counted as down (the roll moves ${paused.length === 1 ? 'its' : 'their'} launch template and does not wait for ${paused.length === 1 ? 'it' : 'them'}; resumeNode brings ${paused.length === 1 ? 'it' : 'them'} back)`);

  const batchOf = new Map<string, number>();
  for (const b of batches) for (const id of b.nodeIds) batchOf.set(id, b.index);
  const volumeChanges = new Map(apply.volumeChanges.map((c) => [c.nodeId, c]));
  const applySteps = new Set(apply.nodes.map((n) => n.nodeId));
  const nodes: NodePlan[] = spec.nodes.map((n, i) => {
    const s = statuses[i] as NodeStatus; // clusterStatuses follows spec.nodes
    const changes: FieldChange[] = [];
    const cur = s.current;
    if (!s.provisioned) {
      changes.push({ field: 'image', from: null, to: n.image }, { field: 'instanceType', from: null, to: spec.instanceType }, { field: 'dataVolume.sizeGiB', from: null, to: n.dataVolume.sizeGiB });
      if (n.capacity.spot) changes.push({ field: 'capacity.spot', from: null, to: 'true' });
      return { nodeId: n.id, az: n.az, action: 'create', batch: null, leader: false, changes };
    }
    if (batchOf.has(n.id)) {
      if (typeof cur?.imageId === 'string' && cur.imageId !== n.image) changes.push({ field: 'image', from: cur.imageId, to: n.image });
      if (typeof cur?.instanceType === 'string' && cur.instanceType !== spec.instanceType) changes.push({ field: 'instanceType', from: cur.instanceType, to: spec.instanceType });
      // Spot or on-demand (docs/spot.md): what the instance runs on against what the spec asks.
      if (cur && cur.spot !== n.capacity.spot) changes.push({ field: 'capacity.spot', from: String(cur.spot), to: String(n.capacity.spot) });
      if (changes.length === 0) {
        changes.push({ field: 'launch settings (user data, bootstrap, tags, root volume)', from: cur?.revision ?? null, to: computeRevision(spec, n.id) });
      }
    }
    const r = volumeChanges.get(n.id);
    if (r) for (const f of r.fields) changes.push({ field: `dataVolume.${f.field}`, from: f.from, to: f.to });
    const action = batchOf.has(n.id) ? 'replace' : r || applySteps.has(n.id) ? 'update' : 'none';
    return { nodeId: n.id, az: n.az, action, batch: batchOf.get(n.id) ?? null, leader: n.id === policy.leaderId, changes };
  });
  const membership = planMembership(observation, spec, { removeNodes: policy.removeNodes });
  warnings.push(...membership.warnings);
  const noChanges = nodes.every((n) => n.action === 'none') && apply.dns.length === 0 && apply.volumeRefusals.length === 0 && membership.steps.length === 0;
  return {
    clusterName: spec.name,
    size: q.size,
    quorum: q.quorum,
    tolerance: q.tolerance,
    nodes,
    schedule: {
      batches,
      requestedMaxUnavailable: requested,
      effectiveMaxUnavailable: effective,
      capped,
      waves,
      bakeMs: holds.bakeMs,
      canary: holds.canaryNodes === null ? null : { nodes: holds.canaryNodes, holdMs: holds.canaryHoldMs },
      checkpoints: holds.checkpoints,
    },
    resizes: apply.resizes,
    volumeChanges: apply.volumeChanges,
    volumeRefusals: apply.volumeRefusals,
    warnings,
    noChanges,
    exists: statuses.some((st) => st.provisioned),
    membership,
  };
}

/**
 * Renders a plan the way `terraform plan` does: one block per node that changes (`+` create,
 * `~` replace or update), its fields `from → to`, then the batches in order and a summary line;
 * "No changes." when there is nothing to do.
 */
export function formatPlan(plan: ClusterPlan): string {
  const lines: string[] = [];
  const head = plan.exists
    ? `Cluster ${plan.clusterName}: ${plan.size} nodes, quorum ${plan.quorum}, tolerance ${plan.tolerance}.`
    : `Cluster ${plan.clusterName} does not exist yet: ${plan.size} nodes to create (quorum ${plan.quorum}, tolerance ${plan.tolerance}).`;
  if (plan.noChanges) {
    lines.push(head, '', 'No changes. The cluster matches its spec.');
    for (const w of plan.warnings) lines.push('', `Warning: ${w}`);
    return lines.join('\n');
  }
  lines.push(head, '', 'Berth will perform the following actions:', '');
  const width = Math.max(8, ...plan.nodes.flatMap((n) => n.changes.map((c) => c.field.length)));
  for (const n of plan.nodes) {
    if (n.action === 'none') continue;
    const mark = n.action === 'create' ? '+' : '~';
    const what =
      n.action === 'create'
        ? 'will be created'
        : n.action === 'replace'
          ? `instance will be replaced, batch ${n.batch}${n.leader ? ' (leader, last)' : ''}`
          : 'will be updated in place';
    lines.push(`  ${mark} ${n.nodeId} (${n.az}) ${what}`);
    for (const c of n.changes) {
      const from = c.from === null ? (n.action === 'create' ? '' : '(unknown) ') : `${c.from} `;
      lines.push(`      ${c.field.padEnd(width)}  ${n.action === 'create' ? '' : `${from}→ `}${c.to}`);
    }
    lines.push('');
  }
  const steps = plan.membership?.steps ?? [];
  if (steps.length > 0) {
    lines.push('Membership, one node at a time (each step waits for every member to be healthy and clusterHealthy):');
    steps.forEach((m, i) => {
      const what =
        m.kind === 'add'
          ? `+ add ${m.nodeId}${m.stage === 'join' ? ' (created, still joining: continue)' : ''}: create, wait InService and healthy, addMember, health gate`
          : `- remove ${m.nodeId}${m.stage === 'delete' ? ' (decommissioned already: delete what is left)' : ''}: ${m.stage === 'delete' ? '' : 'removeMember, health gate, '}delete its resources per its deletion policy`;
      lines.push(`  ${String(i + 1).padStart(2)}. ${what}  (${m.sizeBefore} → ${m.sizeAfter} members, quorum ${m.quorumAfter})`);
    });
    lines.push('');
  }
  const s = plan.schedule;
  if (s.batches.length > 0) {
    const cap = s.effectiveMaxUnavailable < s.requestedMaxUnavailable ? ` (maxUnavailable ${s.requestedMaxUnavailable} → ${s.effectiveMaxUnavailable}: ${s.capped.join('; ')})` : ` (maxUnavailable ${s.requestedMaxUnavailable})`;
    const bake = s.bakeMs > 0 ? `, bake ${formatDuration(s.bakeMs)} after every batch` : '';
    lines.push(`Roll, ${s.waves === 'az' ? 'one AZ at a time' : 'AZs balanced'}${cap}${bake}:`);
    for (const b of s.batches) {
      lines.push(`  ${String(b.index).padStart(2)}. ${b.nodeIds.join(', ')} (${b.az})${b.canary ? '  canary' : ''}`);
      const h = b.holdAfter;
      if (h) {
        const what = h.kind === 'canary' ? 'canary' : `checkpoint ${h.percent}%`;
        lines.push(`      then hold (${what}): ${h.holdMs !== null ? `bake ${formatDuration(h.holdMs)}, health watched, then go on` : 'until resume() or the approve hook says go'}`);
      }
    }
    lines.push('');
  }
  const create = plan.nodes.filter((n) => n.action === 'create').length;
  const replace = plan.nodes.filter((n) => n.action === 'replace').length;
  const update = plan.nodes.filter((n) => n.action === 'update').length;
  const parts = [`${create} to create`, `${replace} to replace${replace > 0 ? ` in ${s.batches.length} batch${s.batches.length === 1 ? '' : 'es'}` : ''}`, `${update} to update in place`];
  const vc = plan.volumeChanges.length;
  if (vc > 0) parts.push(`${vc} volume${vc === 1 ? '' : 's'} to modify (online, by apply())`);
  const removals = steps.filter((m) => m.kind === 'remove').length;
  if (removals > 0) parts.push(`${removals} to remove`);
  lines.push(`Plan: ${parts.join(', ')}.`);
  for (const r of plan.volumeRefusals) lines.push('', `Refused (apply() stops before any call): ${r.message}`);
  for (const w of plan.warnings) lines.push('', `Warning: ${w}`);
  return lines.join('\n');
}
