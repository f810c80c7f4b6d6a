import { CompleteLifecycleActionCommand, DescribeAutoScalingInstancesCommand, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { BerthDriverError, type ClusterSpec } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { nodeSpecOf } from './discover-node.js';
import { isAwsCode } from './map-aws-error.js';
import { groupName, LAUNCH_HOOK_NAME } from './names.js';

/**
 * Terminates the node's instance inside its group without decrementing capacity, so the group
 * launches a replacement into the same node. The call names no group, so the instance's group
 * is checked first: with DescribeAutoScalingInstances, unless the driver's own look saw it
 * InService in the node's group at most `groupSightingMaxAgeMs` ago. Refuses an instance of
 * another group, and one that is in no group but still running. An instance already terminating, or gone from every
 * group and terminated, is a no-op (a retry after success). An id EC2 does not know is an
 * error (`InvalidInstanceID.NotFound`), not a silent success: the caller would otherwise wait
 * for a replacement that never comes.
 */
export async function replaceInstance(ctx: AwsContext, spec: ClusterSpec, nodeId: string, instanceId: string, signal?: AbortSignal): Promise<void> {
  nodeSpecOf(spec, nodeId);
  const group = groupName(spec.name, nodeId);
  // The controller's fresh look just saw it InService in this group: no describe of our own
  // (instance-sightings.ts). Taken once, so a retry describes; a refusal from AWS (it left the
  // group since: ValidationError) falls through to the describe, which says what happened.
  const seen = ctx.sightings.take(instanceId, ctx.clock.now());
  if (seen && seen.groupName === group && seen.lifecycleState === 'InService') {
    try {
      await terminateInGroup(ctx, instanceId, signal);
      return;
    } catch (err) {
      if (!isAwsCode(err, 'ValidationError')) throw err;
    }
  }
  const found = await ctx.call('DescribeAutoScalingInstances', (abortSignal) =>
    ctx.asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }), { abortSignal }),
  { signal });
  const row = found.AutoScalingInstances?.[0];
  if (!row) {
    // Not in any group: terminated since (a retry after success), or not an instance of ours at all.
    const described = await ctx.call('DescribeInstances', (abortSignal) => ctx.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }), { abortSignal }), { signal });
    const instance = described.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
    if (!instance) {
      throw new BerthDriverError('TerminateInstanceInAutoScalingGroup', 'InvalidInstanceID.NotFound', `instance ${instanceId} does not exist; nothing to replace on node ${nodeId}`);
    }
    const state = instance.State?.Name;
    if (state === 'terminated' || state === 'shutting-down') return;
    throw new BerthDriverError(
      'TerminateInstanceInAutoScalingGroup',
      'InstanceNotInNodeGroup',
      `instance ${instanceId} is ${state ?? 'in an unknown state'} and in no Auto Scaling group, not in node ${nodeId}'s group ${group}; refusing to terminate it`,
    );
  }
  if (row.AutoScalingGroupName !== group) {
    throw new BerthDriverError(
      'TerminateInstanceInAutoScalingGroup',
      'InstanceNotInNodeGroup',
      `instance ${instanceId} belongs to group ${row.AutoScalingGroupName}, not to node ${nodeId}'s group ${group}; refusing to terminate it`,
    );
  }
  if (row.LifecycleState?.startsWith('Terminat')) return;
  await terminateInGroup(ctx, instanceId, signal);
}

function terminateInGroup(ctx: AwsContext, instanceId: string, signal?: AbortSignal): Promise<unknown> {
  return ctx.call('TerminateInstanceInAutoScalingGroup', (abortSignal) =>
    ctx.asg.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: false }), { abortSignal }),
  { signal });
}

/**
 * Completes the node's launch lifecycle action. Normally the bootstrap does this on the
 * instance; the controller calls it to abandon a stuck launch or continue after manual repair.
 * A no-op when the backend has no lifecycle hooks (`capabilities.lifecycleHooks` false, e.g.
 * moto, where instances go straight to InService and the API answers HTTP 500).
 */
export async function completeLifecycle(
  ctx: AwsContext,
  spec: ClusterSpec,
  nodeId: string,
  instanceId: string,
  result: 'CONTINUE' | 'ABANDON',
  signal?: AbortSignal,
): Promise<void> {
  nodeSpecOf(spec, nodeId);
  if (!ctx.config.capabilities.lifecycleHooks) return;
  await ctx.call('CompleteLifecycleAction', (abortSignal) =>
    ctx.asg.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: groupName(spec.name, nodeId),
        LifecycleHookName: LAUNCH_HOOK_NAME,
        InstanceId: instanceId,
        LifecycleActionResult: result,
      }),
      { abortSignal },
    ),
  { signal });
}
