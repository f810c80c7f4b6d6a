import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../bin/cli.js';
import { describe, expect, it } from 'vitest';
import { explore, explorePool, mergeExploreSummaries, type ExploreSummary } from '../src/index.js';
import { mutantRoll } from './support/mutants.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const support = (name: string) => fileURLToPath(new URL(`./support/${name}`, import.meta.url));
// Fast profile, 3 nodes: the pool's start-up (a worker thread loading the sources through tsx) dominates.
const gen = { profile: 'fast', sizes: [3], maxFaults: 2 } as const;

describe('explorePool', () => {
  it('two workers over a seed range give the sequential summary (failures in seed order), with progress for every scenario; a roll module loads in each worker (a strategy module: the berth-chaos test below)', async () => {
    const range = { ...gen, runs: 4, seed: 40, exclude: new Set([42]) };
    // Broken rolls (every node at once): every scenario fails, so the failures' order shows.
    const progress: number[] = [];
    const indices: number[] = [];
    // The sequential runs share the wait for the workers' start-up.
    const [pooled, sequential] = await Promise.all([
      explorePool({ ...range, workers: 2, chunkSize: 2, rollModule: fixture('broken-roll.ts'), onProgress: (p) => progress.push(p.done), onResult: (_r, i) => indices.push(i) }),
      explore({ ...range, roll: mutantRoll({ batchAll: true }) }),
    ]);
    expect(pooled).toEqual(sequential);
    expect(pooled.runs).toBe(3);
    expect(pooled.failures.map((f) => f.scenario.seed)).toEqual([40, 41, 43]);
    expect(progress).toEqual([1, 2, 3]);
    expect(indices.sort()).toEqual([0, 1, 3]);
  }, 40_000);

  it('berth-chaos run --workers 2 writes the summary of --workers 1 (replays name the module as given)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-chaos-workers-'));
    const module = relative(process.cwd(), support('broken-strategy.ts'));
    const run = async (workers: string) => {
      const out: string[] = [];
      const code = await main(['run', module, '--runs', '3', '--seed', '40', '--shrink', '0', '--workers', workers, '--report', join(dir, workers)], { out: (l) => out.push(l), err: (l) => out.push(l), progress: false });
      const { scenariosPerSecond: _rate, ...summary } = JSON.parse(readFileSync(join(dir, workers, 'summary.json'), 'utf8')) as Record<string, unknown>;
      return { code, out: out.join('\n'), summary };
    };
    const [one, two] = await Promise.all([run('1'), run('2')]);
    expect(two.out).toContain('on 2 workers');
    expect(two.code).toBe(1);
    expect(one.code).toBe(1);
    expect(two.summary).toEqual(one.summary);
    expect(JSON.stringify(two.summary)).toContain(`40@${module}`);
    expect(JSON.stringify(two.summary)).not.toContain(process.cwd());
  }, 40_000);

  it('refuses a strategy module without a strategy export (imported in the worker)', async () => {
    await expect(explorePool({ ...gen, runs: 1, seed: 7, workers: 1, strategyModule: fixture('no-strategy.ts') })).rejects.toThrow(/no-strategy\.ts exports no strategy/);
  }, 30_000);

  it('refuses bad options before starting a worker, naming the field', async () => {
    await expect(explorePool({ runs: 2, seed: 1, workers: 0 })).rejects.toThrow(/workers must be a positive integer/);
    await expect(explorePool({ runs: -1, seed: 1 })).rejects.toThrow(/runs must be a non-negative integer/);
    await expect(explorePool({ runs: 1, seed: 1.5 })).rejects.toThrow(/seed must be an integer/);
    await expect(explorePool({ runs: 1, seed: 1, chunkSize: 0 })).rejects.toThrow(/chunkSize must be a positive integer/);
    await expect(explorePool({ runs: 1, seed: 1, roll: async () => undefined })).rejects.toThrow(/roll is a function .* rollModule/);
    await expect(explorePool({ runs: 1, seed: 1, rollModule: '' })).rejects.toThrow(/rollModule must be a file path/);
    await expect(explorePool({ runs: 1, seed: 1, strategyModule: fixture('missing.ts') })).rejects.toThrow(/strategyModule .*missing\.ts does not exist/);
  });

  it('stops every worker after the scenario in hand when the signal aborts', async () => {
    const ac = new AbortController();
    const summary = await explorePool({ ...gen, maxFaults: 0, runs: 6, seed: 50, workers: 1, chunkSize: 3, signal: ac.signal, onProgress: () => ac.abort() });
    expect(summary.runs).toBeGreaterThanOrEqual(1);
    expect(summary.runs).toBeLessThan(6);
  }, 20_000);

  it('an aborted signal runs nothing', async () => {
    const ac = new AbortController();
    ac.abort();
    expect(await explorePool({ runs: 3, seed: 1, signal: ac.signal })).toEqual({ runs: 0, failures: [], faultsInjected: 0, virtualMs: 0, livenessOutcomes: {} });
  });

  it('merges chunk summaries in seed order', () => {
    const f = (seed: number) => ({ scenario: { seed, nodes: 3, profile: 'fast' as const, maxUnavailable: 1, faults: [] }, violations: [], replay: `r${seed}` });
    const a: ExploreSummary = { runs: 2, failures: [f(1)], faultsInjected: 3, virtualMs: 10, livenessOutcomes: { completed: 1, halted: 1 } };
    const b: ExploreSummary = { runs: 3, failures: [f(3), f(4)], faultsInjected: 1, virtualMs: 5, livenessOutcomes: { timeout: 1, completed: 2 } };
    const m = mergeExploreSummaries([a, b]);
    expect(m.failures.map((x) => x.replay)).toEqual(['r1', 'r3', 'r4']);
    expect(m).toMatchObject({ runs: 5, faultsInjected: 4, virtualMs: 15 });
    expect(Object.entries(m.livenessOutcomes)).toEqual([['completed', 3], ['halted', 1], ['timeout', 1]]);
  });
});
