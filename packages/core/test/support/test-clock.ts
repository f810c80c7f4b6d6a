import { BerthAbortError, type Clock } from '@berth/core';

/**
 * A clock for unit tests. A sleep shorter than `parkFromMs` advances virtual time at once
 * (after a microtask), so code that backs off runs instantly; a longer one (a timeout guard)
 * is parked until aborted, so it never fires by accident. `slept` records the short sleeps.
 */
export class TestClock implements Clock {
  #now: number;
  readonly slept: number[] = [];
  readonly parkFromMs: number;
  constructor(options: { startMs?: number; parkFromMs?: number } = {}) {
    this.#now = options.startMs ?? 1_700_000_000_000;
    this.parkFromMs = options.parkFromMs ?? 60_000;
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new BerthAbortError());
    if (ms >= this.parkFromMs) {
      return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new BerthAbortError()), { once: true }));
    }
    this.slept.push(ms);
    return Promise.resolve().then(() => {
      if (signal?.aborted) throw new BerthAbortError();
      this.#now += ms;
    });
  }
}
