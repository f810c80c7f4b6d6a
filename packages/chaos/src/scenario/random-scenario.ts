import { createPrng, type Phase, type Prng } from '@berth/core';
import { FAULT_CATALOGUE, FAULT_KINDS } from '../faults/fault-catalogue.js';
import { GATE_FAULT_KINDS, type Fault, type FaultKind } from '../faults/fault.js';
import { AT_NEXT_GATE_SHARE, faultWindowMs, gateWaitMs, LONG_NODE_FAULT_MS, profileUnitMs, SLOW_HOOK_LONG_MS } from './fault-window.js';
import type { Scenario } from './scenario.js';

export interface RandomScenarioOptions {
  readonly sizes?: readonly number[];
  readonly profile?: 'fast' | 'realistic';
  readonly kinds?: readonly FaultKind[];
  readonly maxFaults?: number;
  /**
   * Relative rates of the kinds in a scenario's mix (default 1 each; 0 leaves a kind out).
   * Not part of replay tokens: strategies (whose modules carry them) use it.
   */
  readonly weights?: Partial<Record<FaultKind, number>>;
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
  const w = options.weights;
  const kinds = (options.kinds ?? FAULT_KINDS).filter((k) => (w?.[k] ?? 1) > 0);
  // Swarm: each kind is in this world's mix with probability 1/2 (at least one).
  let mix = kinds.filter(() => mixRng.chance(0.5));
  if (mix.length === 0) mix = [mixRng.pick(kinds)];
  const count = sched.int(0, options.maxFaults ?? 4);
  const faults: Fault[] = [];
  const windowMs = faultWindowMs(nodes, maxUnavailable, profile);
  for (let i = 0; i < count; i++) {
    const f = randomFault(w ? weightedPick(mix, w, sched) : sched.pick(mix), nodes, profile, windowMs, sched);
    // A third of the node losses wait for the controller's next gate: its look is then older than the world.
    faults.push(GATE_FAULT_KINDS.includes(f.kind) && sched.chance(AT_NEXT_GATE_SHARE) ? { ...f, atNextGate: { withinMs: gateWaitMs(profile) } } : f);
  }
  return { seed, nodes, profile, maxUnavailable, faults };
}

/** One kind of `mix`, with probability proportional to its weight (default 1). */
function weightedPick(mix: readonly FaultKind[], weights: Partial<Record<FaultKind, number>>, r: Prng): FaultKind {
  const total = mix.reduce((a, k) => a + (weights[k] ?? 1), 0);
  let x = r.next() * total;
  for (const k of mix) {
    x -= weights[k] ?? 1;
    if (x < 0) return k;
  }
  return mix[mix.length - 1] as FaultKind;
}

const failPhases: readonly Phase[] = ['launching', 'attaching', 'mounting', 'configuring', 'joining'];

/** One fault of `kind`, starting within `windowMs` of the roll's start (see `faultWindowMs`). */
function randomFault(kind: FaultKind, nodes: number, profile: 'fast' | 'realistic', windowMs: number, r: Prng): Fault {
  const u = profileUnitMs(profile);
  const atMs = r.int(0, windowMs);
  const stabilityMs = FAULT_CATALOGUE[kind].stabilityMs * (u / 1000);
  const nodeId = `chaos-${r.int(1, nodes)}`;
  const durationMs = r.int(5 * u, 180 * u);
  // Partitions and AZ outages: half of them long in absolute time (see LONG_NODE_FAULT_MS).
  const nodeFaultMs = () => (r.chance(0.5) ? r.int(LONG_NODE_FAULT_MS.min, LONG_NODE_FAULT_MS.max) : durationMs);
  switch (kind) {
    case 'kill-instance':
    case 'spot-interruption':
      return { kind, atMs, stabilityMs, nodeId };
    case 'az-outage':
      return { kind, atMs, stabilityMs, azIndex: r.int(0, 2), durationMs: nodeFaultMs() };
    case 'partition':
      return { kind, atMs, stabilityMs, nodeId, durationMs: nodeFaultMs() };
    case 'stuck-attach':
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
    case 'same-holder-controller':
      return { kind, atMs, stabilityMs };
    case 'slow-hook':
      return {
        kind,
        atMs,
        stabilityMs,
        hook: r.chance(0.5) ? 'beforeReplace' : 'clusterHealthy',
        durationMs: r.chance(0.5) ? r.int(u, 60 * u) : r.int(SLOW_HOOK_LONG_MS.min, SLOW_HOOK_LONG_MS.max),
        windowMs: r.int(30 * u, 300 * u),
        ignoresSignal: r.chance(0.5),
      };
  }
}
