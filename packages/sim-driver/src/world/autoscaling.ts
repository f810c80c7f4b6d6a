import type { LifecycleState } from '@berth/core';
import { fault, SimFault } from '../aws/aws-error.js';
import { draw, type SimContext } from '../sim-context.js';
import type { SimGroup, SimGroupTag, SimInstance, SimLifecycleHook, Tags } from './entities.js';
import { nodeOf, TAG_NODE, type LaunchVolume } from './ec2.js';

const LAUNCH_HOOK = 'autoscaling:EC2_INSTANCE_LAUNCHING';
/** AWS caps the global timeout of a lifecycle action at 48 hours. */
const GLOBAL_TIMEOUT_CAP_MS = 48 * 3600_000;
/** Auto Scaling's default regional quota of groups (DescribeAccountLimits). */
export const GROUP_QUOTA = 500;
export const SERVICE_LINKED_ROLE = 'autoscaling.amazonaws.com';

export interface CreateGroupRequest {
  readonly name: string;
  readonly launchTemplate: { readonly id: string | null; readonly name: string | null; readonly version: string };
  readonly minSize: number;
  readonly maxSize: number;
  readonly desiredCapacity: number;
  readonly availabilityZones: readonly string[];
  readonly vpcZoneIdentifier: string;
  readonly hooks: readonly SimLifecycleHook[];
  readonly tags: ReadonlyMap<string, SimGroupTag>;
}

export interface UpdateGroupRequest {
  readonly launchTemplate?: { readonly id: string | null; readonly name: string | null; readonly version: string };
  readonly minSize?: number;
  readonly maxSize?: number;
  readonly desiredCapacity?: number;
  readonly availabilityZones?: readonly string[];
  readonly vpcZoneIdentifier?: string;
}

/** Auto Scaling: groups, lifecycle hooks, launch activities, scaling activities and the events it sends to EventBridge. */
export class AutoScaling {
  readonly #ctx: SimContext;

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
  }

  get #now(): number {
    return this.#ctx.scheduler.nowMs;
  }

  #trace(kind: string, inst: SimInstance, detail: Record<string, unknown> = {}): void {
    this.#ctx.trace.record(kind, { ...(inst.nodeId !== null && { nodeId: inst.nodeId }), instanceId: inst.id, ...detail });
  }

  // ---- groups ----

  group(name: string): SimGroup {
    const g = this.#ctx.state.groups.get(name);
    if (!g) throw fault('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup '${name}' not found`);
    return g;
  }

  groupArn(name: string, uuid: string): string {
    const a = this.#ctx.account;
    return `arn:${a.partition}:autoscaling:${a.region}:${a.accountId}:autoScalingGroup:${uuid}:autoScalingGroupName/${name}`;
  }

  #validatePlacement(azs: readonly string[], vpcZoneIdentifier: string): void {
    const { state } = this.#ctx;
    if (azs.length === 0 && vpcZoneIdentifier === '') {
      throw fault('ValidationError', 'At least one Availability Zone or VPC Subnet is required.');
    }
    const region = this.#ctx.account.region;
    for (const az of azs) {
      if (!az.startsWith(region) || !/^[a-z]$/.test(az.slice(region.length))) throw fault('ValidationError', `The availability zone ${az} is not legal.`);
    }
    for (const s of vpcZoneIdentifier.split(',').filter(Boolean)) {
      if (!state.subnets.has(s.trim())) throw fault('ValidationError', `The subnet ID '${s}' does not exist`);
    }
  }

  #templateRef(ref: { id: string | null; name: string | null; version: string }): { id: string; name: string; version: string } {
    let lt;
    try {
      lt = this.#ctx.launchTemplates.get(ref.id, ref.name);
    } catch {
      throw fault('ValidationError', `You must use a valid fully-formed launch template. The specified launch template, with template ${ref.id !== null ? `ID ${ref.id}` : `name ${ref.name}`}, does not exist.`);
    }
    const version = this.#ctx.launchTemplates.resolve(lt, ref.version);
    if (!version) {
      throw fault('ValidationError', `You must use a valid fully-formed launch template. The specified launch template version ${ref.version} of ${lt.id} does not exist.`);
    }
    // ASG-3 / LT: with a network interface in the template, its security groups must be part of the interface.
    const d = version.data as { NetworkInterfaces?: unknown[]; SecurityGroupIds?: unknown[]; SecurityGroups?: unknown[] };
    if ((d.NetworkInterfaces?.length ?? 0) > 0 && ((d.SecurityGroupIds?.length ?? 0) > 0 || (d.SecurityGroups?.length ?? 0) > 0)) {
      throw fault('InvalidQueryParameter', 'Invalid launch template: When a network interface is provided, the security groups must be a part of it.');
    }
    return { id: lt.id, name: lt.name, version: ref.version };
  }

  createGroup(p: CreateGroupRequest): SimGroup {
    const { state } = this.#ctx;
    if (state.groups.has(p.name)) throw fault('AlreadyExists', `AutoScalingGroup by this name already exists - A group with the name ${p.name} already exists`);
    if (state.groups.size >= state.groupQuota) {
      throw fault('LimitExceeded', `You have reached your quota of ${state.groupQuota} Auto Scaling groups for this region. (Request a quota increase for "Auto Scaling groups per region".)`);
    }
    if (!(p.minSize <= p.desiredCapacity && p.desiredCapacity <= p.maxSize)) {
      throw fault('ValidationError', `Desired capacity:${p.desiredCapacity} must be between the specified min size:${p.minSize} and max size:${p.maxSize}`);
    }
    this.#validatePlacement(p.availabilityZones, p.vpcZoneIdentifier);
    const lt = this.#templateRef(p.launchTemplate);
    // The first group of an account creates Auto Scaling's service-linked role (authorized on arrival).
    if (!this.#ctx.iam.serviceLinkedRoles.has(SERVICE_LINKED_ROLE)) {
      this.#ctx.iam.serviceLinkedRoles.add(SERVICE_LINKED_ROLE);
      this.#ctx.trace.record('iam.service-linked-role', { service: SERVICE_LINKED_ROLE });
    }
    const g: SimGroup = {
      name: p.name,
      arn: this.groupArn(p.name, this.#uuid('asg')),
      tags: new Map(p.tags),
      minSize: p.minSize,
      maxSize: p.maxSize,
      desiredCapacity: p.desiredCapacity,
      launchTemplate: lt,
      availabilityZones: [...p.availabilityZones],
      vpcZoneIdentifier: p.vpcZoneIdentifier,
      hooks: p.hooks.map((h) => ({ ...h })),
      suspended: new Set(),
      instanceIds: [],
      lastActivityError: null,
      activities: [],
      launchEv: null,
      launchFailures: 0,
      deleting: false,
      createdAtMs: this.#now,
    };
    // A group created with subnets only spans their AZs.
    if (g.availabilityZones.length === 0) g.availabilityZones = [...new Set(p.vpcZoneIdentifier.split(',').filter(Boolean).map((s) => state.subnets.get(s.trim())?.az ?? ''))];
    state.groups.set(g.name, g);
    this.#ctx.trace.record('group.created', { ...nodeOfGroup(g), groupName: g.name, launchTemplate: lt, availabilityZones: g.availabilityZones, vpcZoneIdentifier: g.vpcZoneIdentifier });
    this.reconcile(g);
    return g;
  }

  updateGroup(name: string, p: UpdateGroupRequest): void {
    const g = this.group(name);
    if (g.deleting) throw fault('ScalingActivityInProgress', `An update is not allowed while the group ${name} is being deleted.`);
    const min = p.minSize ?? g.minSize;
    const max = p.maxSize ?? g.maxSize;
    const desired = p.desiredCapacity ?? Math.min(max, Math.max(min, g.desiredCapacity));
    if (!(min <= desired && desired <= max)) throw fault('ValidationError', `Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`);
    if (p.availabilityZones !== undefined || p.vpcZoneIdentifier !== undefined) {
      this.#validatePlacement(p.availabilityZones ?? g.availabilityZones, p.vpcZoneIdentifier ?? g.vpcZoneIdentifier);
    }
    if (p.launchTemplate !== undefined) g.launchTemplate = this.#templateRef(p.launchTemplate);
    g.minSize = min;
    g.maxSize = max;
    g.desiredCapacity = desired;
    if (p.availabilityZones !== undefined) g.availabilityZones = [...p.availabilityZones];
    if (p.vpcZoneIdentifier !== undefined) g.vpcZoneIdentifier = p.vpcZoneIdentifier;
    this.#ctx.trace.record('group.updated', { ...nodeOfGroup(g), groupName: name, launchTemplate: g.launchTemplate, desiredCapacity: g.desiredCapacity });
    this.reconcile(g);
  }

  tagGroup(name: string, tags: ReadonlyMap<string, SimGroupTag>): void {
    const g = this.group(name);
    for (const [k, v] of tags) g.tags.set(k, v);
  }

  untagGroup(name: string, keys: readonly string[]): void {
    const g = this.group(name);
    for (const k of keys) g.tags.delete(k);
  }

  putLifecycleHook(name: string, hook: SimLifecycleHook): void {
    const g = this.group(name);
    const existing = g.hooks.find((h) => h.name === hook.name);
    if (existing) {
      existing.heartbeatTimeoutSec = hook.heartbeatTimeoutSec;
      existing.defaultResult = hook.defaultResult;
      return;
    }
    if (g.hooks.length >= 50) throw fault('LimitExceeded', `Max number of lifecycle hooks (50) for group ${name} reached.`);
    g.hooks.push({ ...hook });
  }

  deleteLifecycleHook(name: string, hookName: string): void {
    const g = this.group(name);
    const i = g.hooks.findIndex((h) => h.name === hookName);
    if (i < 0) throw fault('ValidationError', `No Lifecycle Hook found with name ${hookName} for group ${name}`);
    g.hooks.splice(i, 1);
  }

  suspend(name: string, processes: readonly string[]): void {
    const g = this.group(name);
    for (const p of processes) g.suspended.add(p);
    this.#ctx.trace.record('group.suspended', { ...nodeOfGroup(g), groupName: name, processes: [...g.suspended] });
  }

  resume(name: string, processes: readonly string[]): void {
    const g = this.group(name);
    for (const p of processes) g.suspended.delete(p);
    this.#ctx.trace.record('group.resumed', { ...nodeOfGroup(g), groupName: name, processes: [...g.suspended] });
    this.reconcile(g);
  }

  deleteGroup(name: string, force: boolean): void {
    const g = this.group(name);
    if (g.deleting) return;
    const live = g.instanceIds.filter((id) => !this.#ctx.state.instances.get(id)?.lifecycleState.startsWith('Terminat'));
    if (!force && live.length > 0) {
      throw fault('ResourceInUse', 'You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.');
    }
    g.deleting = true;
    g.desiredCapacity = 0;
    g.minSize = 0;
    g.maxSize = 0;
    this.#ctx.scheduler.cancel(g.launchEv);
    g.launchEv = null;
    this.#ctx.trace.record('group.deleting', { ...nodeOfGroup(g), groupName: name });
    for (const id of [...g.instanceIds]) this.#terminateInGroup(g, id, 'group deleted (ForceDelete)');
    this.#maybeRemove(g);
  }

  groupOf(instanceId: string): SimGroup | null {
    const inst = this.#ctx.state.instances.get(instanceId);
    return inst?.groupName ? (this.#ctx.state.groups.get(inst.groupName) ?? null) : null;
  }

  #maybeRemove(g: SimGroup): void {
    if (g.deleting && g.instanceIds.length === 0 && this.#ctx.state.groups.get(g.name) === g) {
      this.#ctx.state.groups.delete(g.name);
      this.#ctx.trace.record('group.deleted', { ...nodeOfGroup(g), groupName: g.name });
    }
  }

  // ---- lifecycle ----

  #setLifecycle(inst: SimInstance, to: LifecycleState): void {
    const from = inst.lifecycleState;
    if (from === to) return;
    inst.lifecycleState = to;
    this.#trace('instance.lifecycle', inst, { from, to });
  }

  /** An event to EventBridge's default bus, as Auto Scaling sends it. */
  #emit(g: SimGroup, detailType: string, inst: SimInstance | null, status: { code: string; message: string; description: string; activityId: string; startMs: number }): void {
    const a = this.#ctx.account;
    const instanceArn = inst ? `arn:${a.partition}:ec2:${a.region}:${a.accountId}:instance/${inst.id}` : null;
    this.#ctx.events.emit({
      source: 'aws.autoscaling',
      detailType,
      resources: instanceArn ? [g.arn, instanceArn] : [g.arn],
      detail: {
        StatusCode: status.code,
        AutoScalingGroupName: g.name,
        ActivityId: status.activityId,
        Details: inst ? { 'Availability Zone': inst.az, 'Subnet ID': inst.subnetId } : {},
        RequestId: status.activityId,
        StatusMessage: status.message,
        EndTime: new Date(this.#now).toISOString(),
        EC2InstanceId: inst?.id ?? '',
        StartTime: new Date(status.startMs).toISOString(),
        Cause: status.description,
        Description: status.description,
      },
    });
  }

  /** A deterministic UUID-shaped id (Auto Scaling's group and activity ids are UUIDs). */
  #uuid(kind: string): string {
    const n = this.#ctx.state.nextId(kind, 12).slice(kind.length + 1);
    return `${kind === 'asg' ? 'a5c00000' : 'ac700000'}-0000-4000-8000-${n}`;
  }

  #activity(g: SimGroup, description: string, status: 'Successful' | 'Failed', statusMessage: string | null): string {
    const activityId = this.#uuid('activity');
    g.activities.push({ activityId, atMs: this.#now, description, cause: `At ${new Date(this.#now).toISOString()} an instance was started in response to a difference between desired and actual capacity.`, status, statusMessage });
    return activityId;
  }

  /**
   * Brings the group to its desired capacity: terminates the oldest instances beyond it (scale
   * in, unless `Terminate` is suspended), or starts a launch activity when it holds fewer.
   */
  reconcile(g: SimGroup): void {
    if (g.deleting) return;
    const live = this.#liveCount(g);
    if (live > g.desiredCapacity && !g.suspended.has('Terminate')) {
      const excess = g.instanceIds.filter((id) => !this.#ctx.state.instances.get(id)?.lifecycleState.startsWith('Terminat')).slice(0, live - g.desiredCapacity);
      for (const id of excess) this.#terminateInGroup(g, id, 'scale in to the desired capacity');
      return;
    }
    if (g.launchEv !== null || g.suspended.has('Launch')) return;
    if (live >= g.desiredCapacity) return;
    const delay = g.launchFailures === 0 ? draw(this.#ctx.rng.asg, this.#ctx.options.timings.asgReactionMs) : this.#retryDelay(g);
    g.launchEv = this.#ctx.scheduler.after(delay, `launch activity ${g.name}`, () => {
      g.launchEv = null;
      this.#launchActivity(g);
    });
  }

  #retryDelay(g: SimGroup): number {
    const t = this.#ctx.options.timings;
    const base = draw(this.#ctx.rng.asg, t.launchRetryMs);
    return Math.min(t.launchRetryMaxMs, Math.round(base * 1.5 ** Math.max(0, g.launchFailures - 1)));
  }

  #liveCount(g: SimGroup): number {
    let n = 0;
    for (const id of g.instanceIds) {
      const i = this.#ctx.state.instances.get(id);
      if (i && !i.lifecycleState.startsWith('Terminat')) n++;
    }
    return n;
  }

  /**
   * Resolves the group's launch into EC2's RunInstances parameters, applying the rules for a
   * template that names an existing network interface (docs/aws-behaviour.md): the group must
   * give AvailabilityZones, not subnets, and the interface's AZ must be one of them.
   */
  #launchRequest(g: SimGroup): Parameters<SimContext['ec2']['launch']>[0] {
    const lts = this.#ctx.launchTemplates;
    const lt = lts.get(g.launchTemplate.id, null);
    const version = lts.resolve(lt, g.launchTemplate.version);
    if (!version) throw fault('ValidationError', `Launch template ${lt.id} version ${g.launchTemplate.version} does not exist`);
    const d = version.data as LaunchTemplateData;
    const nic = (d.NetworkInterfaces ?? []).find((n) => (n.DeviceIndex ?? 0) === 0);
    const eniId = nic?.NetworkInterfaceId;
    if (!eniId) {
      throw fault('InvalidParameterCombination', `Berth's simulated account launches only templates whose device index 0 is an existing network interface; ${lt.name} has none.`);
    }
    if (g.vpcZoneIdentifier !== '') {
      // Auto Scaling passes the group's subnet to RunInstances, which refuses it next to an existing interface.
      throw fault('InvalidParameterCombination', 'Network interfaces and an instance-level subnet ID may not be specified on the same request');
    }
    const eni = this.#ctx.state.enis.get(eniId);
    if (eni && !g.availabilityZones.includes(eni.az)) {
      throw fault('InvalidParameterValue', `The network interface ${eniId} is in ${eni.az}, which is not one of the group's Availability Zones (${g.availabilityZones.join(', ')}).`);
    }
    const imageId = d.ImageId ?? '';
    const image = this.#ctx.state.images.get(imageId);
    const rootDevice = image?.rootDeviceName ?? '/dev/xvda';
    const tagsOf = (type: string): Tags => Object.fromEntries((d.TagSpecifications ?? []).filter((t) => t.ResourceType === type).flatMap((t) => (t.Tags ?? []).map((x) => [x.Key ?? '', x.Value ?? ''])));
    const volumeTags = tagsOf('volume');
    const mappings = d.BlockDeviceMappings ?? [];
    const volumes: LaunchVolume[] = mappings
      .filter((m) => m.Ebs)
      .map((m) => ({
        deviceName: m.DeviceName ?? rootDevice,
        sizeGiB: m.Ebs?.VolumeSize ?? 8,
        type: m.Ebs?.VolumeType ?? 'gp3',
        encrypted: m.Ebs?.Encrypted ?? false,
        deleteOnTermination: m.Ebs?.DeleteOnTermination ?? true,
        tags: volumeTags,
      }));
    // The image's root volume is created even when the template does not map it.
    if (!volumes.some((v) => v.deviceName === rootDevice)) volumes.unshift({ deviceName: rootDevice, sizeGiB: 8, type: 'gp3', encrypted: false, deleteOnTermination: true, tags: volumeTags });
    const propagated = Object.fromEntries([...g.tags].filter(([, t]) => t.propagateAtLaunch).map(([k, t]) => [k, t.value]));
    const profile = d.IamInstanceProfile?.Name ?? d.IamInstanceProfile?.Arn?.split('/').pop() ?? null;
    return {
      groupName: g.name,
      launchTemplate: { id: lt.id, name: lt.name, version: version.versionNumber },
      eniId,
      imageId,
      instanceType: d.InstanceType ?? 'm5.large',
      keyName: d.KeyName ?? null,
      userData: d.UserData ?? null,
      iamInstanceProfile: profile,
      metadataOptions: {
        httpTokens: d.MetadataOptions?.HttpTokens ?? 'optional',
        httpPutResponseHopLimit: d.MetadataOptions?.HttpPutResponseHopLimit ?? 1,
        httpEndpoint: d.MetadataOptions?.HttpEndpoint ?? 'enabled',
      },
      // LT-5: the template's instance tags and the group's propagated tags merge; the group wins.
      instanceTags: { ...tagsOf('instance'), ...propagated },
      volumes,
      // SPOT-1: a template's InstanceMarketOptions make the group's launches spot.
      ...(d.InstanceMarketOptions?.MarketType === 'spot' && { market: 'spot' as const }),
    };
  }

  #launchActivity(g: SimGroup): void {
    if (g.deleting || g.suspended.has('Launch') || this.#liveCount(g) >= g.desiredCapacity) return;
    const startMs = this.#now;
    let inst: SimInstance;
    try {
      inst = this.#ctx.ec2.launch(this.#launchRequest(g));
    } catch (e) {
      if (!(e instanceof SimFault)) throw e;
      g.launchFailures++;
      g.lastActivityError = `${e.code}: ${e.message}`;
      // ASG-10 / ENI-6: "Interface: [eni-…] in use. Launching EC2 instance failed." (EC2's message, then Auto Scaling's).
      const statusMessage = `${e.message.replace(/\.$/, '')}. Launching EC2 instance failed.`;
      const description = `Launching a new EC2 instance.  Status Reason: ${statusMessage}`;
      const activityId = this.#activity(g, description, 'Failed', statusMessage);
      this.#ctx.trace.record('group.launch-failed', { ...nodeOfGroup(g), groupName: g.name, error: g.lastActivityError, attempt: g.launchFailures });
      this.#emit(g, 'EC2 Instance Launch Unsuccessful', null, { code: 'Failed', message: statusMessage, description, activityId, startMs });
      this.reconcile(g);
      return;
    }
    g.launchFailures = 0;
    g.lastActivityError = null;
    g.instanceIds.push(inst.id);
    this.#trace('instance.lifecycle', inst, { from: null, to: 'Pending' });
    const hook = g.hooks.find((h) => h.transition === LAUNCH_HOOK);
    const description = `Launching a new EC2 instance: ${inst.id}`;
    if (hook) {
      this.#ctx.scheduler.after(draw(this.#ctx.rng.asg, this.#ctx.options.timings.pendingToWaitMs), `pending:wait ${inst.id}`, () => {
        if (inst.lifecycleState !== 'Pending') return;
        this.#setLifecycle(inst, 'Pending:Wait');
        const timeoutMs = hook.heartbeatTimeoutSec * 1000;
        inst.hookGlobalDeadlineMs = this.#now + Math.min(GLOBAL_TIMEOUT_CAP_MS, 100 * timeoutMs);
        this.#armHookTimeout(inst, hook);
      });
    }
    launchStarts.set(inst, { startMs, description, hooked: hook !== undefined });
  }

  #armHookTimeout(inst: SimInstance, hook: SimLifecycleHook): void {
    this.#ctx.scheduler.cancel(inst.hookTimeoutEv);
    const deadline = Math.min(this.#now + hook.heartbeatTimeoutSec * 1000, inst.hookGlobalDeadlineMs ?? Infinity);
    inst.hookTimeoutEv = this.#ctx.scheduler.at(deadline, `hook timeout ${inst.id}`, () => {
      inst.hookTimeoutEv = null;
      if (inst.lifecycleState !== 'Pending:Wait') return;
      this.#trace('hook.timeout', inst, { defaultResult: hook.defaultResult, global: this.#now >= (inst.hookGlobalDeadlineMs ?? Infinity) });
      this.#completeAction(inst, hook.defaultResult);
    });
  }

  onInstanceRunning(inst: SimInstance): void {
    const g = inst.groupName ? this.#ctx.state.groups.get(inst.groupName) : undefined;
    if (!g) return;
    // ASG-5: whether the launch has a lifecycle action was decided when it started (a hook added since does not apply).
    if (launchStarts.get(inst)?.hooked !== true && inst.lifecycleState === 'Pending') this.#inService(g, inst);
    else if (inst.lifecycleState === 'Pending:Proceed' && proceeded.has(inst)) this.#inService(g, inst);
  }

  #inService(g: SimGroup, inst: SimInstance): void {
    this.#setLifecycle(inst, 'InService');
    const start = launchStarts.get(inst) ?? { startMs: inst.launchedAtMs, description: `Launching a new EC2 instance: ${inst.id}` };
    const activityId = this.#activity(g, start.description, 'Successful', null);
    this.#emit(g, 'EC2 Instance Launch Successful', inst, { code: 'InProgress', message: '', description: start.description, activityId, startMs: start.startMs });
  }

  #completeAction(inst: SimInstance, result: 'CONTINUE' | 'ABANDON'): void {
    this.#ctx.scheduler.cancel(inst.hookTimeoutEv);
    inst.hookTimeoutEv = null;
    const g = inst.groupName ? this.#ctx.state.groups.get(inst.groupName) : undefined;
    if (result === 'ABANDON') {
      this.#trace('hook.abandoned', inst);
      if (g) this.#terminateInGroup(g, inst.id, 'lifecycle action ABANDON');
      else this.#ctx.ec2.terminate(inst.id, 'lifecycle action ABANDON');
      return;
    }
    this.#setLifecycle(inst, 'Pending:Proceed');
    this.#ctx.scheduler.after(draw(this.#ctx.rng.asg, this.#ctx.options.timings.proceedToInServiceMs), `in service ${inst.id}`, () => {
      const grp = inst.groupName ? this.#ctx.state.groups.get(inst.groupName) : undefined;
      if (!grp || inst.lifecycleState !== 'Pending:Proceed') return;
      // Completed before EC2 had it running (CONTINUE sent early): InService once it runs.
      if (inst.ec2State === 'pending') proceeded.add(inst);
      else if (inst.ec2State === 'running') this.#inService(grp, inst);
    });
  }

  #activeAction(groupName: string, hookName: string, instanceId: string): SimInstance {
    const g = this.group(groupName);
    if (!g.hooks.some((h) => h.name === hookName)) throw fault('ValidationError', `No Lifecycle Hook found with name ${hookName} for group ${groupName}`);
    const inst = this.#ctx.state.instances.get(instanceId);
    if (!inst || inst.groupName !== groupName || inst.lifecycleState !== 'Pending:Wait') {
      throw fault('ValidationError', `No active Lifecycle Action found with instance ID ${instanceId}`);
    }
    return inst;
  }

  completeLifecycleAction(groupName: string, hookName: string, instanceId: string, result: 'CONTINUE' | 'ABANDON'): void {
    const inst = this.#activeAction(groupName, hookName, instanceId);
    this.#trace('hook.completed', inst, { result });
    this.#completeAction(inst, result);
  }

  recordHeartbeat(groupName: string, hookName: string, instanceId: string): void {
    const inst = this.#activeAction(groupName, hookName, instanceId);
    const hook = this.group(groupName).hooks.find((h) => h.name === hookName);
    if (hook) this.#armHookTimeout(inst, hook);
  }

  terminateInstanceInGroup(instanceId: string, decrement: boolean): SimInstance {
    const inst = this.#ctx.state.instances.get(instanceId);
    const g = this.groupOf(instanceId);
    if (!inst || !g || !g.instanceIds.includes(instanceId)) throw fault('ValidationError', `Instance Id not found - No managed instance found for instance ID: ${instanceId}`);
    if (inst.lifecycleState.startsWith('Terminat')) return inst;
    if (decrement) {
      if (g.desiredCapacity - 1 < g.minSize) throw fault('ValidationError', `Currently, desiredSize equals minSize (${g.minSize}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`);
      g.desiredCapacity -= 1;
    }
    this.#terminateInGroup(g, instanceId, 'TerminateInstanceInAutoScalingGroup');
    return inst;
  }

  setInstanceHealth(instanceId: string, health: 'Healthy' | 'Unhealthy'): void {
    const inst = this.#ctx.state.instances.get(instanceId);
    const g = this.groupOf(instanceId);
    if (!inst || !g) throw fault('ValidationError', `Instance Id not found - No managed instance found for instance ID: ${instanceId}`);
    inst.healthStatus = health;
    this.#trace('instance.health', inst, { healthStatus: health });
    if (health === 'Unhealthy' && !g.suspended.has('ReplaceUnhealthy') && !inst.lifecycleState.startsWith('Terminat')) this.#terminateInGroup(g, instanceId, 'marked unhealthy');
  }

  #terminateInGroup(g: SimGroup, instanceId: string, reason: string): void {
    const inst = this.#ctx.state.instances.get(instanceId);
    if (!inst) return;
    this.#ctx.scheduler.cancel(inst.hookTimeoutEv);
    inst.hookTimeoutEv = null;
    if (!inst.lifecycleState.startsWith('Terminat')) this.#setLifecycle(inst, 'Terminating');
    this.#ctx.ec2.terminate(instanceId, reason);
    this.reconcile(g);
  }

  /** EC2 terminated a group's instance on its own: the group notices at its next health check. */
  onInstanceLost(inst: SimInstance): void {
    const g = inst.groupName ? this.#ctx.state.groups.get(inst.groupName) : undefined;
    if (!g) return;
    this.#ctx.scheduler.cancel(inst.hookTimeoutEv);
    inst.hookTimeoutEv = null;
    this.#ctx.scheduler.after(draw(this.#ctx.rng.asg, this.#ctx.options.timings.healthCheckDetectMs), `health check ${inst.id}`, () => {
      if (!g.instanceIds.includes(inst.id) || inst.lifecycleState.startsWith('Terminat')) return;
      inst.healthStatus = 'Unhealthy';
      this.#trace('instance.health', inst, { healthStatus: 'Unhealthy' });
      if (g.suspended.has('HealthCheck') || g.suspended.has('ReplaceUnhealthy')) return;
      this.#setLifecycle(inst, 'Terminating');
      this.reconcile(g);
    });
  }

  onInstanceTerminated(inst: SimInstance): void {
    const g = inst.groupName ? this.#ctx.state.groups.get(inst.groupName) : undefined;
    this.#setLifecycle(inst, 'Terminated');
    if (!g) return;
    const idx = g.instanceIds.indexOf(inst.id);
    if (idx >= 0) g.instanceIds.splice(idx, 1);
    const description = `Terminating EC2 instance: ${inst.id}`;
    const activityId = this.#activity(g, description, 'Successful', null);
    this.#emit(g, 'EC2 Instance Terminate Successful', inst, { code: 'InProgress', message: '', description, activityId, startMs: this.#now });
    this.#maybeRemove(g);
    this.reconcile(g);
  }
}

/** When and why each instance's launch activity started (for its events). */
const launchStarts = new WeakMap<SimInstance, { startMs: number; description: string; hooked: boolean }>();
/** Instances whose lifecycle action was completed (CONTINUE) while EC2 still had them pending. */
const proceeded = new WeakSet<SimInstance>();

function nodeOfGroup(g: SimGroup): { nodeId?: string } {
  const n = g.tags.get(TAG_NODE)?.value;
  return n === undefined ? {} : { nodeId: n };
}

/** The fields of EC2's `RequestLaunchTemplateData` the simulated launch reads. */
interface LaunchTemplateData {
  readonly ImageId?: string;
  readonly InstanceType?: string;
  readonly KeyName?: string;
  readonly UserData?: string;
  readonly IamInstanceProfile?: { readonly Name?: string; readonly Arn?: string };
  readonly MetadataOptions?: { readonly HttpTokens?: string; readonly HttpPutResponseHopLimit?: number; readonly HttpEndpoint?: string };
  readonly NetworkInterfaces?: readonly { readonly DeviceIndex?: number; readonly NetworkInterfaceId?: string }[];
  readonly BlockDeviceMappings?: readonly {
    readonly DeviceName?: string;
    readonly Ebs?: { readonly VolumeSize?: number; readonly VolumeType?: string; readonly Encrypted?: boolean; readonly DeleteOnTermination?: boolean };
  }[];
  readonly TagSpecifications?: readonly { readonly ResourceType?: string; readonly Tags?: readonly { readonly Key?: string; readonly Value?: string }[] }[];
  readonly InstanceMarketOptions?: { readonly MarketType?: string };
}

export { nodeOf };
