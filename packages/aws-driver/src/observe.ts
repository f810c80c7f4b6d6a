import { DescribeAutoScalingGroupsCommand, DescribeScalingActivitiesCommand, type Activity } from '@aws-sdk/client-auto-scaling';
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
import type { ClusterObservation, ClusterSpec, DnsRecordObservation, InstanceDisruption, ObserveScope } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { clusterRecordNames, listARecords } from './dns-records.js';
import { TAG } from './names.js';
import { assembleObservation, withDisruptions } from './observe-assemble.js';

export { assembleObservation, parsePhase, pausedAtOf, withDisruptions, type ClusterRecords } from './observe-assemble.js';

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

  const base = assembleObservation(spec.name, scope, { groups, instances, activities, networkInterfaces: enis, volumes, dnsRecords }, { nowMs: ctx.clock.now() });
  noteDisruptions(ctx, spec, scope, base, statuses);
  return withDisruptions(base, (id) => ctx.notices.disruptionOf(id));
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
  observation: ClusterObservation,
  statuses: readonly InstanceStatus[] | null,
): void {
  const live = new Map<string, string>();
  for (const [nodeId, n] of Object.entries(observation.nodes)) {
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

