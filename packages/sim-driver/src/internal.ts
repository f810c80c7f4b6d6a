import type { SimContext } from './sim-context.js';

const contexts = new WeakMap<object, SimContext>();

/** Test-only access to a simulation's world internals (not exported from the package). */
export function simContext(sim: object): SimContext {
  const ctx = contexts.get(sim);
  if (!ctx) throw new Error('not a simulation created by createSimulation');
  return ctx;
}

export function registerContext(sim: object, ctx: SimContext): void {
  contexts.set(sim, ctx);
}
