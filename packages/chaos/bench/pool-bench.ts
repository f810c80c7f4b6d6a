/**
 * Chaos on every core: 5-node realistic scenarios with faults per wall-second, in this process
 * (one core), through explorePool with 1 worker, and with N workers (default: the cores), and
 * the scaling ratio N workers ÷ 1 worker (wall time), and the same per CPU-second (load-independent). Each pool figure includes its workers' start-up (module
 * load, IAM evaluator, cold JIT), measured alone as `startupSeconds` (a pool over one scenario).
 * Run (after pnpm build, against the built package):
 *   pnpm exec tsx --tsconfig bench/tsconfig.json packages/chaos/bench/pool-bench.ts [runs] [workers] [seed]
 */
import { availableParallelism, loadavg } from 'node:os';
import { explore, explorePool, randomScenario, runScenario } from '@berth/chaos';

const runs = Number(process.argv[2] ?? 200);
const workers = Number(process.argv[3] ?? availableParallelism());
const seed = Number(process.argv[4] ?? 1);
const gen = { profile: 'realistic', sizes: [5], maxFaults: 4 } as const;

/** Wall seconds and CPU seconds (this process's, all its threads) of `fn`. */
const time = async (fn: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> => {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
};
const rate = (n: number, s: number) => +(n / s).toFixed(1);

// In-process: warm up the JIT and the IAM evaluator's memo first (steady state, as chaos-bench).
for (let i = 0; i < 10; i++) await runScenario(randomScenario(1_000_000 + i, gen));
const inProcess = await time(() => explore({ ...gen, runs, seed }));
const startup = await time(() => explorePool({ ...gen, runs: 1, seed, workers: 1 }));
const pool1 = await time(() => explorePool({ ...gen, runs, seed, workers: 1 }));
const poolN = await time(() => explorePool({ ...gen, runs, seed, workers }));
console.log(
  JSON.stringify({
    bench: 'chaos on every core (5 nodes, realistic, faults)',
    runs,
    workers,
    loadAverage: loadavg().map((l) => +l.toFixed(2)),
    inProcessPerSecond: rate(runs, inProcess.wall),
    pool1PerSecond: rate(runs, pool1.wall),
    poolNPerSecond: rate(runs, poolN.wall),
    scalingNover1: +(pool1.wall / poolN.wall).toFixed(2),
    // Per CPU-second (all threads): what one core does, whatever else the machine runs.
    inProcessPerCpuSecond: rate(runs, inProcess.cpu),
    pool1PerCpuSecond: rate(runs, pool1.cpu),
    poolNPerCpuSecond: rate(runs, poolN.cpu),
    startupSeconds: +startup.wall.toFixed(2),
  }),
);
