import type { Clock } from '@berth/core';
import type { Scheduler } from './scheduler.js';

/** The virtual {@link Clock}: `now()` is virtual epoch time, `sleep` waits on the event queue. */
export class SimClock implements Clock {
  readonly #scheduler: Scheduler;
  constructor(scheduler: Scheduler) {
    this.#scheduler = scheduler;
  }
  now(): number {
    return this.#scheduler.nowMs;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.#scheduler.sleep(ms, signal, 'clock.sleep');
  }
  setTimer(ms: number, fn: () => void): () => void {
    const ev = this.#scheduler.after(ms, 'clock.timer', fn);
    return () => this.#scheduler.cancel(ev);
  }
}
