import { BerthAbortError } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, SimulationError } from '../src/index.js';
import { simContext } from '../src/internal.js';

describe('virtual time', () => {
  it('advances the clock to each wake-up without wall time passing', async () => {
    const sim = createSimulation({ seed: 1, profile: 'fast' });
    const start = sim.clock.now();
    const order: string[] = [];
    const result = await sim.run(async () => {
      await Promise.all([
        sim.clock.sleep(3_600_000).then(() => order.push('hour')),
        sim.clock.sleep(1_000).then(() => order.push('second')),
      ]);
      return sim.clock.now() - start;
    });
    expect(result).toBe(3_600_000);
    expect(order).toEqual(['second', 'hour']);
  });

  it('rejects a sleep with BerthAbortError when its signal aborts', async () => {
    const sim = createSimulation({ seed: 1, profile: 'fast' });
    const err = await sim.run(async () => {
      const ac = new AbortController();
      const p = sim.clock.sleep(10_000, ac.signal);
      await sim.clock.sleep(5);
      ac.abort(new Error('stop'));
      return p.then(() => null, (e: unknown) => e);
    });
    expect(err).toBeInstanceOf(BerthAbortError);
  });

  it('lets a woken continuation run to its end, however many promise hops it takes, before the next event fires', async () => {
    const sim = createSimulation({ seed: 1, profile: 'fast' });
    const order: string[] = [];
    await sim.run(async () => {
      const deep = sim.clock.sleep(1_000).then(async () => {
        // A long chain of microtasks after the wake-up, then a sleep scheduled at its end.
        for (let i = 0; i < 200; i++) await Promise.resolve();
        order.push('woken chain done');
        simContext(sim).scheduler.at(sim.clock.now(), 'after chain', () => order.push('event scheduled by the chain'));
      });
      // Another event at the same instant, scheduled earlier: it fires after the chain has run.
      simContext(sim).scheduler.at(sim.clock.now() + 1_000, 'same instant', () => order.push('same-instant event'));
      await deep;
      await sim.clock.sleep(1);
    });
    expect(order).toEqual(['woken chain done', 'same-instant event', 'event scheduled by the chain']);
  });

  it('reports a deadlock, naming what was pending, when nothing is scheduled', async () => {
    const sim = createSimulation({ seed: 1, profile: 'fast' });
    await expect(sim.run(() => new Promise<void>(() => undefined))).rejects.toMatchObject({ code: 'SIM_DEADLOCK' });
  });

  it('stops when virtual time passes maxVirtualMs', async () => {
    const sim = createSimulation({ seed: 1, profile: 'fast', maxVirtualMs: 60_000 });
    const err = await sim.run(() => sim.clock.sleep(120_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimulationError);
    expect((err as SimulationError).code).toBe('SIM_TIME_LIMIT');
    expect((err as SimulationError).message).toContain('clock.sleep');
  });

  it('rethrows what the function throws and returns what it returns', async () => {
    const sim = createSimulation({ seed: 1 });
    await expect(sim.run(async () => { await sim.clock.sleep(1); throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(sim.run(() => 42)).resolves.toBe(42);
  });

  it('exposes the seed and the resolved options', () => {
    const sim = createSimulation({ seed: 9, profile: 'fast', timings: { osBootMs: [1, 2] } });
    expect(sim.seed).toBe(9);
    expect(sim.options.profile).toBe('fast');
    expect(sim.options.timings.osBootMs).toEqual([1, 2]);
    expect(sim.options.timings.shuttingDownMs).toEqual([200, 900]);
    expect(createSimulation({ seed: 9 }).options.timings.pendingToRunningMs).toEqual([10_000, 40_000]);
    expect(Object.isFrozen(sim.options.timings)).toBe(true);
  });
});
