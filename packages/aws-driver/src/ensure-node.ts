import {
  CreateAutoScalingGroupCommand,
  CreateOrUpdateTagsCommand,
  DeleteAutoScalingGroupCommand,
  DescribeLifecycleHooksCommand,
  PutLifecycleHookCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateNetworkInterfaceCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeNetworkInterfacesCommand,
  ModifyNetworkInterfaceAttributeCommand,
  type CreateVolumeCommandInput,
  type LaunchTemplate,
  type NetworkInterface,
} from '@aws-sdk/client-ec2';
import {
  BerthDriverError,
  computeRevision,
  nodeRecordName,
  type ClusterSpec,
  type EnsureNodeResult,
  type NodeObservation,
  type NodeSpec,
  type ResourceChange,
} from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { clientToken } from './client-token.js';
import { findNodeEnis, findNodeGroup, findNodeTemplates, findNodeVolumes, nodeSpecOf } from './discover-node.js';
import { readARecord, sameValues, upsert, changeRecords } from './dns-records.js';
import { isAwsCode } from './map-aws-error.js';
import { groupName, LAUNCH_HOOK_NAME, launchTemplateName, nodeTags, ON_DEMAND_SUFFIX, revisionFromTemplateName, securityGroupsTag, TAG, tagsToRecord } from './names.js';
import { DEFAULT_ROOT_DEVICE_NAME, dataVolumeRequest, launchTemplateData, networkInterfaceRequest } from './node-requests.js';
import { retireTemplates } from './retire-templates.js';
import { pausedSize } from './pause-node.js';
import { updateTemplateOnly } from './update-template.js';
import { renderUserData } from './user-data.js';

/**
 * Creates or converges one node's resources, discovering each by its `berth:cluster` and
 * `berth:node` tags (or its deterministic name) before creating it, so a re-run after a crash
 * at any point converges without duplicates. Order: ENI, data volume, launch template (whose
 * user data carries the volume id, the group name and the hook name), group with its launch
 * hook, DNS records.
 */
export async function ensureNode(ctx: AwsContext, spec: ClusterSpec, nodeId: string, signal?: AbortSignal, observed?: NodeObservation, keepTemplate = false, membership?: 'joining' | 'member'): Promise<EnsureNodeResult> {
  const node = nodeSpecOf(spec, nodeId);
  if (spec.region !== ctx.config.region) {
    throw new BerthDriverError('EnsureNode', 'RegionMismatch', `cluster '${spec.name}' is in ${spec.region} but the driver was created for ${ctx.config.region}; create the driver with region '${spec.region}'`);
  }
  // A roll's hint: only the launch template changes (update-template.ts); null falls through.
  if (observed && !membership) {
    const fast = await updateTemplateOnly(ctx, spec, node, observed, signal);
    if (fast) return fast;
  }
  const revision = computeRevision(spec, nodeId);
  const changes: ResourceChange[] = [];
  const eniId = await ensureEni(ctx, spec, node, changes, signal);
  const volumeId = await ensureVolume(ctx, spec, node, eniId, changes, signal);
  // The group first: a new template records the one the group is on (its history, for retirement).
  const group = await findNodeGroup(ctx, spec, node.id, signal);
  const groupTemplateId = group?.LaunchTemplate?.LaunchTemplateId ?? null;
  // keepTemplate: the group stays on its template when that one is bound to this ENI and volume.
  const kept = keepTemplate && groupTemplateId ? await boundTemplate(ctx, spec, node, groupTemplateId, { eniId, volumeId }, signal) : null;
  if (kept) {
    changes.push({ resource: 'launch-template', action: 'unchanged', id: kept.id, detail: `${kept.name} (kept: the roll moves it)` });
    await ensureGroup(ctx, spec, node, group, kept, changes, signal, membership);
    await ensureDns(ctx, spec, node, changes, signal);
    return Object.freeze({ nodeId, revision: revisionFromTemplateName(kept.name) ?? revision, changes: Object.freeze(changes) });
  }
  // A spot node that fell back to on-demand (its group's tag) keeps launching on-demand (spot-capacity.ts).
  const onDemand = node.capacity.spot && tagsToRecord(group?.Tags)[TAG.onDemandSince] !== undefined;
  const { template, templates } = await ensureTemplate(ctx, spec, node, revision, { eniId, volumeId }, groupTemplateId, changes, signal, onDemand);
  const previousTemplateId = await ensureGroup(ctx, spec, node, group, template, changes, signal, membership);
  // Keep the template the group used until now (its instance may still be running from it, and
  // a failed replacement goes back to it) and the one before that; older ones go
  // (retire-templates.ts). A re-run, whose group is already on the new template, keeps the same.
  await retireTemplates(ctx, spec.name, templates, template.id, previousTemplateId, changes, signal);
  await ensureDns(ctx, spec, node, changes, signal);
  return Object.freeze({ nodeId, revision, changes: Object.freeze(changes) });
}

async function ensureEni(ctx: AwsContext, spec: ClusterSpec, node: NodeSpec, changes: ResourceChange[], signal?: AbortSignal): Promise<string> {
  const enis = await findNodeEnis(ctx, spec, node.id, signal);
  let eni = enis[0];
  let adopted = false;
  if (!eni?.NetworkInterfaceId) {
    const made = await createOrAdoptEni(ctx, spec, node, signal);
    if ('created' in made) {
      changes.push({ resource: 'network-interface', action: 'created', id: made.created, detail: `${node.ip} in ${node.subnetId}` });
      return made.created;
    }
    eni = made.adopted;
    adopted = true;
  }
  const id = eni.NetworkInterfaceId as string;
  if (eni.PrivateIpAddress !== node.ip || eni.SubnetId !== node.subnetId) {
    throw new BerthDriverError(
      'EnsureNode',
      'NodeIdentityMismatch',
      `node ${node.id}'s network interface ${id} has ${eni.PrivateIpAddress} in ${eni.SubnetId}, but the spec says ${node.ip} in ${node.subnetId}. ` +
        `A node's IP never moves: restore the spec's IP, or delete the node and add a new one.`,
    );
  }
  const have = (eni.Groups ?? []).map((g) => g.GroupId ?? '').sort();
  const want = [...spec.securityGroupIds].sort();
  if (!sameValues(have, want)) {
    await ctx.call('ModifyNetworkInterfaceAttribute', (abortSignal) =>
      ctx.ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, Groups: want }), { abortSignal }),
    { signal });
    changes.push({ resource: 'network-interface', action: 'updated', id, detail: `security groups ${have.join(',')} → ${want.join(',')}` });
  } else {
    const detail = adopted
      ? `found by its IP ${node.ip}: an earlier run created it before its tags were visible to the lookup`
      : enis.length > 1 ? `${enis.length} interfaces carry this node's tags; using the oldest` : undefined;
    changes.push({ resource: 'network-interface', action: 'unchanged', id, ...(detail !== undefined && { detail }) });
  }
  return id;
}

/**
 * Creates the node's ENI. The IP is the idempotency key, not a ClientToken: when a retry finds
 * the IP taken (`InvalidIPAddress.InUse`), the interface holding it is this node's if it
 * carries this cluster's and node's tags (an earlier run created it), and is adopted.
 */
async function createOrAdoptEni(ctx: AwsContext, spec: ClusterSpec, node: NodeSpec, signal?: AbortSignal): Promise<{ created: string } | { adopted: NetworkInterface }> {
  try {
    const created = await ctx.call('CreateNetworkInterface', (abortSignal) =>
      ctx.ec2.send(new CreateNetworkInterfaceCommand(networkInterfaceRequest(spec, node)), { abortSignal }),
    { signal });
    const id = created.NetworkInterface?.NetworkInterfaceId;
    if (!id) throw new BerthDriverError('CreateNetworkInterface', 'EmptyResponse', `no network interface id returned for node ${node.id}`, { retryable: true });
    ctx.created(id);
    return { created: id };
  } catch (err) {
    if (!isAwsCode(err, 'InvalidIPAddress.InUse')) throw err;
    return { adopted: await ownIpHolder(ctx, spec, node, err, signal) };
  }
}

/** The interface holding the node's IP when it is this node's; otherwise an error that names the holder. */
async function ownIpHolder(ctx: AwsContext, spec: ClusterSpec, node: NodeSpec, inUse: unknown, signal?: AbortSignal): Promise<NetworkInterface> {
  const r = await ctx.call('DescribeNetworkInterfaces', (abortSignal) =>
    ctx.ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [
          { Name: 'subnet-id', Values: [node.subnetId] },
          { Name: 'addresses.private-ip-address', Values: [node.ip] },
        ],
      }),
      { abortSignal },
    ),
  { signal });
  const holder = (r.NetworkInterfaces ?? []).find((e) => e.NetworkInterfaceId);
  if (!holder) {
    throw new BerthDriverError(
      'CreateNetworkInterface',
      'InvalidIPAddress.InUse',
      `node ${node.id}'s IP ${node.ip} in ${node.subnetId} is in use, but the interface holding it is not visible yet (eventual consistency); retrying`,
      { retryable: true, cause: inUse },
    );
  }
  const tags = tagsToRecord(holder.TagSet);
  if (tags[TAG.cluster] === spec.name && tags[TAG.node] === node.id) return holder;
  const owner = tags[TAG.cluster] !== undefined ? `, tagged ${TAG.cluster}=${tags[TAG.cluster]} ${TAG.node}=${tags[TAG.node] ?? '?'}` : '';
  const attached = holder.Attachment?.InstanceId ? `, attached to ${holder.Attachment.InstanceId}` : '';
  throw new BerthDriverError(
    'CreateNetworkInterface',
    'InvalidIPAddress.InUse',
    `node ${node.id}'s IP ${node.ip} in ${node.subnetId} is held by ${holder.NetworkInterfaceId} (${holder.Description || holder.InterfaceType || 'no description'}${attached}${owner}), ` +
      `which is not this node's interface. Free the address, or give the node a free IP in the spec (preflight's 'ips' check lists such conflicts).`,
    { cause: inUse },
  );
}

/** Returns the id of the node's data volume. */
async function ensureVolume(ctx: AwsContext, spec: ClusterSpec, node: NodeSpec, eniId: string, changes: ResourceChange[], signal?: AbortSignal): Promise<string> {
  const vols = await findNodeVolumes(ctx, spec, node.id, signal);
  const dv = node.dataVolume;
  const vol = vols[0];
  if (vol?.VolumeId) {
    if (vol.AvailabilityZone !== node.az) {
      throw new BerthDriverError('EnsureNode', 'NodeIdentityMismatch', `node ${node.id}'s data volume ${vol.VolumeId} is in ${vol.AvailabilityZone}, but the node is in ${node.az}. A volume never moves: restore the node's subnet.`);
    }
    const notes: string[] = [];
    if ((vol.Size ?? 0) < dv.sizeGiB) notes.push(`is ${vol.Size} GiB, spec asks ${dv.sizeGiB} GiB: grow it with modifyVolume (controller.apply() does)`);
    if (vols.length > 1) notes.push(`${vols.length} data volumes carry this node's tags; using the oldest`);
    // Volumes made before the tag existed lack it, and the node policy lets a node attach only a
    // volume whose berth:node-ip is its own IP.
    if (tagsToRecord(vol.Tags)[TAG.nodeIp] !== node.ip) {
      await ctx.call('CreateTags', (abortSignal) =>
        ctx.ec2.send(new CreateTagsCommand({ Resources: [vol.VolumeId as string], Tags: [{ Key: TAG.nodeIp, Value: node.ip }] }), { abortSignal }),
      { signal });
      changes.push({ resource: 'volume', action: 'updated', id: vol.VolumeId, detail: [`tagged ${TAG.nodeIp}=${node.ip}`, ...notes].join('; ') });
    } else {
      changes.push({ resource: 'volume', action: 'unchanged', id: vol.VolumeId, ...(notes.length > 0 && { detail: notes.join('; ') }) });
    }
    return vol.VolumeId;
  }
  const id = await createDataVolume(ctx, spec, node, eniId, signal);
  ctx.created(id);
  const from = dv.snapshotId !== null ? ` from ${dv.snapshotId}` : '';
  changes.push({ resource: 'volume', action: 'created', id, detail: `${dv.sizeGiB} GiB ${dv.type}${dv.encrypted ? ' encrypted' : ''}${from} in ${node.az}` });
  return id;
}

/** More creates than any real sequence of deleted volumes needs; each one has spent a token. */
const MAX_VOLUME_TOKEN_SALTS = 4;

/**
 * CreateVolume whose ClientToken is (cluster, node, 'data-volume', the node's ENI id). The ENI
 * id is the node's incarnation: retries and crash-restarts send the same token (no second
 * volume), while a node deleted and provisioned again has a new ENI and so a new token. When
 * the answer is a volume that is `deleting`/`deleted`, the token was spent by a volume deleted
 * since (by hand, under the same ENI): create again with the token salted by that volume's id.
 * The salts depend only on what AWS answers, so a retry walks the same chain.
 */
async function createDataVolume(ctx: AwsContext, spec: ClusterSpec, node: NodeSpec, eniId: string, signal?: AbortSignal): Promise<string> {
  const request = dataVolumeRequest(spec, node);
  const parts = [spec.name, node.id, 'data-volume', eniId];
  for (let attempt = 0; attempt <= MAX_VOLUME_TOKEN_SALTS; attempt++) {
    const created = await sendCreateVolume(ctx, node, { ...request, ClientToken: clientToken(...parts) }, signal);
    if (created.state !== 'deleting' && created.state !== 'deleted') return created.id;
    parts.push(created.id);
  }
  throw new BerthDriverError(
    'CreateVolume',
    'IdempotentVolumeDeleted',
    `node ${node.id}: CreateVolume kept answering with deleted volumes (${parts.slice(4).join(', ')}): something keeps deleting the node's data volume. ` +
      `Find out what; then create the volume by hand in ${node.az} with the tags ${TAG.cluster}=${spec.name}, ${TAG.node}=${node.id}, ${TAG.volume}=data, ${TAG.nodeIp}=${node.ip} and run ensureNode again.`,
  );
}

async function sendCreateVolume(ctx: AwsContext, node: NodeSpec, input: CreateVolumeCommandInput, signal?: AbortSignal): Promise<{ id: string; state: string | undefined }> {
  const created = await ctx.call('CreateVolume', (abortSignal) => ctx.ec2.send(new CreateVolumeCommand(input), { abortSignal }), { signal });
  if (!created.VolumeId) throw new BerthDriverError('CreateVolume', 'EmptyResponse', `no volume id returned for node ${node.id}`, { retryable: true });
  return { id: created.VolumeId, state: created.State };
}

/** The group's template, when it exists and records these ENI and volume ids and the spec's security groups. */
async function boundTemplate(
  ctx: AwsContext,
  spec: ClusterSpec,
  node: NodeSpec,
  templateId: string,
  ids: { readonly eniId: string; readonly volumeId: string },
  signal?: AbortSignal,
): Promise<{ id: string; name: string } | null> {
  const t = (await findNodeTemplates(ctx, spec, node.id, signal)).find((x) => x.LaunchTemplateId === templateId);
  if (!t?.LaunchTemplateId || !t.LaunchTemplateName) return null;
  const tags = tagsToRecord(t.Tags);
  // Another ENI, volume or security groups than the spec's: that template cannot stay.
  if (tags[TAG.templateEni] !== ids.eniId || tags[TAG.templateVolume] !== ids.volumeId || tags[TAG.templateSecurityGroups] !== securityGroupsTag(spec)) return null;
  return { id: t.LaunchTemplateId, name: t.LaunchTemplateName };
}

async function ensureTemplate(
  ctx: AwsContext,
  spec: ClusterSpec,
  node: NodeSpec,
  revision: string,
  ids: { readonly eniId: string; readonly volumeId: string },
  groupTemplateId: string | null,
  changes: ResourceChange[],
  signal?: AbortSignal,
  onDemand = false,
): Promise<{ template: { id: string; name: string }; templates: LaunchTemplate[] }> {
  const templates = await findNodeTemplates(ctx, spec, node.id, signal);
  const pick = pickTemplate(templates, spec, node, revision, ids, onDemand);
  if (pick.existing?.LaunchTemplateId) {
    changes.push({ resource: 'launch-template', action: 'unchanged', id: pick.existing.LaunchTemplateId, detail: pick.name });
    return { template: { id: pick.existing.LaunchTemplateId, name: pick.name }, templates };
  }
  // WHY ONE TEMPLATE PER REVISION, not one template with a version per revision: every
  // revision's template is created whole by CreateLaunchTemplate and never changes (version 1
  // is the only version, pinned explicitly by the group). On AWS this is as good as versions
  // (a group can switch templates; running instances keep theirs) and it makes a revision
  // immutable: nobody can add a version or move $Default under it. It also sidesteps moto
  // 5.2.1, where a version made by CreateLaunchTemplateVersion with UserData breaks every
  // group launch (HTTP 500) and where groups resolve versions partly from $Default. The cost:
  // up to three templates per node (see retire-templates.ts) against the regional quota of
  // 5,000 templates, which one group per node (quota 500) reaches long before.
  const id = await createTemplate(ctx, spec, node, revision, ids, pick.name, groupTemplateId, changes, signal);
  return { template: { id, name: pick.name }, templates };
}

/**
 * The node's template for `revision` made for these ENI and volume ids (recorded in its tags),
 * or the name to create it under: the plain name, or — when a template of that name exists for
 * other ids (the node's volume or ENI was made again since) — the name bound to these ids. A
 * template whose user data names a deleted volume would fail every boot.
 */
export function pickTemplate(
  templates: readonly LaunchTemplate[],
  spec: ClusterSpec,
  node: NodeSpec,
  revision: string,
  ids: { readonly eniId: string; readonly volumeId: string },
  onDemand = false,
): { existing?: LaunchTemplate; name: string } {
  // A spot node's on-demand fallback has templates of its own: the same names with ON_DEMAND_SUFFIX.
  const od = onDemand ? ON_DEMAND_SUFFIX : '';
  const base = launchTemplateName(spec.name, node.id, revision);
  const plain = `${base}${od}`;
  // This revision's templates: the plain name, or the plain name with a binding digest.
  const ofRevision = templates.filter((t) => {
    const n = t.LaunchTemplateName;
    return n !== undefined && n.endsWith(ON_DEMAND_SUFFIX) === onDemand && (n === plain || n.startsWith(`${base}-b`));
  });
  const made = ofRevision.find((t) => {
    const tags = tagsToRecord(t.Tags);
    return tags[TAG.templateEni] === ids.eniId && tags[TAG.templateVolume] === ids.volumeId;
  });
  if (made) return { existing: made, name: made.LaunchTemplateName as string };
  if (ofRevision.length === 0) return { name: plain };
  // The bound name digests these ids, so a template of that name was made for them.
  const bound = `${launchTemplateName(spec.name, node.id, revision, ids)}${od}`;
  const boundExisting = ofRevision.find((t) => t.LaunchTemplateName === bound);
  if (boundExisting) return { existing: boundExisting, name: bound };
  return { name: ofRevision.some((t) => t.LaunchTemplateName === plain) ? bound : plain };
}

/** The root device name of the node's image (looked up once per image by this driver). */
async function rootDeviceOf(ctx: AwsContext, image: string, signal?: AbortSignal): Promise<string> {
  const known = ctx.rootDevices.get(image);
  if (known !== undefined) return known;
  const images = await ctx.call('DescribeImages', (abortSignal) => ctx.ec2.send(new DescribeImagesCommand({ ImageIds: [image] }), { abortSignal }), { signal });
  const found = images.Images?.[0]?.RootDeviceName;
  if (found !== undefined) ctx.rootDevices.set(image, found);
  return found ?? DEFAULT_ROOT_DEVICE_NAME;
}

/**
 * Creates the node's launch template for `revision`, tagged with the ENI, volume and security
 * groups it was made for (a roll makes the next one from these) and with the template the group
 * is on now (`previous`, the group's history). Returns its id.
 */
export async function createTemplate(
  ctx: AwsContext,
  spec: ClusterSpec,
  node: NodeSpec,
  revision: string,
  ids: { readonly eniId: string; readonly volumeId: string },
  name: string,
  previous: string | null,
  changes: ResourceChange[],
  signal?: AbortSignal,
): Promise<string> {
  const rootDeviceName = await rootDeviceOf(ctx, node.image, signal);
  // The bootstrap gets the ids it needs instead of looking them up: a tag lookup of "the node's
  // volume" also finds root volumes (the template tags them with the node too).
  const userData = renderUserData(spec, node.id, revision, { volumeId: ids.volumeId, autoScalingGroupName: groupName(spec.name, node.id), lifecycleHookName: LAUNCH_HOOK_NAME });
  const tags = nodeTags(spec, node.id, {
    [TAG.revision]: revision,
    [TAG.templateEni]: ids.eniId,
    [TAG.templateVolume]: ids.volumeId,
    [TAG.templateSecurityGroups]: securityGroupsTag(spec),
    ...(previous !== null && { [TAG.templatePrevious]: previous }),
  });
  try {
    // No ClientToken: the name (one per node and revision) is the idempotency key, and a roll
    // back to a revision whose template was deleted must create it again.
    const created = await ctx.call('CreateLaunchTemplate', (abortSignal) =>
      ctx.ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: name,
          VersionDescription: `berth ${spec.name}/${node.id} revision ${revision}`,
          TagSpecifications: [{ ResourceType: 'launch-template', Tags: tags }],
          LaunchTemplateData: launchTemplateData(spec, node, revision, { rootDeviceName, userData: userData.userData, networkInterfaceId: ids.eniId, onDemand: name.endsWith(ON_DEMAND_SUFFIX) }),
        }),
        { abortSignal },
      ),
    { signal });
    const id = created.LaunchTemplate?.LaunchTemplateId;
    if (!id) throw new BerthDriverError('CreateLaunchTemplate', 'EmptyResponse', `no launch template id returned for node ${node.id}`, { retryable: true });
    ctx.created(id);
    ctx.templates.created(spec.name, { LaunchTemplateId: id, LaunchTemplateName: name, CreateTime: new Date(ctx.clock.now()), Tags: tags });
    changes.push({ resource: 'launch-template', action: 'created', id, detail: `${name} (user data ${userData.sizeBytes} bytes)` });
    return id;
  } catch (err) {
    // Created by a concurrent or crashed run whose tags were not visible yet (or that the
    // driver's known templates missed): the retry describes again and finds it.
    if (isAwsCode(err, 'InvalidLaunchTemplateName.AlreadyExistsException')) {
      ctx.templates.forget(spec.name);
      throw new BerthDriverError('CreateLaunchTemplate', 'InvalidLaunchTemplateName.AlreadyExistsException', `${name} exists but is not visible by its tags yet`, { retryable: true, cause: err });
    }
    throw err;
  }
}

/** Returns the template id the group pointed at before this call (null for a new group). `found`: the group as looked up just before. */
async function ensureGroup(
  ctx: AwsContext,
  spec: ClusterSpec,
  node: NodeSpec,
  found: AutoScalingGroup | null,
  template: { id: string; name: string },
  changes: ResourceChange[],
  signal?: AbortSignal,
  membership?: 'joining' | 'member',
): Promise<string | null> {
  const name = groupName(spec.name, node.id);
  const hookSpec = {
    LifecycleHookName: LAUNCH_HOOK_NAME,
    LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
    HeartbeatTimeout: spec.lifecycle.heartbeatTimeoutSec,
    DefaultResult: spec.lifecycle.defaultResult,
  };
  let group: AutoScalingGroup | null = found;
  let previousTemplateId: string | null = null;
  if (group?.Status === 'Delete in progress') {
    // A run that deleted it (below) crashed before creating it again.
    await waitForGroupGone(ctx, spec, node, signal);
    group = null;
  }
  if (group && (group.VPCZoneIdentifier ?? '') !== '') {
    previousTemplateId = group.LaunchTemplate?.LaunchTemplateId ?? null;
    await deleteSubnetGroup(ctx, spec, node, group, changes, signal);
    group = null;
  }
  let createdGroup = false;
  if (!group) {
    const tags = nodeTags(spec, node.id, { [TAG.launchHook]: LAUNCH_HOOK_NAME, [TAG.nodeIp]: node.ip, ...groupStateTags(node, membership) }).map((t) => ({
      ...t,
      ResourceId: name,
      ResourceType: 'auto-scaling-group',
      // Instances get their tags from the launch template (with the revision).
      PropagateAtLaunch: false,
    }));
    try {
      await ctx.call('CreateAutoScalingGroup', (abortSignal) =>
        ctx.asg.send(
          new CreateAutoScalingGroupCommand({
            AutoScalingGroupName: name,
            LaunchTemplate: { LaunchTemplateId: template.id, Version: '1' },
            MinSize: 1,
            MaxSize: 1,
            DesiredCapacity: 1,
            // The template names an existing ENI, which fixes the subnet: AWS then wants the
            // group made with the ENI's AZ and no VPCZoneIdentifier (a group's subnets would
            // override the template's network settings, and the launch fails).
            AvailabilityZones: [node.az],
            HealthCheckType: 'EC2',
            // With the group, so that its very first instance already waits on the hook.
            LifecycleHookSpecificationList: [hookSpec],
            Tags: tags,
          }),
          { abortSignal },
        ),
      { signal, afterCreate: true });
      createdGroup = true;
      changes.push({ resource: 'auto-scaling-group', action: 'created', id: name, detail: `${template.name} in ${node.az}` });
    } catch (err) {
      if (!isAwsCode(err, 'AlreadyExists')) throw err;
      group = await findNodeGroup(ctx, spec, node.id, signal);
      if (!group) throw err;
    }
  }
  if (group) {
    previousTemplateId = group.LaunchTemplate?.LaunchTemplateId ?? null;
    await updateGroup(ctx, node, name, group, template, changes, signal);
  }

  // Verify the hook itself (moto ignores LifecycleHookSpecificationList; on AWS this also
  // repairs a hook someone deleted or edited).
  const hooks = await ctx.call('DescribeLifecycleHooks', (abortSignal) =>
    ctx.asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: name, LifecycleHookNames: [LAUNCH_HOOK_NAME] }), { abortSignal }),
  { signal, afterCreate: createdGroup });
  const hook = hooks.LifecycleHooks?.[0];
  const hookId = `${name}/${LAUNCH_HOOK_NAME}`;
  const hookOk = hook && hook.LifecycleTransition === hookSpec.LifecycleTransition && hook.HeartbeatTimeout === hookSpec.HeartbeatTimeout && hook.DefaultResult === hookSpec.DefaultResult;
  if (!hookOk) {
    await ctx.call('PutLifecycleHook', (abortSignal) => ctx.asg.send(new PutLifecycleHookCommand({ AutoScalingGroupName: name, ...hookSpec }), { abortSignal }), { signal });
  }
  const hookDetail = `launch hook, heartbeat ${hookSpec.HeartbeatTimeout} s, default ${hookSpec.DefaultResult}`;
  if (createdGroup) changes.push({ resource: 'lifecycle-hook', action: 'created', id: hookId, detail: hookDetail });
  else changes.push({ resource: 'lifecycle-hook', action: hookOk ? 'unchanged' : hook ? 'updated' : 'created', id: hookId, detail: hookDetail });

  if (group) await tagGroup(ctx, node, name, group, signal, membership);
  return previousTemplateId;
}

/** Points an existing group at the template, capacity 1/1/1 and the node's AZ, in one update when anything differs. */
async function updateGroup(
  ctx: AwsContext,
  node: NodeSpec,
  name: string,
  group: AutoScalingGroup,
  template: { id: string; name: string },
  changes: ResourceChange[],
  signal?: AbortSignal,
): Promise<void> {
  const diffs: string[] = [];
  const update: Record<string, unknown> = {};
  if (group.LaunchTemplate?.LaunchTemplateId !== template.id || group.LaunchTemplate?.Version !== '1') {
    update.LaunchTemplate = { LaunchTemplateId: template.id, Version: '1' };
    diffs.push(`launch template ${group.LaunchTemplate?.LaunchTemplateName ?? '?'} → ${template.name}`);
  }
  // A paused node (setNodePaused, pause-node.ts) stays at 0: min 0, max 1, and its desired
  // capacity is never raised (nor lowered: only pauseNode, which checks quorum, stops an instance).
  const size = pausedSize(group);
  if (group.MinSize !== size.min || group.MaxSize !== size.max || group.DesiredCapacity !== size.desired) {
    Object.assign(update, { MinSize: size.min, MaxSize: size.max, DesiredCapacity: size.desired });
    diffs.push(`capacity ${group.MinSize}/${group.MaxSize}/${group.DesiredCapacity} → ${size.min}/${size.max}/${size.desired}${size.paused ? ' (paused)' : ''}`);
  }
  const azs = group.AvailabilityZones ?? [];
  if (azs.length !== 1 || azs[0] !== node.az) {
    update.AvailabilityZones = [node.az];
    diffs.push(`availability zones ${azs.join(',') || 'none'} → ${node.az}`);
  }
  if (diffs.length > 0) {
    await ctx.call('UpdateAutoScalingGroup', (abortSignal) => ctx.asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, ...update }), { abortSignal }), { signal });
    changes.push({ resource: 'auto-scaling-group', action: 'updated', id: name, detail: diffs.join('; ') });
  } else {
    changes.push({ resource: 'auto-scaling-group', action: 'unchanged', id: name });
  }
}

/**
 * Adds the tags an existing group lacks: `berth:launch-hook` once the hook is verified, and
 * `berth:node-ip` (groups made before it existed), which the node policy needs to let the
 * node complete its own launch.
 */
async function tagGroup(ctx: AwsContext, node: NodeSpec, name: string, group: AutoScalingGroup, signal?: AbortSignal, membership?: 'joining' | 'member'): Promise<void> {
  const have = tagsToRecord(group.Tags);
  const want: Record<string, string> = { [TAG.launchHook]: LAUNCH_HOOK_NAME, [TAG.nodeIp]: node.ip, ...groupStateTags(node, membership) };
  const missing = Object.entries(want).filter(([k, v]) => have[k] !== v);
  if (missing.length === 0) return;
  await ctx.call('CreateOrUpdateTags', (abortSignal) =>
    ctx.asg.send(
      new CreateOrUpdateTagsCommand({ Tags: missing.map(([Key, Value]) => ({ ResourceId: name, ResourceType: 'auto-scaling-group', Key, Value, PropagateAtLaunch: false })) }),
      { abortSignal },
    ),
  { signal });
}

/**
 * A group made by an older Berth names the node's subnet (VPCZoneIdentifier). AWS cannot launch
 * a template with an existing ENI into it, and no update removes a group's subnets: delete it
 * while it holds no instance (so it can be created again with AvailabilityZones); with an
 * instance, stop and say how to empty it, since deleting it would terminate a member.
 */
async function deleteSubnetGroup(ctx: AwsContext, spec: ClusterSpec, node: NodeSpec, group: AutoScalingGroup, changes: ResourceChange[], signal?: AbortSignal): Promise<void> {
  const name = groupName(spec.name, node.id);
  const instances = (group.Instances ?? []).map((i) => i.InstanceId ?? '?');
  if (instances.length > 0) {
    throw new BerthDriverError(
      'EnsureNode',
      'GroupHasSubnets',
      `node ${node.id}'s Auto Scaling group ${name} names subnets (${group.VPCZoneIdentifier}), made by an older Berth, and holds ${instances.join(', ')}. ` +
        `AWS launches the node's template (its existing network interface) only into a group made with AvailabilityZones, and an update cannot remove subnets. ` +
        `Empty the group when the cluster can spare this node (aws autoscaling update-auto-scaling-group --auto-scaling-group-name ${name} --min-size 0 --desired-capacity 0), ` +
        `wait until it holds no instance, then run ensureNode (controller.apply()) again: it deletes the group and creates it in ${node.az}.`,
    );
  }
  // ForceDelete false: should an instance have appeared meanwhile, AWS refuses instead of terminating it.
  await ctx.call('DeleteAutoScalingGroup', (abortSignal) => ctx.asg.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: false }), { abortSignal }), { signal });
  changes.push({ resource: 'auto-scaling-group', action: 'deleted', id: name, detail: `it named subnets (${group.VPCZoneIdentifier}); created again with AvailabilityZones ${node.az}` });
  await waitForGroupGone(ctx, spec, node, signal);
}

/** Deletion is asynchronous: a create under the same name fails until the old group is gone. */
async function waitForGroupGone(ctx: AwsContext, spec: ClusterSpec, node: NodeSpec, signal?: AbortSignal): Promise<void> {
  await ctx.waitFor(`node ${node.id}'s Auto Scaling group ${groupName(spec.name, node.id)} to be deleted`, async () => ((await findNodeGroup(ctx, spec, node.id, signal)) ? undefined : true), signal);
}

async function ensureDns(ctx: AwsContext, spec: ClusterSpec, node: NodeSpec, changes: ResourceChange[], signal?: AbortSignal): Promise<void> {
  if (!spec.dns) return;
  const zone = spec.dns.hostedZoneId;
  const wanted = [
    { name: nodeRecordName(spec.dns, node.id), values: [node.ip] },
    // Every node's IP from the spec: the IPs are fixed, so the record is right before the instances are.
    { name: spec.dns.clusterRecord, values: spec.nodes.map((n) => n.ip).sort() },
  ];
  const batch = [];
  for (const w of wanted) {
    const cur = await readARecord(ctx, zone, w.name, signal);
    if (cur && cur.ttl === spec.dns.ttl && sameValues(cur.values, w.values)) {
      changes.push({ resource: 'dns-record', action: 'unchanged', id: cur.name });
    } else {
      batch.push(upsert(w.name, spec.dns.ttl, w.values));
      changes.push({ resource: 'dns-record', action: cur ? 'updated' : 'created', id: w.name.replace(/\.$/, ''), detail: w.values.join(',') });
    }
  }
  await changeRecords(ctx, zone, batch, `berth ${spec.name}/${node.id}`, signal);
}

/**
 * The group's record of the node's deletion policy (deleteNode follows it once the spec no longer
 * lists the node) and, when a membership step says, its membership state (membership-run.ts).
 */
function groupStateTags(node: NodeSpec, membership: 'joining' | 'member' | undefined): Record<string, string> {
  return { [TAG.deletionPolicy]: node.dataVolume.deletionPolicy, ...(membership && { [TAG.membership]: membership }) };
}
