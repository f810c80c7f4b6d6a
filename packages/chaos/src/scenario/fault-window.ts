import { quorumOf } from '@berth/core';

/** Virtual time unit of a profile: the fast profile runs ~100× faster than the realistic one. */
export const profileUnitMs = (profile: 'fast' | 'realistic'): number => (profile === 'fast' ? 10 : 1000);

/** Virtual time per batch of a clean roll, in profile units (measured: 220–440 fast, 120–240 s realistic). */
const BATCH_UNITS = 250;

/**
 * The window fault start times are drawn from, in ms after the roll starts: about as long as a
 * clean roll of this shape takes (batches × 250 profile units, at least 240 units), so that
 * faults land in every batch, in the gates and hooks between them and mid-replacement — not only
 * in the first batch. (Until 2026-12 it was 240 units for every shape: a fast 3-node roll takes
 * ~7.5 s, so faults only ever met its first batch.)
 */
export function faultWindowMs(nodes: number, maxUnavailable: number, profile: 'fast' | 'realistic'): number {
  const perBatch = Math.max(1, Math.min(maxUnavailable, quorumOf(nodes).tolerance));
  const batches = Math.ceil(nodes / perBatch);
  return Math.max(240, batches * BATCH_UNITS) * profileUnitMs(profile);
}

/** How long a fault `atNextGate` waits for a gate, at most: about one batch. */
export const gateWaitMs = (profile: 'fast' | 'realistic'): number => BATCH_UNITS * profileUnitMs(profile);

/** The share of kill, partition, spot and AZ faults a schedule starts at a controller's next gate. */
export const AT_NEXT_GATE_SHARE = 1 / 3;

/**
 * How long a `slow-hook` fault's hook takes. Half of them are short (profile units, like every
 * other fault); half are long in absolute time, from 20 s to 40 min, because the bounds they test
 * are absolute: the lease (10 min), the hook timeouts (`clusterHealthy` 60 s, `beforeReplace`
 * 30 min) and the freshness bound (10 s) do not scale with the profile.
 */
export const SLOW_HOOK_LONG_MS = { min: 20_000, max: 2_400_000 } as const;

/**
 * Long node faults in absolute time: half of the partitions and AZ outages in the fast profile
 * last 5 s to 3 min, whatever the profile (the realistic profile's own range is the same). A
 * fault that must still be acting when a stale decision lands has to outlast the controller's
 * absolute bounds (10 s freshness, a gate's back-off of up to 15 s), which a fast-profile
 * fault of at most 1.8 s never does.
 */
export const LONG_NODE_FAULT_MS = { min: 5_000, max: 180_000 } as const;
