import { BerthDriverError } from '../errors.js';
import type { Prng } from '../prng.js';

/**
 * Paces the looks of many `watch()` loops in one process: `createFleet()` passes one shared by
 * its clusters so their observations stay within an API budget (and, with `alignLooksMs`, start
 * on the same ticks; docs/fleet.md says why that does not yet share describes).
 */
export interface WatchPacer {
  /** Resolves when the watch may look now; rejects with the abort reason when `signal` aborts. */
  look(signal: AbortSignal): Promise<void>;
}

/** Longest pause between two looks of `watch()` when the driver sends change notifications (it looks sooner on a relevant change). */
export const DEFAULT_WATCH_INTERVAL_MS = 60_000;
/** How often `watch()` takes a full look (DNS records, network interfaces, volumes, scheduled events, target groups). */
export const DEFAULT_FULL_LOOK_INTERVAL_MS = 300_000;
/** First pause after a throttled look. */
export const DEFAULT_THROTTLE_BASE_MS = 5_000;
/** Longest pause after throttled looks. */
export const DEFAULT_THROTTLE_MAX_MS = 300_000;

/** The throttling driver error in `err` or its causes, if any. */
export function throttlingError(err: unknown): BerthDriverError | null {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof BerthDriverError && e.throttling) return e;
  }
  return null;
}

/**
 * Exponential backoff with "equal jitter": the `attempt`th pause (from 1) is between half and
 * all of `min(maxMs, baseMs × 2^(attempt−1))`, drawn from `prng` — never zero, never in step
 * with another watch that was throttled at the same moment.
 */
export function throttleBackoffMs(attempt: number, baseMs: number, maxMs: number, prng: Prng): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.floor(cap / 2 + (prng.next() * cap) / 2);
}
