/**
 * `berth-cli gameday PLAN.json --spec SPEC.json`: a chaos game-day against a cluster — in the
 * simulator (`--sim`, a rehearsal) or on AWS through the AWS driver — with a dry run, kill
 * switches (Ctrl-C, a file, an SSM parameter) and the HTML timeline report recorded live from
 * the driver's observations (`createTimelineRecorder` of @berth/chaos). The same injector in
 * both places (`createDriverInjector`: faults made with driver calls), so a plan that passes its
 * rehearsal is one AWS can be given. With `--engine fis`, the faults are one AWS FIS experiment
 * (`runFisGameDay`): on AWS, and in the simulator's FIS for the rehearsal.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthConfigError, clusterStatuses, formatDuration, formatRollTime, quorumOf, type ClusterSpec, type ConfigIssue, type Phase } from '@berth/core';
import type * as Chaos from '@berth/chaos';
import type { Fault, FisExperimentTemplateInput, FisGameDay, GameDayPlan, GameDayReport, ReportData } from '@berth/chaos';
import { GameDayRefusedError, GameDayStoppedError, UsageError } from './cli-errors.js';
import type { Target } from './target.js';

/** @berth/chaos, loaded when a game-day runs (it loads the simulator: --help need not wait for it). */
export type ChaosModule = typeof Chaos;

/** Who injects the faults: Berth's own injector (driver calls), or AWS Fault Injection Service (one experiment). */
export const GAME_DAY_ENGINES = ['berth', 'fis'] as const;
export type GameDayEngine = (typeof GAME_DAY_ENGINES)[number];

export interface GameDayFlags {
  readonly dryRun: boolean;
  readonly killFile: string | null;
  readonly killParameter: string | null;
  /** How often the kill switches are read and the cluster observed, in ms. */
  readonly poll: number;
  /** After the last step: watch until every node is healthy, at most this long (ms). */
  readonly settle: number;
  readonly report: string | null;
  readonly engine: GameDayEngine;
  /** `--fis-role`: the experiment role FIS assumes (`--engine fis`). */
  readonly fisRole: string | null;
  /** `--stop-alarm` (repeatable): CloudWatch alarms that stop the experiment. */
  readonly stopAlarm: readonly string[];
  /** `--fis-api-role`: the role whose EC2 calls api-throttle / api-5xx fail. */
  readonly fisApiRole: string | null;
  readonly json: boolean;
  readonly quiet: boolean;
}

/** The bounds of `--poll`: often enough to stop soon, rarely enough not to be throttled. */
export const POLL_BOUNDS_MS = { min: 1_000, max: 60_000 } as const;

const PHASES: readonly Phase[] = ['launching', 'attaching', 'mounting', 'configuring', 'joining', 'healthy', 'in-service'];

type FieldKind = 'nodeId' | 'duration' | 'count' | 'rate' | 'factor' | 'phase' | 'text';
/** The fields each fault kind takes beyond `kind`, `atMs` and `stabilityMs` (the `Fault` type of @berth/chaos). */
const FIELDS: Readonly<Record<string, Readonly<Record<string, FieldKind>>>> = {
  'kill-instance': { nodeId: 'nodeId' },
  'spot-interruption': { nodeId: 'nodeId' },
  'az-outage': { azIndex: 'count', durationMs: 'duration' },
  'stuck-attach': { nodeId: 'nodeId', durationMs: 'duration' },
  'slow-attach': { nodeId: 'nodeId', factor: 'factor', durationMs: 'duration' },
  'eni-release-delay': { delayMs: 'duration', durationMs: 'duration' },
  'bad-image': { phase: 'phase', reason: 'text' },
  'slow-boot': { factor: 'factor', durationMs: 'duration' },
  'api-throttle': { rate: 'rate', durationMs: 'duration' },
  'api-5xx': { rate: 'rate', durationMs: 'duration' },
  'consistency-lag': { lagMs: 'duration', durationMs: 'duration' },
  partition: { nodeId: 'nodeId', durationMs: 'duration' },
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const wholeMs = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Checks a game-day plan file's content against the cluster it targets and returns the plan;
 * every problem is listed with its path (`steps[1].nodeId`), as spec errors are. Faults played by
 * the chaos scenario runner (controller crashes, slow hooks) and `atNextGate` are refused: a
 * game-day starts every fault at its `atMs`.
 *
 * @example
 * ```ts
 * const plan = parseGameDayPlan(JSON.parse(readFileSync('gameday.json', 'utf8')), spec, 'gameday.json');
 * ```
 */
export function parseGameDayPlan(raw: unknown, spec: ClusterSpec, file: string, catalogue: Readonly<Record<string, { readonly playedBy: string; readonly stabilityMs: number }>>): GameDayPlan {
  const issues: ConfigIssue[] = [];
  const bad = (path: string, message: string) => void issues.push({ path, message });
  if (!isRecord(raw)) throw new BerthConfigError([{ path: '', message: 'a game-day plan is a JSON object with name, targetTags and steps' }], `game-day plan ${file}`);
  for (const k of Object.keys(raw)) if (!['name', 'targetTags', 'steps', 'force', 'description'].includes(k)) bad(k, 'unknown field (a plan has name, targetTags, steps, force and description)');
  if (typeof raw['name'] !== 'string' || raw['name'].trim() === '') bad('name', 'required: a non-empty string');
  const tags = raw['targetTags'];
  if (!isRecord(tags)) bad('targetTags', 'required: the tags the cluster must carry, e.g. { "env": "staging" }');
  else if (Object.keys(tags).length === 0) bad('targetTags', 'name at least one tag: a game-day never picks its cluster by name alone');
  else for (const [k, v] of Object.entries(tags)) if (typeof v !== 'string') bad(`targetTags.${k}`, 'must be a string');
  if (raw['force'] !== undefined && typeof raw['force'] !== 'boolean') bad('force', 'must be true or false');
  const steps = raw['steps'];
  const nodeIds = spec.nodes.map((n) => n.id);
  const azCount = new Set(spec.subnets.map((s) => s.az)).size;
  const out: Fault[] = [];
  if (!Array.isArray(steps) || steps.length === 0) bad('steps', 'required: a non-empty list of faults');
  else
    steps.forEach((step: unknown, i) => {
      const at = `steps[${i}]`;
      if (!isRecord(step)) return bad(at, 'must be an object with kind and atMs');
      const kind = step['kind'];
      const known = typeof kind === 'string' ? catalogue[kind] : undefined;
      if (typeof kind !== 'string' || !known) return bad(`${at}.kind`, `unknown fault kind ${JSON.stringify(kind)} (game-days play: ${Object.keys(FIELDS).join(', ')})`);
      if (known.playedBy !== 'injector') return bad(`${at}.kind`, `${kind} is played by chaos scenarios (docs/chaos.md), not by game-days`);
      const fields = FIELDS[kind] ?? {};
      const before = issues.length;
      if (!wholeMs(step['atMs'])) bad(`${at}.atMs`, 'required: when the fault starts, a whole number of ms ≥ 0 after the game-day starts');
      if (step['stabilityMs'] !== undefined && !wholeMs(step['stabilityMs'])) bad(`${at}.stabilityMs`, 'must be a whole number of ms ≥ 0');
      if (step['atNextGate'] !== undefined) bad(`${at}.atNextGate`, 'game-days start every fault at its atMs (atNextGate is for chaos scenarios)');
      for (const k of Object.keys(step)) if (!['kind', 'atMs', 'stabilityMs', 'atNextGate', ...Object.keys(fields)].includes(k)) bad(`${at}.${k}`, `unknown field for ${kind} (it takes ${['atMs', 'stabilityMs', ...Object.keys(fields)].join(', ')})`);
      for (const [f, type] of Object.entries(fields)) {
        const v = step[f];
        const p = `${at}.${f}`;
        if (type === 'nodeId' && (typeof v !== 'string' || !nodeIds.includes(v))) bad(p, `${v === undefined ? 'required' : `no node ${JSON.stringify(v)}`} in cluster ${spec.name} (its nodes: ${nodeIds.join(', ')})`);
        else if (type === 'duration' && !(wholeMs(v) && (v as number) > 0)) bad(p, 'required: a whole number of ms > 0');
        else if (type === 'count' && !(wholeMs(v) && (v as number) < azCount)) bad(p, `required: an AZ index from 0 to ${azCount - 1} (cluster ${spec.name} spans ${azCount} AZs)`);
        else if (type === 'rate' && !(typeof v === 'number' && v > 0 && v <= 1)) bad(p, 'required: a share of calls, more than 0 and at most 1');
        else if (type === 'factor' && !(typeof v === 'number' && v > 1)) bad(p, 'required: a factor greater than 1');
        else if (type === 'phase' && !PHASES.includes(v as Phase)) bad(p, `required: one of ${PHASES.join(', ')}`);
        else if (type === 'text' && (typeof v !== 'string' || v === '')) bad(p, 'required: a non-empty string');
      }
      if (issues.length === before) out.push({ ...step, stabilityMs: (step['stabilityMs'] as number | undefined) ?? known.stabilityMs } as unknown as Fault);
    });
  if (issues.length > 0) throw new BerthConfigError(issues, `game-day plan ${file}`);
  return { name: raw['name'] as string, targetTags: tags as Record<string, string>, steps: out, ...(raw['force'] === true && { force: true }) };
}

/** What a step hits: its node, the nodes of its AZ, or the whole account. */
export function stepTarget(f: Fault, spec: ClusterSpec): string {
  if (f.kind === 'az-outage') {
    const azs = [...new Set(spec.subnets.map((s) => s.az))].sort();
    const az = azs[f.azIndex % azs.length] as string;
    const subnets = new Set(spec.subnets.filter((s) => s.az === az).map((s) => s.id));
    const nodes = spec.nodes.filter((n) => subnets.has(n.subnetId)).map((n) => n.id);
    return `AZ ${az}: ${nodes.join(', ') || 'no node'}`;
  }
  return 'nodeId' in f ? `node ${f.nodeId}` : 'cluster-wide (API, images)';
}

const STATUS_WORDS: Readonly<Record<string, string>> = { 'would-inject': 'would inject', injected: 'injected', 'not-reached': 'not reached' };

function stepLines(report: GameDayReport, spec: ClusterSpec): string[] {
  const width = Math.max(...report.actions.map((a) => a.fault.kind.length));
  return report.actions.map((a) => `  ${formatRollTime(a.atMs).padEnd(7)} ${a.fault.kind.padEnd(width)}  ${stepTarget(a.fault, spec).padEnd(24)}  ${STATUS_WORDS[a.status] ?? a.status}`);
}

/** The dry run as text: each step (time, fault, target), the blast radius against the tolerance. */
export function formatDryRun(report: GameDayReport, plan: GameDayPlan, spec: ClusterSpec): string {
  const { quorum } = quorumOf(spec.nodes.length);
  return [
    `Game-day '${report.plan}' on cluster ${spec.name} (${spec.nodes.length} nodes; tags ${Object.entries(plan.targetTags).map(([k, v]) => `${k}=${v}`).join(', ')} match), injector ${report.injector}:`,
    ...stepLines(report, spec),
    `Blast radius: up to ${report.blastRadius} node${report.blastRadius === 1 ? '' : 's'} disrupted at once; the cluster tolerates ${report.tolerance} (quorum ${quorum} of ${spec.nodes.length})${plan.force && report.blastRadius > report.tolerance ? ' — over it, allowed by force: true' : ''}.`,
    ...(report.fis ? formatFisTemplate(report.fis.template) : []),
    'Dry run: nothing was injected.',
  ].join('\n');
}

const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const ALARM_ARN = /^arn:aws(?:-[a-z]+)*:cloudwatch:[a-z0-9-]+:\d{12}:alarm:[^:]{1,255}$/;

/**
 * The `--engine fis` flags, checked before anything is loaded or called: `--fis-role` is
 * required with `--engine fis`, the FIS flags apply only to it, and each ARN has its form.
 */
export function checkFisFlags(flags: Pick<GameDayFlags, 'engine' | 'fisRole' | 'stopAlarm' | 'fisApiRole'>): void {
  if (flags.engine !== 'fis') {
    const given = [flags.fisRole !== null && '--fis-role', flags.stopAlarm.length > 0 && '--stop-alarm', flags.fisApiRole !== null && '--fis-api-role'].filter((x): x is string => typeof x === 'string');
    if (given.length > 0) throw new UsageError(`${given.join(', ')} appl${given.length === 1 ? 'ies' : 'y'} to --engine fis (the faults as an AWS FIS experiment); this game-day's engine is ${flags.engine}.`);
    return;
  }
  if (flags.fisRole === null) throw new UsageError('--engine fis needs --fis-role ARN: the IAM role FIS assumes to run the experiment (arn:aws:iam::<account>:role/<name>).');
  if (!ROLE_ARN.test(flags.fisRole)) throw new UsageError(`--fis-role: not an IAM role ARN (arn:aws:iam::<account>:role/<name>): '${flags.fisRole}'.`);
  if (flags.fisApiRole !== null && !ROLE_ARN.test(flags.fisApiRole)) throw new UsageError(`--fis-api-role: not an IAM role ARN (arn:aws:iam::<account>:role/<name>): '${flags.fisApiRole}'.`);
  for (const a of flags.stopAlarm) if (!ALARM_ARN.test(a)) throw new UsageError(`--stop-alarm: not a CloudWatch alarm ARN (arn:aws:cloudwatch:<region>:<account>:alarm:<name>): '${a}'.`);
  if (new Set(flags.stopAlarm).size !== flags.stopAlarm.length) throw new UsageError('--stop-alarm: the same alarm is given twice.');
}

/** The template's fields, as the flags that set them. */
const FIS_FLAG_OF: Readonly<Record<string, string>> = { roleArn: '--fis-role', stopAlarmArns: '--stop-alarm', apiRoleArn: '--fis-api-role', accountId: '--fis-role' };

/** A FisTemplateError or FisEngineError as the CLI's error: a flag's (usage, exit 2), or a fault FIS cannot play (exit 3). */
function fisRefusal(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const e = err as Error & { code?: string; field?: string };
  if (e.name === 'FisTemplateError') {
    if (e.code === 'UNSUPPORTED_FAULT') return new GameDayRefusedError('UNSUPPORTED_FAULT', e.message);
    const flag = FIS_FLAG_OF[(e.field ?? '').replace(/\[\d+\]$/, '')];
    if (flag) return new UsageError(`${flag}: ${e.message.slice((e.field ?? '').length + 2)}`);
  }
  if (e.name === 'FisEngineError' && e.code === 'ALARM_NOT_FOUND') return new UsageError(`--stop-alarm: ${e.message.replace(/^stopAlarmArns: /, '')}`);
  return err;
}

/** runFisGameDay's `fis` option from the flags (the CLI's `--poll` is also how often FIS is looked at). */
function fisOptions(t: Target, spec: ClusterSpec, plan: GameDayPlan, flags: GameDayFlags, grant: { readonly actionIds: readonly string[] } | null): FisGameDay {
  const roleArn = flags.fisRole as string;
  const { engine, accountId } = t.fis(grant && { clusterName: spec.name, roleArn, actionIds: grant.actionIds, apiRoleArn: flags.fisApiRole });
  return {
    engine,
    roleArn,
    stopAlarmArns: flags.stopAlarm,
    pollMs: flags.poll,
    gameDay: plan.name,
    ...(flags.fisApiRole && { apiRoleArn: flags.fisApiRole }),
    ...(accountId && { accountId }),
  };
}

/** The FIS template as text: its actions (in order), targets and stop conditions. */
export function formatFisTemplate(x: FisExperimentTemplateInput): string[] {
  const actions = Object.entries(x.actions);
  const width = Math.max(...actions.map(([n]) => n.length), ...Object.keys(x.targets).map((n) => n.length));
  const idWidth = Math.max(...actions.map(([, a]) => a.actionId.length));
  const kv = (o: Readonly<Record<string, string>> | undefined) => Object.entries(o ?? {}).map(([k, v]) => `${k}=${v}`);
  return [
    `FIS experiment template (created by a run, not by the dry run); FIS acts as ${x.roleArn}:`,
    '  actions:',
    ...actions.map(([n, a]) => `    ${n.padEnd(width)}  ${a.actionId.padEnd(idWidth)}  ${[...kv(a.parameters), ...kv(a.targets).map((t) => `target ${t}`), ...(a.startAfter?.length ? [`after ${a.startAfter.join(', ')}`] : [])].join('; ')}`.trimEnd()),
    '  targets:',
    ...Object.entries(x.targets).map(([n, t]) =>
      `    ${n.padEnd(width)}  ${t.resourceType}  ${[
        ...(t.resourceArns ?? []),
        ...kv(t.resourceTags).map((k) => `tag ${k}`),
        ...(t.filters ?? []).map((f) => `${f.path} in ${f.values.join('|')}`),
        `selection ${t.selectionMode}`,
      ].join('; ')}`,
    ),
    `  stop conditions: ${x.stopConditions.map((c) => (c.source === 'none' ? 'none (only the kill switches and Berth\'s own checks stop it)' : `${c.source} ${c.value ?? ''}`.trim())).join(', ')}`,
  ];
}

/** What stops a game-day from outside: a file appearing, an SSM parameter set to `stop`. */
interface KillSwitch {
  /** Why to stop now, or null. */
  check(signal: AbortSignal): Promise<string | null>;
}

function killSwitch(t: Target, flags: GameDayFlags): KillSwitch {
  return {
    async check(signal) {
      if (flags.killFile && existsSync(flags.killFile)) return `kill file ${flags.killFile} exists`;
      if (flags.killParameter) {
        let value: string;
        try {
          value = await t.readParameter(flags.killParameter, signal);
        } catch (err) {
          if (signal.aborted) return null;
          // Fail closed: a kill switch that cannot be read does not protect anything.
          return `cannot read the kill parameter ${flags.killParameter}: ${(err as Error).message}`;
        }
        if (value.trim().toLowerCase() === 'stop') return `SSM parameter ${flags.killParameter} is 'stop'`;
      }
      return null;
    },
  };
}

export interface GameDayOutcome {
  readonly report: GameDayReport;
  readonly data: ReportData | null;
  readonly files: { readonly json: string; readonly html: string } | null;
}

/**
 * The dry run, and the check before a run: the target's tags, the injector's support and the
 * blast radius (runGameDay's refusals, as GameDayRefusedError: exit 3). Makes no cloud call.
 */
export async function dryRunGameDay(t: Target, spec: ClusterSpec, plan: GameDayPlan, flags: GameDayFlags): Promise<GameDayReport> {
  const { runGameDay, runFisGameDay, createDriverInjector, GameDayError } = await import('@berth/chaos');
  try {
    if (flags.engine === 'fis') return await runFisGameDay(plan, { spec, driver: t.driver, clock: t.clock, dryRun: true, fis: fisOptions(t, spec, plan, flags, null) });
    return await runGameDay(plan, { spec, driver: t.driver, clock: t.clock, injector: createDriverInjector(t.driver), dryRun: true });
  } catch (err) {
    if (err instanceof GameDayError) throw new GameDayRefusedError(err.code, err.message);
    throw fisRefusal(err);
  }
}

/**
 * Runs the game-day on its target (inside `t.run`, after `dryRunGameDay` passed) with its kill
 * switches and recording, and writes the report files. The caller throws GameDayStoppedError
 * (exit 6, 130 on Ctrl-C) when it stopped early — after the report was written.
 */
export async function runGameDayCommand(
  chaos: ChaosModule,
  t: Target,
  spec: ClusterSpec,
  plan: GameDayPlan,
  flags: GameDayFlags,
  io: { readonly signal?: AbortSignal | undefined; note(line: string): void },
): Promise<GameDayOutcome> {
  // No import and no file I/O in here: under a simulation, real I/O lets virtual time race on.
  const { runGameDay, runFisGameDay, createDriverInjector, createTimelineRecorder, fisExperimentTemplate } = chaos;
  const kill = killSwitch(t, flags);
  const stop = new AbortController();
  const signal = io.signal ? AbortSignal.any([io.signal, stop.signal]) : stop.signal;
  // Read the kill switches once before anything: one already set, or one that cannot be read, stops it here.
  const before = await kill.check(signal);
  if (before) throw new UsageError(`not starting the game-day: ${before}.`);

  const recorder = createTimelineRecorder({ spec, clock: t.clock, origin: 'the game-day started' });
  const driver = recorder.observing(t.driver);
  const injector = recorder.injecting(createDriverInjector(driver));
  let why: string | null = null;
  const watching = new AbortController();
  // Between steps: the kill switches and an observation for the report, every --poll.
  const watch = (async () => {
    while (!watching.signal.aborted) {
      const reason = io.signal?.aborted ? 'Ctrl-C (SIGINT)' : await kill.check(watching.signal);
      if (reason && !stop.signal.aborted && !why) {
        why = reason;
        recorder.note(`kill switch: ${reason}`);
        io.note(`kill switch: ${reason}; stopping the game-day`);
        stop.abort(new Error(`kill switch: ${reason}`));
      }
      await driver.observe(spec, { scope: 'instances', signal: watching.signal }).catch(() => {});
      await t.clock.sleep(flags.poll, watching.signal).catch(() => {});
    }
  })();
  io.signal?.addEventListener('abort', () => {
    if (!why) {
      why = 'Ctrl-C (SIGINT)';
      recorder.note(`kill switch: ${why}`);
    }
  });

  let report: GameDayReport | null = null;
  try {
    if (flags.engine === 'fis') {
      // The faults come from the experiment: each action is recorded when FIS is seen running it.
      const options = fisOptions(t, spec, plan, flags, null);
      const actionIds = Object.values(fisExperimentTemplate(plan, { ...options, spec }).actions).map((a) => a.actionId);
      const fis: FisGameDay = { ...fisOptions(t, spec, plan, flags, { actionIds }), onAction: (a) => recorder.fault(a.fault) };
      report = await runFisGameDay(plan, { spec, driver, clock: t.clock, signal, fis }).catch((err: unknown): never => {
        throw fisRefusal(err);
      });
    } else report = await runGameDay(plan, { spec, driver, clock: t.clock, injector, signal });
    // Watch the cluster come back (the report's last lanes), unless stopped.
    const until = t.clock.now() + flags.settle;
    while (!report.stopped && t.clock.now() < until) {
      const obs = await driver.observe(spec, { scope: 'instances', signal });
      if (clusterStatuses(spec, obs).every((s) => s.healthy)) break;
      await t.clock.sleep(Math.min(flags.poll, until - t.clock.now()), signal);
    }
  } catch (err) {
    // Only the watch after the last step gets here on a kill switch (runGameDay reports its own).
    if (!report || !signal.aborted) throw err;
    report = { ...report, stopped: { reason: 'kill-switch', atMs: t.clock.now() - recorder.startMs, detail: 'aborted while the cluster recovered' } };
  } finally {
    watching.abort();
    await watch;
  }
  // The last look, for the report's end (also after a kill switch: it shows where things stand).
  await driver.observe(spec, { scope: 'instances' }).catch(() => {});
  const stoppedBy = why as string | null;
  const stopped = report.stopped ? { ...report.stopped, detail: report.stopped.reason === 'kill-switch' && stoppedBy ? stoppedBy : report.stopped.detail } : null;
  const outcome: GameDayReport = { ...report, stopped };
  const injected = outcome.actions.filter((a) => a.status === 'injected').length;
  const data = recorder.toReportData({
    title: `Game-day '${plan.name}' on ${spec.name}`,
    target: t.label,
    stopped,
    notes: [`${injected} of ${outcome.actions.length} steps ${injectedBy(outcome)}; blast radius ${outcome.blastRadius} (tolerance ${outcome.tolerance})`],
  });
  return { report: outcome, data, files: null };
}

/** Who injected: `injected by driver(aws)`, `injected by fis (experiment EXP…)`. */
function injectedBy(r: GameDayReport): string {
  return r.fis ? `injected by fis (experiment ${r.fis.experimentId ?? 'not started'})` : `injected by ${r.injector}`;
}

/** Writes report.json (the ReportData) and report.html (`renderHtmlReport`) into `dir`. */
export async function writeGameDayReport(chaos: ChaosModule, o: GameDayOutcome, dir: string): Promise<GameDayOutcome> {
  if (!o.data) return o;
  await mkdir(dir, { recursive: true });
  const files = { json: join(dir, 'report.json'), html: join(dir, 'report.html') };
  await writeFile(files.json, `${JSON.stringify(o.data, null, 2)}\n`);
  await writeFile(files.html, chaos.renderHtmlReport(o.data));
  return { ...o, files };
}

/** The game-day's result as text. */
export function formatGameDay(o: GameDayOutcome, spec: ClusterSpec): string {
  const r = o.report;
  const injected = r.actions.filter((a) => a.status === 'injected').length;
  const end = o.data ? ` in ${formatDuration(o.data.endMs)}` : '';
  return [
    `Game-day '${r.plan}' on ${r.clusterName}: ${injected} of ${r.actions.length} steps ${r.fis ? injectedBy(r) : 'injected'}${end}; ${r.stopped ? `stopped at ${formatRollTime(r.stopped.atMs)}: ${r.stopped.reason} (${r.stopped.detail})` : 'ran to the end'}`,
    ...stepLines(r, spec),
    ...(r.fis ? [`FIS experiment ${r.fis.experimentId ?? '(not started)'} from template ${r.fis.templateId ?? '(not created)'}: ${r.fis.status ?? 'unknown'}${r.fis.reason ? ` (${r.fis.reason})` : ''}`] : []),
    ...(o.data ? [`Quorum margin: lowest ${Math.min(...o.data.quorumMargin.map((m) => m.margin))}, at the end ${o.data.quorumMargin.at(-1)?.margin ?? '?'}.`] : []),
    ...(o.files ? [`Report: ${o.files.html} (timeline), ${o.files.json}`] : []),
  ].join('\n');
}

/** Throws for a game-day that stopped early (after its report was printed and written). */
export function throwIfStopped(o: GameDayOutcome, interrupted: boolean): void {
  const s = o.report.stopped;
  if (!s) return;
  const injected = o.report.actions.filter((a) => a.status === 'injected').length;
  throw new GameDayStoppedError(s.reason, `The game-day stopped at ${formatRollTime(s.atMs)}: ${s.reason} (${s.detail}); ${injected} of ${o.report.actions.length} steps injected.`, interrupted);
}

