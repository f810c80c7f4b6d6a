import type { BucketLimits } from './options.js';

/** AWS-style token bucket: starts full, refills continuously, one token per call. */
export class TokenBucket {
  #tokens: number;
  #lastMs: number;
  readonly limits: BucketLimits;

  constructor(limits: BucketLimits, nowMs: number) {
    this.limits = limits;
    this.#tokens = limits.capacity;
    this.#lastMs = nowMs;
  }

  tryTake(nowMs: number): boolean {
    const refill = ((nowMs - this.#lastMs) / 1000) * this.limits.refillPerSec;
    this.#tokens = Math.min(this.limits.capacity, this.#tokens + refill);
    this.#lastMs = nowMs;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  tokens(nowMs: number): number {
    return Math.min(this.limits.capacity, this.#tokens + ((nowMs - this.#lastMs) / 1000) * this.limits.refillPerSec);
  }
}
