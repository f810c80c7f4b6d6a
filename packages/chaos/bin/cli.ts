/**
 * berth-chaos: the chaos toolkit's command line (the `berth-chaos` bin of @berth/chaos; `pnpm chaos` in this repo).
 *
 *   berth-chaos run <strategy-module> --runs N --seed S [--shard i/n | --shard-index-env VAR --shards n] [--shrink N] [--report DIR]
 *   berth-chaos explore [--runs N] [--seed S] [...]     built-in scenarios (the default command)
 *   berth-chaos merge A.json B.json ... [--out FILE]      the shards' summary.json files into the range's
 *   berth-chaos replay TOKEN [--scenario FILE]            a failure's token: SEED@MODULE (strategy) or SEED/PROFILE/SIZES/MAX_FAULTS
 *
 * `main(argv)` is the whole program and returns the exit code (0: no failure, 1: failures,
 * 2: bad usage), so tests run the command lines of the CI recipes in-process.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import cliProgress from 'cli-progress';
import {
  buildReportData,
  chaosSummaryFile,
  explore,
  explorePool,
  formatFailure,
  loadStrategy,
  mergeChaosSummaries,
  parseReplayToken,
  parseShard,
  parseStrategyToken,
  randomScenario,
  recipeOptions,
  renderHtmlReport,
  replayCommand,
  replayRecipe,
  runScenario,
  shardRange,
  strategyReplayCommand,
  strategyScenario,
  type ChaosStrategy,
  type ChaosSummaryFile,
  type ExploreSummary,
  type Scenario,
  type ScenarioResult,
  type Shard,
  type StrategyImporter,
} from '../src/index.js';

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Environment for `--shard-index-env` and `{shard}` (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Imports a strategy module by absolute path (the bin: tsx's `tsImport`; default: `import()`). */
  readonly importer?: StrategyImporter;
  /** Show a progress bar (default: when stdout is a terminal). */
  readonly progress?: boolean;
  /** The directory relative paths are read from (default `process.cwd()`). */
  readonly cwd?: string;
}

class UsageError extends Error {}

const int = (name: string, min = 0) => (text: string): number => {
  if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`${name} '${text}' must be a whole number${min > 0 ? ` ≥ ${min}` : ''}`);
  return Number(text);
};

/** `--workers`: a whole number ≥ 1, or `auto` (the machine's available parallelism). */
const workersArg = (text: string): number => (text === 'auto' ? availableParallelism() : int('--workers', 1)(text));

interface ShardFlags {
  readonly workers?: number;
  readonly shard?: string;
  readonly shardIndexEnv?: string;
  readonly shards?: number;
}

/**
 * The shard this process explores: `--shard i/n` (1-based, a GitHub Actions matrix value), or
 * `--shard-index-env VAR --shards n` (VAR holds a 0-based index, as a Kubernetes Indexed Job's
 * JOB_COMPLETION_INDEX does), or none.
 */
export function shardOf(flags: ShardFlags, env: Readonly<Record<string, string | undefined>>): Shard | null {
  if (flags.shard !== undefined && flags.shardIndexEnv !== undefined) throw new UsageError('give --shard i/n or --shard-index-env VAR --shards n, not both');
  if (flags.shard !== undefined) {
    try {
      return parseShard(flags.shard);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  if (flags.shardIndexEnv !== undefined) {
    if (flags.shards === undefined) throw new UsageError(`--shard-index-env ${flags.shardIndexEnv} needs --shards n (how many shards in all)`);
    const raw = env[flags.shardIndexEnv];
    if (raw === undefined || !/^\d+$/.test(raw)) throw new UsageError(`--shard-index-env ${flags.shardIndexEnv}: the environment variable is ${raw === undefined ? 'not set' : `'${raw}', not a 0-based index`}`);
    const index = Number(raw) + 1;
    if (index > flags.shards || flags.shards < 1) throw new UsageError(`--shard-index-env ${flags.shardIndexEnv}=${raw}: a 0-based index below --shards ${flags.shards}`);
    return { index, count: flags.shards };
  }
  if (flags.shards !== undefined) throw new UsageError('--shards needs --shard-index-env VAR (or give --shard i/n)');
  return null;
}

/** Runs berth-chaos with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) }): Promise<number> {
  const env = io.env ?? process.env;
  const cwd = io.cwd ?? process.cwd();
  const at = (path: string) => resolve(cwd, path);
  let code = 0;
  const program = new Command('berth-chaos')
    .description('Chaos exploration of Berth rolls in the simulator: your strategy or built-in scenarios, sharded, merged, replayed.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .showHelpAfterError();

  const shardOptions = (c: Command) =>
    c
      .option('--shard <i/n>', 'explore shard i of n (1-based) of the seed range, e.g. 3/8')
      .option('--shard-index-env <VAR>', 'read the 0-based shard index from this environment variable (Kubernetes Indexed Job: JOB_COMPLETION_INDEX); needs --shards')
      .option('--shards <n>', 'how many shards in all, with --shard-index-env', int('--shards', 1))
      .option('--workers <n|auto>', "worker threads to run scenarios on (auto: every core; 1: in this process). The summary is the same for any number", workersArg, 1);

  shardOptions(
    program
      .command('run')
      .description("explore a strategy module's roll (its default export, or `strategy`) against random failure schedules")
      .argument('<strategy-module>', 'a module exporting defineStrategy({...}); .ts works (tsx)')
      .option('--runs <n>', 'seeds in the whole range', int('--runs', 1), 100)
      .requiredOption('--seed <s>', 'the first seed of the range (every shard must give the same)', int('--seed'))
      .option('--shrink <n>', 'candidate runs to shrink each failure (0: none)', int('--shrink'), 32)
      .option('--report <dir>', 'where summary.json and failure reports go ({shard} is replaced by the shard index)', 'reports/chaos'),
  ).action(async (module: string, o: { runs: number; seed: number; shrink: number; report: string } & ShardFlags) => {
    const strategy = await loadStrategy(at(module), io.importer);
    code = await exploreRange(io, env, { ...o, report: at(o.report), strategy, module, moduleFile: at(module) });
  });

  shardOptions(
    program
      .command('explore', { isDefault: true })
      .description('explore built-in scenarios (a generated cluster, swarm fault mixes): what `pnpm chaos` runs')
      .option('--runs <n>', 'seeds in the whole range', int('--runs', 1), 100)
      .option('--seed <s>', 'the first seed (default: from the wall clock; sharded runs must give one)', int('--seed'))
      .addOption(new Option('--profile <profile>', 'simulator timings').choices(['fast', 'realistic']).default('fast'))
      .option('--sizes <list>', 'cluster sizes to draw from (odd, ≥ 3)', '3,5')
      .option('--max-faults <n>', 'at most this many faults per scenario', int('--max-faults'), 4)
      .option('--shrink <n>', 'candidate runs to shrink each failure (0: none)', int('--shrink'), 32)
      .option('--report <dir>', 'where summary.json and the HTML report go ({shard} is replaced by the shard index)', 'reports/chaos')
      .option('--replay <token>', "replay one scenario: a failure's token (SEED/PROFILE/SIZES/MAX_FAULTS[/KINDS]) or a bare seed with the flags above")
      .option('--replay-scenario <file>', "replay a scenario file (a failure's shrunk schedule)"),
  ).action(async (o: { runs: number; seed?: number; profile: 'fast' | 'realistic'; sizes: string; maxFaults: number; shrink: number; report: string; replay?: string; replayScenario?: string } & ShardFlags) => {
    const sizes = o.sizes.split(',').map(Number).filter((n) => n >= 3 && n % 2 === 1);
    const gen = { profile: o.profile, sizes, maxFaults: o.maxFaults } as const;
    if (o.replayScenario !== undefined) {
      code = await replayFile(io, at(o.replayScenario), null, `pnpm chaos --replay-scenario ${o.replayScenario}`);
      return;
    }
    if (o.replay !== undefined) {
      code = await replayBuiltIn(io, /^\d+$/.test(o.replay) ? replayRecipe(Number(o.replay), gen) : parseReplayToken(o.replay), at(o.report));
      return;
    }
    // The CLI may read the wall clock: only to pick a seed when none is given, and for throughput.
    const seed = o.seed ?? Date.now() % 2_000_000_000;
    if (o.seed === undefined && (o.shard !== undefined || o.shardIndexEnv !== undefined)) throw new UsageError('a sharded run needs --seed: every shard must split the same seed range');
    code = await exploreRange(io, env, { ...o, report: at(o.report), seed, gen });
  });

  program
    .command('merge')
    .description("merge every shard's summary.json into the whole range's (refuses a missing, doubled or foreign shard)")
    .argument('<summaries...>', 'summary.json files')
    .option('--out <file>', 'where the merged summary goes', 'reports/chaos/merged-summary.json')
    .action((files: string[], o: { out: string }) => {
      let merged: ChaosSummaryFile;
      try {
        merged = mergeChaosSummaries(files.map((f) => ({ name: f, summary: JSON.parse(readFileSync(at(f), 'utf8')) as ChaosSummaryFile })));
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const out = at(o.out);
      writeFileSync(out, JSON.stringify(merged, null, 2));
      io.out(`merged ${files.length} shard${files.length === 1 ? '' : 's'}: seeds ${merged.seed}…${merged.seed + merged.runs - 1}, ${merged.ran} scenarios, ${merged.failures.length} failures${merged.strategy ? ` (strategy ${merged.strategy.name}, ${merged.strategy.module})` : ''}\nsummary: ${out}`);
      for (const f of merged.failures.slice(0, 20)) io.out(`\n${formatFailure(f.scenario, f.violations, f.replay)}`);
      code = merged.failures.length > 0 ? 1 : 0;
    });

  program
    .command('replay')
    .description("replay one failure from its token: SEED@MODULE (a strategy run) or SEED/PROFILE/SIZES/MAX_FAULTS[/KINDS] (built-in)")
    .argument('<token>', 'the replay token a failure printed')
    .option('--scenario <file>', "play this scenario file (a failure's shrunk schedule) under the token's strategy")
    .option('--report <dir>', 'where the HTML report goes', 'reports/chaos')
    .action(async (token: string, o: { scenario?: string; report: string }) => {
      let st: ReturnType<typeof parseStrategyToken>;
      try {
        st = parseStrategyToken(token);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      if (!st) {
        if (o.scenario !== undefined) code = await replayFile(io, at(o.scenario), null, `berth-chaos replay ${token} --scenario ${o.scenario}`);
        else {
          let recipe: ReturnType<typeof parseReplayToken>;
          try {
            recipe = parseReplayToken(token);
          } catch (err) {
            throw new UsageError((err as Error).message);
          }
          code = await replayBuiltIn(io, recipe, at(o.report));
        }
        return;
      }
      const strategy = await loadStrategy(at(st.module), io.importer);
      if (o.scenario !== undefined) {
        code = await replayFile(io, at(o.scenario), strategy, `berth-chaos replay ${token} --scenario ${o.scenario}`);
        return;
      }
      const scenario = strategyScenario(strategy, st.seed);
      const result = await runScenario(scenario, { strategy, keepEvidence: true });
      io.out(result.ok ? `${token}: every invariant held (liveness: ${result.liveness?.outcome})` : formatFailure(scenario, result.violations, strategyReplayCommand(st.seed, strategy.name, st.module)));
      io.out(`report: ${writeReport(at(o.report), `replay-${st.seed}`, result)}`);
      code = result.ok ? 0 : 1;
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof UsageError) {
      io.err(`berth-chaos: ${err.message}`);
      return 2;
    }
    throw err;
  }
  return code;
}

interface RangeOptions extends ShardFlags {
  readonly runs: number;
  readonly seed: number;
  readonly shrink: number;
  readonly report: string;
  /** Built-in scenarios' generator options. */
  readonly gen?: { readonly profile: 'fast' | 'realistic'; readonly sizes: readonly number[]; readonly maxFaults: number };
  /** A strategy run: the strategy and the module path it came from. */
  readonly strategy?: ChaosStrategy;
  readonly module?: string;
  /** The module's path resolved from `io.cwd`. */
  readonly moduleFile?: string;
}

/** Explores this process's shard of a seed range, prints the failures and writes the report directory. */
async function exploreRange(io: CliIo, env: Readonly<Record<string, string | undefined>>, o: RangeOptions): Promise<number> {
  const shard = shardOf(o, env);
  const { seed, runs } = shard ? shardRange(o.seed, o.runs, shard) : { seed: o.seed, runs: o.runs };
  const reportDir = o.report.replaceAll('{shard}', String(shard?.index ?? 0));
  const what = o.strategy ? `strategy ${o.strategy.name} (${o.module})` : `built-in scenarios (${o.gen!.profile} profile, sizes ${o.gen!.sizes.join('/')}, up to ${o.gen!.maxFaults} faults, swarm mode)`;
  io.out(`berth-chaos: ${runs} scenarios from seed ${seed}${shard ? ` (shard ${shard.index}/${shard.count} of seeds ${o.seed}…${o.seed + o.runs - 1})` : ''}: ${what}${(o.workers ?? 1) > 1 ? ` on ${o.workers} workers` : ''}`);
  const showBar = io.progress ?? process.stdout.isTTY === true;
  const bar = showBar ? new cliProgress.SingleBar({ format: 'chaos [{bar}] {value}/{total} | {failures} failures | {rate} scenarios/s | eta {eta}s', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  const started = performance.now();
  let failures = 0;
  bar?.start(runs, 0, { failures: 0, rate: '0.0' });
  const tick = (done: number, ok: boolean) => {
    if (!ok) failures++;
    bar?.update(done, { failures, rate: (done / ((performance.now() - started) / 1000)).toFixed(1) });
  };
  const workers = o.workers ?? 1;
  const summary: ExploreSummary =
    workers > 1
      ? await explorePool({
          runs,
          seed,
          workers,
          ...(o.gen ?? {}),
          // Each worker imports the module itself (a strategy cannot cross a thread), resolved from
          // the process's directory; replays name it as given (absolute when `io.cwd` moved it).
          ...(o.strategy && o.moduleFile && { strategyModule: o.moduleFile === resolve(o.module ?? '') ? o.module : o.moduleFile }),
          shrinkTries: o.shrink,
          onProgress: (p) => tick(p.done, p.ok),
        })
      : await explore({
          runs,
          seed,
          ...(o.gen ?? {}),
          ...(o.strategy && { strategy: o.strategy, ...(o.module && { strategyModule: o.module }) }),
          shrinkTries: o.shrink,
          onResult: (r, i) => tick(i + 1, r.ok),
        });
  bar?.stop();
  const seconds = (performance.now() - started) / 1000;
  const rate = summary.runs / Math.max(seconds, 1e-9);
  io.out(`runs: ${summary.runs}   failures: ${summary.failures.length}   faults injected: ${summary.faultsInjected}   virtual time: ${(summary.virtualMs / 3_600_000).toFixed(1)} h`);
  io.out(`liveness: ${Object.entries(summary.livenessOutcomes).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  io.out(`throughput: ${rate.toFixed(1)} scenarios/s (${seconds.toFixed(1)} s wall)`);
  mkdirSync(reportDir, { recursive: true });
  for (const f of summary.failures.slice(0, 20)) {
    io.out(`\n${formatFailure(f.scenario, f.violations, f.replay)}`);
    if (f.shrunk && f.shrunk.scenario.faults.length < f.scenario.faults.length) {
      const file = join(reportDir, `failure-${f.scenario.seed}.shrunk.json`);
      writeFileSync(file, JSON.stringify(f.shrunk.scenario, null, 2));
      const again = o.strategy ? `berth-chaos replay ${f.scenario.seed}@${o.module ?? '?'} --scenario ${file}` : `pnpm chaos --replay-scenario ${file}`;
      io.out(`shrunk (${f.shrunk.tries} tries) to ${f.shrunk.scenario.faults.length} of ${f.scenario.faults.length} faults:\n${formatFailure(f.shrunk.scenario, f.shrunk.violations, again)}`);
    }
  }
  // The HTML timeline: of the first failure; for built-in runs, of the last scenario when none failed.
  const first = summary.failures[0];
  if (first || !o.strategy) {
    const sc: Scenario = first ? first.scenario : randomScenario(seed + Math.max(0, runs - 1), o.gen);
    const result = await runScenario(sc, { keepEvidence: true, ...(o.strategy && { strategy: o.strategy }) });
    io.out(`\nreport: ${writeReport(reportDir, first ? `failure-${sc.seed}` : `last-${sc.seed}`, result)}`);
  }
  const generator = o.strategy ? strategyGenerator(o.strategy, seed) : { ...replayRecipe(o.seed, o.gen) };
  const file = chaosSummaryFile({ seed: o.seed, runs: o.runs, shard }, generator, summary, o.strategy && { name: o.strategy.name, module: o.module ?? '' });
  writeFileSync(join(reportDir, 'summary.json'), JSON.stringify({ ...file, scenariosPerSecond: rate }, null, 2));
  io.out(`summary: ${join(reportDir, 'summary.json')}`);
  return summary.failures.length > 0 ? 1 : 0;
}

/** A strategy's generator options, as a summary file records them. */
function strategyGenerator(strategy: ChaosStrategy, seed: number) {
  const nodes = strategyScenario(strategy, seed).nodes;
  return { profile: strategy.profile ?? 'fast', sizes: [nodes], maxFaults: strategy.faults?.maxFaults ?? 4, kinds: strategy.faults?.kinds ? [...strategy.faults.kinds] : null } as const;
}

function writeReport(dir: string, name: string, result: ScenarioResult): string {
  const data = buildReportData(result);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(data, null, 2));
  const html = join(dir, `${name}.html`);
  writeFileSync(html, renderHtmlReport(data));
  return html;
}

async function replayBuiltIn(io: CliIo, recipe: ReturnType<typeof parseReplayToken>, reportDir: string): Promise<number> {
  const scenario = randomScenario(recipe.seed, recipeOptions(recipe));
  const result = await runScenario(scenario, { keepEvidence: true });
  io.out(result.ok ? `seed ${recipe.seed}: every invariant held (liveness: ${result.liveness?.outcome})` : formatFailure(scenario, result.violations, replayCommand(recipe.seed, recipeOptions(recipe))));
  io.out(`report: ${writeReport(reportDir, `replay-${recipe.seed}`, result)}`);
  return result.ok ? 0 : 1;
}

async function replayFile(io: CliIo, file: string, strategy: ChaosStrategy | null, again: string): Promise<number> {
  const scenario = JSON.parse(readFileSync(file, 'utf8')) as Scenario;
  const result = await runScenario(scenario, strategy ? { strategy } : {});
  io.out(result.ok ? `${file}: every invariant held (liveness: ${result.liveness?.outcome})` : formatFailure(scenario, result.violations, again));
  return result.ok ? 0 : 1;
}
