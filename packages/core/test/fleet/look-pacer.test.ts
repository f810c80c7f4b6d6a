import { LookPacer } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { TestClock } from '../support/test-clock.js';

describe('LookPacer', () => {
  it('gives concurrent looks successive slots: a burst at once, then one per 1 / looksPerSecond', async () => {
    const clock = new TestClock();
    const pacer = new LookPacer(clock, { looksPerSecond: 1, burst: 2 });
    const signal = new AbortController().signal;
    await Promise.all(Array.from({ length: 5 }, () => pacer.look(signal)));
    expect(clock.slept).toEqual([1_000, 2_000, 3_000]);
  });

  it('with alignMs, starts looks only on multiples of it, so looks due within one tick start together', async () => {
    const clock = new TestClock({ startMs: 1_700_000_000_000 });
    const pacer = new LookPacer(clock, { looksPerSecond: 1, burst: 2, alignMs: 5_000 });
    const signal = new AbortController().signal;
    await Promise.all(Array.from({ length: 5 }, () => pacer.look(signal)));
    expect(clock.slept).toEqual([5_000, 5_000, 5_000]);
  });

  it('refuses a look whose signal aborted', async () => {
    const clock = new TestClock();
    const pacer = new LookPacer(clock, { looksPerSecond: 1, burst: 1 });
    const ac = new AbortController();
    ac.abort();
    await expect(pacer.look(ac.signal)).rejects.toBeDefined();
  });
});
