/**
 * pnpm chaos --runs N --seed S: explores N seeded scenarios (swarm mode) with a progress bar,
 * prints a summary with the replay command of every failure, and writes the report.
 * pnpm chaos --replay S: replays one seed and writes its report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { buildReportData, explore, formatFailure, randomScenario, renderHtmlReport, replayCommand, runScenario, type ExploreFailure } from '../src/index.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '100' },
    seed: { type: 'string' },
    replay: { type: 'string' },
    profile: { type: 'string', default: 'fast' },
    sizes: { type: 'string', default: '3,5' },
    'max-faults': { type: 'string', default: '4' },
    report: { type: 'string', default: 'reports/chaos' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`usage: pnpm chaos [--runs N] [--seed S] [--profile fast|realistic] [--sizes 3,5] [--max-faults 4] [--report DIR]
       pnpm chaos --replay S [--profile ...]`);
  process.exit(0);
}

const profile = values.profile === 'realistic' ? 'realistic' : 'fast';
const sizes = values.sizes.split(',').map(Number).filter((n) => n >= 3 && n % 2 === 1);
const maxFaults = Number(values['max-faults']);
const reportDir = resolve(values.report);
const gen = { profile, sizes, maxFaults } as const;

async function writeReport(seed: number, name: string): Promise<string> {
  const result = await runScenario(randomScenario(seed, gen), { keepEvidence: true });
  const data = buildReportData(result);
  mkdirSync(reportDir, { recursive: true });
  writeFileSync(join(reportDir, `${name}.json`), JSON.stringify(data, null, 2));
  const html = join(reportDir, `${name}.html`);
  writeFileSync(html, renderHtmlReport(data));
  return html;
}

if (values.replay !== undefined) {
  const seed = Number(values.replay);
  const scenario = randomScenario(seed, gen);
  const result = await runScenario(scenario);
  console.log(result.ok ? `seed ${seed}: every invariant held (liveness: ${result.liveness?.outcome})` : formatFailure(scenario, result.violations, replayCommand(seed, profile)));
  console.log(`report: ${await writeReport(seed, `replay-${seed}`)}`);
  process.exit(result.ok ? 0 : 1);
}

const runs = Number(values.runs);
// The CLI may read the wall clock: only to pick a seed when none is given, and for throughput.
const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2_000_000_000;
console.log(`berth chaos: ${runs} scenarios from seed ${seed} (${profile} profile, sizes ${sizes.join('/')}, up to ${maxFaults} faults, swarm mode)`);
const bar = new cliProgress.SingleBar({ format: 'chaos [{bar}] {value}/{total} | {failures} failures | {rate} scenarios/s | eta {eta}s', hideCursor: true }, cliProgress.Presets.shades_classic);
const started = performance.now();
let failures = 0;
bar.start(runs, 0, { failures: 0, rate: '0.0' });
const summary = await explore({
  runs,
  seed,
  ...gen,
  onResult: (r, i) => {
    if (!r.ok) failures++;
    bar.update(i + 1, { failures, rate: ((i + 1) / ((performance.now() - started) / 1000)).toFixed(1) });
  },
});
bar.stop();
const seconds = (performance.now() - started) / 1000;
const rate = summary.runs / seconds;
console.log(`\nruns: ${summary.runs}   failures: ${summary.failures.length}   faults injected: ${summary.faultsInjected}   virtual time: ${(summary.virtualMs / 3_600_000).toFixed(1)} h`);
console.log(`liveness: ${Object.entries(summary.livenessOutcomes).map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log(`throughput: ${rate.toFixed(1)} scenarios/s (${seconds.toFixed(1)} s wall)`);
for (const f of summary.failures.slice(0, 20)) console.log(`\n${formatFailure(f.scenario, f.violations, f.replay)}`);
const shown: ExploreFailure | undefined = summary.failures[0];
const html = await writeReport(shown ? shown.scenario.seed : seed + Math.max(0, runs - 1), shown ? `failure-${shown.scenario.seed}` : `last-${seed + runs - 1}`);
mkdirSync(reportDir, { recursive: true });
writeFileSync(join(reportDir, 'summary.json'), JSON.stringify({ seed, runs: summary.runs, profile, sizes, failures: summary.failures, scenariosPerSecond: rate, livenessOutcomes: summary.livenessOutcomes }, null, 2));
console.log(`\nreport: ${html}\nsummary: ${join(reportDir, 'summary.json')}`);
process.exit(summary.failures.length > 0 ? 1 : 0);
