import type { Clock } from '../clock.js';
import type { ResourceChange } from '../driver.js';
import { BerthCapabilityError, BerthConfigError, BerthLockError, BerthNodeRefusedError, BerthTimeoutError } from '../errors.js';
import type { RollHooks } from '../hooks.js';
import type { ClusterObservation } from '../observation.js';
import { clusterStatuses, type NodeStatus } from '../plan/node-status.js';
import { quorumOf } from '../plan/quorum.js';
import type { RuntimeDriver } from '../runtime/runtime-driver.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import type { ControllerEvents } from './events.js';
import type { HookRunner } from './hook-runner.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { ABORT_SETTLE_BOUND_MS } from './roll-defaults.js';
import type { TargetGate } from './target-gate.js';

/** Options of `controller.pauseNode()`. */
export interface PauseNodeOptions {
  readonly signal?: AbortSignal;
  /** Hooks for this call, on top of the controller's (`beforeReplace` runs before the node goes). */
  readonly hooks?: RollHooks;
}

/** Options of `controller.resumeNode()`. */
export interface ResumeNodeOptions {
  readonly signal?: AbortSignal;
  /**
   * Wait until the node's new instance is InService and healthy (then register it with the
   * spec's target groups and run `afterReplace`), holding the lease meanwhile. Default false:
   * resolve once the group is scaled back to 1; `watch()` or `apply()` registers the instance.
   */
  readonly wait?: boolean;
  /** With `wait`: how long the node may take to be healthy. Default 1 800 000 ms (30 min). */
  readonly timeoutMs?: number;
  /** Hooks for this call, on top of the controller's (`afterReplace` runs once it is healthy, with `wait`). */
  readonly hooks?: RollHooks;
}

/** What `pauseNode()` / `resumeNode()` did. */
export interface NodePauseResult {
  readonly nodeId: string;
  /** `pause`: the instance that was stopped (null when it had none); `resume`: the new instance when waited for. */
  readonly instanceId: string | null;
  /** Nothing to do: the node was already paused (pause) or not paused (resume). */
  readonly unchanged: boolean;
  readonly changes: readonly ResourceChange[];
}

export interface PauseDeps {
  readonly spec: ClusterSpec;
  readonly driver: RuntimeDriver;
  readonly clock: Clock;
  readonly lease: LeaseKeeper;
  readonly hooks: RollHooks;
  readonly hookRunner: HookRunner;
  readonly gate: TargetGate;
  readonly emit: <K extends keyof ControllerEvents>(name: K, e: ControllerEvents[K]) => void;
  readonly callLeaseMs: number;
  readonly freshnessMs: number;
  readonly pollIntervalMs: number;
  /** This controller runs a roll now (it holds the lease for it). */
  readonly rollActive: () => boolean;
}

/** Bad input and missing capabilities fail before any call. */
function precheck(d: PauseDeps, op: 'pauseNode' | 'resumeNode', nodeId: string): void {
  if (typeof nodeId !== 'string' || !d.spec.nodes.some((n) => n.id === nodeId)) {
    throw new BerthConfigError([{ path: 'nodeId', message: `${op}(${JSON.stringify(nodeId)}): no such node in cluster '${d.spec.name}'; its nodes are ${d.spec.nodes.map((n) => n.id).join(', ')}` }]);
  }
  if (!d.driver.canPauseNodes) throw new BerthCapabilityError('pauseNodes', d.driver.name, `${op}(${nodeId})`);
  if (d.rollActive()) {
    throw new BerthNodeRefusedError(op, nodeId, `${op}(${nodeId}) refused: this controller is running a roll, which holds the cluster's lease; wait until it ends (or abort it), then try again.`);
  }
}

/**
 * Takes the lease, or refuses naming who holds it (a roll elsewhere, another controller): a
 * `BerthLockError` `LOCK_HELD`, as `roll()` and `apply()` reject then.
 */
async function takeLease(d: PauseDeps, op: string, nodeId: string, signal: AbortSignal | undefined): Promise<void> {
  try {
    await d.lease.acquire(signal);
  } catch (err) {
    if (err instanceof BerthLockError && err.code === 'LOCK_HELD') {
      throw new BerthLockError('LOCK_HELD', `${op}(${nodeId}) refused: another controller holds the cluster's lease (${err.message}); a roll there owns the cluster until it ends. Try again then.`, {
        holder: err.holder,
        expiresAtMs: err.expiresAtMs,
        cause: err,
      });
    }
    throw err;
  }
}

/** Refuses unless the nodes other than `nodeId` hold a quorum of healthy members on this look. */
function checkQuorum(nodeId: string, statuses: readonly NodeStatus[]): void {
  const q = quorumOf(statuses.length);
  const others = statuses.filter((s) => s.nodeId !== nodeId);
  const healthy = others.filter((s) => s.healthy);
  if (healthy.length >= q.quorum) return;
  const down = others.filter((s) => !s.healthy).map((s) => `${s.nodeId} (${s.state})`);
  throw new BerthNodeRefusedError(
    'pauseNode',
    nodeId,
    `pauseNode(${nodeId}) refused: without ${nodeId}, ${healthy.length} of ${q.size} nodes would be healthy, fewer than the quorum of ${q.quorum} ` +
      `(down: ${down.join(', ') || 'none'}). Wait until they are healthy (or resume a paused one), then try again.`,
  );
}

async function look(d: PauseDeps, signal: AbortSignal | undefined): Promise<{ obs: ClusterObservation; statuses: NodeStatus[] }> {
  const obs = await d.driver.observe(d.spec, { scope: 'instances', signal });
  return { obs, statuses: clusterStatuses(d.spec, obs) };
}

/**
 * Pauses a node: on a fresh look under the lease, refused unless the other nodes hold a quorum;
 * `beforeReplace` for a node with a running instance, its instance drained from the spec's
 * target groups, a second fresh look (the hook and the drain take time) with the same check,
 * then the driver marks the group paused and scales it to 0.
 */
export async function pauseNode(d: PauseDeps, nodeId: string, options: PauseNodeOptions = {}): Promise<NodePauseResult> {
  precheck(d, 'pauseNode', nodeId);
  const signal = options.signal;
  const callSignal = signal ?? new AbortController().signal;
  await takeLease(d, 'pauseNode', nodeId, signal);
  try {
    let { obs, statuses } = await look(d, signal);
    const self = statuses.find((s) => s.nodeId === nodeId) as NodeStatus;
    if (!self.provisioned) throw new BerthNodeRefusedError('pauseNode', nodeId, `pauseNode(${nodeId}) refused: the node has no Auto Scaling group; run apply() first.`);
    const instanceId = self.current?.instanceId ?? null;
    const group = obs.nodes[nodeId]?.group;
    if (self.paused && instanceId === null && (group?.desiredCapacity ?? 0) === 0) return { nodeId, instanceId: null, unchanged: true, changes: [] };
    checkQuorum(nodeId, statuses);

    const hooks = { ...d.hooks, ...options.hooks };
    const before = hooks.beforeReplace;
    if (instanceId !== null && before) await d.hookRunner.run('beforeReplace', nodeId, obs, callSignal, (ctx) => before(nodeId, ctx), undefined, { disrupting: [nodeId] });
    if (instanceId !== null && d.gate.enabled) await d.gate.drain(nodeId, instanceId, callSignal);

    // The hook and the drain took time: decide on a fresh look (again when the lease renewal
    // made it older than freshnessMs).
    for (;;) {
      ({ obs, statuses } = await look(d, signal));
      try {
        checkQuorum(nodeId, statuses);
      } catch (err) {
        if (instanceId !== null) await d.gate.restore([instanceId], callSignal);
        throw err;
      }
      await d.lease.ensure(signal, d.callLeaseMs);
      if (d.clock.now() - obs.observedAtMs <= d.freshnessMs) break;
    }
    const atMs = d.clock.now();
    const changes = await d.driver.setNodePaused(d.spec, nodeId, true, { signal, atMs });
    d.emit('node.paused', { nodeId, instanceId, atMs: d.clock.now() });
    return { nodeId, instanceId, unchanged: false, changes };
  } finally {
    await d.lease.release(ABORT_SETTLE_BOUND_MS);
  }
}

/**
 * Resumes a paused node under the lease: the driver scales its group back to 1 and removes the
 * mark. With `wait`, holds the lease until the new instance is InService and healthy, then
 * registers it with the target groups and runs `afterReplace`.
 */
export async function resumeNode(d: PauseDeps, nodeId: string, options: ResumeNodeOptions = {}): Promise<NodePauseResult> {
  precheck(d, 'resumeNode', nodeId);
  const signal = options.signal;
  const callSignal = signal ?? new AbortController().signal;
  const timeoutMs = options.timeoutMs ?? 1_800_000;
  if (!(timeoutMs > 0)) throw new BerthConfigError([{ path: 'timeoutMs', message: `resumeNode(${nodeId}): timeoutMs must be a positive number of milliseconds, got ${String(options.timeoutMs)}` }]);
  await takeLease(d, 'resumeNode', nodeId, signal);
  try {
    const { obs, statuses } = await look(d, signal);
    const self = statuses.find((s) => s.nodeId === nodeId) as NodeStatus;
    if (!self.provisioned) throw new BerthNodeRefusedError('resumeNode', nodeId, `resumeNode(${nodeId}) refused: the node has no Auto Scaling group; run apply() first.`);
    const group = obs.nodes[nodeId]?.group;
    const unchanged = !self.paused && group?.desiredCapacity === 1;
    let changes: readonly ResourceChange[] = [];
    if (!unchanged) {
      await d.lease.ensure(signal, d.callLeaseMs);
      changes = await d.driver.setNodePaused(d.spec, nodeId, false, { signal });
      d.emit('node.resumed', { nodeId, atMs: d.clock.now() });
    }
    if (!options.wait) return { nodeId, instanceId: null, unchanged, changes };

    const startedAtMs = d.clock.now();
    for (;;) {
      const now = await look(d, signal);
      const s = now.statuses.find((x) => x.nodeId === nodeId) as NodeStatus;
      if (s.healthy && s.current) {
        // Into the load balancer, and healthy there, before it counts as back.
        if (d.gate.enabled) await d.gate.admit([{ nodeId, instanceId: s.current.instanceId }], Math.max(1, timeoutMs - (d.clock.now() - startedAtMs)), callSignal);
        const after = { ...d.hooks, ...options.hooks }.afterReplace;
        if (after) await d.hookRunner.run('afterReplace', nodeId, now.obs, callSignal, (ctx) => after(nodeId, ctx), undefined);
        return { nodeId, instanceId: s.current.instanceId, unchanged, changes };
      }
      if (d.clock.now() - startedAtMs >= timeoutMs) {
        throw new BerthTimeoutError(`resumeNode(${nodeId}): the node was not InService and healthy within ${Math.round(timeoutMs / 1000)} s (it is ${s.phase ?? s.state}${s.cause ? `; ${s.cause}` : ''}); it stays resumed — watch() or status() show how it goes.`);
      }
      await d.clock.sleep(Math.min(d.pollIntervalMs, Math.max(1, timeoutMs - (d.clock.now() - startedAtMs))), signal);
    }
  } finally {
    await d.lease.release(ABORT_SETTLE_BOUND_MS);
  }
}
