import { Controller } from '../controller/create-controller.js';
import type { LeaseKeeper } from '../controller/lease-keeper.js';
import { ABORT_SETTLE_BOUND_MS } from '../controller/roll-defaults.js';
import { BerthAbortError, BerthLockError, isAbortError, throwIfAborted } from '../errors.js';
import type { DeleteNodeResult } from '../driver.js';
import type { ClusterObservation } from '../observation.js';
import type { NodeStatus } from '../plan/node-status.js';
import type { RuntimeDriver } from '../runtime/runtime-driver.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import { BerthDeployError, type DeployStage } from './blue-green-error.js';
import type { BlueGreenEvents } from './blue-green-events.js';
import { otherSide, type BlueGreenOptions, type BlueGreenStep, type DeployReport, type Side, type VerifyStage } from './blue-green-types.js';
import { allInstanceIds, currentInstanceIds, dnsSettleMs } from './plan-blue-green.js';
import type { BlueGreenSettings, ResolvedBlueGreen } from './resolve-blue-green.js';
import type { SideLook, TierLook, TierReader } from './tier-reader.js';
import { isDraining, isRegistered } from './traffic-status.js';

/** What a deploy run works with: the tier's configuration, its reader, driver, lease and events. */
export interface DeployContext {
  readonly name: string;
  readonly holderId: string;
  readonly sessionId: string;
  readonly options: BlueGreenOptions;
  readonly resolved: ResolvedBlueGreen;
  readonly settings: BlueGreenSettings;
  readonly driver: RuntimeDriver;
  readonly reader: TierReader;
  /** The tier's lease. */
  readonly lease: LeaseKeeper;
  /** Lease time a mutating call needs left. */
  readonly callLeaseMs: number;
  /** A lease on a side's own cluster, for this session. */
  leaseOn(spec: ClusterSpec, session: string): LeaseKeeper;
  emit<K extends keyof BlueGreenEvents>(name: K, e: BlueGreenEvents[K]): void;
}

/** A deploy running in this process: what `rollback()` talks to. */
export interface ActiveDeploy {
  phase: 'before-shift' | 'shifting' | 'window' | 'after';
  rollback: { reason: string } | null;
  wake: AbortController | null;
  done: Promise<DeployReport>;
}

/** Extra time past the deregistration delay before a target still draining is let go. */
const DRAIN_GRACE_MS = 60_000;

/** The error to throw once `signal` fired: the lost lease, or an abort. */
export function abortError(signal: AbortSignal, cause: unknown): unknown {
  if (signal.reason instanceof BerthLockError) return signal.reason;
  if (cause instanceof BerthAbortError) return cause;
  return new BerthAbortError(signal.reason instanceof Error ? `Aborted: ${signal.reason.message}` : 'The deploy was aborted.', { cause: signal.reason ?? cause });
}

/** One deploy (or a rollback/deletion outside one): the steps, with the tier's lease held. */
export class DeployRun {
  readonly #x: DeployContext;
  readonly #specs: Readonly<Record<Side, ClusterSpec>>;
  readonly #windowMs: number;
  readonly #active: ActiveDeploy | null;
  readonly #signal: AbortSignal;
  readonly #steps: { step: string; atMs: number }[] = [];
  readonly #deleted: { side: Side; nodes: readonly DeleteNodeResult[] }[] = [];
  readonly #startedAtMs: number;
  #shiftedAtMs: number | null = null;
  #from: Side | null = null;
  #to: Side | null = null;
  #live: Side | null = null;
  #resumed: string | null = null;

  constructor(ctx: DeployContext, specs: Readonly<Record<Side, ClusterSpec>>, windowMs: number, active: ActiveDeploy | null, signal: AbortSignal) {
    this.#x = ctx;
    this.#specs = specs;
    this.#windowMs = windowMs;
    this.#active = active;
    this.#signal = signal;
    this.#startedAtMs = this.#now();
  }

  #now(): number {
    return this.#x.options.clock.now();
  }

  #emit<K extends keyof BlueGreenEvents>(name: K, e: Omit<BlueGreenEvents[K], 'atMs'>): void {
    this.#x.emit(name, { ...e, atMs: this.#now() } as BlueGreenEvents[K]);
    this.#steps.push({ step: name, atMs: this.#now() });
  }

  #sleep(ms: number): Promise<void> {
    return this.#x.options.clock.sleep(ms, this.#signal);
  }

  #report(outcome: DeployReport['outcome']): DeployReport {
    return Object.freeze({
      tier: this.#x.name,
      outcome,
      from: this.#from,
      to: this.#to,
      live: this.#live,
      resumed: this.#resumed,
      startedAtMs: this.#startedAtMs,
      finishedAtMs: this.#now(),
      shiftedAtMs: this.#shiftedAtMs,
      deleted: [...this.#deleted],
      steps: [...this.#steps],
    });
  }

  /** A failed deploy: `deploy.failed`, then the error with the report. */
  #fail(reason: string, d: { stage: DeployStage; side: Side | null; shiftedBack?: boolean; deleted?: Side | null; cause?: unknown }): BerthDeployError {
    const err = new BerthDeployError(reason, { ...d, live: this.#live });
    const failed = this.#report('failed');
    err.report = failed;
    this.#emit('deploy.failed', { stage: err.stage, reason, live: this.#live, shiftedBack: err.shiftedBack, deleted: err.deleted, report: failed });
    return err;
  }

  async execute(): Promise<DeployReport> {
    const x = this.#x;
    const look = await x.reader.look(this.#specs, this.#signal, 'needed');
    const plan = x.reader.plan(look, this.#windowMs);
    this.#live = look.traffic.live;
    if (plan.blocked) throw this.#fail(plan.blocked, { stage: 'plan', side: null });
    if (plan.noChanges) {
      this.#to = plan.live;
      return this.#report('no-change');
    }
    const target = plan.target as Side;
    this.#resumed = plan.resume;
    this.#from = look.traffic.state === 'mixed' ? otherSide(target) : look.traffic.live;
    this.#to = target;
    this.#emit('deploy.started', { from: this.#from, to: target, resume: plan.resume });
    const shiftAt = plan.steps.findIndex((s) => s.kind === 'shift-traffic');
    for (const [i, step] of plan.steps.entries()) {
      // Until traffic moves, rollback() just stops the deploy (afterwards the window handles it).
      if (i <= shiftAt && this.#active?.rollback) return this.#abandonBeforeShift(target, this.#active.rollback.reason);
      const outcome = await this.#step(step, look);
      if (outcome) return outcome;
    }
    this.#emit('deploy.completed', { report: this.#report('completed') });
    return this.#report('completed');
  }

  async #step(step: BlueGreenStep, look: TierLook): Promise<DeployReport | null> {
    switch (step.kind) {
      case 'delete-side': {
        if (step.when === 'now') {
          await this.deleteSide(step.side, 'stale', look.sides[step.side]?.observation);
          return null;
        }
        if (this.#active) this.#active.phase = 'after';
        await this.#ensureNoTraffic(step.side);
        await this.deleteSide(step.side, 'old');
        return null;
      }
      case 'create-side':
        await this.#apply(step.side);
        return null;
      case 'wait-healthy':
        await this.#guardBeforeShift(step.side, () => this.#waitHealthy(step.side));
        return null;
      case 'verify':
        await this.#guardBeforeShift(step.side, async () => {
          const l = await this.#x.reader.lookSide(step.side, this.#specs[step.side], this.#signal, 'instances');
          const why = await this.#verify(step.side, 'before-shift', l);
          if (why) throw new StepFailure('verify', why);
        });
        return null;
      case 'shift-traffic':
        if (this.#active) this.#active.phase = 'shifting';
        await this.#guardBeforeShift(step.to, () => this.#shift(step.from, step.to, { forward: true }));
        this.#shiftedAtMs = this.#now();
        this.#live = step.to;
        return null;
      case 'settle':
        if (this.#active) this.#active.phase = 'shifting';
        await this.#settle(step.to);
        this.#live = step.to;
        return null;
      case 'rollback-window':
        return this.#window(step.live, step.old);
    }
  }

  /** Runs a step before traffic moved: a check that fails removes the new side (per keepFailedSide) and fails the deploy. */
  async #guardBeforeShift(side: Side, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (!(err instanceof StepFailure)) throw err;
      const keep = this.#x.settings.keepFailedSide;
      // Whatever of the new side reached the target groups leaves them (a split left by a
      // stopped shift included): traffic stays on, or goes back to, the old side.
      await this.#unregister(side);
      if (!keep) await this.deleteSide(side, 'failed');
      const untouched = this.#live === this.#from;
      this.#live = this.#from;
      throw this.#fail(`${err.message}. ${this.#from ? `Traffic stays on ${this.#from}${untouched ? ', untouched' : ''}` : 'No traffic was moved'}; ${side} was ${keep ? 'kept (keepFailedSide)' : 'deleted'}`, {
        stage: err.stage,
        side,
        deleted: keep ? null : side,
      });
    }
  }

  async #abandonBeforeShift(side: Side, reason: string): Promise<DeployReport> {
    await this.#unregister(side);
    if (!this.#x.settings.keepFailedSide) await this.deleteSide(side, 'failed');
    this.#live = this.#from;
    const report = this.#report('rolled-back');
    this.#emit('deploy.rolled-back', { report, reason });
    return report;
  }

  async #apply(side: Side): Promise<void> {
    const o = this.#x.options;
    const spec = this.#specs[side];
    this.#emit('side.applying', { side, clusterName: spec.name });
    await this.#x.lease.ensure(this.#signal, this.#x.callLeaseMs);
    const c = new Controller({
      spec,
      driver: o.driver,
      clock: o.clock,
      holderId: this.#x.holderId,
      sessionId: `${this.#x.sessionId}/${side}`,
      ...(o.seed !== undefined && { seed: o.seed }),
      ...(o.runtime && { runtime: o.runtime }),
      lockTtlMs: this.#x.settings.lockTtlMs,
      pollIntervalMs: this.#x.settings.pollIntervalMs,
    });
    c.on('apply.node', (e) => this.#emit('side.node', { side, nodeId: e.nodeId, changes: e.changes }));
    await c.apply({ signal: this.#signal });
  }

  /** Until every node of the side runs the revision and is healthy; a boot failure reported during this deploy fails at once. */
  async #waitHealthy(side: Side): Promise<void> {
    const spec = this.#specs[side];
    const started = this.#now();
    let lastHealthy = -1;
    for (;;) {
      const l = await this.#x.reader.lookSide(side, spec, this.#signal, 'instances');
      const good = l.statuses.filter((s) => s.healthy && !s.outdated).length;
      if (good === l.statuses.length) {
        this.#emit('side.healthy', { side, durationMs: this.#now() - started });
        return;
      }
      if (good !== lastHealthy) {
        lastHealthy = good;
        this.#emit('side.waiting', { side, healthy: good, total: l.statuses.length });
      }
      const failed = l.statuses.filter((s) => s.failure && s.failure.launchedAtMs >= this.#startedAtMs);
      if (failed.length > 0) throw new StepFailure('healthy', `${side} did not come up: ${failed.map((s) => `${s.nodeId} failed (${s.cause})`).join('; ')}`);
      if (this.#now() - started >= this.#x.settings.healthyTimeoutMs) {
        const bad = l.statuses.filter((s) => !(s.healthy && !s.outdated));
        throw new StepFailure('healthy', `${side} was not healthy within ${Math.round(this.#x.settings.healthyTimeoutMs / 1000)} s: ${bad.map((s) => `${s.nodeId} is ${s.state}${s.cause ? ` (${s.cause})` : ''}`).join('; ')}`);
      }
      // rollback() stops the deploy here; the step loop sees it.
      if (this.#active?.rollback) return;
      await this.#nap(Math.min(this.#x.settings.pollIntervalMs, Math.max(1, this.#x.settings.healthyTimeoutMs - (this.#now() - started))));
      if (this.#active?.rollback) return;
    }
  }

  /** Asks `hooks.verify`, bounded by `hookTimeoutMs`. Null: yes; otherwise why not. */
  async #verify(side: Side, stage: VerifyStage, l: SideLook): Promise<string | null> {
    const fn = this.#x.options.hooks?.verify;
    if (!fn) {
      if (stage !== 'window') this.#emit('side.verified', { side, stage });
      return null;
    }
    throwIfAborted(this.#signal);
    const own = new AbortController();
    const onAbort = () => own.abort(this.#signal.reason);
    this.#signal.addEventListener('abort', onAbort, { once: true });
    const ctx = {
      stage,
      spec: l.spec,
      observation: l.observation,
      ips: this.#x.reader.ips(side),
      instanceIds: currentInstanceIds(l.observation),
      signal: own.signal,
    };
    const timeoutMs = this.#x.settings.hookTimeoutMs;
    let why: string | null;
    try {
      const result = fn(side, ctx);
      const answer =
        result instanceof Promise
          ? await Promise.race([
              result.then((ok) => ({ ok })),
              this.#x.options.clock.sleep(timeoutMs, own.signal).then(
                () => ({ timeout: true as const }),
                () => ({ aborted: true as const }),
              ),
            ])
          : { ok: result };
      if ('timeout' in answer) why = `verify did not answer within ${Math.round(timeoutMs / 1000)} s`;
      else if ('aborted' in answer) throw abortError(this.#signal, undefined);
      else why = answer.ok ? null : 'verify said no';
    } catch (err) {
      if (this.#signal.aborted || isAbortError(err)) throw abortError(this.#signal, err);
      why = `verify threw: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      this.#signal.removeEventListener('abort', onAbort);
      own.abort();
    }
    if (why) this.#emit('side.rejected', { side, stage, reason: why });
    // The window's checks are polls, not steps: only a failure is news there.
    else if (stage !== 'window') this.#emit('side.verified', { side, stage });
    return why;
  }

  /**
   * Moves all traffic to `to`, on a fresh look at it: every node healthy (forward) or no more than
   * the tolerated number down (back). DNS: one UPSERT, then the settle wait. Target groups:
   * register `to`, wait until healthy in every group, deregister `from`, wait out the draining.
   */
  async #shift(from: Side | null, to: Side, how: { forward: boolean }): Promise<void> {
    const x = this.#x;
    const spec = this.#specs[to];
    const l = await x.reader.lookSide(to, spec, this.#signal, 'instances');
    const bad = l.statuses.filter((s) => !s.healthy);
    const allowed = how.forward ? 0 : x.settings.tolerateUnhealthyNodes;
    if (bad.length > allowed || bad.length === l.statuses.length) {
      throw new StepFailure('shift', `${to} is not healthy at the moment of the shift: ${bad.map((s) => `${s.nodeId} is ${s.state}`).join('; ')}`);
    }
    this.#emit('traffic.shifting', { from, to });
    const t = x.resolved.traffic;
    if (t.kind === 'dns') {
      const before = (await x.reader.readTraffic(this.#signal)).record;
      const values = x.reader.ips(to).sort();
      await x.lease.ensure(this.#signal, x.callLeaseMs);
      await this.#x.driver.setDns(x.resolved.trafficSpec, [{ name: t.recordName, values }], { signal: this.#signal });
      const settleMs = dnsSettleMs(x.settings.dnsPropagationMs, before?.ttl ?? null, t.ttl);
      this.#emit('traffic.dns', { recordName: t.recordName, values, ttl: t.ttl, previous: before ? { values: before.values, ttl: before.ttl } : null, settleMs });
      await this.#sleep(settleMs);
      const after = (await x.reader.readTraffic(this.#signal)).record;
      if (!after || after.values.join(',') !== values.join(',')) {
        throw new BerthDeployError(`${t.recordName} changed while traffic was moving to ${to}: it lists ${after?.values.join(', ') ?? 'nothing'}; someone else edits it. Nothing was deleted`, { stage: 'shift', side: to, live: null });
      }
    } else {
      const ids = l.statuses.filter((s) => s.healthy && s.current).map((s) => (s.current as NonNullable<NodeStatus['current']>).instanceId);
      // The old side's instances as EC2 lists them now: one lost a moment ago is still listed
      // (terminated, for a while) and its target is deregistered with the others.
      const fromIds = from ? allInstanceIds((await x.reader.lookSide(from, this.#specs[from], this.#signal, 'instances')).observation) : [];
      await x.lease.ensure(this.#signal, x.callLeaseMs);
      await this.#x.driver.registerTargets(x.resolved.trafficSpec, t.targetGroupArns, ids, { signal: this.#signal });
      await this.#waitTargetsHealthy(to, ids, t.targetGroupArns);
      if (from) await this.#drain(from, fromIds);
    }
    this.#emit('traffic.shifted', { from, to });
  }

  async #waitTargetsHealthy(side: Side, ids: readonly string[], arns: readonly string[]): Promise<void> {
    const started = this.#now();
    const timeoutMs = this.#x.settings.registerTimeoutMs;
    let groups = await this.#x.driver.describeTargetGroups(this.#x.resolved.trafficSpec, arns, { signal: this.#signal });
    // Nothing is healthy before HealthyThresholdCount checks have passed: sleep through that.
    const atBestMs = Math.max(0, ...groups.map((g) => g.healthyAfterMs));
    if (atBestMs > 0) {
      await this.#sleep(Math.min(atBestMs, timeoutMs));
      groups = await this.#x.driver.describeTargetGroups(this.#x.resolved.trafficSpec, arns, { signal: this.#signal });
    }
    for (;;) {
      const waiting = groups.flatMap((g) => ids.filter((id) => g.targets.find((t) => t.instanceId === id)?.state !== 'healthy').map((id) => ({ id, g })));
      if (waiting.length === 0) {
        this.#emit('traffic.registered', { side, instanceIds: ids, targetGroupArns: arns, durationMs: this.#now() - started });
        return;
      }
      if (this.#now() - started >= timeoutMs) {
        const detail = waiting.map(({ id, g }) => {
          const h = g.targets.find((t) => t.instanceId === id);
          return `${id} is ${h?.state ?? 'not registered'}${h?.reason ? ` (${h.reason})` : ''} in ${g.targetGroupArn}`;
        });
        throw new StepFailure('shift', `${side}'s targets were not healthy within ${Math.round(timeoutMs / 1000)} s: ${detail.join('; ')}`);
      }
      await this.#sleep(Math.min(this.#x.settings.pollIntervalMs, 15_000, Math.max(1, timeoutMs - (this.#now() - started))));
      groups = await this.#x.driver.describeTargetGroups(this.#x.resolved.trafficSpec, arns, { signal: this.#signal });
    }
  }

  /**
   * Target groups: deregisters every registered instance of `side` (those EC2 lists for it now,
   * and `known`) and waits until none drains.
   */
  async #drain(side: Side, known: readonly string[] = []): Promise<void> {
    const x = this.#x;
    const t = x.resolved.traffic;
    if (t.kind !== 'target-groups') return;
    const mine = new Set([...known, ...allInstanceIds((await x.reader.lookSide(side, this.#specs[side], this.#signal, 'instances')).observation)]);
    const groups = await this.#x.driver.describeTargetGroups(x.resolved.trafficSpec, t.targetGroupArns, { signal: this.#signal });
    const registered = groups.filter((g) => g.targets.some((tg) => mine.has(tg.instanceId) && isRegistered(tg)));
    const ids = [...new Set(registered.flatMap((g) => g.targets.filter((tg) => mine.has(tg.instanceId) && isRegistered(tg)).map((tg) => tg.instanceId)))].sort();
    let delayMs = 0;
    if (ids.length > 0) {
      await x.lease.ensure(this.#signal, x.callLeaseMs);
      await this.#x.driver.deregisterTargets(x.resolved.trafficSpec, registered.map((g) => g.targetGroupArn), ids, { signal: this.#signal });
      delayMs = Math.max(...registered.map((g) => g.deregistrationDelayMs));
      this.#emit('traffic.deregistering', { side, instanceIds: ids, targetGroupArns: registered.map((g) => g.targetGroupArn), delayMs });
      if (delayMs > 0) await this.#sleep(delayMs);
    }
    const started = this.#now() - delayMs;
    for (;;) {
      const now = await this.#x.driver.describeTargetGroups(x.resolved.trafficSpec, t.targetGroupArns, { signal: this.#signal });
      const still = now.some((g) => g.targets.some((tg) => mine.has(tg.instanceId) && isDraining(tg)));
      // ELBv2 ends the draining at the delay itself; past the grace, stop waiting on the report.
      if (!still || this.#now() - started > Math.max(delayMs, ...now.map((g) => g.deregistrationDelayMs)) + DRAIN_GRACE_MS) return;
      await this.#sleep(Math.min(this.#x.settings.pollIntervalMs, 15_000));
    }
  }

  /** Takes a side out of the target groups (a failed side's registration undone). DNS: nothing to do. */
  async #unregister(side: Side): Promise<void> {
    if (this.#x.resolved.traffic.kind === 'target-groups') await this.#drain(side);
  }

  /** Resuming after a shift: clients may still use the old side for a while. */
  async #settle(to: Side): Promise<void> {
    const x = this.#x;
    const t = x.resolved.traffic;
    if (t.kind === 'dns') {
      const rec = (await x.reader.readTraffic(this.#signal)).record;
      await this.#sleep(dnsSettleMs(x.settings.dnsPropagationMs, rec?.ttl ?? t.ttl, t.ttl));
    } else {
      await this.#drain(otherSide(to));
    }
  }

  /**
   * The rollback window: `live` watched every poll (its nodes, its targets, `verify`), `old` kept.
   * A failed check or `rollback()` sends traffic back to `old`.
   */
  async #window(live: Side, old: Side): Promise<DeployReport | null> {
    const x = this.#x;
    const active = this.#active;
    if (active) active.phase = 'window';
    const endsAtMs = this.#now() + this.#windowMs;
    this.#emit('window.started', { live, old, endsAtMs });
    let warned = false;
    for (;;) {
      if (active?.rollback) return this.#rollBackInWindow(live, old, active.rollback.reason, false);
      const left = endsAtMs - this.#now();
      if (left <= 0) break;
      await this.#nap(Math.min(x.settings.pollIntervalMs, left));
      if (active?.rollback) continue;
      const why = await this.#checkLive(live);
      if (why) {
        this.#emit('window.failed', { side: live, reason: why });
        return this.#rollBackInWindow(live, old, why, true);
      }
      const o = await x.reader.lookSide(old, this.#specs[old], this.#signal, 'instances');
      const oldBad = o.statuses.filter((s) => !s.healthy);
      if (oldBad.length > x.settings.tolerateUnhealthyNodes && !warned) {
        warned = true;
        this.#emit('window.warning', { side: old, reason: `${oldBad.map((s) => `${s.nodeId} is ${s.state}`).join('; ')}: a rollback to ${old} would not be possible now` });
      }
    }
    if (active) active.phase = 'after';
    this.#emit('window.ended', { live });
    return null;
  }

  /** Sleeps, waking early for `rollback()`. */
  async #nap(ms: number): Promise<void> {
    const wake = new AbortController();
    const onAbort = () => wake.abort(this.#signal.reason);
    this.#signal.addEventListener('abort', onAbort, { once: true });
    if (this.#active) this.#active.wake = wake;
    try {
      await this.#x.options.clock.sleep(ms, wake.signal);
    } catch (err) {
      if (this.#signal.aborted) throw abortError(this.#signal, err);
    } finally {
      this.#signal.removeEventListener('abort', onAbort);
      if (this.#active) this.#active.wake = null;
    }
  }

  /** The live side in the window: its nodes, its targets, `verify`. Null when good. */
  async #checkLive(side: Side): Promise<string | null> {
    const x = this.#x;
    const l = await x.reader.lookSide(side, this.#specs[side], this.#signal, 'instances');
    const bad = new Map<string, string>();
    for (const s of l.statuses) if (!s.healthy) bad.set(s.nodeId, `${s.nodeId} is ${s.state}${s.cause ? ` (${s.cause})` : ''}`);
    const t = x.resolved.traffic;
    if (t.kind === 'target-groups') {
      const groups = await this.#x.driver.describeTargetGroups(x.resolved.trafficSpec, t.targetGroupArns, { signal: this.#signal });
      for (const s of l.statuses) {
        const id = s.current?.instanceId;
        if (!id || bad.has(s.nodeId)) continue;
        for (const g of groups) {
          const h = g.targets.find((tg) => tg.instanceId === id);
          if (h && isRegistered(h) && h.state !== 'healthy' && h.state !== 'initial') bad.set(s.nodeId, `${s.nodeId}'s instance ${id} is ${h.state}${h.reason ? ` (${h.reason})` : ''} in ${g.targetGroupArn}`);
        }
      }
    }
    if (bad.size > x.settings.tolerateUnhealthyNodes) return [...bad.values()].join('; ');
    return this.#verify(side, 'window', l);
  }

  async #rollBackInWindow(live: Side, old: Side, reason: string, automatic: boolean): Promise<DeployReport> {
    await this.shiftBack(live, old, reason, automatic);
    this.#live = old;
    const keep = this.#x.settings.keepFailedSide;
    if (!keep) await this.deleteSide(live, 'failed');
    if (automatic) {
      throw this.#fail(`${reason}. Traffic went back to ${old}; ${live} was ${keep ? 'kept (keepFailedSide)' : 'deleted'}`, { stage: 'window', side: live, shiftedBack: true, deleted: keep ? null : live });
    }
    const report = this.#report('rolled-back');
    this.#emit('deploy.rolled-back', { report, reason });
    return report;
  }

  /** Traffic back to `to`, if it can take it (its nodes healthy enough, `verify` says yes). */
  async shiftBack(from: Side, to: Side, reason: string, automatic: boolean): Promise<void> {
    const l = await this.#x.reader.lookSide(to, this.#specs[to], this.#signal, 'instances');
    const bad = l.statuses.filter((s) => !s.healthy);
    let why: string | null = null;
    if (bad.length > this.#x.settings.tolerateUnhealthyNodes || bad.length === l.statuses.length) why = bad.map((s) => `${s.nodeId} is ${s.state}`).join('; ');
    else why = await this.#verify(to, 'before-rollback', l);
    if (why) {
      throw new BerthDeployError(`${reason}; traffic cannot go back to ${to}: ${why}. Traffic stays on ${from}; nothing was deleted`, { stage: 'rollback', side: to, live: from, cause: undefined });
    }
    try {
      await this.#shift(from, to, { forward: false });
    } catch (err) {
      if (err instanceof StepFailure) throw new BerthDeployError(`${reason}; the shift back to ${to} failed: ${err.message}. Nothing was deleted`, { stage: 'rollback', side: to, live: null });
      throw err;
    }
    this.#live = to;
    this.#emit('traffic.shifted-back', { from, to, reason, automatic });
  }

  /** Before the old side goes: a fresh look must show no traffic reaching it. */
  async #ensureNoTraffic(side: Side): Promise<void> {
    const x = this.#x;
    const raw = await x.reader.readTraffic(this.#signal);
    const looks: Partial<Record<Side, SideLook>> = {};
    if (raw.groups) looks[side] = await x.reader.lookSide(side, this.#specs[side], this.#signal, 'instances');
    const t = x.reader.classify(raw, looks);
    if (t.registered[side].length > 0 || t.draining[side].length > 0) {
      throw this.#fail(`traffic reaches ${side} again (${t.summary}); it was not deleted. Check who moved it, then deleteIdle() or deploy() again`, { stage: 'delete', side });
    }
  }

  /** Deletes every node of the side (its spec's deletion policy), under the side's own lease. */
  async deleteSide(side: Side, why: 'stale' | 'failed' | 'old', observation?: ClusterObservation): Promise<readonly DeleteNodeResult[]> {
    const x = this.#x;
    const spec = this.#specs[side];
    const obs = observation ?? (await this.#x.driver.observe(spec, { scope: 'full', signal: this.#signal }));
    const nodeIds = [...new Set([...spec.nodes.map((n) => n.id), ...Object.keys(obs.nodes)])].sort();
    this.#emit('side.deleting', { side, clusterName: spec.name, nodeIds, why });
    const lease = x.leaseOn(spec, `${this.#x.sessionId}/${side}`);
    await lease.acquire(this.#signal);
    const nodes: DeleteNodeResult[] = [];
    try {
      // One node at a time: each deletion rewrites the side's cluster record without its IP
      // (read, then UPSERT), and two at once would each write back the other's IP.
      for (const id of nodeIds) {
        await x.lease.ensure(this.#signal, x.callLeaseMs);
        await lease.ensure(this.#signal, x.callLeaseMs);
        nodes.push(await this.#x.driver.deleteNode(spec, id, { signal: this.#signal }));
      }
    } finally {
      await lease.release(ABORT_SETTLE_BOUND_MS);
    }
    this.#deleted.push({ side, nodes });
    this.#emit('side.deleted', { side, clusterName: spec.name, nodes });
    return nodes;
  }
}

/** A check failed: the step's own verdict, which the deploy turns into a {@link BerthDeployError}. */
export class StepFailure extends Error {
  readonly stage: DeployStage;
  constructor(stage: DeployStage, message: string) {
    super(message);
    this.stage = stage;
  }
}

