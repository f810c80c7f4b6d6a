import type { TraceEntry } from '@berth/sim-driver';
import { quorumSafetyAt } from './check-quorum-safety.js';
import { singleAttachTracker } from './check-single-attach.js';
import type { ChaosEvidence, InvariantId, Violation } from './evidence.js';

/**
 * The invariants a {@link liveMonitor} checks at every trace entry (the others are checked at the scenario's steps).
 *
 * @example
 * ```ts
 * const monitor = liveMonitor(() => evidence, LIVE_INVARIANTS);
 * ```
 */
export const LIVE_INVARIANTS: readonly InvariantId[] = ['quorum-safety', 'single-attach'];

/** Where a live check first found a violation: the trace entry it came with. */
export interface LiveHit {
  readonly seq: number;
  readonly kind: string;
  readonly atMs: number;
  readonly violations: readonly Violation[];
}

/** Checks the state-based safety invariants after every trace entry (`liveMonitor`); the first violation is kept as a `LiveHit`. */
export interface LiveMonitor {
  /** Feed every trace entry, in order (e.g. `sim.onTrace(monitor.onTrace)`). */
  readonly onTrace: (e: TraceEntry) => void;
  /** The first entry at which a live invariant broke, or null. */
  hit(): LiveHit | null;
}

/**
 * Checks the state-based safety invariants after every trace entry, in constant work per entry
 * (plus one look back per new disruptive call that leaves fewer than quorum): single attach from
 * the volumes' current holders, quorum safety over the driver calls made since the last entry.
 * The full, history-based checkers still run at the scenario's steps and judge the result; this
 * one says as soon as it happens, and where (the entry's `seq`).
 *
 * @example
 * ```ts
 * const monitor = liveMonitor(() => evidence(), ['quorum-safety', 'single-attach'], (hit) => stop(hit));
 * sim.onTrace(monitor.onTrace);
 * ```
 */
export function liveMonitor(evidence: () => ChaosEvidence, only: readonly InvariantId[] = LIVE_INVARIANTS, onHit?: (hit: LiveHit) => void): LiveMonitor {
  const attach = only.includes('single-attach') ? singleAttachTracker() : null;
  const quorum = only.includes('quorum-safety');
  let seen = 0;
  let first: LiveHit | null = null;
  const onTrace = (e: TraceEntry): void => {
    const found: Violation[] = [];
    const v = attach?.feed(e);
    if (v) found.push(v);
    if (quorum) {
      const ev = evidence();
      for (; seen < ev.calls.length; seen++) {
        const r = quorumSafetyAt(ev, seen);
        if (r?.violation) found.push(r.violation);
      }
    }
    if (found.length > 0 && first === null) {
      first = { seq: e.seq, kind: e.kind, atMs: e.atMs, violations: found };
      onHit?.(first);
    }
  };
  return { onTrace, hit: () => first };
}
