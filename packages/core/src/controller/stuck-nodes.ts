import type { Clock } from '../clock.js';
import { BerthLockError, isAbortError } from '../errors.js';
import { clusterStatuses, parseFailureReason, type NodeStatus } from '../plan/node-status.js';
import { quorumOf } from '../plan/quorum.js';
import type { RuntimeDriver } from '../runtime/runtime-driver.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import type { ControllerEvents } from './events.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { ABORT_SETTLE_BOUND_MS } from './roll-defaults.js';

/** What `watch()` does with a stuck node: report it (`node.stuck`), or also abandon its launch. */
export type OnStuck = 'report' | 'abandon';

/** A node that has not come into service for longer than the bound, and why as far as AWS and the bootstrap say. */
export interface StuckNode {
  readonly nodeId: string;
  /** The instance it waits on (null: no instance, e.g. launches keep failing). */
  readonly instanceId: string | null;
  /** Its Auto Scaling lifecycle state (`Pending:Wait`: held by the launch hook). */
  readonly lifecycleState: string | null;
  /** The last phase the bootstrap reported (`berth:phase`), else the node's state. */
  readonly phase: string;
  /** Since when: the instance's launch, or when the node was first seen down without one. */
  readonly sinceMs: number;
  readonly stuckMs: number;
  /** The bootstrap's failure reason when it reported `failed:<phase>:<reason>`; else null. */
  readonly reason: string | null;
  /** The group's latest failed scaling activity (e.g. the ENI still in use); else null. */
  readonly activity: string | null;
}

/**
 * The default bound: the bootstrap's own deadlines (attach + configure + health timeouts), by
 * which it has either completed the launch or reported a failure, plus one heartbeat timeout
 * (a bootstrap that never ran sends no heartbeat, and AWS applies the hook's default result
 * after it, ASG-4). An instance still in `Pending:Wait` after that is held by a bootstrap that
 * failed and waits for repair (`onFailure: 'wait'`) or hangs while heartbeating.
 */
export function defaultStuckAfterMs(spec: ClusterSpec): number {
  const b = spec.bootstrap;
  return (b.attachTimeoutSec + b.configureTimeoutSec + b.healthTimeoutSec + spec.lifecycle.heartbeatTimeoutSec) * 1000;
}

/**
 * The node as stuck, when it is down (not paused) for longer than `stuckAfterMs`: measured from
 * its current instance's launch, or from `downSinceMs` when it has no instance. Null otherwise.
 */
export function stuckNode(s: NodeStatus, nowMs: number, stuckAfterMs: number, downSinceMs: number = nowMs): StuckNode | null {
  if (s.healthy || s.paused || !s.provisioned || s.state === 'interrupted') return null;
  const c = s.current;
  const sinceMs = c ? c.launchedAtMs : downSinceMs;
  if (nowMs - sinceMs <= stuckAfterMs) return null;
  let reason: string | null = null;
  if (c?.phase === 'failed') {
    const f = parseFailureReason(c.phaseReason);
    reason = `${f.phase ? `${f.phase}: ` : ''}${f.reason}`;
  }
  return {
    nodeId: s.nodeId,
    instanceId: c?.instanceId ?? null,
    lifecycleState: c?.lifecycleState ?? null,
    phase: c?.phase === 'failed' ? `failed${reason ? ` (${reason})` : ''}` : (s.phase ?? s.state),
    sinceMs,
    stuckMs: nowMs - sinceMs,
    reason,
    activity: s.lastActivityError,
  };
}

/**
 * Whether abandoning `instanceId`'s launch is safe on this look. The instance is in
 * `Pending:Wait`, so its node already counts as down: abandoning takes no healthy member away,
 * and the node's ENI and volume survive the termination (ENI-5, EBS-5). What it does lose is
 * the chance that this instance still comes into service. So it is allowed when the other
 * nodes hold a quorum without it (nothing rides on this instance), or when the instance
 * reported `failed` (it will not come into service without a repair by hand, so waiting wins
 * nothing); otherwise — the cluster without a quorum and an instance still booting — waiting
 * may restore the quorum sooner than a new boot, and the abandon is deferred.
 */
export function abandonVerdict(spec: ClusterSpec, statuses: readonly NodeStatus[], nodeId: string, instanceId: string): { readonly ok: true } | { readonly ok: false; readonly reason: string } {
  const self = statuses.find((s) => s.nodeId === nodeId);
  const c = self?.current;
  if (!self || c?.instanceId !== instanceId) return { ok: false, reason: `instance ${instanceId} is no longer the node's current instance` };
  if (c.lifecycleState !== 'Pending:Wait') return { ok: false, reason: `instance ${instanceId} is ${c.lifecycleState}, not Pending:Wait: there is no launch to abandon` };
  if (self.paused) return { ok: false, reason: `node ${nodeId} is paused` };
  const q = quorumOf(spec.nodes.length);
  const healthy = statuses.filter((s) => s.nodeId !== nodeId && s.healthy).length;
  if (healthy >= q.quorum) return { ok: true };
  if (c.phase === 'failed') return { ok: true };
  return {
    ok: false,
    reason: `the other nodes hold no quorum (${healthy} healthy, quorum ${q.quorum}) and ${instanceId} is still booting (${c.phase ?? 'no phase reported'}): it may restore the quorum sooner than a new instance would`,
  };
}

export interface AbandonDeps {
  readonly spec: ClusterSpec;
  readonly driver: RuntimeDriver;
  readonly clock: Clock;
  readonly lease: LeaseKeeper;
  readonly emit: <K extends keyof ControllerEvents>(name: K, e: ControllerEvents[K]) => void;
  readonly callLeaseMs: number;
  readonly freshnessMs: number;
  /** This controller runs a roll (it holds the lease for it; the roll handles its nodes). */
  readonly rollActive: () => boolean;
}

/**
 * Abandons a stuck instance's launch, at most once per instance (the caller keeps `attempted`):
 * the verdict on the caller's look first, then under the lease (a roll holding it owns its
 * nodes: deferred) a fresh look, the verdict again, and `CompleteLifecycleAction ABANDON`.
 * Emits `node.abandoned`, or `node.abandon-deferred` once per instance with the reason.
 * Returns whether it abandoned.
 */
export async function abandonStuck(d: AbandonDeps, stuck: StuckNode, statuses: readonly NodeStatus[], attempted: Set<string>, deferred: Set<string>, signal: AbortSignal): Promise<boolean> {
  const instanceId = stuck.instanceId;
  if (instanceId === null || attempted.has(instanceId)) return false;
  const defer = (reason: string) => {
    if (deferred.has(instanceId)) return false;
    deferred.add(instanceId);
    d.emit('node.abandon-deferred', { nodeId: stuck.nodeId, instanceId, reason, atMs: d.clock.now() });
    return false;
  };
  const first = abandonVerdict(d.spec, statuses, stuck.nodeId, instanceId);
  if (!first.ok) return defer(first.reason);
  if (d.rollActive()) return defer('this controller is running a roll, which holds the lease and handles its own nodes');
  try {
    await d.lease.acquire(signal);
  } catch (err) {
    if (err instanceof BerthLockError && err.code === 'LOCK_HELD') return defer(`another controller holds the cluster's lease (a roll there handles its own nodes): ${err.message}`);
    throw err;
  }
  try {
    const fresh = await d.driver.observe(d.spec, { scope: 'instances', signal });
    const verdict = abandonVerdict(d.spec, clusterStatuses(d.spec, fresh), stuck.nodeId, instanceId);
    if (!verdict.ok) return defer(verdict.reason);
    if (d.clock.now() - fresh.observedAtMs > d.freshnessMs) return false; // too slow a look: decide on the next one
    await d.lease.ensure(signal, d.callLeaseMs);
    attempted.add(instanceId);
    try {
      await d.driver.completeLifecycle(d.spec, stuck.nodeId, instanceId, 'ABANDON', { signal });
    } catch (err) {
      if (signal.aborted || isAbortError(err)) throw err;
      // E.g. the action ended meanwhile ("No active Lifecycle Action found", ASG-5).
      return defer(`CompleteLifecycleAction ABANDON failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    d.emit('node.abandoned', { nodeId: stuck.nodeId, instanceId, stuckMs: d.clock.now() - stuck.sinceMs, atMs: d.clock.now() });
    return true;
  } finally {
    await d.lease.release(ABORT_SETTLE_BOUND_MS);
  }
}
