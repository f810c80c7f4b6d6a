import type { Clock } from '../clock.js';
import type { TargetGroupObservation, TargetHealthObservation } from '../driver.js';
import { BerthRollHaltedError } from '../errors.js';
import { formatDuration } from '../format-duration.js';
import type { NodeStatus } from '../plan/node-status.js';
import type { RuntimeDriver } from '../runtime/runtime-driver.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import type { ControllerEvents } from './events.js';
import type { LeaseKeeper } from './lease-keeper.js';

export interface TargetGateDeps {
  readonly spec: ClusterSpec;
  readonly driver: RuntimeDriver;
  readonly clock: Clock;
  readonly lease: LeaseKeeper;
  readonly emit: <K extends keyof ControllerEvents>(name: K, e: ControllerEvents[K]) => void;
  readonly pollIntervalMs: number;
  /** Lease time a mutating call needs left. */
  readonly callLeaseMs: number;
}

/** Extra time past the deregistration delay before a target still draining is reported. */
const DRAIN_GRACE_MS = 60_000;

/**
 * A roll's side of the spec's ELBv2 target groups (`spec.loadBalancer`): an instance leaves
 * every group, and its connections drain for the group's deregistration delay, before it is
 * replaced; a new instance joins every group and must be `healthy` in each before its batch
 * counts as done. Waits sleep through what AWS says the step takes at least (the delay; the
 * healthy threshold × the check interval), then poll.
 */
export class TargetGate {
  readonly #d: TargetGateDeps;
  readonly #arns: readonly string[];

  constructor(deps: TargetGateDeps) {
    this.#d = deps;
    this.#arns = deps.spec.loadBalancer?.targetGroupArns ?? [];
  }

  get enabled(): boolean {
    return this.#arns.length > 0;
  }

  /**
   * Deregisters the instance from every target group and waits until it is no longer
   * draining in any (the longest deregistration delay, plus polls). A target still draining
   * `DRAIN_GRACE_MS` past the delay is reported (`roll.waiting`) and the replacement goes on:
   * ELBv2 itself ends the draining at the delay. `maxWaitMs` bounds the wait (a spot
   * interruption's two minutes): the instance is deregistered, and goes when the time is up.
   */
  async drain(nodeId: string, instanceId: string, signal: AbortSignal, maxWaitMs = Infinity): Promise<void> {
    if (!this.enabled) return;
    const { driver, spec, clock, lease, emit } = this.#d;
    const before = await driver.describeTargetGroups(spec, this.#arns, { signal });
    const registered = before.filter((g) => isRegistered(targetOf(g, instanceId)));
    if (registered.length === 0) return;
    await lease.ensure(signal, this.#d.callLeaseMs);
    await driver.deregisterTargets(spec, registered.map((g) => g.targetGroupArn), [instanceId], { signal });
    const delayMs = Math.min(maxWaitMs, Math.max(...registered.map((g) => g.deregistrationDelayMs)));
    const startedAtMs = clock.now();
    emit('node.draining', { nodeId, instanceId, targetGroupArns: registered.map((g) => g.targetGroupArn), delayMs, atMs: startedAtMs });
    if (delayMs > 0) await clock.sleep(delayMs, signal);
    for (;;) {
      const groups = await driver.describeTargetGroups(spec, registered.map((g) => g.targetGroupArn), { signal });
      const still = groups.filter((g) => targetOf(g, instanceId)?.state === 'draining' || targetOf(g, instanceId)?.state === 'unhealthy.draining');
      if (still.length === 0 || clock.now() - startedAtMs >= maxWaitMs) return;
      if (clock.now() - startedAtMs > delayMs + DRAIN_GRACE_MS) {
        emit('roll.waiting', {
          reason: `${nodeId}'s instance ${instanceId} is still draining in ${still.map((g) => g.targetGroupArn).join(', ')} ${formatDuration(clock.now() - startedAtMs)} after deregistration (delay ${formatDuration(delayMs)}); replacing it anyway`,
          nodeIds: [nodeId],
          atMs: clock.now(),
        });
        return;
      }
      await clock.sleep(Math.min(this.#d.pollIntervalMs, 15_000), signal);
    }
  }

  /**
   * Registers the instances with every target group and waits until each is `healthy` in each,
   * for at most `timeoutMs`; then halts naming the nodes, the group and the target's state and
   * reason (`phase: 'load-balancer'`).
   */
  async admit(targets: readonly { readonly nodeId: string; readonly instanceId: string }[], timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (!this.enabled || targets.length === 0) return;
    const { driver, spec, clock, lease, emit } = this.#d;
    const ids = targets.map((t) => t.instanceId);
    await lease.ensure(signal, this.#d.callLeaseMs);
    await driver.registerTargets(spec, this.#arns, ids, { signal });
    const startedAtMs = clock.now();
    emit('node.registering', { nodeIds: targets.map((t) => t.nodeId), instanceIds: ids, targetGroupArns: this.#arns, atMs: startedAtMs });
    let groups: readonly TargetGroupObservation[] = await driver.describeTargetGroups(spec, this.#arns, { signal });
    // Nothing is healthy before HealthyThresholdCount checks have passed: sleep through that.
    const atBestMs = Math.max(0, ...groups.map((g) => g.healthyAfterMs));
    if (atBestMs > 0) {
      await clock.sleep(atBestMs, signal);
      groups = await driver.describeTargetGroups(spec, this.#arns, { signal });
    }
    for (;;) {
      const waiting = pending(groups, targets);
      if (waiting.length === 0) {
        emit('node.registered', { nodeIds: targets.map((t) => t.nodeId), instanceIds: ids, targetGroupArns: this.#arns, durationMs: clock.now() - startedAtMs, atMs: clock.now() });
        return;
      }
      if (clock.now() - startedAtMs >= timeoutMs) {
        const first = waiting[0] as (typeof waiting)[number];
        const detail = waiting.map((w) => `${w.nodeId} (${w.instanceId}) is ${w.state}${w.reason ? ` (${w.reason})` : ''} in ${w.targetGroupArn}`).join('; ');
        throw new BerthRollHaltedError(`the load balancer did not report healthy within ${formatDuration(timeoutMs)}: ${detail}`, {
          nodeId: first.nodeId,
          nodeIds: [...new Set(waiting.map((w) => w.nodeId))],
          phase: 'load-balancer',
          lastError: `${first.state}${first.reason ? `: ${first.reason}` : ''}`,
        });
      }
      await clock.sleep(Math.min(this.#d.pollIntervalMs, 15_000, Math.max(1, timeoutMs - (clock.now() - startedAtMs))), signal);
      groups = await driver.describeTargetGroups(spec, this.#arns, { signal });
    }
  }

  /**
   * Puts instances this roll deregistered and then did not replace back into their target
   * groups (a halt, or a node the check at the moment of use held back): a halted roll leaves
   * the load balancer as it found it.
   */
  async restore(instanceIds: readonly string[], signal: AbortSignal): Promise<void> {
    if (!this.enabled || instanceIds.length === 0) return;
    await this.#d.lease.ensure(signal, this.#d.callLeaseMs);
    await this.#d.driver.registerTargets(this.#d.spec, this.#arns, instanceIds, { signal });
  }

  /**
   * What is missing from the target groups: every healthy node's current instance that some
   * group does not have registered (absent, or `Target.NotRegistered`). One describe per group.
   */
  async missing(statuses: readonly NodeStatus[], signal: AbortSignal): Promise<{ nodeId: string; instanceId: string; targetGroupArns: string[] }[]> {
    if (!this.enabled) return [];
    const groups = await this.#d.driver.describeTargetGroups(this.#d.spec, this.#arns, { signal });
    const out: { nodeId: string; instanceId: string; targetGroupArns: string[] }[] = [];
    for (const st of statuses) {
      const instanceId = st.current?.instanceId;
      if (!st.healthy || !instanceId) continue;
      const arns = groups.filter((g) => !isRegistered(targetOf(g, instanceId))).map((g) => g.targetGroupArn);
      if (arns.length > 0) out.push({ nodeId: st.nodeId, instanceId, targetGroupArns: arns });
    }
    return out;
  }

  /**
   * Registers healthy nodes' current instances that a target group is missing (instances the
   * Auto Scaling group launched outside a roll: a new cluster, a recovery), without waiting for
   * health. The caller holds the lease.
   */
  async register(targets: readonly { readonly nodeId: string; readonly instanceId: string; readonly targetGroupArns: readonly string[] }[], signal: AbortSignal): Promise<void> {
    if (!this.enabled || targets.length === 0) return;
    const { driver, spec, clock, lease, emit } = this.#d;
    const byGroup = new Map<string, string[]>();
    for (const t of targets) for (const arn of t.targetGroupArns) byGroup.set(arn, [...(byGroup.get(arn) ?? []), t.instanceId]);
    for (const [arn, ids] of byGroup) {
      await lease.ensure(signal, this.#d.callLeaseMs);
      await driver.registerTargets(spec, [arn], ids, { signal });
    }
    emit('node.registering', { nodeIds: targets.map((t) => t.nodeId), instanceIds: targets.map((t) => t.instanceId), targetGroupArns: [...byGroup.keys()], atMs: clock.now() });
  }
}

function targetOf(g: TargetGroupObservation, instanceId: string): TargetHealthObservation | undefined {
  return g.targets.find((t) => t.instanceId === instanceId);
}

function isRegistered(t: TargetHealthObservation | undefined): boolean {
  return !!t && t.state !== 'draining' && t.state !== 'unhealthy.draining' && t.reason !== 'Target.NotRegistered';
}

function pending(groups: readonly TargetGroupObservation[], targets: readonly { readonly nodeId: string; readonly instanceId: string }[]) {
  const out: { nodeId: string; instanceId: string; targetGroupArn: string; state: string; reason: string | null }[] = [];
  for (const g of groups) {
    for (const t of targets) {
      const h = targetOf(g, t.instanceId);
      if (h?.state !== 'healthy') out.push({ ...t, targetGroupArn: g.targetGroupArn, state: h?.state ?? 'not registered', reason: h?.reason ?? null });
    }
  }
  return out;
}
