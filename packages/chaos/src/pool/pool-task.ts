import type { MessagePort } from 'node:worker_threads';
import type { ScenarioResult } from '../scenario/run-scenario.js';
import type { ExploreOptions, ExploreSummary } from '../scenario/explore.js';

/** The options a worker gets: `ExploreOptions` without what cannot cross a thread (functions, signals). */
export type WorkerExploreOptions = Omit<ExploreOptions, 'onResult' | 'signal' | 'roll'>;

/** One chunk of the seed range, as the pool sends it to a worker. */
export interface PoolTask {
  /** Seeds `options.seed` … `options.seed + options.runs - 1`. */
  readonly options: WorkerExploreOptions;
  /** Index (in the whole range) of this chunk's first seed: `onResult`'s index is offset by it. */
  readonly offset: number;
  /** An absolute path or file URL of the strategy module, imported in the worker. */
  readonly strategyModule?: string;
  /** The strategy module as the caller named it: what replay commands say. */
  readonly strategyModuleName?: string;
  /** An absolute path or file URL of a module exporting a `RollFn` (default export or `roll`). */
  readonly rollModule?: string;
  /** Post each scenario's full result (the caller has `onResult`), or only its seed and outcome. */
  readonly fullResults: boolean;
  /** One Int32 on shared memory: non-zero once the caller aborted (stop after the scenario in hand). */
  readonly abortFlag: Int32Array;
  /** Where the worker posts a {@link PoolProgressMessage} per finished scenario. */
  readonly port: MessagePort;
}

/** What a worker posts after every scenario. */
export interface PoolProgressMessage {
  /** Index of the scenario in the whole range (seed − first seed). */
  readonly index: number;
  readonly seed: number;
  readonly ok: boolean;
  readonly result?: ScenarioResult;
}

export type PoolTaskResult = ExploreSummary;
