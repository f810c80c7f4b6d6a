import type { Clock } from '../clock.js';
import type { DeleteNodeResult, EnsureNodeResult } from '../driver.js';
import { BerthConfigError, BerthMembershipError, BerthHookError, isAbortError, type ConfigIssue } from '../errors.js';
import type { ClusterHooks } from '../hooks.js';
import type { ClusterObservation } from '../observation.js';
import type { NodeStatus } from '../plan/node-status.js';
import { checkAddition, checkRemoval, memberStatuses, orphanStatus, planMembership, type MembershipStep, type RemoveNodesOption } from '../plan/plan-membership.js';
import type { RuntimeDriver } from '../runtime/runtime-driver.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import type { ControllerEvents } from './events.js';
import type { HookRunner } from './hook-runner.js';
import type { LeaseKeeper } from './lease-keeper.js';

export interface MembershipDeps {
  readonly spec: ClusterSpec;
  readonly driver: RuntimeDriver;
  readonly clock: Clock;
  readonly hooks: ClusterHooks;
  readonly hookRunner: HookRunner;
  readonly lease: LeaseKeeper;
  readonly emit: <K extends keyof ControllerEvents>(name: K, e: ControllerEvents[K]) => void;
  readonly pollIntervalMs: number;
  readonly callLeaseMs: number;
  /** The oldest look a disruption (`removeMember`) may be decided on. */
  readonly freshnessMs: number;
}

export interface MembershipSettings {
  readonly removeNodes: RemoveNodesOption | undefined;
  /** How long a new node may take to be InService and healthy. */
  readonly joinTimeoutMs: number;
  /** How long the health gate may stay closed after a step. */
  readonly healthTimeoutMs: number;
}

export interface MembershipOutcome {
  readonly added: readonly string[];
  readonly removed: readonly DeleteNodeResult[];
  readonly created: readonly EnsureNodeResult[];
}

/**
 * Grows and shrinks the membership one node at a time, under the lease the caller holds. Every
 * step is chosen again on a fresh look (`planMembership`), so a controller that died mid-change
 * is continued by the next one from what the cloud shows: a group tagged `joining` is a node to
 * add (again: `addMember` must be idempotent), an orphan without its group is a removal that
 * only has its deletion left.
 *
 * Add: create the node (group tagged `joining`), wait until it is InService and healthy, check
 * the quorum of the bigger membership, `addMember`, the health gate (every member healthy and
 * `clusterHealthy`), then tag it `member`. Remove: check the quorum (refused at once when the
 * others could not carry the change), `removeMember`, the health gate, then `deleteNode` with
 * the node's deletion policy (which also takes its IP out of the cluster record).
 */
export class MembershipRun {
  readonly #d: MembershipDeps;
  readonly #s: MembershipSettings;
  readonly #signal: AbortSignal;
  readonly #added: string[] = [];
  readonly #removed: DeleteNodeResult[] = [];
  readonly #created: EnsureNodeResult[] = [];

  constructor(deps: MembershipDeps, settings: MembershipSettings, signal: AbortSignal) {
    this.#d = deps;
    this.#s = settings;
    this.#signal = signal;
  }

  /** Runs every step the cloud still needs; `first` is the look `apply()` planned on. */
  async run(first: ClusterObservation): Promise<MembershipOutcome> {
    let obs = first;
    for (;;) {
      const plan = planMembership(obs, this.#d.spec, { removeNodes: this.#s.removeNodes });
      const step = plan.steps[0];
      if (!step || plan.bootstrap) break;
      if (step.kind === 'add') await this.#add(step, obs);
      else await this.#remove(step, obs);
      obs = await this.#look('full');
    }
    return { added: this.#added, removed: this.#removed, created: this.#created };
  }

  async #add(step: MembershipStep, obs: ClusterObservation): Promise<void> {
    const { driver, spec, clock, emit } = this.#d;
    const nodeId = step.nodeId;
    const startedAtMs = clock.now();
    emit('member.adding', { nodeId, sizeBefore: step.sizeBefore, sizeAfter: step.sizeAfter, quorumAfter: step.quorumAfter, resumed: step.stage === 'join', atMs: startedAtMs });
    // The cluster as it is must be whole before it grows: every member healthy, the application too.
    let look = await this.#gate(`before adding ${nodeId}`, nodeId, obs, []);
    if (step.stage === 'create') {
      await this.#d.lease.ensure(this.#signal, this.#d.callLeaseMs);
      const result = await driver.ensureNode(spec, nodeId, { signal: this.#signal, membership: 'joining' });
      this.#created.push(result);
      emit('apply.node', { nodeId, changes: result.changes, atMs: clock.now() });
    }
    look = await this.#waitHealthy(nodeId, look);
    // Fresh look, then the quorum of the bigger membership.
    if (look.observedAtMs + this.#d.freshnessMs < clock.now()) look = await this.#look('instances');
    const { members, joining } = memberStatuses(look, spec);
    const self = joining.find((s) => s.nodeId === nodeId);
    const unsafe = checkAddition(step, members.filter((s) => s.healthy).length, !!self?.healthy);
    if (unsafe) throw this.#error(`refused: ${unsafe}`, nodeId);
    await this.#d.lease.ensure(this.#signal, this.#d.callLeaseMs);
    const add = this.#d.hooks.addMember;
    await this.#hook('addMember', nodeId, look, add && ((ctx) => add(nodeId, ctx)));
    look = await this.#gate(`after adding ${nodeId}`, nodeId, await this.#look('instances'), [nodeId]);
    await this.#d.lease.ensure(this.#signal, this.#d.callLeaseMs);
    await driver.ensureNode(spec, nodeId, { signal: this.#signal, membership: 'member' });
    this.#added.push(nodeId);
    emit('member.added', { nodeId, size: step.sizeAfter, quorum: step.quorumAfter, durationMs: clock.now() - startedAtMs, atMs: clock.now() });
  }

  async #remove(step: MembershipStep, obs: ClusterObservation): Promise<void> {
    const { driver, spec, clock, emit } = this.#d;
    const nodeId = step.nodeId;
    const startedAtMs = clock.now();
    if (step.stage === 'decommission') {
      // On a fresh look: the change must be agreed by the membership before it and carried by the one after.
      const look = obs.observedAtMs + this.#d.freshnessMs >= clock.now() ? obs : await this.#look('instances');
      const { members } = memberStatuses(look, spec);
      const leaving = members.find((s) => s.nodeId === nodeId);
      const remaining = members.filter((s) => s.nodeId !== nodeId && s.healthy).length;
      const unsafe = checkRemoval(step, remaining, !!leaving?.healthy);
      if (unsafe) throw this.#error(`refused: ${unsafe}; nothing was changed`, nodeId);
      emit('member.removing', { nodeId, sizeBefore: step.sizeBefore, sizeAfter: step.sizeAfter, quorumAfter: step.quorumAfter, resumed: false, atMs: startedAtMs });
      await this.#d.lease.ensure(this.#signal, this.#d.callLeaseMs);
      const remove = this.#d.hooks.removeMember;
      await this.#hook('removeMember', nodeId, look, remove && ((ctx) => remove(nodeId, ctx)));
      // The members that stay must be whole before the node's resources go.
      await this.#gate(`after removing ${nodeId}`, nodeId, await this.#look('instances'), [], nodeId);
    } else {
      emit('member.removing', { nodeId, sizeBefore: step.sizeBefore, sizeAfter: step.sizeAfter, quorumAfter: step.quorumAfter, resumed: true, atMs: startedAtMs });
    }
    await this.#d.lease.ensure(this.#signal, this.#d.callLeaseMs);
    const result = await driver.deleteNode(spec, nodeId, { signal: this.#signal });
    this.#removed.push(result);
    emit('member.removed', { nodeId, size: step.sizeAfter, quorum: step.quorumAfter, changes: result.changes, snapshotId: result.snapshotId, durationMs: clock.now() - startedAtMs, atMs: clock.now() });
  }

  /** Polls until the new node is InService and healthy, or halts after `joinTimeoutMs`, naming its state. */
  async #waitHealthy(nodeId: string, start: ClusterObservation): Promise<ClusterObservation> {
    const deadline = this.#d.clock.now() + this.#s.joinTimeoutMs;
    let look = start;
    for (;;) {
      const s = memberStatuses(look, this.#d.spec).joining.find((x) => x.nodeId === nodeId);
      if (s?.healthy) return look;
      if (s?.failure) throw this.#error(`node ${nodeId} failed to boot (instance ${s.failure.instanceId}${s.failure.phase ? `, in phase ${s.failure.phase}` : ''}): ${s.failure.reason}; it was not added to the membership`, nodeId);
      if (this.#d.clock.now() >= deadline) {
        throw this.#error(`node ${nodeId} was not InService and healthy within ${Math.round(this.#s.joinTimeoutMs / 1000)} s (state ${s?.state ?? 'absent'}${s?.cause ? `; ${s.cause}` : ''}); it was not added to the membership`, nodeId);
      }
      await this.#d.clock.sleep(this.#d.pollIntervalMs, this.#signal);
      look = await this.#look('instances');
    }
  }

  /**
   * The health gate: every member (`also` counts as one; `without` does not) healthy and
   * `clusterHealthy` true, polled until `healthTimeoutMs`.
   */
  async #gate(when: string, nodeId: string, start: ClusterObservation, also: readonly string[], without?: string): Promise<ClusterObservation> {
    const deadline = this.#d.clock.now() + this.#s.healthTimeoutMs;
    let look = start;
    for (;;) {
      const { members, joining } = memberStatuses(look, this.#d.spec);
      const counted = [...members, ...joining.filter((s) => also.includes(s.nodeId))].filter((s) => s.nodeId !== without);
      const down = counted.filter((s) => !s.healthy);
      let appOk = true;
      if (down.length === 0) {
        const healthy = this.#d.hooks.clusterHealthy;
        appOk = await this.#hook('clusterHealthy', null, look, healthy && ((ctx) => healthy(ctx)), true);
        if (appOk) return look;
      }
      if (this.#d.clock.now() >= deadline) {
        const what = down.length > 0 ? `${down.map((s) => `${s.nodeId} (${s.state})`).join(', ')} not healthy` : 'clusterHealthy said no';
        throw this.#error(`health gate ${when}: ${what} after ${Math.round(this.#s.healthTimeoutMs / 1000)} s`, nodeId);
      }
      await this.#d.clock.sleep(this.#d.pollIntervalMs, this.#signal);
      look = await this.#look('instances');
    }
  }

  async #hook<T>(name: 'addMember' | 'removeMember' | 'clusterHealthy', nodeId: string | null, obs: ClusterObservation, fn: ((ctx: Parameters<NonNullable<ClusterHooks['addMember']>>[1]) => T | Promise<T>) | undefined, fallback?: T): Promise<T> {
    try {
      return await this.#d.hookRunner.run(name, nodeId, obs, this.#signal, fn, fallback as T);
    } catch (err) {
      if (isAbortError(err) && this.#signal.aborted) throw err;
      if (err instanceof BerthHookError) throw this.#error(`${err.message}; the membership change stopped there`, nodeId ?? '', err);
      throw err;
    }
  }

  #look(scope: 'full' | 'instances'): Promise<ClusterObservation> {
    return this.#d.driver.observe(this.#d.spec, { scope, signal: this.#signal });
  }

  #error(message: string, nodeId: string, cause?: unknown): BerthMembershipError {
    const done = [...this.#added.map((id) => `${id} added`), ...this.#removed.map((r) => `${r.nodeId} removed`)];
    return new BerthMembershipError(`Membership change at node ${nodeId}: ${message}${done.length > 0 ? ` (done before: ${done.join(', ')})` : ''}`, { nodeId, done, cause });
  }
}

/** The statuses of the nodes that count as members now, for status(): the orphans included. */
export function orphanStatuses(spec: ClusterSpec, obs: ClusterObservation, ids: readonly string[]): NodeStatus[] {
  return ids.flatMap((id) => (obs.nodes[id] ? [orphanStatus(spec, obs.nodes[id])] : []));
}

/** Checks the membership options of `apply()` before any cloud call: timeouts are positive numbers of ms. */
export function validateMembershipOptions(options: { readonly joinTimeoutMs?: number; readonly healthTimeoutMs?: number }): void {
  const issues: ConfigIssue[] = [];
  for (const key of ['joinTimeoutMs', 'healthTimeoutMs'] as const) {
    const v = options[key];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0)) issues.push({ path: key, message: `must be a positive number of milliseconds (got ${String(v)})` });
  }
  if (issues.length > 0) throw new BerthConfigError(issues, 'apply() options');
}
