import type { Clock } from '../clock.js';
import { BerthLockError, isAbortError } from '../errors.js';
import type { Lease } from '../lock.js';
import type { RuntimeDriver } from '../runtime/runtime-driver.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';

export interface LeaseKeeperOptions {
  readonly driver: RuntimeDriver;
  readonly spec: ClusterSpec;
  readonly clock: Clock;
  readonly holder: string;
  readonly session: string;
  readonly ttlMs: number;
  /**
   * Renew once the lease has less than this left (default: half the TTL; at most half of it).
   * The controller gives the longer of one call's lease (`callLeaseMs`) and a quarter of the
   * TTL: a renewal is due only when the next mutating call could need it, yet early enough for
   * a failed renewal to be tried again (every ≤ 30 s) before the lease runs out.
   */
  readonly renewAheadMs?: number;
  readonly onAcquired?: (lease: Lease) => void;
  readonly onReleased?: (lease: Lease) => void;
  /** Called once when the lease is lost (renewal refused or expired): stop everything. */
  readonly onLost?: (err: BerthLockError) => void;
}

/**
 * The controller's hold on the cluster's lease while it acts:
 * - `acquire()` takes it for this session (the same holder id in another controller is another owner);
 * - while held, a keeper renews it in the background when `renewAheadMs` is left — through hooks,
 *   gates, waits and a paused roll alike — and not before: each renewal is a write (DynamoDB
 *   UpdateItem), so a roll renews about once per TTL less `renewAheadMs`;
 * - `ensure(neededMs)` is the check at the moment of use, before every mutating call: the lease
 *   must have at least `neededMs` left (renewing now if not, or when the keeper's renewal is due),
 *   or the call is not made;
 * - a lost lease (renewal refused, or expiry seen) is final: `onLost` fires and every later
 *   `ensure` throws `LOCK_LOST`.
 */
export class LeaseKeeper {
  readonly #o: LeaseKeeperOptions;
  #lease: Lease | null = null;
  #lost: BerthLockError | null = null;
  #renewing: Promise<void> | null = null;
  #keeper: AbortController | null = null;

  readonly #renewAheadMs: number;

  constructor(options: LeaseKeeperOptions) {
    this.#o = options;
    this.#renewAheadMs = Math.min(options.ttlMs / 2, options.renewAheadMs ?? options.ttlMs / 2);
  }

  get lease(): Lease | null {
    return this.#lease;
  }

  get held(): boolean {
    return this.#lease !== null && this.#lost === null;
  }

  async acquire(signal?: AbortSignal): Promise<Lease> {
    if (this.#lease && !this.#lost) return this.#lease;
    const o = this.#o;
    this.#lost = null;
    this.#lease = await o.driver.lock.acquire(o.spec, { holder: o.holder, session: o.session, ttlMs: o.ttlMs, signal });
    o.onAcquired?.(this.#lease);
    this.#startKeeper();
    return this.#lease;
  }

  /**
   * Before a mutating call: at least `neededMs` of lease left (renewing when short, or when the
   * keeper's renewal is due). Throws `LOCK_LOST` when the lease is gone or cannot be renewed.
   */
  async ensure(signal: AbortSignal | undefined, neededMs = 0): Promise<Lease> {
    this.#throwIfLost();
    const lease = this.#lease;
    if (!lease) throw new BerthLockError('LOCK_LOST', `No lease is held on cluster ${this.#o.spec.name}; acquire it before mutating anything.`);
    const left = lease.expiresAtMs - this.#o.clock.now();
    if (left <= 0) throw this.#markLost(lease, 'expired before it was renewed');
    if (left >= Math.max(neededMs, this.#renewAheadMs)) return lease;
    await this.#renew(signal);
    this.#throwIfLost();
    const renewed = this.#lease as Lease;
    if (renewed.expiresAtMs - this.#o.clock.now() < neededMs) {
      throw new BerthLockError('LOCK_LOST', `The lease on cluster ${this.#o.spec.name} has less than the ${neededMs} ms the next call needs, even after renewal (TTL ${this.#o.ttlMs} ms); raise lockTtlMs.`, { holder: renewed.holder, expiresAtMs: renewed.expiresAtMs });
    }
    return renewed;
  }

  /** Stops the keeper and gives the lease up, waiting at most `boundMs` for the release call. */
  async release(boundMs: number): Promise<void> {
    this.#keeper?.abort();
    this.#keeper = null;
    const lease = this.#lease;
    this.#lease = null;
    if (!lease || this.#lost) return;
    const stop = new AbortController();
    try {
      await Promise.race([
        this.#o.driver.lock.release(this.#o.spec, lease, { signal: stop.signal }).then(() => this.#o.onReleased?.(lease)),
        this.#o.clock.sleep(boundMs, stop.signal).then(() => stop.abort(new Error('release took too long'))),
      ]);
    } catch {
      // The lease expires by itself; nothing else depends on the release.
    } finally {
      stop.abort();
    }
  }

  #throwIfLost(): void {
    if (this.#lost) throw this.#lost;
  }

  #markLost(lease: Lease, why: string, cause?: unknown): BerthLockError {
    if (!this.#lost) {
      this.#lost =
        cause instanceof BerthLockError
          ? cause
          : new BerthLockError('LOCK_LOST', `The lease on cluster ${this.#o.spec.name} (session ${lease.session}) ${why}; another controller may act now. Stopping without touching anything else.`, { holder: lease.holder, expiresAtMs: lease.expiresAtMs, cause });
      this.#keeper?.abort();
      this.#o.onLost?.(this.#lost);
    }
    return this.#lost;
  }

  /** One renewal at a time; concurrent callers share it. */
  #renew(signal: AbortSignal | undefined): Promise<void> {
    if (this.#renewing) return this.#renewing;
    const lease = this.#lease;
    if (!lease) return Promise.resolve();
    const p = (async () => {
      if (lease.expiresAtMs <= this.#o.clock.now()) throw this.#markLost(lease, 'expired before it was renewed');
      try {
        this.#lease = await this.#o.driver.lock.renew(this.#o.spec, lease, { ttlMs: this.#o.ttlMs, signal });
      } catch (err) {
        if (isAbortError(err)) throw err;
        if (err instanceof BerthLockError) throw this.#markLost(lease, 'was taken over', err);
        // A transient failure (the runtime already retried): lost only once it has expired.
        if (lease.expiresAtMs <= this.#o.clock.now()) throw this.#markLost(lease, 'expired while renewals failed', err);
        throw err;
      }
    })();
    this.#renewing = p;
    const clear = () => {
      if (this.#renewing === p) this.#renewing = null;
    };
    p.then(clear, clear);
    return p;
  }

  /** Renews in the background when `renewAheadMs` is left, until released or lost. */
  #startKeeper(): void {
    this.#keeper?.abort();
    const stop = new AbortController();
    this.#keeper = stop;
    const loop = async () => {
      while (!stop.signal.aborted && this.#lease && !this.#lost) {
        const dueInMs = this.#lease.expiresAtMs - this.#renewAheadMs - this.#o.clock.now();
        if (dueInMs > 0) {
          await this.#o.clock.sleep(dueInMs, stop.signal);
          continue;
        }
        try {
          await this.#renew(stop.signal);
        } catch (err) {
          if (stop.signal.aborted || this.#lost) return;
          if (isAbortError(err)) return;
          // Transient: try again shortly, well before expiry.
          await this.#o.clock.sleep(Math.max(1_000, Math.min(30_000, this.#o.ttlMs / 20)), stop.signal);
        }
      }
    };
    loop().catch(() => undefined);
  }
}
