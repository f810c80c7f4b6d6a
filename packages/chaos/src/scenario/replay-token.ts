import { FAULT_KINDS } from '../faults/fault-catalogue.js';
import type { FaultKind } from '../faults/fault.js';
import type { RandomScenarioOptions } from './random-scenario.js';

/** Everything `randomScenario` needs to draw one scenario again: its seed and the generator's options. */
export interface ReplayRecipe {
  readonly seed: number;
  readonly profile: 'fast' | 'realistic';
  readonly sizes: readonly number[];
  readonly maxFaults: number;
  /** The fault kinds drawn from; null: every kind (the default). */
  readonly kinds: readonly FaultKind[] | null;
}

/** The recipe of `seed` under `options`, with the generator's defaults made explicit. */
export function replayRecipe(seed: number, options: RandomScenarioOptions = {}): ReplayRecipe {
  return { seed, profile: options.profile ?? 'fast', sizes: [...(options.sizes ?? [3, 5])], maxFaults: options.maxFaults ?? 4, kinds: options.kinds ? [...options.kinds] : null };
}

/**
 * A replay token: `SEED/PROFILE/SIZES/MAX_FAULTS[/KINDS]`, e.g. `300123/fast/3.5/4`, sizes and
 * kinds joined by `.`. It carries every option the scenario was drawn with, so
 * `pnpm chaos --replay TOKEN` draws the same scenario whatever other flags say.
 */
export function replayToken(recipe: ReplayRecipe): string {
  const parts = [String(recipe.seed), recipe.profile, recipe.sizes.join('.'), String(recipe.maxFaults)];
  if (recipe.kinds) parts.push(recipe.kinds.join('.'));
  return parts.join('/');
}

/** Reads a replay token back; throws an Error naming the part that is wrong. */
export function parseReplayToken(token: string): ReplayRecipe {
  const parts = token.split('/');
  if (parts.length < 4 || parts.length > 5) throw new Error(`replay token '${token}' must be SEED/PROFILE/SIZES/MAX_FAULTS[/KINDS], e.g. 300123/fast/3.5/4`);
  const [seedText, profile, sizesText, maxFaultsText, kindsText] = parts as [string, string, string, string, string | undefined];
  const seed = Number(seedText);
  if (!/^\d+$/.test(seedText) || !Number.isSafeInteger(seed)) throw new Error(`replay token '${token}': the seed '${seedText}' must be a whole number`);
  if (profile !== 'fast' && profile !== 'realistic') throw new Error(`replay token '${token}': the profile '${profile}' must be fast or realistic`);
  const sizes = sizesText.split('.').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 3 || n % 2 === 0)) throw new Error(`replay token '${token}': the sizes '${sizesText}' must be odd node counts of at least 3, joined by '.'`);
  const maxFaults = Number(maxFaultsText);
  if (!/^\d+$/.test(maxFaultsText)) throw new Error(`replay token '${token}': the fault count '${maxFaultsText}' must be a whole number`);
  let kinds: FaultKind[] | null = null;
  if (kindsText !== undefined) {
    kinds = kindsText.split('.') as FaultKind[];
    const unknown = kinds.filter((k) => !FAULT_KINDS.includes(k));
    if (unknown.length > 0 || kinds.length === 0) throw new Error(`replay token '${token}': unknown fault kind${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')} (known: ${FAULT_KINDS.join(', ')})`);
  }
  return { seed, profile, sizes, maxFaults, kinds };
}

/** The generator options of a recipe, for `randomScenario(recipe.seed, ...)`. */
export function recipeOptions(recipe: ReplayRecipe): RandomScenarioOptions {
  return { profile: recipe.profile, sizes: recipe.sizes, maxFaults: recipe.maxFaults, ...(recipe.kinds && { kinds: recipe.kinds }) };
}

/**
 * A strategy run's replay token: `SEED@MODULE` (the module path as given to `berth-chaos run`).
 * The module carries everything else (cluster, roll, hooks, fault mix, profile).
 *
 * @example
 * ```ts
 * strategyToken(41, 'examples/chaos/kafka-strategy.ts'); // '41@examples/chaos/kafka-strategy.ts'
 * ```
 */
export function strategyToken(seed: number, modulePath: string): string {
  return `${seed}@${modulePath}`;
}

/**
 * Reads a `SEED@MODULE` token back (null when `token` has no `@`: a built-in scenario's token).
 *
 * @example
 * ```ts
 * parseStrategyToken('41@examples/chaos/kafka-strategy.ts'); // { seed: 41, module: 'examples/chaos/kafka-strategy.ts' }
 * ```
 */
export function parseStrategyToken(token: string): { readonly seed: number; readonly module: string } | null {
  const at = token.indexOf('@');
  if (at < 0) return null;
  const seedText = token.slice(0, at);
  const module = token.slice(at + 1);
  if (!/^\d+$/.test(seedText) || !Number.isSafeInteger(Number(seedText))) throw new Error(`replay token '${token}': the seed '${seedText}' must be a whole number (SEED@MODULE)`);
  if (module === '') throw new Error(`replay token '${token}': the strategy module is missing (SEED@MODULE)`);
  return { seed: Number(seedText), module };
}
