/**
 * The mutant table of docs/chaos.md: for every invariant, the mutant that breaks it, and how many
 * generated scenarios (`randomScenario(seed)`, seeds from S on: swarm, fast profile, 3 and 5
 * nodes) it takes until the invariant's checker first fails, and in how many of N it fails.
 * Each scenario checks only that invariant (so another invariant's violation cannot stop it first).
 *
 * Run: pnpm exec tsx packages/chaos/bench/mutant-table.ts [N=100] [S=1]
 */
import type { Simulation } from '@berth/sim-driver';
import { describeFault, INVARIANT_NUMBERS, randomScenario, runScenario, type InvariantId, type RollFn } from '../src/index.js';
import { mutantRoll, skippingRoll, staleViewRoll, volumeDeletingRoll } from '../test/support/mutants.js';

interface Row {
  readonly invariant: InvariantId;
  readonly mutant: string;
  readonly roll?: RollFn;
  readonly onSimulation?: (sim: Simulation) => void;
}

/** The node role without autoscaling:CompleteLifecycleAction: the bootstrap cannot finish. */
const withoutCompleteLifecycle = (sim: Simulation) =>
  sim.account.transformPolicies((role, doc) => {
    if (role !== 'node') return doc;
    const d = doc as { Statement: { Action: string[] }[] };
    return { ...d, Statement: d.Statement.map((st) => ({ ...st, Action: st.Action.filter((a) => a !== 'autoscaling:CompleteLifecycleAction') })).filter((st) => st.Action.length > 0) };
  });

const ROWS: readonly Row[] = [
  { invariant: 'quorum-safety', mutant: 'replaces every outdated node at once', roll: mutantRoll({ batchAll: true }) },
  { invariant: 'quorum-safety', mutant: 'decides on a stale view: looks, plans one node, waits 15 s at its gates, replaces without looking again', roll: staleViewRoll(15_000) },
  { invariant: 'data-retained', mutant: 'a cleanup after the roll deletes a node with its retained volume', roll: volumeDeletingRoll },
  { invariant: 'liveness', mutant: 'reports success after skipping a node', roll: skippingRoll },
  { invariant: 'failure-containment', mutant: 'carries on after a failure (a failed bootstrap or a replacement past its timeout)', roll: mutantRoll({ ignoreFailures: true }) },
  { invariant: 'single-controller', mutant: 'never takes the lease', roll: mutantRoll({ ignoreLock: true }) },
  { invariant: 'single-controller', mutant: 'carries on without the lease when another session holds it', roll: mutantRoll({ ignoreLockHeld: true }) },
  { invariant: 'no-double-replace', mutant: 'replaces every node, updated or not, twice', roll: mutantRoll({ ignoreRevision: true }) },
  { invariant: 'iam-allowed', mutant: 'the node role lacks autoscaling:CompleteLifecycleAction (Berth’s controller)', onSimulation: withoutCompleteLifecycle },
];

const runs = Number(process.argv[2] ?? 100);
const first = Number(process.argv[3] ?? 1);
console.log(`mutant table: ${runs} generated scenarios per mutant, seeds ${first}…${first + runs - 1} (randomScenario: swarm, fast profile, 3 and 5 nodes)\n`);
console.log('| # | invariant | mutant | scenarios to first failure | failed in | first failing schedule |');
console.log('|---|---|---|---|---|---|');
const t0 = performance.now();
for (const row of ROWS) {
  let caught = 0;
  let firstAt: { index: number; seed: number; schedule: string } | null = null;
  for (let i = 0; i < runs; i++) {
    const seed = first + i;
    const scenario = randomScenario(seed);
    const r = await runScenario(scenario, { invariants: [row.invariant], ...(row.roll && { roll: row.roll }), ...(row.onSimulation && { onSimulation: row.onSimulation }) });
    if (r.violations.some((v) => v.invariant === row.invariant)) {
      caught++;
      firstAt ??= { index: i + 1, seed, schedule: scenario.faults.map(describeFault).join('; ') || 'no faults' };
    }
  }
  console.log(`| ${INVARIANT_NUMBERS[row.invariant]} | \`${row.invariant}\` | ${row.mutant} | ${firstAt ? `${firstAt.index} (seed ${firstAt.seed})` : `not within ${runs}`} | ${caught} / ${runs} | ${firstAt ? firstAt.schedule : '—'} |`);
}
console.log(`\n(${((performance.now() - t0) / 1000).toFixed(0)} s wall)`);
