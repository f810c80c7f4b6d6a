import { type Activity, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import type { Instance, NetworkInterface, Volume } from '@aws-sdk/client-ec2';
import {
  PHASE_ORDER,
  type ClusterObservation,
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
import { LAUNCH_HOOK_NAME, revisionFromTemplateName, TAG, tagsToRecord } from './names.js';
import { capacityOf, spotUnavailableSince } from './spot-capacity.js';

/**
 * What the describes of one look returned for a cluster, as the SDK gives them: the input of
 * {@link assembleObservation}. Records of other clusters may be in the lists (a describe shared
 * by several clusters): only those tagged `berth:cluster` with the cluster's name count
 * (instances: or a member of one of its groups).
 */
export interface ClusterRecords {
  /** DescribeAutoScalingGroups: the cluster's groups, with their instances' lifecycle states. */
  readonly groups: readonly AutoScalingGroup[];
  /** DescribeInstances. */
  readonly instances: readonly Instance[];
  /** DescribeScalingActivities of (some of) the groups, any order: the newest per group tells its last error. */
  readonly activities: readonly Activity[];
  /** DescribeNetworkInterfaces (full scope; empty otherwise). */
  readonly networkInterfaces: readonly NetworkInterface[];
  /** DescribeVolumes of the data volumes (full scope; empty otherwise). */
  readonly volumes: readonly Volume[];
  /** The cluster's A records (full scope with DNS), or null. */
  readonly dnsRecords: readonly DnsRecordObservation[] | null;
}

/** Group records already converted (records are not changed once described: a new describe makes new ones). */
const converted = new WeakMap<AutoScalingGroup, { readonly group: GroupObservation; readonly nodeId: string; readonly clusterName: string }>();

/**
 * Builds the {@link ClusterObservation} of one cluster from raw AWS records: pure (no call, no
 * clock: `nowMs` is the observation's time and the launch time of an instance its group lists
 * but DescribeInstances does not show yet). Instances carry no `disruption` here; see
 * {@link withDisruptions}.
 */
export function assembleObservation(clusterName: string, scope: ObserveScope, records: ClusterRecords, options: { readonly nowMs: number }): ClusterObservation {
  const nodes = new Map<string, { group: GroupObservation | null; instances: InstanceObservation[]; eni: EniObservation | null; volume: VolumeObservation | null }>();
  const slot = (id: string) => {
    let n = nodes.get(id);
    if (!n) nodes.set(id, (n = { group: null, instances: [], eni: null, volume: null }));
    return n;
  };

  const lastActivity = latestActivityByGroup(records.activities);
  const spotUnavailable = spotUnavailableSince(records.activities);
  const asgInstance = new Map<string, { state: string; health: string; az: string; nodeId: string }>();
  for (const g of records.groups) {
    const name = g.AutoScalingGroupName ?? '';
    const activity = lastActivity.get(name);
    const spot = spotUnavailable.get(name);
    // A group record seen before (the driver keeps a settled node's) with no activity to add converts as it did then.
    const known = activity === undefined && spot === undefined ? converted.get(g) : undefined;
    const tags = known ? null : tagsToRecord(g.Tags);
    const nodeId = known ? known.nodeId : tags?.[TAG.node];
    if (!nodeId || (known ? known.clusterName : tags?.[TAG.cluster]) !== clusterName) continue;
    let group = known?.group;
    if (!group) {
      group = Object.freeze({ ...toGroup(g, tags as Record<string, string>, activity), ...capacityOf(tags as Record<string, string>, spot) });
      if (activity === undefined && spot === undefined) converted.set(g, { group, nodeId, clusterName });
    }
    slot(nodeId).group = group;
    for (const i of g.Instances ?? []) {
      if (i.InstanceId) asgInstance.set(i.InstanceId, { state: i.LifecycleState ?? 'Pending', health: i.HealthStatus ?? 'Healthy', az: i.AvailabilityZone ?? '', nodeId });
    }
  }
  const seen = new Set<string>();
  for (const i of records.instances) {
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
      launchedAtMs: options.nowMs,
      healthStatus: a.health === 'Unhealthy' ? 'Unhealthy' : 'Healthy',
      spot: false,
    });
  }
  for (const e of records.networkInterfaces) {
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
  for (const v of [...records.volumes].sort((a, b) => (a.CreateTime?.getTime() ?? 0) - (b.CreateTime?.getTime() ?? 0))) {
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

  const out: Record<string, NodeObservation> = {};
  for (const id of [...nodes.keys()].sort()) {
    const n = nodes.get(id)!;
    n.instances.sort((a, b) => b.launchedAtMs - a.launchedAtMs || a.instanceId.localeCompare(b.instanceId));
    out[id] = Object.freeze({ nodeId: id, group: n.group, instances: Object.freeze(n.instances), eni: n.eni, volume: n.volume });
  }
  return Object.freeze({
    clusterName,
    observedAtMs: options.nowMs,
    scope,
    nodes: Object.freeze(out),
    dnsRecords: records.dnsRecords === null ? null : Object.freeze([...records.dnsRecords]),
  });
}

/**
 * The observation with each live instance's announced disruption (`disruptionOf`, e.g. the
 * driver's notices) on it; the same object when no instance has one. Pure given `disruptionOf`.
 */
export function withDisruptions(observation: ClusterObservation, disruptionOf: (instanceId: string) => InstanceDisruption | null): ClusterObservation {
  let changed: Record<string, NodeObservation> | null = null;
  for (const [id, node] of Object.entries(observation.nodes)) {
    if (!node.instances.some((i) => i.ec2State !== 'terminated' && disruptionOf(i.instanceId))) continue;
    changed ??= { ...observation.nodes };
    const instances = node.instances.map((i) => {
      const disruption = i.ec2State === 'terminated' ? null : disruptionOf(i.instanceId);
      return disruption ? Object.freeze({ ...i, disruption }) : i;
    });
    changed[id] = Object.freeze({ ...node, instances: Object.freeze(instances) });
  }
  return changed === null ? observation : Object.freeze({ ...observation, nodes: Object.freeze(changed) });
}

function latestActivityByGroup(activities: readonly Activity[]): Map<string, Activity> {
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
