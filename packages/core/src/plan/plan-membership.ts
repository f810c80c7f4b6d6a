import { BerthConfigError } from '../errors.js';
import type { ClusterObservation, NodeObservation } from '../observation.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import { clusterStatuses, nodeStatus, type NodeStatus } from './node-status.js';
import { quorumOf } from './quorum.js';

/** Which nodes that are in the cloud but no longer in the spec `apply()` may remove. */
export type RemoveNodesOption = boolean | readonly string[];

/** One membership change, done alone: a node joins, or a node leaves. */
export interface MembershipStep {
  readonly kind: 'add' | 'remove';
  readonly nodeId: string;
  /**
   * What the cloud shows of the step already: `add` — `create` (no group yet), `join` (the group
   * exists, tagged `joining`: a change a controller started and did not finish); `remove` —
   * `decommission` (the node still runs), `delete` (its group is gone: a removal that stopped
   * while deleting; only the deletion is left).
   */
  readonly stage: 'create' | 'join' | 'decommission' | 'delete';
  /** Members before and after this step, and the majority the application needs after it. */
  readonly sizeBefore: number;
  readonly sizeAfter: number;
  readonly quorumAfter: number;
}

/** What `planMembership` found: a new cluster, the members, the nodes to add and to remove, in order. */
export interface MembershipPlan {
  /**
   * The cluster does not exist yet: every node is created at once (the application forms its
   * first membership from the spec's node list), with no membership steps.
   */
  readonly bootstrap: boolean;
  /** Members now: spec nodes whose group is not `joining`, and the orphans still running. */
  readonly members: readonly string[];
  /** Spec nodes a membership step adds (no group yet, or a group still `joining`). */
  readonly joining: readonly string[];
  /** Nodes in the cloud (a group or a network interface) that the spec no longer lists. */
  readonly orphans: readonly string[];
  /** The steps, in order: every addition (one at a time), then every removal. */
  readonly steps: readonly MembershipStep[];
  /** Orphans left alone because `removeNodes` does not name them. */
  readonly notRemoved: readonly string[];
  /** What the user should know (orphans kept, even sizes on the way). */
  readonly warnings: readonly string[];
}

/** A node of the cloud that the spec does not list, interpreted like a spec node (its own revision counts as desired). */
export function orphanStatus(spec: ClusterSpec, node: NodeObservation): NodeStatus {
  const az = node.volume?.az ?? node.instances[0]?.az ?? '';
  const rev = node.instances.find((i) => i.revision !== null)?.revision ?? '';
  return nodeStatus(spec, node.nodeId, node, rev, az);
}

/** Nodes of the cloud the spec does not list that still hold a group or a network interface (a retained volume alone is not a node). */
export function orphanIds(spec: ClusterSpec, observation: ClusterObservation): string[] {
  const inSpec = new Set(spec.nodes.map((n) => n.id));
  return Object.values(observation.nodes)
    .filter((n) => !inSpec.has(n.nodeId) && (n.group !== null || n.eni !== null))
    .map((n) => n.nodeId)
    .sort();
}

/**
 * Checks `removeNodes` against the spec alone (no cloud call): a node it names must not be in
 * the spec. Throws {@link BerthConfigError} naming the node.
 */
export function validateRemoveNodes(spec: ClusterSpec, removeNodes: RemoveNodesOption | undefined): void {
  if (removeNodes === undefined || typeof removeNodes === 'boolean') return;
  if (!Array.isArray(removeNodes)) throw new BerthConfigError([{ path: 'removeNodes', message: 'must be true, false or a list of node ids' }], 'apply() options');
  const inSpec = new Set(spec.nodes.map((n) => n.id));
  const issues = removeNodes.flatMap((id, i) =>
    typeof id !== 'string' || id === ''
      ? [{ path: `removeNodes[${i}]`, message: 'must be a node id' }]
      : inSpec.has(id)
        ? [{ path: `removeNodes[${i}]`, message: `node ${id} is in the spec: take it out of spec.nodes first, then apply({ removeNodes: ['${id}'] })` }]
        : [],
  );
  if (issues.length > 0) throw new BerthConfigError(issues, 'apply() options');
}

/**
 * What membership changes converge the cloud on the spec: pure, from a full observation.
 *
 * - No group of the cluster exists: a new cluster, created at once (`bootstrap`).
 * - A spec node without a group, or with a group tagged `joining`: an `add` step.
 * - A node in the cloud the spec does not list (an orphan): a `remove` step only when
 *   `removeNodes` is `true` or names it; otherwise it stays, reported in `notRemoved`.
 *
 * Additions come first (the cluster grows before it shrinks, so a node swap never runs with
 * fewer members than either size), each step one node, sized from the membership before it.
 */
export function planMembership(observation: ClusterObservation, spec: ClusterSpec, options: { removeNodes?: RemoveNodesOption } = {}): MembershipPlan {
  const bootstrap = !Object.values(observation.nodes).some((n) => n.group !== null);
  const orphans = orphanIds(spec, observation);
  const joining: string[] = [];
  const members: string[] = [];
  for (const n of spec.nodes) {
    const g = observation.nodes[n.id]?.group ?? null;
    if (bootstrap) continue;
    // A node whose spec adopts an unmanaged instance's ENI and volume is already a member of the
    // application: adopt() takes it over (docs/adopt.md), it never joins as a new node.
    if (n.adopt !== undefined && !g && !observation.nodes[n.id]?.eni) continue;
    if (!g || g.membership === 'joining') joining.push(n.id);
    else members.push(n.id);
  }
  const running = orphans.filter((id) => observation.nodes[id]?.group);
  const allowed = (id: string) => options.removeNodes === true || (Array.isArray(options.removeNodes) && options.removeNodes.includes(id));
  const toRemove = orphans.filter(allowed);
  const notRemoved = orphans.filter((id) => !allowed(id));
  const steps: MembershipStep[] = [];
  let size = members.length + running.length;
  for (const id of joining) {
    const q = quorumOf(size + 1);
    steps.push({ kind: 'add', nodeId: id, stage: observation.nodes[id]?.group ? 'join' : 'create', sizeBefore: size, sizeAfter: size + 1, quorumAfter: q.quorum });
    size++;
  }
  // Unhealthy orphans go first: removing a node that is down costs the quorum nothing.
  const byHealth = (id: string) => (observation.nodes[id]?.group ? (orphanStatus(spec, observation.nodes[id] as NodeObservation).healthy ? 2 : 1) : 0);
  for (const id of [...toRemove].sort((a, b) => byHealth(a) - byHealth(b) || (a < b ? -1 : 1))) {
    const hasGroup = !!observation.nodes[id]?.group;
    const after = hasGroup ? size - 1 : size;
    steps.push({ kind: 'remove', nodeId: id, stage: hasGroup ? 'decommission' : 'delete', sizeBefore: size, sizeAfter: after, quorumAfter: quorumOf(after).quorum });
    size = after;
  }
  const warnings: string[] = [];
  if (notRemoved.length > 0) {
    warnings.push(
      `node${notRemoved.length === 1 ? '' : 's'} ${notRemoved.join(', ')} ${notRemoved.length === 1 ? 'is' : 'are'} in AWS but not in the spec: Berth removes a node only when told to (apply({ removeNodes: ['${notRemoved.join("', '")}'] })); a roll refuses until then`,
    );
  }
  const evenOnTheWay = steps.filter((s, i) => s.sizeAfter % 2 === 0 && i < steps.length - 1).map((s) => s.sizeAfter);
  if (evenOnTheWay.length > 0) warnings.push(`the membership passes through ${[...new Set(evenOnTheWay)].join(', ')} members on the way (an even count tolerates no more failures than one fewer): each step waits for every member to be healthy`);
  return { bootstrap, members, joining, orphans, steps, notRemoved, warnings };
}

/**
 * Whether a removal keeps the application able to decide: the change itself must be agreed by a
 * majority of the membership before it (the leaving node's vote counts while it is healthy), and
 * the members that stay must hold a majority of the membership after it. Pure; `null` when safe.
 */
export function checkRemoval(step: MembershipStep, healthyRemaining: number, leavingHealthy: boolean): string | null {
  if (step.sizeAfter < 1) return `removing ${step.nodeId} would leave no member`;
  const commit = quorumOf(step.sizeBefore).quorum - (leavingHealthy ? 1 : 0);
  const after = quorumOf(step.sizeAfter).quorum;
  const need = Math.max(commit, after);
  if (healthyRemaining >= need) return null;
  return `removing ${step.nodeId} (${step.sizeBefore} → ${step.sizeAfter} members) needs ${need} healthy members besides it (a majority of ${step.sizeBefore} to agree on the change${leavingHealthy ? `, ${step.nodeId}'s vote included` : ''}, and ${after} of ${step.sizeAfter} after it); ${healthyRemaining} are healthy`;
}

/**
 * Whether an addition keeps the application able to decide: once the new node counts, a
 * majority of the bigger membership must be healthy (the new node's vote included when it is).
 */
export function checkAddition(step: MembershipStep, healthyMembers: number, joiningHealthy: boolean): string | null {
  const healthy = healthyMembers + (joiningHealthy ? 1 : 0);
  if (healthy >= step.quorumAfter) return null;
  return `adding ${step.nodeId} (${step.sizeBefore} → ${step.sizeAfter} members) needs ${step.quorumAfter} healthy members after it; ${healthy} would be`;
}

/**
 * Why a roll may not run now because of membership, or null: a node still joining, or a node in
 * the cloud the spec no longer lists (its quorum math would count the wrong membership).
 */
export function membershipBlock(observation: ClusterObservation, spec: ClusterSpec): { reason: string; nodeIds: string[] } | null {
  const joining = spec.nodes.filter((n) => observation.nodes[n.id]?.group?.membership === 'joining').map((n) => n.id);
  const inSpec = new Set(spec.nodes.map((n) => n.id));
  const orphans = Object.values(observation.nodes)
    .filter((n) => !inSpec.has(n.nodeId) && n.group !== null)
    .map((n) => n.nodeId)
    .sort();
  if (joining.length === 0 && orphans.length === 0) return null;
  const parts: string[] = [];
  if (joining.length > 0) parts.push(`node ${joining.join(', ')} ${joining.length === 1 ? 'is' : 'are'} still joining the membership (run apply() to finish adding ${joining.length === 1 ? 'it' : 'them'})`);
  if (orphans.length > 0) parts.push(`node ${orphans.join(', ')} ${orphans.length === 1 ? 'is' : 'are'} in AWS but not in the spec (remove ${orphans.length === 1 ? 'it' : 'them'} with apply({ removeNodes: ['${orphans.join("', '")}'] }), or put ${orphans.length === 1 ? 'it' : 'them'} back in the spec)`);
  return { reason: `the membership is changing: ${parts.join('; ')}; a roll never overlaps a membership change`, nodeIds: [...joining, ...orphans] };
}

/** Spec nodes plus running orphans that count as members now, with their statuses. */
export function memberStatuses(observation: ClusterObservation, spec: ClusterSpec): { members: NodeStatus[]; joining: NodeStatus[] } {
  const statuses = clusterStatuses(spec, observation);
  const members: NodeStatus[] = [];
  const joining: NodeStatus[] = [];
  spec.nodes.forEach((n, i) => {
    const s = statuses[i] as NodeStatus;
    const g = observation.nodes[n.id]?.group ?? null;
    if (g && g.membership !== 'joining') members.push(s);
    else if (g) joining.push(s);
  });
  for (const id of orphanIds(spec, observation)) {
    const o = observation.nodes[id] as NodeObservation;
    if (o.group) members.push(orphanStatus(spec, o));
  }
  return { members, joining };
}
