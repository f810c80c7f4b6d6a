/**
 * pnpm chaos --runs N --seed S: explores N seeded scenarios (swarm mode) with a progress bar,
 * prints a summary with the replay command of every failure, and writes the report.
 * pnpm chaos --replay TOKEN: replays one scenario (the token of a failure, or a bare seed with the
 * generator flags) and writes its report.
 * pnpm chaos --shard i/n ...: explores shard i of n of the seed range (summary.json says which).
 * pnpm chaos merge A.json B.json ... [--out FILE]: merges the shards' summaries into the range's.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import {
  buildReportData,
  chaosSummaryFile,
  explore,
  formatFailure,
  mergeChaosSummaries,
  parseReplayToken,
  parseShard,
  randomScenario,
  recipeOptions,
  renderHtmlReport,
  replayCommand,
  replayRecipe,
  runScenario,
  shardRange,
  type ChaosSummaryFile,
  type ExploreFailure,
} from '../src/index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '100' },
    seed: { type: 'string' },
    replay: { type: 'string' },
    profile: { type: 'string', default: 'fast' },
    sizes: { type: 'string', default: '3,5' },
    'max-faults': { type: 'string', default: '4' },
    report: { type: 'string', default: 'reports/chaos' },
    shard: { type: 'string' },
    shrink: { type: 'string', default: '32' },
    'replay-scenario': { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`usage: pnpm chaos [--runs N] [--seed S] [--profile fast|realistic] [--sizes 3,5] [--max-faults 4] [--shard i/n] [--report DIR]
       pnpm chaos --replay TOKEN          (a failure's token, e.g. 300123/fast/3.5/4; or a bare seed with the flags above)
       pnpm chaos --replay-scenario FILE  (a scenario file, e.g. a failure's shrunk schedule: reports/chaos/failure-SEED.shrunk.json)
       pnpm chaos merge A.json B.json ... [--out FILE]   (the shards' summary.json files into one)
       --shrink N: candidate runs to shrink each failure's fault schedule (default 32; 0: none)`);
  process.exit(0);
}

if (positionals[0] === 'merge') {
  const files = positionals.slice(1);
  try {
    const merged = mergeChaosSummaries(files.map((f) => ({ name: f, summary: JSON.parse(readFileSync(f, 'utf8')) as ChaosSummaryFile })));
    const out = resolve(values.out ?? 'reports/chaos/merged-summary.json');
    writeFileSync(out, JSON.stringify(merged, null, 2));
    console.log(`merged ${files.length} shard${files.length === 1 ? '' : 's'}: seeds ${merged.seed}…${merged.seed + merged.runs - 1}, ${merged.ran} scenarios, ${merged.failures.length} failures\nsummary: ${out}`);
    for (const f of merged.failures.slice(0, 20)) console.log(`\n${formatFailure(f.scenario, f.violations, f.replay)}`);
    process.exit(merged.failures.length > 0 ? 1 : 0);
  } catch (err) {
    console.error(`berth chaos: ${(err as Error).message}`);
    process.exit(2);
  }
} else if (positionals.length > 0) {
  console.error(`berth chaos: unknown command '${positionals[0]}' (commands: merge; see --help)`);
  process.exit(2);
}

const profile = values.profile === 'realistic' ? 'realistic' : 'fast';
const sizes = values.sizes.split(',').map(Number).filter((n) => n >= 3 && n % 2 === 1);
const maxFaults = Number(values['max-faults']);
const reportDir = resolve(values.report);
const gen = { profile, sizes, maxFaults } as const;

async function writeReport(seed: number, name: string, options: Parameters<typeof randomScenario>[1] = gen): Promise<string> {
  const result = await runScenario(randomScenario(seed, options), { keepEvidence: true });
  const data = buildReportData(result);
  mkdirSync(reportDir, { recursive: true });
  writeFileSync(join(reportDir, `${name}.json`), JSON.stringify(data, null, 2));
  const html = join(reportDir, `${name}.html`);
  writeFileSync(html, renderHtmlReport(data));
  return html;
}

if (values['replay-scenario'] !== undefined) {
  const file = values['replay-scenario'];
  const scenario = JSON.parse(readFileSync(file, 'utf8')) as Parameters<typeof runScenario>[0];
  const result = await runScenario(scenario);
  console.log(result.ok ? `${file}: every invariant held (liveness: ${result.liveness?.outcome})` : formatFailure(scenario, result.violations, `pnpm chaos --replay-scenario ${file}`));
  process.exit(result.ok ? 0 : 1);
}

if (values.replay !== undefined) {
  // A token carries every generator option; a bare seed takes them from the flags.
  const recipe = /^\d+$/.test(values.replay) ? replayRecipe(Number(values.replay), gen) : parseReplayToken(values.replay);
  const seed = recipe.seed;
  const scenario = randomScenario(seed, recipeOptions(recipe));
  const result = await runScenario(scenario);
  console.log(result.ok ? `seed ${seed}: every invariant held (liveness: ${result.liveness?.outcome})` : formatFailure(scenario, result.violations, replayCommand(seed, recipeOptions(recipe))));
  console.log(`report: ${await writeReport(seed, `replay-${seed}`, recipeOptions(recipe))}`);
  process.exit(result.ok ? 0 : 1);
}

const totalRuns = Number(values.runs);
// The CLI may read the wall clock: only to pick a seed when none is given, and for throughput.
const firstSeed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2_000_000_000;
if (values.shard !== undefined && values.seed === undefined) {
  console.error('berth chaos: --shard needs --seed: every shard must split the same seed range');
  process.exit(2);
}
const shard = values.shard !== undefined ? parseShard(values.shard) : null;
const { seed, runs } = shard ? shardRange(firstSeed, totalRuns, shard) : { seed: firstSeed, runs: totalRuns };
console.log(`berth chaos: ${runs} scenarios from seed ${seed}${shard ? ` (shard ${shard.index}/${shard.count} of seeds ${firstSeed}…${firstSeed + totalRuns - 1})` : ''} (${profile} profile, sizes ${sizes.join('/')}, up to ${maxFaults} faults, swarm mode)`);
const bar = new cliProgress.SingleBar({ format: 'chaos [{bar}] {value}/{total} | {failures} failures | {rate} scenarios/s | eta {eta}s', hideCursor: true }, cliProgress.Presets.shades_classic);
const started = performance.now();
let failures = 0;
bar.start(runs, 0, { failures: 0, rate: '0.0' });
const summary = await explore({
  runs,
  seed,
  ...gen,
  shrinkTries: Number(values.shrink),
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
mkdirSync(reportDir, { recursive: true });
for (const f of summary.failures.slice(0, 20)) {
  console.log(`\n${formatFailure(f.scenario, f.violations, f.replay)}`);
  if (f.shrunk && f.shrunk.scenario.faults.length < f.scenario.faults.length) {
    const file = join(reportDir, `failure-${f.scenario.seed}.shrunk.json`);
    writeFileSync(file, JSON.stringify(f.shrunk.scenario, null, 2));
    console.log(`shrunk (${f.shrunk.tries} tries) to ${f.shrunk.scenario.faults.length} of ${f.scenario.faults.length} faults:\n${formatFailure(f.shrunk.scenario, f.shrunk.violations, `pnpm chaos --replay-scenario ${file}`)}`);
  }
}
const shown: ExploreFailure | undefined = summary.failures[0];
const html = await writeReport(shown ? shown.scenario.seed : seed + Math.max(0, runs - 1), shown ? `failure-${shown.scenario.seed}` : `last-${seed + runs - 1}`);
mkdirSync(reportDir, { recursive: true });
const file = chaosSummaryFile({ seed: firstSeed, runs: totalRuns, shard }, { ...replayRecipe(firstSeed, gen) }, summary);
writeFileSync(join(reportDir, 'summary.json'), JSON.stringify({ ...file, scenariosPerSecond: rate }, null, 2));
console.log(`\nreport: ${html}\nsummary: ${join(reportDir, 'summary.json')}`);
process.exit(summary.failures.length > 0 ? 1 : 0);
