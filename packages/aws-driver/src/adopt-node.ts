import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeVolumesCommand,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  type Instance,
  type NetworkInterface,
  type Volume,
} from '@aws-sdk/client-ec2';
import { BerthConfigError, BerthDriverError, type AdoptionCheck, type AdoptionSource, type ClusterSpec, type ConfigIssue, type NodeSpec, type ResourceChange } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { nodeSpecOf } from './discover-node.js';
import { isNotFound } from './map-aws-error.js';
import { TAG, tagsToRecord } from './names.js';

/** What one look at the ENI, the volume and the instance they are on found. */
interface Look {
  readonly node: NodeSpec;
  readonly eni: NetworkInterface;
  readonly volume: Volume;
  readonly instance: Instance | null;
  readonly adopted: boolean;
  readonly notes: string[];
}

/**
 * `checkAdoption` (docs/adopt.md): reads the ENI, the volume and the instance they are attached
 * to, and refuses — with every problem at once, each naming the node and the field — unless the
 * ENI carries the node's IP in the node's subnet, the volume is in the node's AZ and fits the
 * spec, both are on the same instance (or free) and neither is another node's or cluster's.
 * With `protect`, then sets DeleteOnTermination=false on the ENI's attachment
 * (ModifyNetworkInterfaceAttribute, ENI-8) and the volume's (ModifyInstanceAttribute, EBS-20),
 * so terminating the unmanaged instance keeps both.
 */
export async function checkAdoption(ctx: AwsContext, spec: ClusterSpec, nodeId: string, source: AdoptionSource, protect: boolean, signal?: AbortSignal): Promise<AdoptionCheck> {
  const look = await lookAt(ctx, spec, nodeId, source, signal);
  const changes: ResourceChange[] = [];
  if (protect && look.instance?.InstanceId && !gone(look.instance)) {
    const instanceId = look.instance.InstanceId;
    const a = look.eni.Attachment;
    if (a?.InstanceId === instanceId && a.AttachmentId && a.DeleteOnTermination !== false) {
      await ctx.call('ModifyNetworkInterfaceAttribute', (abortSignal) =>
        ctx.ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: look.eni.NetworkInterfaceId, Attachment: { AttachmentId: a.AttachmentId, DeleteOnTermination: false } }), { abortSignal }),
      { signal });
      changes.push({ resource: 'network-interface', action: 'updated', id: look.eni.NetworkInterfaceId as string, detail: `DeleteOnTermination=false on its attachment to ${instanceId}: terminating that instance keeps it` });
    }
    // The instance's block-device mapping says what its termination does to the volume.
    const v = look.instance.BlockDeviceMappings?.find((m) => m.Ebs?.VolumeId === look.volume.VolumeId);
    if (v?.DeviceName && v.Ebs?.DeleteOnTermination !== false) {
      await ctx.call('ModifyInstanceAttribute', (abortSignal) =>
        ctx.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, BlockDeviceMappings: [{ DeviceName: v.DeviceName, Ebs: { VolumeId: look.volume.VolumeId, DeleteOnTermination: false } }] }), { abortSignal }),
      { signal });
      changes.push({ resource: 'volume', action: 'updated', id: look.volume.VolumeId as string, detail: `DeleteOnTermination=false on ${instanceId}'s ${v.DeviceName}: terminating that instance keeps it` });
    }
  }
  return result(look, changes);
}

/**
 * `takeOverAdoption`: checks again on a fresh look; refuses while the unmanaged instance is
 * pending, running, stopping or stopped (a primary interface cannot be detached, ENI-4/ENI-9:
 * terminate it); waits until the ENI and the volume are `available` (they free when it
 * terminates, ENI-5/EBS-5); tags both as the node's. Idempotent: a re-run on resources that are
 * the node's already changes nothing.
 */
export async function takeOverAdoption(ctx: AwsContext, spec: ClusterSpec, nodeId: string, source: AdoptionSource, signal?: AbortSignal): Promise<AdoptionCheck> {
  const first = await lookAt(ctx, spec, nodeId, source, signal);
  // Taken over before (a re-run after a crash): the node's own instance may hold them now.
  if (first.adopted) return result(first, []);
  const eniId = first.eni.NetworkInterfaceId as string;
  const volumeId = first.volume.VolumeId as string;
  const inst = first.instance;
  if (inst && !gone(inst) && (first.eni.Status !== 'available' || first.volume.State !== 'available')) {
    const state = inst.State?.Name ?? 'unknown';
    const index = first.eni.Attachment?.InstanceId === inst.InstanceId ? first.eni.Attachment?.DeviceIndex : undefined;
    const primary = index === 0 ? ` ${eniId} is its primary interface (device index 0), which AWS does not detach from a ${state} instance;` : '';
    throw new BerthDriverError(
      'TakeOverAdoption',
      'UnmanagedInstanceNotTerminated',
      `node ${nodeId}: the unmanaged instance ${inst.InstanceId} is ${state}, so its network interface and volume are still attached.${primary} ` +
        `Nothing was detached, attached or tagged. Terminate it (aws ec2 terminate-instances --instance-ids ${inst.InstanceId}): DeleteOnTermination=false is set on ${eniId} and ${volumeId}, so both stay; then adopt again.`,
    );
  }
  // The instance is shutting down or gone: both free once it is terminated.
  const look = await ctx.waitFor(`node ${nodeId}'s network interface ${eniId} and volume ${volumeId} to be available`, async () => {
    const l = await lookAt(ctx, spec, nodeId, source, signal, true);
    return l.eni.Status === 'available' && l.volume.State === 'available' ? l : undefined;
  }, signal);
  const changes: ResourceChange[] = [];
  if (!look.adopted) {
    const node = look.node;
    const tags = { ...spec.tags, [TAG.cluster]: spec.name, [TAG.node]: node.id, [TAG.nodeIp]: node.ip };
    await createTags(ctx, [eniId], tags, signal);
    changes.push({ resource: 'network-interface', action: 'updated', id: eniId, detail: `adopted: tagged ${TAG.cluster}=${spec.name} ${TAG.node}=${node.id}` });
    await createTags(ctx, [volumeId], { ...tags, [TAG.volume]: 'data' }, signal);
    changes.push({ resource: 'volume', action: 'updated', id: volumeId, detail: `adopted: tagged ${TAG.cluster}=${spec.name} ${TAG.node}=${node.id} ${TAG.volume}=data` });
  }
  return result({ ...look, adopted: true }, changes);
}

async function createTags(ctx: AwsContext, ids: string[], tags: Record<string, string>, signal?: AbortSignal): Promise<void> {
  await ctx.call('CreateTags', (abortSignal) => ctx.ec2.send(new CreateTagsCommand({ Resources: ids, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }), { abortSignal }), { signal });
}

function result(look: Look, changes: ResourceChange[]): AdoptionCheck {
  const i = look.instance;
  const a = look.eni.Attachment;
  return Object.freeze({
    nodeId: look.node.id,
    eniId: look.eni.NetworkInterfaceId as string,
    volumeId: look.volume.VolumeId as string,
    instanceId: i?.InstanceId ?? null,
    instanceState: i?.State?.Name ?? null,
    eniDeviceIndex: a?.InstanceId && a.InstanceId === i?.InstanceId ? (a.DeviceIndex ?? null) : null,
    adopted: look.adopted,
    notes: Object.freeze([...look.notes]),
    changes: Object.freeze(changes),
  });
}

const gone = (i: Instance) => i.State?.Name === 'shutting-down' || i.State?.Name === 'terminated';

/** Resolves the source to an ENI and a volume, reads them and their instance, and checks them against the node's spec. */
async function lookAt(ctx: AwsContext, spec: ClusterSpec, nodeId: string, source: AdoptionSource, signal?: AbortSignal, lenient = false): Promise<Look> {
  const node = nodeSpecOf(spec, nodeId);
  const at = `nodes[${spec.nodes.indexOf(node)}].adopt`;
  const subject = `adoption of node ${nodeId}`;
  let eniId = source.eniId;
  let volumeId = source.volumeId;
  let instance: Instance | null = null;
  if (source.instanceId !== undefined) {
    instance = await describeInstance(ctx, source.instanceId, signal);
    if (!instance) throw new BerthConfigError([{ path: 'instanceId', message: `node ${nodeId}: instance ${source.instanceId} does not exist (in ${spec.region})` }], subject);
    const found = fromInstance(node, instance, source, subject);
    if (eniId !== undefined && eniId !== found.eniId) throw new BerthConfigError([{ path: `${at}.eniId`, message: `node ${nodeId}: the spec adopts ${eniId}, but ${instance.InstanceId}'s interface with the node's IP ${node.ip} is ${found.eniId}` }], subject);
    if (volumeId !== undefined && volumeId !== found.volumeId) throw new BerthConfigError([{ path: `${at}.volumeId`, message: `node ${nodeId}: the spec adopts ${volumeId}, but ${instance.InstanceId}'s data volume is ${found.volumeId}` }], subject);
    eniId = found.eniId;
    volumeId = found.volumeId;
  }
  if (eniId === undefined || volumeId === undefined) throw new BerthConfigError([{ path: at, message: `node ${nodeId} names no network interface and volume to adopt` }], subject);
  const eni = await describeOne(ctx, 'eni', eniId, signal);
  const volume = await describeOne(ctx, 'vol', volumeId, signal);
  const issues: ConfigIssue[] = [];
  if (!eni) issues.push({ path: `${at}.eniId`, message: `node ${nodeId}: network interface ${eniId} does not exist (in ${spec.region})${lenient ? ': it was deleted with the unmanaged instance (its DeleteOnTermination was true). The IP is free now: remove adopt.eniId and run apply() to give the node a new interface with it' : ''}` });
  if (!volume) issues.push({ path: `${at}.volumeId`, message: `node ${nodeId}: volume ${volumeId} does not exist (in ${spec.region})${lenient ? ': it was deleted with the unmanaged instance; restore it from a snapshot (dataVolume.snapshotId) instead' : ''}` });
  if (!eni || !volume) throw new BerthConfigError(issues, subject);
  const eniTags = tagsToRecord(eni.TagSet);
  const volTags = tagsToRecord(volume.Tags);
  const owner = (t: Record<string, string>) => (t[TAG.cluster] === undefined ? null : `${t[TAG.cluster]}/${t[TAG.node] ?? '?'}`);
  const mine = `${spec.name}/${node.id}`;
  if (eni.PrivateIpAddress !== node.ip) issues.push({ path: `${at}.eniId`, message: `node ${nodeId}: ${eniId}'s private IP is ${eni.PrivateIpAddress}, the node's ip is ${node.ip}; a node keeps its IP: adopt the interface that carries ${node.ip}, or set the node's ip to ${eni.PrivateIpAddress}` });
  if (eni.SubnetId !== node.subnetId) issues.push({ path: `${at}.eniId`, message: `node ${nodeId}: ${eniId} is in subnet ${eni.SubnetId}, the node's subnet is ${node.subnetId}; an interface never changes subnet: set the node's subnetId to ${eni.SubnetId} (and list it in subnets)` });
  if (volume.AvailabilityZone !== node.az) issues.push({ path: `${at}.volumeId`, message: `node ${nodeId}: ${volumeId} is in ${volume.AvailabilityZone}, the node's subnet ${node.subnetId} is in ${node.az}; a volume attaches only in its own AZ (EBS-1)` });
  const eniOwner = owner(eniTags);
  if (eniOwner !== null && eniOwner !== mine) issues.push({ path: `${at}.eniId`, message: `node ${nodeId}: ${eniId} already belongs to ${eniOwner} (its ${TAG.cluster}/${TAG.node} tags); a node's interface is its own: adopt another one, or delete that node first` });
  const volOwner = owner(volTags);
  if (volOwner !== null && volOwner !== mine) issues.push({ path: `${at}.volumeId`, message: `node ${nodeId}: ${volumeId} already belongs to ${volOwner} (its ${TAG.cluster}/${TAG.node} tags); a node's volume is its own` });
  const dv = node.dataVolume;
  const notes: string[] = [];
  if (volume.VolumeType !== dv.type) issues.push({ path: `${at}.volumeId`, message: `node ${nodeId}: ${volumeId} is ${volume.VolumeType}, the spec says ${dv.type}; set the node's dataVolume.type to '${volume.VolumeType}' to adopt it as it is (change the type later with ModifyVolume)` });
  if ((volume.Size ?? 0) > dv.sizeGiB) issues.push({ path: `${at}.volumeId`, message: `node ${nodeId}: ${volumeId} is ${volume.Size} GiB, the spec says ${dv.sizeGiB} GiB and EBS volumes never shrink; set the node's dataVolume.sizeGiB to at least ${volume.Size}` });
  else if ((volume.Size ?? 0) < dv.sizeGiB) notes.push(`node ${nodeId}: ${volumeId} is ${volume.Size} GiB, the spec says ${dv.sizeGiB} GiB: apply() grows it (modifyVolume) after adoption`);
  if (Boolean(volume.Encrypted) !== dv.encrypted) issues.push({ path: `${at}.volumeId`, message: `node ${nodeId}: ${volumeId} is ${volume.Encrypted ? '' : 'not '}encrypted, the spec says encrypted: ${dv.encrypted}; set the node's dataVolume.encrypted to ${Boolean(volume.Encrypted)} (an existing volume's encryption cannot change)` });
  // The instance both are on: one instance, or none.
  const eniOn = eni.Attachment?.InstanceId ?? null;
  const volOn = volume.Attachments?.find((x) => x.State !== 'detached')?.InstanceId ?? null;
  if (eniOn !== null && volOn !== null && eniOn !== volOn) {
    issues.push({ path: at, message: `node ${nodeId}: ${eniId} is attached to ${eniOn} but ${volumeId} to ${volOn}; adopt the interface and the volume of one instance` });
  }
  const onId = eniOn ?? volOn;
  if (source.instanceId !== undefined && onId !== null && onId !== source.instanceId) issues.push({ path: 'instanceId', message: `node ${nodeId}: ${eniId} and ${volumeId} are on ${onId}, not ${source.instanceId}` });
  if (onId !== null && instance?.InstanceId !== onId) instance = await describeInstance(ctx, onId, signal);
  if (instance && volOn === instance.InstanceId) {
    const device = volume.Attachments?.find((x) => x.InstanceId === volOn)?.Device;
    if (device !== undefined && device === instance.RootDeviceName) issues.push({ path: `${at}.volumeId`, message: `node ${nodeId}: ${volumeId} is ${volOn}'s root volume (${device}); adopt its data volume, not its root volume` });
  }
  if (issues.length > 0) throw new BerthConfigError(issues, subject);
  const adopted = eniOwner === mine && volOwner === mine && volTags[TAG.volume] === 'data';
  return { node, eni, volume, instance, adopted, notes };
}

/** The interface carrying the node's IP and the data volume (at `device`, or the only non-root one) of the instance. */
function fromInstance(node: NodeSpec, instance: Instance, source: AdoptionSource, subject: string): { eniId: string; volumeId: string } {
  const issues: ConfigIssue[] = [];
  const eni = (instance.NetworkInterfaces ?? []).find((n) => n.PrivateIpAddress === node.ip || (n.PrivateIpAddresses ?? []).some((p) => p.Primary && p.PrivateIpAddress === node.ip));
  if (!eni?.NetworkInterfaceId) {
    const ips = (instance.NetworkInterfaces ?? []).map((n) => n.PrivateIpAddress).join(', ') || 'none';
    issues.push({ path: 'instanceId', message: `node ${node.id}: ${instance.InstanceId} has no network interface with the node's ip ${node.ip} (its IPs: ${ips})` });
  }
  const data = (instance.BlockDeviceMappings ?? []).filter((m) => m.DeviceName !== instance.RootDeviceName && m.Ebs?.VolumeId);
  const pick = source.device !== undefined ? data.filter((m) => m.DeviceName === source.device) : data;
  if (pick.length !== 1) {
    const devices = data.map((m) => `${m.DeviceName} (${m.Ebs?.VolumeId})`).join(', ') || 'none';
    issues.push({
      path: source.device !== undefined ? 'device' : 'instanceId',
      message: source.device !== undefined
        ? `node ${node.id}: ${instance.InstanceId} has no EBS volume at ${source.device} (its non-root volumes: ${devices})`
        : `node ${node.id}: ${instance.InstanceId} has ${data.length} non-root EBS volumes (${devices}); name the data volume's device (adopt(nodeId, { instanceId, device }))`,
    });
  }
  if (issues.length > 0) throw new BerthConfigError(issues, subject);
  return { eniId: eni?.NetworkInterfaceId as string, volumeId: pick[0]?.Ebs?.VolumeId as string };
}

async function describeInstance(ctx: AwsContext, instanceId: string, signal?: AbortSignal): Promise<Instance | null> {
  try {
    const r = await ctx.call('DescribeInstances', (abortSignal) => ctx.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }), { abortSignal }), { signal });
    return r.Reservations?.flatMap((x) => x.Instances ?? []).find((i) => i.InstanceId === instanceId) ?? null;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

async function describeOne(ctx: AwsContext, kind: 'eni', id: string, signal?: AbortSignal): Promise<NetworkInterface | null>;
async function describeOne(ctx: AwsContext, kind: 'vol', id: string, signal?: AbortSignal): Promise<Volume | null>;
async function describeOne(ctx: AwsContext, kind: 'eni' | 'vol', id: string, signal?: AbortSignal): Promise<NetworkInterface | Volume | null> {
  try {
    if (kind === 'eni') {
      const r = await ctx.call('DescribeNetworkInterfaces', (abortSignal) => ctx.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }), { abortSignal }), { signal });
      return r.NetworkInterfaces?.find((e) => e.NetworkInterfaceId === id) ?? null;
    }
    const r = await ctx.call('DescribeVolumes', (abortSignal) => ctx.ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }), { abortSignal }), { signal });
    return r.Volumes?.find((v) => v.VolumeId === id && v.State !== 'deleted' && v.State !== 'deleting') ?? null;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}
