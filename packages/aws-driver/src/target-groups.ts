import {
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { BerthConfigError, BerthDriverError, type ClusterSpec, type ConfigIssue, type TargetGroupObservation, type TargetHealthObservation, type TargetState } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { isAwsCode } from './map-aws-error.js';
import { partitionOf } from './partition.js';

/** `arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID`. */
const TARGET_GROUP_ARN = /^arn:(aws(?:-cn|-us-gov|-iso[a-z-]*)?):elasticloadbalancing:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):targetgroup\/([A-Za-z0-9-]{1,32})\/([0-9a-f]{16})$/;
const INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;
const STATES: ReadonlySet<string> = new Set<TargetState>(['initial', 'healthy', 'unhealthy', 'unhealthy.draining', 'unused', 'draining', 'unavailable']);

/** ELB-6: what AWS applies when a group leaves these unset. */
const DEFAULT_INTERVAL_SEC = 30;
const DEFAULT_HEALTHY_THRESHOLD = 5;
const DEFAULT_DEREGISTRATION_DELAY_SEC = 300;

/**
 * Bad input, before any call: ARNs that are not target group ARNs of the spec's region and
 * partition (ELBv2 is regional: a group elsewhere can never hold the cluster's instances), and
 * instance ids that are not instance ids.
 */
function checkInput(ctx: AwsContext, spec: ClusterSpec, operation: string, arns: readonly string[], instanceIds: readonly string[] | null): void {
  if (spec.region !== ctx.config.region) {
    throw new BerthDriverError(operation, 'RegionMismatch', `cluster '${spec.name}' is in ${spec.region} but the driver was created for ${ctx.config.region}; create the driver with region '${spec.region}'`);
  }
  const issues: ConfigIssue[] = [];
  const partition = partitionOf(spec.region);
  arns.forEach((arn, i) => {
    const m = TARGET_GROUP_ARN.exec(arn);
    const path = `targetGroupArns[${i}]`;
    if (!m) issues.push({ path, message: `'${arn}' is not a target group ARN; it must look like arn:${partition}:elasticloadbalancing:${spec.region}:123456789012:targetgroup/NAME/0123456789abcdef` });
    else if (m[2] !== spec.region) issues.push({ path, message: `target group ${arn} is in ${m[2]}, but cluster '${spec.name}' is in ${spec.region}: target groups are regional; name one in ${spec.region}` });
    else if (m[1] !== partition) issues.push({ path, message: `target group ${arn} is in partition '${m[1]}', but region ${spec.region} is in '${partition}'; use arn:${partition}:…` });
  });
  (instanceIds ?? []).forEach((id, i) => {
    if (!INSTANCE_ID.test(id)) issues.push({ path: `instanceIds[${i}]`, message: `'${id}' is not an EC2 instance id (i- and 8 or 17 hex digits)` });
  });
  if (issues.length > 0) throw new BerthConfigError(issues, `${operation} for cluster '${spec.name}'`);
}

/** ELB-9: `TargetGroupNotFound`, restated with the ARN it was about and what to do (not retryable). */
function notFound(spec: ClusterSpec, operation: string, arn: string, cause: unknown): BerthDriverError {
  return new BerthDriverError(
    operation,
    'TargetGroupNotFound',
    `target group ${arn} (cluster '${spec.name}', loadBalancer.targetGroupArns) does not exist in this account and region: create it, or correct the ARN in the spec`,
    { retryable: false, cause },
  );
}

/** Runs a call about one group, naming the group when AWS says it does not exist. */
async function aboutGroup<T>(spec: ClusterSpec, operation: string, arn: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isAwsCode(err, 'TargetGroupNotFound')) throw notFound(spec, operation, arn, err);
    throw err;
  }
}

/** DescribeTargetGroups for every ARN at once (paged); on TargetGroupNotFound, which one is found out one by one. */
async function readGroups(ctx: AwsContext, spec: ClusterSpec, arns: readonly string[], signal: AbortSignal | undefined): Promise<Map<string, TargetGroup>> {
  const describe = (TargetGroupArns: string[], Marker?: string) =>
    ctx.call('DescribeTargetGroups', (abortSignal) => ctx.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns, ...(Marker !== undefined && { Marker }) }), { abortSignal }), { signal });
  const out = new Map<string, TargetGroup>();
  try {
    let marker: string | undefined;
    do {
      const page = await describe([...arns], marker);
      for (const g of page.TargetGroups ?? []) if (g.TargetGroupArn) out.set(g.TargetGroupArn, g);
      marker = page.NextMarker;
    } while (marker !== undefined);
  } catch (err) {
    if (!isAwsCode(err, 'TargetGroupNotFound')) throw err;
    // AWS fails the whole call without naming the group (ELB-9): ask for each alone.
    if (arns.length === 1) throw notFound(spec, 'DescribeTargetGroups', arns[0] as string, err);
    for (const arn of arns) await aboutGroup(spec, 'DescribeTargetGroups', arn, () => describe([arn]));
    throw err;
  }
  return out;
}

/**
 * The given target groups with their deregistration delay, health-check timing and every
 * target's health, in the order given. One DescribeTargetGroups for all of them, then one
 * DescribeTargetGroupAttributes and one DescribeTargetHealth per group.
 */
export async function describeTargetGroups(ctx: AwsContext, spec: ClusterSpec, targetGroupArns: readonly string[], signal?: AbortSignal): Promise<TargetGroupObservation[]> {
  checkInput(ctx, spec, 'DescribeTargetGroups', targetGroupArns, null);
  const arns = [...new Set(targetGroupArns)];
  if (arns.length === 0) return [];
  const groups = await readGroups(ctx, spec, arns, signal);
  const out: TargetGroupObservation[] = [];
  for (const arn of arns) {
    const g = groups.get(arn);
    if (!g) throw notFound(spec, 'DescribeTargetGroups', arn, undefined);
    const attrs = await aboutGroup(spec, 'DescribeTargetGroupAttributes', arn, () =>
      ctx.call('DescribeTargetGroupAttributes', (abortSignal) => ctx.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }), { abortSignal }), { signal }),
    );
    const health = await aboutGroup(spec, 'DescribeTargetHealth', arn, () =>
      ctx.call('DescribeTargetHealth', (abortSignal) => ctx.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }), { abortSignal }), { signal }),
    );
    const delay = attrs.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value;
    const delaySec = delay !== undefined && /^\d+$/.test(delay) ? Number(delay) : DEFAULT_DEREGISTRATION_DELAY_SEC;
    const targets: TargetHealthObservation[] = [];
    for (const d of health.TargetHealthDescriptions ?? []) {
      const id = d.Target?.Id;
      if (id === undefined) continue;
      const state = d.TargetHealth?.State;
      targets.push({
        instanceId: id,
        state: state !== undefined && STATES.has(state) ? (state as TargetState) : 'unavailable',
        reason: d.TargetHealth?.Reason ?? null,
      });
    }
    targets.sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0));
    out.push({
      targetGroupArn: arn,
      deregistrationDelayMs: delaySec * 1000,
      healthyAfterMs: (g.HealthyThresholdCount ?? DEFAULT_HEALTHY_THRESHOLD) * (g.HealthCheckIntervalSeconds ?? DEFAULT_INTERVAL_SEC) * 1000,
      targets,
    });
  }
  return out;
}

/** RegisterTargets of the instances in every given group (one call per group). Registering a registered target changes nothing (ELB-10). */
export async function registerTargets(ctx: AwsContext, spec: ClusterSpec, targetGroupArns: readonly string[], instanceIds: readonly string[], signal?: AbortSignal): Promise<void> {
  checkInput(ctx, spec, 'RegisterTargets', targetGroupArns, instanceIds);
  const ids = [...new Set(instanceIds)];
  if (ids.length === 0) return;
  for (const arn of new Set(targetGroupArns)) {
    await aboutGroup(spec, 'RegisterTargets', arn, () =>
      ctx.call('RegisterTargets', (abortSignal) => ctx.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: ids.map((Id) => ({ Id })) }), { abortSignal }), { signal }),
    );
  }
}

/**
 * DeregisterTargets of the instances from every given group (one call per group). A target that
 * is not registered is no error: AWS answers success (ELB-11); an emulator that answers
 * `InvalidTarget` instead gets one call per instance, and those answers are ignored.
 */
export async function deregisterTargets(ctx: AwsContext, spec: ClusterSpec, targetGroupArns: readonly string[], instanceIds: readonly string[], signal?: AbortSignal): Promise<void> {
  checkInput(ctx, spec, 'DeregisterTargets', targetGroupArns, instanceIds);
  const ids = [...new Set(instanceIds)];
  if (ids.length === 0) return;
  const deregister = (arn: string, some: readonly string[]) =>
    aboutGroup(spec, 'DeregisterTargets', arn, () =>
      ctx.call('DeregisterTargets', (abortSignal) => ctx.elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: some.map((Id) => ({ Id })) }), { abortSignal }), { signal }),
    );
  for (const arn of new Set(targetGroupArns)) {
    try {
      await deregister(arn, ids);
    } catch (err) {
      if (!isAwsCode(err, 'InvalidTarget')) throw err;
      if (ids.length === 1) continue;
      for (const id of ids) {
        try {
          await deregister(arn, [id]);
        } catch (e) {
          if (!isAwsCode(e, 'InvalidTarget')) throw e;
        }
      }
    }
  }
}
