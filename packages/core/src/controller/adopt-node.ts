import type { AdoptionCheck, AdoptionSource } from '../adoption.js';
import type { Clock } from '../clock.js';
import type { EnsureNodeResult } from '../driver.js';
import { BerthConfigError, BerthError, BerthTimeoutError, type ConfigIssue } from '../errors.js';
import type { HookContext, RollHooks } from '../hooks.js';
import type { ClusterObservation } from '../observation.js';
import { clusterStatuses, type NodeStatus } from '../plan/node-status.js';
import { quorumOf } from '../plan/quorum.js';
import type { RuntimeDriver } from '../runtime/runtime-driver.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import type { ControllerEvents } from './events.js';
import { HookRunner } from './hook-runner.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { ABORT_SETTLE_BOUND_MS, type HookName } from './roll-defaults.js';

/** What `controller.adopt(nodeId, options)` takes. */
export interface AdoptOptions {
  /**
   * The unmanaged instance whose interface carrying the node's IP and whose data volume the node
   * takes over; instead of (or to check against) the node's `adopt` in the spec.
   */
  readonly instanceId?: string;
  /** The data volume's device name on that instance (e.g. `/dev/sdf`), when it has several non-root volumes. */
  readonly device?: string;
  /** Overrides the controller's `hooks.confirmUnmanagedStopped` for this call. */
  readonly confirmUnmanagedStopped?: RollHooks['confirmUnmanagedStopped'];
  /** How long the node's new instance may take to be InService and healthy. Default 30 minutes. */
  readonly healthTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** What one adoption did. */
export interface AdoptResult {
  readonly nodeId: string;
  readonly eniId: string;
  readonly volumeId: string;
  /** The unmanaged instance the node took over from (null: the ENI and volume were free already). */
  readonly fromInstanceId: string | null;
  /** The node's first instance under Berth, InService and healthy. */
  readonly instanceId: string;
  /** The check before the take-over, the take-over itself, and ensureNode's changes. */
  readonly check: AdoptionCheck;
  readonly takeOver: AdoptionCheck;
  readonly ensured: EnsureNodeResult;
  /** Differences the spec converges later (e.g. a smaller volume that `apply()` grows). */
  readonly notes: readonly string[];
}

export interface AdoptDeps {
  readonly spec: ClusterSpec;
  readonly driver: RuntimeDriver;
  readonly clock: Clock;
  readonly lease: LeaseKeeper;
  readonly hooks: RollHooks;
  readonly hookTimeoutsMs: Partial<Record<HookName, number>>;
  readonly pollIntervalMs: number;
  readonly callLeaseMs: number;
  readonly emit: <K extends 'node.adopting' | 'node.adopted'>(name: K, e: ControllerEvents[K]) => void;
}

const DEFAULT_HEALTH_TIMEOUT_MS = 1_800_000;

/** A node is managed once its ENI carries its tags and it has a group (an adoption that got that far). */
export function isManaged(obs: ClusterObservation, nodeId: string): boolean {
  const o = obs.nodes[nodeId];
  return Boolean(o?.eni && o.group);
}

/**
 * Nodes whose spec asks to adopt resources that are not the node's yet (its ENI is not tagged as
 * its own): `apply()` leaves them to `adopt()`, since creating an ENI would find the IP taken.
 */
export function pendingAdoption(spec: ClusterSpec, obs: ClusterObservation): Set<string> {
  return new Set(spec.nodes.filter((n) => n.adopt !== undefined && !obs.nodes[n.id]?.eni).map((n) => n.id));
}

/**
 * Adopts one node (docs/adopt.md): checks before any change, under the lease and on a fresh look
 * that the other nodes keep a quorum without it; lets the driver check the ENI and volume and set
 * DeleteOnTermination=false on them; asks `confirmUnmanagedStopped`; takes the resources over (a
 * fresh check, tags) only on `true`; provisions the node onto them and waits until its instance is
 * InService and healthy and `clusterHealthy` passes, so the next node can follow.
 */
export async function adoptNode(d: AdoptDeps, nodeId: string, options: AdoptOptions = {}): Promise<AdoptResult> {
  const { spec, driver, clock, lease } = d;
  const signal = options.signal ?? new AbortController().signal;
  const node = spec.nodes.find((n) => n.id === nodeId);
  const subject = `adoption of node ${nodeId}`;
  const issues: ConfigIssue[] = [];
  if (!node) issues.push({ path: 'nodeId', message: `node '${nodeId}' is not in cluster '${spec.name}' (nodes: ${spec.nodes.map((n) => n.id).join(', ')})` });
  const source: AdoptionSource = {
    ...node?.adopt,
    ...(options.instanceId !== undefined && { instanceId: options.instanceId }),
    ...(options.device !== undefined && { device: options.device }),
  };
  if (node && source.instanceId === undefined && (source.eniId === undefined || source.volumeId === undefined)) {
    issues.push({ path: `nodes[${spec.nodes.indexOf(node)}].adopt`, message: `node ${nodeId} names nothing to adopt: give it adopt: { eniId, volumeId } in the spec, or call adopt('${nodeId}', { instanceId })` });
  }
  if (options.instanceId !== undefined && !/^i-[0-9a-f]{8}([0-9a-f]{9})?$/.test(options.instanceId)) issues.push({ path: 'instanceId', message: `'${options.instanceId}' is not an instance id like i-0123456789abcdef0` });
  if (options.device !== undefined && !/^\/dev\/(sd[b-z]|xvd[b-z]|nvme\d+n1)$/.test(options.device)) issues.push({ path: 'device', message: `'${options.device}' is not a data volume device name like /dev/sdf` });
  const confirm = options.confirmUnmanagedStopped ?? d.hooks.confirmUnmanagedStopped;
  if (!confirm) {
    issues.push({ path: 'hooks.confirmUnmanagedStopped', message: `adopting node ${nodeId} needs a confirmUnmanagedStopped hook (in the controller's hooks or adopt()'s options) that says when the unmanaged instance is terminated; without it Berth detaches and attaches nothing` });
  }
  if (issues.length > 0) throw new BerthConfigError(issues, subject);
  if (!driver.capabilities.adoption) {
    // The runtime driver raises the capability error itself; say so before taking the lease.
    await driver.checkAdoption(spec, nodeId, source, { signal });
  }
  const runner = new HookRunner(clock, spec, d.hookTimeoutsMs);
  await lease.acquire(signal);
  try {
    const before = await driver.observe(spec, { scope: 'full', signal });
    if (isManaged(before, nodeId)) {
      throw new BerthError('CONFIG_INVALID', `node ${nodeId} is already managed by Berth (its network interface ${before.nodes[nodeId]?.eni?.eniId ?? '?'} carries its tags and it has an Auto Scaling group): nothing to adopt. Remove its adopt entry, or use apply()/roll() for it.`);
    }
    // Read-only first: a bad ENI or volume is refused whatever the cluster's health.
    await driver.checkAdoption(spec, nodeId, source, { signal });
    await checkQuorum(d, runner, nodeId, before, signal);
    await lease.ensure(signal, d.callLeaseMs);
    const check = await driver.checkAdoption(spec, nodeId, source, { protect: true, signal });
    d.emit('node.adopting', { nodeId, eniId: check.eniId, volumeId: check.volumeId, instanceId: check.instanceId, atMs: clock.now() });
    const fresh = await driver.observe(spec, { scope: 'full', signal });
    const confirmed = await runner.run('confirmUnmanagedStopped', nodeId, fresh, signal, (ctx: HookContext) => (confirm as NonNullable<typeof confirm>)(nodeId, check.instanceId, ctx), false);
    if (confirmed !== true) {
      throw new BerthError(
        'HOOK_FAILED',
        `Hook 'confirmUnmanagedStopped' for node ${nodeId} did not confirm that ${check.instanceId ?? 'the unmanaged instance'} is terminated: nothing was detached, attached or tagged. ` +
          `${check.changes.length > 0 ? 'Only DeleteOnTermination=false was set, so terminating that instance keeps the network interface and volume. ' : ''}Terminate it (or let the hook do so) and call adopt('${nodeId}') again.`,
      );
    }
    // Check at the moment of use: the other nodes' quorum on a fresh look (the hook may have
    // taken this node's member down already, so not the application's verdict), then the
    // take-over under the lease.
    const now = await driver.observe(spec, { scope: 'instances', signal });
    checkQuorumCount(d, nodeId, now, true);
    await lease.ensure(signal, d.callLeaseMs);
    const takeOver = await driver.takeOverAdoption(spec, nodeId, source, { signal });
    await lease.ensure(signal, d.callLeaseMs);
    const ensured = await driver.ensureNode(spec, nodeId, { signal });
    const instanceId = await waitHealthy(d, runner, nodeId, options.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS, signal);
    const notes = [...new Set([...check.notes, ...takeOver.notes])];
    d.emit('node.adopted', { nodeId, eniId: takeOver.eniId, volumeId: takeOver.volumeId, fromInstanceId: check.instanceId, instanceId, atMs: clock.now() });
    return { nodeId, eniId: takeOver.eniId, volumeId: takeOver.volumeId, fromInstanceId: check.instanceId, instanceId, check, takeOver, ensured, notes };
  } finally {
    await lease.release(ABORT_SETTLE_BOUND_MS);
  }
}

/**
 * Adopting a node takes it down: the other nodes must hold a quorum without it. Managed nodes
 * count when healthy; nodes not yet adopted run outside Berth, which cannot see their health, so
 * they count as up and the `clusterHealthy` hook (the application's verdict) must pass.
 */
async function checkQuorum(d: AdoptDeps, runner: HookRunner, nodeId: string, obs: ClusterObservation, signal: AbortSignal): Promise<void> {
  checkQuorumCount(d, nodeId, obs, false);
  const healthy = await runner.run('clusterHealthy', nodeId, obs, signal, d.hooks.clusterHealthy ? (ctx) => (d.hooks.clusterHealthy as NonNullable<RollHooks['clusterHealthy']>)(ctx) : undefined, true);
  if (!healthy) {
    throw new BerthError('ROLL_HALTED', `node ${nodeId} was not adopted: the clusterHealthy hook says the application is not healthy. Nothing was changed. Adopt again once it is.`);
  }
}

/** The managed nodes other than `nodeId` that are down must leave room for taking `nodeId` down. */
function checkQuorumCount(d: AdoptDeps, nodeId: string, obs: ClusterObservation, fresh: boolean): void {
  const q = quorumOf(d.spec.nodes.length);
  const statuses = clusterStatuses(d.spec, obs);
  const down = statuses.filter((s: NodeStatus) => s.nodeId !== nodeId && isManaged(obs, s.nodeId) && !s.healthy).map((s) => s.nodeId);
  if (down.length + 1 > q.tolerance) {
    throw new BerthError(
      'ROLL_HALTED',
      `node ${nodeId} was not adopted: taking it down while ${down.length > 0 ? down.join(', ') : 'no other node'} ${down.length === 1 ? 'is' : 'are'} down would leave fewer than ${q.quorum} of ${q.size} members (tolerance ${q.tolerance}). ` +
        `Nothing was ${fresh ? 'detached, attached or tagged (DeleteOnTermination=false is set)' : 'changed'}. Wait until the other nodes are healthy, then adopt again.`,
    );
  }
}

/** Polls until the node's instance is InService and healthy (and `clusterHealthy` agrees): the health gate before the next node. */
async function waitHealthy(d: AdoptDeps, runner: HookRunner, nodeId: string, timeoutMs: number, signal: AbortSignal): Promise<string> {
  const deadline = d.clock.now() + timeoutMs;
  let last: NodeStatus | undefined;
  for (;;) {
    const obs = await d.driver.observe(d.spec, { scope: 'instances', signal });
    last = clusterStatuses(d.spec, obs).find((s) => s.nodeId === nodeId);
    if (last?.healthy && last.current) {
      const ok = await runner.run('clusterHealthy', nodeId, obs, signal, d.hooks.clusterHealthy ? (ctx) => (d.hooks.clusterHealthy as NonNullable<RollHooks['clusterHealthy']>)(ctx) : undefined, true);
      if (ok) return last.current.instanceId;
    }
    if (d.clock.now() >= deadline) {
      throw new BerthTimeoutError(
        `node ${nodeId} took over its network interface and volume, but its instance did not become InService and healthy within ${Math.round(timeoutMs / 1000)} s ` +
          `(state ${last?.state ?? 'unknown'}, phase ${last?.phase ?? 'none'}${last?.cause ? `, ${last.cause}` : ''}). The node is Berth's now: fix the cause and run apply(); do not adopt the next node before this one is healthy.`,
      );
    }
    await d.clock.sleep(d.pollIntervalMs, signal);
  }
}
