import { UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { computeRevision, type ClusterSpec, type EnsureNodeResult, type NodeObservation, type NodeSpec, type ResourceChange } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { knownNodeTemplates } from './discover-node.js';
import { createTemplate, pickTemplate } from './ensure-node.js';
import { isAwsCode, isNotFound } from './map-aws-error.js';
import { retireTemplates } from './retire-templates.js';
import { groupName, ON_DEMAND_SUFFIX, revisionFromTemplateName, securityGroupsTag, TAG, tagsToRecord } from './names.js';

/**
 * ensureNode for a roll: the caller's observation shows the node provisioned (its group of one
 * with the launch hook and a launch template) and only the revision moved. Makes the new
 * revision's launch template from what the current one records (the node's ENI, volume and
 * security groups — tags set by ensureNode) and points the group at it; deletes templates older
 * than the one it replaces and the one before that (retire-templates.ts). The node's templates
 * come from what the driver knows of the cluster's (template-cache.ts: one describe per roll), so
 * this is CreateLaunchTemplate and UpdateAutoScalingGroup, plus a DeleteLaunchTemplate per
 * retired template, instead of a full discovery (ENI, volume, image, group, hook, DNS). Returns null when the hint does not show that case, or the current template does
 * not record what it needs (made by an older Berth), or the security groups changed (the ENI
 * needs updating): the caller then runs the full ensureNode.
 */
export async function updateTemplateOnly(ctx: AwsContext, spec: ClusterSpec, node: NodeSpec, observed: NodeObservation, signal?: AbortSignal): Promise<EnsureNodeResult | null> {
  const g = observed.group;
  const name = groupName(spec.name, node.id);
  // A paused group (pause-node.ts) is at 0/1/0 (or 0/1/1 mid-pause): only its template moves here too.
  const paused = g?.pausedAtMs !== undefined && g?.pausedAtMs !== null;
  const sized = g && (paused ? g.minSize === 0 && g.maxSize === 1 && g.desiredCapacity <= 1 : g.minSize === 1 && g.maxSize === 1 && g.desiredCapacity === 1);
  if (!g || g.name !== name || g.launchTemplateId === null || !sized || !g.hasLaunchHook) return null;
  const revision = computeRevision(spec, node.id);
  let templates = await knownNodeTemplates(ctx, spec, node.id, signal);
  let current = templates.find((t) => t.LaunchTemplateId === g.launchTemplateId);
  if (!current) {
    // The group is on a template the driver did not know of (another process made it): describe again.
    ctx.templates.forget(spec.name);
    templates = await knownNodeTemplates(ctx, spec, node.id, signal);
    current = templates.find((t) => t.LaunchTemplateId === g.launchTemplateId);
    if (!current) return null;
  }
  const recorded = tagsToRecord(current.Tags);
  const eniId = recorded[TAG.templateEni];
  const volumeId = recorded[TAG.templateVolume];
  if (!eniId || !volumeId || recorded[TAG.templateSecurityGroups] !== securityGroupsTag(spec)) return null;
  // The observation saw another ENI or volume than the template names (one was made again): the
  // full run binds a template to the current ones.
  if ((observed.eni && observed.eni.eniId !== eniId) || (observed.volume && observed.volume.volumeId !== volumeId)) return null;
  // A spot node on its on-demand fallback (the group's tag) stays on-demand (spot-capacity.ts).
  const onDemand = node.capacity.spot && g.onDemandSinceMs !== undefined && g.onDemandSinceMs !== null;
  const onDemandNow = (current.LaunchTemplateName ?? '').endsWith(ON_DEMAND_SUFFIX);
  if (revisionFromTemplateName(current.LaunchTemplateName) === revision && g.launchTemplateVersion === '1' && onDemandNow === onDemand) {
    return Object.freeze({ nodeId: node.id, revision, changes: Object.freeze([{ resource: 'launch-template', action: 'unchanged', id: current.LaunchTemplateId as string, detail: current.LaunchTemplateName }] satisfies ResourceChange[]) });
  }
  const changes: ResourceChange[] = [];
  const { existing, name: wanted } = pickTemplate(templates, spec, node, revision, { eniId, volumeId }, onDemand);
  let id: string;
  if (existing?.LaunchTemplateId) {
    id = existing.LaunchTemplateId;
    changes.push({ resource: 'launch-template', action: 'unchanged', id, detail: wanted });
  } else {
    id = await createTemplate(ctx, spec, node, revision, { eniId, volumeId }, wanted, current.LaunchTemplateId ?? null, changes, signal);
  }
  try {
    await ctx.call('UpdateAutoScalingGroup', (abortSignal) =>
      ctx.asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, LaunchTemplate: { LaunchTemplateId: id, Version: '1' } }), { abortSignal }),
    { signal });
  } catch (err) {
    // The group went away since the observation, or the template did (ASG-29, another process
    // retired it): the full ensureNode, which describes everything again, puts it right.
    if (isNotFound(err) || isAwsCode(err, 'ValidationError')) {
      ctx.templates.forget(spec.name);
      return null;
    }
    throw err;
  }
  changes.push({ resource: 'auto-scaling-group', action: 'updated', id: name, detail: `launch template ${current.LaunchTemplateName ?? '?'} → ${wanted}` });
  // Keep the template the group used until now (its instance still runs from it, and a failed
  // replacement goes back to it) and the one before that; older ones go (retire-templates.ts).
  await retireTemplates(ctx, spec.name, templates, id, current.LaunchTemplateId ?? null, changes, signal);
  return Object.freeze({ nodeId: node.id, revision, changes: Object.freeze(changes) });
}
