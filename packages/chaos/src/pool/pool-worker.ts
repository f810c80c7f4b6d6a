/**
 * The worker side of `explorePool`: runs `explore` over one chunk of the seed range. Loaded by
 * tinypool in a worker thread (from dist/pool-worker.js, or from sources through ts-worker.mjs).
 */
import { pathToFileURL } from 'node:url';
import { explore, type ExploreOptions } from '../scenario/explore.js';
import { loadStrategy } from '../scenario/strategy.js';
import type { RollFn } from '../scenario/run-scenario.js';
import type { PoolProgressMessage, PoolTask, PoolTaskResult } from './pool-task.js';

const modules = new Map<string, Promise<unknown>>();

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

/** Imports a module's default export, or its export `name`, once per worker (`field` names the option in errors). */
function loadExport(path: string, name: 'strategy' | 'roll', field: string): Promise<unknown> {
  const key = `${name} ${path}`;
  let p = modules.get(key);
  if (!p) {
    p = (async () => {
      if (/\.[cm]?tsx?$/.test(path)) await ensureTsx();
      const mod = (await import(path.startsWith('file:') ? path : pathToFileURL(path).href)) as Record<string, unknown>;
      const value = mod['default'] ?? mod[name];
      if (value === undefined || value === null) throw new Error(`explorePool: ${field} ${path} has neither a default export nor an export named '${name}'`);
      if (name === 'roll' && typeof value !== 'function') throw new Error(`explorePool: ${field} ${path} exports a ${typeof value}, not a roll function`);
      return value;
    })();
    modules.set(key, p);
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
    // The strategy module, checked as the bin checks it (`.ts` loads through the tsx the worker registered).
    const path = task.strategyModule;
    if (path && /\.[cm]?tsx?$/.test(path)) await ensureTsx();
    const strategy = path ? await loadStrategy(path) : undefined;
    const roll = task.rollModule ? ((await loadExport(task.rollModule, 'roll', 'rollModule')) as RollFn) : undefined;
    const options = {
      ...task.options,
      ...(strategy !== undefined && { strategy, strategyModule: task.strategyModuleName ?? task.strategyModule }),
      ...(roll && { roll }),
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
