import {
  CreateAutoScalingGroupCommand,
  CreateOrUpdateTagsCommand,
  DescribeLifecycleHooksCommand,
  PutLifecycleHookCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateNetworkInterfaceCommand,
  CreateVolumeCommand,
  DeleteLaunchTemplateCommand,
  DescribeImagesCommand,
  ModifyNetworkInterfaceAttributeCommand,
  type LaunchTemplate,
  type VolumeType,
} from '@aws-sdk/client-ec2';
import { createHash } from 'node:crypto';
import {
  BerthDriverError,
  computeRevision,
  METADATA_OPTIONS,
  nodeRecordName,
  type ClusterSpec,
  type EnsureNodeResult,
  type NodeSpec,
  type ResourceChange,
} from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { findNodeEnis, findNodeGroup, findNodeTemplates, findNodeVolumes, nodeSpecOf } from './discover-node.js';
import { readARecord, sameValues, upsert, changeRecords } from './dns-records.js';
import { isAwsCode } from './map-aws-error.js';
import { groupName, LAUNCH_HOOK_NAME, launchTemplateName, nodeTags, TAG, tagsToRecord } from './names.js';
import { renderUserData } from './user-data.js';

/**
 * Creates or converges one node's resources, discovering each by its `berth:cluster` and
 * `berth:node` tags (or its deterministic name) before creating it, so a re-run after a crash
 * at any point converges without duplicates. Order: ENI, data volume, launch template, group
 * with its launch hook, DNS records.
 */
export async function ensureNode(ctx: AwsContext, spec: ClusterSpec, nodeId: string, signal?: AbortSignal): Promise<EnsureNodeResult> {
  const node = nodeSpecOf(spec, nodeId);
  if (spec.region !== ctx.config.region) {
    throw new BerthDriverError('EnsureNode', 'RegionMismatch', `cluster '${spec.name}' is in ${spec.region} but the driver was created for ${ctx.config.region}; create the driver with region '${spec.region}'`);
  }
  const revision = computeRevision(spec, nodeId);
  const changes: ResourceChange[] = [];
  const eniId = await ensureEni(ctx, spec, node, changes, signal);
  await ensureVolume(ctx, spec, node, changes, signal);
  const { template, others } = await ensureTemplate(ctx, spec, node, revision, eniId, changes, signal);
  const previousTemplateId = await ensureGroup(ctx, spec, node, template, changes, signal);
  // Keep the template the group used until now (its instance may still be running from it)
  // and delete older ones, so a node holds at most two templates against the regional quota.
  for (const old of others) {
    if (old.LaunchTemplateId === previousTemplateId || !old.LaunchTemplateId) continue;
    await ctx.call('DeleteLaunchTemplate', (abortSignal) => ctx.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: old.LaunchTemplateId }), { abortSignal }), { signal });
    changes.push({ resource: 'launch-template', action: 'deleted', id: old.LaunchTemplateId, detail: `${old.LaunchTemplateName} (superseded)` });
  }
  await ensureDns(ctx, spec, node, changes, signal);
  return Object.freeze({ nodeId, revision, changes: Object.freeze(changes) });
}

/**
 * ClientToken for EC2 creates: the same for retries of one logical create (across the core
 * runtime wrapper's retries and crash-restarts within the hour), different for a node deleted
 * and provisioned again later. Tag discovery runs first; the token covers the window in which
 * a new resource is not yet visible to tag-filtered describes.
 */
function clientToken(ctx: AwsContext, ...parts: string[]): string {
  const hour = Math.floor(ctx.clock.now() / 3_600_000);
  return createHash('sha256').update([...parts, String(hour)].join('\u0000')).digest('hex').slice(0, 48);
}

async function ensureEni(ctx: AwsContext, spec: ClusterSpec, node: NodeSpec, changes: ResourceChange[], signal?: AbortSignal): Promise<string> {
  const enis = await findNodeEnis(ctx, spec, node.id, signal);
  const eni = enis[0];
  if (!eni?.NetworkInterfaceId) {
    const created = await ctx.call('CreateNetworkInterface', (abortSignal) =>
      ctx.ec2.send(
        new CreateNetworkInterfaceCommand({
          SubnetId: node.subnetId,
          PrivateIpAddress: node.ip,
          Groups: [...spec.securityGroupIds],
          Description: `berth ${spec.name}/${node.id}: primary interface (fixed IP)`,
          TagSpecifications: [{ ResourceType: 'network-interface', Tags: nodeTags(spec, node.id) }],
          ClientToken: clientToken(ctx, spec.name, node.id, 'eni', node.ip),
        }),
        { abortSignal },
      ),
    { signal });
    const id = created.NetworkInterface?.NetworkInterfaceId;
    if (!id) throw new BerthDriverError('CreateNetworkInterface', 'EmptyResponse', `no network interface id returned for node ${node.id}`, { retryable: true });
    ctx.created(id);
    changes.push({ resource: 'network-interface', action: 'created', id, detail: `${node.ip} in ${node.subnetId}` });
    return id;
  }
  const id = eni.NetworkInterfaceId;
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
    changes.push({ resource: 'network-interface', action: 'unchanged', id, ...(enis.length > 1 && { detail: `${enis.length} interfaces carry this node's tags; using the oldest` }) });
  }
  return id;
}

async function ensureVolume(ctx: AwsContext, spec: ClusterSpec, node: NodeSpec, changes: ResourceChange[], signal?: AbortSignal): Promise<void> {
  const vols = await findNodeVolumes(ctx, spec, node.id, signal);
  const dv = node.dataVolume;
  const vol = vols[0];
  if (vol?.VolumeId) {
    if (vol.AvailabilityZone !== node.az) {
      throw new BerthDriverError('EnsureNode', 'NodeIdentityMismatch', `node ${node.id}'s data volume ${vol.VolumeId} is in ${vol.AvailabilityZone}, but the node is in ${node.az}. A volume never moves: restore the node's subnet.`);
    }
    const notes: string[] = [];
    if ((vol.Size ?? 0) < dv.sizeGiB) notes.push(`is ${vol.Size} GiB, spec asks ${dv.sizeGiB} GiB: grow it with resizeVolume`);
    if (vols.length > 1) notes.push(`${vols.length} data volumes carry this node's tags; using the oldest`);
    changes.push({ resource: 'volume', action: 'unchanged', id: vol.VolumeId, ...(notes.length > 0 && { detail: notes.join('; ') }) });
    return;
  }
  const takesIops = dv.type === 'gp3' || dv.type === 'io1' || dv.type === 'io2';
  const created = await ctx.call('CreateVolume', (abortSignal) =>
    ctx.ec2.send(
      new CreateVolumeCommand({
        AvailabilityZone: node.az,
        Size: dv.sizeGiB,
        VolumeType: dv.type as VolumeType,
        ...(takesIops && dv.iops !== null && { Iops: dv.iops }),
        ...(dv.type === 'gp3' && dv.throughputMiBps !== null && { Throughput: dv.throughputMiBps }),
        Encrypted: dv.encrypted,
        ...(dv.encrypted && dv.kmsKeyId !== null && { KmsKeyId: dv.kmsKeyId }),
        ...(dv.snapshotId !== null && { SnapshotId: dv.snapshotId }),
        TagSpecifications: [{ ResourceType: 'volume', Tags: nodeTags(spec, node.id, { [TAG.volume]: 'data' }) }],
        ClientToken: clientToken(ctx, spec.name, node.id, 'data-volume'),
      }),
      { abortSignal },
    ),
  { signal });
  const id = created.VolumeId;
  if (!id) throw new BerthDriverError('CreateVolume', 'EmptyResponse', `no volume id returned for node ${node.id}`, { retryable: true });
  ctx.created(id);
  const from = dv.snapshotId !== null ? ` from ${dv.snapshotId}` : '';
  changes.push({ resource: 'volume', action: 'created', id, detail: `${dv.sizeGiB} GiB ${dv.type}${dv.encrypted ? ' encrypted' : ''}${from} in ${node.az}` });
}

async function ensureTemplate(
  ctx: AwsContext,
  spec: ClusterSpec,
  node: NodeSpec,
  revision: string,
  eniId: string,
  changes: ResourceChange[],
  signal?: AbortSignal,
): Promise<{ template: { id: string; name: string }; others: LaunchTemplate[] }> {
  const name = launchTemplateName(spec.name, node.id, revision);
  const templates = await findNodeTemplates(ctx, spec, node.id, signal);
  const others = templates.filter((t) => t.LaunchTemplateName !== name);
  const existing = templates.find((t) => t.LaunchTemplateName === name);
  if (existing?.LaunchTemplateId) {
    changes.push({ resource: 'launch-template', action: 'unchanged', id: existing.LaunchTemplateId, detail: name });
    return { template: { id: existing.LaunchTemplateId, name }, others };
  }
  // WHY ONE TEMPLATE PER REVISION, not one template with a version per revision: every
  // revision's template is created whole by CreateLaunchTemplate and never changes (version 1
  // is the only version, pinned explicitly by the group). On AWS this is as good as versions
  // (a group can switch templates; running instances keep theirs) and it makes a revision
  // immutable: nobody can add a version or move $Default under it. It also sidesteps moto
  // 5.2.1, where a version made by CreateLaunchTemplateVersion with UserData breaks every
  // group launch (HTTP 500) and where groups resolve versions partly from $Default. The cost:
  // up to two templates per node (see the cleanup in ensureNode) against the regional quota of
  // 5,000 templates, which one group per node (quota 500) reaches long before.
  const images = await ctx.call('DescribeImages', (abortSignal) => ctx.ec2.send(new DescribeImagesCommand({ ImageIds: [node.image] }), { abortSignal }), { signal });
  const rootDevice = images.Images?.[0]?.RootDeviceName ?? '/dev/xvda';
  const userData = renderUserData(spec, node.id, revision);
  const instanceTags = nodeTags(spec, node.id, { [TAG.revision]: revision });
  try {
    const created = await ctx.call('CreateLaunchTemplate', (abortSignal) =>
      ctx.ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: name,
          VersionDescription: `berth ${spec.name}/${node.id} revision ${revision}`,
          ClientToken: clientToken(ctx, name),
          TagSpecifications: [{ ResourceType: 'launch-template', Tags: nodeTags(spec, node.id, { [TAG.revision]: revision }) }],
          LaunchTemplateData: {
            ImageId: node.image,
            InstanceType: spec.instanceType as never,
            ...(spec.keyName !== null && { KeyName: spec.keyName }),
            ...(spec.iamInstanceProfile !== null && { IamInstanceProfile: { Name: spec.iamInstanceProfile } }),
            UserData: userData.userData,
            MetadataOptions: {
              HttpTokens: METADATA_OPTIONS.httpTokens as 'required',
              HttpPutResponseHopLimit: METADATA_OPTIONS.httpPutResponseHopLimit,
              HttpEndpoint: METADATA_OPTIONS.httpEndpoint as 'enabled',
            },
            // The node's own ENI as the primary interface: the instance gets the fixed IP, and
            // its security groups come from the ENI (AWS rejects groups on the template then).
            NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: eniId, DeleteOnTermination: false }],
            BlockDeviceMappings: [
              {
                DeviceName: rootDevice,
                Ebs: { VolumeSize: spec.rootVolume.sizeGiB, VolumeType: spec.rootVolume.type as VolumeType, Encrypted: spec.rootVolume.encrypted, DeleteOnTermination: true },
              },
            ],
            TagSpecifications: [
              { ResourceType: 'instance', Tags: instanceTags },
              { ResourceType: 'volume', Tags: nodeTags(spec, node.id, { [TAG.volume]: 'root', [TAG.revision]: revision }) },
            ],
          },
        }),
        { abortSignal },
      ),
    { signal });
    const id = created.LaunchTemplate?.LaunchTemplateId;
    if (!id) throw new BerthDriverError('CreateLaunchTemplate', 'EmptyResponse', `no launch template id returned for node ${node.id}`, { retryable: true });
    ctx.created(id);
    changes.push({ resource: 'launch-template', action: 'created', id, detail: `${name} (user data ${userData.sizeBytes} bytes)` });
    return { template: { id, name }, others };
  } catch (err) {
    // Created by a concurrent or crashed run whose tags were not visible yet: retry discovers it.
    if (isAwsCode(err, 'InvalidLaunchTemplateName.AlreadyExistsException')) {
      throw new BerthDriverError('CreateLaunchTemplate', 'InvalidLaunchTemplateName.AlreadyExistsException', `${name} exists but is not visible by its tags yet`, { retryable: true, cause: err });
    }
    throw err;
  }
}

/** Returns the template id the group pointed at before this call (null for a new group). */
async function ensureGroup(
  ctx: AwsContext,
  spec: ClusterSpec,
  node: NodeSpec,
  template: { id: string; name: string },
  changes: ResourceChange[],
  signal?: AbortSignal,
): Promise<string | null> {
  const name = groupName(spec.name, node.id);
  const hookSpec = {
    LifecycleHookName: LAUNCH_HOOK_NAME,
    LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
    HeartbeatTimeout: spec.lifecycle.heartbeatTimeoutSec,
    DefaultResult: spec.lifecycle.defaultResult,
  };
  let group: AutoScalingGroup | null = await findNodeGroup(ctx, spec, node.id, signal);
  let previousTemplateId: string | null = null;
  let createdGroup = false;
  if (!group) {
    const tags = nodeTags(spec, node.id, { [TAG.launchHook]: LAUNCH_HOOK_NAME }).map((t) => ({
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
            VPCZoneIdentifier: node.subnetId,
            HealthCheckType: 'EC2',
            // With the group, so that its very first instance already waits on the hook.
            LifecycleHookSpecificationList: [hookSpec],
            Tags: tags,
          }),
          { abortSignal },
        ),
      { signal, afterCreate: true });
      createdGroup = true;
      changes.push({ resource: 'auto-scaling-group', action: 'created', id: name, detail: `${template.name} in ${node.subnetId}` });
    } catch (err) {
      if (!isAwsCode(err, 'AlreadyExists')) throw err;
      group = await findNodeGroup(ctx, spec, node.id, signal);
      if (!group) throw err;
    }
  }
  if (group) {
    previousTemplateId = group.LaunchTemplate?.LaunchTemplateId ?? null;
    const diffs: string[] = [];
    const update: Record<string, unknown> = {};
    if (group.LaunchTemplate?.LaunchTemplateId !== template.id || group.LaunchTemplate?.Version !== '1') {
      update.LaunchTemplate = { LaunchTemplateId: template.id, Version: '1' };
      diffs.push(`launch template ${group.LaunchTemplate?.LaunchTemplateName ?? '?'} → ${template.name}`);
    }
    if (group.MinSize !== 1 || group.MaxSize !== 1 || group.DesiredCapacity !== 1) {
      Object.assign(update, { MinSize: 1, MaxSize: 1, DesiredCapacity: 1 });
      diffs.push(`capacity ${group.MinSize}/${group.MaxSize}/${group.DesiredCapacity} → 1/1/1`);
    }
    if (group.VPCZoneIdentifier !== node.subnetId) {
      update.VPCZoneIdentifier = node.subnetId;
      diffs.push(`subnets ${group.VPCZoneIdentifier} → ${node.subnetId}`);
    }
    if (diffs.length > 0) {
      await ctx.call('UpdateAutoScalingGroup', (abortSignal) => ctx.asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: name, ...update }), { abortSignal }), { signal });
      changes.push({ resource: 'auto-scaling-group', action: 'updated', id: name, detail: diffs.join('; ') });
    } else {
      changes.push({ resource: 'auto-scaling-group', action: 'unchanged', id: name });
    }
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

  if (group && tagsToRecord(group.Tags)[TAG.launchHook] !== LAUNCH_HOOK_NAME) {
    await ctx.call('CreateOrUpdateTags', (abortSignal) =>
      ctx.asg.send(
        new CreateOrUpdateTagsCommand({ Tags: [{ ResourceId: name, ResourceType: 'auto-scaling-group', Key: TAG.launchHook, Value: LAUNCH_HOOK_NAME, PropagateAtLaunch: false }] }),
        { abortSignal },
      ),
    { signal });
  }
  return previousTemplateId;
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
