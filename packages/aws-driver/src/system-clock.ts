import { BerthAbortError, type Clock } from '@berth/core';

/**
 * The real clock for runs against AWS: `Date.now()` and `setTimeout`, with abort. Core never
 * reads the wall clock itself; pass this to `createController` and `createAwsDriver`.
 *
 * @example
 * ```ts
 * const clock = createSystemClock();
 * await clock.sleep(1000, controller.signal);
 * ```
 */
export function createSystemClock(): Clock {
  return Object.freeze({
    now: () => Date.now(),
    sleep: (ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(abortError(signal));
          return;
        }
        const onAbort = () => {
          clearTimeout(timer);
          reject(abortError(signal as AbortSignal));
        };
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, Math.max(0, ms));
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
  });
}

function abortError(signal: AbortSignal): BerthAbortError {
  const r: unknown = signal.reason;
  return new BerthAbortError(r instanceof Error ? `Aborted: ${r.message}` : 'The operation was aborted.', { cause: r });
}
