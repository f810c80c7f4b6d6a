/**
 * Fleet benchmark: 100 clusters × 5 nodes on one simulated AWS, watched for a simulated hour
 * in one process, with a few instance kills. Reports the calls per second each rate-limited
 * service answered against its refill rate (the simulator's token buckets), the throttled
 * attempts, watch() failures and the peak RSS.
 *
 *   bash scripts/pnpm.sh build
 *   bash scripts/pnpm.sh exec tsx --tsconfig bench/tsconfig.json bench/fleet.ts [--mode before|plain|fleet|both] [--clusters 100] [--nodes 5] [--minutes 60]
 *
 * `before` runs one plain `controller.watch()` per cluster on one shared AbortSignal at the
 * intervals watch() had before fleet mode (10 s, a full look every fifth); `plain` the same at
 * today's watch() defaults; `fleet` runs `createFleet()` over the same clusters. Each mode gets its own
 * simulation (same seed). Figures go in BENCHMARKS.md; nothing here is a timed test.
 */
import { runFleetScenario } from '../examples/demo/fleet-scenario.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] as string) : dflt;
};
const mode = arg('mode', 'both');
const clusterCount = Number(arg('clusters', '100'));
const nodeCount = Number(arg('nodes', '5'));
const minutes = Number(arg('minutes', '60'));
const seed = Number(arg('seed', '7'));

const modes: ('before' | 'plain' | 'fleet')[] = mode === 'both' ? ['before', 'fleet'] : [mode as 'before' | 'plain' | 'fleet'];
console.log(`node ${process.version}; ${clusterCount} clusters × ${nodeCount} nodes, ${minutes} simulated minutes, seed ${seed}`);
for (const m of modes) {
  const r = await runFleetScenario(m, { clusters: clusterCount, nodes: nodeCount, minutes, seed });
  const refill = r.refill;
  const seconds = minutes * 60;
  console.log(`\n## ${m}: wall ${r.wallS.toFixed(1)} s, ${r.kills} instance kills, watch failures ${r.failures}, RSS ${r.rssAtWatchStartMb.toFixed(0)} MB when watching began, peak RSS while watching ${r.peakRssMb.toFixed(0)} MB${r.liveHeapMb > 0 ? `, live heap after a GC at the end ${r.liveHeapMb.toFixed(0)} MB` : ''}`);
  console.log('| service (bucket) | calls | calls / s | refill / s | share of refill | throttled attempts |');
  console.log('|---|---|---|---|---|---|');
  for (const b of ['ec2Describe', 'ec2Mutate', 'autoscaling', 'route53', 'dynamodb', 'sqs'] as const) {
    const rate = r.calls[b] / seconds;
    const rf = refill[b];
    console.log(`| ${b} | ${r.calls[b]} | ${rate.toFixed(2)} | ${rf ?? '—'} | ${rf ? `${((100 * rate) / rf).toFixed(0)} %` : '—'} | ${r.throttled[b]} |`);
  }
  const top = [...r.byOp].sort((a, b) => b[1] - a[1]).slice(0, 12);
  console.log(`top operations: ${top.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (r.warnings.length > 0) console.log(`process warnings: ${[...new Set(r.warnings)].join(' | ')}`);
}
