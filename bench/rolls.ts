/**
 * Simulated realistic 5-node rolls per wall-second, against a baseline measured in the same run.
 *
 *   bash scripts/pnpm.sh build
 *   bash scripts/pnpm.sh exec tsx --tsconfig bench/tsconfig.json bench/rolls.ts [--baseline b80e4d7] [--batches 10] [--batch 20] [--warmup 100] [--profile]
 *
 * The baseline is a built copy of the given commit in /tmp/berth-baseline-<rev> (a detached git
 * worktree, installed offline from the lockfile and built; prepared once, reused when its built
 * packages are there). Two child processes, one per copy, each load that copy's demo roll
 * scenario (examples/demo/roll-scenario.ts, which imports the copy's built packages) and warm up;
 * then the parent has them run batches of the same seeds alternately (baseline, current, baseline,
 * …) so the machine's load falls on both alike. It reports rolls per wall-second of the roll alone
 * (provisioning excluded, as bench/run.ts) and of the whole scenario for each, the range over
 * batches, and the ratio. It also compares each seed's fingerprint (outcome, simulated roll
 * duration, calls by operation, IAM checks, events fired): the same seeds must give the same rolls
 * unless the calls a roll makes were changed on purpose. Nothing here is a timed test.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { runRollScenario as RunRollScenario } from '../examples/demo/roll-scenario.js';

interface RollRecord {
  readonly seed: number;
  readonly rollWallMs: number;
  readonly scenarioWallMs: number;
  /** CPU time of the whole scenario (user + system), less sensitive than wall time to a busy machine. */
  readonly scenarioCpuMs: number;
  readonly fingerprint: string;
}

type ToChild = { readonly kind: 'warmup'; readonly runs: number } | { readonly kind: 'batch'; readonly seeds: readonly number[] } | { readonly kind: 'exit' };
type FromChild = { readonly kind: 'ready' } | { readonly kind: 'done'; readonly records: readonly RollRecord[] } | { readonly kind: 'error'; readonly message: string };

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** A child: loads one copy's roll scenario and runs what the parent asks, one message at a time. */
async function child(root: string): Promise<void> {
  const { runRollScenario } = (await import(resolve(root, 'examples/demo/roll-scenario.ts'))) as { runRollScenario: typeof RunRollScenario };
  const one = async (seed: number): Promise<RollRecord> => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const r = await runRollScenario({ seed, nodes: 5, profile: 'realistic', kill: false, instrument: false });
    const scenarioWallMs = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    const scenarioCpuMs = (cpu.user + cpu.system) / 1000;
    if (r.outcome !== 'completed') throw new Error(`seed ${seed}: roll ${r.outcome}: ${r.haltReason}`);
    const calls = Object.entries(r.report.apiCalls)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([op, n]) => `${op}=${n}`)
      .join(',');
    const fingerprint = `${r.outcome} roll=${r.rollMs}ms replaced=${r.replacements} events=${r.eventsFired} iam=${r.iam.checks}/${r.iam.denied} ${calls}`;
    return { seed, rollWallMs: r.rollWallMs, scenarioWallMs, scenarioCpuMs, fingerprint };
  };
  const send = (m: FromChild) => process.send?.(m);
  process.on('message', (m: ToChild) => {
    void (async () => {
      try {
        if (m.kind === 'exit') process.exit(0);
        if (m.kind === 'warmup') {
          for (let i = 0; i < m.runs; i++) await one(10_000 + i);
          send({ kind: 'done', records: [] });
          return;
        }
        const records: RollRecord[] = [];
        for (const seed of m.seeds) records.push(await one(seed));
        send({ kind: 'done', records });
      } catch (err) {
        send({ kind: 'error', message: String((err as Error).stack ?? err) });
      }
    })();
  });
  send({ kind: 'ready' });
}

/** A built copy of `rev` under /tmp, prepared once. */
function baselineCopy(rev: string): string {
  const dir = `/tmp/berth-baseline-${rev}`;
  if (existsSync(resolve(dir, 'packages/chaos/dist/index.js'))) return dir;
  const pnpm = resolve(repoRoot, 'scripts/pnpm.sh');
  if (!existsSync(dir)) execFileSync('git', ['-C', repoRoot, 'worktree', 'add', '--detach', dir, rev], { stdio: 'inherit' });
  execFileSync('bash', [pnpm, 'install', '--frozen-lockfile', '--offline'], { cwd: dir, stdio: 'inherit' });
  execFileSync('bash', [pnpm, 'build'], { cwd: dir, stdio: 'inherit' });
  return dir;
}

class Runner {
  private readonly proc: ChildProcess;
  private pending: { resolve: (r: readonly RollRecord[]) => void; reject: (e: Error) => void } | null = null;
  readonly ready: Promise<void>;

  constructor(
    readonly label: string,
    root: string,
    execArgv: string[],
  ) {
    this.proc = fork(fileURLToPath(import.meta.url), ['--child', root], { execArgv, stdio: 'inherit' });
    this.ready = new Promise((ok) => {
      this.proc.once('message', () => ok());
    });
    this.proc.on('message', (m: FromChild) => {
      if (m.kind === 'ready' || !this.pending) return;
      const p = this.pending;
      this.pending = null;
      if (m.kind === 'error') p.reject(new Error(`${label}: ${m.message}`));
      else p.resolve(m.records);
    });
  }

  ask(m: ToChild): Promise<readonly RollRecord[]> {
    return new Promise((ok, fail) => {
      this.pending = { resolve: ok, reject: fail };
      this.proc.send(m);
    });
  }

  exit(): void {
    this.proc.send({ kind: 'exit' } satisfies ToChild);
  }
}

async function parent(): Promise<void> {
  const rev = arg('--baseline') ?? 'b80e4d7';
  const batches = Number(arg('--batches') ?? 10);
  const batchSize = Number(arg('--batch') ?? 20);
  const warmup = Number(arg('--warmup') ?? 100);
  const baseDir = baselineCopy(rev);
  const head = execFileSync('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD']).toString().trim();
  const dirty = execFileSync('git', ['-C', repoRoot, 'status', '--porcelain', '--untracked-files=no']).toString().trim() !== '';
  // tsx loads the scenario (TypeScript); the packages it imports are the copy's built ones.
  const execArgv = ['--import', 'tsx', ...(process.argv.includes('--profile') ? ['--cpu-prof', '--cpu-prof-dir', '/tmp/berth-rolls-prof'] : [])];
  process.env.TSX_TSCONFIG_PATH = resolve(here, 'tsconfig.json');
  const runners = [new Runner(`baseline ${rev}`, baseDir, execArgv), new Runner(`current ${head}${dirty ? '+' : ''}`, repoRoot, execArgv)];
  await Promise.all(runners.map((r) => r.ready));
  console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}; two child processes run alternately (one core at a time)`);
  for (const r of runners) await r.ask({ kind: 'warmup', runs: warmup });

  const perRunner = runners.map(() => ({ rates: [] as number[], scenarioRates: [] as number[], records: new Map<number, RollRecord>(), rollMs: 0, scenarioMs: 0, cpuMs: 0, rolls: 0 }));
  for (let b = 0; b < batches; b++) {
    const seeds = Array.from({ length: batchSize }, (_, i) => 1 + b * batchSize + i);
    // Alternate which copy goes first, so neither always follows the other.
    const order = b % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) {
      const records = await runners[i]!.ask({ kind: 'batch', seeds });
      const acc = perRunner[i]!;
      const rollMs = records.reduce((a, r) => a + r.rollWallMs, 0);
      const scenarioMs = records.reduce((a, r) => a + r.scenarioWallMs, 0);
      acc.rates.push((1000 * records.length) / rollMs);
      acc.scenarioRates.push((1000 * records.length) / scenarioMs);
      acc.rollMs += rollMs;
      acc.scenarioMs += scenarioMs;
      acc.cpuMs += records.reduce((a, r) => a + r.scenarioCpuMs, 0);
      acc.rolls += records.length;
      for (const r of records) acc.records.set(r.seed, r);
    }
    process.stdout.write(`batch ${b + 1}/${batches}: ${runners.map((r, i) => `${r.label} ${perRunner[i]!.rates.at(-1)!.toFixed(0)}/s`).join(', ')}\n`);
  }
  for (const r of runners) r.exit();

  const [base, cur] = perRunner as [(typeof perRunner)[0], (typeof perRunner)[0]];
  const rate = (a: typeof base) => (1000 * a.rolls) / a.rollMs;
  const srate = (a: typeof base) => (1000 * a.rolls) / a.scenarioMs;
  const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
  const pairRatios = base.rates.map((x, i) => cur.rates[i]! / x);
  console.log('');
  console.log(`| copy | rolls | wall per roll | rolls / wall-s (batches) | scenarios / wall-s (provision + roll) | CPU per scenario |`);
  console.log('|---|---|---|---|---|---|');
  for (const [i, a] of perRunner.entries()) {
    console.log(`| ${runners[i]!.label} | ${a.rolls} | ${(a.rollMs / a.rolls).toFixed(1)} ms | ${rate(a).toFixed(0)} (${range(a.rates)}) | ${srate(a).toFixed(1)} (${range(a.scenarioRates)}) | ${(a.cpuMs / a.rolls).toFixed(1)} ms |`);
  }
  console.log(`| ratio | | | ${(rate(cur) / rate(base)).toFixed(2)}× (batch pairs ${Math.min(...pairRatios).toFixed(2)}–${Math.max(...pairRatios).toFixed(2)}) | ${(srate(cur) / srate(base)).toFixed(2)}× | ${(base.cpuMs / base.rolls / (cur.cpuMs / cur.rolls)).toFixed(2)}× less |`);

  const differing = [...base.records.keys()].filter((s) => base.records.get(s)!.fingerprint !== cur.records.get(s)?.fingerprint);
  console.log('');
  const seedList = [...base.records.keys()].sort((a, b) => a - b);
  if (differing.length === 0) console.log(`Same rolls: seeds ${seedList[0]}–${seedList.at(-1)} (${seedList.length}) give identical fingerprints (outcome, simulated duration, calls by operation, IAM checks, events) in both copies.`);
  else {
    console.log(`Fingerprints differ for ${differing.length} seed(s) (expected only where the calls a roll makes were changed on purpose):`);
    for (const s of differing.slice(0, 3)) console.log(`  seed ${s}\n    baseline ${base.records.get(s)!.fingerprint}\n    current  ${cur.records.get(s)?.fingerprint}`);
  }
}

if (process.argv.includes('--child')) await child(arg('--child') as string);
else await parent();
