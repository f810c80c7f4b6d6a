import { BerthLockError, type Clock } from '@berth/core';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { AwsDriver } from '../src/index.js';
import { clusterSpec, motoDriver, useMotoWorld } from './support/aws-fixture.js';

let now = 1_000_000;
const clock: Clock = { now: () => now, sleep: async (ms) => void (now += ms) };
// Two controllers: separate drivers and clients, one table, one clock we move by hand.
// `a` is the fixture's driver; `b` is made here, after it.
const aws = useMotoWorld({ driver: { clock, lockTable: 'locks' } });
let a: AwsDriver;
let b: AwsDriver;

afterAll(async () => {
  b?.destroy();
});
beforeEach(async () => {
  a = aws.driver;
  b?.destroy();
  b = motoDriver(aws.moto.endpoint, { clock, lockTable: 'locks' });
  expect(await a.ensureLockTable()).toEqual({ tableName: 'locks', created: true });
  expect(await b.ensureLockTable()).toEqual({ tableName: 'locks', created: false });
});

describe('DynamoDB lease lock on moto', () => {
  it('two controllers racing: at most one keeps a valid lease; the other gets LOCK_HELD or, on renew, LOCK_LOST', async () => {
    const spec = clusterSpec(aws.world, 3);
    const results = await Promise.allSettled([a.lock.acquire(spec, { holder: 'ctl-a', session: 'ctl-a-session', ttlMs: 30_000 }), b.lock.acquire(spec, { holder: 'ctl-b', session: 'ctl-b-session', ttlMs: 30_000 })]);
    const current = (await a.lock.inspect(spec))!;
    expect(['ctl-a', 'ctl-b']).toContain(current.holder);
    const drivers = { 'ctl-a': a, 'ctl-b': b } as const;
    for (const [i, r] of results.entries()) {
      const holder = i === 0 ? 'ctl-a' : 'ctl-b';
      if (r.status === 'rejected') {
        expect(r.reason).toBeInstanceOf(BerthLockError);
        expect(r.reason).toMatchObject({ code: 'LOCK_HELD', holder: current.holder });
      } else if (holder === current.holder) {
        await expect(drivers[holder].lock.renew(spec, r.value, { ttlMs: 30_000 })).resolves.toMatchObject({ holder, token: current.token });
      } else {
        // AWS serialises conditional writes, so this branch does not happen there. moto 5.2.1
        // does not (its threads race), and both acquires may succeed: the fencing token still
        // makes the overwritten holder's next renew fail.
        await expect(drivers[holder].lock.renew(spec, r.value, { ttlMs: 30_000 })).rejects.toMatchObject({ code: 'LOCK_LOST', holder: current.holder });
      }
    }
  });

  it('a second controller gets LOCK_HELD with the holder and expiry while the lease lasts', async () => {
    const spec = clusterSpec(aws.world, 3);
    const lease = await a.lock.acquire(spec, { holder: 'ctl-a', session: 'ctl-a-session', ttlMs: 30_000 });
    expect(lease).toMatchObject({ clusterName: 'kafka', holder: 'ctl-a', token: 1, expiresAtMs: now + 30_000 });
    const err = await b.lock.acquire(spec, { holder: 'ctl-b', session: 'ctl-b-session', ttlMs: 30_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthLockError);
    expect(err).toMatchObject({ code: 'LOCK_HELD', holder: 'ctl-a', expiresAtMs: lease.expiresAtMs });
    expect(await b.lock.inspect(spec)).toEqual(lease);
    // The holder re-acquiring is fine and moves the fencing token on.
    expect(await a.lock.acquire(spec, { holder: 'ctl-a', session: 'ctl-a-session', ttlMs: 30_000 })).toMatchObject({ token: 2 });
  });

  it('renew extends; after expiry another holder takes over with a higher token, and the old holder gets LOCK_LOST', async () => {
    const spec = clusterSpec(aws.world, 3);
    const first = await a.lock.acquire(spec, { holder: 'ctl-a', session: 'ctl-a-session', ttlMs: 10_000 });
    now += 5_000;
    const renewed = await a.lock.renew(spec, first, { ttlMs: 10_000 });
    expect(renewed).toMatchObject({ holder: 'ctl-a', token: 1, expiresAtMs: now + 10_000 });
    await expect(b.lock.acquire(spec, { holder: 'ctl-b', session: 'ctl-b-session', ttlMs: 10_000 })).rejects.toMatchObject({ code: 'LOCK_HELD' });
    now += 10_001;
    const taken = await b.lock.acquire(spec, { holder: 'ctl-b', session: 'ctl-b-session', ttlMs: 10_000 });
    expect(taken).toMatchObject({ holder: 'ctl-b', token: 2 });
    await expect(a.lock.renew(spec, renewed, { ttlMs: 10_000 })).rejects.toMatchObject({ code: 'LOCK_LOST', holder: 'ctl-b' });
    // Releasing a lost lease is harmless; releasing one's own frees it without resetting the token.
    await a.lock.release(spec, renewed);
    expect(await a.lock.inspect(spec)).toMatchObject({ holder: 'ctl-b' });
    await b.lock.release(spec, taken);
    const again = await a.lock.acquire(spec, { holder: 'ctl-a', session: 'ctl-a-session', ttlMs: 10_000 });
    expect(again.token).toBe(3);
  });

  it('one holder id in two sessions (two controller instances): the second gets LOCK_HELD naming the shared id; the same session re-acquires', async () => {
    const spec = clusterSpec(aws.world, 3);
    const lease = await a.lock.acquire(spec, { holder: 'ci', session: 'run-1', ttlMs: 30_000 });
    expect(lease).toMatchObject({ holder: 'ci', session: 'run-1', token: 1 });
    const err = await b.lock.acquire(spec, { holder: 'ci', session: 'run-2', ttlMs: 30_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthLockError);
    expect(err).toMatchObject({ code: 'LOCK_HELD', holder: 'ci', expiresAtMs: lease.expiresAtMs });
    expect((err as Error).message).toMatch(/another controller instance that uses the same holder id 'ci' \(session run-1, not this one's run-2\)/);
    // A retry of our own acquire (same holder and session) is fine and moves the token on.
    const again = await a.lock.acquire(spec, { holder: 'ci', session: 'run-1', ttlMs: 30_000 });
    expect(again).toMatchObject({ session: 'run-1', token: 2 });
    // Renew and release check the session as well as holder and token.
    await expect(b.lock.renew(spec, { ...again, session: 'run-2' }, { ttlMs: 30_000 })).rejects.toMatchObject({ code: 'LOCK_LOST', holder: 'ci' });
    await b.lock.release(spec, { ...again, session: 'run-2' });
    expect(await a.lock.inspect(spec)).toEqual(again);
    await a.lock.release(spec, again);
    expect(await b.lock.acquire(spec, { holder: 'ci', session: 'run-2', ttlMs: 30_000 })).toMatchObject({ session: 'run-2', token: 3 });
  });

  it("a fleet member's watch lease (scope 'watch') is an item of its own: it neither blocks nor is blocked by the cluster's lease", async () => {
    const spec = clusterSpec(aws.world, 3);
    const roll = await a.lock.acquire(spec, { holder: 'ctl-a', session: 'ctl-a-session', ttlMs: 30_000 });
    const watch = await b.lock.acquire(spec, { holder: 'fleet-b', session: 'fleet-b-1', ttlMs: 30_000, scope: 'watch' });
    expect(watch).toMatchObject({ clusterName: 'kafka', holder: 'fleet-b', token: 1, scope: 'watch' });
    expect(await a.lock.inspect(spec)).toEqual(roll);
    expect(await a.lock.inspect(spec, { scope: 'watch' })).toEqual(watch);
    // Another member gets LOCK_HELD on the watch lease only; renew and release follow the lease's scope.
    await expect(a.lock.acquire(spec, { holder: 'fleet-a', session: 'fleet-a-1', ttlMs: 30_000, scope: 'watch' })).rejects.toMatchObject({ code: 'LOCK_HELD', holder: 'fleet-b' });
    now += 10_000;
    expect(await b.lock.renew(spec, watch, { ttlMs: 30_000 })).toMatchObject({ scope: 'watch', expiresAtMs: now + 30_000 });
    await b.lock.release(spec, watch);
    expect(await a.lock.acquire(spec, { holder: 'fleet-a', session: 'fleet-a-1', ttlMs: 30_000, scope: 'watch' })).toMatchObject({ holder: 'fleet-a', token: 2, scope: 'watch' });
    expect(await b.lock.inspect(spec)).toEqual(roll);
  });

  it('locks of different clusters are independent; a missing table is a clear error', async () => {
    const k = clusterSpec(aws.world, 3);
    const z = { ...k, name: 'zookeeper' };
    await a.lock.acquire(k, { holder: 'ctl-a', session: 'ctl-a-session', ttlMs: 10_000 });
    await expect(b.lock.acquire(z, { holder: 'ctl-b', session: 'ctl-b-session', ttlMs: 10_000 })).resolves.toMatchObject({ clusterName: 'zookeeper', token: 1 });
    const none = motoDriver(aws.moto.endpoint, { clock, lockTable: 'no-such-table' });
    await expect(none.lock.acquire(k, { holder: 'x', session: 'x-session', ttlMs: 1000 })).rejects.toThrow(/ensureLockTable/);
    none.destroy();
  });
});
