/**
 * The demo: provision a simulated cluster, then roll it to a new image with maxUnavailable 1,
 * leader last, while one instance is killed mid-roll. Live progress, then a summary.
 *
 *   bash scripts/demo.sh [--seed 42] [--nodes 5] [--profile realistic|fast] [--no-kill] [--speed 120]
 *
 * The live view (examples/demo/live-view.ts) is built only on the controller's public events and
 * `status()`: the simulator sets up the world and injects the fault, it renders nothing. The
 * summary then checks the run against the simulator's ground truth (the application's quorum and
 * data, IAM, the safety invariants). Every time is shown relative to the roll's start (`+1m05s`),
 * as in the HTML report, and batches are numbered from 1 in both.
 */
import { styleText } from 'node:util';
import { Command, InvalidArgumentError } from 'commander';
import logUpdate from 'log-update';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createAwsDriver } from '@berth/aws-driver';
import { BerthConfigError, createController, formatDuration, formatRollTime, type Controller, type Phase } from '@berth/core';
import { renderHtmlReport } from '@berth/chaos';
import type { Simulation } from '@berth/sim-driver';
import { LiveView, type Tone, type ViewFrame } from './demo/live-view.js';
import { runRollScenario, type RollScenarioResult } from './demo/roll-scenario.js';

const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}; got '${v}'.`);
  return n;
};

const program = new Command('demo')
  .description('Roll a simulated Berth cluster to a new image, quorum-safe, with live progress.')
  .option('--seed <n>', 'simulation seed (one seed → one run, bit for bit)', int('--seed', 0), 42)
  .option('--nodes <n>', 'cluster size (odd, ≥ 3)', int('--nodes', 1), 5)
  .option('--profile <name>', 'timings: realistic (AWS-like) or fast (~100× shorter)', (v) => {
    if (v !== 'realistic' && v !== 'fast') throw new InvalidArgumentError(`--profile must be realistic or fast; got '${v}'.`);
    return v;
  }, 'realistic')
  .option('--no-kill', 'do not kill an instance mid-roll')
  .option('--speed <x>', 'virtual seconds per real second for the live view (0 = as fast as possible)', (v) => {
    const n = Number(v);
    if (!(n >= 0)) throw new InvalidArgumentError(`--speed must be a number ≥ 0; got '${v}'.`);
    return n;
  })
  .option('--json', 'print the summary as JSON instead of text')
  .option('--report <dir>', 'where to write the timeline report (HTML and JSON)', 'reports')
  .showHelpAfterError();

const opts = program.parse().opts<{ seed: number; nodes: number; profile: 'realistic' | 'fast'; kill: boolean; speed?: number; json?: boolean; report: string }>();
const live = process.stdout.isTTY && !opts.json;
const speed = opts.speed ?? (live ? (opts.profile === 'fast' ? 2 : 120) : 0);

const bold = (s: string) => styleText('bold', s);
const dim = (s: string) => styleText('dim', s);
const color = (c: Parameters<typeof styleText>[0], s: string) => (live ? styleText(c, s) : s);
const toneColor: Record<Tone, Parameters<typeof styleText>[0] | null> = { plain: null, dim: 'gray', good: 'green', warn: 'yellow', bad: 'red', accent: 'cyan' };
const paint = (tone: Tone, s: string) => (toneColor[tone] ? color(toneColor[tone], s) : s);
const phaseColor: Record<Phase, Parameters<typeof styleText>[0]> = {
  launching: 'gray',
  attaching: 'yellow',
  mounting: 'yellow',
  configuring: 'yellow',
  stopping: 'magenta',
  joining: 'cyan',
  healthy: 'cyan',
  'in-service': 'green',
  failed: 'red',
};

let view: LiveView | null = null;
let printed = 0;
/** Without a terminal (or with --json off), the log is printed as it grows. */
const flushLog = () => {
  if (live || opts.json || !view) return;
  for (; printed < view.log.length; printed++) {
    const l = view.log[printed];
    if (l) console.log(`${l.at} ${l.text}`);
  }
};

function render(f: ViewFrame): string {
  const q = f.quorum;
  const marginText = !q ? '?' : q.margin > 0 ? color('green', `+${q.margin}`) : q.margin === 0 ? color('yellow', '0 (no failure tolerated)') : color('red', `${q.margin} (quorum lost!)`);
  const lines = [
    `${bold('Berth demo')} — ${opts.nodes} nodes, seed ${opts.seed}, ${opts.profile} profile, ${speed ? `${speed}× speed` : 'full speed'}`,
    `${f.now}   ${f.stage}${f.progress ? `   ${f.progress}` : ''}`,
    q ? `quorum ${q.healthy}/${q.size} healthy (needs ${q.quorum})   margin ${marginText}   leader ${f.leader ?? color('yellow', '(none says so)')}` : 'quorum (no status yet)',
    '',
    dim(`  ${'node'.padEnd(12)}${'instance'.padEnd(21)}${'phase'.padEnd(13)}${'image'.padEnd(24)}status`),
  ];
  for (const r of f.rows) {
    const phase = r.phase ?? '-';
    // Pad the plain text, then colour it: escape codes have no width.
    const phaseCell = phase in phaseColor ? color(phaseColor[phase as Phase], phase.padEnd(13)) : phase.padEnd(13);
    const image = `${r.imageId ?? '-'}${r.onDesired ? ' ✓' : ''}`.padEnd(24);
    const state = r.leader ? color('magenta', 'leader') : r.healthy ? 'healthy' : color('yellow', 'down');
    lines.push(`  ${r.nodeId.padEnd(12)}${(r.instanceId ?? '-').padEnd(21)}${phaseCell}${r.onDesired ? color('green', image) : image}${state}`);
  }
  lines.push('', ...f.recent.map((l) => `${dim(l.at)} ${paint(l.tone, l.text)}`));
  return lines.join('\n');
}

let pausedMs = 0;
let debtMs = 0;
let lastDraw = 0;
const redraw = (force = false) => {
  flushLog();
  if (!live || !view) return;
  const now = performance.now();
  if (!force && now - lastDraw < 50) return;
  lastDraw = now;
  logUpdate(render(view.frame()));
};
const pace =
  speed > 0
    ? async (fromMs: number, toMs: number) => {
        debtMs += (toMs - fromMs) / speed;
        if (debtMs < 20) return;
        const t0 = performance.now();
        redraw();
        await new Promise((r) => setTimeout(r, Math.min(debtMs, 1_000)));
        debtMs = 0;
        pausedMs += performance.now() - t0;
      }
    : undefined;

function summary(r: RollScenarioResult, wallMs: number): string {
  const calls = Object.entries(r.report.apiCalls)
    .sort((a, b) => b[1] - a[1])
    .map(([op, n]) => `    ${op.padEnd(38)} ${String(n).padStart(5)}`)
    .join('\n');
  const yes = (b: boolean, t: string, f: string) => (b ? color('green', t) : color('red', f));
  return [
    '',
    bold(`Summary (seed ${r.seed}, ${r.nodes} nodes, ${r.profile})`),
    `  outcome                  ${r.outcome === 'completed' ? color('green', 'completed') : color('red', `${r.outcome}: ${r.haltReason}`)}; ${r.replacements} of ${r.nodes} nodes replaced in ${r.report.batches.length} batches`,
    `  simulated roll           ${formatDuration(r.rollMs)}`,
    `  lower bound              ${formatDuration(r.lowerBoundMs)} (Σ slowest replacement per batch) → ${r.makespanRatio.toFixed(3)}× the bound${r.killed ? ' (the bound leaves out the wait for the killed node to come back)' : ''}`,
    `  wall time                ${formatDuration(wallMs)}${pausedMs > 0 ? ` (${formatDuration(wallMs - pausedMs)} computing, the rest paced for viewing)` : ''}; ${r.eventsFired} simulated events`,
    `  instance killed mid-roll ${r.killed ? `${r.killed.nodeId} (${r.killed.instanceId}) at ${formatRollTime(r.killed.atMs - r.rollStartMs)}` : 'no (--no-kill)'}`,
    `  quorum held              ${yes(r.quorumHeld, 'yes', 'NO')} (never fewer than ${r.minHealthy} of ${r.nodes} healthy; quorum ${r.quorum})`,
    `  app without a leader     ${formatDuration(r.unavailableMs)} in all (elections after the leader stepped down or was lost)`,
    `  data lost                ${yes(r.lostCommitted === 0 && r.dataLossEvents === 0, 'none', `${r.lostCommitted} committed entries, ${r.dataLossEvents} data-loss events`)}`,
    `  IAM                      ${!r.iam.evaluated ? 'not evaluated' : yes(r.iam.denied === 0, `${r.iam.checks.toLocaleString('en-US')} checks of the controller's and the bootstraps' calls against the generated policies, none denied`, `${r.iam.denied} of ${r.iam.checks} denied`)}`,
    `  safety invariants        ${!r.invariants ? 'not checked' : r.invariants.violations.length === 0 ? color('green', `${r.invariants.checked.length} checked, all held`) : color('red', `${r.invariants.checked.length} checked; ${r.invariants.violations.join('; ')}`)}`,
    `  API calls                ${r.controlPlaneCalls} control-plane (${(r.controlPlaneCalls / Math.max(1, r.replacements)).toFixed(1)} per replacement) + ${r.queueCalls} SQS long polls`,
    calls,
    '',
    dim(`  replay: bash scripts/demo.sh --seed ${r.seed} --nodes ${r.nodes} --profile ${r.profile}${r.killed ? '' : ' --no-kill'}`),
  ].join('\n');
}

async function main(): Promise<void> {
  const realStart = performance.now();
  let sim: Simulation | null = null;
  let result: RollScenarioResult;
  try {
    result = await runRollScenario({
      seed: opts.seed,
      nodes: opts.nodes,
      profile: opts.profile,
      kill: opts.kill,
      ...(pace && { pace }),
      onSimulation: (s) => {
        sim = s;
        if (!opts.json) console.log(dim(`seed ${opts.seed} — replay with: bash scripts/demo.sh --seed ${opts.seed} --nodes ${opts.nodes} --profile ${opts.profile}${opts.kill ? '' : ' --no-kill'}`));
      },
      onController: (c: Controller, stage) => {
        if (stage === 'provision') {
          // The view asks status() of its own controller, on its own driver (as a dashboard
          // process would): its calls are not the roll's.
          const s = sim as unknown as Simulation;
          const observer = createController({ spec: c.spec, driver: createAwsDriver({ region: c.spec.region, clients: s.aws, clock: s.clock }), clock: c.clock, hooks: s.hooks, holderId: 'demo-view' });
          view = new LiveView(() => observer.status(), () => c.clock.now());
          view.onChange = () => redraw();
          view.watchProvisioning(c);
          return;
        }
        view?.watchRoll(c);
      },
      onReady: () => view?.refresh(),
      onFault: (f) => view?.note(f.atMs, `FAULT injected: killed ${f.nodeId}'s instance ${f.instanceId ?? '?'}`, 'bad'),
      settle: async () => view?.settled(),
    });
  } catch (err) {
    if (live) logUpdate.done();
    if (err instanceof BerthConfigError) {
      console.error(err.message);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  const wallMs = performance.now() - realStart;
  redraw(true);
  if (live) logUpdate.done();
  const dir = resolve(opts.report);
  mkdirSync(dir, { recursive: true });
  const base = resolve(dir, `demo-seed-${opts.seed}`);
  if (result.reportData) {
    writeFileSync(`${base}.html`, renderHtmlReport(result.reportData));
    writeFileSync(`${base}.json`, JSON.stringify(result.reportData, null, 2));
  }
  if (opts.json) {
    const { report, reportData: _reportData, ...rest } = result;
    console.log(
      JSON.stringify(
        {
          ...rest,
          wallMs,
          batches: report.batches.map((b) => ({ batch: b.index + 1, nodeIds: b.nodeIds, started: formatRollTime(b.startedAtMs - result.rollStartMs), finished: b.finishedAtMs === null ? null : formatRollTime(b.finishedAtMs - result.rollStartMs) })),
          killedAt: result.killed ? formatRollTime(result.killed.atMs - result.rollStartMs) : null,
          apiCalls: report.apiCalls,
          reportFile: `${base}.html`,
        },
        null,
        2,
      ),
    );
  } else {
    console.log(summary(result, wallMs));
    console.log(dim(`  timeline report: ${base}.html (and .json)`));
  }
  if (result.outcome !== 'completed' || !result.quorumHeld || result.lostCommitted > 0 || (result.invariants?.violations.length ?? 0) > 0) process.exitCode = 1;
}

await main();
