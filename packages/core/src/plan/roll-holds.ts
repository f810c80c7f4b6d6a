import { BerthConfigError, type ConfigIssue } from '../errors.js';

/**
 * Where a roll stops to let people (or an `approve` hook) look: after its canary and at its
 * checkpoints. Pure: the runtime and the plan both decide holds with these functions.
 */
export interface HoldPolicy {
  /** Nodes in the canary (replaced first, then a hold); null: no canary. */
  readonly canaryNodes: number | null;
  /** The canary's hold: bake this long (health watched), then go on. Null: wait for `resume()` / `approve`. */
  readonly canaryHoldMs: number | null;
  /** Percentages of the nodes to roll after which the roll pauses, ascending, each in (0, 100). */
  readonly checkpoints: readonly number[];
  /** Bake time after every batch (health watched throughout). */
  readonly bakeMs: number;
}

export const NO_HOLDS: HoldPolicy = Object.freeze({ canaryNodes: null, canaryHoldMs: null, checkpoints: [], bakeMs: 0 });

export interface HoldDue {
  readonly kind: 'canary' | 'checkpoint';
  /** The checkpoint's percentage (the largest one just passed), for `checkpoint`. */
  readonly percent: number | null;
  /** How long the hold lasts by itself; null: until `resume()` or `approve`. */
  readonly holdMs: number | null;
}

/**
 * Validates and resolves the roll options that make holds. Throws a `BerthConfigError` naming
 * the option before anything is touched.
 */
export function resolveHoldPolicy(options: {
  readonly canary?: boolean | { readonly nodes?: number; readonly holdMs?: number };
  readonly bakeMs?: number;
  readonly checkpoints?: readonly number[];
}): HoldPolicy {
  const issues: ConfigIssue[] = [];
  let canaryNodes: number | null = null;
  let canaryHoldMs: number | null = null;
  const c = options.canary;
  if (c === true) canaryNodes = 1;
  else if (c && typeof c === 'object') {
    canaryNodes = c.nodes ?? 1;
    if (!Number.isInteger(canaryNodes) || canaryNodes < 1) issues.push({ path: 'canary.nodes', message: `must be a whole number of nodes, at least 1 (got ${String(c.nodes)})` });
    if (c.holdMs !== undefined) {
      if (!Number.isFinite(c.holdMs) || c.holdMs < 0) issues.push({ path: 'canary.holdMs', message: `must be a duration in ms, 0 or more (got ${String(c.holdMs)}); leave it out to hold until resume() or the approve hook` });
      else canaryHoldMs = c.holdMs;
    }
  } else if (c !== undefined && c !== false) {
    issues.push({ path: 'canary', message: 'must be true, false or { nodes?, holdMs? }' });
  }
  const bakeMs = options.bakeMs ?? 0;
  if (!Number.isFinite(bakeMs) || bakeMs < 0) issues.push({ path: 'bakeMs', message: `must be a duration in ms, 0 or more (got ${String(options.bakeMs)})` });
  const checkpoints = [...(options.checkpoints ?? [])];
  for (const [i, p] of checkpoints.entries()) {
    if (!Number.isFinite(p) || p <= 0 || p >= 100) issues.push({ path: `checkpoints[${i}]`, message: `must be a percentage of the nodes to roll, above 0 and below 100 (got ${String(p)})` });
  }
  if (new Set(checkpoints).size !== checkpoints.length) issues.push({ path: 'checkpoints', message: 'lists a percentage twice' });
  if (issues.length > 0) throw new BerthConfigError(issues, 'roll options');
  return { canaryNodes, canaryHoldMs, checkpoints: checkpoints.sort((a, b) => a - b), bakeMs };
}

/** How many nodes the next batch may take while the canary is not done: the canary's remainder. */
export function canaryCap(policy: HoldPolicy, replaced: number): number | null {
  if (policy.canaryNodes === null || replaced >= policy.canaryNodes) return null;
  return policy.canaryNodes - replaced;
}

/**
 * The hold due after a batch brought the replaced count from `before` to `after` of `total`:
 * the canary once it is complete, else the largest checkpoint crossed. None once every node is
 * replaced (the roll is done: nothing left to hold for).
 */
export function holdDue(policy: HoldPolicy, before: number, after: number, total: number): HoldDue | null {
  if (after >= total || after <= before) return null;
  if (policy.canaryNodes !== null && before < policy.canaryNodes && after >= policy.canaryNodes) {
    return { kind: 'canary', percent: null, holdMs: policy.canaryHoldMs };
  }
  const crossed = policy.checkpoints.filter((p) => before * 100 < p * total && after * 100 >= p * total);
  if (crossed.length === 0) return null;
  return { kind: 'checkpoint', percent: crossed[crossed.length - 1] as number, holdMs: null };
}
