/**
 * The worker side of `explorePool`: runs `explore` over one chunk of the seed range. Loaded by
 * tinypool in a worker thread (from dist/pool-worker.js, or from sources through ts-worker.mjs).
 */
import { pathToFileURL } from 'node:url';
import { explore, type ExploreOptions } from '../scenario/explore.js';
import type { PoolProgressMessage, PoolTask, PoolTaskResult } from './pool-task.js';

const strategies = new Map<string, Promise<unknown>>();

/** Registers tsx in this thread once, so that a `.ts` strategy module can be imported. */
let tsxReady: Promise<void> | null = null;
function ensureTsx(): Promise<void> {
  if ((globalThis as { __berthTsxRegistered?: boolean }).__berthTsxRegistered) return Promise.resolve();
  tsxReady ??= import('tsx/esm/api').then(
    (m: { register: () => unknown }) => {
      m.register();
    },
    (err: unknown) => {
      throw new Error(`explorePool: strategyModule is a TypeScript file, and loading it needs the tsx package (${String(err)})`);
    },
  );
  return tsxReady;
}

/** Imports the strategy module (its default export, or its export `strategy`), once per worker. */
function loadStrategyModule(path: string): Promise<unknown> {
  let p = strategies.get(path);
  if (!p) {
    p = (async () => {
      if (/\.[cm]?tsx?$/.test(path)) await ensureTsx();
      const mod = (await import(path.startsWith('file:') ? path : pathToFileURL(path).href)) as { default?: unknown; strategy?: unknown };
      const strategy = mod.default ?? mod.strategy;
      if (strategy === undefined || strategy === null) throw new Error(`explorePool: strategyModule ${path} has neither a default export nor an export named 'strategy'`);
      return strategy;
    })();
    strategies.set(path, p);
  }
  return p;
}

export default async function runChunk(task: PoolTask): Promise<PoolTaskResult> {
  const abort = new AbortController();
  const checkAbort = () => {
    if (Atomics.load(task.abortFlag, 0) !== 0 && !abort.signal.aborted) abort.abort(new Error('explorePool aborted'));
  };
  try {
    checkAbort();
    // merge: ExploreOptions.strategy (scenario/strategy.ts, `loadStrategy(path)`) arrives with the
    // user-strategies branch; until then the module's export is passed through untyped.
    const strategy = task.strategyModule ? await loadStrategyModule(task.strategyModule) : undefined;
    const options = {
      ...task.options,
      ...(strategy !== undefined && { strategy }),
      signal: abort.signal,
      onResult: (result, i) => {
        const msg: PoolProgressMessage = { index: task.offset + i, seed: result.scenario.seed, ok: result.ok, ...(task.fullResults && { result }) };
        task.port.postMessage(msg);
        checkAbort();
      },
    } as ExploreOptions;
    return await explore(options);
  } finally {
    task.port.close();
  }
}
