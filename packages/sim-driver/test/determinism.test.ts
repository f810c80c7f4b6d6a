import { describe, expect, it } from 'vitest';
import type { TraceEntry } from '../src/index.js';
import { provision, replaceNode, setup } from './helpers.js';

interface Run {
  readonly trace: readonly TraceEntry[];
  readonly counts: Readonly<Record<string, number>>;
  readonly agentCounts: Readonly<Record<string, number>>;
  readonly iam: { checks: number; denied: number };
}

/** Provision, a replacement, a lost instance and a burst of throttling, with IAM evaluated on every call. */
async function scenario(seed: number): Promise<Run> {
  const { sim, spec } = setup({ seed, profile: 'realistic' }, { nodes: 5 });
  expect(sim.options.iam).toBe('evaluate');
  await sim.run(async () => {
    await provision(sim, spec);
    await replaceNode(sim, spec, 'demo-1');
    sim.faults.killInstance('demo-3');
    sim.faults.apiErrors({ code: 'throttle', rate: 0.2, durationMs: 30_000 });
    await replaceNode(sim, spec, 'demo-2');
  });
  return { trace: sim.trace, counts: sim.driver.apiCallCounts(), agentCounts: sim.world.agentApiCalls, iam: { ...sim.world.iamStats } };
}

describe('determinism', () => {
  it('same seed → same trace (deep-equal) and the same API calls, with IAM evaluated', async () => {
    const a = await scenario(42);
    const b = await scenario(42);
    expect(a.trace.length).toBeGreaterThan(200);
    expect(a.iam.checks).toBeGreaterThan(100);
    expect(a.iam.denied).toBe(0);
    expect(b.trace).toEqual(a.trace);
    expect(b.counts).toEqual(a.counts);
    expect(b.agentCounts).toEqual(a.agentCounts);
    expect(b.iam).toEqual(a.iam);
  });

  it('different seed → different trace', async () => {
    const a = await scenario(42);
    const c = await scenario(43);
    expect(c.trace).not.toEqual(a.trace);
  });
});
