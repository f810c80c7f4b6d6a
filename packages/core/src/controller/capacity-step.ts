import type { Clock } from '../clock.js';
import { BerthLockError } from '../errors.js';
import type { RollHooks } from '../hooks.js';
import type { ClusterObservation } from '../observation.js';
import { clusterStatuses } from '../plan/node-status.js';
import { planCapacity, trackSpotMissing } from '../plan/plan-capacity.js';
import { quorumOf } from '../plan/quorum.js';
import type { RuntimeDriver } from '../runtime/runtime-driver.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import type { ControllerEvents } from './events.js';
import type { HookRunner } from './hook-runner.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { ABORT_SETTLE_BOUND_MS } from './roll-defaults.js';

/** What {@link capacityStep} needs of the controller. */
export interface CapacityStepDeps {
  readonly spec: ClusterSpec;
  readonly driver: RuntimeDriver;
  readonly clock: Clock;
  readonly lease: LeaseKeeper;
  readonly hooks: RollHooks;
  readonly hookRunner: HookRunner;
  readonly freshnessMs: number;
  readonly callLeaseMs: number;
  readonly emit: <K extends keyof ControllerEvents>(name: K, e: ControllerEvents[K]) => void;
  /** Since when earlier looks of this watch saw each node's spot capacity missing (trackSpotMissing). */
  readonly spotMissing: Map<string, number>;
}

/**
 * One pass of `watch()` over the spot nodes' markets (plan-capacity.ts): falls back the nodes
 * whose spot capacity has been missing long enough (no disruption: they have no instance), and
 * returns to spot the nodes whose fallback is over — replacing at most one running on-demand
 * instance per pass, with `beforeReplace` first, then on a fresh look, only when every other node
 * is healthy enough to keep a quorum without it, under the lease. Skipped while another
 * controller holds the lease (a roll); the state is on the groups, so the next pass (or a new
 * controller) picks it up.
 */
export async function capacityStep(deps: CapacityStepDeps, observation: ClusterObservation, signal: AbortSignal): Promise<void> {
  const { spec, driver, clock, lease, emit } = deps;
  if (!driver.capabilities.spot) return;
  trackSpotMissing(deps.spotMissing, observation);
  const steps = planCapacity(observation, spec, clock.now(), deps.spotMissing);
  if (steps.length === 0) return;
  // This controller holds the lease already (its roll or apply()): the next pass does it.
  if (lease.held) return;
  try {
    await lease.acquire(signal);
  } catch (err) {
    if (err instanceof BerthLockError && err.code === 'LOCK_HELD') return;
    throw err;
  }
  try {
    const q = quorumOf(spec.nodes.length);
    for (const step of steps) {
      if (step.replaceInstanceId === null) {
        await lease.ensure(signal, deps.callLeaseMs);
        await driver.setCapacityMarket(spec, step.nodeId, step.action === 'fall-back' ? 'on-demand' : 'spot', { signal });
        emit('node.capacity', { nodeId: step.nodeId, market: step.action === 'fall-back' ? 'on-demand' : 'spot', reason: step.reason, replacedInstanceId: null, atMs: clock.now() });
        continue;
      }
      // A disruption: quorum first on what we saw, then the hook, then a fresh look.
      const others = clusterStatuses(spec, observation).filter((s) => s.nodeId !== step.nodeId && s.healthy).length;
      if (others < q.quorum) continue;
      const before = deps.hooks.beforeReplace;
      if (before) await deps.hookRunner.run('beforeReplace', step.nodeId, observation, signal, (ctx) => before(step.nodeId, ctx), undefined);
      const fresh = await driver.observe(spec, { scope: 'instances', signal });
      const now = clusterStatuses(spec, fresh);
      const self = now.find((s) => s.nodeId === step.nodeId);
      if (self?.current?.instanceId !== step.replaceInstanceId || !self.healthy) continue;
      if (now.filter((s) => s.nodeId !== step.nodeId && s.healthy).length < q.quorum) continue;
      await lease.ensure(signal, deps.callLeaseMs);
      await driver.setCapacityMarket(spec, step.nodeId, 'spot', { signal });
      await lease.ensure(signal, deps.callLeaseMs);
      await driver.replaceInstance(spec, step.nodeId, step.replaceInstanceId, { signal, notAfterMs: fresh.observedAtMs + deps.freshnessMs });
      emit('node.capacity', { nodeId: step.nodeId, market: 'spot', reason: step.reason, replacedInstanceId: step.replaceInstanceId, atMs: clock.now() });
      emit('node.replacing', { nodeId: step.nodeId, instanceId: step.replaceInstanceId, atMs: clock.now() });
      break; // one disruption per pass: the next pass sees the node down and waits for it
    }
  } finally {
    await lease.release(ABORT_SETTLE_BOUND_MS);
  }
}
