import { createPrng, type Phase, type Prng } from '@berth/core';
import { FAULT_CATALOGUE, FAULT_KINDS } from '../faults/fault-catalogue.js';
import type { Fault, FaultKind } from '../faults/fault.js';
import type { Scenario } from './scenario.js';

export interface RandomScenarioOptions {
  readonly sizes?: readonly number[];
  readonly profile?: 'fast' | 'realistic';
  readonly kinds?: readonly FaultKind[];
  readonly maxFaults?: number;
}

/**
 * The scenario a seed stands for, drawn with Berth's own PRNG (no fast-check): the seed picks
 * the cluster size, the roll options, the fault mix (swarm) and the schedule. Used by
 * `pnpm chaos` and the benchmark; `randomScenario(seed)` is a complete replay recipe.
 *
 * @example
 * ```ts
 * const result = await runScenario(randomScenario(1234));
 * ```
 */
export function randomScenario(seed: number, options: RandomScenarioOptions = {}): Scenario {
  const root = createPrng(seed);
  const shape = root.derive('shape');
  const mixRng = root.derive('mix');
  const sched = root.derive('schedule');
  const profile = options.profile ?? 'fast';
  const nodes = shape.pick(options.sizes ?? [3, 5]);
  const maxUnavailable = shape.int(1, 3);
  const kinds = options.kinds ?? FAULT_KINDS;
  // Swarm: each kind is in this world's mix with probability 1/2 (at least one).
  let mix = kinds.filter(() => mixRng.chance(0.5));
  if (mix.length === 0) mix = [mixRng.pick(kinds)];
  const count = sched.int(0, options.maxFaults ?? 4);
  const faults: Fault[] = [];
  for (let i = 0; i < count; i++) faults.push(randomFault(sched.pick(mix), nodes, profile, sched));
  return { seed, nodes, profile, maxUnavailable, faults };
}

const failPhases: readonly Phase[] = ['launching', 'attaching', 'mounting', 'configuring', 'joining'];

function randomFault(kind: FaultKind, nodes: number, profile: 'fast' | 'realistic', r: Prng): Fault {
  const u = profile === 'fast' ? 10 : 1000;
  const atMs = r.int(0, 240 * u);
  const stabilityMs = FAULT_CATALOGUE[kind].stabilityMs * (u / 1000);
  const nodeId = `chaos-${r.int(1, nodes)}`;
  const durationMs = r.int(5 * u, 180 * u);
  switch (kind) {
    case 'kill-instance':
    case 'spot-interruption':
      return { kind, atMs, stabilityMs, nodeId };
    case 'az-outage':
      return { kind, atMs, stabilityMs, azIndex: r.int(0, 2), durationMs };
    case 'stuck-attach':
    case 'partition':
      return { kind, atMs, stabilityMs, nodeId, durationMs };
    case 'slow-attach':
      return { kind, atMs, stabilityMs, nodeId, factor: r.int(2, 20), durationMs };
    case 'eni-release-delay':
      return { kind, atMs, stabilityMs, delayMs: r.int(u, 120 * u), durationMs };
    case 'bad-image':
      return { kind, atMs, stabilityMs, phase: r.pick(failPhases), reason: 'injected bad image' };
    case 'slow-boot':
      return { kind, atMs, stabilityMs, factor: r.int(2, 10), durationMs };
    case 'api-throttle':
    case 'api-5xx':
      return { kind, atMs, stabilityMs, rate: Math.round(r.between(0.05, 0.9) * 100) / 100, durationMs };
    case 'consistency-lag':
      return { kind, atMs, stabilityMs, lagMs: r.int(u, 30 * u), durationMs };
    case 'controller-crash':
      return { kind, atMs, stabilityMs, restart: r.chance(0.5) ? 'same-holder' : 'new-holder', downMs: r.int(0, 60 * u) };
    case 'second-controller':
      return { kind, atMs, stabilityMs };
  }
}
