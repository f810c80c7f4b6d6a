import type { Clock } from '../clock.js';
import { BerthAbortError, BerthHookError, isAbortError, throwIfAborted } from '../errors.js';
import type { HookContext } from '../hooks.js';
import type { ClusterObservation } from '../observation.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import { DEFAULT_HOOK_TIMEOUTS_MS, type HookName } from './roll-defaults.js';

/** Settles with the hook's own outcome, or with why it was cut off. */
type Outcome<T> = { readonly kind: 'done'; readonly value: T } | { readonly kind: 'threw'; readonly error: unknown } | { readonly kind: 'timeout' } | { readonly kind: 'aborted' };

/**
 * Runs user hooks with bounds: each call gets its own `ctx.signal`, which fires when the hook's
 * timeout passes or the roll is aborted; the caller stops waiting at that moment whether or not
 * the hook honours the signal (a hook that ignores it is left behind, its result discarded).
 * A throw becomes `HOOK_FAILED`, a timeout `HOOK_TIMEOUT`, both naming the hook and the node.
 */
export class HookRunner {
  readonly #clock: Clock;
  readonly #spec: ClusterSpec;
  readonly #timeouts: Readonly<Record<HookName, number>>;

  constructor(clock: Clock, spec: ClusterSpec, timeouts: Partial<Record<HookName, number>> = {}) {
    this.#clock = clock;
    this.#spec = spec;
    this.#timeouts = { ...DEFAULT_HOOK_TIMEOUTS_MS, ...timeouts };
  }

  timeoutOf(name: HookName): number {
    return this.#timeouts[name];
  }

  async run<T>(
    name: HookName,
    nodeId: string | null,
    observation: ClusterObservation,
    signal: AbortSignal,
    fn: ((ctx: HookContext) => T | Promise<T>) | undefined,
    fallback: T,
    options: { touched?: boolean; disrupting?: readonly string[] } = {},
  ): Promise<T> {
    if (!fn) return fallback;
    throwIfAborted(signal);
    const timeoutMs = this.#timeouts[name];
    const own = new AbortController();
    const onAbort = () => own.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const ctx: HookContext = { spec: this.#spec, observation, signal: own.signal, disrupting: options.disrupting ?? [] };
    let settle!: (o: Outcome<T>) => void;
    const outcome = new Promise<Outcome<T>>((resolve) => (settle = resolve));
    // Called synchronously: a hook that answers (or throws) at once needs no timer.
    let result: T | Promise<T>;
    try {
      result = fn(ctx);
    } catch (error) {
      signal.removeEventListener('abort', onAbort);
      throw this.#failure(name, nodeId, error, signal, options);
    }
    if (!isPromiseLike(result)) {
      signal.removeEventListener('abort', onAbort);
      return result;
    }
    const timer = new AbortController();
    this.#clock.sleep(timeoutMs, timer.signal).then(
      () => {
        settle({ kind: 'timeout' });
        own.abort(new BerthAbortError(`hook '${name}' timed out after ${timeoutMs} ms`));
      },
      () => undefined,
    );
    own.signal.addEventListener('abort', () => settle({ kind: 'aborted' }), { once: true });
    try {
      result.then(
        (value) => settle({ kind: 'done', value }),
        (error: unknown) => settle({ kind: 'threw', error }),
      );
      const o = await outcome;
      switch (o.kind) {
        case 'done':
          return o.value;
        case 'threw':
          throw this.#failure(name, nodeId, o.error, signal, options);
        case 'timeout':
          throw new BerthHookError(name, nodeId, new Error(`no answer within ${timeoutMs} ms`), { touched: options.touched, timeoutMs });
        case 'aborted':
          throwIfAborted(signal);
          throw new BerthAbortError(`hook '${name}' was aborted`);
      }
    } finally {
      timer.abort();
      signal.removeEventListener('abort', onAbort);
    }
  }

  #failure(name: HookName, nodeId: string | null, error: unknown, signal: AbortSignal, options: { touched?: boolean }): unknown {
    if (isAbortError(error) && signal.aborted) return error;
    return new BerthHookError(name, nodeId, error, { touched: options.touched });
  }
}

function isPromiseLike<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}
