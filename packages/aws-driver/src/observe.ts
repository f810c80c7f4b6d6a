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
import type { ClusterObservation, ClusterSpec, DnsRecordObservation, InstanceDisruption, ObserveScope } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { clusterRecordNames, listARecords } from './dns-records.js';
import { groupName, groupNamePrefix, TAG } from './names.js';
import { GROUP_REFRESH_MS, ObservationCache, type ClusterGroups } from './observe-cache.js';
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
 * count (docs/aws-driver.md "Observation"): every describe is filtered by the `berth:cluster`
 * tag at the largest page. An `instances` look is one DescribeInstances while the clusters'
 * instances fit in a page (EC2-13), else two (the live instances, EC2-14, and the failed ones
 * of any state) plus one DescribeAutoScalingGroups by name
 * for the groups whose node is in flight (ASG-33; none when every node is settled; every group
 * by tag on the first look or a `full` one; settled groups described more than GROUP_REFRESH_MS
 * ago fill the rest of that one call, oldest first) plus, only when a group looks stuck, one DescribeScalingActivities (ASG-34).
 * `full` adds DescribeNetworkInterfaces, DescribeVolumes, ListResourceRecordSets and
 * DescribeInstanceStatus (the region's instances with a scheduled event — it takes no tag
 * filter —, not on moto). `groups` describes the groups in flight at the last look (or every
 * group) and nothing else. Instances carry the disruption AWS announced for them
 * (`disruption`): a spot interruption warning the change queue brought, or a scheduled event
 * the last full look found. A volume's modification history (DescribeVolumesModifications) is
 * not looked at here: apply() asks for it only when it plans a volume change. `cache` is the
 * driver's memory of the groups (without it, every look describes every group).
 */
export async function observeCluster(ctx: AwsContext, spec: ClusterSpec, scope: ObserveScope, signal?: AbortSignal, cache?: ObservationCache): Promise<ClusterObservation> {
  return (await observeClusters(ctx, [spec], scope, signal, cache))[0] as ClusterObservation;
}

/** Clusters a shared EC2 describe names at once: their names and the five states stay within 200 filter values (API-8). */
const CLUSTERS_PER_CALL = 150;

/**
 * {@link observeCluster} for several clusters of the driver's region and account at once, with
 * one set of describes: each filter names every cluster (`tag:berth:cluster`, up to
 * {@link CLUSTERS_PER_CALL} a call), the groups in flight of all of them are described together
 * by name, and the answers are split by the `berth:cluster` tag. Each cluster gets the
 * observation it would get alone, in the order given (a spec given twice is observed once).
 */
export async function observeClusters(ctx: AwsContext, specs: readonly ClusterSpec[], scope: ObserveScope, signal?: AbortSignal, cache?: ObservationCache): Promise<ClusterObservation[]> {
  const startedAtMs = ctx.clock.now();
  const memory = cache ?? new ObservationCache();
  const byName = new Map<string, ClusterSpec>();
  for (const sp of specs) if (!byName.has(sp.name)) byName.set(sp.name, sp);
  const clusters = [...byName.values()];
  const keyOf = (name: string) => `${ctx.config.region}/${name}`;
  const remembered = new Map(clusters.map((sp) => [sp.name, memory.cluster(keyOf(sp.name))]));
  const changed = new Map(clusters.map((sp) => [sp.name, cache?.takeChanged(groupNamePrefix(sp.name)) ?? new Set<string>()]));
  const size = ctx.config.pageSize;
  const chunks: string[][] = [];
  for (let i = 0; i < clusters.length; i += CLUSTERS_PER_CALL) chunks.push(clusters.slice(i, i + CLUSTERS_PER_CALL).map((sp) => sp.name));
  const clusterFilter = (names: string[]) => ({ Name: `tag:${TAG.cluster}`, Values: names });
  const each = async <T>(fetch: (names: string[]) => Promise<T[]>): Promise<T[]> => (await Promise.all(chunks.map(fetch))).flat();
  const split = <T>(items: readonly T[], tags: (item: T) => readonly { Key?: string; Value?: string }[] | undefined): Map<string, T[]> => {
    const out = new Map<string, T[]>(clusters.map((sp) => [sp.name, []]));
    for (const item of items) out.get(tagValue(tags(item), TAG.cluster) ?? '')?.push(item);
    return out;
  };
  // How many instances (terminated ones included) each cluster's last look returned: it picks
  // one describe or two for the next.
  const countSeen = (names: readonly string[], instances: readonly Instance[]) => {
    const per = new Map<string, number>(names.map((n) => [n, 0]));
    for (const i of instances) {
      const name = tagValue(i.Tags, TAG.cluster) ?? '';
      if (per.has(name)) per.set(name, (per.get(name) as number) + 1);
    }
    for (const [name, n] of per) {
      const c = remembered.get(name);
      if (c) c.instancesSeen = n;
    }
  };
  try {
    const instancesOf = new Map<string, Instance[]>(clusters.map((sp) => [sp.name, []]));
    const groupNames = new Map<string, string[] | null>();
    if (scope === 'groups') {
      // The probe: the groups alone (instances come from what the groups report).
      for (const sp of clusters) groupNames.set(sp.name, probeNames(sp, remembered.get(sp.name)!, changed.get(sp.name)!));
      await describeGroups(ctx, clusters, remembered, groupNames, signal, memory);
    } else {
      // A terminated instance that reported `failed` is the node's failure for about an hour, so
      // the look needs the live instances and the failed ones of any state. While the clusters'
      // instances, terminated ones included, fit in one page (EC2-13) one unfiltered describe has
      // both; past that, the live ones (EC2-14 `instance-state-name`) in pages of 1,000 and the
      // failed ones (`berth:phase`) apart — two calls, however many terminated instances a big
      // roll leaves behind.
      const [live, failed] = (
        await Promise.all(
          chunks.map(async (names): Promise<[Instance[], Instance[]]> => {
            const seenBefore = names.reduce((n, name) => n + (remembered.get(name)?.instancesSeen ?? 0), 0);
            if (seenBefore <= ONE_CALL_INSTANCES) {
              const all = await describeInstances(ctx, [clusterFilter(names)], size, signal);
              countSeen(names, all);
              return [all.filter((i) => i.State?.Name !== 'terminated'), all.filter((i) => i.State?.Name === 'terminated' && failedPhase(i))];
            }
            const pair = await Promise.all([
              describeInstances(ctx, [clusterFilter(names), { Name: 'instance-state-name', Values: [...LIVE_STATES] }], size, signal),
              describeInstances(ctx, [clusterFilter(names), { Name: `tag:${TAG.phase}`, Values: ['failed', 'failed:*'] }], size, signal),
            ]);
            countSeen(names, [...pair[0], ...pair[1]]);
            return pair;
          }),
        )
      ).reduce<[Instance[], Instance[]]>((acc, [l, f]) => [acc[0].concat(l), acc[1].concat(f)], [[], []]);
      const liveOf = split(live, (i) => i.Tags);
      const seen = new Set(live.map((i) => i.InstanceId));
      for (const [name, list] of split(failed, (i) => i.Tags)) instancesOf.set(name, [...(liveOf.get(name) ?? []), ...list.filter((i) => !seen.has(i.InstanceId))]);
      for (const sp of clusters) groupNames.set(sp.name, scope === 'full' ? null : inFlightNames(sp, remembered.get(sp.name)!, liveOf.get(sp.name) ?? [], changed.get(sp.name)!, ctx.clock.now()));
      await describeGroups(ctx, clusters, remembered, groupNames, signal, memory);
      for (const sp of clusters) {
        const c = remembered.get(sp.name)!;
        const asked = groupNames.get(sp.name);
        // A group not described now was settled before this look and still is.
        c.inFlight = new Set(asked === null || asked === undefined ? (inFlightNames(sp, c, liveOf.get(sp.name) ?? [], new Set(), null) ?? []) : stillInFlight(c, asked, liveOf.get(sp.name) ?? []));
      }
    }
    const groupsOf = new Map(clusters.map((sp) => [sp.name, [...remembered.get(sp.name)!.groups.values()]]));
    const activities = scope === 'groups' ? [] : await stuckActivities(ctx, [...groupsOf.values()].flat(), signal);
    let enisOf = new Map<string, NetworkInterface[]>();
    let volumesOf = new Map<string, Volume[]>();
    let dnsOf = new Map<string, DnsRecordObservation[] | null>();
    let statuses: InstanceStatus[] | null = null;
    if (scope === 'full') {
      const [enis, volumes, dns, st] = await Promise.all([
        each((names) =>
          pages(async (NextToken) => {
            const r = await ctx.call('DescribeNetworkInterfaces', (abortSignal) =>
              ctx.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [clusterFilter(names)], MaxResults: Math.min(size ?? 1000, 1000), NextToken }), { abortSignal }),
            { signal });
            return [r.NetworkInterfaces ?? [], r.NextToken];
          }),
        ),
        each((names) =>
          pages(async (NextToken) => {
            const r = await ctx.call('DescribeVolumes', (abortSignal) =>
              ctx.ec2.send(new DescribeVolumesCommand({ Filters: [clusterFilter(names), { Name: `tag:${TAG.volume}`, Values: ['data'] }], MaxResults: Math.min(size ?? 1000, 1000), NextToken }), { abortSignal }),
            { signal });
            return [r.Volumes ?? [], r.NextToken];
          }),
        ),
        Promise.all(
          clusters.map(async (sp): Promise<[string, DnsRecordObservation[] | null]> => [
            sp.name,
            sp.dns
              ? (await listARecords(ctx, sp.dns.hostedZoneId, clusterRecordNames(sp), Math.min(size ?? 300, 300), signal)).map((r) => ({ name: r.name, type: 'A' as const, ttl: r.ttl, values: r.values }))
              : null,
          ]),
        ),
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
      enisOf = split(enis, (e) => e.TagSet);
      volumesOf = split(volumes, (v) => v.Tags);
      dnsOf = new Map(dns);
      statuses = st;
    }
    const out = new Map<string, ClusterObservation>();
    const nowMs = ctx.clock.now();
    for (const sp of clusters) {
      const records = {
        groups: groupsOf.get(sp.name) ?? [],
        instances: instancesOf.get(sp.name) ?? [],
        activities,
        networkInterfaces: enisOf.get(sp.name) ?? [],
        volumes: volumesOf.get(sp.name) ?? [],
        dnsRecords: dnsOf.get(sp.name) ?? null,
      };
      const base = assembleObservation(sp.name, scope, records, { nowMs });
      // The settled nodes' instances, whose groups this look may not have described: running in
      // EC2 under the group's `aws:autoscaling:groupName` tag (ASG-37), InService as last described.
      if (scope !== 'groups') {
        for (const node of Object.values(base.nodes)) {
          const group = node.group?.name;
          if (!group) continue;
          for (const i of node.instances) if (i.lifecycleState === 'InService' && i.ec2State === 'running') ctx.sightings.saw(i.instanceId, group, i.lifecycleState, startedAtMs);
        }
      }
      noteDisruptions(ctx, sp, scope, base, statuses);
      out.set(sp.name, withDisruptions(base, (id) => ctx.notices.disruptionOf(id)));
    }
    return specs.map((sp) => out.get(sp.name) as ClusterObservation);
  } catch (err) {
    // The groups this driver changed are described by the next look instead.
    for (const names of changed.values()) cache?.unchanged(names);
    throw err;
  }
}

/**
 * While the instances a look last returned (terminated ones included) are at most this many, the
 * next look describes them all in one call (a page holds 1,000, EC2-13; the margin is for the
 * launches of one look's interval).
 */
const ONE_CALL_INSTANCES = 800;

/** The instance reported `failed` (its `berth:phase` tag). */
function failedPhase(i: Instance): boolean {
  const v = tagValue(i.Tags, TAG.phase);
  return v !== undefined && (v === 'failed' || v.startsWith('failed:'));
}

/** EC2 states of an instance that is not gone (everything but `terminated`). */
const LIVE_STATES = ['pending', 'running', 'shutting-down', 'stopping', 'stopped'] as const;

/** A group whose node is settled has one instance, InService, Healthy, and EC2 running. */
function settled(g: AutoScalingGroup, live: readonly Instance[]): boolean {
  const members = (g.Instances ?? []).filter((i) => !(i.LifecycleState ?? '').startsWith('Terminat'));
  if (members.length !== (g.DesiredCapacity ?? 0) || members.length !== live.length) return false;
  for (const m of members) {
    if (m.LifecycleState !== 'InService' || m.HealthStatus !== 'Healthy') return false;
    const i = live.find((x) => x.InstanceId === m.InstanceId);
    if (!i || i.State?.Name !== 'running') return false;
  }
  return true;
}

/**
 * The groups an `instances` look describes by name (ASG-33): those whose node is in flight — a
 * spec node or live instance with no group remembered, a group whose instances differ from the
 * live ones DescribeInstances shows or are not all InService, Healthy and running, a group this
 * driver changed since the last look — and, to fill one call, the settled groups described more
 * than {@link GROUP_REFRESH_MS} ago, oldest first. Null: describe every group of the cluster by
 * tag instead (nothing remembered yet; `nowMs` null: never).
 */
function inFlightNames(spec: ClusterSpec, c: ClusterGroups, live: readonly Instance[], changed: ReadonlySet<string>, nowMs: number | null): string[] | null {
  if (nowMs !== null && c.describedAllAtMs === null) return null;
  const byGroup = new Map<string, Instance[]>();
  for (const i of live) {
    const nodeId = tagValue(i.Tags, TAG.node);
    if (!nodeId) continue;
    const name = groupName(spec.name, nodeId);
    let list = byGroup.get(name);
    if (!list) byGroup.set(name, (list = []));
    list.push(i);
  }
  const out = new Set<string>(changed);
  for (const n of spec.nodes) if (!c.groups.has(groupName(spec.name, n.id))) out.add(groupName(spec.name, n.id));
  for (const name of byGroup.keys()) if (!c.groups.has(name)) out.add(name);
  for (const [name, g] of c.groups) if (!settled(g, byGroup.get(name) ?? [])) out.add(name);
  if (nowMs !== null) {
    // Settled groups described longer than GROUP_REFRESH_MS ago, oldest first, fill the rest of
    // one call (100 names, ASG-33): a 1,000-node cluster's groups are all described again within
    // ten looks, with no look making ten calls.
    const overdue: [string, number][] = [];
    for (const name of c.groups.keys()) {
      const at = c.describedAt.get(name) ?? -Infinity;
      if (!out.has(name) && nowMs - at >= GROUP_REFRESH_MS) overdue.push([name, at]);
    }
    overdue.sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
    for (const [name] of overdue.slice(0, Math.max(0, REFRESH_NAMES - out.size))) out.add(name);
  }
  return [...out].sort();
}

/** The groups one DescribeAutoScalingGroups names at most (ASG-33, with MaxRecords 100). */
const REFRESH_NAMES = 100;

/** Of the groups a look described by name, those whose node is still in flight. */
function stillInFlight(c: ClusterGroups, names: readonly string[], live: readonly Instance[]): string[] {
  const out: string[] = [];
  for (const name of names) {
    const g = c.groups.get(name);
    if (!g) {
      out.push(name);
      continue;
    }
    const nodeId = tagValue(g.Tags, TAG.node);
    if (!settled(g, live.filter((i) => tagValue(i.Tags, TAG.node) === nodeId))) out.push(name);
  }
  return out;
}

/** The probe's groups: those in flight at the last look and those changed since; every group when none (or nothing remembered). */
function probeNames(spec: ClusterSpec, c: ClusterGroups, changed: ReadonlySet<string>): string[] | null {
  if (c.describedAllAtMs === null) return null;
  const out = new Set([...c.inFlight, ...changed]);
  for (const n of spec.nodes) if (!c.groups.has(groupName(spec.name, n.id))) out.add(groupName(spec.name, n.id));
  return out.size === 0 ? null : [...out].sort();
}

function tagValue(tags: readonly { Key?: string; Value?: string }[] | undefined, key: string): string | undefined {
  for (const t of tags ?? []) if (t.Key === key) return t.Value;
  return undefined;
}

/**
 * Brings each cluster's remembered groups up to date: those `names` gives by name (ASG-33: up to
 * 100 a call with MaxRecords 100), the clusters whose names are null by tag (ASG-13, pages of
 * 100, every group of theirs). A named group not returned is gone. Groups are remembered under
 * the cluster their `berth:cluster` tag names.
 */
async function describeGroups(
  ctx: AwsContext,
  clusters: readonly ClusterSpec[],
  remembered: ReadonlyMap<string, ClusterGroups>,
  names: ReadonlyMap<string, readonly string[] | null>,
  signal: AbortSignal | undefined,
  memory: ObservationCache,
): Promise<void> {
  const size = Math.min(ctx.config.pageSize ?? 100, 100);
  const byTag = clusters.filter((sp) => names.get(sp.name) === null).map((sp) => sp.name);
  const byName = [...new Set(clusters.flatMap((sp) => names.get(sp.name) ?? []))].sort();
  const batches: { Filters?: { Name: string; Values: string[] }[]; AutoScalingGroupNames?: string[] }[] = [];
  for (let i = 0; i < byTag.length; i += 100) batches.push({ Filters: [{ Name: `tag:${TAG.cluster}`, Values: byTag.slice(i, i + 100) }] });
  for (let i = 0; i < byName.length; i += size) batches.push({ AutoScalingGroupNames: byName.slice(i, i + size) });
  const fresh = (
    await Promise.all(
      batches.map((input) =>
        pages(async (NextToken) => {
          const r = await ctx.call('DescribeAutoScalingGroups', (abortSignal) => ctx.asg.send(new DescribeAutoScalingGroupsCommand({ ...input, MaxRecords: size, NextToken }), { abortSignal }), {
            signal,
          });
          return [r.AutoScalingGroups ?? [], r.NextToken];
        }),
      ),
    )
  ).flat();
  const now = ctx.clock.now();
  for (const name of byTag) {
    const c = remembered.get(name)!;
    c.groups.clear();
    c.describedAt.clear();
    c.describedAllAtMs = now;
  }
  for (const sp of clusters) {
    const c = remembered.get(sp.name)!;
    for (const n of names.get(sp.name) ?? []) c.groups.delete(n);
  }
  for (const g of fresh) {
    const c = remembered.get(tagValue(g.Tags, TAG.cluster) ?? '');
    if (!c) continue;
    memory.described(c, g);
    if (g.AutoScalingGroupName) c.describedAt.set(g.AutoScalingGroupName, now);
  }
}

/** Whether a group looks stuck: it wants an instance and has none that is not on its way out. */
function stuck(g: AutoScalingGroup): boolean {
  return (g.DesiredCapacity ?? 0) > 0 && !(g.Instances ?? []).some((i) => !(i.LifecycleState ?? '').startsWith('Terminat'));
}

/** Stuck groups asked by name (one call each); more than this, one region-wide page instead: a look makes at most one such call. */
const PER_GROUP_ACTIVITIES = 1;

/**
 * ASG-34: the scaling activities of the groups that look stuck ({@link stuck}) — what their
 * `lastActivityError` and spot failures come from; none (no call) when no group is. Up to
 * {@link PER_GROUP_ACTIVITIES} groups are asked by name, newest first, a page of 100 each;
 * more, the region's latest 100 in one call (a hint: other groups' activity can push a group's
 * latest failure off the page). A group not asked has no activity error in the observation.
 */
async function stuckActivities(ctx: AwsContext, groups: readonly AutoScalingGroup[], signal: AbortSignal | undefined): Promise<Activity[]> {
  const names = groups.filter(stuck).map((g) => g.AutoScalingGroupName ?? '').filter(Boolean);
  if (names.length === 0) return [];
  const ask = (AutoScalingGroupName?: string) =>
    ctx
      .call('DescribeScalingActivities', (abortSignal) => ctx.asg.send(new DescribeScalingActivitiesCommand({ ...(AutoScalingGroupName && { AutoScalingGroupName }), MaxRecords: 100 }), { abortSignal }), { signal })
      .then((r) => r.Activities ?? []);
  if (names.length > PER_GROUP_ACTIVITIES) {
    const wanted = new Set(names);
    return (await ask()).filter((a) => wanted.has(a.AutoScalingGroupName ?? ''));
  }
  return (await Promise.all(names.map((n) => ask(n)))).flat();
}

/** DescribeInstances by filters, at the largest page (EC2-13: 1,000), every page. */
function describeInstances(ctx: AwsContext, Filters: { Name: string; Values: string[] }[], size: number | null, signal: AbortSignal | undefined): Promise<Instance[]> {
  return pages(async (NextToken) => {
    const r = await ctx.call('DescribeInstances', (abortSignal) => ctx.ec2.send(new DescribeInstancesCommand({ Filters, MaxResults: Math.min(size ?? 1000, 1000), NextToken }), { abortSignal }), {
      signal,
    });
    return [(r.Reservations ?? []).flatMap((res) => res.Instances ?? []), r.NextToken];
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

