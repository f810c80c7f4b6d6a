import { parseCidr, parseIpv4, type Phase } from '@berth/core';
import { awsError } from '../aws-api.js';
import { draw, type SimContext } from '../sim-context.js';
import type {
  BootstrapConfig,
  SimEni,
  SimInstance,
  SimSnapshot,
  SimVolume,
  Tags,
} from './entities.js';
import { matchesTags } from './world-state.js';

export const TAG_CLUSTER = 'berth:cluster';
export const TAG_NODE = 'berth:node';
export const TAG_REVISION = 'berth:revision';
export const TAG_PHASE = 'berth:phase';
export const TAG_PHASE_REASON = 'berth:phase-reason';

export interface LaunchRequest {
  readonly groupName: string;
  readonly subnetId: string;
  readonly eniId: string;
  readonly imageId: string;
  readonly instanceType: string;
  readonly launchTemplateId: string;
  readonly launchTemplateVersion: number;
  readonly bootstrap: BootstrapConfig;
  readonly tags: Tags;
}

type AttachListener = (volume: SimVolume) => void;

/** EC2 and EBS: instances, network interfaces, volumes and snapshots. Synchronous; errors are BerthDriverErrors. */
export class Ec2 {
  readonly #ctx: SimContext;
  /** Called when a volume's attachment becomes `attached` (the device shows up on the instance). */
  readonly #attachListeners = new Map<string, AttachListener[]>();

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
  }

  get #now(): number {
    return this.#ctx.scheduler.nowMs;
  }

  /** When a just-created resource becomes visible to describes. */
  visibleAt(): number {
    const lag = this.#ctx.faults.consistencyLag;
    if (lag && this.#now < lag.untilMs) return this.#now + lag.lagMs;
    return this.#now + draw(this.#ctx.rng.consistency, this.#ctx.options.timings.consistencyLagMs);
  }

  isVisible(e: { readonly visibleAtMs: number }): boolean {
    return this.#now >= e.visibleAtMs;
  }

  // ---- instances ----

  /** RunInstances as the group's launch activity does it. Throws when the launch fails. */
  launch(req: LaunchRequest): SimInstance {
    const { state, faults, options } = this.#ctx;
    const eni = state.enis.get(req.eniId);
    if (!eni || eni.deleted) throw awsError('RunInstances', 'InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${req.eniId}' does not exist`);
    if (faults.azDown(eni.az, this.#now)) {
      throw awsError('RunInstances', 'InsufficientInstanceCapacity', `We currently do not have sufficient ${req.instanceType} capacity in the Availability Zone you requested (${eni.az}).`, true);
    }
    if (eni.status !== 'available') {
      throw awsError(
        'RunInstances',
        'InvalidNetworkInterface.InUse',
        `Interface: [${eni.id}] in use by ${eni.attachedInstanceId ?? 'another instance'}.`,
        true,
      );
    }
    const id = state.nextId('i');
    const inst: SimInstance = {
      id,
      clusterName: req.tags[TAG_CLUSTER] ?? null,
      nodeId: req.tags[TAG_NODE] ?? null,
      groupName: req.groupName,
      az: eni.az,
      subnetId: eni.subnetId,
      eniId: eni.id,
      privateIp: eni.ip,
      imageId: req.imageId,
      instanceType: req.instanceType,
      launchTemplateId: req.launchTemplateId,
      launchTemplateVersion: req.launchTemplateVersion,
      bootstrap: req.bootstrap,
      ec2State: 'pending',
      lifecycleState: 'Pending',
      healthStatus: 'Healthy',
      tags: { ...req.tags, 'aws:autoscaling:groupName': req.groupName },
      launchedAtMs: this.#now,
      visibleAtMs: this.visibleAt(),
      terminatedAtMs: null,
      stateReason: null,
      spot: options.spot,
      spotNoticeAtMs: null,
      generation: 0,
      hookTimeoutEv: null,
      hookGlobalDeadlineMs: null,
    };
    state.instances.set(id, inst);
    eni.status = 'in-use';
    eni.attachedInstanceId = id;
    this.#trace('instance.launched', inst, { groupName: req.groupName, imageId: req.imageId, revision: req.tags[TAG_REVISION] ?? null, az: inst.az });
    this.#trace('eni.attached', inst, { eniId: eni.id, ip: eni.ip });
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

  #trace(kind: string, inst: SimInstance, detail: Record<string, unknown> = {}): void {
    this.#ctx.trace.record(kind, { ...(inst.nodeId !== null && { nodeId: inst.nodeId }), instanceId: inst.id, ...detail });
  }

  /**
   * Starts shutting the instance down (TerminateInstances, or the group terminating it).
   * Volumes detach during shutting-down; the ENI is released once it is terminated.
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
      if (vol.attachment?.instanceId !== inst.id) continue;
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
    // Whatever is still attached goes now.
    for (const vol of state.volumes.values()) {
      if (vol.attachment?.instanceId === inst.id) this.#completeDetach(vol);
    }
    this.#setState(inst, 'terminated');
    const eni = inst.eniId === null ? undefined : state.enis.get(inst.eniId);
    if (eni && eni.attachedInstanceId === inst.id) {
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

  /** CreateTags on an instance (the agent's phase reports). */
  tagInstance(instanceId: string, tags: Tags, operation = 'CreateTags'): void {
    const inst = this.#ctx.state.instances.get(instanceId);
    if (!inst || inst.ec2State === 'terminated') throw awsError(operation, 'InvalidInstanceID.NotFound', `The instance ID '${instanceId}' does not exist`);
    Object.assign(inst.tags, tags);
    const phase = tags[TAG_PHASE];
    if (phase !== undefined) {
      const reason = tags[TAG_PHASE_REASON];
      if (reason === undefined) delete inst.tags[TAG_PHASE_REASON];
      this.#trace('instance.phase', inst, { phase, ...(reason !== undefined && { reason }) });
      if (this.#ctx.options.notifications === 'all' && inst.clusterName !== null && inst.nodeId !== null) {
        this.#ctx.changes.publish(inst.clusterName, {
          atMs: this.#now,
          nodeId: inst.nodeId,
          instanceId: inst.id,
          kind: 'phase',
          detail: reason !== undefined ? `${phase}: ${reason}` : phase,
          phase: phase as Phase,
        });
      }
    }
  }

  describeInstances(filter: Readonly<Record<string, string>>): SimInstance[] {
    const out: SimInstance[] = [];
    for (const i of this.#ctx.state.instances.values()) if (this.isVisible(i) && matchesTags(i.tags, filter)) out.push(i);
    return out;
  }

  // ---- network interfaces ----

  createNetworkInterface(p: { subnetId: string; ip: string; securityGroupIds: readonly string[]; tags: Tags; clientToken?: string }): SimEni {
    const { state } = this.#ctx;
    const op = 'CreateNetworkInterface';
    if (p.clientToken !== undefined) {
      const prior = state.clientTokens.get(`${op}:${p.clientToken}`);
      const eni = prior === undefined ? undefined : state.enis.get(prior);
      if (eni) return eni;
    }
    const subnet = state.subnets.get(p.subnetId);
    if (!subnet) throw awsError(op, 'InvalidSubnetID.NotFound', `The subnet ID '${p.subnetId}' does not exist`);
    const cidr = parseCidr(subnet.cidr);
    const ip = parseIpv4(p.ip);
    if (!cidr || ip === null || ip < cidr.first + 4 || ip >= cidr.last) {
      throw awsError(op, 'InvalidParameterValue', `Address ${p.ip} does not fall within the subnet's address range or is reserved by AWS`);
    }
    for (const e of state.enis.values()) {
      if (!e.deleted && e.subnetId === p.subnetId && e.ip === p.ip) {
        throw awsError(op, 'InvalidIPAddress.InUse', `The specified address ${p.ip} is already in use by ${e.id}`);
      }
    }
    const eni: SimEni = {
      id: state.nextId('eni'),
      subnetId: subnet.id,
      az: subnet.az,
      ip: p.ip,
      status: 'available',
      attachedInstanceId: null,
      tags: { ...p.tags },
      securityGroupIds: [...p.securityGroupIds],
      visibleAtMs: this.visibleAt(),
      deleted: false,
    };
    state.enis.set(eni.id, eni);
    if (p.clientToken !== undefined) state.clientTokens.set(`${op}:${p.clientToken}`, eni.id);
    this.#ctx.trace.record('eni.created', { ...nodeOf(eni.tags), eniId: eni.id, ip: eni.ip, subnetId: eni.subnetId });
    return eni;
  }

  deleteNetworkInterface(eniId: string): void {
    const eni = this.#ctx.state.enis.get(eniId);
    if (!eni || eni.deleted) throw awsError('DeleteNetworkInterface', 'InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${eniId}' does not exist`);
    if (eni.status !== 'available') {
      throw awsError('DeleteNetworkInterface', 'InvalidNetworkInterface.InUse', `Network interface '${eniId}' is currently in use by ${eni.attachedInstanceId}.`);
    }
    eni.deleted = true;
    this.#ctx.state.enis.delete(eniId);
    this.#ctx.trace.record('eni.deleted', { ...nodeOf(eni.tags), eniId });
  }

  describeNetworkInterfaces(filter: Readonly<Record<string, string>>): SimEni[] {
    return [...this.#ctx.state.enis.values()].filter((e) => !e.deleted && this.isVisible(e) && matchesTags(e.tags, filter));
  }

  // ---- volumes ----

  createVolume(p: {
    az: string;
    sizeGiB: number;
    type: string;
    iops: number | null;
    throughputMiBps: number | null;
    snapshotId: string | null;
    tags: Tags;
    clientToken?: string;
  }): SimVolume {
    const { state, scheduler } = this.#ctx;
    const op = 'CreateVolume';
    if (p.clientToken !== undefined) {
      const prior = state.clientTokens.get(`${op}:${p.clientToken}`);
      const vol = prior === undefined ? undefined : state.volumes.get(prior);
      if (vol) return vol;
    }
    let data: SimVolume['data'] = null;
    if (p.snapshotId !== null) {
      const snap = state.snapshots.get(p.snapshotId);
      if (snap) {
        if (snap.state !== 'completed') throw awsError(op, 'IncorrectState', `Snapshot ${snap.id} is not completed yet`);
        if (p.sizeGiB < snap.sizeGiB) throw awsError(op, 'InvalidParameterValue', `Volume of ${p.sizeGiB} GiB is smaller than snapshot ${snap.id} (${snap.sizeGiB} GiB)`);
        data = snap.data ? { ...snap.data } : null;
      } else {
        // A snapshot made outside the simulation: it holds a file system but no log entries.
        data = { fileSystem: 'xfs', fsSizeGiB: p.sizeGiB, appIndex: 0 };
      }
    }
    const vol: SimVolume = {
      id: state.nextId('vol'),
      az: p.az,
      sizeGiB: p.sizeGiB,
      type: p.type,
      iops: p.iops,
      throughputMiBps: p.throughputMiBps,
      state: 'creating',
      attachment: null,
      tags: { ...p.tags },
      snapshotId: p.snapshotId,
      data,
      visibleAtMs: this.visibleAt(),
      modification: null,
      attachEv: null,
    };
    state.volumes.set(vol.id, vol);
    if (p.clientToken !== undefined) state.clientTokens.set(`${op}:${p.clientToken}`, vol.id);
    this.#ctx.trace.record('volume.created', { ...nodeOf(vol.tags), volumeId: vol.id, az: vol.az, sizeGiB: vol.sizeGiB, snapshotId: p.snapshotId });
    scheduler.after(draw(this.#ctx.rng.ebs, this.#ctx.options.timings.volumeCreateMs), `volume ${vol.id} available`, () => {
      if (vol.state !== 'creating') return;
      vol.state = 'available';
      this.#ctx.trace.record('volume.state', { ...nodeOf(vol.tags), volumeId: vol.id, to: 'available' });
    });
    return vol;
  }

  #volume(op: string, volumeId: string): SimVolume {
    const vol = this.#ctx.state.volumes.get(volumeId);
    if (!vol || vol.state === 'deleted') throw awsError(op, 'InvalidVolume.NotFound', `The volume '${volumeId}' does not exist.`);
    return vol;
  }

  attachVolume(volumeId: string, instanceId: string, device: string): SimVolume {
    const op = 'AttachVolume';
    const { state, scheduler, faults, options } = this.#ctx;
    const vol = this.#volume(op, volumeId);
    const inst = state.instances.get(instanceId);
    if (!inst || inst.ec2State === 'terminated') throw awsError(op, 'InvalidInstanceID.NotFound', `The instance ID '${instanceId}' does not exist`);
    if (inst.ec2State !== 'running') throw awsError(op, 'IncorrectInstanceState', `Instance '${instanceId}' is not 'running' (it is '${inst.ec2State}').`);
    if (vol.state === 'creating' || vol.state === 'deleting') throw awsError(op, 'IncorrectState', `vol ${vol.id} is '${vol.state}'.`, true);
    if (vol.attachment !== null) {
      throw awsError(op, 'VolumeInUse', `${vol.id} is already attached to an instance (${vol.attachment.instanceId}, ${vol.attachment.state}).`, true);
    }
    if (vol.az !== inst.az) {
      throw awsError(op, 'InvalidVolume.ZoneMismatch', `The volume '${vol.id}' is not in the same availability zone as instance '${instanceId}' (${vol.az} vs ${inst.az}).`);
    }
    vol.attachment = { instanceId, device, state: 'attaching' };
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
      const listeners = this.#attachListeners.get(vol.id);
      this.#attachListeners.delete(vol.id);
      for (const l of listeners ?? []) l(vol);
    });
    return vol;
  }

  /** Calls `fn` once the volume is attached (now, if it already is). */
  whenAttached(volume: SimVolume, fn: AttachListener): void {
    if (volume.attachment?.state === 'attached') return fn(volume);
    const list = this.#attachListeners.get(volume.id) ?? [];
    list.push(fn);
    this.#attachListeners.set(volume.id, list);
  }

  detachVolume(volumeId: string): SimVolume {
    const vol = this.#volume('DetachVolume', volumeId);
    if (!vol.attachment || vol.attachment.state === 'detaching') {
      throw awsError('DetachVolume', 'IncorrectState', `Volume '${volumeId}' is in the '${vol.state}' state${vol.attachment ? ' (detaching)' : ''}.`);
    }
    this.#beginDetach(vol, draw(this.#ctx.rng.ebs, this.#ctx.options.timings.volumeDetachMs));
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
    this.#attachListeners.delete(vol.id);
    this.#ctx.trace.record('volume.attachment', { ...nodeOf(vol.tags), instanceId, volumeId: vol.id, state: 'detached' });
  }

  deleteVolume(volumeId: string): void {
    const vol = this.#volume('DeleteVolume', volumeId);
    if (vol.attachment !== null || vol.state === 'in-use') {
      throw awsError('DeleteVolume', 'VolumeInUse', `Volume ${volumeId} is currently attached to ${vol.attachment?.instanceId ?? 'an instance'}`);
    }
    vol.state = 'deleted';
    this.#ctx.state.volumes.delete(volumeId);
    this.#ctx.trace.record('volume.deleted', { ...nodeOf(vol.tags), volumeId });
    this.#ctx.app.onVolumeDestroyed(vol);
  }

  modifyVolume(volumeId: string, sizeGiB: number): SimVolume {
    const op = 'ModifyVolume';
    const vol = this.#volume(op, volumeId);
    const t = this.#ctx.options.timings;
    if (vol.modification && vol.modification.state !== 'completed') {
      throw awsError(op, 'IncorrectModificationState', `Volume ${volumeId} is already being modified (${vol.modification.state}).`);
    }
    if (vol.modification && this.#now - vol.modification.startedAtMs < 6 * 3600_000) {
      throw awsError(op, 'VolumeModificationRateExceeded', `You've reached the maximum modification rate per volume limit. Wait at least 6 hours between modifications per EBS volume.`);
    }
    if (sizeGiB < vol.sizeGiB) throw awsError(op, 'InvalidParameterValue', `New size ${sizeGiB} GiB cannot be smaller than the current size ${vol.sizeGiB} GiB.`);
    if (sizeGiB === vol.sizeGiB) throw awsError(op, 'InvalidParameterCombination', `New size must differ from the current size (${vol.sizeGiB} GiB).`);
    const mod = { state: 'modifying' as const, originalSizeGiB: vol.sizeGiB, targetSizeGiB: sizeGiB, startedAtMs: this.#now };
    vol.modification = { ...mod };
    const m = vol.modification;
    this.#ctx.trace.record('volume.modification', { ...nodeOf(vol.tags), volumeId, state: 'modifying', targetSizeGiB: sizeGiB });
    this.#ctx.scheduler.after(draw(this.#ctx.rng.ebs, t.modifyModifyingMs), `optimizing ${volumeId}`, () => {
      m.state = 'optimizing';
      vol.sizeGiB = sizeGiB;
      this.#ctx.trace.record('volume.modification', { ...nodeOf(vol.tags), volumeId, state: 'optimizing', sizeGiB });
      this.#ctx.agents.onVolumeGrown(vol);
      this.#ctx.scheduler.after(draw(this.#ctx.rng.ebs, t.modifyOptimizingMs), `completed ${volumeId}`, () => {
        m.state = 'completed';
        this.#ctx.trace.record('volume.modification', { ...nodeOf(vol.tags), volumeId, state: 'completed' });
      });
    });
    return vol;
  }

  describeVolumes(filter: Readonly<Record<string, string>>): SimVolume[] {
    return [...this.#ctx.state.volumes.values()].filter((v) => this.isVisible(v) && matchesTags(v.tags, filter));
  }

  createSnapshot(volumeId: string, description: string, tags: Tags): SimSnapshot {
    const vol = this.#volume('CreateSnapshot', volumeId);
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
    };
    state.snapshots.set(snap.id, snap);
    this.#ctx.trace.record('snapshot.created', { ...nodeOf(vol.tags), snapshotId: snap.id, volumeId });
    this.#ctx.scheduler.after(draw(this.#ctx.rng.ebs, this.#ctx.options.timings.snapshotMs), `snapshot ${snap.id} completed`, () => {
      snap.state = 'completed';
      this.#ctx.trace.record('snapshot.completed', { ...nodeOf(vol.tags), snapshotId: snap.id });
    });
    return snap;
  }

  describeSnapshots(ids: readonly string[]): SimSnapshot[] {
    const out: SimSnapshot[] = [];
    for (const id of ids) {
      const s = this.#ctx.state.snapshots.get(id);
      if (s && this.isVisible(s)) out.push(s);
    }
    return out;
  }
}

function nodeOf(tags: Tags): { nodeId?: string } {
  const n = tags[TAG_NODE];
  return n === undefined ? {} : { nodeId: n };
}
