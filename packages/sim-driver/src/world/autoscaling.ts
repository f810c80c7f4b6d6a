import type { LifecycleState } from '@berth/core';
import { awsError } from '../aws-api.js';
import { draw, type SimContext } from '../sim-context.js';
import type { LaunchTemplateVersion, SimGroup, SimInstance, SimLaunchTemplate, SimLifecycleHook, Tags } from './entities.js';
import { TAG_CLUSTER, TAG_NODE } from './ec2.js';
import { matchesTags } from './world-state.js';

const LAUNCH_HOOK = 'autoscaling:EC2_INSTANCE_LAUNCHING';
/** AWS caps the global timeout of a lifecycle action at 48 hours. */
const GLOBAL_TIMEOUT_CAP_MS = 48 * 3600_000;

/** Auto Scaling groups, their lifecycle hooks and launch activities, and launch templates. */
export class AutoScaling {
  readonly #ctx: SimContext;

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
  }

  get #now(): number {
    return this.#ctx.scheduler.nowMs;
  }

  // ---- launch templates (EC2 API, kept here with their only user) ----

  createLaunchTemplate(name: string, version: Omit<LaunchTemplateVersion, 'versionNumber' | 'createdAtMs'>, tags: Tags): SimLaunchTemplate {
    const { state } = this.#ctx;
    for (const lt of state.launchTemplates.values()) {
      if (lt.name === name && !lt.deleted) {
        throw awsError('CreateLaunchTemplate', 'InvalidLaunchTemplateName.AlreadyExistsException', `Launch template name already in use: ${name}`);
      }
    }
    const lt: SimLaunchTemplate = {
      id: state.nextId('lt'),
      name,
      tags: { ...tags },
      versions: [{ ...version, versionNumber: 1, createdAtMs: this.#now }],
      clientTokens: new Map(),
      defaultVersion: 1,
      deleted: false,
    };
    state.launchTemplates.set(lt.id, lt);
    this.#ctx.trace.record('launch-template.created', { ...nodeOf(tags), launchTemplateId: lt.id, name, revision: version.revision });
    return lt;
  }

  createLaunchTemplateVersion(ltId: string, version: Omit<LaunchTemplateVersion, 'versionNumber' | 'createdAtMs'>, clientToken?: string): LaunchTemplateVersion {
    const lt = this.launchTemplate('CreateLaunchTemplateVersion', ltId);
    const earlier = clientToken === undefined ? undefined : lt.clientTokens.get(clientToken);
    if (earlier !== undefined) return lt.versions[earlier - 1] as LaunchTemplateVersion; // same token: same version, as on AWS
    const v: LaunchTemplateVersion = { ...version, versionNumber: lt.versions.length + 1, createdAtMs: this.#now };
    lt.versions.push(v);
    if (clientToken !== undefined) lt.clientTokens.set(clientToken, v.versionNumber);
    this.#ctx.trace.record('launch-template.version', { ...nodeOf(lt.tags), launchTemplateId: lt.id, version: v.versionNumber, revision: v.revision });
    return v;
  }

  launchTemplate(op: string, ltId: string): SimLaunchTemplate {
    const lt = this.#ctx.state.launchTemplates.get(ltId);
    if (!lt || lt.deleted) throw awsError(op, 'InvalidLaunchTemplateId.NotFound', `The launch template ID '${ltId}' does not exist.`);
    return lt;
  }

  findLaunchTemplate(name: string): SimLaunchTemplate | null {
    for (const lt of this.#ctx.state.launchTemplates.values()) if (lt.name === name && !lt.deleted) return lt;
    return null;
  }

  deleteLaunchTemplate(ltId: string): void {
    const lt = this.launchTemplate('DeleteLaunchTemplate', ltId);
    lt.deleted = true;
    this.#ctx.state.launchTemplates.delete(ltId);
    this.#ctx.trace.record('launch-template.deleted', { ...nodeOf(lt.tags), launchTemplateId: ltId });
  }

  resolveVersion(lt: SimLaunchTemplate, version: string): LaunchTemplateVersion | null {
    const n = version === '$Latest' ? lt.versions.length : version === '$Default' ? lt.defaultVersion : Number(version);
    return lt.versions[n - 1] ?? null;
  }

  // ---- groups ----

  group(op: string, name: string): SimGroup {
    const g = this.#ctx.state.groups.get(name);
    if (!g) throw awsError(op, 'ValidationError', `AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);
    return g;
  }

  createGroup(p: {
    name: string;
    launchTemplateId: string;
    launchTemplateVersion: string;
    subnetIds: readonly string[];
    size: number;
    tags: Tags;
    hooks: readonly SimLifecycleHook[];
  }): SimGroup {
    const { state } = this.#ctx;
    if (state.groups.has(p.name)) throw awsError('CreateAutoScalingGroup', 'AlreadyExists', `AutoScalingGroup by this name already exists - ${p.name}`);
    this.launchTemplate('CreateAutoScalingGroup', p.launchTemplateId);
    for (const s of p.subnetIds) {
      if (!state.subnets.has(s)) throw awsError('CreateAutoScalingGroup', 'ValidationError', `The subnet ID '${s}' does not exist`);
    }
    const g: SimGroup = {
      name: p.name,
      tags: { ...p.tags },
      minSize: p.size,
      maxSize: p.size,
      desiredCapacity: p.size,
      launchTemplateId: p.launchTemplateId,
      launchTemplateVersion: p.launchTemplateVersion,
      subnetIds: [...p.subnetIds],
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
    state.groups.set(g.name, g);
    this.#ctx.trace.record('group.created', { ...nodeOf(g.tags), groupName: g.name, launchTemplateVersion: g.launchTemplateVersion });
    this.reconcile(g);
    return g;
  }

  updateGroup(name: string, p: { launchTemplateVersion?: string; size?: number }): void {
    const g = this.group('UpdateAutoScalingGroup', name);
    if (g.deleting) throw awsError('UpdateAutoScalingGroup', 'ScalingActivityInProgress', `The group ${name} is being deleted.`);
    if (p.launchTemplateVersion !== undefined) g.launchTemplateVersion = p.launchTemplateVersion;
    if (p.size !== undefined) {
      g.minSize = p.size;
      g.maxSize = p.size;
      g.desiredCapacity = p.size;
    }
    this.#ctx.trace.record('group.updated', { ...nodeOf(g.tags), groupName: name, launchTemplateVersion: g.launchTemplateVersion, desiredCapacity: g.desiredCapacity });
    this.reconcile(g);
  }

  tagGroup(name: string, tags: Tags): void {
    const g = this.group('CreateOrUpdateTags', name);
    Object.assign(g.tags, tags);
  }

  putLifecycleHook(name: string, hook: SimLifecycleHook): 'created' | 'updated' {
    const g = this.group('PutLifecycleHook', name);
    const existing = g.hooks.find((h) => h.name === hook.name);
    if (existing) {
      existing.heartbeatTimeoutSec = hook.heartbeatTimeoutSec;
      existing.defaultResult = hook.defaultResult;
      return 'updated';
    }
    g.hooks.push({ ...hook });
    return 'created';
  }

  suspend(name: string, processes: readonly string[]): void {
    const g = this.group('SuspendProcesses', name);
    for (const p of processes) g.suspended.add(p);
    this.#ctx.trace.record('group.suspended', { ...nodeOf(g.tags), groupName: name, processes: [...g.suspended] });
  }

  resume(name: string, processes: readonly string[]): void {
    const g = this.group('ResumeProcesses', name);
    for (const p of processes) g.suspended.delete(p);
    this.#ctx.trace.record('group.resumed', { ...nodeOf(g.tags), groupName: name, processes: [...g.suspended] });
    this.reconcile(g);
  }

  deleteGroup(name: string): void {
    const g = this.group('DeleteAutoScalingGroup', name);
    if (g.deleting) return;
    g.deleting = true;
    g.desiredCapacity = 0;
    g.minSize = 0;
    g.maxSize = 0;
    this.#ctx.scheduler.cancel(g.launchEv);
    g.launchEv = null;
    this.#ctx.trace.record('group.deleting', { ...nodeOf(g.tags), groupName: name });
    for (const id of [...g.instanceIds]) this.#terminateInGroup(g, id, 'group deleted (ForceDelete)');
    this.#maybeRemove(g);
  }

  describeGroups(filter: Readonly<Record<string, string>>): SimGroup[] {
    return [...this.#ctx.state.groups.values()].filter((g) => matchesTags(g.tags, filter));
  }

  groupOf(instanceId: string): SimGroup | null {
    const inst = this.#ctx.state.instances.get(instanceId);
    return inst?.groupName ? (this.#ctx.state.groups.get(inst.groupName) ?? null) : null;
  }

  #maybeRemove(g: SimGroup): void {
    if (g.deleting && g.instanceIds.length === 0 && this.#ctx.state.groups.get(g.name) === g) {
      this.#ctx.state.groups.delete(g.name);
      this.#ctx.trace.record('group.deleted', { ...nodeOf(g.tags), groupName: g.name });
    }
  }

  #setLifecycle(inst: SimInstance, to: LifecycleState): void {
    const from = inst.lifecycleState;
    if (from === to) return;
    inst.lifecycleState = to;
    this.#ctx.trace.record('instance.lifecycle', { ...(inst.nodeId !== null && { nodeId: inst.nodeId }), instanceId: inst.id, from, to });
    const notified = this.#ctx.options.notifications === 'all' || to === 'InService' || to === 'Terminated';
    if (notified && inst.clusterName !== null && inst.nodeId !== null) {
      this.#ctx.changes.publish(inst.clusterName, {
        atMs: this.#now,
        nodeId: inst.nodeId,
        instanceId: inst.id,
        kind: to === 'Terminated' ? 'terminated' : 'lifecycle',
        detail: to,
      });
    }
  }

  /** Starts a launch activity when the group holds fewer live instances than desired. */
  reconcile(g: SimGroup): void {
    if (g.deleting || g.launchEv !== null || g.suspended.has('Launch')) return;
    if (this.#liveCount(g) >= g.desiredCapacity) return;
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

  #launchActivity(g: SimGroup): void {
    if (g.deleting || g.suspended.has('Launch') || this.#liveCount(g) >= g.desiredCapacity) return;
    const lt = this.#ctx.state.launchTemplates.get(g.launchTemplateId);
    const version = lt && !lt.deleted ? this.resolveVersion(lt, g.launchTemplateVersion) : null;
    const clusterName = g.tags[TAG_CLUSTER] ?? null;
    const nodeId = g.tags[TAG_NODE] ?? null;
    const fail = (code: string, message: string): void => {
      g.launchFailures++;
      g.lastActivityError = `${code}: ${message}`;
      g.activities.push({ atMs: this.#now, description: 'Launching a new EC2 instance', status: 'Failed', statusMessage: g.lastActivityError });
      this.#ctx.trace.record('group.launch-failed', { ...(nodeId !== null && { nodeId }), groupName: g.name, error: g.lastActivityError, attempt: g.launchFailures });
      if (this.#ctx.options.notifications === 'all' && clusterName !== null && nodeId !== null) {
        this.#ctx.changes.publish(clusterName, { atMs: this.#now, nodeId, instanceId: null, kind: 'launch-failed', detail: g.lastActivityError });
      }
      this.reconcile(g);
    };
    if (!lt || !version) return fail('ValidationError', `Launch template ${g.launchTemplateId} version ${g.launchTemplateVersion} does not exist`);
    let inst: SimInstance;
    try {
      inst = this.#ctx.ec2.launch({
        groupName: g.name,
        subnetId: g.subnetIds[0] ?? '',
        eniId: version.eniId,
        imageId: version.imageId,
        instanceType: version.instanceType,
        launchTemplateId: lt.id,
        launchTemplateVersion: version.versionNumber,
        bootstrap: version.bootstrap,
        tags: { ...version.tags },
      });
    } catch (e) {
      const err = e as { awsCode?: string; message: string };
      return fail(err.awsCode ?? 'InternalFailure', err.message);
    }
    g.launchFailures = 0;
    g.lastActivityError = null;
    g.instanceIds.push(inst.id);
    g.activities.push({ atMs: this.#now, description: `Launching a new EC2 instance: ${inst.id}`, status: 'Successful', statusMessage: null });
    this.#ctx.trace.record('instance.lifecycle', { ...(nodeId !== null && { nodeId }), instanceId: inst.id, from: null, to: 'Pending' });
    const hook = g.hooks.find((h) => h.transition === LAUNCH_HOOK);
    if (hook) {
      this.#ctx.scheduler.after(draw(this.#ctx.rng.asg, this.#ctx.options.timings.pendingToWaitMs), `pending:wait ${inst.id}`, () => {
        if (inst.lifecycleState !== 'Pending') return;
        this.#setLifecycle(inst, 'Pending:Wait');
        const timeoutMs = hook.heartbeatTimeoutSec * 1000;
        inst.hookGlobalDeadlineMs = this.#now + Math.min(GLOBAL_TIMEOUT_CAP_MS, 100 * timeoutMs);
        this.#armHookTimeout(inst, hook);
      });
    }
  }

  #armHookTimeout(inst: SimInstance, hook: SimLifecycleHook): void {
    this.#ctx.scheduler.cancel(inst.hookTimeoutEv);
    const deadline = Math.min(this.#now + hook.heartbeatTimeoutSec * 1000, inst.hookGlobalDeadlineMs ?? Infinity);
    inst.hookTimeoutEv = this.#ctx.scheduler.at(deadline, `hook timeout ${inst.id}`, () => {
      inst.hookTimeoutEv = null;
      if (inst.lifecycleState !== 'Pending:Wait') return;
      this.#ctx.trace.record('hook.timeout', {
        ...(inst.nodeId !== null && { nodeId: inst.nodeId }),
        instanceId: inst.id,
        defaultResult: hook.defaultResult,
        global: this.#now >= (inst.hookGlobalDeadlineMs ?? Infinity),
      });
      this.#completeAction(inst, hook.defaultResult);
    });
  }

  onInstanceRunning(inst: SimInstance): void {
    const g = inst.groupName ? this.#ctx.state.groups.get(inst.groupName) : undefined;
    if (!g) return;
    if (!g.hooks.some((h) => h.transition === LAUNCH_HOOK) && inst.lifecycleState === 'Pending') {
      this.#setLifecycle(inst, 'InService');
    }
  }

  #completeAction(inst: SimInstance, result: 'CONTINUE' | 'ABANDON'): void {
    this.#ctx.scheduler.cancel(inst.hookTimeoutEv);
    inst.hookTimeoutEv = null;
    const g = inst.groupName ? this.#ctx.state.groups.get(inst.groupName) : undefined;
    if (result === 'ABANDON') {
      this.#ctx.trace.record('hook.abandoned', { ...(inst.nodeId !== null && { nodeId: inst.nodeId }), instanceId: inst.id });
      if (g) this.#terminateInGroup(g, inst.id, 'lifecycle action ABANDON');
      else this.#ctx.ec2.terminate(inst.id, 'lifecycle action ABANDON');
      return;
    }
    this.#setLifecycle(inst, 'Pending:Proceed');
    this.#ctx.scheduler.after(draw(this.#ctx.rng.asg, this.#ctx.options.timings.proceedToInServiceMs), `in service ${inst.id}`, () => {
      if (inst.lifecycleState === 'Pending:Proceed' && inst.ec2State === 'running') this.#setLifecycle(inst, 'InService');
    });
  }

  #activeAction(op: string, groupName: string | null, hookName: string | null, instanceId: string): SimInstance {
    const inst = this.#ctx.state.instances.get(instanceId);
    const g = inst?.groupName ? this.#ctx.state.groups.get(inst.groupName) : undefined;
    if (!inst || !g || (groupName !== null && g.name !== groupName) || inst.lifecycleState !== 'Pending:Wait') {
      throw awsError(op, 'ValidationError', `No active Lifecycle Action found with instance ID ${instanceId}`);
    }
    if (hookName !== null && !g.hooks.some((h) => h.name === hookName)) {
      throw awsError(op, 'ValidationError', `No Lifecycle Hook found with name ${hookName} for group ${g.name}`);
    }
    return inst;
  }

  completeLifecycleAction(groupName: string | null, hookName: string | null, instanceId: string, result: 'CONTINUE' | 'ABANDON'): void {
    const inst = this.#activeAction('CompleteLifecycleAction', groupName, hookName, instanceId);
    this.#ctx.trace.record('hook.completed', { ...(inst.nodeId !== null && { nodeId: inst.nodeId }), instanceId, result });
    this.#completeAction(inst, result);
  }

  recordHeartbeat(groupName: string | null, hookName: string | null, instanceId: string): void {
    const inst = this.#activeAction('RecordLifecycleActionHeartbeat', groupName, hookName, instanceId);
    const g = this.groupOf(instanceId);
    const hook = g?.hooks.find((h) => h.transition === LAUNCH_HOOK);
    if (hook) this.#armHookTimeout(inst, hook);
  }

  terminateInstanceInGroup(instanceId: string, decrement: boolean): SimInstance {
    const op = 'TerminateInstanceInAutoScalingGroup';
    const inst = this.#ctx.state.instances.get(instanceId);
    const g = this.groupOf(instanceId);
    if (!inst || !g || !g.instanceIds.includes(instanceId)) throw awsError(op, 'ValidationError', `Instance Id not found - No managed instance found for instance ID: ${instanceId}`);
    if (inst.lifecycleState.startsWith('Terminat')) return inst;
    if (decrement) {
      g.desiredCapacity = Math.max(g.minSize, g.desiredCapacity - 1);
    }
    this.#terminateInGroup(g, instanceId, 'TerminateInstanceInAutoScalingGroup');
    return inst;
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
      this.#ctx.trace.record('instance.health', { ...(inst.nodeId !== null && { nodeId: inst.nodeId }), instanceId: inst.id, healthStatus: 'Unhealthy' });
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
    g.activities.push({ atMs: this.#now, description: `Terminating EC2 instance: ${inst.id}`, status: 'Successful', statusMessage: null });
    this.#maybeRemove(g);
    this.reconcile(g);
  }
}

function nodeOf(tags: Tags): { nodeId?: string } {
  const n = tags[TAG_NODE];
  return n === undefined ? {} : { nodeId: n };
}
