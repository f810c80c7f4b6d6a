import { createHash } from 'node:crypto';
import { AWS_REGIONS, type ClusterSpec } from '@berth/core';
import { describeFault, faultDurationMs, type Fault, type FaultKind } from '../faults/fault.js';

// Builds an AWS FIS experiment template (the CreateExperimentTemplate input, plain data) from a
// game-day's schedule. Sources (docs/game-days.md, rules FIS-1…FIS-15):
// actions and startAfter: https://docs.aws.amazon.com/fis/latest/userguide/action-sequence.html
// action ids, targets, parameters: https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html
// quotas: https://docs.aws.amazon.com/fis/latest/userguide/fis-quotas.html

/** Tag keys Berth writes on every instance and volume (aws-driver `TAG`; chaos does not depend on aws-driver). */
const TAG_CLUSTER = 'berth:cluster';
const TAG_NODE = 'berth:node';
/**
 * On every template and experiment a game-day creates (value: the game-day's name).
 *
 * @example
 * ```ts
 * const mine = templates.filter((t) => t.tags[GAME_DAY_TAG] === 'kill one broker');
 * ```
 */
export const GAME_DAY_TAG = 'berth:game-day';

/**
 * FIS-6: quotas of one experiment template / experiment (not adjustable).
 *
 * @example
 * ```ts
 * if (plan.steps.length > FIS_QUOTAS.actionsPerTemplate) splitPlan(plan);
 * ```
 */
export const FIS_QUOTAS = Object.freeze({ actionsPerTemplate: 20, stopConditionsPerTemplate: 5, parallelActions: 10, actionHours: 12, experimentHours: 12 });

/**
 * The FIS action each catalogue fault is played with, or null (no FIS action: see {@link fisExperimentTemplate}).
 *
 * @example
 * ```ts
 * FIS_ACTION_OF['kill-instance']; // 'aws:ec2:terminate-instances'
 * ```
 */
export const FIS_ACTION_OF: Readonly<Record<FaultKind, string | null>> = Object.freeze({
  'kill-instance': 'aws:ec2:terminate-instances',
  'spot-interruption': 'aws:ec2:send-spot-instance-interruptions',
  'az-outage': 'aws:network:disrupt-connectivity',
  partition: 'aws:network:disrupt-connectivity',
  'api-throttle': 'aws:fis:inject-api-throttle-error',
  'api-5xx': 'aws:fis:inject-api-internal-error',
  'stuck-attach': null,
  'slow-attach': null,
  'eni-release-delay': null,
  'bad-image': null,
  'slow-boot': null,
  'consistency-lag': null,
  'controller-crash': null,
  'second-controller': null,
  'same-holder-controller': null,
  'slow-hook': null,
});

/** One FIS target (CreateExperimentTemplateTargetInput). */
export interface FisTargetInput {
  readonly resourceType: string;
  readonly resourceArns?: readonly string[];
  readonly resourceTags?: Readonly<Record<string, string>>;
  readonly filters?: readonly { readonly path: string; readonly values: readonly string[] }[];
  readonly selectionMode: string;
}

/** One FIS action (CreateExperimentTemplateActionInput). */
export interface FisActionInput {
  readonly actionId: string;
  readonly description?: string;
  readonly parameters?: Readonly<Record<string, string>>;
  readonly startAfter?: readonly string[];
  readonly targets?: Readonly<Record<string, string>>;
}

/** The CreateExperimentTemplate request, as the FIS API takes it (field names of the API). */
export interface FisExperimentTemplateInput {
  readonly clientToken: string;
  readonly description: string;
  readonly roleArn: string;
  readonly targets: Readonly<Record<string, FisTargetInput>>;
  readonly actions: Readonly<Record<string, FisActionInput>>;
  readonly stopConditions: readonly { readonly source: string; readonly value?: string }[];
  readonly tags: Readonly<Record<string, string>>;
}

/** Options of `fisExperimentTemplate`: the cluster, the experiment role, stop alarms and where the template lives. */
export interface FisTemplateOptions {
  readonly spec: ClusterSpec;
  /** The experiment role FIS assumes to act (its policy: aws-driver `fisExperimentRolePolicy`). */
  readonly roleArn: string;
  /** CloudWatch alarms whose ALARM state stops the experiment (at most 5). None: `source: none`. */
  readonly stopAlarmArns?: readonly string[];
  /** Default: the spec's region; must equal it. */
  readonly region?: string;
  /** The account of the cluster's subnets (`az-outage`, `partition` target subnets by ARN). Default: the role's account. */
  readonly accountId?: string;
  /** The IAM role whose EC2 API calls `api-throttle` / `api-5xx` fail (Berth's controller role). Required for those faults. */
  readonly apiRoleArn?: string;
  /** `kill-instance` as `aws:ec2:terminate-instances` (default: the group replaces the instance) or `aws:ec2:stop-instances` (restarted after the step's stabilityMs, at least 1 minute). */
  readonly killAs?: 'terminate' | 'stop';
  /** The plan's template name (tag value). Default: the plan's name. */
  readonly gameDay?: string;
}

/** Names of the template's parts for one step: the action that plays it, and its target. */
export interface FisStepNames {
  readonly action: string;
  readonly target: string;
}

/** Why a template could not be built: a bad field, a fault FIS cannot play, or a FIS quota exceeded. */
export type FisTemplateErrorCode = 'INVALID_FIELD' | 'UNSUPPORTED_FAULT' | 'QUOTA';

/**
 * The plan cannot be made into an FIS template; `field` names what is wrong. Thrown before any call.
 *
 * @example
 * ```ts
 * try { fisExperimentTemplate(plan, options); } catch (e) { if (e instanceof FisTemplateError) console.error(e.field, e.message); }
 * ```
 */
export class FisTemplateError extends Error {
  readonly code: FisTemplateErrorCode;
  readonly field: string;
  constructor(code: FisTemplateErrorCode, field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'FisTemplateError';
    this.code = code;
    this.field = field;
  }
}

const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;
const ALARM_ARN = /^arn:aws(?:-[a-z]+)*:cloudwatch:([a-z0-9-]+):(\d{12}):alarm:[^:]{1,255}$/;

/**
 * ISO 8601 duration as FIS takes it (PT90S, PT2M).
 *
 * @example
 * ```ts
 * isoDuration(90_000); // 'PT90S'
 * ```
 */
export function isoDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s % 60 === 0 ? `PT${s / 60}M` : `PT${s}S`;
}

/**
 * Parses the ISO 8601 durations FIS uses (PTnH, PTnM, PTnS and combinations) to ms; NaN if not one.
 *
 * @example
 * ```ts
 * parseIsoDuration('PT1M30S'); // 90_000
 * ```
 */
export function parseIsoDuration(v: string): number {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(v);
  if (!m || v === 'PT') return Number.NaN;
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
}

const MIN = 60_000;
const HOUR = 3_600_000;

/** How long the FIS action of a step runs (0: instantaneous). */
function fisDurationMs(f: Fault, killAs: 'terminate' | 'stop'): number {
  if (f.kind === 'kill-instance') return killAs === 'stop' ? Math.max(MIN, f.stabilityMs) : 0;
  if (f.kind === 'spot-interruption') return 120_000;
  return faultDurationMs(f);
}

/**
 * Whether a fault kind has an FIS action (a `partition` only when its node is alone in its subnet).
 *
 * @example
 * ```ts
 * plan.steps.filter((s) => !fisSupports(s.kind)); // what runFisGameDay would refuse
 * ```
 */
export function fisSupports(kind: FaultKind): boolean {
  return FIS_ACTION_OF[kind] !== null;
}

/**
 * The names the template gives step `i` (sorted by `atMs`, as the report lists them).
 *
 * @example
 * ```ts
 * fisStepNames(0, fault).action; // 'step-1-kill-instance'
 * ```
 */
export function fisStepNames(i: number, f: Fault): FisStepNames {
  return { action: `step-${i + 1}-${f.kind}`, target: `step-${i + 1}-targets` };
}

function partitionOf(region: string): string {
  return AWS_REGIONS[region]?.partition ?? 'aws';
}

/**
 * The CreateExperimentTemplate input that plays a game-day's schedule on AWS FIS. Pure: it calls
 * nothing, and refuses what FIS would refuse (or could not play as planned) with a
 * {@link FisTemplateError} naming the field.
 *
 * - Targets are found by the cluster's tags: a node's instance by `berth:cluster`, `berth:node`
 *   and the plan's `targetTags` (Berth puts the spec's tags on every resource), running only; an
 *   AZ's subnets (`az-outage`) by ARN; `api-*` faults target `apiRoleArn`.
 * - Times: FIS actions have no start times, only `startAfter` (FIS-1). Steps at the same `atMs`
 *   start together; a chain of `aws:fis:wait` actions (1 minute to 12 hours each, FIS-2) sets
 *   each later time, so distinct step times must be 0 or at least a minute apart.
 * - Stop conditions: one `aws:cloudwatch:alarm` per alarm ARN, else `none` (FIS-5).
 * - Faults without an FIS action (slow/stuck attach, ENI release delay, bad/slow image,
 *   consistency lag, controller faults, slow hooks) are refused, listed by kind: an experiment
 *   has one timeline and one stop button, and half a game-day behind FIS's back would not stop
 *   when FIS stops. Play those with `runGameDay` and an injector.
 *
 * @example
 * ```ts
 * const input = fisExperimentTemplate(
 *   { name: 'kill one broker', targetTags: { env: 'staging' }, steps: [{ kind: 'kill-instance', nodeId: 'kafka-2', atMs: 0, stabilityMs: 60_000 }] },
 *   { spec, roleArn: 'arn:aws:iam::123456789012:role/berth-fis', stopAlarmArns: ['arn:aws:cloudwatch:eu-west-1:123456789012:alarm:kafka-errors'] },
 * );
 * // input.actions['step-1-kill-instance'].actionId === 'aws:ec2:terminate-instances'
 * ```
 */
export function fisExperimentTemplate(plan: { readonly name: string; readonly targetTags: Readonly<Record<string, string>>; readonly steps: readonly Fault[] }, options: FisTemplateOptions): FisExperimentTemplateInput {
  const { spec } = options;
  const region = options.region ?? spec.region;
  if (region !== spec.region) throw new FisTemplateError('INVALID_FIELD', 'region', `the experiment must run in the cluster's region ${spec.region}, not ${region}`);
  const role = ROLE_ARN.exec(options.roleArn);
  if (!role) throw new FisTemplateError('INVALID_FIELD', 'roleArn', `not an IAM role ARN (arn:aws:iam::<account>:role/<name>): '${options.roleArn}'`);
  const accountId = options.accountId ?? (role[1] as string);
  if (!/^\d{12}$/.test(accountId)) throw new FisTemplateError('INVALID_FIELD', 'accountId', `must be 12 digits, got '${accountId}'`);
  const alarms = options.stopAlarmArns ?? [];
  for (const [i, a] of alarms.entries()) {
    const m = ALARM_ARN.exec(a);
    if (!m) throw new FisTemplateError('INVALID_FIELD', `stopAlarmArns[${i}]`, `not a CloudWatch alarm ARN (arn:aws:cloudwatch:<region>:<account>:alarm:<name>): '${a}'`);
  }
  if (new Set(alarms).size !== alarms.length) throw new FisTemplateError('INVALID_FIELD', 'stopAlarmArns', 'lists an alarm twice');
  if (alarms.length > FIS_QUOTAS.stopConditionsPerTemplate) throw new FisTemplateError('QUOTA', 'stopAlarmArns', `${alarms.length} alarms; FIS takes at most ${FIS_QUOTAS.stopConditionsPerTemplate} stop conditions per template`);
  if (options.apiRoleArn !== undefined && !ROLE_ARN.test(options.apiRoleArn)) throw new FisTemplateError('INVALID_FIELD', 'apiRoleArn', `not an IAM role ARN: '${options.apiRoleArn}'`);
  if (plan.steps.length === 0) throw new FisTemplateError('INVALID_FIELD', 'steps', 'a game-day needs at least one step');
  const killAs = options.killAs ?? 'terminate';

  const steps = [...plan.steps].sort((a, b) => a.atMs - b.atMs);
  const index = (f: Fault): number => plan.steps.indexOf(f);
  const unsupported = steps.filter((f) => !fisSupports(f.kind));
  if (unsupported.length > 0) {
    const kinds = [...new Set(unsupported.map((f) => f.kind))];
    throw new FisTemplateError('UNSUPPORTED_FAULT', `steps[${index(unsupported[0] as Fault)}].kind`, `FIS has no action for ${kinds.join(', ')}; FIS plays ${Object.entries(FIS_ACTION_OF).filter(([, a]) => a).map(([k]) => k).join(', ')}. Play the others with runGameDay and an injector.`);
  }

  const partition = partitionOf(region);
  const subnetArn = (id: string): string => `arn:${partition}:ec2:${region}:${accountId}:subnet/${id}`;
  const azs = [...new Set(spec.subnets.map((s) => s.az))].sort();
  const targets: Record<string, FisTargetInput> = {};
  const actions: Record<string, FisActionInput> = {};
  const nodeTags = (nodeId: string): Record<string, string> => ({ ...plan.targetTags, [TAG_CLUSTER]: spec.name, [TAG_NODE]: nodeId });

  // The wait chain: one aws:fis:wait per distinct later start time (FIS-1, FIS-2).
  const times = [...new Set(steps.map((f) => f.atMs))];
  const waitFor = new Map<number, string>();
  let prev = 0;
  let prevWait: string | null = null;
  for (const t of times) {
    if (t === 0) continue;
    const f = steps.find((s) => s.atMs === t) as Fault;
    const gap = t - prev;
    if (!Number.isInteger(t) || t < 0) throw new FisTemplateError('INVALID_FIELD', `steps[${index(f)}].atMs`, `must be a whole number of ms ≥ 0, got ${t}`);
    if (gap < MIN || gap > FIS_QUOTAS.actionHours * HOUR) {
      throw new FisTemplateError('INVALID_FIELD', `steps[${index(f)}].atMs`, `starts ${gap} ms after the previous step time; FIS sequences steps with aws:fis:wait, which waits 1 minute to 12 hours: make step times equal or 60 000 ms to 12 h apart`);
    }
    if (gap % 1000 !== 0) throw new FisTemplateError('INVALID_FIELD', `steps[${index(f)}].atMs`, `FIS durations are whole seconds; ${gap} ms after the previous step time is not`);
    const name = `wait-until-${isoDuration(t).slice(2).toLowerCase()}`;
    actions[name] = { actionId: 'aws:fis:wait', description: `until +${t / 1000}s`, parameters: { duration: isoDuration(gap) }, ...(prevWait && { startAfter: [prevWait] }) };
    waitFor.set(t, name);
    prevWait = name;
    prev = t;
  }

  for (const [i, f] of steps.entries()) {
    const names = fisStepNames(i, f);
    const field = `steps[${index(f)}]`;
    const after = waitFor.get(f.atMs);
    const base = { description: describeFault(f).slice(0, 512), ...(after && { startAfter: [after] }) };
    const dur = fisDurationMs(f, killAs);
    const durationParam = (min: number): string => {
      if (dur < min || dur > FIS_QUOTAS.actionHours * HOUR) throw new FisTemplateError('INVALID_FIELD', `${field}.durationMs`, `FIS runs ${FIS_ACTION_OF[f.kind]} for ${min / 1000} s to 12 h; got ${dur} ms`);
      if (dur % 1000 !== 0) throw new FisTemplateError('INVALID_FIELD', `${field}.durationMs`, `FIS durations are whole seconds; got ${dur} ms`);
      return isoDuration(dur);
    };
    switch (f.kind) {
      case 'kill-instance':
      case 'spot-interruption': {
        if (!spec.nodes.some((n) => n.id === f.nodeId)) throw new FisTemplateError('INVALID_FIELD', `${field}.nodeId`, `cluster ${spec.name} has no node ${f.nodeId}`);
        const spot = f.kind === 'spot-interruption';
        targets[names.target] = { resourceType: spot ? 'aws:ec2:spot-instance' : 'aws:ec2:instance', resourceTags: nodeTags(f.nodeId), filters: [{ path: 'State.Name', values: ['running'] }], selectionMode: 'ALL' };
        if (spot) actions[names.action] = { ...base, actionId: 'aws:ec2:send-spot-instance-interruptions', parameters: { durationBeforeInterruption: 'PT2M' }, targets: { SpotInstances: names.target } };
        else if (killAs === 'stop') actions[names.action] = { ...base, actionId: 'aws:ec2:stop-instances', parameters: { startInstancesAfterDuration: durationParam(MIN), completeIfInstancesTerminated: 'true' }, targets: { Instances: names.target } };
        else actions[names.action] = { ...base, actionId: 'aws:ec2:terminate-instances', targets: { Instances: names.target } };
        break;
      }
      case 'az-outage':
      case 'partition': {
        let subnets: string[];
        if (f.kind === 'az-outage') {
          const az = azs[f.azIndex % azs.length] as string;
          subnets = spec.subnets.filter((s) => s.az === az).map((s) => s.id);
        } else {
          const node = spec.nodes.find((n) => n.id === f.nodeId);
          if (!node) throw new FisTemplateError('INVALID_FIELD', `${field}.nodeId`, `cluster ${spec.name} has no node ${f.nodeId}`);
          const others = spec.nodes.filter((n) => n.subnetId === node.subnetId && n.id !== node.id).map((n) => n.id);
          // FIS-4: disrupt-connectivity cuts a whole subnet; a partition of one node is that only when it is alone there.
          if (others.length > 0) throw new FisTemplateError('UNSUPPORTED_FAULT', `${field}.nodeId`, `FIS cuts whole subnets; ${f.nodeId}'s subnet ${node.subnetId} also holds ${others.join(', ')}`);
          subnets = [node.subnetId];
        }
        if (subnets.length > 5) throw new FisTemplateError('QUOTA', field, `targets ${subnets.length} subnets; FIS takes at most 5 resources per target`);
        targets[names.target] = { resourceType: 'aws:ec2:subnet', resourceArns: subnets.map(subnetArn), selectionMode: 'ALL' };
        actions[names.action] = { ...base, actionId: 'aws:network:disrupt-connectivity', parameters: { duration: durationParam(MIN), scope: 'all' }, targets: { Subnets: names.target } };
        break;
      }
      case 'api-throttle':
      case 'api-5xx': {
        if (!options.apiRoleArn) throw new FisTemplateError('INVALID_FIELD', 'apiRoleArn', `${field} (${f.kind}) needs the role whose API calls fail (Berth's controller role)`);
        if (!(f.rate > 0 && f.rate <= 1)) throw new FisTemplateError('INVALID_FIELD', `${field}.rate`, `must be in (0, 1]; got ${f.rate}`);
        targets[names.target] = { resourceType: 'aws:iam:role', resourceArns: [options.apiRoleArn], selectionMode: 'ALL' };
        actions[names.action] = {
          ...base,
          actionId: FIS_ACTION_OF[f.kind] as string,
          // FIS-3: FIS injects API errors into EC2 (and Kinesis) calls only.
          parameters: { duration: durationParam(MIN), service: 'ec2', percentage: String(Math.max(1, Math.round(f.rate * 100))) },
          targets: { Roles: names.target },
        };
        break;
      }
      default:
        break;
    }
  }

  const count = Object.keys(actions).length;
  if (count > FIS_QUOTAS.actionsPerTemplate) throw new FisTemplateError('QUOTA', 'steps', `${count} FIS actions (${steps.length} steps and ${count - steps.length} waits); FIS takes at most ${FIS_QUOTAS.actionsPerTemplate} per template. Split the game-day.`);
  // Parallel actions: the steps still running at each step's start, plus the wait running then.
  for (const f of steps) {
    const running = steps.filter((o) => o.atMs <= f.atMs && f.atMs < o.atMs + Math.max(1, fisDurationMs(o, killAs))).length + (f.atMs < (times[times.length - 1] ?? 0) ? 1 : 0);
    if (running > FIS_QUOTAS.parallelActions) throw new FisTemplateError('QUOTA', `steps[${index(f)}]`, `${running} FIS actions run at once at +${f.atMs / 1000}s; FIS runs at most ${FIS_QUOTAS.parallelActions} in parallel`);
  }
  const endMs = Math.max(...steps.map((f) => f.atMs + fisDurationMs(f, killAs)));
  if (endMs > FIS_QUOTAS.experimentHours * HOUR) throw new FisTemplateError('QUOTA', 'steps', `the experiment would last ${endMs} ms; FIS experiments last at most 12 hours`);

  const gameDay = (options.gameDay ?? plan.name).slice(0, 256);
  const input = {
    description: `Berth game-day '${plan.name}' on cluster ${spec.name}`.slice(0, 512),
    roleArn: options.roleArn,
    targets,
    actions,
    stopConditions: alarms.length === 0 ? [{ source: 'none' }] : alarms.map((value) => ({ source: 'aws:cloudwatch:alarm', value })),
    tags: { [GAME_DAY_TAG]: gameDay, [TAG_CLUSTER]: spec.name },
  };
  // Idempotent creation (FIS-7): the same plan on the same cluster gives the same token.
  const clientToken = `berth-gd-${createHash('sha256').update(JSON.stringify(input)).digest('hex').slice(0, 40)}`;
  return { clientToken, ...input };
}
