import { BerthAbortError, BerthHookError, BerthLockError, createPrng, RuntimeDriver, type Driver, type Lease, type LockDriver } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { HookRunner } from '../../src/controller/hook-runner.js';
import { LeaseKeeper } from '../../src/controller/lease-keeper.js';
import { observation, spec } from '../support/fixtures.js';
import { TestClock } from '../support/test-clock.js';

const s = spec(3);
const obs = observation(s);

describe('HookRunner', () => {
  it('a hook that ignores its signal is cut off at its timeout: HOOK_TIMEOUT naming hook and node, and its signal fired', async () => {
    const clock = new TestClock();
    const runner = new HookRunner(clock, s, { beforeReplace: 5_000 });
    let seen: AbortSignal | null = null;
    const err = await runner
      .run('beforeReplace', 'n2', obs, new AbortController().signal, (ctx) => {
        seen = ctx.signal;
        return new Promise<void>(() => undefined); // never settles, ignores the signal
      }, undefined)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthHookError);
    expect(err).toMatchObject({ code: 'HOOK_TIMEOUT', hook: 'beforeReplace', nodeId: 'n2', timedOut: true });
    expect((err as Error).message).toMatch(/Hook 'beforeReplace' for node n2 did not finish within 5 s\. Node n2 was not replaced because of it/);
    expect((seen as AbortSignal | null)?.aborted).toBe(true);
  });

  it('an abort settles at once even when the hook ignores it', async () => {
    const clock = new TestClock();
    const runner = new HookRunner(clock, s); // default 30 min: parked, never fires here
    const abort = new AbortController();
    const p = runner.run('afterReplace', 'n1', obs, abort.signal, () => new Promise<void>(() => undefined), undefined).catch((e: unknown) => e);
    abort.abort(new Error('operator'));
    expect(await p).toBeInstanceOf(BerthAbortError);
  });

  it('a throw is HOOK_FAILED with the cause; a value passes through; no hook gives the fallback', async () => {
    const runner = new HookRunner(new TestClock(), s);
    const signal = new AbortController().signal;
    await expect(runner.run('isLeader', 'n1', obs, signal, () => { throw new Error('no api'); }, false)).rejects.toMatchObject({ code: 'HOOK_FAILED', hook: 'isLeader', nodeId: 'n1' });
    await expect(runner.run('isLeader', 'n1', obs, signal, () => true, false)).resolves.toBe(true);
    await expect(runner.run('isLeader', 'n1', obs, signal, undefined, false)).resolves.toBe(false);
  });
});

function leaseDriver(clock: TestClock, renew: LockDriver['renew']): RuntimeDriver {
  const unused = () => Promise.reject(new Error('unused'));
  const lock: LockDriver = {
    acquire: async (sp, o) => ({ clusterName: sp.name, holder: o.holder, session: o.session, token: 1, expiresAtMs: clock.now() + o.ttlMs }),
    renew,
    release: async () => undefined,
    inspect: async () => null,
  };
  const d = { name: 'stub', capabilities: {} as Driver['capabilities'], observe: unused, ensureNode: unused, replaceInstance: unused, completeLifecycle: unused, setDns: unused, snapshotVolume: unused, modifyVolume: unused, deleteNode: unused, lock } as unknown as Driver;
  return new RuntimeDriver(d, { clock, prng: createPrng(1), rateLimit: false, retry: { maxAttempts: 1 } });
}

describe('LeaseKeeper', () => {
  it('ensure() renews once less than half the TTL (or less than the call needs) is left, and not before', async () => {
    const clock = new TestClock();
    let renewals = 0;
    const driver = leaseDriver(clock, async (_sp, lease, o) => {
      renewals++;
      return { ...lease, expiresAtMs: clock.now() + o.ttlMs } satisfies Lease;
    });
    const keeper = new LeaseKeeper({ driver, spec: s, clock, holder: 'h', session: 'h/1', ttlMs: 600_000 });
    await keeper.acquire();
    await keeper.ensure(undefined, 120_000);
    expect(renewals).toBe(0);
    clock.advance(310_000);
    await keeper.ensure(undefined, 120_000);
    expect(renewals).toBe(1);
    expect(keeper.lease?.expiresAtMs).toBe(clock.now() + 600_000);
    await keeper.release(5_000);
  });

  it('a refused renewal is final: onLost fires once and every later ensure() throws LOCK_LOST', async () => {
    const clock = new TestClock();
    const lost: string[] = [];
    const driver = leaseDriver(clock, async () => {
      throw new BerthLockError('LOCK_LOST', 'taken over by ctl-b');
    });
    const keeper = new LeaseKeeper({ driver, spec: s, clock, holder: 'h', session: 'h/1', ttlMs: 600_000, onLost: (e) => lost.push(e.message) });
    await keeper.acquire();
    clock.advance(400_000);
    await expect(keeper.ensure(undefined, 1_000)).rejects.toMatchObject({ code: 'LOCK_LOST' });
    await expect(keeper.ensure(undefined, 1_000)).rejects.toMatchObject({ code: 'LOCK_LOST' });
    expect(lost).toHaveLength(1);
    expect(keeper.held).toBe(false);
  });

  it('an expired lease is lost without a call', async () => {
    const clock = new TestClock();
    let renewals = 0;
    const driver = leaseDriver(clock, async (_sp, lease) => {
      renewals++;
      return lease;
    });
    const keeper = new LeaseKeeper({ driver, spec: s, clock, holder: 'h', session: 'h/1', ttlMs: 600_000 });
    await keeper.acquire();
    clock.advance(600_001);
    await expect(keeper.ensure(undefined)).rejects.toMatchObject({ code: 'LOCK_LOST' });
    expect(renewals).toBe(0);
  });
});

describe('RuntimeDriver notAfterMs', () => {
  it('does not retry a replaceInstance past the caller deadline; retries before it', async () => {
    const clock = new TestClock();
    let attempts = 0;
    const throttled = Object.assign(new Error('slow down'), {});
    const { BerthDriverError } = await import('@berth/core');
    const d = {
      name: 'stub',
      capabilities: {},
      lock: {},
      replaceInstance: async () => {
        attempts++;
        clock.advance(3_000);
        throw new BerthDriverError('TerminateInstanceInAutoScalingGroup', 'Throttling', throttled.message, { throttling: true });
      },
    } as unknown as Driver;
    const rt = new RuntimeDriver(d, { clock, prng: createPrng(1), rateLimit: false, retry: { maxAttempts: 6, baseDelayMs: 100 } });
    await expect(rt.replaceInstance(s, 'n1', 'i-1', { notAfterMs: clock.now() + 5_000 })).rejects.toMatchObject({ awsCode: 'Throttling' });
    expect(attempts).toBe(2);
  });
});
