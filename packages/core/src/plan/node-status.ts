import { liveInstances, PHASE_ORDER, type ClusterObservation, type InstanceDisruption, type InstanceObservation, type NodeObservation, type Phase } from '../observation.js';
import { computeRevision } from '../revision.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';

/**
 * Where one node stands, interpreted from an observation. `state` follows the node machine's
 * vocabulary: `absent` (nothing provisioned), the boot phases, `in-service`, `failed`, or
 * `replacing` (old instance on its way out, no new one yet), or `paused` (`pauseNode()`: its group
 * is kept at 0 instances; counted as down).
 */
export type NodeState = 'absent' | 'missing-instance' | 'replacing' | 'interrupted' | 'paused' | Phase;

export interface NodeFailure {
  readonly instanceId: string;
  /** The phase the instance stopped in, when it said so (`failed:<phase>:<reason>`). */
  readonly phase: Phase | null;
  readonly reason: string;
  readonly launchedAtMs: number;
}

export interface NodeStatus {
  readonly nodeId: string;
  readonly desiredRevision: string;
  /** The node has an Auto Scaling group. */
  readonly provisioned: boolean;
  /** The group launches an older revision than desired (its launch template needs a new version). */
  readonly templateOutdated: boolean;
  /** The node's current instance: the newest one not on its way out. */
  readonly current: InstanceObservation | null;
  /** Instances on their way out (terminating, shutting down). */
  readonly leaving: readonly InstanceObservation[];
  readonly revision: string | null;
  /** The current instance runs another revision than desired, or there is none yet. */
  readonly outdated: boolean;
  /** InService, running, Healthy, not reporting a failure, no disruption announced, and not paused. */
  readonly healthy: boolean;
  /** `pauseNode()` paused the node (its group is held at 0 instances): it counts as down until `resumeNode()`. */
  readonly paused: boolean;
  /** A disruption AWS announced for the current instance (spot interruption, scheduled event): the node counts as down. */
  readonly disruption: InstanceDisruption | null;
  /** The node's AZ (from the spec). */
  readonly az: string;
  readonly state: NodeState;
  readonly phase: Phase | null;
  /** The newest instance on the desired revision that reported `failed`, if any. */
  readonly failure: NodeFailure | null;
  /** The group's latest failed activity (e.g. the ENI still in use). */
  readonly lastActivityError: string | null;
  /**
   * Why the node is not serving, in the words that explain it: the bootstrap's failure reason
   * when an instance failed on the desired revision (not the group's secondary errors such as
   * the ENI still being in use), else the announced disruption, else the group's last error.
   */
  readonly cause: string | null;
}

const phaseNames = new Set<string>(PHASE_ORDER);

/** Splits a failure reason written as `<phase>:<reason>` (the bootstrap's convention). */
export function parseFailureReason(reason: string | null): { phase: Phase | null; reason: string } {
  if (!reason) return { phase: null, reason: 'no reason reported' };
  const m = /^([a-z-]+):\s*(.*)$/s.exec(reason);
  if (m && phaseNames.has(m[1] as string)) return { phase: m[1] as Phase, reason: (m[2] as string) || 'no reason reported' };
  return { phase: null, reason };
}

export function nodeStatus(
  spec: ClusterSpec,
  nodeId: string,
  node: NodeObservation | undefined,
  desiredRevision = computeRevision(spec, nodeId),
  az = spec.nodes.find((n) => n.id === nodeId)?.az ?? '',
): NodeStatus {
  const group = node?.group ?? null;
  const instances = node?.instances ?? [];
  const live = node ? liveInstances(node) : [];
  const current = newest(live);
  const leaving = instances.filter((i) => !live.includes(i) && i.ec2State !== 'terminated');
  const failedOnDesired = newest(instances.filter((i) => i.phase === 'failed' && i.revision === desiredRevision));
  const failure: NodeFailure | null = failedOnDesired
    ? { instanceId: failedOnDesired.instanceId, launchedAtMs: failedOnDesired.launchedAtMs, ...parseFailureReason(failedOnDesired.phaseReason) }
    : null;
  const disruption = current?.disruption ?? null;
  const serving =
    !!current &&
    current.lifecycleState === 'InService' &&
    current.ec2State === 'running' &&
    current.healthStatus === 'Healthy' &&
    current.phase !== 'failed';
  const paused = group?.pausedAtMs !== undefined && group.pausedAtMs !== null;
  // A paused node is down, also while the instance it had is still on its way out.
  // `stopping`: a spot node's watcher saw the interruption notice and is stopping the member.
  const healthy = serving && !disruption && !paused && current.phase !== 'stopping';
  let state: NodeState;
  if (!group) state = 'absent';
  else if (paused) state = 'paused';
  else if (current?.phase === 'failed') state = 'failed';
  else if (serving && (disruption || current.phase === 'stopping')) state = 'interrupted';
  else if (healthy) state = 'in-service';
  else if (current) state = current.lifecycleState === 'InService' ? 'healthy' : (current.phase ?? 'launching');
  else if (leaving.length > 0) state = 'replacing';
  else state = 'missing-instance';
  return {
    nodeId,
    desiredRevision,
    provisioned: !!group,
    templateOutdated: !!group && group.revision !== desiredRevision,
    current,
    leaving,
    revision: current?.revision ?? null,
    outdated: !current || current.revision !== desiredRevision,
    healthy,
    paused,
    disruption,
    az,
    state,
    phase: current?.phase ?? null,
    failure,
    lastActivityError: group?.lastActivityError ?? null,
    cause: failure
      ? `${failure.phase ? `${failure.phase}: ` : ''}${failure.reason} (instance ${failure.instanceId})`
      : disruption
        ? `${disruption.kind} announced for ${current?.instanceId ?? '?'}${disruption.deadlineMs !== null ? ` (AWS acts at ${disruption.deadlineMs})` : ''}: ${disruption.detail}`
        : paused
          ? `paused at ${group?.pausedAtMs ?? '?'} (resumeNode() brings it back)`
          : healthy
            ? null
            : (group?.lastActivityError ?? null),
  };
}

export function clusterStatuses(spec: ClusterSpec, observation: ClusterObservation, revisions?: ReadonlyMap<string, string>): NodeStatus[] {
  return spec.nodes.map((n) => nodeStatus(spec, n.id, observation.nodes[n.id], revisions?.get(n.id) ?? computeRevision(spec, n.id), n.az));
}

function newest(list: readonly InstanceObservation[]): InstanceObservation | null {
  let best: InstanceObservation | null = null;
  for (const i of list) {
    if (!best || i.launchedAtMs > best.launchedAtMs || (i.launchedAtMs === best.launchedAtMs && i.instanceId > best.instanceId)) best = i;
  }
  return best;
}
