import { DeleteAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateTagsCommand,
  DeleteLaunchTemplateCommand,
  DeleteNetworkInterfaceCommand,
  DeleteVolumeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
} from '@aws-sdk/client-ec2';
import { nodeRecordName, type ClusterSpec, type DeleteNodeResult, type DeletionPolicy, type ResourceChange } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { findNodeEnis, findNodeGroup, findNodeTemplates, findNodeVolumes, nodeFilters } from './discover-node.js';
import { changeRecords, deletion, readARecord, upsert } from './dns-records.js';
import { isNotFound } from './map-aws-error.js';
import { groupName, TAG, tagsToRecord } from './names.js';
import { snapshotOf, waitForSnapshot } from './volume-operations.js';

/**
 * Deletes a node: its group (terminating the instance), templates, DNS records and ENI, then
 * its data volume as `policy` says. `retain` never touches the volume; `snapshot` deletes it
 * only after its final snapshot has completed; `delete` deletes it. Idempotent: each step
 * discovers what is left, and a final snapshot from an interrupted run is reused.
 * The node need not be in the spec any more (that is how nodes are removed).
 */
export async function deleteNode(ctx: AwsContext, spec: ClusterSpec, nodeId: string, policyOverride: DeletionPolicy | undefined, signal?: AbortSignal): Promise<DeleteNodeResult> {
  const nodeSpec = spec.nodes.find((n) => n.id === nodeId);
  const changes: ResourceChange[] = [];

  const group = await findNodeGroup(ctx, spec, nodeId, signal);
  // A node the spec no longer lists keeps the policy it was last applied with: its group's tag,
  // copied onto its volume before the group goes (a run that stops after that still finds it).
  const volumes = nodeSpec || policyOverride ? [] : await findNodeVolumes(ctx, spec, nodeId, signal);
  const fromGroup = nodeSpec || policyOverride ? undefined : recordedPolicy(group?.Tags);
  const policy = policyOverride ?? nodeSpec?.dataVolume.deletionPolicy ?? fromGroup ?? volumes.map((v) => recordedPolicy(v.Tags)).find((p) => p !== undefined) ?? spec.dataVolume.deletionPolicy;
  const untagged = fromGroup ? volumes.filter((v) => v.VolumeId && recordedPolicy(v.Tags) !== fromGroup).map((v) => v.VolumeId as string) : [];
  if (untagged.length > 0) {
    await ctx.call('CreateTags', (abortSignal) => ctx.ec2.send(new CreateTagsCommand({ Resources: untagged, Tags: [{ Key: TAG.deletionPolicy, Value: fromGroup as string }] }), { abortSignal }), { signal });
  }
  if (group) {
    await ctx.call('DeleteAutoScalingGroup', (abortSignal) =>
      ctx.asg.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: groupName(spec.name, nodeId), ForceDelete: true }), { abortSignal }),
    { signal });
    changes.push({ resource: 'auto-scaling-group', action: 'deleted', id: group.AutoScalingGroupName ?? groupName(spec.name, nodeId), detail: 'with its instance and launch hook' });
  }
  // The ENI and the volume are held until the instance has terminated.
  await ctx.waitFor(`node ${nodeId}'s instances to terminate`, async () => {
    const r = await ctx.call('DescribeInstances', (abortSignal) =>
      ctx.ec2.send(
        new DescribeInstancesCommand({
          Filters: [...nodeFilters(spec, nodeId), { Name: 'instance-state-name', Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped'] }],
        }),
        { abortSignal },
      ),
    { signal });
    return (r.Reservations ?? []).some((res) => (res.Instances ?? []).length > 0) ? undefined : true;
  }, signal);

  for (const t of await findNodeTemplates(ctx, spec, nodeId, signal)) {
    if (!t.LaunchTemplateId) continue;
    await ctx.call('DeleteLaunchTemplate', (abortSignal) => ctx.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: t.LaunchTemplateId }), { abortSignal }), { signal });
    changes.push({ resource: 'launch-template', action: 'deleted', id: t.LaunchTemplateId, detail: t.LaunchTemplateName });
  }

  const enis = await findNodeEnis(ctx, spec, nodeId, signal);
  const ip = nodeSpec?.ip ?? enis[0]?.PrivateIpAddress ?? null;
  if (spec.dns) {
    const zone = spec.dns.hostedZoneId;
    const batch = [];
    const own = await readARecord(ctx, zone, nodeRecordName(spec.dns, nodeId), signal);
    if (own) {
      batch.push(deletion(own));
      changes.push({ resource: 'dns-record', action: 'deleted', id: own.name });
    }
    const cluster = await readARecord(ctx, zone, spec.dns.clusterRecord, signal);
    if (cluster && ip !== null && cluster.values.includes(ip)) {
      const rest = cluster.values.filter((v) => v !== ip);
      batch.push(rest.length > 0 ? upsert(cluster.name, cluster.ttl, rest) : deletion(cluster));
      changes.push({ resource: 'dns-record', action: rest.length > 0 ? 'updated' : 'deleted', id: cluster.name, detail: `without ${ip}` });
    }
    await changeRecords(ctx, zone, batch, `berth ${spec.name}: delete node ${nodeId}`, signal);
  }

  for (const e of enis) {
    const id = e.NetworkInterfaceId;
    if (!id) continue;
    await ctx.waitFor(`network interface ${id} to be released`, async () => {
      const r = await ctx.call('DescribeNetworkInterfaces', (abortSignal) => ctx.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }), { abortSignal }), { signal });
      return r.NetworkInterfaces?.[0]?.Attachment?.InstanceId ? undefined : true;
    }, signal);
    try {
      await ctx.call('DeleteNetworkInterface', (abortSignal) => ctx.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id }), { abortSignal }), { signal });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    changes.push({ resource: 'network-interface', action: 'deleted', id, detail: e.PrivateIpAddress });
  }

  let snapshotId: string | null = null;
  for (const v of await findNodeVolumes(ctx, spec, nodeId, signal)) {
    const volumeId = v.VolumeId;
    if (!volumeId) continue;
    if (policy === 'retain') {
      changes.push({ resource: 'volume', action: 'retained', id: volumeId, detail: `deletionPolicy retain: ${v.Size} GiB in ${v.AvailabilityZone}, still tagged ${TAG.node}=${nodeId}` });
      continue;
    }
    await ctx.waitFor(`volume ${volumeId} to detach`, async () => {
      const r = await ctx.call('DescribeVolumes', (abortSignal) => ctx.ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }), { abortSignal }), { signal });
      const cur = r.Volumes?.[0];
      return !cur || cur.State === 'available' ? true : undefined;
    }, signal);
    if (policy === 'snapshot') {
      snapshotId = await finalSnapshot(ctx, spec, nodeId, volumeId, signal);
      changes.push({ resource: 'volume', action: 'snapshotted', id: volumeId, detail: snapshotId });
    }
    try {
      await ctx.call('DeleteVolume', (abortSignal) => ctx.ec2.send(new DeleteVolumeCommand({ VolumeId: volumeId }), { abortSignal }), { signal });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    changes.push({ resource: 'volume', action: 'deleted', id: volumeId, ...(snapshotId !== null && { detail: `after snapshot ${snapshotId} completed` }) });
  }
  return Object.freeze({ nodeId, changes: Object.freeze(changes), snapshotId });
}

/** Reuses a final snapshot a previous (interrupted) run already took, else takes one; waits for it. */
async function finalSnapshot(ctx: AwsContext, spec: ClusterSpec, nodeId: string, volumeId: string, signal?: AbortSignal): Promise<string> {
  const r = await ctx.call('DescribeSnapshots', (abortSignal) =>
    ctx.ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: `tag:${TAG.finalSnapshotOf}`, Values: [volumeId] }], OwnerIds: ['self'] }), { abortSignal }),
  { signal });
  const prior = (r.Snapshots ?? []).find((s) => s.State !== 'error' && s.SnapshotId);
  const snapshotId =
    prior?.SnapshotId ??
    (await snapshotOf(ctx, spec, nodeId, volumeId, { description: `berth ${spec.name}/${nodeId}: final snapshot of ${volumeId}`, extraTags: { [TAG.finalSnapshotOf]: volumeId }, ...(signal && { signal }) })).snapshotId;
  await waitForSnapshot(ctx, snapshotId, signal);
  return snapshotId;
}

/** The deletion policy ensureNode recorded on the node's group (`berth:deletion-policy`), if any. */
function recordedPolicy(tags: Parameters<typeof tagsToRecord>[0]): DeletionPolicy | undefined {
  const v = tagsToRecord(tags)[TAG.deletionPolicy];
  return v === 'retain' || v === 'snapshot' || v === 'delete' ? v : undefined;
}
