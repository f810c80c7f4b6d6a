/**
 * Fleet scale (issue 13): CPU per replaced node for a roll of 5, 99 and 999 nodes, and AWS calls
 * per observation, on the simulator through the production AWS driver. Figures go in
 * BENCHMARKS.md; nothing here is a timed test.
 *
 *   pnpm build && pnpm exec tsx --tsconfig bench/tsconfig.json bench/scale.ts [--quick]
 *
 * Each size provisions the cluster (not measured), then rolls it to a new image with
 * maxUnavailable 1, leader last, no faults. Past `ROLLED` nodes only the first `ROLLED` are
 * replaced (the others skipped): the roll's CPU (process.cpuUsage, user + system) divided by the
 * nodes replaced is the figure. Calls per observation are counted on the simulated account
 * (every request it answered) for one `instances` look and one `full` look of the converged
 * cluster, and as the mean over the roll's looks.
 */
import { cpus } from 'node:os';
import { measureScale, type ScaleRow } from '../examples/demo/scale-scenario.js';

const quick = process.argv.includes('--quick');
const sizes = quick ? [5, 99] : [5, 99, 999];

console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores; one used)`);
// Warm up the JIT so the first size is not penalised.
for (let i = 0; i < 3; i++) await measureScale(5, 1000 + i);

const rows: ScaleRow[] = [];
for (const n of sizes) {
  rows.push(await measureScale(n, 1));
  console.log(`${n} nodes done`);
}
const base = rows[0] as ScaleRow;
const perNode = (r: ScaleRow) => r.rollCpuMs / r.replaced;
const fmt = (c: Record<string, number>) => `${Object.values(c).reduce((a, b) => a + b, 0)} (${Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ')})`;
console.log('');
console.log('| nodes | replaced | CPU per replaced node | × 5-node figure | roll wall | calls per look during the roll | `instances` look | `full` look | provisioning wall |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.nodes} | ${r.replaced} | ${perNode(r).toFixed(1)} ms | ${(perNode(r) / perNode(base)).toFixed(2)} | ${(r.rollWallMs / 1000).toFixed(2)} s | ${r.callsPerLook.toFixed(2)} (${r.looks} looks) | ${fmt(r.instancesLook)} | ${fmt(r.fullLook)} | ${(r.provisionWallMs / 1000).toFixed(1)} s |`,
  );
}
