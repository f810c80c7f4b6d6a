import fc from 'fast-check';
import type { Phase } from '@berth/core';
import { FAULT_CATALOGUE, FAULT_KINDS } from '../faults/fault-catalogue.js';
import { GATE_FAULT_KINDS, type Fault, type FaultKind } from '../faults/fault.js';
import { AT_NEXT_GATE_SHARE, faultWindowMs, gateWaitMs, LONG_NODE_FAULT_MS, profileUnitMs, SLOW_HOOK_LONG_MS } from './fault-window.js';
import type { Scenario } from './scenario.js';

export interface ArbitraryOptions {
  /** Cluster sizes to draw from (odd). Default [3, 5]. */
  readonly sizes?: readonly number[];
  readonly profile?: 'fast' | 'realistic';
  /** Fault kinds allowed (default: the whole catalogue). */
  readonly kinds?: readonly FaultKind[];
  readonly maxFaults?: number;
}


/** A cluster size (odd, ≥ 3). */
export const clusterSizeArb = (sizes: readonly number[] = [3, 5]) => fc.constantFrom(...sizes);

/** Roll options: maxUnavailable 1..3 (the planner caps it by the tolerance). */
export const rollOptionsArb = () => fc.record({ maxUnavailable: fc.integer({ min: 1, max: 3 }) });

const nodeIdArb = (nodes: number) => fc.integer({ min: 1, max: nodes }).map((i) => `chaos-${i}`);
const failPhases: readonly Phase[] = ['launching', 'attaching', 'mounting', 'configuring', 'joining'];

/**
 * One fault of `kind` for a cluster of `nodes`, with times scaled to the profile, starting within
 * `windowMs` of the roll's start (default: 240 profile units; `faultWindowMs` gives a roll's length).
 */
export function faultArb(kind: FaultKind, nodes: number, profile: 'fast' | 'realistic', windowMs = 240 * profileUnitMs(profile)): fc.Arbitrary<Fault> {
  const plain = plainFaultArb(kind, nodes, profile, windowMs);
  if (!GATE_FAULT_KINDS.includes(kind)) return plain;
  // A share of the node losses wait for the controller's next gate (see `Fault.atNextGate`).
  const gate = fc.double({ min: 0, max: 1, noNaN: true }).map((x) => x < AT_NEXT_GATE_SHARE);
  return fc.tuple(plain, gate).map(([f, atGate]): Fault => (atGate ? { ...f, atNextGate: { withinMs: gateWaitMs(profile) } } : f));
}

function plainFaultArb(kind: FaultKind, nodes: number, profile: 'fast' | 'realistic', windowMs: number): fc.Arbitrary<Fault> {
  const u = profileUnitMs(profile);
  const at = fc.integer({ min: 0, max: windowMs });
  const dur = fc.integer({ min: 5 * u, max: 180 * u });
  // Partitions and AZ outages: half of them long in absolute time (see LONG_NODE_FAULT_MS).
  const nodeFaultDur = fc.oneof(dur, fc.noBias(fc.integer(LONG_NODE_FAULT_MS)));
  const stabilityMs = FAULT_CATALOGUE[kind].stabilityMs * (u / 1000);
  const node = nodeIdArb(nodes);
  switch (kind) {
    case 'kill-instance':
    case 'spot-interruption':
      return fc.record({ kind: fc.constant(kind), atMs: at, stabilityMs: fc.constant(stabilityMs), nodeId: node }) as fc.Arbitrary<Fault>;
    case 'az-outage':
      return fc.record({ kind: fc.constant(kind), atMs: at, stabilityMs: fc.constant(stabilityMs), azIndex: fc.integer({ min: 0, max: 2 }), durationMs: nodeFaultDur });
    case 'partition':
      return fc.record({ kind: fc.constant(kind), atMs: at, stabilityMs: fc.constant(stabilityMs), nodeId: node, durationMs: nodeFaultDur });
    case 'stuck-attach':
      return fc.record({ kind: fc.constant(kind), atMs: at, stabilityMs: fc.constant(stabilityMs), nodeId: node, durationMs: dur });
    case 'slow-attach':
      return fc.record({ kind: fc.constant(kind), atMs: at, stabilityMs: fc.constant(stabilityMs), nodeId: node, factor: fc.integer({ min: 2, max: 20 }), durationMs: dur });
    case 'eni-release-delay':
      return fc.record({ kind: fc.constant(kind), atMs: at, stabilityMs: fc.constant(stabilityMs), delayMs: fc.integer({ min: u, max: 120 * u }), durationMs: dur });
    case 'bad-image':
      return fc.record({ kind: fc.constant(kind), atMs: at, stabilityMs: fc.constant(stabilityMs), phase: fc.constantFrom(...failPhases), reason: fc.constant('injected bad image') });
    case 'slow-boot':
      return fc.record({ kind: fc.constant(kind), atMs: at, stabilityMs: fc.constant(stabilityMs), factor: fc.integer({ min: 2, max: 10 }), durationMs: dur });
    case 'api-throttle':
    case 'api-5xx':
      return fc.record({ kind: fc.constant(kind), atMs: at, stabilityMs: fc.constant(stabilityMs), rate: fc.double({ min: 0.05, max: 0.9, noNaN: true }).map((r) => Math.round(r * 100) / 100), durationMs: dur }) as fc.Arbitrary<Fault>;
    case 'consistency-lag':
      return fc.record({ kind: fc.constant(kind), atMs: at, stabilityMs: fc.constant(stabilityMs), lagMs: fc.integer({ min: u, max: 30 * u }), durationMs: dur });
    case 'controller-crash':
      return fc.record({ kind: fc.constant(kind), atMs: at, stabilityMs: fc.constant(stabilityMs), restart: fc.constantFrom('same-holder' as const, 'new-holder' as const), downMs: fc.integer({ min: 0, max: 60 * u }) });
    case 'second-controller':
    case 'same-holder-controller':
      return fc.record({ kind: fc.constant(kind), atMs: at, stabilityMs: fc.constant(stabilityMs) }) as fc.Arbitrary<Fault>;
    case 'slow-hook':
      return fc.record({
        kind: fc.constant(kind),
        atMs: at,
        stabilityMs: fc.constant(stabilityMs),
        hook: fc.constantFrom('beforeReplace' as const, 'clusterHealthy' as const),
        durationMs: fc.oneof(fc.integer({ min: u, max: 60 * u }), fc.noBias(fc.integer(SLOW_HOOK_LONG_MS))),
        windowMs: fc.integer({ min: 30 * u, max: 300 * u }),
        ignoresSignal: fc.boolean(),
      });
  }
}

/**
 * A fault schedule in swarm mode: first a fault mix (a subset of kinds), then faults from that
 * mix only, so each run explores a differently disturbed world.
 */
export function faultScheduleArb(nodes: number, profile: 'fast' | 'realistic', options: { kinds?: readonly FaultKind[]; maxFaults?: number; windowMs?: number } = {}): fc.Arbitrary<Fault[]> {
  const kinds = options.kinds ?? FAULT_KINDS;
  return fc
    .subarray([...kinds], { minLength: 1 })
    .chain((mix) => fc.array(fc.constantFrom(...mix).chain((k) => faultArb(k, nodes, profile, options.windowMs)), { maxLength: options.maxFaults ?? 4 }));
}

/** A whole scenario: seed, size, roll options and a swarm fault schedule. */
export function scenarioArb(options: ArbitraryOptions = {}): fc.Arbitrary<Scenario> {
  const profile = options.profile ?? 'fast';
  return fc.tuple(fc.integer({ min: 1, max: 0x7fffffff }), clusterSizeArb(options.sizes), rollOptionsArb()).chain(([seed, nodes, roll]) =>
    faultScheduleArb(nodes, profile, { kinds: options.kinds, maxFaults: options.maxFaults, windowMs: faultWindowMs(nodes, roll.maxUnavailable, profile) }).map((faults): Scenario => ({ seed, nodes, profile, maxUnavailable: roll.maxUnavailable, faults })),
  );
}
