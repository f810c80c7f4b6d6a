import { describe, expect, it } from 'vitest';
import type { TraceEntry } from '../src/index.js';
import { provision, replaceNode, setup } from './helpers.js';

async function scenario(seed: number): Promise<{ trace: readonly TraceEntry[]; counts: Readonly<Record<string, number>> }> {
  const { sim, spec } = setup({ seed, profile: 'realistic' }, { nodes: 5 });
  await sim.run(async () => {
    await provision(sim, spec);
    await replaceNode(sim, spec, 'demo-1');
    sim.faults.killInstance('demo-3');
    sim.faults.apiErrors({ code: 'throttle', rate: 0.2, durationMs: 30_000 });
    await replaceNode(sim, spec, 'demo-2');
  });
  return { trace: sim.trace, counts: sim.driver.apiCallCounts() };
}

describe('determinism', () => {
  it('same seed → same trace (deep-equal) and the same API calls', async () => {
    const a = await scenario(42);
    const b = await scenario(42);
    expect(a.trace.length).toBeGreaterThan(200);
    expect(b.trace).toEqual(a.trace);
    expect(b.counts).toEqual(a.counts);
  });

  it('different seed → different trace', async () => {
    const a = await scenario(42);
    const c = await scenario(43);
    expect(c.trace).not.toEqual(a.trace);
  });
});
