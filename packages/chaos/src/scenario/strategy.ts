import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ClusterInput, ClusterSpec, Prng, RollHooks, RollOptions } from '@berth/core';
import type { Simulation } from '@berth/sim-driver';
import { FAULT_KINDS } from '../faults/fault-catalogue.js';
import type { FaultKind } from '../faults/fault.js';
import type { RollArgs } from './run-scenario.js';

/**
 * What a strategy's functions get: the simulation of this run (its application `sim.app`, its
 * simulated AWS clients `sim.aws`, its clock), the run's seed and profile, a PRNG of the seed
 * (never `Math.random()`: runs must replay), and — once the cluster is defined — the spec the
 * roll goes to.
 */
export interface StrategyContext {
  readonly sim: Simulation;
  readonly seed: number;
  readonly profile: 'fast' | 'realistic';
  /** A stream of the run's seed, for the strategy's own choices. */
  readonly rng: Prng;
  /** The target spec (new image); absent while `cluster` itself is being evaluated. */
  readonly spec?: ClusterSpec;
}

/** Roll options passed to Berth's controller (`controller.roll(...)`), except what the run owns (signal, hooks). */
export type StrategyRollOptions = Omit<RollOptions, 'signal' | 'hooks'>;

/** A roll that drives the controller itself (e.g. an operator's wrapper around `createController`). */
export type StrategyRollFn = (args: RollArgs, ctx: StrategyContext) => Promise<unknown>;

/** Fault kinds and rates to draw from (see {@link ChaosStrategy.faults}). */
export interface StrategyFaults {
  /** Kinds drawn from (default: every kind of the catalogue). */
  readonly kinds?: readonly FaultKind[];
  /** At most this many faults per run (default 4). */
  readonly maxFaults?: number;
  /** Relative rates of the kinds in a run's mix (default 1 each; 0 leaves a kind out). */
  readonly weights?: Partial<Record<FaultKind, number>>;
}

/**
 * The user's own roll under chaos: their cluster input, hooks and roll options, played against
 * random failure schedules in the simulator (see docs/chaos.md, "Your own strategy").
 */
export interface ChaosStrategy {
  readonly name: string;
  /** The user's cluster input (what defineCluster takes), or a function of the simulation. */
  readonly cluster: ClusterInput | ((ctx: StrategyContext) => ClusterInput);
  /** The image the roll goes to. Default `TARGET_IMAGE`. */
  readonly targetImage?: string;
  /** Roll options (maxUnavailable, ...) or a function that drives the controller itself. */
  readonly roll?: StrategyRollOptions | StrategyRollFn;
  /** Hooks; they may query the simulated application (ctx.sim.app) or call ctx.sim.aws. */
  readonly hooks?: (ctx: StrategyContext) => Partial<RollHooks>;
  /** Fault kinds and rates to draw from. */
  readonly faults?: StrategyFaults;
  readonly profile?: 'fast' | 'realistic';
}

const problem = (field: string, what: string): Error => new Error(`chaos strategy: ${field} ${what}`);

/**
 * Checks a strategy and returns it (frozen). Every error names the field that is wrong.
 *
 * @example
 * ```ts
 * export default defineStrategy({
 *   name: 'kafka',
 *   cluster: kafkaCluster('ami-0123456789abcdef0'),
 *   roll: { maxUnavailable: 1 },
 *   hooks: ({ sim }) => ({ isLeader: (nodeId) => sim.app.leaderId() === nodeId }),
 *   faults: { kinds: ['kill-instance', 'partition'], maxFaults: 3 },
 * });
 * ```
 */
export function defineStrategy(s: ChaosStrategy): ChaosStrategy {
  if (typeof s !== 'object' || s === null) throw problem('', 'must be an object ({ name, cluster, ... })');
  if (typeof s.name !== 'string' || s.name.trim() === '') throw problem('name', 'must be a non-empty string');
  if (typeof s.cluster !== 'function' && (typeof s.cluster !== 'object' || s.cluster === null)) throw problem('cluster', 'must be a cluster input (what defineCluster takes) or a function of the simulation returning one');
  if (s.targetImage !== undefined && (typeof s.targetImage !== 'string' || !/^ami-[0-9a-f]{8,17}$/.test(s.targetImage))) throw problem('targetImage', `'${String(s.targetImage)}' must be an AMI id (ami-…)`);
  if (s.roll !== undefined && typeof s.roll !== 'function') {
    if (typeof s.roll !== 'object' || s.roll === null) throw problem('roll', 'must be roll options ({ maxUnavailable, ... }) or a function (args, ctx) => Promise');
    const m = s.roll.maxUnavailable;
    if (m !== undefined && (!Number.isInteger(m) || m < 1)) throw problem('roll.maxUnavailable', `${String(m)} must be a whole number ≥ 1`);
    const t = s.roll.replacementTimeoutMs;
    if (t !== undefined && (!Number.isFinite(t) || t <= 0)) throw problem('roll.replacementTimeoutMs', `${String(t)} must be a positive number of ms`);
  }
  if (s.hooks !== undefined && typeof s.hooks !== 'function') throw problem('hooks', 'must be a function (ctx) => hooks, e.g. ({ sim }) => ({ clusterHealthy: () => sim.app.clusterHealthy() })');
  if (s.profile !== undefined && s.profile !== 'fast' && s.profile !== 'realistic') throw problem('profile', `'${String(s.profile)}' must be fast or realistic`);
  const f = s.faults;
  if (f !== undefined) {
    if (typeof f !== 'object' || f === null) throw problem('faults', 'must be { kinds?, maxFaults?, weights? }');
    const unknown = (ks: readonly string[]) => ks.filter((k) => !FAULT_KINDS.includes(k as FaultKind));
    if (f.kinds !== undefined) {
      if (!Array.isArray(f.kinds) || f.kinds.length === 0) throw problem('faults.kinds', 'must be a non-empty list of fault kinds');
      const bad = unknown(f.kinds);
      if (bad.length > 0) throw problem('faults.kinds', `has unknown kind${bad.length === 1 ? '' : 's'} ${bad.join(', ')} (known: ${FAULT_KINDS.join(', ')})`);
    }
    if (f.maxFaults !== undefined && (!Number.isInteger(f.maxFaults) || f.maxFaults < 0)) throw problem('faults.maxFaults', `${String(f.maxFaults)} must be a whole number ≥ 0`);
    if (f.weights !== undefined) {
      const bad = unknown(Object.keys(f.weights));
      if (bad.length > 0) throw problem('faults.weights', `has unknown kind${bad.length === 1 ? '' : 's'} ${bad.join(', ')}`);
      for (const [k, w] of Object.entries(f.weights)) if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw problem(`faults.weights.${k}`, `${String(w)} must be a number ≥ 0`);
      const kinds = f.kinds ?? FAULT_KINDS;
      if (kinds.every((k: FaultKind) => (f.weights?.[k] ?? 1) === 0)) throw problem('faults.weights', 'leaves no kind with a weight above 0');
    }
  }
  return Object.freeze({ ...s });
}

/** How `loadStrategy` imports a module: its absolute path in, its namespace out. */
export type StrategyImporter = (absolutePath: string) => Promise<Record<string, unknown>>;

/**
 * Loads a strategy module (its default export, or a named export `strategy`) and checks it
 * with {@link defineStrategy}. A `.ts` module needs a TypeScript loader: the `berth-chaos` bin
 * passes tsx's `tsImport` as `importer` (which also reads a `.ts` file of a package without
 * `"type": "module"`, as CommonJS).
 *
 * @example
 * ```ts
 * const strategy = await loadStrategy('examples/chaos/kafka-strategy.ts');
 * const summary = await explore({ strategy, runs: 100, seed: 1 });
 * ```
 */
export async function loadStrategy(modulePath: string, importer?: StrategyImporter): Promise<ChaosStrategy> {
  const file = isAbsolute(modulePath) ? modulePath : resolve(modulePath);
  let mod: Record<string, unknown>;
  try {
    mod = importer ? await importer(file) : ((await import(pathToFileURL(file).href)) as Record<string, unknown>);
  } catch (err) {
    throw new Error(`chaos strategy: cannot load ${modulePath}: ${(err as Error).message}`);
  }
  // A CommonJS module (a .ts file outside an ESM package) comes as { default: module.exports }.
  const cjs = (mod['default'] ?? {}) as Record<string, unknown>;
  const looksLike = (x: unknown): x is ChaosStrategy => typeof x === 'object' && x !== null && 'cluster' in x;
  const s = [mod['default'], mod['strategy'], cjs['default'], cjs['strategy']].find(looksLike);
  if (s === undefined) throw new Error(`chaos strategy: ${modulePath} exports no strategy (export default defineStrategy({...}), or export const strategy = ...)`);
  return defineStrategy(s);
}
