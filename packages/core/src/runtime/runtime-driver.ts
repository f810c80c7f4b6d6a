import type { Clock } from '../clock.js';
import type {
  ClusterChange,
  DeleteNodeResult,
  DnsRecordSet,
  Driver,
  DriverCallOptions,
  DriverCapabilities,
  EnsureNodeOptions,
  EnsureNodeResult,
  ObserveOptions,
  ResourceChange,
  TargetGroupObservation,
  WaitForChangeOptions,
} from '../driver.js';
import { BerthAbortError, BerthCapabilityError, BerthDriverError, BerthTimeoutError, throwIfAborted } from '../errors.js';
import type { AdoptionCheck, AdoptionSource } from '../adoption.js';
import type { Lease, LockDriver, LockOptions } from '../lock.js';
import type { ClusterObservation } from '../observation.js';
import type { VolumeModificationRecord, VolumeTarget } from '../plan/plan-volume-changes.js';
import type { Prng } from '../prng.js';
import type { ClusterSpec, DeletionPolicy } from '../spec/cluster-spec.js';
import { TokenBucket } from './token-bucket.js';

export interface RetryOptions {
  /** Attempts in all, the first included. Default 6. */
  readonly maxAttempts: number;
  /** Backoff base; attempt k waits a random time in [0, min(maxDelayMs, baseDelayMs·2^k)). Default 250. */
  readonly baseDelayMs: number;
  /** Default 20 000. */
  readonly maxDelayMs: number;
}

export interface RuntimeOptions {
  readonly clock: Clock;
  /** Jitter source. */
  readonly prng: Prng;
  readonly retry?: Partial<RetryOptions>;
  /** Client-side rate limit over all driver operations. Default 20/s, burst 40. */
  readonly rateLimit?: { readonly ratePerSec: number; readonly burst: number } | false;
  /** Per-operation timeout (one attempt). Default 120 000 ms; `waitForChange` gets its own wait on top. */
  readonly timeoutMs?: number;
  /** Called on every retry, for logging. */
  readonly onRetry?: (e: { operation: string; attempt: number; delayMs: number; error: BerthDriverError }) => void;
}

export interface OperationStats {
  calls: number;
  attempts: number;
  retries: number;
  failures: number;
  throttled: number;
}

/** The reason a finished attempt cancels its timeout timer with: one shared object, no stack to capture per call. */
const TIMER_NOT_NEEDED = new BerthAbortError('timeout timer no longer needed');

/**
 * Core's wrapper around every driver (after kysely's RuntimeDriver): retries with backoff and
 * full jitter for retryable driver errors, a client-side token bucket, a timeout per attempt,
 * abort handling and per-operation accounting. Drivers stay simple; this logic lives once.
 */
export class RuntimeDriver implements Driver {
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  readonly lock: LockDriver;
  readonly inner: Driver;
  readonly #clock: Clock;
  readonly #prng: Prng;
  readonly #retry: RetryOptions;
  readonly #bucket: TokenBucket | null;
  readonly #timeoutMs: number;
  readonly #onRetry: RuntimeOptions['onRetry'];
  readonly #stats = new Map<string, OperationStats>();

  constructor(driver: Driver, options: RuntimeOptions) {
    this.inner = driver;
    this.name = driver.name;
    this.capabilities = driver.capabilities;
    this.#clock = options.clock;
    this.#prng = options.prng;
    this.#retry = { maxAttempts: 6, baseDelayMs: 250, maxDelayMs: 20_000, ...options.retry };
    this.#bucket = options.rateLimit === false ? null : new TokenBucket(options.clock, options.rateLimit ?? { ratePerSec: 20, burst: 40 });
    this.#timeoutMs = options.timeoutMs ?? 120_000;
    this.#onRetry = options.onRetry;
    const lock = driver.lock;
    this.lock = {
      acquire: (spec: ClusterSpec, o: LockOptions) => this.#call('lock.acquire', o.signal, (signal) => lock.acquire(spec, { ...o, signal })),
      renew: (spec: ClusterSpec, lease: Lease, o: { ttlMs: number } & DriverCallOptions) =>
        this.#call('lock.renew', o.signal, (signal) => lock.renew(spec, lease, { ...o, signal })),
      release: (spec: ClusterSpec, lease: Lease, o?: DriverCallOptions) =>
        this.#call('lock.release', o?.signal, (signal) => lock.release(spec, lease, { signal })),
      inspect: (spec: ClusterSpec, o?: DriverCallOptions) => this.#call('lock.inspect', o?.signal, (signal) => lock.inspect(spec, { ...o, signal })),
    };
    if (driver.waitForChange) {
      const wait = driver.waitForChange.bind(driver);
      this.waitForChange = (spec, o) =>
        this.#call('waitForChange', o.signal, (signal) => wait(spec, { ...o, signal }), this.#timeoutMs + o.timeoutMs);
    }
  }

  waitForChange?: (spec: ClusterSpec, options: WaitForChangeOptions) => Promise<readonly ClusterChange[]>;

  observe(spec: ClusterSpec, options: ObserveOptions = {}): Promise<ClusterObservation> {
    return this.#call(`observe.${options.scope ?? 'full'}`, options.signal, (signal) => this.inner.observe(spec, { ...options, signal }));
  }
  ensureNode(spec: ClusterSpec, nodeId: string, options: EnsureNodeOptions = {}): Promise<EnsureNodeResult> {
    return this.#call('ensureNode', options.signal, (signal) => this.inner.ensureNode(spec, nodeId, { ...options, signal }));
  }
  /**
   * `notAfterMs`: no attempt starts after this clock time (a retry would act on a view older
   * than the caller allows); the last error is thrown instead.
   */
  replaceInstance(spec: ClusterSpec, nodeId: string, instanceId: string, options: DriverCallOptions & { readonly notAfterMs?: number } = {}): Promise<void> {
    return this.#call('replaceInstance', options.signal, (signal) => this.inner.replaceInstance(spec, nodeId, instanceId, { signal }), this.#timeoutMs, options.notAfterMs);
  }
  completeLifecycle(spec: ClusterSpec, nodeId: string, instanceId: string, result: 'CONTINUE' | 'ABANDON', options: DriverCallOptions = {}): Promise<void> {
    return this.#call('completeLifecycle', options.signal, (signal) => this.inner.completeLifecycle(spec, nodeId, instanceId, result, { signal }));
  }
  setDns(spec: ClusterSpec, records: readonly DnsRecordSet[], options: DriverCallOptions = {}): Promise<void> {
    return this.#call('setDns', options.signal, (signal) => this.inner.setDns(spec, records, { signal }));
  }
  snapshotVolume(spec: ClusterSpec, nodeId: string, options: DriverCallOptions & { description?: string; wait?: boolean } = {}): Promise<{ snapshotId: string }> {
    return this.#call('snapshotVolume', options.signal, (signal) => this.inner.snapshotVolume(spec, nodeId, { ...options, signal }));
  }
  modifyVolume(spec: ClusterSpec, nodeId: string, target: VolumeTarget, options: DriverCallOptions = {}): Promise<void> {
    return this.#call('modifyVolume', options.signal, (signal) => this.inner.modifyVolume(spec, nodeId, target, { signal }));
  }
  /** The volumes' latest modifications, or null when the driver cannot say (no `volumeModifications`). */
  lastVolumeModifications(spec: ClusterSpec, volumeIds: readonly string[], options: DriverCallOptions = {}): Promise<readonly VolumeModificationRecord[] | null> {
    const inner = this.inner;
    if (!inner.volumeModifications) return Promise.resolve(null);
    return this.#call('volumeModifications', options.signal, (signal) => (inner.volumeModifications as NonNullable<Driver['volumeModifications']>)(spec, volumeIds, { signal }));
  }
  deleteNode(spec: ClusterSpec, nodeId: string, options: DriverCallOptions & { policy?: DeletionPolicy } = {}): Promise<DeleteNodeResult> {
    return this.#call('deleteNode', options.signal, (signal) => this.inner.deleteNode(spec, nodeId, { ...options, signal }));
  }
  /** Whether the driver can point a group back at an earlier template (rollback). */
  get canRestoreLaunchTemplate(): boolean {
    return typeof this.inner.restoreLaunchTemplate === 'function';
  }
  restoreLaunchTemplate(
    spec: ClusterSpec,
    nodeId: string,
    to: { readonly launchTemplateId: string; readonly launchTemplateVersion: string },
    options: DriverCallOptions = {},
  ): Promise<readonly ResourceChange[]> {
    const inner = this.inner;
    if (!inner.restoreLaunchTemplate) return Promise.reject(new BerthCapabilityError('restoreLaunchTemplate', inner.name, 'Rolling a node back to its last good launch template'));
    return this.#call('restoreLaunchTemplate', options.signal, (signal) => (inner.restoreLaunchTemplate as NonNullable<Driver['restoreLaunchTemplate']>).call(inner, spec, nodeId, to, { signal }));
  }
  /** Whether the driver can pause and resume a node (`capabilities.pauseNodes` and `setNodePaused`). */
  get canPauseNodes(): boolean {
    return this.inner.capabilities.pauseNodes === true && typeof this.inner.setNodePaused === 'function';
  }
  setNodePaused(spec: ClusterSpec, nodeId: string, paused: boolean, options: DriverCallOptions & { readonly atMs?: number } = {}): Promise<readonly ResourceChange[]> {
    const inner = this.inner;
    if (!this.canPauseNodes || !inner.setNodePaused) return Promise.reject(new BerthCapabilityError('pauseNodes', inner.name, paused ? 'Pausing a node' : 'Resuming a node'));
    const atMs = options.atMs;
    return this.#call('setNodePaused', options.signal, (signal) => (inner.setNodePaused as NonNullable<Driver['setNodePaused']>).call(inner, spec, nodeId, paused, { signal, ...(atMs !== undefined && { atMs }) }));
  }

  /** A spot node's group to on-demand or back to spot; a rejected `BerthCapabilityError` without `capabilities.spot`. */
  setCapacityMarket(spec: ClusterSpec, nodeId: string, market: 'spot' | 'on-demand', options: DriverCallOptions = {}): Promise<EnsureNodeResult> {
    const inner = this.inner;
    if (!inner.capabilities.spot || !inner.setCapacityMarket) return Promise.reject(new BerthCapabilityError('spot', inner.name, `Switching node ${nodeId} to ${market}`));
    return this.#call('setCapacityMarket', options.signal, (signal) => (inner.setCapacityMarket as NonNullable<Driver['setCapacityMarket']>).call(inner, spec, nodeId, market, { signal }));
  }
  /** A target-group call, or a rejected `BerthCapabilityError` naming what needed it. */
  #lb<T>(operation: string, what: string, signal: AbortSignal | undefined, fn: (inner: Required<Pick<Driver, 'describeTargetGroups' | 'registerTargets' | 'deregisterTargets'>>, signal: AbortSignal) => Promise<T>): Promise<T> {
    const inner = this.inner;
    if (!inner.capabilities.loadBalancers || !inner.describeTargetGroups || !inner.registerTargets || !inner.deregisterTargets) {
      return Promise.reject(new BerthCapabilityError('loadBalancers', inner.name, what));
    }
    const lb = { describeTargetGroups: inner.describeTargetGroups.bind(inner), registerTargets: inner.registerTargets.bind(inner), deregisterTargets: inner.deregisterTargets.bind(inner) };
    return this.#call(operation, signal, (s) => fn(lb, s));
  }
  describeTargetGroups(spec: ClusterSpec, targetGroupArns: readonly string[], options: DriverCallOptions = {}): Promise<readonly TargetGroupObservation[]> {
    return this.#lb('describeTargetGroups', 'Reading ELBv2 target groups', options.signal, (lb, signal) => lb.describeTargetGroups(spec, targetGroupArns, { signal }));
  }
  registerTargets(spec: ClusterSpec, targetGroupArns: readonly string[], instanceIds: readonly string[], options: DriverCallOptions = {}): Promise<void> {
    return this.#lb('registerTargets', 'Registering instances with ELBv2 target groups', options.signal, (lb, signal) => lb.registerTargets(spec, targetGroupArns, instanceIds, { signal }));
  }
  deregisterTargets(spec: ClusterSpec, targetGroupArns: readonly string[], instanceIds: readonly string[], options: DriverCallOptions = {}): Promise<void> {
    return this.#lb('deregisterTargets', 'Deregistering instances from ELBv2 target groups', options.signal, (lb, signal) => lb.deregisterTargets(spec, targetGroupArns, instanceIds, { signal }));
  }
  apiCallCounts(): Readonly<Record<string, number>> {
    return this.inner.apiCallCounts?.() ?? {};
  }
  /** Adoption checks (docs/adopt.md); a `BerthCapabilityError` without `capabilities.adoption`. */
  checkAdoption(spec: ClusterSpec, nodeId: string, source: AdoptionSource, options: DriverCallOptions & { readonly protect?: boolean } = {}): Promise<AdoptionCheck> {
    const inner = this.inner;
    if (!inner.capabilities.adoption || !inner.checkAdoption) return Promise.reject(new BerthCapabilityError('adoption', inner.name, 'Adopting an unmanaged instance\'s network interface and volume'));
    const check = inner.checkAdoption.bind(inner);
    return this.#call('checkAdoption', options.signal, (signal) => check(spec, nodeId, source, { protect: options.protect ?? false, signal }));
  }
  /** The take-over waits for the unmanaged instance to finish terminating: ten minutes more than a call. */
  takeOverAdoption(spec: ClusterSpec, nodeId: string, source: AdoptionSource, options: DriverCallOptions = {}): Promise<AdoptionCheck> {
    const inner = this.inner;
    if (!inner.capabilities.adoption || !inner.takeOverAdoption) return Promise.reject(new BerthCapabilityError('adoption', inner.name, 'Adopting an unmanaged instance\'s network interface and volume'));
    const takeOver = inner.takeOverAdoption.bind(inner);
    return this.#call('takeOverAdoption', options.signal, (signal) => takeOver(spec, nodeId, source, { signal }), this.#timeoutMs + 600_000);
  }

  /** Driver operations so far (attempts, retries, failures), by operation name. */
  stats(): Readonly<Record<string, Readonly<OperationStats>>> {
    return Object.fromEntries([...this.#stats].map(([k, v]) => [k, { ...v }]));
  }

  /**
   * One operation: its attempts, each after a token of the bucket, retried with backoff while
   * the error is retryable. The first attempt, when a token is there at once (the usual case),
   * starts synchronously; only a failure or an empty bucket takes the slower path.
   */
  #call<T>(operation: string, signal: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>, timeoutMs = this.#timeoutMs, notAfterMs = Infinity): Promise<T> {
    const stats = this.#statsFor(operation);
    stats.calls++;
    if (signal?.aborted || (this.#bucket !== null && !this.#bucket.tryTake())) return this.#attempts(operation, signal, fn, timeoutMs, notAfterMs, stats, 1, null);
    if (this.#clock.now() > notAfterMs) return Promise.reject(this.#notStarted(operation, notAfterMs, stats));
    stats.attempts++;
    return this.#attempt(operation, signal, fn, timeoutMs).then(undefined, (err: unknown) => this.#attempts(operation, signal, fn, timeoutMs, notAfterMs, stats, 1, err));
  }

  #notStarted(operation: string, notAfterMs: number, stats: OperationStats): BerthTimeoutError {
    stats.failures++;
    return new BerthTimeoutError(`${operation} was not started: its caller's deadline (${notAfterMs}) passed while it waited for the rate limiter`);
  }

  /**
   * The attempts from `attempt` on. With `failed` set, attempt `attempt` has just failed with
   * it: decide whether to retry (and wait the backoff) before the next one.
   */
  async #attempts<T>(
    operation: string,
    signal: AbortSignal | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
    timeoutMs: number,
    notAfterMs: number,
    stats: OperationStats,
    first: number,
    failed: unknown,
  ): Promise<T> {
    let attempt = first;
    let err = failed;
    for (;;) {
      if (err !== null) {
        if (err instanceof BerthDriverError && err.throttling) stats.throttled++;
        const retryable = (err instanceof BerthDriverError && err.retryable) || err instanceof BerthTimeoutError;
        const capMs = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (attempt - 1));
        const delayMs = retryable ? Math.floor(this.#prng.next() * capMs) : 0;
        if (!retryable || attempt >= this.#retry.maxAttempts || signal?.aborted || this.#clock.now() + delayMs > notAfterMs) {
          stats.failures++;
          throw err;
        }
        stats.retries++;
        this.#onRetry?.({
          operation,
          attempt,
          delayMs,
          error: err instanceof BerthDriverError ? err : new BerthDriverError(operation, 'Timeout', (err as Error).message, { retryable: true, cause: err }),
        });
        await this.#clock.sleep(delayMs, signal);
        attempt++;
        err = null;
      }
      throwIfAborted(signal);
      if (this.#bucket) await this.#bucket.take(signal);
      if (attempt === 1 && this.#clock.now() > notAfterMs) throw this.#notStarted(operation, notAfterMs, stats);
      stats.attempts++;
      try {
        return await this.#attempt(operation, signal, fn, timeoutMs);
      } catch (e) {
        err = e;
      }
    }
  }

  /**
   * One attempt under its timeout: the driver gets a signal that aborts on the caller's abort
   * or when the timeout fires, and the attempt settles at the timeout even when the driver
   * ignores its signal. One AbortController, one promise and one clock timer per attempt; no
   * race, no second timer.
   */
  #attempt<T>(operation: string, signal: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>, timeoutMs: number): Promise<T> {
    const inner = new AbortController();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      // The caller's abort wins over what the attempt failed with.
      const aborted = (err: unknown): unknown => (signal?.aborted && !(err instanceof BerthAbortError) ? new BerthAbortError(`${operation} was aborted`, { cause: err }) : err);
      const onAbort = signal ? () => inner.abort(signal.reason) : null;
      if (onAbort) signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        cancel();
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const fire = () => {
        const err = new BerthTimeoutError(`${operation} took longer than ${timeoutMs} ms and was abandoned; it is retried if attempts remain`);
        inner.abort(err);
        if (settle()) reject(aborted(err));
      };
      let cancel: () => void;
      if (this.#clock.setTimer) cancel = this.#clock.setTimer(timeoutMs, fire);
      else {
        const timer = new AbortController();
        this.#clock.sleep(timeoutMs, timer.signal).then(fire, () => undefined);
        cancel = () => timer.abort(TIMER_NOT_NEEDED);
      }
      let p: Promise<T>;
      try {
        p = fn(inner.signal);
      } catch (err) {
        p = Promise.reject(err);
      }
      p.then(
        (v) => {
          if (settle()) resolve(v);
        },
        (err: unknown) => {
          if (settle()) reject(aborted(err));
        },
      );
    });
  }

  #statsFor(operation: string): OperationStats {
    let s = this.#stats.get(operation);
    if (!s) {
      s = { calls: 0, attempts: 0, retries: 0, failures: 0, throttled: 0 };
      this.#stats.set(operation, s);
    }
    return s;
  }
}
