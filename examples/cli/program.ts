/**
 * The commands of `berth-cli`, on commander. One convention across them: `--help` lists every
 * option with its default, `--json` prints the result as one JSON document on stdout (and
 * nothing else goes to stdout), errors go to stderr as one message, exit codes come from
 * exit-codes.ts, and `--sim` runs the cloud commands against a simulated AWS account.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Command, InvalidArgumentError, Option } from 'commander';
import { BerthConfigError, BerthLockError, createController, defineCluster, formatPlan, formatRollReport, type ClusterInput, type ClusterSpec, type RollHold, type RollReport } from '@berth/core';
import type { Simulation } from '@berth/sim-driver';
import { CheckFailedError, RollStoppedError, UsageError } from './cli-errors.js';
import { parseDuration } from './duration.js';
import { EXIT_CODES } from './exit-codes.js';
import type { GameDayReport } from '@berth/chaos';
import { checkFisFlags, dryRunGameDay, formatDryRun, formatGameDay, GAME_DAY_ENGINES, parseGameDayPlan, POLL_BOUNDS_MS, runGameDayCommand, throwIfStopped, writeGameDayReport, type GameDayFlags } from './gameday.js';
import { formatApply, formatPreflight, formatStatus, preflightMessage, summarizeApply } from './format-result.js';
import { describeHold, holdApproval, type PromptInput } from './hold-approval.js';
import { rollProgress, type ProgressStream, type ProgressView } from './progress.js';
import { collect, collectCheckpoint, holdsForApproval, parseCanary, rollOptionsFrom, wholeNumber, type RollFlags } from './roll-flags.js';
import { awsTarget, loadSsm, simTarget, type CloudOptions, type Target } from './target.js';

/** Where the CLI reads and writes; `main` takes it so that tests run the CLI in-process. */
export interface CliIo {
  readonly stdout: ProgressStream;
  readonly stderr: ProgressStream;
  /** For the prompt at a roll's holds (only on a terminal). */
  readonly stdin?: PromptInput | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Fires on Ctrl-C: the running command stops cleanly (a roll settles and releases the lock). */
  readonly signal?: AbortSignal | undefined;
  /** Test seam: called with the simulation (`--sim`) once its cluster is up, before the command runs. */
  readonly onSimulation?: ((sim: Simulation, spec: ClusterSpec) => void | Promise<void>) | undefined;
}

const require = createRequire(import.meta.url);
const CLI_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const CORE_VERSION = (require('@berth/core/package.json') as { version: string }).version;

/** What `--version` prints: the CLI's version (examples/package.json) and the @berth/core it runs on. */
export const VERSION_TEXT = `berth-cli ${CLI_VERSION} (@berth/core ${CORE_VERSION})`;

/** Boot phases a simulated image can be made to fail in (`--sim-bad-image`). */
const FAILING_PHASES = ['launching', 'attaching', 'mounting', 'configuring', 'joining'] as const;

function loadSpec(file: string): ClusterSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the spec file ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new BerthConfigError([{ path: '', message: `not valid JSON: ${(err as Error).message}` }], `cluster spec ${file}`);
  }
  try {
    return defineCluster(raw as ClusterInput);
  } catch (err) {
    // Name the file: a pipeline validates several.
    if (err instanceof BerthConfigError) throw new BerthConfigError(err.issues, `cluster spec ${file}`);
    throw err;
  }
}

interface JsonFlag {
  readonly json: boolean;
}
type CloudFlags = CloudOptions & JsonFlag;

function write(stream: ProgressStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}
function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** `--json`: on every command. */
/** `--remove-nodes [ids]`: `true` alone (every node in AWS the spec no longer lists), or the comma-separated ids. */
function removeNodesOption(cmd: Command): Command {
  return cmd.addOption(new Option('--remove-nodes [ids]', 'remove nodes that are in AWS but no longer in the spec, one at a time: all of them, or these comma-separated ids').default(false));
}
function removeNodesOf(value: boolean | string | undefined): boolean | string[] | undefined {
  if (value === undefined || value === false) return undefined;
  return value === true ? true : value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function jsonOption(cmd: Command, what: string): Command {
  return cmd.addOption(new Option('--json', `${what} as one JSON document on stdout (nothing else goes there)`).default(false));
}

/** The options of every command that talks to AWS (or, with `--sim`, to a simulated account). */
function cloudOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--region <region>', 'AWS region').default(null, "the spec's region").conflicts('sim'))
    .addOption(new Option('--endpoint <url>', 'one endpoint for every AWS service, e.g. a local emulator').default(null, "AWS's own").conflicts('sim'))
    .addOption(new Option('--emulator <name>', 'the endpoint is this emulator: capabilities it lacks are turned off').choices(['moto']).default(null, 'none').conflicts('sim'))
    .addOption(new Option('--change-queue', "wait on Auto Scaling's events (SQS fed by EventBridge) instead of polling; init creates the queue").default(false))
    .addOption(new Option('--sim', 'run against a fresh simulated AWS account (in virtual time, offline) instead of AWS').default(false))
    .addOption(
      new Option('--sim-from <spec>', "with --sim: what the account already runs — this spec file's cluster, provisioned and healthy, or 'empty' for nothing").default(null, "the command's own spec").implies({ sim: true }),
    )
    .addOption(new Option('--sim-seed <n>', 'with --sim: the seed (one seed, one run)').argParser(wholeNumber('--sim-seed', 0)).default(42).implies({ sim: true }))
    .addOption(new Option('--sim-profile <name>', 'with --sim: AWS-like timings, or about 100× shorter ones').choices(['realistic', 'fast']).default('realistic').implies({ sim: true }))
    .addOption(
      new Option('--sim-bad-image <phase>', "with --sim: once the cluster is up, instances of this spec's image fail their boot in this phase — try a halted roll offline")
        .choices(FAILING_PHASES)
        .default(null, 'none')
        .implies({ sim: true }),
    )
    .addOption(new Option('-q, --quiet', 'no progress or simulation notes on stderr (errors still go there)').default(false));
}

/** What the simulated account runs before the command (`--sim-from`): a spec of the same cluster, or nothing. */
function simFrom(opts: CloudOptions, spec: ClusterSpec): ClusterSpec | null {
  if (!opts.sim) return null;
  if (opts.simFrom === null) return spec;
  if (opts.simFrom === 'empty') return null;
  const from = loadSpec(opts.simFrom);
  if (from.name !== spec.name || from.region !== spec.region) {
    throw new UsageError(`--sim-from ${opts.simFrom} describes cluster ${from.name} in ${from.region}, not ${spec.name} in ${spec.region}: give a spec of the same cluster (an earlier version of it).`);
  }
  return from;
}

function targetFor(io: CliIo, spec: ClusterSpec, opts: CloudOptions): Promise<Target> {
  const from = simFrom(opts, spec);
  if (!opts.sim) return awsTarget(spec, opts);
  return simTarget(spec, opts, { from, onSimulation: io.onSimulation, log: (line) => !opts.quiet && write(io.stderr, line) });
}

async function onTarget<T>(target: Target | Promise<Target>, fn: (t: Target) => Promise<T>): Promise<T> {
  const t = await target;
  try {
    return await t.run(() => fn(t));
  } finally {
    t.destroy();
  }
}

async function requirePreflight(t: Target, spec: ClusterSpec, signal: AbortSignal | undefined): Promise<void> {
  const report = await t.driver.preflight(spec, { signal });
  if (!report.ok) throw new CheckFailedError('PREFLIGHT_FAILED', preflightMessage(report));
}

/**
 * The flags that shape a roll's schedule: `plan` shows the schedule `roll` would run with them.
 */
function scheduleOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--max-unavailable <n>', 'nodes replaced at once (capped by the quorum tolerance)').argParser(wholeNumber('--max-unavailable', 1)).default(1))
    .addOption(new Option('--canary [nodes]', 'replace this many nodes first (1 without a count), then hold: for --canary-hold, else until approved').argParser(parseCanary).default(false, 'no canary'))
    .addOption(new Option('--canary-hold <duration>', 'bake time after the canary, health watched throughout; implies --canary').argParser((v) => parseDuration(v, '--canary-hold')).default(null, 'hold until approved'))
    .addOption(new Option('--bake <duration>', 'bake time after every batch: the batch counts once the cluster stayed healthy this long').argParser((v) => parseDuration(v, '--bake')).default(0, '0s'))
    .addOption(new Option('--checkpoint <percent>', 'hold for approval once this share of the nodes is replaced (repeatable)').argParser(collectCheckpoint).default([], 'none'))
    .addOption(new Option('--skip <node>', 'leave this node alone (repeatable)').argParser(collect).default([], 'none'))
    .addOption(new Option('--waves <order>', 'AZ order of the batches: the AZ with most outdated nodes first (balanced), or one AZ after another (az)').choices(['balanced', 'az']).default('balanced'));
}

const controllerOn = (t: Target, spec: ClusterSpec) => createController({ spec, driver: t.driver, clock: t.clock, hooks: t.hooks, holderId: t.holderId });

const EXAMPLES = `
Examples:
  $ berth-cli validate kafka.json
  $ berth-cli plan kafka-next.json --sim --sim-from kafka.json
  $ berth-cli roll kafka-next.json --sim --sim-from kafka.json --canary --canary-hold 10m --bake 2m
  $ berth-cli roll kafka-next.json --max-unavailable 2 --checkpoint 50 --json > report.json
  $ berth-cli gameday broker-loss.json --spec kafka.json --sim --report out/ --kill-file /tmp/stop`;

/** Builds the program for one run (commander keeps parse state, so one program per `main`). */
export function buildProgram(io: CliIo): Command {
  const program = new Command('berth-cli')
    .description('Plan, apply and roll a Berth cluster described in a JSON spec file, on AWS or (--sim) in a simulated AWS account.')
    .version(VERSION_TEXT, '-V, --version', 'print the CLI and @berth/core versions')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) })
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `\nExit codes:\n${EXIT_CODES.map((e) => `  ${String(e.code).padStart(3)}  ${e.meaning}`).join('\n')}\n\nEnvironment:\n  BERTH_DEBUG=1  print stack traces with errors\n  AWS_*          credentials and profile, as every AWS SDK reads them (not with --sim)\n${EXAMPLES}\n`,
    );

  jsonOption(program.command('validate <spec>').description('check the spec file; lists every problem with its path; no cloud call'), 'print the outcome ({ valid, spec } or { valid, issues })')
    .addOption(new Option('--sim', 'accepted as on every command; validate makes no cloud call either way').default(false))
    .action((file: string, opts: JsonFlag) => {
      let spec: ClusterSpec;
      try {
        spec = loadSpec(file);
      } catch (err) {
        if (opts.json && err instanceof BerthConfigError) printJson(io, { valid: false, issues: err.issues });
        throw err;
      }
      if (opts.json) printJson(io, { valid: true, spec });
      else write(io.stdout, `${file}: cluster ${spec.name}, ${spec.nodes.length} nodes in ${spec.region} — valid`);
    });

  jsonOption(program.command('iam-policy <spec>').description('print least-privilege IAM policies for the controller and the nodes (always JSON); no cloud call'), 'print the policies (the same output)')
    .addOption(new Option('--account <id>', 'AWS account id to scope ARNs to').default(null, 'any account (*)'))
    .addOption(new Option('--sim', 'accepted as on every command; iam-policy makes no cloud call either way').default(false))
    .action(async (file: string, opts: { account: string | null }) => {
      const spec = loadSpec(file);
      const { iamPolicyFor } = await import('@berth/aws-driver');
      printJson(io, iamPolicyFor(spec, opts.account ? { accountId: opts.account } : {}));
    });

  jsonOption(cloudOptions(program.command('init <spec>').description('create the DynamoDB lock table (and the change queue with --change-queue)')), 'print what was created ({ lockTable, changeQueue })').action(
    async (file: string, opts: CloudFlags) => {
      const spec = loadSpec(file);
      await onTarget(targetFor(io, spec, opts), async (t) => {
        const lockTable = await t.driver.ensureLockTable({ signal: io.signal });
        const changeQueue = opts.changeQueue ? await t.driver.ensureChangeQueue(spec, { signal: io.signal }) : null;
        if (opts.json) return printJson(io, { lockTable, changeQueue });
        write(io.stdout, `lock table ${lockTable.tableName}: ${lockTable.created ? 'created' : 'already there'}`);
        if (changeQueue) write(io.stdout, `change queue ${changeQueue.queueName}: ready (EventBridge rule ${changeQueue.ruleName})`);
      });
    },
  );

  jsonOption(cloudOptions(program.command('preflight <spec>').description('check the account against the spec (subnets, IPs, images, permissions...); changes nothing')), 'print the report ({ ok, problems, checked, skipped })').action(
    async (file: string, opts: CloudFlags) => {
      const spec = loadSpec(file);
      await onTarget(targetFor(io, spec, opts), async (t) => {
        const report = await t.driver.preflight(spec, { signal: io.signal });
        if (opts.json) printJson(io, report);
        else write(io.stdout, formatPreflight(report));
        if (!report.ok) throw new CheckFailedError('PREFLIGHT_FAILED', preflightMessage(report));
      });
    },
  );

  removeNodesOption(scheduleOptions(jsonOption(cloudOptions(program.command('plan <spec>').description('what apply and roll would do now, as terraform plan shows it; changes nothing')), 'print the plan (ClusterPlan)')))
    .addOption(new Option('--detailed-exitcode', 'exit 3 when the plan has changes (0 when none), like terraform plan -detailed-exitcode').default(false))
    .action(async (file: string, opts: CloudFlags & ScheduleFlags & { detailedExitcode: boolean; removeNodes?: boolean | string }) => {
      const spec = loadSpec(file);
      const roll = rollOptionsFrom({ ...ROLL_DEFAULTS, ...pickSchedule(opts) }, spec);
      await onTarget(targetFor(io, spec, opts), async (t) => {
        await requirePreflight(t, spec, io.signal);
        const { maxUnavailable, waves, skip, canary, bakeMs, checkpoints } = roll;
        const removeNodes = removeNodesOf(opts.removeNodes);
        const p = await controllerOn(t, spec).plan({ maxUnavailable, waves, skip, canary, bakeMs, checkpoints, signal: io.signal, ...(removeNodes !== undefined && { removeNodes }) });
        const { observation: _o, apply: _a, roll: _r, ...plan } = p;
        if (opts.json) printJson(io, plan);
        else write(io.stdout, formatPlan(p));
        if (opts.detailedExitcode && !plan.noChanges) throw new CheckFailedError('CHANGES_PENDING', 'The plan has changes (--detailed-exitcode).');
      });
    });

  removeNodesOption(jsonOption(cloudOptions(program.command('apply <spec>').description('provision and converge every node (ENI, volume, launch template, group, DNS); grows volumes; replaces nothing')), 'print the result (ApplyResult and a summary)')).action(
    async (file: string, opts: CloudFlags & { removeNodes?: boolean | string }) => {
      const spec = loadSpec(file);
      await onTarget(targetFor(io, spec, opts), async (t) => {
        await requirePreflight(t, spec, io.signal);
        const removeNodes = removeNodesOf(opts.removeNodes);
        const result = await controllerOn(t, spec).apply({ signal: io.signal, ...(removeNodes !== undefined && { removeNodes }) });
        if (opts.json) return printJson(io, { ...result, summary: summarizeApply(result) });
        write(io.stdout, formatApply(result));
        for (const w of result.warnings) write(io.stderr, `warning: ${w}`);
      });
    },
  );

  jsonOption(cloudOptions(program.command('status <spec>').description('each node, its health and revision, and the quorum margin; changes nothing')), 'print the status (ClusterStatus)').action(
    async (file: string, opts: CloudFlags) => {
      const spec = loadSpec(file);
      await onTarget(targetFor(io, spec, opts), async (t) => {
        const s = await controllerOn(t, spec).status({ signal: io.signal });
        if (opts.json) printJson(io, s);
        else write(io.stdout, formatStatus(s));
      });
    },
  );

  const nodeOf = (spec: ClusterSpec, nodeId: string, command: string): string => {
    const ids = spec.nodes.map((n) => n.id);
    if (!ids.includes(nodeId)) throw new UsageError(`${command} ${nodeId}: no such node in cluster ${spec.name} (its nodes: ${ids.join(', ')}).`);
    return nodeId;
  };

  jsonOption(cloudOptions(program.command('pause-node <spec> <node>').description('scale one node to 0 keeping its ENI, IP, volume and DNS records; refused unless the others hold a quorum (docs/pause-nodes.md)')), 'print the result ({ nodeId, instanceId, unchanged, changes })').action(
    async (file: string, node: string, opts: CloudFlags) => {
      const spec = loadSpec(file);
      const nodeId = nodeOf(spec, node, 'pause-node');
      await onTarget(targetFor(io, spec, opts), async (t) => {
        const r = await controllerOn(t, spec).pauseNode(nodeId, { signal: io.signal });
        if (opts.json) return printJson(io, r);
        write(io.stdout, r.unchanged ? `${nodeId} is already paused` : `${nodeId} paused: instance ${r.instanceId ?? '(none)'} stopped; its ENI, IP, volume and DNS records stay. resume-node brings it back.`);
      });
    },
  );

  jsonOption(cloudOptions(program.command('resume-node <spec> <node>').description('bring a paused node back on its own ENI, IP and volume')), 'print the result ({ nodeId, instanceId, unchanged, changes })')
    .addOption(new Option('--wait', 'wait until the node is InService and healthy').default(false))
    .action(async (file: string, node: string, opts: CloudFlags & { wait: boolean }) => {
      const spec = loadSpec(file);
      const nodeId = nodeOf(spec, node, 'resume-node');
      await onTarget(targetFor(io, spec, opts), async (t) => {
        const r = await controllerOn(t, spec).resumeNode(nodeId, { signal: io.signal, wait: opts.wait });
        if (opts.json) return printJson(io, r);
        write(io.stdout, r.unchanged ? `${nodeId} is not paused` : `${nodeId} resumed${r.instanceId ? `: ${r.instanceId} in service` : ': its group launches an instance'}`);
      });
    });

  scheduleOptions(jsonOption(cloudOptions(program.command('roll <spec>').description('replace every outdated instance in quorum-safe batches, with progress on stderr')), 'print the roll report (RollReport; also when the roll halts)'))
    .addOption(new Option('--on-failure <action>', 'on a halt, point the groups this roll moved back at their last good template (rollback) or leave them (hold)').choices(['rollback', 'hold']).default('rollback'))
    .addOption(new Option('--replacement-timeout <duration>', 'how long one replacement may take before the roll halts').argParser((v) => parseDuration(v, '--replacement-timeout')).default(1_800_000, '30m'))
    .addOption(new Option('--health-timeout <duration>', 'how long the cluster may stay unhealthy at a gate before the roll halts').argParser((v) => parseDuration(v, '--health-timeout')).default(600_000, '10m'))
    .addOption(new Option('--retry-failed', 'ignore failures reported before this roll (retry a revision after fixing its cause)').default(false))
    .addOption(new Option('-y, --yes', 'approve every hold (canary without --canary-hold, checkpoints) without asking; needed without a terminal').default(false))
    .action(async (file: string, opts: CloudFlags & RollFlags & { yes: boolean }) => {
      const spec = loadSpec(file);
      const options = rollOptionsFrom(opts, spec);
      const asks = holdsForApproval(options) && !opts.yes;
      if (asks && io.stdin?.isTTY !== true) {
        throw new UsageError(
          `this roll holds for approval (${options.canary && typeof options.canary === 'object' && options.canary.holdMs === undefined ? '--canary without --canary-hold' : '--checkpoint'}), ` +
            'and there is no terminal to ask at: pass --yes to approve every hold, or give the canary a --canary-hold time.',
        );
      }
      const t = await targetFor(io, spec, opts);
      const stop = new AbortController();
      const signal = io.signal ? AbortSignal.any([io.signal, stop.signal]) : stop.signal;
      let declined: RollHold | null = null;
      let progress: ProgressView | null = null;
      const note = (line: string) => (progress ? progress.note(line) : !opts.quiet && write(io.stderr, line));
      const approval = holdApproval({
        yes: opts.yes,
        input: io.stdin,
        output: io.stderr as NodeJS.WritableStream,
        note,
        onPrompt: (open) => (open ? progress?.suspend() : progress?.resume()),
        onDecline: (hold) => {
          declined = hold;
          stop.abort(new RollStoppedError(`not approved at the ${describeHold(hold)}`));
        },
      });
      if (asks) t.holdTime(() => approval.waiting());
      const print = (r: RollReport) => (opts.json ? printJson(io, r) : write(io.stdout, formatRollReport(r)));
      await onTarget(t, async () => {
        await requirePreflight(t, spec, signal);
        const controller = controllerOn(t, spec);
        progress = opts.quiet ? null : rollProgress(controller, io.stderr);
        let report: RollReport;
        try {
          // The controller asks `approve` only at holds without a hold time.
          report = await controller.roll({ ...options, signal, hooks: { approve: approval.approve } });
        } catch (err) {
          progress?.stop();
          progress = null;
          // Once the roll took the lock, its report says how far it came, whatever stopped it.
          const partial = (err as { report?: RollReport }).report;
          const started = !(err instanceof BerthLockError && err.code === 'LOCK_HELD');
          if (partial && started) print(partial);
          if (declined) {
            const done = (declined as RollHold).replaced;
            throw new RollStoppedError(`The roll stopped at its ${describeHold(declined)}: not approved. Replaced: ${done.join(', ') || 'none'}; no other node was touched. Roll again to continue.`);
          }
          throw err;
        } finally {
          progress?.stop();
          approval.close();
        }
        print(report);
      });
    });

  jsonOption(cloudOptions(program.command('gameday <plan>').description("play a game-day plan's faults against the cluster, with kill switches and a timeline report; --dry-run lists them")), 'print the game-day report (GameDayReport, and the report files)')
    .addOption(new Option('--spec <file>', 'the spec of the cluster the plan targets (its tags must match the plan\'s targetTags)').default(null, 'none: required'))
    .addOption(new Option('--dry-run', 'print each step (time, fault, target) and the blast radius against the tolerance; inject nothing').default(false))
    .addOption(new Option('--kill-file <path>', 'stop the game-day once this file exists').default(null, 'none'))
    .addOption(new Option('--kill-parameter <name>', "stop the game-day once this SSM parameter's value is 'stop' (read with GetParameter)").default(null, 'none'))
    .addOption(
      new Option('--poll <duration>', `how often the kill switches are read and the cluster observed for the report (${POLL_BOUNDS_MS.min / 1000}s to ${POLL_BOUNDS_MS.max / 60_000}m)`)
        .argParser((v) => pollDuration(v))
        .default(5_000, '5s'),
    )
    .addOption(new Option('--settle <duration>', 'after the last step, watch until every node is healthy again, at most this long').argParser((v) => parseDuration(v, '--settle')).default(600_000, '10m'))
    .addOption(new Option('--report <dir>', 'write report.json and report.html (the timeline) into this directory').default(null, 'none'))
    .addOption(new Option('--engine <name>', 'who injects the faults: berth (driver calls) or fis (one AWS FIS experiment)').choices(GAME_DAY_ENGINES).default('berth'))
    .addOption(new Option('--fis-role <arn>', 'with --engine fis (required): the IAM role FIS assumes to run the experiment').default(null, 'none'))
    .addOption(
      new Option('--stop-alarm <arn>', 'with --engine fis: a CloudWatch alarm whose ALARM state stops the experiment (repeatable, at most 5)')
        .argParser((v: string, prev: string[]) => [...prev, v])
        .default([], 'none'),
    )
    .addOption(new Option('--fis-api-role <arn>', 'with --engine fis: the role whose EC2 API calls api-throttle / api-5xx steps fail (the controller\'s)').default(null, 'none'))
    .action(async (planFile: string, opts: CloudFlags & GameDayFlags & { spec: string | null }) => {
      if (!opts.spec) throw new UsageError('gameday needs the spec of the cluster it targets: --spec SPEC.json.');
      checkFisFlags(opts);
      if (opts.dryRun && (opts.killFile || opts.killParameter || opts.report)) throw new UsageError('--dry-run injects nothing: --kill-file, --kill-parameter and --report apply to a run.');
      const spec = loadSpec(opts.spec);
      const plan = parseGameDayPlan(readJson(planFile, 'game-day plan'), spec, planFile, (await import('@berth/chaos')).FAULT_CATALOGUE);
      const t = await targetFor(io, spec, { ...opts, ...(opts.dryRun && opts.sim && { simFrom: 'empty' }) });
      const note = (line: string) => !opts.quiet && write(io.stderr, line);
      // Refusals come before any cloud call (and, with --sim, before the simulated cluster is set up).
      let dry: GameDayReport;
      try {
        dry = await dryRunGameDay(t, spec, plan, opts);
      } catch (err) {
        t.destroy();
        throw err;
      }
      if (opts.dryRun) {
        t.destroy();
        if (opts.json) return printJson(io, dry);
        return write(io.stdout, formatDryRun(dry, plan, spec));
      }
      // Loaded before the run: under a simulation, nothing inside may wait on real I/O.
      const chaos = await import('@berth/chaos');
      if (opts.killParameter) await loadSsm();
      const ran = await onTarget(t, () => runGameDayCommand(chaos, t, spec, plan, opts, { signal: io.signal, note }));
      const outcome = opts.report ? await writeGameDayReport(chaos, ran, opts.report) : ran;
      if (opts.json) printJson(io, { ...outcome.report, reportFiles: outcome.files });
      else write(io.stdout, formatGameDay(outcome, spec));
      throwIfStopped(outcome, io.signal?.aborted === true);
    });

  return program;
}

function pollDuration(v: string): number {
  const ms = parseDuration(v, '--poll');
  if (ms < POLL_BOUNDS_MS.min || ms > POLL_BOUNDS_MS.max) throw new InvalidArgumentError(`--poll must be from ${POLL_BOUNDS_MS.min / 1000}s to ${POLL_BOUNDS_MS.max / 60_000}m; got '${v}'.`);
  return ms;
}

/** A JSON file other than a spec (a game-day plan): unreadable is a usage error, not JSON is an invalid file. */
function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the ${what} file ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BerthConfigError([{ path: '', message: `not valid JSON: ${(err as Error).message}` }], `${what} ${file}`);
  }
}

type ScheduleFlags = Pick<RollFlags, 'maxUnavailable' | 'canary' | 'canaryHold' | 'bake' | 'checkpoint' | 'skip' | 'waves'>;
const pickSchedule = ({ maxUnavailable, canary, canaryHold, bake, checkpoint, skip, waves }: ScheduleFlags): ScheduleFlags => ({ maxUnavailable, canary, canaryHold, bake, checkpoint, skip, waves });

/** The roll flags' defaults, for commands that take only some of them (plan). */
const ROLL_DEFAULTS: RollFlags = {
  maxUnavailable: 1,
  canary: false,
  canaryHold: null,
  bake: 0,
  checkpoint: [],
  onFailure: 'rollback',
  skip: [],
  waves: 'balanced',
  replacementTimeout: 1_800_000,
  healthTimeout: 600_000,
  retryFailed: false,
};
