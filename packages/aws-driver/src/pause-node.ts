import { CreateOrUpdateTagsCommand, DeleteTagsCommand, UpdateAutoScalingGroupCommand, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { BerthDriverError, type ClusterSpec, type ResourceChange } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { findNodeGroup, nodeSpecOf } from './discover-node.js';
import { groupName, TAG, tagsToRecord } from './names.js';

/**
 * The size ensureNode keeps a group at: 1/1/1, or for a group marked paused (`berth:paused`)
 * min 0, max 1 and its desired capacity as it is (0 once paused; never raised by ensureNode,
 * and never lowered by it either — only setNodePaused, after the controller's quorum check,
 * stops an instance).
 */
export function pausedSize(group: AutoScalingGroup): { min: number; max: number; desired: number; paused: boolean } {
  if (tagsToRecord(group.Tags)[TAG.paused] === undefined) return { min: 1, max: 1, desired: 1, paused: false };
  return { min: 0, max: 1, desired: Math.min(1, Math.max(0, group.DesiredCapacity ?? 0)), paused: true };
}

/**
 * Pauses or resumes one node's group. Pause: the `berth:paused` tag first (so a crash between
 * the two calls leaves a node marked paused, which a retry finishes, never a group at 0 that
 * apply() would take for drift), then `UpdateAutoScalingGroup` min 0 / max 1 / desired 0: Auto
 * Scaling terminates the instance (ASG-20, ASG-21); the ENI and the data volume are detached and
 * stay (ENI-5, EBS-5), the launch template, group, hook and DNS records are untouched. Resume:
 * back to 1/1/1 first — the group launches from its launch template (the node's ENI and IP, and
 * the bootstrap attaches the same volume) — then the tag goes (ASG-22). Idempotent.
 */
export async function setNodePaused(ctx: AwsContext, spec: ClusterSpec, nodeId: string, paused: boolean, atMs: number, signal?: AbortSignal): Promise<readonly ResourceChange[]> {
  nodeSpecOf(spec, nodeId);
  const name = groupName(spec.name, nodeId);
  const group = await findNodeGroup(ctx, spec, nodeId, signal);
  if (!group) {
    throw new BerthDriverError('SetNodePaused', 'NodeNotProvisioned', `node ${nodeId} has no Auto Scaling group ${name}; run ensureNode (controller.apply()) first`);
  }
  const changes: ResourceChange[] = [];
  const marked = tagsToRecord(group.Tags)[TAG.paused] !== undefined;
  const size = `${group.MinSize}/${group.MaxSize}/${group.DesiredCapacity}`;
  const resize = async (to: { MinSize: number; MaxSize: number; DesiredCapacity: number }) => {
    await ctx.call('UpdateAutoScalingGroup', (abortSignal) => ctx.asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, ...to }), { abortSignal }), { signal });
    changes.push({ resource: 'auto-scaling-group', action: 'updated', id: name, detail: `capacity ${size} → ${to.MinSize}/${to.MaxSize}/${to.DesiredCapacity}` });
  };
  if (paused) {
    if (!marked) {
      await ctx.call('CreateOrUpdateTags', (abortSignal) =>
        ctx.asg.send(new CreateOrUpdateTagsCommand({ Tags: [{ ResourceId: name, ResourceType: 'auto-scaling-group', Key: TAG.paused, Value: String(atMs), PropagateAtLaunch: false }] }), { abortSignal }),
      { signal });
      changes.push({ resource: 'auto-scaling-group', action: 'updated', id: name, detail: `tagged ${TAG.paused}=${atMs}` });
    }
    if (group.MinSize !== 0 || group.MaxSize !== 1 || group.DesiredCapacity !== 0) await resize({ MinSize: 0, MaxSize: 1, DesiredCapacity: 0 });
  } else {
    if (group.MinSize !== 1 || group.MaxSize !== 1 || group.DesiredCapacity !== 1) await resize({ MinSize: 1, MaxSize: 1, DesiredCapacity: 1 });
    if (marked) {
      await ctx.call('DeleteTags', (abortSignal) => ctx.asg.send(new DeleteTagsCommand({ Tags: [{ ResourceId: name, ResourceType: 'auto-scaling-group', Key: TAG.paused }] }), { abortSignal }), { signal });
      changes.push({ resource: 'auto-scaling-group', action: 'updated', id: name, detail: `removed ${TAG.paused}` });
    }
  }
  if (changes.length === 0) changes.push({ resource: 'auto-scaling-group', action: 'unchanged', id: name, detail: paused ? 'paused' : 'not paused' });
  return Object.freeze(changes);
}
