import { parseCidr, parseIpv4, VOLUME_LIMITS, type VolumeType } from '@berth/core';
import { fault } from '../aws/aws-error.js';
import { draw, type SimContext } from '../sim-context.js';
import { agentConfigFromUserData } from '../user-data-config.js';
import type { SimEni, SimInstance, SimSnapshot, SimVolume, SimVolumeModification, Tags } from './entities.js';

export const TAG_CLUSTER = 'berth:cluster';
export const TAG_NODE = 'berth:node';
export const TAG_REVISION = 'berth:revision';
export const TAG_PHASE = 'berth:phase';

/** The EC2 resource type (in ARNs and tag-change events) of each taggable id prefix. */
const TAGGABLE_TYPES: Readonly<Record<string, string>> = { i: 'instance', vol: 'volume', eni: 'network-interface', snap: 'snapshot', lt: 'launch-template' };

/** A block device the launch creates (from the launch template's BlockDeviceMappings). */
export interface LaunchVolume {
  readonly deviceName: string;
  readonly sizeGiB: number;
  readonly type: string;
  readonly encrypted: boolean;
  readonly deleteOnTermination: boolean;
  readonly tags: Tags;
}

/** RunInstances as an Auto Scaling launch activity makes it, already resolved from the group and its template. */
export interface LaunchRequest {
  readonly groupName: string;
  readonly launchTemplate: { readonly id: string; readonly name: string; readonly version: number };
  readonly eniId: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly keyName: string | null;
  readonly userData: string | null;
  readonly iamInstanceProfile: string | null;
  readonly metadataOptions: SimInstance['metadataOptions'];
  readonly instanceTags: Tags;
  readonly volumes: readonly LaunchVolume[];
  /** The template's `InstanceMarketOptions.MarketType` (SPOT-1); absent: on-demand. */
  readonly market?: 'spot';
}

/**
 * EC2 and EBS: instances, network interfaces, volumes, snapshots, tags. Synchronous; failures
 * are `SimFault`s with AWS's error codes. The rules and their sources: docs/aws-behaviour.md.
 */
export class Ec2 {
  readonly #ctx: SimContext;
  /** Volumes whose creation fails after CreateVolume answered (KMS-3), with why. */
  readonly #failingCreations = new Map<string, string>();

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
  }

  /** The volume, still `creating`, will disappear instead of becoming available (KMS-3: an unusable key). */
  failCreation(volumeId: string, reason: string): void {
    this.#failingCreations.set(volumeId, reason);
  }

  get #now(): number {
    return this.#ctx.scheduler.nowMs;
  }

  /** When a just-created resource becomes visible to describes (eventual consistency). */
  visibleAt(): number {
    const lag = this.#ctx.faults.consistencyLag;
    if (lag && this.#now < lag.untilMs) return this.#now + lag.lagMs;
    return this.#now + draw(this.#ctx.rng.consistency, this.#ctx.options.timings.consistencyLagMs);
  }

  isVisible(e: { readonly visibleAtMs: number }): boolean {
    return this.#now >= e.visibleAtMs;
  }

  #trace(kind: string, inst: SimInstance, detail: Record<string, unknown> = {}): void {
    this.#ctx.trace.record(kind, { ...(inst.nodeId !== null && { nodeId: inst.nodeId }), instanceId: inst.id, ...detail });
  }

  // ---- instances ----

  /**
   * Launches an instance as an Auto Scaling launch activity does (RunInstances with the
   * group's launch template). Throws a `SimFault` when the launch fails; the group records it.
   */
  launch(req: LaunchRequest): SimInstance {
    const { state, faults, options } = this.#ctx;
    const eni = state.enis.get(req.eniId);
    if (!eni || eni.deleted) throw fault('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${req.eniId}' does not exist`);
    const image = state.images.get(req.imageId);
    if (!image) throw fault('InvalidAMIID.NotFound', `The image id '[${req.imageId}]' does not exist`);
    if (req.iamInstanceProfile !== null && !this.#ctx.iam.instanceProfiles.has(req.iamInstanceProfile)) {
      throw fault('InvalidParameterValue', `Value (${req.iamInstanceProfile}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name`);
    }
    if (req.keyName !== null && !state.keyPairs.has(req.keyName)) throw fault('InvalidKeyPair.NotFound', `The key pair '${req.keyName}' does not exist`);
    if (faults.azDown(eni.az, this.#now)) {
      throw fault('InsufficientInstanceCapacity', `We currently do not have sufficient ${req.instanceType} capacity in the Availability Zone you requested (${eni.az}).`);
    }
    if (eni.status !== 'available') {
      throw fault('InvalidNetworkInterface.InUse', `Interface: [${eni.id}] in use.`);
    }
    const spot = options.spot === true || req.market === 'spot';
    if (spot && faults.spotCapacityMissing(eni.az, this.#now)) throw spotCapacityFault();
    const id = state.nextId('i');
    const tags: Tags = {
      ...req.instanceTags,
      'aws:autoscaling:groupName': req.groupName,
      'aws:ec2launchtemplate:id': req.launchTemplate.id,
      'aws:ec2launchtemplate:version': String(req.launchTemplate.version),
    };
    const parsed = agentConfigFromUserData(req.userData);
    const inst: SimInstance = {
      id,
      clusterName: tags[TAG_CLUSTER] ?? null,
      nodeId: tags[TAG_NODE] ?? null,
      groupName: req.groupName,
      az: eni.az,
      subnetId: eni.subnetId,
      vpcId: eni.vpcId,
      eniId: eni.id,
      privateIp: eni.ip,
      imageId: req.imageId,
      instanceType: req.instanceType,
      keyName: req.keyName,
      launchTemplate: req.launchTemplate,
      userData: req.userData,
      agentConfig: parsed.config,
      iamInstanceProfile: req.iamInstanceProfile,
      rootVolumeId: null,
      rootDeviceName: image.rootDeviceName,
      metadataOptions: req.metadataOptions,
      ec2State: 'pending',
      lifecycleState: 'Pending',
      healthStatus: 'Healthy',
      tags,
      launchedAtMs: this.#now,
      visibleAtMs: this.visibleAt(),
      terminatedAtMs: null,
      stateReason: null,
      spot,
      spotNoticeAtMs: null,
      scheduledEvents: [],
      generation: 0,
      hookTimeoutEv: null,
      hookGlobalDeadlineMs: null,
    };
    state.instances.set(id, inst);
    state.indexInstanceTags(id, inst.tags, true);
    eni.status = 'in-use';
    eni.attachedInstanceId = id;
    // Block devices: the template's TagSpecifications of type `volume` tag every volume the launch creates, the root volume included.
    let rootVolumeId: string | null = null;
    for (const v of req.volumes) {
      const vol = this.#newVolume({ az: eni.az, sizeGiB: v.sizeGiB, type: v.type, iops: null, throughputMiBps: null, encrypted: v.encrypted, kmsKeyArn: null, snapshotId: null, tags: v.tags, state: 'in-use', launchedWith: id });
      vol.attachment = { instanceId: id, device: v.deviceName, state: 'attached', deleteOnTermination: v.deleteOnTermination, attachedAtMs: this.#now };
      if (v.deviceName === image.rootDeviceName) rootVolumeId = vol.id;
      // `launchedWith`: created by an instance's launch (its root volume), not a node's data volume.
      this.#ctx.trace.record('volume.created', { ...nodeOf(vol.tags), volumeId: vol.id, az: vol.az, sizeGiB: vol.sizeGiB, launchedWith: id, device: v.deviceName });
    }
    (inst as { rootVolumeId: string | null }).rootVolumeId = rootVolumeId;
    this.#trace('instance.launched', inst, { groupName: req.groupName, imageId: req.imageId, revision: tags[TAG_REVISION] ?? null, az: inst.az, rootVolumeId });
    this.#trace('eni.attached', inst, { eniId: eni.id, ip: eni.ip });
    if (parsed.config === null && parsed.reason !== null) this.#trace('agent.invalid-user-data', inst, { reason: parsed.reason });
    const slow = faults.slowImages.get(req.imageId) ?? 1;
    this.#ctx.scheduler.after(draw(this.#ctx.rng.ec2, options.timings.pendingToRunningMs), `running ${id}`, () => {
      if (inst.ec2State !== 'pending') return;
      this.#setState(inst, 'running');
      this.#ctx.asg.onInstanceRunning(inst);
      const gen = inst.generation;
      this.#ctx.scheduler.after(draw(this.#ctx.rng.ec2, options.timings.osBootMs, slow), `os boot ${id}`, () => {
        if (inst.generation !== gen || inst.ec2State !== 'running') return;
        this.#trace('instance.booted', inst);
        this.#ctx.agents.start(inst);
      });
    });
    return inst;
  }

  #setState(inst: SimInstance, to: SimInstance['ec2State']): void {
    const from = inst.ec2State;
    inst.ec2State = to;
    this.#trace('instance.state', inst, { from, to });
  }

  /**
   * Starts shutting the instance down. Non-root volumes detach during shutting-down; the root
   * volume (DeleteOnTermination) is deleted and the primary ENI released once it is terminated.
   */
  terminate(instanceId: string, reason: string): void {
    const inst = this.#ctx.state.instances.get(instanceId);
    if (!inst || inst.ec2State === 'shutting-down' || inst.ec2State === 'terminated') return;
    inst.generation++;
    inst.stateReason = reason;
    this.#setState(inst, 'shutting-down');
    this.#ctx.app.stopMember(inst.nodeId, inst.id, reason);
    this.#ctx.agents.stop(inst);
    const t = this.#ctx.options.timings;
    const shutdownMs = draw(this.#ctx.rng.ec2, t.shuttingDownMs);
    for (const vol of this.#ctx.state.volumes.values()) {
      if (vol.attachment?.instanceId !== inst.id || vol.id === inst.rootVolumeId) continue;
      const startMs = Math.min(draw(this.#ctx.rng.ebs, t.volumeDetachStartMs), Math.max(0, shutdownMs - 1));
      this.#ctx.scheduler.after(startMs, `detach ${vol.id} on shutdown`, () => {
        if (vol.attachment?.instanceId === inst.id) this.#beginDetach(vol, Math.min(draw(this.#ctx.rng.ebs, t.volumeDetachMs), Math.max(0, shutdownMs - startMs)));
      });
    }
    this.#ctx.scheduler.after(shutdownMs, `terminated ${inst.id}`, () => this.#finishTermination(inst));
  }

  #finishTermination(inst: SimInstance): void {
    const { state, scheduler, faults } = this.#ctx;
    inst.terminatedAtMs = this.#now;
    for (const vol of [...state.volumes.values()]) {
      if (vol.attachment?.instanceId !== inst.id) continue;
      const deleteIt = vol.attachment.deleteOnTermination;
      this.#completeDetach(vol);
      if (deleteIt) this.#destroyVolume(vol, 'DeleteOnTermination');
    }
    this.#setState(inst, 'terminated');
    const eni = inst.eniId === null ? undefined : state.enis.get(inst.eniId);
    // ENI-8: an interface whose attachment says DeleteOnTermination goes with the instance.
    if (eni && eni.attachedInstanceId === inst.id && eni.deleteOnTermination === true) {
      eni.status = 'available';
      eni.attachedInstanceId = null;
      eni.deleted = true;
      state.enis.delete(eni.id);
      this.#trace('eni.deleted', inst, { eniId: eni.id, why: 'DeleteOnTermination' });
    } else if (eni && eni.attachedInstanceId === inst.id) {
      const release = (): void => {
        if (eni.attachedInstanceId !== inst.id) return;
        eni.status = 'available';
        eni.attachedInstanceId = null;
        this.#trace('eni.released', inst, { eniId: eni.id });
      };
      if (faults.eniReleaseDelayMs > 0) scheduler.after(faults.eniReleaseDelayMs, `release ${eni.id}`, release);
      else release();
    }
    this.#ctx.asg.onInstanceTerminated(inst);
    scheduler.after(this.#ctx.options.timings.terminatedVisibleMs, `forget ${inst.id}`, () => {
      state.instances.delete(inst.id);
      state.indexInstanceTags(inst.id, inst.tags, false);
      this.#trace('instance.forgotten', inst);
    });
  }

  /** EC2 loses the instance outside Auto Scaling (hardware, spot, AZ, a kill fault). */
  lose(instanceId: string, reason: string): void {
    const inst = this.#ctx.state.instances.get(instanceId);
    if (!inst || inst.ec2State === 'shutting-down' || inst.ec2State === 'terminated') return;
    this.terminate(instanceId, reason);
    this.#ctx.asg.onInstanceLost(inst);
  }

  /** A live instance by id (visible or not), or a NotFound fault. */
  instance(instanceId: string, visibleOnly = false): SimInstance {
    const inst = this.#ctx.state.instances.get(instanceId);
    if (!inst || (visibleOnly && !this.isVisible(inst))) throw fault('InvalidInstanceID.NotFound', `The instance ID '${instanceId}' does not exist`);
    return inst;
  }

  // ---- tags ----

  /** The tag map of any taggable EC2 resource by id, or a NotFound fault named after its type. */
  taggable(resourceId: string): Tags {
    const s = this.#ctx.state;
    const prefix = resourceId.split('-')[0];
    const found =
      prefix === 'i' ? s.instances.get(resourceId)?.tags
      : prefix === 'vol' ? s.volumes.get(resourceId)?.tags
      : prefix === 'eni' ? s.enis.get(resourceId)?.tags
      : prefix === 'snap' ? s.snapshots.get(resourceId)?.tags
      : prefix === 'lt' ? s.launchTemplates.get(resourceId)?.tags
      : undefined;
    if (found) return found;
    const kind = prefix === 'i' ? 'InvalidInstanceID' : prefix === 'vol' ? 'InvalidVolume' : prefix === 'eni' ? 'InvalidNetworkInterfaceID' : prefix === 'snap' ? 'InvalidSnapshot' : prefix === 'lt' ? 'InvalidLaunchTemplateId' : 'InvalidID';
    throw fault(`${kind}.NotFound`, `The ID '${resourceId}' does not exist`);
  }

  createTags(resourceIds: readonly string[], tags: Tags): void {
    const targets = resourceIds.map((id) => ({ id, tags: this.taggable(id) }));
    for (const t of targets) {
      let count = 0;
      for (const k in t.tags) if (!k.startsWith('aws:')) count++;
      for (const k in tags) if (!(k in t.tags) && !k.startsWith('aws:')) count++;
      const tooMany = count > 50;
      if (tooMany) throw fault('TagLimitExceeded', `The maximum number of Tags for a resource is 50 (${t.id}).`);
    }
    for (const t of targets) {
      const changed = Object.keys(tags).filter((k) => t.tags[k] !== tags[k]);
      const instance = t.id.startsWith('i-') && this.#ctx.state.instances.has(t.id);
      if (instance) this.#ctx.state.indexInstanceTags(t.id, Object.fromEntries(changed.filter((k) => k in t.tags).map((k) => [k, t.tags[k] as string])), false);
      Object.assign(t.tags, tags);
      if (instance) this.#ctx.state.indexInstanceTags(t.id, Object.fromEntries(changed.map((k) => [k, tags[k] as string])), true);
      const phase = tags[TAG_PHASE];
      if (phase !== undefined && t.id.startsWith('i-')) {
        const inst = this.#ctx.state.instances.get(t.id) as SimInstance;
        this.#trace('instance.phase', inst, { phase });
      }
      this.#tagsChanged(t.id, t.tags, changed);
    }
  }

  deleteTags(resourceIds: readonly string[], keys: readonly string[]): void {
    const targets = resourceIds.map((id) => ({ id, tags: this.taggable(id) }));
    for (const t of targets) {
      const changed = keys.filter((k) => k in t.tags);
      if (t.id.startsWith('i-') && this.#ctx.state.instances.has(t.id)) this.#ctx.state.indexInstanceTags(t.id, Object.fromEntries(changed.map((k) => [k, t.tags[k] as string])), false);
      for (const k of keys) delete t.tags[k];
      this.#tagsChanged(t.id, t.tags, changed);
    }
  }

  /** Tag-change events sent so far, per resource: the event's `detail.version`. */
  readonly #tagVersions = new Map<string, number>();

  /**
   * EB-7: a change to a resource's tags (CreateTags, DeleteTags) sends a `Tag Change on Resource`
   * event to the default bus, carrying the changed keys and the resource's tags after the change.
   * Tags given at creation send none here (AWS does not say whether they do).
   */
  #tagsChanged(resourceId: string, tags: Tags, changedKeys: readonly string[]): void {
    if (changedKeys.length === 0) return;
    const type = TAGGABLE_TYPES[resourceId.split('-')[0] ?? ''];
    if (type === undefined) return;
    const a = this.#ctx.account;
    const version = (this.#tagVersions.get(resourceId) ?? 0) + 1;
    this.#tagVersions.set(resourceId, version);
    this.#ctx.events.emit({
      source: 'aws.tag',
      detailType: 'Tag Change on Resource',
      resources: [`arn:${a.partition}:ec2:${a.region}:${type === 'snapshot' ? '' : a.accountId}:${type}/${resourceId}`],
      detail: { 'changed-tag-keys': [...changedKeys], service: 'ec2', 'resource-type': type, version, tags: { ...tags } },
    });
  }

  // ---- network interfaces ----

  createNetworkInterface(p: { subnetId: string; ip: string | null; securityGroupIds: readonly string[]; description: string; tags: Tags }): SimEni {
    const { state } = this.#ctx;
    const subnet = state.subnets.get(p.subnetId);
    if (!subnet) throw fault('InvalidSubnetID.NotFound', `The subnet ID '${p.subnetId}' does not exist`);
    for (const g of p.securityGroupIds) {
      const sg = state.securityGroups.get(g);
      if (!sg) throw fault('InvalidGroup.NotFound', `The security group '${g}' does not exist`);
      if (sg.vpcId !== subnet.vpcId) throw fault('InvalidParameter', `Security group ${g} and subnet ${p.subnetId} belong to different networks.`);
    }
    const cidr = parseCidr(subnet.cidr);
    if (!cidr) throw new Error(`subnet ${subnet.id} has an invalid CIDR ${subnet.cidr}`);
    let ip = p.ip;
    if (ip === null) ip = this.#freeIp(subnet.id, cidr);
    const n = parseIpv4(ip);
    if (n === null || n < cidr.first || n > cidr.last) {
      throw fault('InvalidParameterValue', `Address ${ip} does not fall within the subnet's address range`);
    }
    // The first four and the last address of every subnet are AWS's.
    if (n < cidr.first + 4 || n === cidr.last) throw fault('InvalidParameterValue', `Address ${ip} is in subnet's reserved address range`);
    for (const e of state.enis.values()) {
      if (!e.deleted && e.subnetId === p.subnetId && e.ip === ip) throw fault('InvalidIPAddress.InUse', `The specified address is already in use.`);
    }
    const eni: SimEni = {
      id: state.nextId('eni'),
      subnetId: subnet.id,
      vpcId: subnet.vpcId,
      az: subnet.az,
      ip,
      description: p.description,
      status: 'available',
      attachedInstanceId: null,
      tags: { ...p.tags },
      securityGroupIds: [...p.securityGroupIds],
      visibleAtMs: this.visibleAt(),
      deleted: false,
    };
    state.enis.set(eni.id, eni);
    this.#ctx.trace.record('eni.created', { ...nodeOf(eni.tags), eniId: eni.id, ip: eni.ip, subnetId: eni.subnetId });
    return eni;
  }

  #freeIp(subnetId: string, cidr: { first: number; last: number }): string {
    const used = new Set([...this.#ctx.state.enis.values()].filter((e) => !e.deleted && e.subnetId === subnetId).map((e) => e.ip));
    for (let n = cidr.first + 4; n < cidr.last; n++) {
      const ip = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
      if (!used.has(ip)) return ip;
    }
    throw fault('InsufficientFreeAddressesInSubnet', `The specified subnet ${subnetId} does not have enough free addresses to satisfy the request.`);
  }

  eni(eniId: string, visibleOnly = false): SimEni {
    const eni = this.#ctx.state.enis.get(eniId);
    if (!eni || eni.deleted || (visibleOnly && !this.isVisible(eni))) throw fault('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${eniId}' does not exist`);
    return eni;
  }

  modifyNetworkInterfaceGroups(eniId: string, groups: readonly string[]): void {
    const eni = this.eni(eniId);
    for (const g of groups) {
      const sg = this.#ctx.state.securityGroups.get(g);
      if (!sg) throw fault('InvalidGroup.NotFound', `The security group '${g}' does not exist`);
      if (sg.vpcId !== eni.vpcId) throw fault('InvalidParameter', `Security group ${g} and interface ${eniId} belong to different networks.`);
    }
    eni.securityGroupIds = [...groups];
  }

  deleteNetworkInterface(eniId: string): void {
    const eni = this.eni(eniId);
    if (eni.status !== 'available') throw fault('InvalidNetworkInterface.InUse', `Network interface '${eniId}' is currently in use.`);
    eni.deleted = true;
    this.#ctx.state.enis.delete(eniId);
    this.#ctx.trace.record('eni.deleted', { ...nodeOf(eni.tags), eniId });
    const nodeId = eni.tags[TAG_NODE];
    if (nodeId !== undefined) this.#ctx.app.deregister(nodeId);
  }

  // ---- volumes ----

  createVolume(p: {
    az: string;
    sizeGiB: number | null;
    type: string;
    iops: number | null;
    throughputMiBps: number | null;
    encrypted: boolean;
    kmsKeyId: string | null;
    snapshotId: string | null;
    tags: Tags;
  }): SimVolume {
    const { state } = this.#ctx;
    if (!this.#knownAz(p.az)) throw fault('InvalidParameterValue', `Invalid availability zone: [${p.az}]`);
    const limits = VOLUME_LIMITS[p.type as VolumeType];
    if (!limits) throw fault('InvalidParameterValue', `Value (${p.type}) for parameter volumeType is invalid.`);
    let data: SimVolume['data'] = null;
    let sizeGiB = p.sizeGiB;
    let encrypted = p.encrypted;
    if (p.snapshotId !== null) {
      const snap = state.snapshots.get(p.snapshotId);
      if (!snap) throw fault('InvalidSnapshot.NotFound', `The snapshot '${p.snapshotId}' does not exist.`);
      if (snap.state !== 'completed') throw fault('IncorrectState', `Snapshot is in invalid state - pending`);
      sizeGiB ??= snap.sizeGiB;
      if (sizeGiB < snap.sizeGiB) throw fault('InvalidParameterValue', `Volume of ${sizeGiB}GiB is too small; minimum is ${snap.sizeGiB}GiB.`);
      data = snap.data ? { ...snap.data } : null;
      encrypted = encrypted || snap.encrypted;
    }
    if (sizeGiB === null) throw fault('MissingParameter', 'The request must contain the parameter size or snapshotId');
    const [lo, hi] = limits.sizeGiB;
    if (sizeGiB < lo || sizeGiB > hi) throw fault('InvalidParameterValue', `Volume of ${sizeGiB}GiB is out of range for ${p.type} (${lo}-${hi} GiB).`);
    checkPerformance(p.type, p.iops, p.throughputMiBps);
    let kmsKeyArn: string | null = null;
    let unknownKey = false;
    if (p.kmsKeyId !== null) {
      if (!encrypted) throw fault('InvalidParameterDependency', 'The parameter KmsKeyId requires the parameter Encrypted to be set.');
      const key = state.kmsKey(p.kmsKeyId);
      // EBS-11: EBS checks the key asynchronously; a key that does not exist fails the volume after CreateVolume answered.
      unknownKey = key === null;
      kmsKeyArn = key?.arn ?? this.#keyArn(p.kmsKeyId);
    }
    const vol = this.#newVolume({ az: p.az, sizeGiB, type: p.type, iops: p.iops, throughputMiBps: p.throughputMiBps, encrypted, kmsKeyArn, snapshotId: p.snapshotId, tags: p.tags, state: 'creating', launchedWith: null });
    if (unknownKey) this.failCreation(vol.id, `KMS key ${p.kmsKeyId ?? ''} not found`);
    vol.data = data;
    this.#ctx.trace.record('volume.created', { ...nodeOf(vol.tags), volumeId: vol.id, az: vol.az, sizeGiB: vol.sizeGiB, snapshotId: p.snapshotId });
    this.#ctx.scheduler.after(draw(this.#ctx.rng.ebs, this.#ctx.options.timings.volumeCreateMs), `volume ${vol.id} available`, () => {
      if (vol.state !== 'creating') return;
      const failure = this.#failingCreations.get(vol.id);
      if (failure !== undefined) {
        this.#failingCreations.delete(vol.id);
        this.#destroyVolume(vol, `creation failed: ${failure}`);
        return;
      }
      vol.state = 'available';
      this.#ctx.trace.record('volume.state', { ...nodeOf(vol.tags), volumeId: vol.id, to: 'available' });
    });
    return vol;
  }

  /** The ARN a key reference stands for (`arn:…`, `alias/…` or a key id). */
  #keyArn(ref: string): string {
    if (ref.startsWith('arn:')) return ref;
    const a = this.#ctx.account;
    return `arn:${a.partition}:kms:${a.region}:${a.accountId}:${ref.startsWith('alias/') ? ref : `key/${ref}`}`;
  }

  #knownAz(az: string): boolean {
    const region = this.#ctx.account.region;
    return az.startsWith(region) && /^[a-z]$/.test(az.slice(region.length));
  }

  #newVolume(p: {
    az: string;
    sizeGiB: number;
    type: string;
    iops: number | null;
    throughputMiBps: number | null;
    encrypted: boolean;
    kmsKeyArn: string | null;
    snapshotId: string | null;
    tags: Tags;
    state: SimVolume['state'];
    launchedWith: string | null;
  }): SimVolume {
    const vol: SimVolume = {
      id: this.#ctx.state.nextId('vol'),
      az: p.az,
      sizeGiB: p.sizeGiB,
      type: p.type,
      iops: p.iops ?? (p.type === 'gp3' ? 3000 : null),
      throughputMiBps: p.throughputMiBps ?? (p.type === 'gp3' ? 125 : null),
      encrypted: p.encrypted,
      kmsKeyArn: p.kmsKeyArn,
      state: p.state,
      attachment: null,
      tags: { ...p.tags },
      snapshotId: p.snapshotId,
      launchedWith: p.launchedWith,
      data: null,
      createdAtMs: this.#now,
      visibleAtMs: this.visibleAt(),
      modification: null,
      modificationStarts: [],
      attachEv: null,
    };
    this.#ctx.state.volumes.set(vol.id, vol);
    return vol;
  }

  volume(volumeId: string, visibleOnly = false): SimVolume {
    const vol = this.#ctx.state.volumes.get(volumeId);
    if (!vol || vol.state === 'deleted' || (visibleOnly && !this.isVisible(vol))) throw fault('InvalidVolume.NotFound', `The volume '${volumeId}' does not exist.`);
    return vol;
  }

  /** AttachVolume: single attach, same AZ, a running instance. Authorization (incl. KMS) happened on arrival. */
  attachVolume(volumeId: string, instanceId: string, device: string): SimVolume {
    const { scheduler, faults, options } = this.#ctx;
    const vol = this.volume(volumeId);
    const inst = this.instance(instanceId);
    if (inst.ec2State === 'terminated') throw fault('InvalidInstanceID.NotFound', `The instance ID '${instanceId}' does not exist`);
    if (inst.ec2State !== 'running' && inst.ec2State !== 'stopped') throw fault('IncorrectInstanceState', `Instance '${instanceId}' is not 'running'.`);
    if (vol.state === 'creating' || vol.state === 'deleting') throw fault('IncorrectState', `vol ${vol.id} is in state '${vol.state}'.`);
    if (vol.attachment !== null) throw fault('VolumeInUse', `${vol.id} is already attached to an instance`);
    if (vol.az !== inst.az) throw fault('InvalidVolume.ZoneMismatch', `The volume '${vol.id}' is not in the same availability zone as instance '${instanceId}'`);
    for (const other of this.#ctx.state.volumes.values()) {
      if (other.attachment?.instanceId === instanceId && other.attachment.device === device) {
        throw fault('InvalidParameterValue', `Invalid value '${device}' for unixDevice. Attachment point ${device} is already in use`);
      }
    }
    vol.attachment = { instanceId, device, state: 'attaching', deleteOnTermination: false, attachedAtMs: this.#now };
    vol.state = 'in-use';
    this.#ctx.trace.record('volume.attachment', { ...nodeOf(vol.tags), instanceId, volumeId, state: 'attaching' });
    const t = options.timings;
    let delay = draw(this.#ctx.rng.ebs, t.attachMs, faults.slowAttach.get(inst.nodeId ?? '') ?? 1);
    if (this.#ctx.rng.ebs.chance(t.attachHangChance)) delay += draw(this.#ctx.rng.ebs, t.attachHangMs);
    const stuckUntil = faults.stuckAttach.get(inst.nodeId ?? '');
    if (stuckUntil !== undefined && stuckUntil > this.#now) delay = Math.max(delay, stuckUntil - this.#now);
    vol.attachEv = scheduler.after(delay, `attached ${vol.id}`, () => {
      vol.attachEv = null;
      if (vol.attachment?.instanceId !== instanceId || vol.attachment.state !== 'attaching') return;
      vol.attachment.state = 'attached';
      this.#ctx.trace.record('volume.attachment', { ...nodeOf(vol.tags), instanceId, volumeId, state: 'attached' });
    });
    return vol;
  }

  /** ENI-8: ModifyNetworkInterfaceAttribute's `Attachment` (DeleteOnTermination of the current attachment). */
  modifyEniAttachment(eniId: string, attachmentId: string, deleteOnTermination: boolean): void {
    const eni = this.eni(eniId);
    if (eni.attachedInstanceId === null || attachmentId !== eniAttachmentId(eni)) {
      throw fault('InvalidAttachmentID.NotFound', `The attachment ID '${attachmentId}' does not exist`);
    }
    eni.deleteOnTermination = deleteOnTermination;
    this.#ctx.trace.record('eni.attachment-modified', { ...nodeOf(eni.tags), eniId, instanceId: eni.attachedInstanceId, deleteOnTermination });
  }

  /** ENI-9: DetachNetworkInterface. The primary interface (device index 0) cannot be detached. */
  detachNetworkInterface(attachmentId: string): void {
    const eni = [...this.#ctx.state.enis.values()].find((e) => !e.deleted && e.attachedInstanceId !== null && eniAttachmentId(e) === attachmentId);
    if (!eni) throw fault('InvalidAttachmentID.NotFound', `The attachment ID '${attachmentId}' does not exist`);
    if ((eni.deviceIndex ?? 0) === 0) throw fault('OperationNotPermitted', `The network interface at device index 0 cannot be detached.`);
    eni.status = 'available';
    eni.attachedInstanceId = null;
  }

  /** EBS-20: ModifyInstanceAttribute's BlockDeviceMappings (DeleteOnTermination of attached volumes; default true). */
  modifyBlockDevices(instanceId: string, mappings: readonly { readonly deviceName: string; readonly volumeId: string | null; readonly deleteOnTermination: boolean }[]): void {
    const inst = this.instance(instanceId, true);
    if (inst.ec2State === 'terminated') throw fault('IncorrectInstanceState', `The instance '${instanceId}' is not in a state from which it can be modified.`);
    const attached = [...this.#ctx.state.volumes.values()].filter((v) => v.attachment?.instanceId === instanceId);
    const targets = mappings.map((m) => {
      const vol = attached.find((v) => v.attachment?.device === m.deviceName && (m.volumeId === null || v.id === m.volumeId));
      if (!vol) throw fault('InvalidInstanceAttributeValue', `No device is currently mapped at ${m.deviceName}`);
      return { vol, deleteOnTermination: m.deleteOnTermination };
    });
    for (const t of targets) {
      const a = t.vol.attachment as NonNullable<SimVolume['attachment']>;
      t.vol.attachment = { ...a, deleteOnTermination: t.deleteOnTermination };
      this.#ctx.trace.record('volume.attachment-modified', { ...nodeOf(t.vol.tags), volumeId: t.vol.id, instanceId, deleteOnTermination: t.deleteOnTermination });
    }
  }

  detachVolume(volumeId: string, instanceId: string | null): SimVolume {
    const vol = this.volume(volumeId);
    if (!vol.attachment || (instanceId !== null && vol.attachment.instanceId !== instanceId)) {
      throw fault('IncorrectState', `Volume '${volumeId}' is in the 'available' state.`);
    }
    if (vol.id === this.#ctx.state.instances.get(vol.attachment.instanceId)?.rootVolumeId) {
      throw fault('OperationNotPermitted', `Unable to detach root volume '${volumeId}' from instance '${vol.attachment.instanceId}'`);
    }
    if (vol.attachment.state !== 'detaching') this.#beginDetach(vol, draw(this.#ctx.rng.ebs, this.#ctx.options.timings.volumeDetachMs));
    return vol;
  }

  #beginDetach(vol: SimVolume, durationMs: number): void {
    if (!vol.attachment || vol.attachment.state === 'detaching') return;
    this.#ctx.scheduler.cancel(vol.attachEv);
    vol.attachment.state = 'detaching';
    const instanceId = vol.attachment.instanceId;
    this.#ctx.trace.record('volume.attachment', { ...nodeOf(vol.tags), instanceId, volumeId: vol.id, state: 'detaching' });
    vol.attachEv = this.#ctx.scheduler.after(durationMs, `detached ${vol.id}`, () => {
      if (vol.attachment?.instanceId === instanceId) this.#completeDetach(vol);
    });
  }

  #completeDetach(vol: SimVolume): void {
    if (!vol.attachment) return;
    this.#ctx.scheduler.cancel(vol.attachEv);
    vol.attachEv = null;
    const instanceId = vol.attachment.instanceId;
    vol.attachment = null;
    vol.state = 'available';
    this.#ctx.trace.record('volume.attachment', { ...nodeOf(vol.tags), instanceId, volumeId: vol.id, state: 'detached' });
  }

  deleteVolume(volumeId: string): void {
    const vol = this.volume(volumeId);
    if (vol.attachment !== null || vol.state === 'in-use') {
      throw fault('VolumeInUse', `Volume ${volumeId} is currently attached to ${vol.attachment?.instanceId ?? 'an instance'}`);
    }
    this.#destroyVolume(vol, 'DeleteVolume');
  }

  #destroyVolume(vol: SimVolume, why: string): void {
    vol.state = 'deleted';
    this.#ctx.state.volumes.delete(vol.id);
    this.#ctx.trace.record('volume.deleted', { ...nodeOf(vol.tags), volumeId: vol.id, why, ...(vol.launchedWith !== null && { launchedWith: vol.launchedWith }) });
    if (vol.data !== null) this.#ctx.app.onVolumeDestroyed(vol);
  }

  modifyVolume(volumeId: string, target: { sizeGiB: number | null; iops: number | null; throughputMiBps: number | null; type: string | null }): SimVolume {
    const vol = this.volume(volumeId);
    const t = this.#ctx.options.timings;
    if (vol.modification && vol.modification.state !== 'completed') {
      throw fault('IncorrectModificationState', `Cannot modify volume ${volumeId} as it is currently in the modification state ${vol.modification.state}`);
    }
    // EBS-12 (older documented rule, opt-in): six hours between modifications of a volume.
    const lastStart = vol.modificationStarts[vol.modificationStarts.length - 1];
    if (this.#ctx.options.volumeModificationRule === 'six-hours' && lastStart !== undefined && this.#now < lastStart + 6 * 3600_000) {
      throw fault('VolumeModificationRateExceeded', `You've reached the maximum modification rate per volume limit. Wait at least 6 hours between modifications per EBS volume. The next modification of ${volumeId} is possible after ${new Date(lastStart + 6 * 3600_000).toISOString()}.`);
    }
    // EBS-7: at most four modifications per volume in a rolling 24 hours.
    const dayAgo = this.#now - 24 * 3600_000;
    while (vol.modificationStarts.length > 0 && (vol.modificationStarts[0] as number) <= dayAgo) vol.modificationStarts.shift();
    if (vol.modificationStarts.length >= 4) {
      const nextMs = (vol.modificationStarts[0] as number) + 24 * 3600_000;
      throw fault('VolumeModificationRateExceeded', `You've reached the maximum modification rate per volume limit. The next modification of ${volumeId} is possible after ${new Date(nextMs).toISOString()}.`);
    }
    const sizeGiB = target.sizeGiB ?? vol.sizeGiB;
    if (sizeGiB < vol.sizeGiB) throw fault('InvalidParameterValue', `New size cannot be smaller than existing size`);
    if (sizeGiB === vol.sizeGiB && target.iops === null && target.throughputMiBps === null && (target.type === null || target.type === vol.type)) {
      throw fault('InvalidParameterCombination', `New size, type, IOPS or throughput must differ from the current values.`);
    }
    // EBS-8: the target must be within the (new) type's limits.
    const type = target.type ?? vol.type;
    const limits = VOLUME_LIMITS[type as VolumeType];
    if (!limits) throw fault('InvalidParameterValue', `Value (${type}) for parameter volumeType is invalid.`);
    const [lo, hi] = limits.sizeGiB;
    if (sizeGiB < lo || sizeGiB > hi) throw fault('InvalidParameterValue', `Volume of ${sizeGiB}GiB is out of range for ${type} (${lo}-${hi} GiB).`);
    checkPerformance(type, target.iops, target.throughputMiBps);
    // EBS-13: values not given stay when the type stays (throughput: gp3 to gp3); a new type takes
    // 3,000 IOPS (gp3, io1, io2) and 125 MiB/s (gp3). The result must keep the type's ratios.
    const sameType = type === vol.type;
    const iops = target.iops ?? (limits.iops ? (sameType && vol.iops !== null ? vol.iops : 3000) : null);
    const throughputMiBps = target.throughputMiBps ?? (type === 'gp3' ? (sameType && vol.throughputMiBps !== null ? vol.throughputMiBps : 125) : null);
    if (iops !== null && limits.iopsPerGiB !== null && iops > limits.iopsPerGiB * sizeGiB) {
      throw fault('InvalidParameterValue', `Iops to volume size ratio of ${Math.round((iops / sizeGiB) * 100) / 100} is too high; maximum is ${limits.iopsPerGiB}.`);
    }
    if (type === 'gp3' && iops !== null && throughputMiBps !== null && throughputMiBps > iops / 4) {
      throw fault('InvalidParameterValue', `Throughput (MiBps) to iops ratio of ${Math.round((throughputMiBps / iops) * 1000) / 1000} is too high; maximum is 0.25 MiBps per iops.`);
    }
    const m: SimVolumeModification = {
      state: 'modifying',
      originalSizeGiB: vol.sizeGiB,
      targetSizeGiB: sizeGiB,
      originalType: vol.type,
      targetType: type,
      originalIops: vol.iops,
      targetIops: iops,
      originalThroughputMiBps: vol.throughputMiBps,
      targetThroughputMiBps: throughputMiBps,
      startedAtMs: this.#now,
      endedAtMs: null,
    };
    vol.modification = m;
    vol.modificationStarts.push(this.#now);
    this.#ctx.trace.record('volume.modification', { ...nodeOf(vol.tags), volumeId, state: 'modifying', targetSizeGiB: sizeGiB });
    this.#ctx.scheduler.after(draw(this.#ctx.rng.ebs, t.modifyModifyingMs), `optimizing ${volumeId}`, () => {
      m.state = 'optimizing';
      vol.sizeGiB = sizeGiB;
      vol.type = type;
      vol.iops = iops;
      vol.throughputMiBps = throughputMiBps;
      this.#ctx.trace.record('volume.modification', { ...nodeOf(vol.tags), volumeId, state: 'optimizing', sizeGiB });
      this.#ctx.agents.onVolumeGrown(vol);
      this.#ctx.scheduler.after(draw(this.#ctx.rng.ebs, t.modifyOptimizingMs), `completed ${volumeId}`, () => {
        m.state = 'completed';
        m.endedAtMs = this.#now;
        this.#ctx.trace.record('volume.modification', { ...nodeOf(vol.tags), volumeId, state: 'completed' });
      });
    });
    return vol;
  }

  createSnapshot(volumeId: string, description: string, tags: Tags): SimSnapshot {
    const vol = this.volume(volumeId);
    const { state } = this.#ctx;
    const snap: SimSnapshot = {
      id: state.nextId('snap'),
      volumeId,
      sizeGiB: vol.sizeGiB,
      state: 'pending',
      // Point in time: what the volume holds when the snapshot starts.
      data: vol.data ? { ...vol.data } : null,
      startedAtMs: this.#now,
      description,
      tags: { ...tags },
      visibleAtMs: this.visibleAt(),
      encrypted: vol.encrypted,
    };
    state.snapshots.set(snap.id, snap);
    this.#ctx.trace.record('snapshot.created', { ...nodeOf(vol.tags), snapshotId: snap.id, volumeId });
    this.#ctx.scheduler.after(draw(this.#ctx.rng.ebs, this.#ctx.options.timings.snapshotMs), `snapshot ${snap.id} completed`, () => {
      snap.state = 'completed';
      this.#ctx.trace.record('snapshot.completed', { ...nodeOf(vol.tags), snapshotId: snap.id });
    });
    return snap;
  }

  deleteSnapshot(snapshotId: string): void {
    const snap = this.#ctx.state.snapshots.get(snapshotId);
    if (!snap) throw fault('InvalidSnapshot.NotFound', `The snapshot '${snapshotId}' does not exist.`);
    this.#ctx.state.snapshots.delete(snapshotId);
    this.#ctx.trace.record('snapshot.deleted', { snapshotId });
  }
}

/** EBS-8: provisioned IOPS and throughput within the volume type's range (when given). */
/** SPOT-3: EC2 has no spot capacity for the request (Auto Scaling's activity adds "Launching EC2 instance failed."). */
function spotCapacityFault() {
  return fault('InsufficientInstanceCapacity', 'Could not launch Spot Instances. InsufficientInstanceCapacity - There is no Spot capacity available that matches your request.');
}

function checkPerformance(type: string, iops: number | null, throughputMiBps: number | null): void {
  const limits = VOLUME_LIMITS[type as VolumeType];
  if (!limits) return;
  if (iops !== null) {
    if (!limits.iops) throw fault('InvalidParameterCombination', `The parameter iops is not supported for ${type} volumes.`);
    const [lo, hi] = limits.iops;
    if (iops < lo || iops > hi) throw fault('InvalidParameterValue', `Volume iops of ${iops} is out of range for ${type} (${lo}-${hi}).`);
  }
  if (throughputMiBps !== null) {
    if (!limits.throughputMiBps) throw fault('InvalidParameterCombination', `The parameter throughput is not supported for ${type} volumes.`);
    const [lo, hi] = limits.throughputMiBps;
    if (throughputMiBps < lo || throughputMiBps > hi) throw fault('InvalidParameterValue', `Volume throughput of ${throughputMiBps} MiB/s is out of range for ${type} (${lo}-${hi}).`);
  }
}

/** The id of an interface's current attachment, as DescribeNetworkInterfaces shows it. */
export function eniAttachmentId(eni: SimEni): string {
  return `eni-attach-${eni.id.slice(4)}`;
}

export function nodeOf(tags: Tags): { nodeId?: string } {
  const n = tags[TAG_NODE];
  return n === undefined ? {} : { nodeId: n };
}
