import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
// The named export: the CJS build's require() of this ESM-only package has no usable default.
import { Tinypool } from 'tinypool';
import type { ExploreFailure, ExploreOptions, ExploreSummary } from '../scenario/explore.js';
import type { PoolProgressMessage, PoolTask, PoolTaskResult, WorkerExploreOptions } from './pool-task.js';

declare const __dirname: string | undefined;

/** Progress of a pool run: one call per finished scenario, in the order the workers finish them. */
export interface PoolProgress {
  /** Scenarios finished so far, over all workers. */
  readonly done: number;
  /** Scenarios the run will play (the range less `exclude`). */
  readonly total: number;
  readonly seed: number;
  readonly ok: boolean;
}

/**
 * `explore`'s options for a pool: the seed range and generator options go to the workers;
 * `onResult`, `onProgress` and `signal` stay in the calling thread; `roll` cannot cross to a
 * thread (use `rollModule`).
 *
 * @example
 * ```ts
 * const options: ExplorePoolOptions = { runs: 500, seed: 1, workers: 2, rollModule: './my-roll.ts' };
 * const summary = await explorePool(options);
 * ```
 */
export interface ExplorePoolOptions extends ExploreOptions {
  /** Worker threads (default: the machine's available cores, at most one per chunk). */
  readonly workers?: number;
  /**
   * A module every worker imports (absolute or relative to the working directory; `.ts` works):
   * its default export, or its export `strategy`, is explore's `strategy`. Replay commands name
   * it as given here, as `explore({ strategyModule })` does.
   */
  readonly strategyModule?: string;
  /**
   * A module exporting the roll under test (a `RollFn`: default export, or its export `roll`),
   * imported in every worker: `roll` itself is a function and cannot cross to a thread.
   */
  readonly rollModule?: string;
  /** Scenarios per chunk (default: the range cut in about four chunks per worker). */
  readonly chunkSize?: number;
  /** Called after every scenario, from whichever worker finished it. */
  readonly onProgress?: (progress: PoolProgress) => void;
}

/** Where the worker entry is: dist/pool-worker.js (built) or src/pool/ts-worker.mjs (sources, via tsx). */
function workerFile(): string {
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  const built = join(here, 'pool-worker.js');
  if (existsSync(built)) return pathToFileURL(built).href;
  const source = join(here, 'ts-worker.mjs');
  if (existsSync(source)) return pathToFileURL(source).href;
  throw new Error(`explorePool: no worker entry beside ${here} (pool-worker.js or ts-worker.mjs)`);
}

function isInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n);
}

/** A module path option: absolute, existing, or a clear error naming the field. */
function modulePath(field: 'strategyModule' | 'rollModule', value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new TypeError(`explorePool: ${field} must be a file path`);
  const path = value.startsWith('file:') ? fileURLToPath(value) : resolve(value);
  if (!existsSync(path)) throw new Error(`explorePool: ${field} ${value} does not exist (resolved to ${path})`);
  return path;
}

/** Refuses what cannot work in a pool, naming the field. Returns the modules' absolute paths. */
function validate(options: ExplorePoolOptions): { strategyModule?: string; strategyModuleName?: string; rollModule?: string } {
  if (!isInt(options.runs) || options.runs < 0) throw new TypeError(`explorePool: runs must be a non-negative integer (got ${String(options.runs)})`);
  if (!isInt(options.seed)) throw new TypeError(`explorePool: seed must be an integer (got ${String(options.seed)})`);
  if (options.workers !== undefined && (!isInt(options.workers) || options.workers < 1)) {
    throw new TypeError(`explorePool: workers must be a positive integer (got ${String(options.workers)})`);
  }
  if (options.chunkSize !== undefined && (!isInt(options.chunkSize) || options.chunkSize < 1)) {
    throw new TypeError(`explorePool: chunkSize must be a positive integer (got ${String(options.chunkSize)})`);
  }
  if (options.roll !== undefined) {
    throw new TypeError('explorePool: roll is a function and cannot be sent to a worker thread; export it from a module and pass its path as rollModule, or use explore()');
  }
  if ((options as { strategy?: unknown }).strategy !== undefined) {
    throw new TypeError('explorePool: strategy is an object in this thread and cannot be sent to a worker; pass the path of its module as strategyModule');
  }
  const strategyModule = modulePath('strategyModule', options.strategyModule);
  const rollModule = modulePath('rollModule', options.rollModule);
  return { ...(strategyModule && { strategyModule, strategyModuleName: options.strategyModule }), ...(rollModule && { rollModule }) };
}

/**
 * Joins the summaries of contiguous chunks of a seed range, given in seed order: the summary
 * `explore` gives over the whole range.
 *
 * @example
 * ```ts
 * const whole = mergeExploreSummaries([await explore({ runs: 10, seed: 1 }), await explore({ runs: 10, seed: 11 })]);
 * // deep-equals await explore({ runs: 20, seed: 1 })
 * ```
 */
export function mergeExploreSummaries(parts: readonly ExploreSummary[]): ExploreSummary {
  const failures: ExploreFailure[] = [];
  const liveness: Record<string, number> = {};
  let runs = 0;
  let faults = 0;
  let virtualMs = 0;
  for (const p of parts) {
    runs += p.runs;
    faults += p.faultsInjected;
    virtualMs += p.virtualMs;
    failures.push(...p.failures);
    for (const [k, v] of Object.entries(p.livenessOutcomes)) liveness[k] = (liveness[k] ?? 0) + v;
  }
  return { runs, failures, faultsInjected: faults, virtualMs, livenessOutcomes: liveness };
}

/**
 * Explores a seed range on every core: the range is cut into contiguous chunks, worker threads
 * run `explore` over them, and the summaries are merged in seed order — the result equals
 * `explore()` over the same range (same failures in the same order, same counts), whatever the
 * number of workers. `onResult` and `onProgress` are called as scenarios finish (not in seed
 * order). Aborting stops every worker after the scenario in hand and returns what ran.
 *
 * @example
 * ```ts
 * const summary = await explorePool({ runs: 1000, seed: 1, profile: 'realistic', workers: 2,
 *   onProgress: (p) => bar.update(p.done) });
 * for (const f of summary.failures) console.log(f.replay);
 * ```
 */
export async function explorePool(options: ExplorePoolOptions): Promise<ExploreSummary> {
  const modules = validate(options);
  const { workers: wanted, chunkSize: size, onProgress, onResult, signal, strategyModule: _s, rollModule: _m, roll: _r, ...rest } = options;
  const workers = wanted ?? Math.max(1, availableParallelism());
  const chunkSize = size ?? Math.max(1, Math.ceil(options.runs / (workers * 4)));
  const chunks: { offset: number; runs: number }[] = [];
  for (let offset = 0; offset < options.runs; offset += chunkSize) chunks.push({ offset, runs: Math.min(chunkSize, options.runs - offset) });
  let total = 0;
  for (let i = 0; i < options.runs; i++) if (!options.exclude?.has(options.seed + i)) total++;
  if (chunks.length === 0 || signal?.aborted) return mergeExploreSummaries([]);

  const abortFlag = new Int32Array(new SharedArrayBuffer(4));
  const onAbort = () => Atomics.store(abortFlag, 0, 1);
  signal?.addEventListener('abort', onAbort, { once: true });
  const pool = new Tinypool({ filename: workerFile(), minThreads: Math.min(workers, chunks.length), maxThreads: Math.min(workers, chunks.length), isolateWorkers: false });
  let done = 0;
  try {
    const parts = await Promise.all(
      chunks.map(async (c): Promise<PoolTaskResult> => {
        const { port1, port2 } = new MessageChannel();
        let received = 0;
        let expected = Infinity;
        let allReceived!: () => void;
        const drained = new Promise<void>((r) => (allReceived = r));
        port1.on('message', (m: PoolProgressMessage) => {
          received++;
          done++;
          if (m.result) onResult?.(m.result, m.index);
          onProgress?.({ done, total, seed: m.seed, ok: m.ok });
          if (received >= expected) allReceived();
        });
        const workerOptions: WorkerExploreOptions = { ...rest, seed: options.seed + c.offset, runs: c.runs };
        const task: PoolTask = { options: workerOptions, offset: c.offset, fullResults: onResult !== undefined, abortFlag, port: port2, ...modules };
        try {
          const summary = (await pool.run(task, { transferList: [port2] })) as PoolTaskResult;
          // Progress messages travel on their own channel: wait for this chunk's last one.
          expected = summary.runs;
          if (received < expected) await drained;
          return summary;
        } finally {
          port1.close();
        }
      }),
    );
    return mergeExploreSummaries(parts);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await pool.destroy();
  }
}
