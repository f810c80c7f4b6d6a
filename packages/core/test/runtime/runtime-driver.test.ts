import { BerthAbortError, BerthDriverError, BerthTimeoutError, createPrng, DEFAULT_CAPABILITIES, RuntimeDriver, TokenBucket, type Driver } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { observation, spec } from '../support/fixtures.js';
import { TestClock } from '../support/test-clock.js';

const s = spec(3);

function fakeDriver(observe: Driver['observe']): Driver {
  const unused = async (): Promise<never> => {
    throw new Error('not used in this test');
  };
  return {
    name: 'fake',
    capabilities: DEFAULT_CAPABILITIES,
    observe,
    ensureNode: unused,
    replaceInstance: unused,
    completeLifecycle: unused,
    setDns: unused,
    snapshotVolume: unused,
    modifyVolume: unused,
    deleteNode: unused,
    lock: { acquire: unused, renew: unused, release: unused, inspect: unused },
  };
}

describe('RuntimeDriver', () => {
  it('retries retryable errors with jittered, growing backoff, then succeeds', async () => {
    const clock = new TestClock();
    let calls = 0;
    const rt = new RuntimeDriver(
      fakeDriver(async () => {
        calls++;
        if (calls <= 3) throw new BerthDriverError('DescribeInstances', 'RequestLimitExceeded', 'slow down', { throttling: true });
        return observation(s);
      }),
      { clock, prng: createPrng(1), rateLimit: false, retry: { baseDelayMs: 100, maxDelayMs: 10_000 } },
    );
    const obs = await rt.observe(s);
    expect(obs.clusterName).toBe('kafka');
    expect(calls).toBe(4);
    expect(clock.slept).toHaveLength(3);
    clock.slept.forEach((ms, k) => expect(ms).toBeLessThan(100 * 2 ** k));
    expect(rt.stats()['observe.full']).toMatchObject({ calls: 1, attempts: 4, retries: 3, failures: 0, throttled: 3 });
  });

  it('does not retry a non-retryable error', async () => {
    const clock = new TestClock();
    let calls = 0;
    const rt = new RuntimeDriver(
      fakeDriver(async () => {
        calls++;
        throw new BerthDriverError('DescribeInstances', 'UnauthorizedOperation', 'no');
      }),
      { clock, prng: createPrng(1), rateLimit: false },
    );
    await expect(rt.observe(s)).rejects.toMatchObject({ awsCode: 'UnauthorizedOperation' });
    expect(calls).toBe(1);
  });

  it('gives up after maxAttempts', async () => {
    const clock = new TestClock();
    let calls = 0;
    const rt = new RuntimeDriver(
      fakeDriver(async () => {
        calls++;
        throw new BerthDriverError('DescribeInstances', 'InternalError', 'boom', { retryable: true });
      }),
      { clock, prng: createPrng(1), rateLimit: false, retry: { maxAttempts: 4 } },
    );
    await expect(rt.observe(s)).rejects.toBeInstanceOf(BerthDriverError);
    expect(calls).toBe(4);
    expect(rt.stats()['observe.full']?.failures).toBe(1);
  });

  it('times out an attempt that hangs, and retries it', async () => {
    const clock = new TestClock({ parkFromMs: 1_000_000 });
    let calls = 0;
    const rt = new RuntimeDriver(
      fakeDriver(async () => {
        calls++;
        if (calls === 1) return new Promise(() => undefined); // never answers
        return observation(s);
      }),
      { clock, prng: createPrng(1), rateLimit: false, timeoutMs: 5_000 },
    );
    await expect(rt.observe(s)).resolves.toMatchObject({ clusterName: 'kafka' });
    expect(calls).toBe(2);
  });

  it('raises BerthTimeoutError when every attempt hangs', async () => {
    const clock = new TestClock({ parkFromMs: 1_000_000 });
    const rt = new RuntimeDriver(fakeDriver(() => new Promise(() => undefined)), { clock, prng: createPrng(1), rateLimit: false, timeoutMs: 5_000, retry: { maxAttempts: 2 } });
    await expect(rt.observe(s)).rejects.toBeInstanceOf(BerthTimeoutError);
  });

  it('stops at once when the caller aborts, and passes the abort to the driver', async () => {
    const clock = new TestClock();
    const ac = new AbortController();
    let seen: AbortSignal | undefined;
    const rt = new RuntimeDriver(
      fakeDriver((_spec, o) => {
        seen = o?.signal;
        return new Promise((_, reject) => o?.signal?.addEventListener('abort', () => reject(new BerthAbortError())));
      }),
      { clock, prng: createPrng(1), rateLimit: false },
    );
    const p = rt.observe(s, { signal: ac.signal });
    await Promise.resolve();
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(BerthAbortError);
    expect(seen?.aborted).toBe(true);
  });

  it('rate-limits calls with a token bucket on the injected clock', async () => {
    const clock = new TestClock();
    const rt = new RuntimeDriver(fakeDriver(async () => observation(s)), { clock, prng: createPrng(1), rateLimit: { ratePerSec: 2, burst: 2 } });
    const t0 = clock.now();
    for (let i = 0; i < 6; i++) await rt.observe(s);
    // 2 from the burst, then 4 more at 2/s: at least 2 s of virtual time.
    expect(clock.now() - t0).toBeGreaterThanOrEqual(2_000);
    expect(clock.now() - t0).toBeLessThan(2_600);
  });

  it('TokenBucket refuses nonsense settings', () => {
    expect(() => new TokenBucket(new TestClock(), { ratePerSec: 0, burst: 1 })).toThrow(RangeError);
  });
});
