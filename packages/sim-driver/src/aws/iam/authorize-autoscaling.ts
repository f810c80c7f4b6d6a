// How IAM authorizes the Auto Scaling operations the simulator answers:
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2autoscaling.html
// What Auto Scaling checks on the caller's behalf ("Required permissions from other AWS APIs"):
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-api-permissions.html
// — CreateAutoScalingGroup needs iam:CreateServiceLinkedRole when the default service-linked
// role does not exist yet, iam:PassRole for a launch template's instance profile (and a hook's
// role), ec2:RunInstances to launch with the template, and ec2:CreateTags when the template
// tags instances and volumes. Creating or updating a group with a launch template checks the
// caller's ec2:RunInstances
// (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-launch-template-permissions.html),
// including the resource-level permissions on what the template launches. Stricter reading
// (noted): UpdateAutoScalingGroup with a launch template gets the same ec2:CreateTags and
// iam:PassRole checks as CreateAutoScalingGroup, since it is checked "when created or updated".

import type { SimGroup } from '../../world/entities.js';
import type { AuthorizationCheck, Authorizer, ServiceContext } from '../service.js';
import { check, iamRoleArn, merge, num, obj, objs, regionalArn, requestTagKeys, resourceTagKeys, str, strs, tagList, type Context, type Input } from './authorize-common.js';
import { findLaunchTemplate, launchTemplateData, runInstancesChecks } from './authorize-ec2.js';

const SERVICE_PRINCIPAL = 'autoscaling.amazonaws.com';

/** A group's ARN; for a group that does not exist (yet), its ARN with the unknown group id as `*` (matched literally). */
function groupArn(ctx: ServiceContext, name: string): string {
  return ctx.sim.state.groups.get(name)?.arn ?? regionalArn(ctx, 'autoscaling', `autoScalingGroup:*:autoScalingGroupName/${name}`);
}

function groupTags(g: SimGroup | undefined): Record<string, string> {
  return g ? Object.fromEntries([...g.tags].map(([k, t]) => [k, t.value])) : {};
}

/** The group's ARN with `aws:ResourceTag/<k>` and `autoscaling:ResourceTag/<k>` from its tags now. */
function onGroup(ctx: ServiceContext, action: string, name: string, extra: Context = {}): AuthorizationCheck {
  const g = ctx.sim.state.groups.get(name);
  return check(`autoscaling:${action}`, groupArn(ctx, name), merge(resourceTagKeys(groupTags(g), 'autoscaling'), extra));
}

function byGroupName(action: string): Authorizer {
  return (input, ctx) => [onGroup(ctx, action, str(input, 'AutoScalingGroupName') ?? '')];
}

/** Operations on an instance: authorized on the group that holds it (none: a group ARN that matches no policy's tags). */
function byInstance(action: string): Authorizer {
  return (input, ctx) => {
    const id = str(input, 'InstanceId') ?? '';
    const i = ctx.sim.state.instances.get(id);
    const g = i?.groupName ? ctx.sim.state.groups.get(i.groupName) : undefined;
    if (g) return [onGroup(ctx, action, g.name)];
    return [check(`autoscaling:${action}`, regionalArn(ctx, 'autoscaling', 'autoScalingGroup:*:autoScalingGroupName/*'), {})];
  };
}

function describe(action: string): Authorizer {
  return () => [check(`autoscaling:${action}`, '*', {})];
}

/** The launch template of a create or update (top level, or a mixed instances policy's). */
function launchTemplateRef(input: Input): Input | null {
  return obj(input, 'LaunchTemplate') ?? obj(obj(obj(input, 'MixedInstancesPolicy') ?? {}, 'LaunchTemplate') ?? {}, 'LaunchTemplateSpecification');
}

/** The condition keys Create/UpdateAutoScalingGroup list for the request's own parameters. */
function groupRequestKeys(input: Input, ref: Input | null): Context {
  const out: Context = {};
  const min = num(input, 'MinSize');
  const max = num(input, 'MaxSize');
  if (min !== null) out['autoscaling:MinSize'] = String(min);
  if (max !== null) out['autoscaling:MaxSize'] = String(max);
  const subnets = (str(input, 'VPCZoneIdentifier') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (subnets.length > 0) out['autoscaling:VPCZoneIdentifiers'] = subnets;
  if (ref !== null) {
    // True when a version is pinned rather than `$Latest`/`$Default` (SAR condition keys table).
    const version = str(ref, 'Version');
    out['autoscaling:LaunchTemplateVersionSpecified'] = String(version !== null && version !== '$Latest' && version !== '$Default');
  }
  return out;
}

/** What launching with the group's template asks of the caller: ec2:RunInstances, ec2:CreateTags, iam:PassRole. */
function launchChecks(ctx: ServiceContext, input: Input, ref: Input | null, existing: SimGroup | undefined): AuthorizationCheck[] {
  if (ref === null) return [];
  const lt = findLaunchTemplate(ctx, ref);
  if (!lt) return []; // the request fails on the unknown template
  const data = launchTemplateData(lt, str(ref, 'Version'));
  if (!data) return [];
  const subnetList = str(input, 'VPCZoneIdentifier') ?? existing?.vpcZoneIdentifier ?? '';
  const groupSubnets = subnetList
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const groupAzs = strs(input, 'AvailabilityZones').length > 0 ? strs(input, 'AvailabilityZones') : (existing?.availabilityZones ?? []);
  return runInstancesChecks(ctx, {}, { launchTemplate: lt, templateData: data, groupSubnets, groupAzs });
}

/** iam:PassRole for the roles lifecycle hooks are given (to notify their targets). */
function hookRoles(hooks: readonly Input[]): AuthorizationCheck[] {
  return hooks
    .map((h) => str(h, 'RoleARN'))
    .filter((r): r is string => r !== null)
    .map((role) => check('iam:PassRole', role, { 'iam:PassedToService': SERVICE_PRINCIPAL }));
}

export const AUTOSCALING_AUTHORIZERS: Readonly<Record<string, Authorizer>> = {
  DescribeAutoScalingGroups: describe('DescribeAutoScalingGroups'),
  DescribeAutoScalingInstances: describe('DescribeAutoScalingInstances'),
  DescribeLifecycleHooks: describe('DescribeLifecycleHooks'),
  DescribeScalingActivities: describe('DescribeScalingActivities'),
  DescribeAccountLimits: describe('DescribeAccountLimits'),

  CreateAutoScalingGroup(input, ctx) {
    const name = str(input, 'AutoScalingGroupName') ?? '';
    const ref = launchTemplateRef(input);
    const existing = ctx.sim.state.groups.get(name);
    const tags = tagList(objs(input, 'Tags'));
    const out: AuthorizationCheck[] = [
      check('autoscaling:CreateAutoScalingGroup', groupArn(ctx, name), merge(
        resourceTagKeys(groupTags(existing), 'autoscaling'),
        requestTagKeys(tags),
        groupRequestKeys(input, ref),
      )),
    ];
    // Tags given at creation are also authorized as autoscaling:CreateOrUpdateTags (stricter reading:
    // the Auto Scaling guide's tag-based policy examples grant both actions together with
    // aws:RequestTag conditions; docs/aws-behaviour.md IAM-3).
    if (Object.keys(tags).length > 0) out.push(check('autoscaling:CreateOrUpdateTags', groupArn(ctx, name), requestTagKeys(tags)));
    // The first group of the account creates Auto Scaling's service-linked role.
    if (str(input, 'ServiceLinkedRoleARN') === null && !ctx.sim.iam.serviceLinkedRoles.has(SERVICE_PRINCIPAL)) {
      out.push(check('iam:CreateServiceLinkedRole', iamRoleArn(ctx, `aws-service-role/${SERVICE_PRINCIPAL}/AWSServiceRoleForAutoScaling`), { 'iam:AWSServiceName': SERVICE_PRINCIPAL }));
    }
    // A nondefault service-linked role is passed to the service.
    const slr = str(input, 'ServiceLinkedRoleARN');
    if (slr !== null) out.push(check('iam:PassRole', slr, { 'iam:PassedToService': SERVICE_PRINCIPAL }));
    out.push(...launchChecks(ctx, input, ref, existing));
    out.push(...hookRoles(objs(input, 'LifecycleHookSpecificationList')));
    return out;
  },

  UpdateAutoScalingGroup(input, ctx) {
    const name = str(input, 'AutoScalingGroupName') ?? '';
    const ref = launchTemplateRef(input);
    const existing = ctx.sim.state.groups.get(name);
    return [onGroup(ctx, 'UpdateAutoScalingGroup', name, groupRequestKeys(input, ref)), ...launchChecks(ctx, input, ref, existing)];
  },

  DeleteAutoScalingGroup(input, ctx) {
    const force = input['ForceDelete'];
    return [onGroup(ctx, 'DeleteAutoScalingGroup', str(input, 'AutoScalingGroupName') ?? '', typeof force === 'boolean' ? { 'autoscaling:ForceDelete': String(force) } : {})];
  },

  PutLifecycleHook(input, ctx) {
    return [onGroup(ctx, 'PutLifecycleHook', str(input, 'AutoScalingGroupName') ?? ''), ...hookRoles([input])];
  },
  DeleteLifecycleHook: byGroupName('DeleteLifecycleHook'),
  CompleteLifecycleAction: byGroupName('CompleteLifecycleAction'),
  RecordLifecycleActionHeartbeat: byGroupName('RecordLifecycleActionHeartbeat'),
  SuspendProcesses: byGroupName('SuspendProcesses'),
  ResumeProcesses: byGroupName('ResumeProcesses'),

  // Tags name their groups one by one (ResourceId): one authorization per group, with that group's tags.
  CreateOrUpdateTags(input, ctx) {
    return tagsByGroup(objs(input, 'Tags')).map(([name, tags]) => onGroup(ctx, 'CreateOrUpdateTags', name, requestTagKeys(tags)));
  },
  DeleteTags(input, ctx) {
    return tagsByGroup(objs(input, 'Tags')).map(([name, tags]) => onGroup(ctx, 'DeleteTags', name, merge(requestTagKeys(tags), { 'aws:TagKeys': Object.keys(tags) })));
  },

  TerminateInstanceInAutoScalingGroup: byInstance('TerminateInstanceInAutoScalingGroup'),
  SetInstanceHealth: byInstance('SetInstanceHealth'),
};

function tagsByGroup(list: readonly Input[]): [string, Record<string, string>][] {
  const by = new Map<string, Input[]>();
  for (const t of list) {
    const name = str(t, 'ResourceId') ?? '';
    by.set(name, [...(by.get(name) ?? []), t]);
  }
  return [...by].map(([name, tags]) => [name, tagList(tags)]);
}
