import { throwIfAborted, type ClusterObservation, type ClusterSpec, type ObserveScope } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { observeClusters } from './observe.js';
import type { ObservationCache } from './observe-cache.js';

interface Waiter {
  readonly spec: ClusterSpec;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (o: ClusterObservation) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Coalesces the driver's `observe()` calls: the calls of one scope that arrive before the
 * current synchronous run ends (e.g. a fleet's `Promise.all` over its clusters) share one set of
 * describes ({@link observeClusters}); each caller gets its own cluster's observation. A lone
 * call is observed as before, with its signal; in a shared look a caller whose signal aborts is
 * rejected at once while the look goes on for the others. Deterministic: the batch closes on a
 * microtask, not a timer.
 */
export class ObserveBatcher {
  readonly #ctx: AwsContext;
  readonly #cache: ObservationCache;
  readonly #queues = new Map<ObserveScope, Waiter[]>();

  constructor(ctx: AwsContext, cache: ObservationCache) {
    this.#ctx = ctx;
    this.#cache = cache;
  }

  /** The cluster's observation, from a look shared with the other calls of this scope and tick. */
  observe(spec: ClusterSpec, scope: ObserveScope, signal: AbortSignal | undefined): Promise<ClusterObservation> {
    throwIfAborted(signal);
    return new Promise<ClusterObservation>((resolve, reject) => {
      let queue = this.#queues.get(scope);
      if (!queue) {
        this.#queues.set(scope, (queue = []));
        queueMicrotask(() => this.#flush(scope));
      }
      queue.push({ spec, signal, resolve, reject });
    });
  }

  #flush(scope: ObserveScope): void {
    const waiters = this.#queues.get(scope) ?? [];
    this.#queues.delete(scope);
    const lone = waiters.length === 1 ? waiters[0] : undefined;
    const settled = new Set<Waiter>();
    const cleanups: (() => void)[] = [];
    const settle = (w: Waiter, f: () => void) => {
      if (settled.has(w)) return;
      settled.add(w);
      f();
    };
    if (!lone) {
      for (const w of waiters) {
        const signal = w.signal;
        if (!signal) continue;
        const onAbort = () => settle(w, () => w.reject(abortError(signal)));
        if (signal.aborted) onAbort();
        else {
          signal.addEventListener('abort', onAbort, { once: true });
          cleanups.push(() => signal.removeEventListener('abort', onAbort));
        }
      }
    }
    const done = () => cleanups.forEach((c) => c());
    observeClusters(
      this.#ctx,
      waiters.map((w) => w.spec),
      scope,
      lone?.signal,
      this.#cache,
    ).then(
      (observations) => {
        done();
        waiters.forEach((w, i) => settle(w, () => w.resolve(observations[i] as ClusterObservation)));
      },
      (err: unknown) => {
        done();
        waiters.forEach((w) => settle(w, () => w.reject(err)));
      },
    );
  }
}

function abortError(signal: AbortSignal): unknown {
  try {
    throwIfAborted(signal);
  } catch (err) {
    return err;
  }
  return new Error('aborted');
}
