/**
 * The controller's stated bounds. The chaos checkers hold the controller to them (a disruption
 * decided on a view older than {@link DEFAULT_FRESHNESS_MS} is the controller's fault, whatever
 * happened in the world meanwhile).
 */

/**
 * The oldest view a disruption may be decided on: before every `replaceInstance` the controller
 * looks again unless its last look completed at most this long ago, and re-plans on that look.
 */
export const DEFAULT_FRESHNESS_MS = 10_000;

export type HookName = 'isLeader' | 'clusterHealthy' | 'beforeReplace' | 'afterReplace' | 'approve' | 'confirmUnmanagedStopped' | 'addMember' | 'removeMember';

/**
 * How long each hook may run before the roll halts naming the hook and the node. The hook's
 * `ctx.signal` fires at that moment (and on abort); a hook that ignores it is left behind.
 */
export const DEFAULT_HOOK_TIMEOUTS_MS: Readonly<Record<HookName, number>> = Object.freeze({
  isLeader: 30_000,
  clusterHealthy: 60_000,
  beforeReplace: 1_800_000,
  afterReplace: 1_800_000,
  approve: 60_000,
  // The hook may stop or terminate the unmanaged instance itself and wait for it.
  confirmUnmanagedStopped: 1_800_000,
  addMember: 600_000,
  removeMember: 3_600_000,
});

/**
 * After an abort, `roll()` settles within this long: the abort reaches every wait, hook and
 * driver call at once, and the lease release that follows gets at most this much time.
 */
export const ABORT_SETTLE_BOUND_MS = 5_000;
