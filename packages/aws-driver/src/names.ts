import { createHash } from 'node:crypto';
import type { ClusterSpec } from '@berth/core';

/** Tag keys Berth writes and reads. Users cannot set `berth:*` tags themselves (spec validation). */
export const TAG = Object.freeze({
  cluster: 'berth:cluster',
  node: 'berth:node',
  revision: 'berth:revision',
  /** Written by the node bootstrap: a phase, or `failed:<reason>`. */
  phase: 'berth:phase',
  /** `data` on the node's data volume, `root` on root volumes (so observation can tell them apart). */
  volume: 'berth:volume',
  /** On the group: the name of its launch lifecycle hook, set once ensureNode has verified the hook. */
  launchHook: 'berth:launch-hook',
  /**
   * On the node's data volume and group: the node's IP. The node policy compares it with the
   * caller's `aws:EC2InstanceSourcePrivateIPv4`, so an instance may attach only its own node's
   * volume and complete only its own group's lifecycle action (see iamPolicyFor).
   */
  nodeIp: 'berth:node-ip',
  /** On a snapshot taken by deleteNode: the volume it preserves. */
  finalSnapshotOf: 'berth:final-snapshot-of',
  /**
   * On a launch template: the node's ENI, data volume and security groups it was made for. A
   * roll reads them from the current template to make the next one without rediscovering the
   * node (see update-template.ts).
   */
  templateEni: 'berth:eni-id',
  templateVolume: 'berth:volume-id',
  templateSecurityGroups: 'berth:security-groups',
  /**
   * On a launch template: the template the node's group used when this one was made (absent for
   * a node's first). The chain is the group's history, which tells ensureNode which older
   * templates a rollback may still need (retire-templates.ts).
   */
  templatePrevious: 'berth:previous-template',
  /**
   * On the group: when `setNodePaused` paused the node (clock ms, decimal). While it is on,
   * ensureNode keeps the group at min 0 / max 1 and never raises its desired capacity.
   */
  paused: 'berth:paused',
  /**
   * On the group: `joining` from its creation by a membership step (a node added to a running
   * cluster) until the application took it in, then `member`. Absent: a member (membership.md).
   */
  membership: 'berth:membership',
  /**
   * On the group: the node's deletion policy as last applied. deleteNode follows it for a node
   * the spec no longer lists, so removing a node keeps what its own policy keeps.
   */
  deletionPolicy: 'berth:deletion-policy',
  /**
   * On a spot node's group: when (epoch ms) it fell back to on-demand for want of spot capacity.
   * Its templates then carry the on-demand suffix; Berth removes the tag when it goes back to spot.
   */
  onDemandSince: 'berth:on-demand-since',
});

/** The name suffix of a spot node's on-demand fallback template (same revision, no InstanceMarketOptions). */
export const ON_DEMAND_SUFFIX = '-od';

/** The spec's security groups as the template records them (sorted, comma-separated). */
export function securityGroupsTag(spec: ClusterSpec): string {
  return [...spec.securityGroupIds].sort().join(',');
}

export const LAUNCH_HOOK_NAME = 'berth-launch';

export function groupName(clusterName: string, nodeId: string): string {
  return `${groupNamePrefix(clusterName)}${nodeId}`;
}

/** What every group name of the cluster starts with (the change rule's `prefix` filter). */
export function groupNamePrefix(clusterName: string): string {
  return `berth-${clusterName}-`;
}

/**
 * The node id of one of the cluster's groups (the inverse of {@link groupName}), or null when
 * the name is not of this cluster. Pass `nodeIds` to accept only those: a prefix alone cannot
 * tell cluster `a`'s node `b-1` from cluster `a-b`'s node `1`.
 */
export function nodeIdFromGroupName(clusterName: string, name: string, nodeIds?: Iterable<string>): string | null {
  const prefix = groupNamePrefix(clusterName);
  if (!name.startsWith(prefix) || name.length === prefix.length) return null;
  const nodeId = name.slice(prefix.length);
  if (nodeIds !== undefined && ![...nodeIds].includes(nodeId)) return null;
  return nodeId;
}

/** The cluster's change-notification queue (SQS), unless the driver's `changeQueue.queueName` says otherwise. */
export function changeQueueName(clusterName: string): string {
  return `berth-${clusterName}-changes`;
}

/** The EventBridge rule (default bus) that feeds the cluster's change queue. */
export function changeRuleName(clusterName: string): string {
  return `berth-${clusterName}-changes`;
}

/**
 * The EventBridge rule (default bus) that forwards EC2's spot interruption warnings to the
 * cluster's change queue. They cannot be filtered by cluster: the driver keeps its own instances'.
 */
export function noticeRuleName(clusterName: string): string {
  return `berth-${clusterName}-notices`;
}

/**
 * The EventBridge rule (default bus) that forwards the tag changes of the cluster's instances
 * that touch `berth:phase` (EventBridge's `Tag Change on Resource` events) to the change queue.
 */
export function phaseRuleName(clusterName: string): string {
  return `berth-${clusterName}-phases`;
}

/**
 * One launch template per node and revision (see ensure-node.ts for why not one template with a
 * version per revision). The revision is the name's suffix, so a group's revision is known from
 * DescribeAutoScalingGroups alone.
 *
 * With `binding` (the node's ENI and volume ids), the name carries a short digest of them too:
 * a template's user data and network interface name the node's ENI and volume, so when either
 * is replaced (a lost volume made again) the same revision needs a second template. Only that
 * case uses the bound name; the first template of a revision has the plain one.
 */
export function launchTemplateName(clusterName: string, nodeId: string, revision: string, binding?: { readonly eniId: string; readonly volumeId: string }): string {
  const base = `berth-${clusterName}-${nodeId}-${revision}`;
  if (!binding) return base;
  const digest = createHash('sha256').update(`${binding.eniId}/${binding.volumeId}`).digest('hex').slice(0, 8);
  return `${base}-b${digest}`;
}

const REVISION_SUFFIX = /-(r-[0-9a-f]{16})(?:-b[0-9a-f]{8})?(?:-od)?$/;

export function revisionFromTemplateName(name: string | undefined): string | null {
  if (!name) return null;
  return REVISION_SUFFIX.exec(name)?.[1] ?? null;
}

export function resourceName(clusterName: string, nodeId: string): string {
  return `${clusterName}-${nodeId}`;
}

export interface Tag {
  readonly Key: string;
  readonly Value: string;
}

/** The user's tags plus Berth's identity tags for one node's resource. */
export function nodeTags(spec: ClusterSpec, nodeId: string, extra: Record<string, string> = {}): Tag[] {
  const all: Record<string, string> = {
    ...spec.tags,
    Name: resourceName(spec.name, nodeId),
    [TAG.cluster]: spec.name,
    [TAG.node]: nodeId,
    ...extra,
  };
  return Object.entries(all).map(([Key, Value]) => ({ Key, Value }));
}

export function tagsToRecord(tags: ReadonlyArray<{ Key?: string | undefined; Value?: string | undefined }> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

/** Route 53 returns names with a trailing dot; the spec may or may not have one. */
export function normalizeDnsName(name: string): string {
  return (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
}
