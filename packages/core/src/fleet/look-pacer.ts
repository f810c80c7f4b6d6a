import type { Clock } from '../clock.js';
import type { WatchPacer } from '../controller/watch-pacing.js';

/** Settings of {@link LookPacer}. */
export interface LookPacerOptions {
  /** Looks per second across every watch sharing the pacer. */
  readonly looksPerSecond: number;
  /** Looks that may start at once after a quiet spell. */
  readonly burst: number;
  /**
   * When set, every look starts on a multiple of this many ms of the clock: looks due within
   * one tick start together. The AWS driver shares describes only among `observe()` calls of one
   * synchronous run, which watches started together do not make (docs/fleet.md), so this only
   * bunches looks today. Default: none (looks are spread evenly).
   */
  readonly alignMs?: number;
}

/**
 * The fleet's shared pace of looks: a token bucket in the form of a "theoretical arrival
 * time" (GCRA). Each `look()` reserves the next slot at once — concurrent callers get
 * successive slots, in call order — and sleeps on the injected clock until it. A look given up
 * (its signal aborted) leaves its slot unused.
 */
export class LookPacer implements WatchPacer {
  readonly #clock: Clock;
  readonly #spacingMs: number;
  readonly #toleranceMs: number;
  readonly #alignMs: number;
  #nextMs = -Infinity;

  constructor(clock: Clock, options: LookPacerOptions) {
    this.#clock = clock;
    this.#spacingMs = 1000 / options.looksPerSecond;
    this.#toleranceMs = Math.max(0, options.burst - 1) * this.#spacingMs;
    this.#alignMs = options.alignMs ?? 0;
  }

  async look(signal: AbortSignal): Promise<void> {
    const now = this.#clock.now();
    const tat = Math.max(this.#nextMs, now);
    let at = Math.max(now, tat - this.#toleranceMs);
    if (this.#alignMs > 0) at = Math.ceil(at / this.#alignMs) * this.#alignMs;
    this.#nextMs = tat + this.#spacingMs;
    if (at > now) await this.#clock.sleep(at - now, signal);
    else if (signal.aborted) throw signal.reason;
  }
}
