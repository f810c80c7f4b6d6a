import { UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplatesCommand, type LaunchTemplate } from '@aws-sdk/client-ec2';
import { BerthDriverError, type ClusterSpec, type ResourceChange } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { findNodeGroup, nodeSpecOf } from './discover-node.js';
import { isAwsCode, isNotFound } from './map-aws-error.js';
import { groupName, launchTemplateName, ON_DEMAND_SUFFIX, revisionFromTemplateName, TAG, tagsToRecord } from './names.js';

const OPERATION = 'RestoreLaunchTemplate';

/**
 * Points the node's group back at a launch template it used before (a rollback after a failed
 * replacement). The template must be this node's, as ensureNode makes them: tagged with the
 * cluster and the node, and named `berth-<cluster>-<node>-<revision>` (or that name with a
 * binding digest); anything else is refused, naming the node and the template. The running
 * instance is not touched: only the group's next launches use the template (ASG-14).
 * Idempotent: a group already on it is `unchanged`. Two calls (DescribeLaunchTemplates,
 * DescribeAutoScalingGroups) and the update when the group points elsewhere.
 */
export async function restoreLaunchTemplate(
  ctx: AwsContext,
  spec: ClusterSpec,
  nodeId: string,
  to: { readonly launchTemplateId: string; readonly launchTemplateVersion: string },
  signal?: AbortSignal,
): Promise<readonly ResourceChange[]> {
  const node = nodeSpecOf(spec, nodeId);
  if (spec.region !== ctx.config.region) {
    throw new BerthDriverError(OPERATION, 'RegionMismatch', `cluster '${spec.name}' is in ${spec.region} but the driver was created for ${ctx.config.region}; create the driver with region '${spec.region}'`);
  }
  const template = await describeTemplate(ctx, spec, nodeId, to.launchTemplateId, signal);
  const name = template.LaunchTemplateName ?? '?';
  const tags = tagsToRecord(template.Tags);
  const revision = revisionFromTemplateName(template.LaunchTemplateName);
  const plain = revision === null ? null : launchTemplateName(spec.name, node.id, revision);
  // A spot node's on-demand fallback template carries ON_DEMAND_SUFFIX (spot-capacity.ts).
  const namedForNode = plain !== null && (name === plain || name === `${plain}${ON_DEMAND_SUFFIX}` || name.startsWith(`${plain}-b`));
  if (tags[TAG.cluster] !== spec.name || tags[TAG.node] !== node.id || !namedForNode) {
    const owner = tags[TAG.cluster] !== undefined ? `tagged ${TAG.cluster}=${tags[TAG.cluster]} ${TAG.node}=${tags[TAG.node] ?? '?'}` : `without Berth's tags`;
    throw new BerthDriverError(
      OPERATION,
      'LaunchTemplateNotOwned',
      `launch template ${to.launchTemplateId} (${name}, ${owner}) is not node ${node.id}'s of cluster ${spec.name}: ` +
        `Berth points node ${node.id}'s group only at templates named ${launchTemplateName(spec.name, node.id, '<revision>')} and tagged with the cluster and the node. Refusing to restore it.`,
    );
  }
  const version = to.launchTemplateVersion;
  const latest = template.LatestVersionNumber ?? 1;
  const numbered = /^\d+$/.test(version);
  if (!(numbered ? Number(version) >= 1 && Number(version) <= latest : version === '$Latest' || version === '$Default')) {
    throw new BerthDriverError(
      OPERATION,
      'InvalidLaunchTemplateVersion',
      `node ${node.id}: launch template ${to.launchTemplateId} (${name}) has no version '${version}' (it has 1 to ${latest}); refusing to point the group at it.`,
    );
  }

  const group = await findNodeGroup(ctx, spec, node.id, signal);
  const gname = groupName(spec.name, node.id);
  if (!group) {
    throw new BerthDriverError(OPERATION, 'NotProvisioned', `node ${node.id} of cluster ${spec.name} has no Auto Scaling group (${gname}) to point at ${name}; run ensureNode (controller.apply()) first`);
  }
  const current = group.LaunchTemplate;
  if (current?.LaunchTemplateId === to.launchTemplateId && current.Version === version) {
    return Object.freeze([{ resource: 'auto-scaling-group', action: 'unchanged', id: gname, detail: `already on launch template ${name} version ${version}` } satisfies ResourceChange]);
  }
  try {
    await ctx.call('UpdateAutoScalingGroup', (abortSignal) =>
      ctx.asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: gname, LaunchTemplate: { LaunchTemplateId: to.launchTemplateId, Version: version } }), { abortSignal }),
    { signal });
  } catch (err) {
    // Deleted between the two reads: say so rather than pass on Auto Scaling's validation text alone.
    if (isAwsCode(err, 'ValidationError') && /launch template/i.test(err instanceof Error ? err.message : '')) {
      throw new BerthDriverError(OPERATION, 'LaunchTemplateNotFound', `node ${node.id}: Auto Scaling refused launch template ${to.launchTemplateId} (${name}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const image = /ec2:RunInstances on resource: \S*:image\/(ami-[0-9a-z]+)/.exec(err instanceof Error ? err.message : '')?.[1];
    if (image !== undefined && isAwsCode(err, 'AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation')) {
      throw new BerthDriverError(
        OPERATION,
        'AccessDenied',
        `node ${node.id}: the controller may not launch ${image}, the image of launch template ${name}, so its group cannot go back to it. ` +
          `Pointing a group at a template is authorised as a launch of it: generate the controller policy with iamPolicyFor(spec, { rollbackImages: ['${image}'] }) ` +
          `(the images the cluster ran before the roll) and attach it, then restore again.`,
        { cause: err },
      );
    }
    throw err;
  }
  return Object.freeze([
    {
      resource: 'auto-scaling-group',
      action: 'updated',
      id: gname,
      detail: `launch template ${current?.LaunchTemplateName ?? current?.LaunchTemplateId ?? 'none'} version ${current?.Version ?? '?'} → ${name} version ${version} (restored)`,
    } satisfies ResourceChange,
  ]);
}

/** The template by id; a template that does not exist (deleted, or never was) is a clear refusal. */
async function describeTemplate(ctx: AwsContext, spec: ClusterSpec, nodeId: string, id: string, signal?: AbortSignal): Promise<LaunchTemplate> {
  let found: LaunchTemplate | undefined;
  try {
    const r = await ctx.call('DescribeLaunchTemplates', (abortSignal) => ctx.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [id] }), { abortSignal }), { signal });
    found = r.LaunchTemplates?.find((t) => t.LaunchTemplateId === id);
  } catch (err) {
    if (!isNotFound(err) && !isAwsCode(err, 'InvalidLaunchTemplateId.Malformed')) throw err;
    // One this driver just created may not be visible yet (EC2-7): then the mapped error is retryable.
    const retryable = err instanceof BerthDriverError && err.retryable;
    throw new BerthDriverError(
      OPERATION,
      'LaunchTemplateNotFound',
      `launch template ${id} does not exist${retryable ? ' yet' : ''} (deleted, or never made); node ${nodeId} of cluster ${spec.name} cannot go back to it. ` +
        `Roll the node forward to a revision instead (controller.roll() with that spec: ensureNode makes its template again).`,
      { retryable, cause: err },
    );
  }
  if (!found) {
    throw new BerthDriverError(OPERATION, 'LaunchTemplateNotFound', `launch template ${id} does not exist; node ${nodeId} of cluster ${spec.name} cannot go back to it. Roll the node forward to a revision instead.`);
  }
  return found;
}
