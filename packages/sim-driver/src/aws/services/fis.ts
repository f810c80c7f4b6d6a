// Simulated AWS Fault Injection Service: experiment templates and experiments, run in virtual
// time against the simulated world, so that a FIS game-day can be rehearsed offline. Rules
// FIS-1…FIS-15 (docs/aws-behaviour.md); the actions it plays:
// https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html
// API: https://docs.aws.amazon.com/fis/latest/APIReference/API_CreateExperimentTemplate.html
//
// The experiment acts as its role: each action's AWS calls are authorized against the role's
// policies (an action the role may not do fails the experiment, as on AWS), and the instance
// terminations go through the simulated EC2 API itself.

import { createFaults, type SimFaults } from '../../faults.js';
import type { QueuedEvent } from '../../event-queue.js';
import type { SimContext } from '../../sim-context.js';
import type { SimInstance } from '../../world/entities.js';
import { SimFault } from '../aws-error.js';
import { EC2_AUTHORIZERS } from '../iam/authorize-ec2.js';
import type { AuthorizationCheck, Caller, ServiceContext, SimService } from '../service.js';
import type { SimCloudWatch } from './cloudwatch.js';

type Input = Record<string, unknown>;
type ExperimentStatus = 'pending' | 'initiating' | 'running' | 'completed' | 'stopping' | 'stopped' | 'failed';
type ActionStatus = 'pending' | 'initiating' | 'running' | 'completed' | 'cancelled' | 'stopping' | 'stopped' | 'failed';

interface TargetDef {
  readonly resourceType: string;
  readonly resourceArns?: readonly string[];
  readonly resourceTags?: Readonly<Record<string, string>>;
  readonly filters?: readonly { readonly path: string; readonly values: readonly string[] }[];
  readonly selectionMode: string;
}
interface ActionDef {
  readonly actionId: string;
  readonly description?: string;
  readonly parameters?: Readonly<Record<string, string>>;
  readonly startAfter?: readonly string[];
  readonly targets?: Readonly<Record<string, string>>;
}
interface Template {
  readonly id: string;
  readonly arn: string;
  readonly description: string;
  readonly roleArn: string;
  readonly targets: Readonly<Record<string, TargetDef>>;
  readonly actions: Readonly<Record<string, ActionDef>>;
  readonly stopConditions: readonly { readonly source: string; readonly value?: string }[];
  readonly tags: Readonly<Record<string, string>>;
  readonly creationTimeMs: number;
}
interface ActionRun {
  status: ActionStatus;
  reason: string | null;
  startMs: number | null;
  endMs: number | null;
  /** Undoes the action's effect when the experiment stops (lifts API errors, heals a network cut). */
  rollback: (() => void) | null;
  timer: QueuedEvent | null;
}
interface Experiment {
  readonly id: string;
  readonly arn: string;
  readonly template: Template;
  readonly tags: Readonly<Record<string, string>>;
  status: ExperimentStatus;
  reason: string | null;
  readonly startMs: number;
  endMs: number | null;
  readonly actions: Map<string, ActionRun>;
  /** Target name → resolved resource ids (at experiment start, FIS-11). */
  readonly resolved: Map<string, string[]>;
  unlisten: (() => void) | null;
}

/** FIS-12: the actions the simulator plays; with their target key and resource type. */
const ACTIONS: Readonly<Record<string, { readonly key: string | null; readonly resourceType: string | null; readonly duration: 'duration' | 'durationBeforeInterruption' | null; readonly minMs: number }>> = {
  'aws:fis:wait': { key: null, resourceType: null, duration: 'duration', minMs: 60_000 },
  'aws:ec2:terminate-instances': { key: 'Instances', resourceType: 'aws:ec2:instance', duration: null, minMs: 0 },
  'aws:ec2:send-spot-instance-interruptions': { key: 'SpotInstances', resourceType: 'aws:ec2:spot-instance', duration: 'durationBeforeInterruption', minMs: 120_000 },
  'aws:network:disrupt-connectivity': { key: 'Subnets', resourceType: 'aws:ec2:subnet', duration: 'duration', minMs: 60_000 },
  'aws:fis:inject-api-throttle-error': { key: 'Roles', resourceType: 'aws:iam:role', duration: 'duration', minMs: 60_000 },
  'aws:fis:inject-api-internal-error': { key: 'Roles', resourceType: 'aws:iam:role', duration: 'duration', minMs: 60_000 },
};
const QUOTA = { actions: 20, stopConditions: 5, resourcesPerTarget: 5, hours: 12 };
/** How long FIS takes from StartExperiment to running (initiating), in the simulation. */
const INITIATING_MS = 1_000;

function parseDuration(v: string | undefined): number {
  const m = v === undefined ? null : /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(v);
  if (!m || v === 'PT') return Number.NaN;
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}

const invalid = (message: string): SimFault => new SimFault('ValidationException', message);
const notFound = (message: string): SimFault => new SimFault('ResourceNotFoundException', message, 404);

/** The simulated FIS of a simulation (for its authorizers). */
const BY_CONTEXT = new WeakMap<SimContext, SimFis>();

/** The simulated FIS of a simulation's context, if it has one. */
export function simFisOf(ctx: SimContext): SimFis | null {
  return BY_CONTEXT.get(ctx) ?? null;
}

/** The simulated FIS. */
export class SimFis {
  readonly templates = new Map<string, Template>();
  readonly experiments = new Map<string, Experiment>();
  readonly #tokens = new Map<string, string>();
  /** StartExperiment's client tokens → experiment id (FIS-7). */
  readonly #experimentTokens = new Map<string, string>();
  readonly #ctx: SimContext;
  readonly #cw: SimCloudWatch;
  readonly #faults: SimFaults;
  readonly service: SimService;

  constructor(ctx: SimContext, cloudWatch: SimCloudWatch) {
    this.#ctx = ctx;
    this.#cw = cloudWatch;
    this.#faults = createFaults(ctx);
    this.service = { name: 'fis', operations: this.#operations() };
    BY_CONTEXT.set(ctx, this);
  }

  arnOf(kind: 'experiment-template' | 'experiment' | 'action', id: string): string {
    const a = this.#ctx.account;
    return `arn:${a.partition}:fis:${a.region}:${a.accountId}:${kind}/${id}`;
  }

  #now(): number {
    return this.#ctx.scheduler.nowMs;
  }

  /** FIS-13: CreateExperimentTemplate's checks, before anything is created. */
  #validate(input: Input): Omit<Template, 'id' | 'arn' | 'creationTimeMs'> {
    const roleArn = input['roleArn'];
    if (typeof roleArn !== 'string' || !/^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/.+$/.test(roleArn)) throw invalid(`roleArn: ${String(roleArn)} is not a valid role ARN`);
    const description = typeof input['description'] === 'string' ? input['description'] : '';
    if (description.length > 512) throw invalid('description: at most 512 characters');
    const actions = (input['actions'] ?? {}) as Record<string, ActionDef>;
    const targets = (input['targets'] ?? {}) as Record<string, TargetDef>;
    const stops = (input['stopConditions'] ?? []) as { source: string; value?: string }[];
    if (Object.keys(actions).length === 0) throw invalid('actions: an experiment template needs at least one action');
    if (Object.keys(actions).length > QUOTA.actions) throw new SimFault('ServiceQuotaExceededException', `actions: ${Object.keys(actions).length} actions; the quota is ${QUOTA.actions} per experiment template`, 402);
    if (stops.length === 0) throw invalid('stopConditions: at least one stop condition is required (source "none" for none)');
    if (stops.length > QUOTA.stopConditions) throw new SimFault('ServiceQuotaExceededException', `stopConditions: ${stops.length}; the quota is ${QUOTA.stopConditions} per experiment template`, 402);
    for (const s of stops) {
      if (s.source === 'none') {
        if (stops.length > 1) throw invalid('stopConditions: "none" cannot be combined with other stop conditions');
      } else if (s.source === 'aws:cloudwatch:alarm') {
        if (!s.value || !/^arn:aws(?:-[a-z]+)*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+$/.test(s.value)) throw invalid(`stopConditions: ${String(s.value)} is not a CloudWatch alarm ARN`);
      } else throw invalid(`stopConditions: unknown source ${s.source}`);
    }
    for (const [name, t] of Object.entries(targets)) {
      if (!/^[\S]{1,64}$/.test(name)) throw invalid(`targets: invalid target name ${name}`);
      if (!/^(ALL|COUNT\(\d+\)|PERCENT\(\d+\))$/.test(t.selectionMode ?? '')) throw invalid(`targets.${name}.selectionMode: ${String(t.selectionMode)} is not ALL, COUNT(n) or PERCENT(n)`);
      if (!t.resourceArns?.length && !t.resourceTags) throw invalid(`targets.${name}: specify resourceArns or resourceTags`);
      if ((t.resourceArns?.length ?? 0) > QUOTA.resourcesPerTarget) throw invalid(`targets.${name}.resourceArns: at most ${QUOTA.resourcesPerTarget} resources per target`);
    }
    const used = new Set<string>();
    for (const [name, a] of Object.entries(actions)) {
      if (!/^[\S]{1,64}$/.test(name)) throw invalid(`actions: invalid action name ${name}`);
      const def = ACTIONS[a.actionId];
      // FIS-12: an action the simulator does not play is refused here (AWS knows more actions).
      if (!def) throw invalid(`actions.${name}.actionId: ${a.actionId} is not an action the simulated FIS plays (${Object.keys(ACTIONS).join(', ')})`);
      for (const after of a.startAfter ?? []) if (!actions[after]) throw invalid(`actions.${name}.startAfter: no action ${after}`);
      const keys = Object.entries(a.targets ?? {});
      if (def.key !== null) {
        const t = keys.find(([k]) => k === def.key);
        if (!t || keys.length !== 1) throw invalid(`actions.${name}.targets: ${a.actionId} takes exactly one target, key ${def.key}`);
        const target = targets[t[1]];
        if (!target) throw invalid(`actions.${name}.targets.${def.key}: no target ${t[1]}`);
        if (target.resourceType !== def.resourceType) throw invalid(`actions.${name}: ${a.actionId} acts on ${def.resourceType}, target ${t[1]} is ${target.resourceType}`);
        used.add(t[1]);
      } else if (keys.length > 0) throw invalid(`actions.${name}.targets: ${a.actionId} takes no target`);
      if (def.duration !== null) {
        const ms = parseDuration(a.parameters?.[def.duration]);
        const required = a.actionId !== 'aws:ec2:send-spot-instance-interruptions';
        if ((required || a.parameters?.[def.duration] !== undefined) && !(ms >= def.minMs && ms <= QUOTA.hours * 3_600_000)) {
          throw invalid(`actions.${name}.parameters.${def.duration}: ${String(a.parameters?.[def.duration])} is not an ISO 8601 duration from ${def.minMs / 1000} s to ${QUOTA.hours} h`);
        }
      }
      if (a.actionId.startsWith('aws:fis:inject-api')) {
        if (!['ec2', 'kinesis'].includes(a.parameters?.['service'] ?? '')) throw invalid(`actions.${name}.parameters.service: must be ec2 or kinesis`);
        const p = Number(a.parameters?.['percentage']);
        if (!(Number.isInteger(p) && p >= 1 && p <= 100)) throw invalid(`actions.${name}.parameters.percentage: must be 1-100`);
      }
    }
    // startAfter must not form a cycle.
    const state = new Map<string, 1 | 2>();
    const visit = (n: string): void => {
      if (state.get(n) === 2) return;
      if (state.get(n) === 1) throw invalid(`actions.${n}.startAfter: the actions' startAfter form a cycle`);
      state.set(n, 1);
      for (const after of actions[n]?.startAfter ?? []) visit(after);
      state.set(n, 2);
    };
    for (const n of Object.keys(actions)) visit(n);
    for (const name of Object.keys(targets)) if (!used.has(name)) throw invalid(`targets.${name}: no action uses this target`);
    return { description, roleArn, targets: structuredClone(targets), actions: structuredClone(actions), stopConditions: structuredClone(stops), tags: { ...((input['tags'] ?? {}) as Record<string, string>) } };
  }

  #templateView(t: Template): Record<string, unknown> {
    return {
      id: t.id,
      arn: t.arn,
      description: t.description,
      roleArn: t.roleArn,
      targets: structuredClone(t.targets),
      actions: structuredClone(t.actions),
      stopConditions: structuredClone(t.stopConditions),
      tags: { ...t.tags },
      creationTime: new Date(t.creationTimeMs),
      lastUpdateTime: new Date(t.creationTimeMs),
      experimentOptions: { accountTargeting: 'single-account', emptyTargetResolutionMode: 'fail' },
    };
  }

  #experimentView(x: Experiment): Record<string, unknown> {
    return {
      id: x.id,
      arn: x.arn,
      experimentTemplateId: x.template.id,
      roleArn: x.template.roleArn,
      state: { status: x.status, ...(x.reason !== null && { reason: x.reason }) },
      targets: structuredClone(x.template.targets),
      actions: Object.fromEntries(
        [...x.actions].map(([name, r]) => {
          const a = x.template.actions[name] as ActionDef;
          return [name, { ...structuredClone(a), state: { status: r.status, ...(r.reason !== null && { reason: r.reason }) }, ...(r.startMs !== null && { startTime: new Date(r.startMs) }), ...(r.endMs !== null && { endTime: new Date(r.endMs) }) }];
        }),
      ),
      stopConditions: structuredClone(x.template.stopConditions),
      startTime: new Date(x.startMs),
      ...(x.endMs !== null && { endTime: new Date(x.endMs) }),
      tags: { ...x.tags },
    };
  }

  #operations(): SimService['operations'] {
    return {
      CreateExperimentTemplate: (input) => {
        const token = typeof input['clientToken'] === 'string' ? input['clientToken'] : null;
        // FIS-7: a retry with the same client token returns the template the first call made.
        const known = token === null ? undefined : this.templates.get(this.#tokens.get(token) ?? '');
        if (known) return { experimentTemplate: this.#templateView(known) };
        const v = this.#validate(input);
        const id = `EXT${this.#ctx.state.nextId('ext', 14).slice(4)}`;
        const t: Template = { ...v, id, arn: this.arnOf('experiment-template', id), creationTimeMs: this.#now() };
        this.templates.set(id, t);
        if (token !== null) this.#tokens.set(token, id);
        this.#ctx.trace.record('fis.template-created', { id, actions: Object.keys(t.actions) });
        return { experimentTemplate: this.#templateView(t) };
      },
      GetExperimentTemplate: (input) => {
        const t = this.templates.get(String(input['id']));
        if (!t) throw notFound(`Experiment template not found: ${String(input['id'])}`);
        return { experimentTemplate: this.#templateView(t) };
      },
      DeleteExperimentTemplate: (input) => {
        const t = this.templates.get(String(input['id']));
        if (!t) throw notFound(`Experiment template not found: ${String(input['id'])}`);
        this.templates.delete(t.id);
        return { experimentTemplate: this.#templateView(t) };
      },
      StartExperiment: (input, ctx) => {
        const t = this.templates.get(String(input['experimentTemplateId']));
        if (!t) throw notFound(`Experiment template not found: ${String(input['experimentTemplateId'])}`);
        // FIS-7: a retry with the same client token returns the experiment the first call started.
        const token = typeof input['clientToken'] === 'string' ? input['clientToken'] : null;
        const known = token === null ? undefined : this.experiments.get(this.#experimentTokens.get(token) ?? '');
        if (known) return { experiment: this.#experimentView(known) };
        const x = this.#start(t, { ...((input['tags'] ?? {}) as Record<string, string>) }, ctx);
        if (token !== null) this.#experimentTokens.set(token, x.id);
        return { experiment: this.#experimentView(x) };
      },
      GetExperiment: (input) => {
        const x = this.experiments.get(String(input['id']));
        if (!x) throw notFound(`Experiment not found: ${String(input['id'])}`);
        return { experiment: this.#experimentView(x) };
      },
      StopExperiment: (input) => {
        const x = this.experiments.get(String(input['id']));
        if (!x) throw notFound(`Experiment not found: ${String(input['id'])}`);
        // FIS-14: stopping a finished experiment changes nothing.
        if (x.status === 'pending' || x.status === 'initiating' || x.status === 'running') this.#stop(x, 'stopped', 'Experiment stopped by user request.');
        return { experiment: this.#experimentView(x) };
      },
      ListExperiments: (input) => {
        const tid = typeof input['experimentTemplateId'] === 'string' ? input['experimentTemplateId'] : null;
        const xs = [...this.experiments.values()].filter((x) => tid === null || x.template.id === tid);
        return { experiments: xs.map((x) => ({ id: x.id, arn: x.arn, experimentTemplateId: x.template.id, state: { status: x.status, ...(x.reason !== null && { reason: x.reason }) }, creationTime: new Date(x.startMs), tags: { ...x.tags } })) };
      },
    };
  }

  #start(t: Template, tags: Record<string, string>, ctx: ServiceContext): Experiment {
    const id = `EXP${this.#ctx.state.nextId('exp', 14).slice(4)}`;
    const x: Experiment = {
      id,
      arn: this.arnOf('experiment', id),
      template: t,
      tags,
      status: 'initiating',
      reason: null,
      startMs: this.#now(),
      endMs: null,
      actions: new Map(Object.keys(t.actions).map((n) => [n, { status: 'pending', reason: null, startMs: null, endMs: null, rollback: null, timer: null }])),
      resolved: new Map(),
      unlisten: null,
    };
    this.experiments.set(id, x);
    this.#ctx.trace.record('fis.experiment-started', { id, template: t.id });
    const role = t.roleArn.slice(t.roleArn.indexOf(':role/') + ':role/'.length).split('/').pop() as string;
    this.#ctx.iam.ensureRole(role);
    const caller = this.#ctx.iam.roleCaller(role);
    this.#ctx.scheduler.after(INITIATING_MS, `fis ${id} running`, () => {
      if (x.status !== 'initiating') return;
      // FIS-11: targets are resolved when the experiment starts; none found fails it (emptyTargetResolutionMode "fail").
      for (const [name, target] of Object.entries(t.targets)) {
        const ids = this.#resolve(target, ctx);
        if (ids.length === 0) return this.#stop(x, 'failed', `Target resolution returned empty set for target ${name}.`);
        x.resolved.set(name, ids);
      }
      // FIS-5: a stop-condition alarm going to ALARM stops the experiment.
      const alarms = new Set(t.stopConditions.filter((s) => s.source === 'aws:cloudwatch:alarm').map((s) => s.value as string));
      for (const arn of alarms) {
        if (!this.#cw.byArn(arn)) return this.#stop(x, 'failed', `Stop condition alarm ${arn} does not exist.`);
        if (this.#cw.byArn(arn)?.state === 'ALARM') return this.#stop(x, 'stopped', `Experiment stopped by stop condition: alarm ${arn} is in ALARM.`);
      }
      x.unlisten = this.#cw.onStateChange((a) => {
        if (alarms.has(a.arn) && a.state === 'ALARM' && (x.status === 'running' || x.status === 'initiating')) this.#stop(x, 'stopped', `Experiment stopped by stop condition: alarm ${a.arn} went to ALARM.`);
      });
      x.status = 'running';
      this.#advance(x, caller);
    });
    return x;
  }

  /** Resource ids a target resolves to now. */
  #resolve(target: TargetDef, ctx: ServiceContext): string[] {
    const ids = (target.resourceArns ?? []).map((a) => a.slice(a.lastIndexOf('/') + 1));
    let out: string[];
    if (target.resourceType === 'aws:ec2:instance' || target.resourceType === 'aws:ec2:spot-instance') {
      const states = target.filters?.find((f) => f.path === 'State.Name')?.values ?? null;
      const match = (i: SimInstance): boolean =>
        (ids.length === 0 || ids.includes(i.id)) &&
        Object.entries(target.resourceTags ?? {}).every(([k, v]) => i.tags[k] === v) &&
        (states === null ? i.ec2State !== 'terminated' : states.includes(i.ec2State)) &&
        (target.resourceType === 'aws:ec2:instance' || i.spot);
      out = [...this.#ctx.state.instances.values()].filter(match).map((i) => i.id).sort();
    } else if (target.resourceType === 'aws:ec2:subnet') {
      out = ids.filter((s) => this.#ctx.state.subnets.has(s));
    } else if (target.resourceType === 'aws:iam:role') {
      out = (target.resourceArns ?? []).filter((a) => a.startsWith(`arn:${ctx.partition}:iam::${ctx.accountId}:role/`));
    } else out = [];
    const m = /^(COUNT|PERCENT)\((\d+)\)$/.exec(target.selectionMode);
    if (m) {
      const n = m[1] === 'COUNT' ? Number(m[2]) : Math.round((out.length * Number(m[2])) / 100);
      out = out.slice(0, n);
    }
    return out;
  }

  /** Starts every pending action whose startAfter actions have completed; completes the experiment when all have. */
  #advance(x: Experiment, caller: Caller): void {
    if (x.status !== 'running') return;
    let all = true;
    for (const [name, r] of x.actions) {
      if (r.status !== 'completed') all = false;
      if (r.status !== 'pending') continue;
      const a = x.template.actions[name] as ActionDef;
      if ((a.startAfter ?? []).every((n) => x.actions.get(n)?.status === 'completed')) this.#run(x, name, a, r, caller);
    }
    if (all) this.#finish(x, 'completed', 'Experiment completed.');
  }

  #run(x: Experiment, name: string, a: ActionDef, r: ActionRun, caller: Caller): void {
    r.status = 'running';
    r.startMs = this.#now();
    this.#ctx.trace.record('fis.action-started', { experiment: x.id, action: name, actionId: a.actionId });
    const def = ACTIONS[a.actionId] as (typeof ACTIONS)[string];
    const resources = def.key === null ? [] : (x.resolved.get(a.targets?.[def.key] ?? '') ?? []);
    const durationMs = def.duration === null ? 0 : (parseDuration(a.parameters?.[def.duration]) || def.minMs);
    const done = (): void => {
      if (r.status !== 'running') return;
      r.status = 'completed';
      r.endMs = this.#now();
      r.rollback = null;
      this.#ctx.trace.record('fis.action-completed', { experiment: x.id, action: name });
      this.#advance(x, caller);
    };
    const fail = (why: string): void => {
      if (r.status !== 'running') return;
      r.status = 'failed';
      r.reason = why;
      r.endMs = this.#now();
      this.#stop(x, 'failed', `Action ${name} failed: ${why}`);
    };
    const later = (ms: number): void => {
      r.timer = this.#ctx.scheduler.after(ms, `fis ${x.id} ${name} done`, done);
    };
    const authorized = (checks: readonly AuthorizationCheck[], then: () => void): void => {
      const d = this.#ctx.iam.authorize(caller, checks);
      const go = (denial: Awaited<typeof d>): void => {
        // FIS-9: an action the experiment role may not do fails the action, and the experiment.
        if (denial) return fail(`${caller.principalArn} is not authorized to perform: ${denial.action} on resource: ${denial.resource}`);
        then();
      };
      if (d instanceof Promise) {
        // A fresh IAM evaluation is asynchronous in wall time: virtual time stands still until it
        // is decided (scheduler.hold), or the action could start after its own end.
        const decided = d.then(go, (e: unknown) => fail(String(e)));
        this.#ctx.scheduler.hold(decided);
      } else go(d);
    };
    const sctx = this.#serviceContext(caller);
    switch (a.actionId) {
      case 'aws:fis:wait':
        return later(durationMs);
      case 'aws:ec2:terminate-instances':
        // The EC2 API itself, as the experiment role: IAM, the world's termination, the group's replacement.
        this.#ctx.gateway.requestCallback(caller, 'ec2', 'TerminateInstances', { InstanceIds: resources }, (err) => (err ? fail(err.message) : done()));
        return;
      case 'aws:ec2:send-spot-instance-interruptions': {
        const checks = (EC2_AUTHORIZERS['TerminateInstances']?.({ InstanceIds: resources }, sctx) ?? []).map((c) => ({ ...c, action: 'ec2:SendSpotInstanceInterruptions' }));
        return authorized(checks, () => {
          // FIS-15: the notice now, the interruption (termination) 2 minutes later.
          for (const id of resources) {
            const nodeId = this.#ctx.state.instances.get(id)?.nodeId;
            if (nodeId) this.#faults.spotInterrupt(nodeId);
          }
          later(durationMs);
        });
      }
      case 'aws:network:disrupt-connectivity': {
        const acl = `arn:${sctx.partition}:ec2:${sctx.region}:${sctx.accountId}:network-acl/acl-fis${x.id.slice(-8).toLowerCase()}`;
        const checks: AuthorizationCheck[] = [
          { action: 'ec2:DescribeSubnets', resource: '*', context: {} },
          { action: 'ec2:CreateNetworkAcl', resource: acl, context: { 'aws:RequestTag/managedByFIS': 'true', 'aws:TagKeys': ['managedByFIS'] } },
          { action: 'ec2:CreateNetworkAclEntry', resource: acl, context: { 'aws:ResourceTag/managedByFIS': 'true' } },
          ...resources.map((s) => ({ action: 'ec2:ReplaceNetworkAclAssociation', resource: `arn:${sctx.partition}:ec2:${sctx.region}:${sctx.accountId}:subnet/${s}`, context: {} })),
        ];
        return authorized(checks, () => {
          // FIS-4: traffic in and out of the subnets is denied; the members there are cut off from the others.
          const nodes = [...new Set([...this.#ctx.state.instances.values()].filter((i) => resources.includes(i.subnetId) && i.ec2State === 'running' && i.nodeId !== null).map((i) => i.nodeId as string))];
          for (const n of nodes) this.#faults.partition(n, durationMs);
          r.rollback = () => {
            for (const n of nodes) this.#ctx.app.partition(n, 0);
          };
          later(durationMs);
        });
      }
      case 'aws:fis:inject-api-throttle-error':
      case 'aws:fis:inject-api-internal-error': {
        const throttle = a.actionId === 'aws:fis:inject-api-throttle-error';
        const operations = (a.parameters?.['operations'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        const checks: AuthorizationCheck[] = [
          { action: throttle ? 'fis:InjectApiThrottleError' : 'fis:InjectApiInternalError', resource: x.arn, context: { 'fis:Service': a.parameters?.['service'] ?? '', 'fis:Targets': resources, ...(operations.length > 0 && { 'fis:Operations': operations }) } },
        ];
        return authorized(checks, () => {
          // FIS-3 (simulated wider): the simulator's API fault applies to every caller's calls of the named operations.
          const before = this.#ctx.faults.apiErrors.length;
          this.#faults.apiErrors({ code: throttle ? 'throttle' : '5xx', rate: Number(a.parameters?.['percentage']) / 100, durationMs, ...(operations.length > 0 && { operations }) });
          const entry = this.#ctx.faults.apiErrors[before];
          r.rollback = () => {
            const i = entry ? this.#ctx.faults.apiErrors.indexOf(entry) : -1;
            if (i >= 0) this.#ctx.faults.apiErrors.splice(i, 1);
          };
          later(durationMs);
        });
      }
      default:
        return fail(`${a.actionId} is not simulated`);
    }
  }

  #serviceContext(caller: Caller): ServiceContext {
    const a = this.#ctx.account;
    return { sim: this.#ctx, caller, service: 'ec2', operation: 'TerminateInstances', region: a.region, accountId: a.accountId, partition: a.partition };
  }

  /** Stops a running experiment: running actions roll back and end `stopped`, pending ones `cancelled` (FIS-14). */
  #stop(x: Experiment, status: 'stopped' | 'failed', reason: string): void {
    if (x.status === 'completed' || x.status === 'stopped' || x.status === 'failed') return;
    x.status = 'stopping';
    for (const r of x.actions.values()) {
      if (r.timer !== null) this.#ctx.scheduler.cancel(r.timer);
      r.timer = null;
      if (r.status === 'running') {
        r.rollback?.();
        r.rollback = null;
        r.status = 'stopped';
        r.endMs = this.#now();
      } else if (r.status === 'pending') r.status = 'cancelled';
    }
    this.#finish(x, status, reason);
  }

  #finish(x: Experiment, status: 'completed' | 'stopped' | 'failed', reason: string): void {
    x.status = status;
    x.reason = reason;
    x.endMs = this.#now();
    x.unlisten?.();
    x.unlisten = null;
    this.#ctx.trace.record('fis.experiment-ended', { id: x.id, status, reason });
  }
}
