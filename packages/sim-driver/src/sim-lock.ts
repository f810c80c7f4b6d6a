import { BerthLockError, type ClusterSpec, type DriverCallOptions, type Lease, type LockDriver, type LockOptions } from '@berth/core';
import type { AwsApi } from './aws-api.js';
import type { SimContext } from './sim-context.js';

/**
 * The cluster lease, kept in memory the way the AWS driver keeps it in DynamoDB: conditional
 * writes, counted as `GetItem`/`PutItem`/`UpdateItem`/`DeleteItem`.
 */
export class SimLock implements LockDriver {
  readonly #ctx: SimContext;
  readonly #api: AwsApi;

  constructor(ctx: SimContext, api: AwsApi) {
    this.#ctx = ctx;
    this.#api = api;
  }

  async acquire(spec: ClusterSpec, options: LockOptions): Promise<Lease> {
    const locks = this.#ctx.state.locks;
    // PutItem with condition: absent, expired, or already ours.
    const granted = await this.#api.call('PutItem', options.signal, () => {
      const now = this.#ctx.scheduler.nowMs;
      const cur = locks.get(spec.name);
      if (cur && cur.holder !== options.holder && cur.expiresAtMs > now) return null;
      const lease: Lease = { clusterName: spec.name, holder: options.holder, token: (cur?.token ?? 0) + 1, expiresAtMs: now + options.ttlMs };
      locks.set(spec.name, lease);
      this.#ctx.trace.record('lock.acquired', { clusterName: spec.name, holder: lease.holder, token: lease.token, expiresAtMs: lease.expiresAtMs, tookOverFrom: cur && cur.holder !== options.holder ? cur.holder : undefined });
      return lease;
    });
    if (granted) return granted;
    // ConditionalCheckFailed: read who holds it, for the message.
    const cur = await this.#api.call('GetItem', options.signal, () => locks.get(spec.name) ?? null);
    throw new BerthLockError(
      'LOCK_HELD',
      `Cluster '${spec.name}' is locked by '${cur?.holder ?? 'unknown'}' until ${new Date(cur?.expiresAtMs ?? 0).toISOString()}. ` +
        `Wait for it to finish or for the lease to expire.`,
      { holder: cur?.holder ?? null, expiresAtMs: cur?.expiresAtMs ?? null },
    );
  }

  async renew(spec: ClusterSpec, lease: Lease, options: { ttlMs: number } & DriverCallOptions): Promise<Lease> {
    const locks = this.#ctx.state.locks;
    const renewed = await this.#api.call('UpdateItem', options.signal, () => {
      const cur = locks.get(spec.name);
      if (!cur || cur.holder !== lease.holder || cur.token !== lease.token) return { ok: false as const, cur: cur ?? null };
      const next: Lease = { ...cur, expiresAtMs: this.#ctx.scheduler.nowMs + options.ttlMs };
      locks.set(spec.name, next);
      this.#ctx.trace.record('lock.renewed', { clusterName: spec.name, holder: next.holder, token: next.token, expiresAtMs: next.expiresAtMs });
      return { ok: true as const, lease: next };
    });
    if (renewed.ok) return renewed.lease;
    this.#ctx.trace.record('lock.lost', { clusterName: spec.name, holder: lease.holder, token: lease.token, newHolder: renewed.cur?.holder });
    throw new BerthLockError(
      'LOCK_LOST',
      `The lease on cluster '${spec.name}' held by '${lease.holder}' (token ${lease.token}) was taken over` +
        (renewed.cur ? ` by '${renewed.cur.holder}' (token ${renewed.cur.token})` : ' or released') +
        '. Stop mutating the cluster: another controller may be acting.',
      { holder: renewed.cur?.holder ?? null, expiresAtMs: renewed.cur?.expiresAtMs ?? null },
    );
  }

  async release(spec: ClusterSpec, lease: Lease, options?: DriverCallOptions): Promise<void> {
    const locks = this.#ctx.state.locks;
    await this.#api.call('DeleteItem', options?.signal, () => {
      const cur = locks.get(spec.name);
      // Conditional delete: only our own lease. Releasing a lease we lost is a no-op.
      if (cur && cur.holder === lease.holder && cur.token === lease.token) {
        // Keep the token counter: a released lease leaves an expired record behind.
        locks.set(spec.name, { ...cur, expiresAtMs: this.#ctx.scheduler.nowMs });
        this.#ctx.trace.record('lock.released', { clusterName: spec.name, holder: lease.holder, token: lease.token });
      }
    });
  }

  async inspect(spec: ClusterSpec, options?: DriverCallOptions): Promise<Lease | null> {
    return this.#api.call('GetItem', options?.signal, () => this.#ctx.state.locks.get(spec.name) ?? null);
  }
}
