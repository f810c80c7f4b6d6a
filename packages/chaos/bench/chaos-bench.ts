/**
 * Scenarios explored per wall-second: 5-node clusters, realistic profile, with faults (swarm).
 * Run (after pnpm build, against the built package): pnpm exec tsx --tsconfig bench/tsconfig.json packages/chaos/bench/chaos-bench.ts [runs] [seed]
 */
import { randomScenario, runScenario } from '@berth/chaos';

const runs = Number(process.argv[2] ?? 200);
const seed = Number(process.argv[3] ?? 1);
const gen = { profile: 'realistic', sizes: [5], maxFaults: 4 } as const;
// Warm up the JIT (and the IAM evaluator's memo) so the figure is the steady state.
for (let i = 0; i < 10; i++) await runScenario(randomScenario(1_000_000 + i, gen));
let faults = 0;
let failures = 0;
const t0 = performance.now();
for (let i = 0; i < runs; i++) {
  const s = randomScenario(seed + i, gen);
  faults += s.faults.length;
  const r = await runScenario(s);
  if (!r.ok) failures++;
}
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ bench: 'chaos scenarios/s (5 nodes, realistic, faults)', runs, faults, failures, seconds: +seconds.toFixed(2), scenariosPerSecond: +(runs / seconds).toFixed(1) }));
