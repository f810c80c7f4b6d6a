import { CreateOrUpdateTagsCommand, DeleteTagsCommand, type Activity } from '@aws-sdk/client-auto-scaling';
import type { ClusterSpec, EnsureNodeResult } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { findNodeGroup } from './discover-node.js';
import { ensureNode } from './ensure-node.js';
import { BerthDriverError } from '@berth/core';
import { groupName, TAG, tagsToRecord } from './names.js';

/**
 * SPOT-3/ASG-15: what a group's failed launch says when EC2 had no spot capacity for it. Auto
 * Scaling's status message carries EC2's error code (`InsufficientInstanceCapacity`) and the
 * spot wording ("There is no Spot capacity available that matches your request").
 */
const NO_SPOT_CAPACITY = /InsufficientInstanceCapacity|no Spot capacity/i;

/** Whether a failed launch's message says spot capacity was missing. */
export function isSpotCapacityFailure(message: string | null | undefined): boolean {
  return !!message && NO_SPOT_CAPACITY.test(message);
}

/**
 * For each group, since when its launches have been failing for want of spot capacity: the
 * start of the oldest failed activity in its latest run of such failures (newest first, a run
 * ends at its first other activity). A hint from the region's latest activities (observe.ts).
 */
export function spotUnavailableSince(activities: readonly Activity[]): Map<string, number> {
  const byGroup = new Map<string, Activity[]>();
  for (const a of activities) {
    const g = a.AutoScalingGroupName;
    if (!g) continue;
    let list = byGroup.get(g);
    if (!list) byGroup.set(g, (list = []));
    list.push(a);
  }
  const out = new Map<string, number>();
  for (const [g, list] of byGroup) {
    list.sort((x, y) => (y.StartTime?.getTime() ?? 0) - (x.StartTime?.getTime() ?? 0));
    let since: number | null = null;
    for (const a of list) {
      if (a.StatusCode !== 'Failed' || !isSpotCapacityFailure(a.StatusMessage ?? a.Description)) break;
      since = a.StartTime?.getTime() ?? since;
    }
    if (since !== null) out.set(g, since);
  }
  return out;
}

/** The group's capacity state for its observation: the fallback tag and the spot failures. */
export function capacityOf(tags: Readonly<Record<string, string>>, spotUnavailableSinceMs: number | undefined): { onDemandSinceMs: number | null; spotUnavailableSinceMs: number | null } {
  const raw = tags[TAG.onDemandSince];
  const since = raw === undefined ? null : Number(raw);
  return { onDemandSinceMs: since !== null && Number.isFinite(since) ? since : since === null ? null : 0, spotUnavailableSinceMs: spotUnavailableSinceMs ?? null };
}

/**
 * Moves a spot node's group to on-demand (the fallback) or back to spot. The state is the group's
 * `berth:on-demand-since` tag, written first (on-demand) or removed first (spot): ensureNode
 * reads it to pick the node's template (the `-od` one, without InstanceMarketOptions, or the
 * spot one), so a crash between the two calls converges on the next ensureNode or on a retry.
 * Then ensureNode points the group at that template. Does not touch the running instance.
 */
export async function setCapacityMarket(ctx: AwsContext, spec: ClusterSpec, nodeId: string, market: 'spot' | 'on-demand', signal?: AbortSignal): Promise<EnsureNodeResult> {
  const node = spec.nodes.find((n) => n.id === nodeId);
  if (!node) throw new BerthDriverError('SetCapacityMarket', 'UnknownNode', `no node '${nodeId}' in cluster '${spec.name}'`);
  if (!node.capacity.spot) throw new BerthDriverError('SetCapacityMarket', 'NotSpot', `node ${nodeId} of cluster ${spec.name} is not a spot node (capacity.spot is false): it has no market to switch`);
  const name = groupName(spec.name, nodeId);
  const group = await findNodeGroup(ctx, spec, nodeId, signal);
  if (!group) throw new BerthDriverError('SetCapacityMarket', 'NoGroup', `node ${nodeId} has no Auto Scaling group yet; run apply() first`);
  const tagged = tagsToRecord(group.Tags)[TAG.onDemandSince] !== undefined;
  if (market === 'on-demand' && !tagged) {
    await ctx.call('CreateOrUpdateTags', (abortSignal) =>
      ctx.asg.send(new CreateOrUpdateTagsCommand({ Tags: [{ ResourceId: name, ResourceType: 'auto-scaling-group', Key: TAG.onDemandSince, Value: String(ctx.clock.now()), PropagateAtLaunch: false }] }), { abortSignal }),
    { signal });
  } else if (market === 'spot' && tagged) {
    await ctx.call('DeleteTags', (abortSignal) =>
      ctx.asg.send(new DeleteTagsCommand({ Tags: [{ ResourceId: name, ResourceType: 'auto-scaling-group', Key: TAG.onDemandSince }] }), { abortSignal }),
    { signal });
  }
  return ensureNode(ctx, spec, nodeId, signal);
}
