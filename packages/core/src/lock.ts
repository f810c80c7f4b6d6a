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
  /**
   * Which of the cluster's leases: absent for the cluster's own lease (the one `roll()`,
   * `apply()` and the other mutating steps take), `'watch'` for a fleet member's claim to watch
   * the cluster (`createFleet({ share })`). The two are independent items: a fleet member
   * watching a cluster does not stop a roll from taking the cluster's lease.
   */
  readonly scope?: LeaseScope;
}

/** The leases a cluster has: see {@link Lease.scope}. */
export type LeaseScope = 'watch';

export interface LockOptions extends DriverCallOptions {
  readonly holder: string;
  /** Unique per controller instance (see {@link Lease.session}). */
  readonly session: string;
  readonly ttlMs: number;
  /** Which of the cluster's leases (see {@link Lease.scope}). Default: the cluster's own. */
  readonly scope?: LeaseScope;
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
  inspect(spec: ClusterSpec, options?: DriverCallOptions & { readonly scope?: LeaseScope }): Promise<Lease | null>;
}
