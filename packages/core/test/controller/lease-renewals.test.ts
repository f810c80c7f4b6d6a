import { createPrng, RuntimeDriver, type Driver, type Lease, type LockDriver } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { LeaseKeeper } from '../../src/controller/lease-keeper.js';
import { spec } from '../support/fixtures.js';
import { TestClock } from '../support/test-clock.js';

// Each renewal is a write (DynamoDB UpdateItem): the lease is renewed only as its expiry needs
// (issue 13). The background keeper's timing is checked in a whole roll on the simulator
// (packages/sim-driver/test/roll-calls.test.ts).

const s = spec(3);

function renewingDriver(clock: TestClock, renewals: number[]): RuntimeDriver {
  const unused = () => Promise.reject(new Error('unused'));
  const lock: LockDriver = {
    acquire: async (sp, o) => ({ clusterName: sp.name, holder: o.holder, session: o.session, token: 1, expiresAtMs: clock.now() + o.ttlMs }),
    renew: async (_sp, lease, o) => {
      renewals.push(clock.now());
      return { ...lease, expiresAtMs: clock.now() + o.ttlMs } satisfies Lease;
    },
    release: async () => undefined,
    inspect: async () => null,
  };
  const d = { name: 'stub', capabilities: {} as Driver['capabilities'], observe: unused, ensureNode: unused, replaceInstance: unused, completeLifecycle: unused, setDns: unused, snapshotVolume: unused, modifyVolume: unused, deleteNode: unused, lock } as unknown as Driver;
  return new RuntimeDriver(d, { clock, prng: createPrng(1), rateLimit: false, retry: { maxAttempts: 1 } });
}

describe('LeaseKeeper renewals', () => {
  it('with renewAheadMs, ensure() renews only once less than renewAheadMs (or less than the call needs) is left, not at half the TTL', async () => {
    const clock = new TestClock();
    const renewals: number[] = [];
    const keeper = new LeaseKeeper({ driver: renewingDriver(clock, renewals), spec: s, clock, holder: 'h', session: 'h/1', ttlMs: 600_000, renewAheadMs: 150_000 });
    await keeper.acquire();
    clock.advance(310_000); // 290 s left: past half the TTL, enough for a 120 s call
    await keeper.ensure(undefined, 120_000);
    expect(renewals).toHaveLength(0);
    await keeper.ensure(undefined, 300_000); // this call needs more than is left
    expect(renewals).toHaveLength(1);
    clock.advance(449_000); // 151 s left
    await keeper.ensure(undefined, 120_000);
    expect(renewals).toHaveLength(1);
    clock.advance(2_000); // 149 s left: the keeper's renewal is due
    await keeper.ensure(undefined, 120_000);
    expect(renewals).toHaveLength(2);
    expect(keeper.lease?.expiresAtMs).toBe(clock.now() + 600_000);
    await keeper.release(5_000);
  });

  it('renewAheadMs is at most half the TTL; without it, the lease is renewed at half the TTL', async () => {
    for (const renewAheadMs of [undefined, 500_000]) {
      const clock = new TestClock();
      const renewals: number[] = [];
      const keeper = new LeaseKeeper({ driver: renewingDriver(clock, renewals), spec: s, clock, holder: 'h', session: 'h/1', ttlMs: 600_000, ...(renewAheadMs !== undefined && { renewAheadMs }) });
      await keeper.acquire();
      clock.advance(299_000);
      await keeper.ensure(undefined, 1_000);
      expect(renewals).toHaveLength(0);
      clock.advance(2_000);
      await keeper.ensure(undefined, 1_000);
      expect(renewals).toHaveLength(1);
      await keeper.release(5_000);
    }
  });
});
