/**
 * pnpm bench — builds the packages, then times simulated realistic rolls (maxUnavailable 1, leader last, no faults) for 5, 9
 * and 99 nodes: wall time per roll, simulated events per second, makespan ÷ lower bound, API
 * calls per replacement. Figures go in BENCHMARKS.md; nothing here is a timed test.
 *
 *   pnpm bench [--quick]
 *
 * It runs against the built packages (bench/tsconfig.json has no path mapping to sources), as
 * users would, and times the roll alone (provisioning and the demo's instrumentation excluded).
 */
import { cpus } from 'node:os';
import { runRollScenario, type RollScenarioResult } from '../examples/demo/roll-scenario.js';

const quick = process.argv.includes('--quick');
const sizes: { nodes: number; runs: number }[] = quick
  ? [
      { nodes: 5, runs: 20 },
      { nodes: 9, runs: 5 },
      { nodes: 99, runs: 1 },
    ]
  : [
      { nodes: 5, runs: 300 },
      { nodes: 9, runs: 100 },
      { nodes: 99, runs: 10 },
    ];

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
};

console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores; one used)`);
// Warm up the JIT so the first size is not penalised.
for (let i = 0; i < 100; i++) await runRollScenario({ seed: 10_000 + i, nodes: 5, profile: 'realistic', kill: false, instrument: false });

const rows: string[] = [];
for (const { nodes, runs } of sizes) {
  const results: RollScenarioResult[] = [];
  const wall: number[] = [];
  for (let seed = 1; seed <= runs; seed++) {
    const t0 = performance.now();
    const r = await runRollScenario({ seed, nodes, profile: 'realistic', kill: false, instrument: false });
    wall.push(performance.now() - t0);
    if (r.outcome !== 'completed') throw new Error(`seed ${seed}, ${nodes} nodes: roll ${r.outcome}: ${r.haltReason}`);
    if (r.lostCommitted > 0 || r.dataLossEvents > 0) throw new Error(`seed ${seed}, ${nodes} nodes: data lost`);
    results.push(r);
  }
  const rollWall = results.map((r) => r.rollWallMs);
  const events = results.reduce((a, r) => a + r.eventsFired, 0);
  const ratios = results.map((r) => r.makespanRatio);
  const cp = results.map((r) => r.controlPlaneCalls / r.replacements);
  const sqs = results.map((r) => r.queueCalls / r.replacements);
  rows.push(
    `| ${nodes} | ${runs} | ${mean(rollWall).toFixed(1)} ms | ${(1000 / mean(rollWall)).toFixed(0)} | ${mean(wall).toFixed(1)} ms | ${Math.round(events / (wall.reduce((a, b) => a + b, 0) / 1000)).toLocaleString('en-US')} | ${mean(ratios).toFixed(4)} (p95 ${quantile(ratios, 0.95).toFixed(4)}, max ${Math.max(...ratios).toFixed(4)}) | ${mean(cp).toFixed(2)} | ${mean(sqs).toFixed(2)} | ${(mean(results.map((r) => r.rollMs)) / 60_000).toFixed(1)} min |`,
  );
  console.log(`${nodes} nodes done (${runs} runs)`);
}
console.log('');
console.log('| nodes | runs | wall per roll | rolls / wall-s | wall per scenario (provision + roll) | simulated events / wall-s | makespan ÷ lower bound | control-plane calls / replacement | SQS long polls / replacement | simulated roll |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
