import { createController, defineCluster } from '@berth/core';
import { describe, expect, it } from 'vitest';
import type { IamEvaluator } from '../../src/aws/iam/iam-decision.js';
import { loadIamSimulateEvaluator } from '../../src/aws/iam/iam-simulate-evaluator.js';
import { evaluatorMemoStats, memoizeEvaluator, resetEvaluatorMemo } from '../../src/aws/iam/memo-evaluator.js';
import { createSimulation, simulatedClusterInput } from '../../src/index.js';

// The memo must not change a decision (docs/simulator.md, IAM: "a hit cannot differ from a fresh evaluation").
// Provisioning and a roll run with every IAM evaluation made twice — memoised and fresh — and
// the verifying memo throws on the first difference. A cluster that cannot converge (a denied
// call retried for ever) would make this test run for minutes: it stops after more
// evaluations than a roll makes and names the denials.

/** Evaluations a 3-node provisioning and roll needs, with room to spare. */
const MAX_EVALUATIONS = 4_000;

describe('the IAM memo over a full roll', () => {
  it('answers every call of provisioning and a roll as a fresh evaluation does', async () => {
    resetEvaluatorMemo();
    const inner = await loadIamSimulateEvaluator();
    let evaluations = 0;
    const denials = new Map<string, number>();
    const counting: IamEvaluator = {
      async evaluate(r) {
        evaluations++;
        const d = await inner.evaluate(r);
        if (d !== 'Allowed') {
          const what = `${r.policies.documents.map((x) => x.name).join('+')}: ${r.action} on ${r.resource.replace(/-[0-9a-f]{17}$/, '-…')} (${d})`;
          denials.set(what, (denials.get(what) ?? 0) + 1);
        }
        return d;
      },
    };
    const sim = createSimulation({ seed: 42, profile: 'fast', iam: memoizeEvaluator(counting, { verify: true }) });
    const input = simulatedClusterInput({ nodes: 3 });
    const spec = defineCluster(input);
    const next = defineCluster({ ...input, image: 'ami-0fedcba9876543210' });
    const outcome = await sim.run(async () => {
      const work = (async () => {
        const c = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'test' });
        await c.apply();
        while (!(await c.status()).converged || !sim.app.clusterHealthy()) await sim.clock.sleep(10_000);
        const roller = createController({ spec: next, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'test' });
        await roller.roll({ maxUnavailable: 1 });
        return 'rolled';
      })();
      let settled: string | null = null;
      work.then(
        (v) => (settled = v),
        (e: unknown) => (settled = `failed: ${e instanceof Error ? e.message : String(e)}`),
      );
      while (settled === null && evaluations < MAX_EVALUATIONS) await sim.clock.sleep(1_000);
      return settled ?? `stuck after ${evaluations} IAM evaluations`;
    });
    const stats = evaluatorMemoStats();
    const denied = [...denials].map(([k, n]) => `${n}× ${k}`).join('\n');
    console.log(`provisioning + roll: ${outcome}; ${stats.hits + stats.misses} IAM evaluations, ${stats.misses} distinct${denied ? `\ndenied:\n${denied}` : ''}`);
    expect(outcome, `the roll did not complete; denials:\n${denied}`).toBe('rolled');
    expect(stats.hits).toBeGreaterThan(stats.misses);
  }, 300_000);
});
