import { CompleteLifecycleActionCommand, DescribeAutoScalingInstancesCommand, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { BerthDriverError, type ClusterSpec } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { nodeSpecOf } from './discover-node.js';
import { groupName, LAUNCH_HOOK_NAME } from './names.js';

/**
 * Terminates the node's instance inside its group without decrementing capacity, so the group
 * launches a replacement into the same node. Refuses an instance of another group; an instance
 * already gone from every group is a no-op (a retry after success).
 */
export async function replaceInstance(ctx: AwsContext, spec: ClusterSpec, nodeId: string, instanceId: string, signal?: AbortSignal): Promise<void> {
  nodeSpecOf(spec, nodeId);
  const group = groupName(spec.name, nodeId);
  const found = await ctx.call('DescribeAutoScalingInstances', (abortSignal) =>
    ctx.asg.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }), { abortSignal }),
  { signal });
  const row = found.AutoScalingInstances?.[0];
  if (!row) return;
  if (row.AutoScalingGroupName !== group) {
    throw new BerthDriverError(
      'TerminateInstanceInAutoScalingGroup',
      'InstanceNotInNodeGroup',
      `instance ${instanceId} belongs to group ${row.AutoScalingGroupName}, not to node ${nodeId}'s group ${group}; refusing to terminate it`,
    );
  }
  if (row.LifecycleState?.startsWith('Terminat')) return;
  await ctx.call('TerminateInstanceInAutoScalingGroup', (abortSignal) =>
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
