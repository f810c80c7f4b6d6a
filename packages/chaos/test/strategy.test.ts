// User strategies (issue 12): the user's cluster input, hooks and roll under chaos, with the same
// invariants, replay and determinism as the built-in scenarios.
import { simulatedClusterInput } from '@berth/sim-driver';
import { describe, expect, it } from 'vitest';
import { main } from '../bin/cli.js';
import { defineStrategy, explore, loadStrategy, strategyScenario, type ChaosStrategy } from '../src/index.js';

const BROKEN = 'packages/chaos/test/support/broken-strategy.ts';

describe('defineStrategy', () => {
  it('refuses bad input naming the field', () => {
    const cluster = simulatedClusterInput({ nodes: 3 });
    const bad = (s: Partial<ChaosStrategy>) => () => defineStrategy({ name: 'x', cluster, ...s } as ChaosStrategy);
    expect(bad({ name: '' })).toThrow(/chaos strategy: name must be a non-empty string/);
    expect(bad({ cluster: undefined as never })).toThrow(/chaos strategy: cluster must be a cluster input/);
    expect(bad({ roll: { maxUnavailable: 0 } })).toThrow(/chaos strategy: roll.maxUnavailable 0 must be a whole number ≥ 1/);
    expect(bad({ faults: { kinds: ['kill-instance', 'meteor' as never] } })).toThrow(/chaos strategy: faults.kinds has unknown kind meteor/);
    expect(bad({ faults: { weights: { partition: -1 } } })).toThrow(/chaos strategy: faults.weights.partition -1 must be a number ≥ 0/);
    expect(bad({ faults: { kinds: ['partition'], weights: { partition: 0 } } })).toThrow(/faults.weights leaves no kind/);
    expect(bad({ targetImage: 'latest' })).toThrow(/chaos strategy: targetImage 'latest' must be an AMI id/);
    expect(bad({ hooks: {} as never })).toThrow(/chaos strategy: hooks must be a function/);
    // The user's spec is checked by defineCluster before any run, its errors naming the field.
    expect(() => strategyScenario(defineStrategy({ name: 'x', cluster: { ...cluster, nodes: [] } }), 1)).toThrow(/nodes/);
  });
});

describe('strategy scenarios', () => {
  it("draw faults on the strategy's own nodes, with its weights, fault count and maxUnavailable", () => {
    const s = defineStrategy({
      name: 'orders',
      cluster: simulatedClusterInput({ nodes: 5, name: 'orders' }),
      roll: { maxUnavailable: 2 },
      faults: { kinds: ['kill-instance', 'partition', 'api-5xx'], maxFaults: 3, weights: { 'api-5xx': 0 } },
    });
    const scenarios = Array.from({ length: 60 }, (_, i) => strategyScenario(s, 500 + i));
    const faults = scenarios.flatMap((sc) => sc.faults);
    expect(faults.length).toBeGreaterThan(20);
    expect(new Set(faults.map((f) => f.kind))).toEqual(new Set(['kill-instance', 'partition']));
    expect(faults.every((f) => 'nodeId' in f && /^orders-[1-5]$/.test(f.nodeId))).toBe(true);
    expect(scenarios.every((sc) => sc.nodes === 5 && sc.maxUnavailable === 2 && sc.faults.length <= 3)).toBe(true);
    expect(strategyScenario(s, 507)).toEqual(scenarios[7]);
  });

  it("explore({ cluster, roll, hooks, faults }): the user's hooks gate the roll over the simulated application; same seed, same summary", async () => {
    let gates = 0;
    const options = {
      cluster: simulatedClusterInput({ nodes: 3, name: 'orders' }),
      roll: { maxUnavailable: 1 },
      hooks: ({ sim }: Parameters<NonNullable<ChaosStrategy['hooks']>>[0]) => ({
        clusterHealthy: () => {
          gates++;
          return sim.app.clusterHealthy();
        },
      }),
      faults: { kinds: ['kill-instance', 'slow-boot'] as const, maxFaults: 2 },
      runs: 2,
      seed: 70,
    };
    const a = await explore(options);
    expect(a).toMatchObject({ runs: 2, failures: [], livenessOutcomes: { completed: 2 } });
    expect(gates).toBeGreaterThan(0);
    const b = await explore({ strategy: defineStrategy({ name: 'inline', cluster: options.cluster, roll: options.roll, hooks: options.hooks, faults: options.faults }), runs: 2, seed: 70 });
    expect(b).toEqual(a);
    await expect(explore({ runs: 1, seed: 1, roll: { maxUnavailable: 1 } })).rejects.toThrow(/roll options need a cluster/);
  });

  it("a user's spec in another region runs in a simulated account of that region (MongoDB example, us-east-1)", async () => {
    const mongo = await loadStrategy('examples/chaos/mongodb-strategy.ts');
    const summary = await explore({ strategy: mongo, runs: 2, seed: 3 });
    expect(summary.failures).toEqual([]);
    expect(summary.runs).toBe(2);
    const fn = defineStrategy({ name: 'fn', cluster: () => simulatedClusterInput({ nodes: 3, region: 'us-west-2' }) });
    const r = await explore({ strategy: fn, runs: 1, seed: 1 }).catch((e: Error) => e);
    expect(String(r)).toMatch(/cluster.region is us-west-2, the simulation's account is in eu-west-1/);
  });

  it('a broken strategy is caught, and its replay token (SEED@MODULE) replays the failure', async () => {
    const broken = await loadStrategy(BROKEN);
    const summary = await explore({ strategy: broken, strategyModule: BROKEN, runs: 2, seed: 40, shrinkTries: 4 });
    expect(summary.failures.length).toBe(2);
    const f = summary.failures[0]!;
    expect(f.violations.map((v) => v.invariant)).toContain('quorum-safety');
    expect(f.replay).toBe(`berth-chaos replay 40@${BROKEN}`);
    expect(f.shrunk?.violations.map((v) => v.invariant)).toContain('quorum-safety');
    const out: string[] = [];
    const code = await main(['replay', f.replay.split(' ').at(-1)!, '--report', `${process.env['TMPDIR'] ?? '/tmp'}/berth-chaos-replay`], { out: (l) => out.push(l), err: (l) => out.push(l) });
    expect(code).toBe(1);
    const text = out.join('\n');
    for (const v of f.violations) expect(text).toContain(v.message);
    expect(text).toContain(`replay: berth-chaos replay 40@${BROKEN}`);
    await expect(loadStrategy('no/such/strategy.ts')).rejects.toThrow(/cannot load no\/such\/strategy\.ts/);
    // What tsImport gives for a .ts file outside an ESM package: the CommonJS exports under default.
    const asCjs = async () => ({ default: { __esModule: true, strategy: broken } });
    expect((await loadStrategy(BROKEN, asCjs)).name).toBe('orders-batch-all');
    await expect(loadStrategy(BROKEN, async () => ({ default: { other: 1 } }))).rejects.toThrow(/exports no strategy/);
  });
});
