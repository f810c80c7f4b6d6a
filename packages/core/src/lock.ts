import type { DriverCallOptions } from './driver.js';
import type { ClusterSpec } from './spec/cluster-spec.js';

/** A lease on one cluster: at most one controller mutates a cluster at a time. */
export interface Lease {
  readonly clusterName: string;
  readonly holder: string;
  /**
   * The controller instance that holds it. Two controllers with one holder id are two owners:
   * an acquire by the same holder succeeds only with the same session (a retry of our own acquire).
   */
  readonly session: string;
  /** Grows by one on every acquisition: a fencing token. */
  readonly token: number;
  readonly expiresAtMs: number;
}

export interface LockOptions extends DriverCallOptions {
  readonly holder: string;
  /** Unique per controller instance (see {@link Lease.session}). */
  readonly session: string;
  readonly ttlMs: number;
}

/**
 * Lease lock kept by the driver (DynamoDB conditional writes on AWS, in memory in the
 * simulator). `acquire` fails with `BerthLockError('LOCK_HELD')` while another session's lease
 * has not expired (the same holder id with another session included); `renew` fails with `LOCK_LOST` once the lease was taken over.
 */
export interface LockDriver {
  acquire(spec: ClusterSpec, options: LockOptions): Promise<Lease>;
  renew(spec: ClusterSpec, lease: Lease, options: { ttlMs: number } & DriverCallOptions): Promise<Lease>;
  release(spec: ClusterSpec, lease: Lease, options?: DriverCallOptions): Promise<void>;
  /** The current lease, if any (expired ones included, with their expiry). */
  inspect(spec: ClusterSpec, options?: DriverCallOptions): Promise<Lease | null>;
}
