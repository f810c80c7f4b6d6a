import { capacityOf, spotUnavailableSince } from './spot-capacity.js';
import { DescribeAutoScalingGroupsCommand, DescribeScalingActivitiesCommand, type Activity, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import {
  DescribeInstanceStatusCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeVolumesCommand,
  type Instance,
  type InstanceStatus,
  type NetworkInterface,
  type Volume,
} from '@aws-sdk/client-ec2';
import {
  PHASE_ORDER,
  type ClusterObservation,
  type ClusterSpec,
  type DnsRecordObservation,
  type Ec2State,
  type EniObservation,
  type GroupObservation,
  type InstanceDisruption,
  type InstanceObservation,
  type LifecycleState,
  type NodeObservation,
  type ObserveScope,
  type Phase,
  type VolumeObservation,
} from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { clusterRecordNames, listARecords } from './dns-records.js';
import { LAUNCH_HOOK_NAME, revisionFromTemplateName, TAG, tagsToRecord } from './names.js';

/** The scheduled event codes Berth counts as an announced disruption (DescribeInstanceStatus `event.code`). */
export const SCHEDULED_EVENT_KINDS: Readonly<Record<string, InstanceDisruption['kind']>> = Object.freeze({
  'instance-retirement': 'scheduled-retirement',
  'instance-stop': 'scheduled-stop',
  'system-reboot': 'scheduled-reboot',
  'instance-reboot': 'scheduled-reboot',
  'system-maintenance': 'scheduled-reboot',
});

/**
 * One snapshot of the whole cluster in a number of calls that does not depend on the node
 * count: every describe is filtered by the `berth:cluster` tag and paginated. With the default
 * page sizes, `instances` scope costs 3 calls and `full` scope 7 (with DNS) for up to ~100
 * nodes: DescribeAutoScalingGroups, DescribeInstances, DescribeScalingActivities, then
 * DescribeNetworkInterfaces, DescribeVolumes, ListResourceRecordSets and DescribeInstanceStatus (the region's instances with a scheduled
 * event — it takes no tag filter —, not on moto). Instances carry the disruption AWS announced
 * for them (`disruption`): a spot interruption warning the change queue brought, or a scheduled
 * event the last full look found. A volume's modification history (DescribeVolumesModifications)
 * is not looked at here: apply() asks for it only when it plans a volume change.
 */
export async function observeCluster(ctx: AwsContext, spec: ClusterSpec, scope: ObserveScope, signal?: AbortSignal): Promise<ClusterObservation> {
  const clusterFilter = [{ Name: `tag:${TAG.cluster}`, Values: [spec.name] }];
  const size = ctx.config.pageSize;

  // The `groups` probe makes the first call only: instances come from what the groups report.
  const probe = scope === 'groups';
  const [groups, instances, activities] = await Promise.all([
    pages(async (NextToken) => {
      const r = await ctx.call('DescribeAutoScalingGroups', (abortSignal) =>
        ctx.asg.send(new DescribeAutoScalingGroupsCommand({ Filters: clusterFilter, MaxRecords: Math.min(size ?? 100, 100), NextToken }), { abortSignal }),
      { signal });
      return [r.AutoScalingGroups ?? [], r.NextToken];
    }),
    probe ? Promise.resolve([] as Instance[]) : pages(async (NextToken) => {
      const r = await ctx.call('DescribeInstances', (abortSignal) =>
        ctx.ec2.send(new DescribeInstancesCommand({ Filters: clusterFilter, MaxResults: Math.min(size ?? 1000, 1000), NextToken }), { abortSignal }),
      { signal });
      return [(r.Reservations ?? []).flatMap((res) => res.Instances ?? []), r.NextToken];
    }),
    // Without a group name: the latest activities of the region, newest first, one page. The
    // latest failed launch of each of our groups (e.g. ENI still in use) is in there unless
    // more than a page of other activity happened since; it is a hint, not a source of truth.
    probe ? Promise.resolve([] as Activity[]) : ctx
      .call('DescribeScalingActivities', (abortSignal) => ctx.asg.send(new DescribeScalingActivitiesCommand({ MaxRecords: 100 }), { abortSignal }), { signal })
      .then((r) => r.Activities ?? []),
  ]);

  let enis: NetworkInterface[] = [];
  let volumes: Volume[] = [];
  let dnsRecords: DnsRecordObservation[] | null = null;
  let statuses: InstanceStatus[] | null = null;
  if (scope === 'full') {
    [enis, volumes, dnsRecords, statuses] = await Promise.all([
      pages(async (NextToken) => {
        const r = await ctx.call('DescribeNetworkInterfaces', (abortSignal) =>
          ctx.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: clusterFilter, MaxResults: Math.min(size ?? 1000, 1000), NextToken }), { abortSignal }),
        { signal });
        return [r.NetworkInterfaces ?? [], r.NextToken];
      }),
      pages(async (NextToken) => {
        const r = await ctx.call('DescribeVolumes', (abortSignal) =>
          ctx.ec2.send(
            new DescribeVolumesCommand({ Filters: [...clusterFilter, { Name: `tag:${TAG.volume}`, Values: ['data'] }], MaxResults: Math.min(size ?? 500, 500), NextToken }),
            { abortSignal },
          ),
        { signal });
        return [r.Volumes ?? [], r.NextToken];
      }),
      spec.dns
        ? listARecords(ctx, spec.dns.hostedZoneId, clusterRecordNames(spec), Math.min(size ?? 300, 300), signal).then((rs) =>
            rs.map((r) => ({ name: r.name, type: 'A' as const, ttl: r.ttl, values: r.values })),
          )
        : Promise.resolve(null),
      // moto 5.2.1 implements no event.* filter (HTTP 500): no scheduled events there.
      ctx.config.emulator === 'moto'
        ? Promise.resolve(null)
        : pages(async (NextToken) => {
            const r = await ctx.call('DescribeInstanceStatus', (abortSignal) =>
              ctx.ec2.send(
                new DescribeInstanceStatusCommand({ Filters: [{ Name: 'event.code', Values: Object.keys(SCHEDULED_EVENT_KINDS) }], MaxResults: Math.min(size ?? 1000, 1000), NextToken }),
                { abortSignal },
              ),
            { signal });
            return [r.InstanceStatuses ?? [], r.NextToken];
          }),
    ]);
  }

  const nodes = new Map<string, { group: GroupObservation | null; instances: InstanceObservation[]; eni: EniObservation | null; volume: VolumeObservation | null }>();
  const slot = (id: string) => {
    let n = nodes.get(id);
    if (!n) nodes.set(id, (n = { group: null, instances: [], eni: null, volume: null }));
    return n;
  };

  const lastActivity = latestActivityByGroup(activities);
  const spotUnavailable = spotUnavailableSince(activities);
  const asgInstance = new Map<string, { state: string; health: string; az: string; nodeId: string }>();
  for (const g of groups) {
    const tags = tagsToRecord(g.Tags);
    const nodeId = tags[TAG.node];
    if (!nodeId || tags[TAG.cluster] !== spec.name) continue;
    slot(nodeId).group = { ...toGroup(g, tags, lastActivity.get(g.AutoScalingGroupName ?? '')), ...capacityOf(tags, spotUnavailable.get(g.AutoScalingGroupName ?? '')) };
    for (const i of g.Instances ?? []) {
      if (i.InstanceId) asgInstance.set(i.InstanceId, { state: i.LifecycleState ?? 'Pending', health: i.HealthStatus ?? 'Healthy', az: i.AvailabilityZone ?? '', nodeId });
    }
  }
  const seen = new Set<string>();
  for (const i of instances) {
    const tags = tagsToRecord(i.Tags);
    const id = i.InstanceId;
    const nodeId = tags[TAG.node] ?? (id ? asgInstance.get(id)?.nodeId : undefined);
    if (!id || !nodeId) continue;
    seen.add(id);
    slot(nodeId).instances.push(toInstance(i, tags, asgInstance.get(id)));
  }
  // In the group but not yet visible to DescribeInstances (eventual consistency).
  for (const [id, a] of asgInstance) {
    if (seen.has(id)) continue;
    slot(a.nodeId).instances.push({
      instanceId: id,
      lifecycleState: a.state as LifecycleState,
      ec2State: 'pending',
      revision: null,
      phase: null,
      phaseReason: null,
      az: a.az,
      launchedAtMs: ctx.clock.now(),
      healthStatus: a.health === 'Unhealthy' ? 'Unhealthy' : 'Healthy',
      spot: false,
    });
  }
  for (const e of enis) {
    const nodeId = tagsToRecord(e.TagSet)[TAG.node];
    if (!nodeId || !e.NetworkInterfaceId) continue;
    const n = slot(nodeId);
    if (n.eni) continue; // several: keep the first, as ensureNode does
    n.eni = {
      eniId: e.NetworkInterfaceId,
      ip: e.PrivateIpAddress ?? '',
      subnetId: e.SubnetId ?? '',
      status: (e.Status === 'associated' ? 'in-use' : (e.Status ?? 'available')) as EniObservation['status'],
      attachedInstanceId: e.Attachment?.InstanceId ?? null,
    };
  }
  for (const v of [...volumes].sort((a, b) => (a.CreateTime?.getTime() ?? 0) - (b.CreateTime?.getTime() ?? 0))) {
    const nodeId = tagsToRecord(v.Tags)[TAG.node];
    if (!nodeId || !v.VolumeId || v.State === 'deleted') continue;
    const n = slot(nodeId);
    if (n.volume) continue;
    n.volume = {
      volumeId: v.VolumeId,
      az: v.AvailabilityZone ?? '',
      sizeGiB: v.Size ?? 0,
      type: v.VolumeType ?? '',
      state: (v.State ?? 'available') as VolumeObservation['state'],
      attachments: (v.Attachments ?? []).map((a) => ({ instanceId: a.InstanceId ?? '', state: (a.State ?? 'attached') as VolumeObservation['attachments'][number]['state'] })),
      iops: v.Iops ?? null,
      throughputMiBps: v.Throughput ?? null,
    };
  }

  noteDisruptions(ctx, spec, scope, nodes, statuses);
  const out: Record<string, NodeObservation> = {};
  for (const id of [...nodes.keys()].sort()) {
    const n = nodes.get(id)!;
    const instances = n.instances.map((i) => {
      const disruption = i.ec2State === 'terminated' ? null : ctx.notices.disruptionOf(i.instanceId);
      return disruption ? Object.freeze({ ...i, disruption }) : i;
    });
    instances.sort((a, b) => b.launchedAtMs - a.launchedAtMs || a.instanceId.localeCompare(b.instanceId));
    out[id] = Object.freeze({ nodeId: id, group: n.group, instances: Object.freeze(instances), eni: n.eni, volume: n.volume });
  }
  return Object.freeze({
    clusterName: spec.name,
    observedAtMs: ctx.clock.now(),
    scope,
    nodes: Object.freeze(out),
    dnsRecords: dnsRecords === null ? null : Object.freeze(dnsRecords),
  });
}

/**
 * Brings the driver's notices up to date with this observation: which instances are which
 * nodes (a spot warning names only the instance), the cluster's scheduled events when the
 * observation looked at them (full scope), and no notices for instances that are gone.
 */
function noteDisruptions(
  ctx: AwsContext,
  spec: ClusterSpec,
  scope: ObserveScope,
  nodes: ReadonlyMap<string, { readonly instances: readonly InstanceObservation[] }>,
  statuses: readonly InstanceStatus[] | null,
): void {
  const live = new Map<string, string>();
  for (const [nodeId, n] of nodes) {
    for (const i of n.instances) {
      ctx.notices.learn(spec.name, i.instanceId, nodeId);
      if (i.ec2State !== 'terminated') live.set(i.instanceId, nodeId);
    }
  }
  if (statuses !== null) {
    const now = ctx.clock.now();
    const scheduled = new Map<string, { nodeId: string; disruption: InstanceDisruption }>();
    for (const st of statuses) {
      const nodeId = st.InstanceId ? live.get(st.InstanceId) : undefined;
      if (!nodeId || !st.InstanceId) continue;
      // A completed or canceled event stays listed for a week, its description so marked.
      const open = (st.Events ?? []).filter((e) => e.Code && SCHEDULED_EVENT_KINDS[e.Code] && !/^\[(Completed|Canceled)\]/i.test(e.Description ?? ''));
      const first = open.sort((a, b) => (a.NotBefore?.getTime() ?? Infinity) - (b.NotBefore?.getTime() ?? Infinity))[0];
      if (!first) continue;
      const kind = SCHEDULED_EVENT_KINDS[first.Code as string] as InstanceDisruption['kind'];
      const seen = ctx.notices.disruptionOf(st.InstanceId);
      scheduled.set(st.InstanceId, {
        nodeId,
        disruption: Object.freeze({
          kind,
          noticedAtMs: seen && seen.kind === kind ? seen.noticedAtMs : now,
          deadlineMs: first.NotBefore?.getTime() ?? null,
          detail: `${first.Code}: ${first.Description ?? 'scheduled event'}`,
        }),
      });
    }
    ctx.notices.replaceStatusNotices(spec.name, scheduled);
  }
  // The groups probe sees only the groups' instances: forget nothing on it.
  if (scope !== 'groups') ctx.notices.forgetGone(spec.name, new Set(live.keys()));
}

async function pages<T>(fetch: (token: string | undefined) => Promise<[T[], string | undefined]>): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const [items, next] = await fetch(token);
    out.push(...items);
    token = next;
  } while (token);
  return out;
}

function latestActivityByGroup(activities: Activity[]): Map<string, Activity> {
  const out = new Map<string, Activity>();
  for (const a of activities) {
    const g = a.AutoScalingGroupName;
    if (!g) continue;
    const cur = out.get(g);
    if (!cur || (a.StartTime?.getTime() ?? 0) > (cur.StartTime?.getTime() ?? 0)) out.set(g, a);
  }
  return out;
}

function toGroup(g: AutoScalingGroup, tags: Record<string, string>, activity: Activity | undefined): GroupObservation {
  const lt = g.LaunchTemplate;
  return {
    name: g.AutoScalingGroupName ?? '',
    minSize: g.MinSize ?? 0,
    maxSize: g.MaxSize ?? 0,
    desiredCapacity: g.DesiredCapacity ?? 0,
    launchTemplateId: lt?.LaunchTemplateId ?? null,
    launchTemplateVersion: lt?.Version ?? null,
    revision: revisionFromTemplateName(lt?.LaunchTemplateName),
    suspendedProcesses: (g.SuspendedProcesses ?? []).map((p) => p.ProcessName ?? '').filter(Boolean),
    // A marker ensureNode sets once it has verified the hook: DescribeLifecycleHooks is per group.
    hasLaunchHook: tags[TAG.launchHook] === LAUNCH_HOOK_NAME,
    lastActivityError:
      activity && (activity.StatusCode === 'Failed' || activity.StatusCode === 'Cancelled') ? (activity.StatusMessage ?? activity.Description ?? activity.StatusCode) : null,
    pausedAtMs: pausedAtOf(tags),
    membership: tags[TAG.membership] === 'joining' ? 'joining' : tags[TAG.membership] === 'member' ? 'member' : null,
  };
}

const PHASES = new Set<string>(PHASE_ORDER);

/** `berth:phase` holds a phase, or `failed:<reason>`. */
export function parsePhase(value: string | undefined): { phase: Phase | null; reason: string | null } {
  if (!value) return { phase: null, reason: null };
  if (value === 'failed' || value.startsWith('failed:')) return { phase: 'failed', reason: value.slice('failed:'.length).trim() || null };
  return PHASES.has(value) || value === 'stopping' ? { phase: value as Phase, reason: null } : { phase: null, reason: null };
}

function toInstance(i: Instance, tags: Record<string, string>, inGroup: { state: string; health: string } | undefined): InstanceObservation {
  const ec2State = (i.State?.Name ?? 'pending') as Ec2State;
  const { phase, reason } = parsePhase(tags[TAG.phase]);
  const lifecycleState: LifecycleState = inGroup ? (inGroup.state as LifecycleState) : ec2State === 'terminated' ? 'Terminated' : 'Detached';
  return {
    instanceId: i.InstanceId ?? '',
    lifecycleState,
    ec2State,
    revision: tags[TAG.revision] ?? null,
    phase,
    phaseReason: reason,
    az: i.Placement?.AvailabilityZone ?? '',
    launchedAtMs: i.LaunchTime?.getTime() ?? 0,
    healthStatus: inGroup?.health === 'Unhealthy' ? 'Unhealthy' : 'Healthy',
    spot: i.InstanceLifecycle === 'spot',
    imageId: i.ImageId ?? null,
    instanceType: i.InstanceType ?? null,
  };
}

/** The group's `berth:paused` mark (setNodePaused), as clock ms; null when absent. A malformed value still marks it paused (at 0). */
export function pausedAtOf(tags: Record<string, string>): number | null {
  const v = tags[TAG.paused];
  if (v === undefined) return null;
  const ms = Number(v);
  return Number.isFinite(ms) && ms >= 0 ? ms : 0;
}
