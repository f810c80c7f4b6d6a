import { fault } from '../aws-error.js';
import type { OperationHandler, SimService } from '../service.js';
import type { SimContext } from '../../sim-context.js';
import type { SimGroup, SimGroupTag, SimLifecycleHook } from '../../world/entities.js';
import type { FilterInput } from './filters.js';

type In = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function required(input: In, name: string): string {
  const v = str(input[name]);
  if (v === null) throw fault('ValidationError', `1 validation error detected: Value null at '${name[0]?.toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
  return v;
}

function templateSpec(input: In): { id: string | null; name: string | null; version: string } | undefined {
  const lt = input['LaunchTemplate'] as { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string } | undefined;
  if (!lt) return undefined;
  const id = str(lt.LaunchTemplateId);
  const name = str(lt.LaunchTemplateName);
  if ((id === null) === (name === null)) throw fault('ValidationError', 'Valid requests must contain either launchTemplateId or launchTemplateName');
  return { id, name, version: lt.Version ?? '$Default' };
}

function hookOf(h: In, groupDefault: string | null): SimLifecycleHook {
  const name = str(h['LifecycleHookName']);
  if (!name) throw fault('ValidationError', 'LifecycleHookName is required');
  const transition = str(h['LifecycleTransition']);
  if (transition !== 'autoscaling:EC2_INSTANCE_LAUNCHING' && transition !== 'autoscaling:EC2_INSTANCE_TERMINATING') {
    throw fault('ValidationError', `Invalid Lifecycle Transition ${transition ?? '(none)'}`);
  }
  const heartbeat = num(h['HeartbeatTimeout']) ?? 3600;
  if (heartbeat < 30 || heartbeat > 7200) throw fault('ValidationError', `Heartbeat timeout ${heartbeat} is out of range: it must be between 30 and 7200 seconds.`);
  const result = str(h['DefaultResult']) ?? groupDefault ?? 'ABANDON';
  if (result !== 'CONTINUE' && result !== 'ABANDON') throw fault('ValidationError', `DefaultResult must be CONTINUE or ABANDON, got ${result}`);
  return { name, transition, heartbeatTimeoutSec: heartbeat, defaultResult: result };
}

function tagsOf(input: In, groupName: string | null): Map<string, SimGroupTag> {
  const list = Array.isArray(input['Tags']) ? (input['Tags'] as In[]) : [];
  const out = new Map<string, SimGroupTag>();
  for (const t of list) {
    const key = str(t['Key']);
    if (!key) throw fault('ValidationError', 'Tag key must not be empty');
    const rid = str(t['ResourceId']);
    if (groupName !== null && rid !== null && rid !== groupName) throw fault('ValidationError', `Tag ResourceId ${rid} does not match the group ${groupName}`);
    out.set(key, { value: typeof t['Value'] === 'string' ? (t['Value'] as string) : '', propagateAtLaunch: t['PropagateAtLaunch'] === true });
  }
  return out;
}

function groupOut(sim: SimContext, g: SimGroup): Record<string, unknown> {
  return {
    AutoScalingGroupName: g.name,
    AutoScalingGroupARN: g.arn,
    LaunchTemplate: { LaunchTemplateId: g.launchTemplate.id, LaunchTemplateName: g.launchTemplate.name, Version: g.launchTemplate.version },
    MinSize: g.minSize,
    MaxSize: g.maxSize,
    DesiredCapacity: g.desiredCapacity,
    DefaultCooldown: 300,
    AvailabilityZones: [...g.availabilityZones],
    ...(g.vpcZoneIdentifier !== '' && { VPCZoneIdentifier: g.vpcZoneIdentifier }),
    HealthCheckType: 'EC2',
    HealthCheckGracePeriod: 300,
    Instances: g.instanceIds.flatMap((id) => {
      const i = sim.state.instances.get(id);
      return i
        ? [{ InstanceId: i.id, InstanceType: i.instanceType, AvailabilityZone: i.az, LifecycleState: i.lifecycleState, HealthStatus: i.healthStatus, LaunchTemplate: i.launchTemplate ? { LaunchTemplateId: i.launchTemplate.id, LaunchTemplateName: i.launchTemplate.name, Version: String(i.launchTemplate.version) } : undefined, ProtectedFromScaleIn: false }]
        : [];
    }),
    CreatedTime: new Date(g.createdAtMs),
    SuspendedProcesses: [...g.suspended].sort().map((p) => ({ ProcessName: p, SuspensionReason: 'User suspended at ' + new Date(g.createdAtMs).toISOString() })),
    Tags: [...g.tags].map(([Key, t]) => ({ ResourceId: g.name, ResourceType: 'auto-scaling-group', Key, Value: t.value, PropagateAtLaunch: t.propagateAtLaunch })),
    TerminationPolicies: ['Default'],
    ServiceLinkedRoleARN: `arn:${sim.account.partition}:iam::${sim.account.accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
    ...(g.deleting && { Status: 'Delete in progress' }),
  };
}

/** DescribeAutoScalingGroups filters: `tag-key`, `tag-value`, `tag:<key>` (values OR, filters AND). */
function matchesGroupFilters(g: SimGroup, filters: readonly FilterInput[]): boolean {
  return filters.every((f) => {
    const name = f.Name ?? '';
    const values = f.Values ?? [];
    if (name === 'tag-key') return values.some((v) => g.tags.has(v));
    if (name === 'tag-value') return values.some((v) => [...g.tags.values()].some((t) => t.value === v));
    if (name.startsWith('tag:')) {
      const t = g.tags.get(name.slice(4));
      return t !== undefined && values.includes(t.value);
    }
    throw fault('ValidationError', `Filter name ${name} is not valid. Valid filter names: tag-key, tag-value, tag:<key>.`);
  });
}

/** ASG-13: `MaxRecords` pages (`max` the largest page, `dflt` the page without MaxRecords). */
function paged<T>(items: readonly T[], input: In, max: number, dflt: number, what: string): { items: T[]; next: string | undefined } {
  const size = num(input['MaxRecords']) ?? dflt;
  if (size > max) throw fault('ValidationError', `1 validation error detected: Value '${size}' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to ${max}`);
  if (size < 1) throw fault('ValidationError', `1 validation error detected: Value '${size}' at 'maxRecords' failed to satisfy constraint: Member must have value greater than or equal to 1`);
  let start = 0;
  const token = str(input['NextToken']);
  if (token !== null) {
    const m = /^sim:(\d+)$/.exec(token);
    if (!m) throw fault('InvalidNextToken', `The token '${token}' is invalid for ${what}.`);
    start = Number(m[1]);
  }
  const end = Math.min(items.length, start + size);
  return { items: items.slice(start, end), next: end < items.length ? `sim:${end}` : undefined };
}

/**
 * The instance a lifecycle action call names. The simulated account hands out no action tokens
 * (it sends no lifecycle action notifications), so a call by token finds no active action (ASG-5).
 */
function actionInstance(input: In): string {
  const id = str(input['InstanceId']);
  if (id !== null) return id;
  const token = str(input['LifecycleActionToken']);
  if (token !== null) throw fault('ValidationError', `No active Lifecycle Action found with token ${token}`);
  throw fault('ValidationError', 'Either InstanceId or LifecycleActionToken must be provided');
}

function operations(): Record<string, OperationHandler> {
  return {
    DescribeAutoScalingGroups(input, ctx) {
      const { sim } = ctx;
      const names = strs(input['AutoScalingGroupNames']);
      const filters = Array.isArray(input['Filters']) ? (input['Filters'] as FilterInput[]) : [];
      // ASG-33: up to 50 names, or up to MaxRecords (≤ 100, ASG-13) when it is given.
      const nameLimit = num(input['MaxRecords']) ?? 50;
      if (names.length > nameLimit) {
        throw fault('ValidationError', `1 validation error detected: ${names.length} AutoScalingGroupNames exceed the limit of ${nameLimit} (up to 50 names, or up to MaxRecords)`);
      }
      // By name: looked up, not scanned (a name that is no group is left out, as AWS does), in the order asked.
      const candidates = names.length === 0 ? sim.state.groups.values() : [...new Set(names)].flatMap((n) => sim.state.groups.get(n) ?? []);
      const all = [...candidates].filter((g) => matchesGroupFilters(g, filters));
      const p = paged(all, input, 100, 50, 'DescribeAutoScalingGroups');
      return { AutoScalingGroups: p.items.map((g) => groupOut(sim, g)), ...(p.next !== undefined && { NextToken: p.next }) };
    },

    DescribeAutoScalingInstances(input, ctx) {
      const { sim } = ctx;
      const ids = strs(input['InstanceIds']);
      const rows = [...sim.state.instances.values()].filter((i) => i.groupName !== null && sim.state.groups.get(i.groupName)?.instanceIds.includes(i.id) && (ids.length === 0 || ids.includes(i.id)));
      const p = paged(rows, input, 50, 50, 'DescribeAutoScalingInstances');
      return {
        AutoScalingInstances: p.items.map((i) => ({
          InstanceId: i.id,
          InstanceType: i.instanceType,
          AutoScalingGroupName: i.groupName,
          AvailabilityZone: i.az,
          LifecycleState: i.lifecycleState,
          HealthStatus: i.healthStatus === 'Healthy' ? 'HEALTHY' : 'UNHEALTHY',
          ProtectedFromScaleIn: false,
          ...(i.launchTemplate && { LaunchTemplate: { LaunchTemplateId: i.launchTemplate.id, LaunchTemplateName: i.launchTemplate.name, Version: String(i.launchTemplate.version) } }),
        })),
        ...(p.next !== undefined && { NextToken: p.next }),
      };
    },

    DescribeLifecycleHooks(input, ctx) {
      const g = ctx.sim.asg.group(required(input, 'AutoScalingGroupName'));
      const names = strs(input['LifecycleHookNames']);
      return {
        LifecycleHooks: g.hooks
          .filter((h) => names.length === 0 || names.includes(h.name))
          .map((h) => ({
            LifecycleHookName: h.name,
            AutoScalingGroupName: g.name,
            LifecycleTransition: h.transition,
            HeartbeatTimeout: h.heartbeatTimeoutSec,
            GlobalTimeout: Math.min(172800, 100 * h.heartbeatTimeoutSec),
            DefaultResult: h.defaultResult,
          })),
      };
    },

    DescribeScalingActivities(input, ctx) {
      const { sim } = ctx;
      const name = str(input['AutoScalingGroupName']);
      const groups = name === null ? [...sim.state.groups.values()] : [sim.asg.group(name)];
      const all = groups.flatMap((g) => g.activities.map((a) => ({ g, a }))).sort((x, y) => y.a.atMs - x.a.atMs);
      const p = paged(all, input, 100, 100, 'DescribeScalingActivities');
      return {
        Activities: p.items.map(({ g, a }) => ({
          ActivityId: a.activityId,
          AutoScalingGroupName: g.name,
          AutoScalingGroupARN: g.arn,
          Description: a.description,
          Cause: a.cause,
          StartTime: new Date(a.atMs),
          EndTime: new Date(a.atMs),
          StatusCode: a.status,
          ...(a.statusMessage !== null && { StatusMessage: a.statusMessage }),
          Progress: 100,
          Details: '{}',
        })),
        ...(p.next !== undefined && { NextToken: p.next }),
      };
    },

    DescribeAccountLimits(_input, ctx) {
      return { MaxNumberOfAutoScalingGroups: ctx.sim.state.groupQuota, MaxNumberOfLaunchConfigurations: 200, NumberOfAutoScalingGroups: ctx.sim.state.groups.size, NumberOfLaunchConfigurations: 0 };
    },

    CreateAutoScalingGroup(input, ctx) {
      const name = required(input, 'AutoScalingGroupName');
      const lt = templateSpec(input);
      if (!lt) throw fault('ValidationError', 'Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.');
      const min = num(input['MinSize']);
      const max = num(input['MaxSize']);
      if (min === null || max === null) throw fault('ValidationError', 'MinSize and MaxSize are required.');
      const hooks = (Array.isArray(input['LifecycleHookSpecificationList']) ? (input['LifecycleHookSpecificationList'] as In[]) : []).map((h) => hookOf(h, null));
      ctx.sim.asg.createGroup({
        name,
        launchTemplate: lt,
        minSize: min,
        maxSize: max,
        desiredCapacity: num(input['DesiredCapacity']) ?? min,
        availabilityZones: strs(input['AvailabilityZones']),
        vpcZoneIdentifier: str(input['VPCZoneIdentifier']) ?? '',
        hooks,
        tags: tagsOf(input, name),
      });
      return {};
    },

    UpdateAutoScalingGroup(input, ctx) {
      const name = required(input, 'AutoScalingGroupName');
      const lt = templateSpec(input);
      const azs = input['AvailabilityZones'] === undefined ? undefined : strs(input['AvailabilityZones']);
      const vpc = input['VPCZoneIdentifier'] === undefined ? undefined : (str(input['VPCZoneIdentifier']) ?? '');
      ctx.sim.asg.updateGroup(name, {
        ...(lt && { launchTemplate: lt }),
        ...(num(input['MinSize']) !== null && { minSize: num(input['MinSize']) as number }),
        ...(num(input['MaxSize']) !== null && { maxSize: num(input['MaxSize']) as number }),
        ...(num(input['DesiredCapacity']) !== null && { desiredCapacity: num(input['DesiredCapacity']) as number }),
        ...(azs !== undefined && { availabilityZones: azs }),
        ...(vpc !== undefined && { vpcZoneIdentifier: vpc }),
      });
      return {};
    },

    DeleteAutoScalingGroup(input, ctx) {
      ctx.sim.asg.deleteGroup(required(input, 'AutoScalingGroupName'), input['ForceDelete'] === true);
      return {};
    },

    PutLifecycleHook(input, ctx) {
      const name = required(input, 'AutoScalingGroupName');
      const existing = ctx.sim.asg.group(name).hooks.find((h) => h.name === input['LifecycleHookName']);
      ctx.sim.asg.putLifecycleHook(name, hookOf({ LifecycleTransition: existing?.transition, HeartbeatTimeout: existing?.heartbeatTimeoutSec, ...input }, existing?.defaultResult ?? null));
      return {};
    },

    DeleteLifecycleHook(input, ctx) {
      ctx.sim.asg.deleteLifecycleHook(required(input, 'AutoScalingGroupName'), required(input, 'LifecycleHookName'));
      return {};
    },

    CreateOrUpdateTags(input, ctx) {
      const list = Array.isArray(input['Tags']) ? (input['Tags'] as In[]) : [];
      const byGroup = new Map<string, In[]>();
      for (const t of list) {
        if (t['ResourceType'] !== 'auto-scaling-group') throw fault('ValidationError', `ResourceType must be auto-scaling-group`);
        const id = str(t['ResourceId']);
        if (!id) throw fault('ValidationError', 'ResourceId is required');
        byGroup.set(id, [...(byGroup.get(id) ?? []), t]);
      }
      for (const group of byGroup.keys()) ctx.sim.asg.group(group);
      for (const [group, tags] of byGroup) ctx.sim.asg.tagGroup(group, tagsOf({ Tags: tags }, group));
      return {};
    },

    DeleteTags(input, ctx) {
      const list = Array.isArray(input['Tags']) ? (input['Tags'] as In[]) : [];
      for (const t of list) ctx.sim.asg.untagGroup(required(t, 'ResourceId'), [required(t, 'Key')]);
      return {};
    },

    TerminateInstanceInAutoScalingGroup(input, ctx) {
      const inst = ctx.sim.asg.terminateInstanceInGroup(required(input, 'InstanceId'), input['ShouldDecrementDesiredCapacity'] === true);
      return { Activity: { ActivityId: `terminate-${inst.id}`, AutoScalingGroupName: inst.groupName, Description: `Terminating EC2 instance: ${inst.id}`, StatusCode: 'InProgress', StartTime: new Date(ctx.sim.scheduler.nowMs), Cause: 'user request', Progress: 0 } };
    },

    CompleteLifecycleAction(input, ctx) {
      const result = required(input, 'LifecycleActionResult');
      if (result !== 'CONTINUE' && result !== 'ABANDON') throw fault('ValidationError', `LifecycleActionResult must be CONTINUE or ABANDON`);
      const id = actionInstance(input);
      ctx.sim.asg.completeLifecycleAction(required(input, 'AutoScalingGroupName'), required(input, 'LifecycleHookName'), id, result);
      return {};
    },

    RecordLifecycleActionHeartbeat(input, ctx) {
      const id = actionInstance(input);
      ctx.sim.asg.recordHeartbeat(required(input, 'AutoScalingGroupName'), required(input, 'LifecycleHookName'), id);
      return {};
    },

    SuspendProcesses(input, ctx) {
      ctx.sim.asg.suspend(required(input, 'AutoScalingGroupName'), strs(input['ScalingProcesses']).length > 0 ? strs(input['ScalingProcesses']) : ALL_PROCESSES);
      return {};
    },

    ResumeProcesses(input, ctx) {
      ctx.sim.asg.resume(required(input, 'AutoScalingGroupName'), strs(input['ScalingProcesses']).length > 0 ? strs(input['ScalingProcesses']) : ALL_PROCESSES);
      return {};
    },

    SetInstanceHealth(input, ctx) {
      const h = required(input, 'HealthStatus');
      if (h !== 'Healthy' && h !== 'Unhealthy') throw fault('ValidationError', 'HealthStatus must be Healthy or Unhealthy');
      ctx.sim.asg.setInstanceHealth(required(input, 'InstanceId'), h);
      return {};
    },
  };
}

const ALL_PROCESSES = ['Launch', 'Terminate', 'AddToLoadBalancer', 'AlarmNotification', 'AZRebalance', 'HealthCheck', 'InstanceRefresh', 'ReplaceUnhealthy', 'ScheduledActions'];

/** The simulated Auto Scaling API. */
export function createAutoScalingService(): SimService {
  return { name: 'autoscaling', operations: operations() };
}
