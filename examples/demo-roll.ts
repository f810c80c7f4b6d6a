/**
 * The demo: provision a simulated cluster, then roll it to a new image with maxUnavailable 1,
 * leader last, while one instance is killed mid-roll. Live progress, then a summary.
 *
 *   bash scripts/demo.sh [--seed 42] [--nodes 5] [--profile realistic|fast] [--no-kill] [--speed 120]
 */
import { styleText } from 'node:util';
import { Command, InvalidArgumentError } from 'commander';
import logUpdate from 'log-update';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BerthConfigError, type Controller, type Phase } from '@berth/core';
import { renderHtmlReport } from '@berth/chaos';
import type { Simulation } from '@berth/sim-driver';
import { NEW_IMAGE, runRollScenario, type RollScenarioResult } from './demo/roll-scenario.js';

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
const clock = (ms: number) => {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};
const phaseColor: Record<Phase, Parameters<typeof styleText>[0]> = {
  launching: 'gray',
  attaching: 'yellow',
  mounting: 'yellow',
  configuring: 'yellow',
  joining: 'cyan',
  healthy: 'cyan',
  'in-service': 'green',
  failed: 'red',
};

let sim: Simulation | null = null;
let startMs = 0;
let stage = 'provisioning';
let batch = '';
let newImage = '';
const recent: string[] = [];
const log = (line: string) => {
  const at = sim ? `+${clock(sim.clock.now() - startMs)}` : '';
  if (live) {
    recent.push(`${dim(at)} ${line}`);
    if (recent.length > 8) recent.shift();
  } else if (!opts.json) {
    console.log(`${at} ${line}`);
  }
};

function frame(): string {
  if (!sim) return '';
  const s = sim;
  const app = s.app.status();
  const healthy = app.members.filter((m) => m.healthy).length;
  const margin = healthy - app.quorumSize;
  const marginText = margin > 0 ? color('green', `+${margin}`) : margin === 0 ? color('yellow', '0 (no failure tolerated)') : color('red', `${margin} (quorum lost!)`);
  const lines = [
    `${bold('Berth demo')} — ${opts.nodes} nodes, seed ${opts.seed}, ${opts.profile} profile, ${speed ? `${speed}× speed` : 'full speed'}`,
    `virtual ${clock(s.clock.now() - startMs)}   ${stage}${batch ? `   ${batch}` : ''}`,
    `quorum ${healthy}/${opts.nodes} healthy (needs ${app.quorumSize})   margin ${marginText}   leader ${app.leaderId ?? color('yellow', '(election)')}   committed ${app.commitIndex}`,
    '',
    dim(`  ${'node'.padEnd(12)}${'instance'.padEnd(21)}${'phase'.padEnd(13)}${'image'.padEnd(24)}member`),
  ];
  for (const m of app.members) {
    const inst = s.world.currentInstance(m.nodeId);
    // A failure is tagged `failed:<phase>:<reason>`: the column shows `failed`.
    const tag = inst?.tags['berth:phase'];
    const phase = (tag?.startsWith('failed:') ? 'failed' : (tag as Phase | undefined)) ?? (inst ? 'launching' : undefined);
    // Pad the plain text, then colour it: escape codes have no width.
    const image = inst ? `${inst.imageId}${inst.imageId === newImage ? ' ✓' : ''}`.padEnd(24) : '-'.padEnd(24);
    const member = m.nodeId === app.leaderId ? color('magenta', 'leader') : m.healthy ? 'healthy' : m.up ? color('yellow', 'catching up') : color('red', 'down');
    lines.push(
      `  ${m.nodeId.padEnd(12)}${(inst?.id ?? '-').padEnd(21)}${phase ? color(phaseColor[phase], phase.padEnd(13)) : '-'.padEnd(13)}${inst?.imageId === newImage ? color('green', image) : image}${member}`,
    );
  }
  lines.push('', ...recent);
  return lines.join('\n');
}

function attach(c: Controller, which: 'provision' | 'roll'): void {
  if (which === 'provision') {
    c.on('apply.node', (e) => log(`provisioned ${e.nodeId} (${e.changes.filter((x) => x.action === 'created').map((x) => x.resource).join(', ')})`));
    return;
  }
  c.on('roll.started', (e) => {
    stage = 'rolling';
    log(`roll started: ${e.outdated.length} outdated (${e.outdated.join(', ')}), maxUnavailable ${e.maxUnavailable}, tolerance ${e.tolerance}`);
  });
  c.on('batch.started', (e) => {
    batch = `batch ${e.index + 1}`;
    log(`batch ${e.index + 1}: ${e.nodeIds.join(', ')}`);
  });
  c.on('node.replacing', (e) => log(`replacing ${e.nodeId} (terminating ${e.instanceId})`));
  c.on('node.replaced', (e) => log(color('green', `${e.nodeId} replaced: ${e.oldInstanceId} → ${e.newInstanceId} in ${(e.durationMs / 1000).toFixed(0)} s`)));
  c.on('roll.waiting', (e) => log(color('yellow', `waiting: ${e.reason}`)));
  c.on('node.lost', (e) => log(color('red', `${e.nodeId} lost its instance ${e.instanceId}`)));
  c.on('roll.halted', (e) => log(color('red', `HALTED: ${e.reason}`)));
  c.on('roll.completed', () => {
    stage = 'done';
    batch = '';
    log(color('green', 'roll completed'));
  });
}

let realStart = 0;
let pausedMs = 0;
let debtMs = 0;
let lastDraw = 0;
const redraw = (force = false) => {
  if (!live) return;
  const now = performance.now();
  if (!force && now - lastDraw < 50) return;
  lastDraw = now;
  logUpdate(frame());
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
    `  outcome                  ${r.outcome === 'completed' ? color('green', 'completed') : color('red', `${r.outcome}: ${r.haltReason}`)}; ${r.replacements} of ${r.nodes} nodes replaced`,
    `  simulated roll           ${clock(r.rollMs)} (${(r.rollMs / 1000).toFixed(0)} s)`,
    `  lower bound              ${clock(r.lowerBoundMs)} (Σ slowest replacement per batch) → ${r.makespanRatio.toFixed(3)}× the bound${r.killed ? ' (the bound leaves out the wait for the killed node to come back)' : ''}`,
    `  wall time                ${(wallMs / 1000).toFixed(2)} s${pausedMs > 0 ? ` (${((wallMs - pausedMs) / 1000).toFixed(2)} s computing, the rest paced for viewing)` : ''}; ${r.eventsFired} simulated events`,
    `  instance killed mid-roll ${r.killed ? `${r.killed.nodeId} (${r.killed.instanceId}) at +${clock(r.killed.atMs - startMs)}` : 'no (--no-kill)'}`,
    `  quorum held              ${yes(r.quorumHeld, 'yes', 'NO')} (never fewer than ${r.minHealthy} of ${r.nodes} healthy; quorum ${r.quorum})`,
    `  app without a leader     ${(r.unavailableMs / 1000).toFixed(1)} s in all (elections after the leader stepped down or was lost)`,
    `  data lost                ${yes(r.lostCommitted === 0 && r.dataLossEvents === 0, 'none', `${r.lostCommitted} committed entries, ${r.dataLossEvents} data-loss events`)}`,
    `  IAM                      ${!r.iam.evaluated ? 'not evaluated' : yes(r.iam.denied === 0, `${r.iam.checks.toLocaleString('en-US')} checks of the controller's and the bootstraps' calls against the generated policies, none denied`, `${r.iam.denied} of ${r.iam.checks} denied`)}`,
    `  safety invariants        ${!r.invariants ? 'not checked' : r.invariants.violations.length === 0 ? color('green', `${r.invariants.checked.length} checked, all held`) : color('red', r.invariants.violations.join('; '))}`,
    `  API calls                ${r.controlPlaneCalls} control-plane (${(r.controlPlaneCalls / Math.max(1, r.replacements)).toFixed(1)} per replacement) + ${r.queueCalls} SQS long polls`,
    calls,
    '',
    dim(`  replay: bash scripts/demo.sh --seed ${r.seed} --nodes ${r.nodes} --profile ${r.profile}${r.killed ? '' : ' --no-kill'}`),
  ].join('\n');
}

async function main(): Promise<void> {
  realStart = performance.now();
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
        startMs = s.clock.now();
        newImage = NEW_IMAGE;
        if (!opts.json) console.log(dim(`seed ${opts.seed} — replay with: bash scripts/demo.sh --seed ${opts.seed} --nodes ${opts.nodes} --profile ${opts.profile}${opts.kill ? '' : ' --no-kill'}`));
        s.onTrace((e) => {
          if (e.kind === 'fault.kill-instance') log(color('red', `FAULT: killed ${String(e.nodeId ?? e.target)}'s instance ${String(e.instanceId)}`));
          if (e.kind === 'app.leader-elected') log(`app: ${String(e.nodeId)} elected leader (term ${String(e.term)})`);
          redraw();
        });
      },
      onController: attach,
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
  if (live) {
    redraw(true);
    logUpdate.done();
  }
  const dir = resolve(opts.report);
  mkdirSync(dir, { recursive: true });
  const base = resolve(dir, `demo-seed-${opts.seed}`);
  if (result.reportData) {
    writeFileSync(`${base}.html`, renderHtmlReport(result.reportData));
    writeFileSync(`${base}.json`, JSON.stringify(result.reportData, null, 2));
  }
  if (opts.json) {
    const { report, reportData: _reportData, ...rest } = result;
    console.log(JSON.stringify({ ...rest, wallMs, apiCalls: report.apiCalls, reportFile: `${base}.html` }, null, 2));
  } else {
    console.log(summary(result, wallMs));
    console.log(dim(`  timeline report: ${base}.html (and .json)`));
  }
  if (result.outcome !== 'completed' || !result.quorumHeld || result.lostCommitted > 0 || (result.invariants?.violations.length ?? 0) > 0) process.exitCode = 1;
}

await main();
