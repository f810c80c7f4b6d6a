import type { HookContext, RollHooks } from '@berth/core';
import { createSimulation } from '@berth/sim-driver';
import { describe, expect, it } from 'vitest';
import { instrumentHooks, type HookCall, type SlowHookWindow } from '../../src/index.js';

describe('instrumentHooks (the slow-hook fault)', () => {
  const sim = createSimulation({ seed: 1, profile: 'fast' });
  let drained = 0;
  const app: RollHooks = { beforeReplace: () => void drained++, clusterHealthy: () => true };
  const ctx = (signal: AbortSignal) => ({ signal }) as HookContext;

  async function play(window: Omit<SlowHookWindow, 'fromMs' | 'untilMs'>, abortAfterMs: number) {
    const log: HookCall[] = [];
    const gates: string[] = [];
    const result = await sim.run(async () => {
      const now = sim.clock.now();
      const hooks = instrumentHooks(app, { session: 's#1', clock: sim.clock, log, slow: () => [{ ...window, fromMs: now, untilMs: now + 1_000 }], onGate: (hook) => gates.push(hook) });
      const abort = new AbortController();
      void sim.clock.sleep(abortAfterMs).then(() => abort.abort(new Error('hook timeout')));
      const t0 = sim.clock.now();
      const outcome = await Promise.resolve(hooks.beforeReplace!('chaos-1', ctx(abort.signal))).then(
        () => 'returned',
        (e: Error) => `threw: ${e.message}`,
      );
      return { outcome, tookMs: sim.clock.now() - t0 };
    });
    return { ...result, log, gates };
  }

  it('a slow hook that honours its signal stops when it fires', async () => {
    drained = 0;
    const r = await play({ hook: 'beforeReplace', durationMs: 700_000, ignoresSignal: false }, 30_000);
    expect(r).toMatchObject({ outcome: expect.stringMatching(/^threw/), tookMs: 30_000, gates: ['beforeReplace'] });
    expect(r.log).toEqual([expect.objectContaining({ hook: 'beforeReplace', nodeId: 'chaos-1', outcome: 'threw', delayedMs: 700_000 })]);
    expect(drained).toBe(0);
  });

  it('one that ignores it runs its full time, then gives up its work (the controller left it behind)', async () => {
    drained = 0;
    const r = await play({ hook: 'beforeReplace', durationMs: 700_000, ignoresSignal: true }, 30_000);
    expect(r).toMatchObject({ outcome: 'returned', tookMs: 700_000 });
    expect(drained).toBe(0);
  });

  it('a call outside its window, or of another hook, is not slowed', async () => {
    drained = 0;
    const r = await play({ hook: 'clusterHealthy', durationMs: 700_000, ignoresSignal: true }, 30_000);
    expect(r).toMatchObject({ outcome: 'returned', tookMs: 0 });
    expect(r.log[0]).toMatchObject({ outcome: 'returned', delayedMs: 0 });
    expect(drained).toBe(1);
  });
});
