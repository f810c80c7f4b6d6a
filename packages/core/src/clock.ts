/**
 * Time, injected. Core never reads the wall clock or starts a global timer: the simulator
 * passes a virtual clock, the AWS driver a real one (`createSystemClock` in
 * `@berth/aws-driver`).
 */
export interface Clock {
  /** Milliseconds since the Unix epoch (virtual in the simulator). */
  now(): number;
  /** Resolves after `ms`; rejects with a `BerthAbortError` as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Optional: calls `fn` after `ms` unless the returned function is called first. Cheaper
   * than `sleep` with an AbortController for timeouts that rarely fire; core uses it when
   * present.
   */
  setTimer?(ms: number, fn: () => void): () => void;
}
