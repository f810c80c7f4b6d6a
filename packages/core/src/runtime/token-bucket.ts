import type { Clock } from '../clock.js';

/**
 * Client-side rate limiter: a token bucket on the injected clock. `take()` resolves when a
 * token is available, waiting on the clock when the bucket is empty.
 */
export class TokenBucket {
  readonly #clock: Clock;
  readonly #ratePerSec: number;
  readonly #burst: number;
  #tokens: number;
  #updatedAtMs: number;

  constructor(clock: Clock, options: { ratePerSec: number; burst: number }) {
    if (!(options.ratePerSec > 0) || !(options.burst >= 1)) {
      throw new RangeError(`TokenBucket needs ratePerSec > 0 and burst >= 1; got ${options.ratePerSec}, ${options.burst}`);
    }
    this.#clock = clock;
    this.#ratePerSec = options.ratePerSec;
    this.#burst = options.burst;
    this.#tokens = options.burst;
    this.#updatedAtMs = clock.now();
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsedMs = Math.max(0, now - this.#updatedAtMs);
    this.#tokens = Math.min(this.#burst, this.#tokens + (elapsedMs * this.#ratePerSec) / 1000);
    this.#updatedAtMs = now;
  }

  /** Takes one token if one is available now (no promise, no wait); false when the bucket is empty. */
  tryTake(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Takes one token, waiting as long as needed. Returns how long it waited (ms). */
  async take(signal?: AbortSignal): Promise<number> {
    let waitedMs = 0;
    for (;;) {
      this.#refill();
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return waitedMs;
      }
      const needMs = Math.ceil(((1 - this.#tokens) * 1000) / this.#ratePerSec);
      await this.#clock.sleep(needMs, signal);
      waitedMs += needMs;
    }
  }

  /** Tokens available now (for tests and stats). */
  available(): number {
    this.#refill();
    return this.#tokens;
  }
}
