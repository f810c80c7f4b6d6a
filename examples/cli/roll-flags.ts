/**
 * The roll's flags, parsed by commander, turned into the controller's `RollOptions` — and checked
 * against the spec (node ids) before any cloud call.
 */
import { InvalidArgumentError } from 'commander';
import type { ClusterSpec, RollOptions } from '@berth/core';
import { UsageError } from './cli-errors.js';

export interface RollFlags {
  readonly maxUnavailable: number;
  /** `--canary` alone is `true` (one node); `--canary 2` is 2. */
  readonly canary: boolean | number;
  readonly canaryHold: number | null;
  readonly bake: number;
  readonly checkpoint: readonly number[];
  readonly onFailure: 'rollback' | 'hold';
  readonly skip: readonly string[];
  readonly waves: 'balanced' | 'az';
  readonly replacementTimeout: number;
  readonly healthTimeout: number;
  readonly retryFailed: boolean;
}

/** A whole number ≥ `min` (and ≤ `max`), for commander's `argParser`. */
export const wholeNumber = (flag: string, min: number, max = Number.MAX_SAFE_INTEGER) => (v: string): number => {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new InvalidArgumentError(`${flag} must be a whole number${max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : ` ≥ ${min}`}; got '${v}'.`);
  }
  return n;
};

/** `--canary [nodes]`: a node count when given. Commander takes the next word as its value, even a file name. */
export function parseCanary(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) {
    throw new InvalidArgumentError(`--canary takes an optional node count (a whole number ≥ 1); got '${v}'. Write the spec file before --canary, or give the count (--canary 1).`);
  }
  return Number(v);
}

/** `--checkpoint <percent>`, repeatable: `25` or `25%`, from 1 to 99. */
export function collectCheckpoint(v: string, previous: readonly number[]): number[] {
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(v.trim());
  const n = m ? Number(m[1]) : NaN;
  if (!(n >= 1 && n <= 99)) throw new InvalidArgumentError(`--checkpoint must be a percentage of the nodes to roll, from 1 to 99 (e.g. 25 or 25%); got '${v}'.`);
  return [...previous, n];
}

/** A repeatable flag's values, in order. */
export const collect = (v: string, previous: readonly string[]): string[] => [...previous, v];

/** The flags as `RollOptions`. Throws {@link UsageError} for node ids the spec lacks. */
export function rollOptionsFrom(flags: RollFlags, spec: ClusterSpec): RollOptions {
  const ids = spec.nodes.map((n) => n.id);
  const unknown = flags.skip.filter((id) => !ids.includes(id));
  if (unknown.length > 0) {
    throw new UsageError(`--skip ${unknown.join(', ')}: no such node in cluster ${spec.name} (its nodes: ${ids.join(', ')}).`);
  }
  const canaryNodes = flags.canary === false ? (flags.canaryHold !== null ? 1 : 0) : flags.canary === true ? 1 : flags.canary;
  if (canaryNodes > ids.length) {
    throw new UsageError(`--canary ${canaryNodes}: cluster ${spec.name} has ${ids.length} nodes; a canary is fewer nodes than the cluster.`);
  }
  const checkpoints = [...new Set(flags.checkpoint)].sort((a, b) => a - b);
  return {
    maxUnavailable: flags.maxUnavailable,
    // --canary-hold implies a canary of one node.
    ...(canaryNodes > 0 && { canary: { nodes: canaryNodes, ...(flags.canaryHold !== null && { holdMs: flags.canaryHold }) } }),
    ...(flags.bake > 0 && { bakeMs: flags.bake }),
    ...(checkpoints.length > 0 && { checkpoints }),
    onFailure: flags.onFailure,
    ...(flags.skip.length > 0 && { skip: [...new Set(flags.skip)] }),
    waves: flags.waves,
    replacementTimeoutMs: flags.replacementTimeout,
    healthTimeoutMs: flags.healthTimeout,
    ...(flags.retryFailed && { retryFailed: true }),
  };
}

/** The roll will hold for an approval: a canary without a hold time, or a checkpoint. */
export function holdsForApproval(options: RollOptions): boolean {
  const canaryWaits = options.canary !== undefined && options.canary !== false && (options.canary === true || options.canary.holdMs === undefined);
  return canaryWaits || (options.checkpoints?.length ?? 0) > 0;
}
