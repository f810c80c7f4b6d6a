import EventEmitter from 'eventemitter3';
import { Controller } from '../controller/create-controller.js';
import { LeaseKeeper } from '../controller/lease-keeper.js';
import { ABORT_SETTLE_BOUND_MS } from '../controller/roll-defaults.js';
import { BerthAbortError, BerthCapabilityError, BerthLockError, isAbortError, throwIfAborted } from '../errors.js';
import type { DeleteNodeResult, TargetGroupObservation } from '../driver.js';
import type { ClusterObservation } from '../observation.js';
import type { NodeStatus } from '../plan/node-status.js';
import { createPrng } from '../prng.js';
import { RuntimeDriver } from '../runtime/runtime-driver.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import { BerthDeployError, type DeployStage } from './blue-green-error.js';
import type { BlueGreenEvents } from './blue-green-events.js';
import {
  otherSide,
  type BlueGreenOptions,
  type BlueGreenPlan,
  type BlueGreenStatus,
  type BlueGreenStep,
  type DeployOptions,
  type DeployReport,
  type RollbackResult,
  type Side,
  type SideStatus,
  type TrafficStatus,
  type VerifyStage,
} from './blue-green-types.js';
import { allInstanceIds, currentInstanceIds, dnsSettleMs, planBlueGreen, sideFacts, type SideFacts } from './plan-blue-green.js';
import { deploySpecs, normalizeName, resolveBlueGreen, type BlueGreenSettings, type ResolvedBlueGreen } from './resolve-blue-green.js';
import { dnsTrafficStatus, isDraining, isRegistered, targetTrafficStatus } from './traffic-status.js';

/** One side as a look found it. */
interface SideLook {
  readonly side: Side;
  readonly spec: ClusterSpec;
  readonly observation: ClusterObservation;
  readonly statuses: readonly NodeStatus[];
  readonly facts: SideFacts;
}

interface TierLook {
  readonly traffic: TrafficStatus;
  readonly sides: Readonly<Record<Side, SideLook | null>>;
  readonly atMs: number;
}

/** A deploy running in this process: what `rollback()` talks to. */
interface ActiveDeploy {
  phase: 'before-shift' | 'shifting' | 'window' | 'after';
  rollback: { reason: string } | null;
  wake: AbortController | null;
  done: Promise<DeployReport>;
}

/** Extra time past the deregistration delay before a target still draining is let go. */
const DRAIN_GRACE_MS = 60_000;

let tierCount = 0;
const fnv = (s: string) => {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
};

/**
 * A stateless tier deployed blue/green: two clusters (sides), traffic to one of them through
 * persistent ELBv2 target groups or a DNS record. `deploy()` brings the idle side up on the new
 * revision, verifies it, shifts traffic, keeps the old side for a rollback window with the new
 * side's health watched, then deletes it. Which side is live is read from the cloud on every
 * call, never remembered, so a new process continues where a stopped one left off.
 */
export class BlueGreen extends EventEmitter<{ [K in keyof BlueGreenEvents]: (e: BlueGreenEvents[K]) => void }> {
  readonly name: string;
  /** The sides' specs as configured. */
  readonly sides: Readonly<Record<Side, ClusterSpec>>;
  /**
   * The traffic's own spec (no nodes): its lock is the tier's lease; `iamPolicyFor(trafficSpec)`
   * (from `@berth/aws-driver`) allows the record or target-group calls and the lease.
   */
  readonly trafficSpec: ClusterSpec;
  readonly driver: RuntimeDriver;
  readonly holderId: string;
  readonly sessionId: string;
  readonly #o: BlueGreenOptions;
  readonly #r: ResolvedBlueGreen;
  readonly #s: BlueGreenSettings;
  readonly #lease: LeaseKeeper;
  #active: ActiveDeploy | null = null;

  constructor(options: BlueGreenOptions) {
    super();
    const r = resolveBlueGreen(options);
    if (r.traffic.kind === 'target-groups' && !options.driver.capabilities.loadBalancers) {
      throw new BerthCapabilityError('loadBalancers', options.driver.name, `Blue/green over target groups (tier ${r.name})`);
    }
    this.#o = options;
    this.#r = r;
    this.#s = r.settings;
    this.name = r.name;
    this.sides = r.specs;
    this.trafficSpec = r.trafficSpec;
    const n = ++tierCount;
    const clock = options.clock;
    this.holderId = options.holderId ?? `berth-bg-${n}@${clock.now()}`;
    this.sessionId = options.sessionId ?? `${this.holderId}/${clock.now().toString(36)}.${n.toString(36)}`;
    this.driver = new RuntimeDriver(options.driver, { ...options.runtime, clock, prng: createPrng(options.seed ?? fnv(this.holderId)) });
    this.#lease = this.#leaseOn(r.trafficSpec, this.sessionId, true);
  }

  get #clock() {
    return this.#o.clock;
  }

  /** Lease time a mutating call needs left: one attempt's timeout, at most half the TTL. */
  get #callLeaseMs(): number {
    return Math.min(this.#o.runtime?.timeoutMs ?? 120_000, this.#s.lockTtlMs / 2);
  }

  #leaseOn(spec: ClusterSpec, session: string, events: boolean): LeaseKeeper {
    const now = () => this.#clock.now();
    return new LeaseKeeper({
      driver: this.driver,
      spec,
      clock: this.#clock,
      holder: this.holderId,
      session,
      ttlMs: this.#s.lockTtlMs,
      ...(events && {
        onAcquired: (l) => this.emit('lock.acquired', { holder: l.holder, session: l.session, token: l.token, expiresAtMs: l.expiresAtMs, atMs: now() }),
        onReleased: (l) => this.emit('lock.released', { holder: l.holder, session: l.session, atMs: now() }),
        onLost: (err) => this.emit('lock.lost', { holder: this.holderId, session: this.sessionId, reason: err.message, atMs: now() }),
      }),
    });
  }

  // ---- reading the cloud ----

  async #readTraffic(signal: AbortSignal | undefined): Promise<{ record: TrafficStatus['record']; groups: readonly TargetGroupObservation[] | null }> {
    const t = this.#r.traffic;
    if (t.kind === 'dns') {
      const obs = await this.driver.observe(this.trafficSpec, { scope: 'full', signal });
      const rec = (obs.dnsRecords ?? []).find((r) => normalizeName(r.name) === t.recordName);
      return { record: rec ? { name: t.recordName, ttl: rec.ttl, values: [...rec.values].sort() } : null, groups: null };
    }
    return { record: null, groups: await this.driver.describeTargetGroups(this.trafficSpec, t.targetGroupArns, { signal }) };
  }

  #classify(raw: { record: TrafficStatus['record']; groups: readonly TargetGroupObservation[] | null }, looks: Partial<Record<Side, SideLook>>): TrafficStatus {
    if (raw.groups === null) return dnsTrafficStatus(raw.record, { blue: this.#ips('blue'), green: this.#ips('green') });
    return targetTrafficStatus(raw.groups, { blue: looks.blue ? allInstanceIds(looks.blue.observation) : [], green: looks.green ? allInstanceIds(looks.green.observation) : [] });
  }

  #ips(side: Side): string[] {
    return this.#r.specs[side].nodes.map((n) => n.ip);
  }

  async #lookSide(side: Side, spec: ClusterSpec, signal: AbortSignal | undefined, scope: 'full' | 'instances' = 'full'): Promise<SideLook> {
    const observation = await this.driver.observe(spec, { scope, signal });
    const { facts, statuses } = sideFacts(side, spec, observation);
    return { side, spec, observation, statuses, facts };
  }

  /**
   * Traffic and the sides, each side against `specs`. `needed`: with no traffic anywhere only
   * blue (the target then) is looked at; otherwise both.
   */
  async #look(specs: Readonly<Record<Side, ClusterSpec>>, signal: AbortSignal | undefined, which: 'both' | 'needed'): Promise<TierLook> {
    const raw = await this.#readTraffic(signal);
    const anyTraffic = raw.groups ? raw.groups.some((g) => g.targets.length > 0) : (raw.record?.values.length ?? 0) > 0;
    const sides: Side[] = which === 'both' || anyTraffic ? ['blue', 'green'] : ['blue'];
    const looked = await Promise.all(sides.map((s) => this.#lookSide(s, specs[s], signal)));
    const bySide: Partial<Record<Side, SideLook>> = Object.fromEntries(looked.map((l) => [l.side, l]));
    return { traffic: this.#classify(raw, bySide), sides: { blue: bySide.blue ?? null, green: bySide.green ?? null }, atMs: this.#clock.now() };
  }

  #plan(look: TierLook, windowMs: number): BlueGreenPlan {
    const t = this.#r.traffic;
    return planBlueGreen(
      this.name,
      look.traffic,
      { blue: look.sides.blue?.facts ?? null, green: look.sides.green?.facts ?? null },
      {
        rollbackWindowMs: windowMs,
        healthyTimeoutMs: this.#s.healthyTimeoutMs,
        keepFailedSide: this.#s.keepFailedSide,
        dns: t.kind === 'dns' ? { recordName: t.recordName, ttl: t.ttl, propagationMs: this.#s.dnsPropagationMs } : null,
      },
    );
  }

  /** Which side is live and how each side stands, read from the cloud now. */
  async status(options: { signal?: AbortSignal } = {}): Promise<BlueGreenStatus> {
    const [look, lock] = await Promise.all([this.#look(this.#r.specs, options.signal, 'both'), this.driver.lock.inspect(this.trafficSpec, { signal: options.signal })]);
    const side = (s: Side): SideStatus => {
      const l = look.sides[s] as SideLook;
      return {
        side: s,
        clusterName: l.spec.name,
        exists: l.facts.exists,
        nodes: l.statuses,
        healthy: l.facts.healthy,
        total: l.facts.total,
        images: l.facts.images,
        instanceTypes: l.facts.instanceTypes,
        instanceIds: currentInstanceIds(l.observation),
        ips: this.#ips(s),
      };
    };
    return {
      tier: this.name,
      observedAtMs: look.atMs,
      live: look.traffic.live,
      traffic: look.traffic,
      sides: { blue: side('blue'), green: side('green') },
      lock: lock && lock.expiresAtMs > this.#clock.now() ? lock : null,
    };
  }

  /**
   * What `deploy(options)` would do now, without doing it: the target side, the field changes,
   * every step in order — what is created, when traffic moves, what is deleted and when — and
   * what a failure does. A deploy that stopped part-way shows as `resume`. Render it with
   * `formatBlueGreenPlan`.
   */
  async plan(options: Omit<DeployOptions, 'signal'> & { signal?: AbortSignal } = {}): Promise<BlueGreenPlan> {
    const specs = deploySpecs(this.#r, options);
    const look = await this.#look(specs, options.signal, 'needed');
    return this.#plan(look, options.rollbackWindowMs ?? this.#s.rollbackWindowMs);
  }

  // ---- deploy ----

  /**
   * Deploys the new revision to the idle side and moves traffic to it, under the tier's lease:
   * the steps of {@link plan}, in order. Resolves with a report (`completed`, `rolled-back` when
   * `rollback()` was called, `no-change`); throws {@link BerthDeployError} when a check fails
   * (saying where traffic is and what was deleted), `BerthAbortError` when aborted (the cloud is
   * left as it is; `deploy()` again continues).
   */
  async deploy(options: DeployOptions = {}): Promise<DeployReport> {
    const specs = deploySpecs(this.#r, options);
    const windowMs = options.rollbackWindowMs ?? this.#s.rollbackWindowMs;
    const outer = options.signal;
    throwIfAborted(outer);
    if (this.#active) throw new BerthLockError('LOCK_HELD', `A deploy of tier ${this.name} is already running in this process; wait for it, or call rollback().`);
    const ac = new AbortController();
    const onOuter = () => ac.abort(outer?.reason);
    outer?.addEventListener('abort', onOuter, { once: true });
    const onLost = (e: { reason: string }) => ac.abort(new BerthLockError('LOCK_LOST', e.reason));
    this.on('lock.lost', onLost);
    let settle!: { resolve: (r: DeployReport) => void; reject: (e: unknown) => void };
    const active: ActiveDeploy = { phase: 'before-shift', rollback: null, wake: null, done: new Promise((resolve, reject) => (settle = { resolve, reject })) };
    active.done.catch(() => undefined);
    this.#active = active;
    const run = new DeployRun(this, specs, windowMs, active, ac.signal);
    try {
      const report = await run.execute();
      settle.resolve(report);
      return report;
    } catch (err) {
      const e = ac.signal.aborted && !(err instanceof BerthDeployError) ? abortError(ac.signal, err) : err;
      settle.reject(e);
      throw e;
    } finally {
      this.#active = null;
      this.off('lock.lost', onLost);
      outer?.removeEventListener('abort', onOuter);
      await this.#lease.release(ABORT_SETTLE_BOUND_MS);
    }
  }

  /**
   * Sends traffic back to the old side. During a `deploy()` of this process: the deploy stops
   * (before its shift: without shifting; after it: traffic goes back, the new side is deleted
   * per `keepFailedSide`) and resolves `rolled-back`. Otherwise, under the tier's lease: when the
   * other side still exists (its rollback window is not over) and is healthy, traffic goes to it;
   * the side traffic left stays (the next deploy replaces it). `to` is needed when traffic is split.
   */
  async rollback(options: { to?: Side; reason?: string; signal?: AbortSignal } = {}): Promise<RollbackResult> {
    const reason = options.reason ?? 'rollback() was called';
    const active = this.#active;
    if (active) {
      active.rollback = { reason };
      active.wake?.abort();
      const report = await active.done;
      return { tier: this.name, live: report.live, from: report.shiftedAtMs !== null ? report.to : null, atMs: this.#clock.now(), summary: report.outcome === 'rolled-back' ? `the deploy was rolled back: traffic goes to ${report.live ?? 'no side'}` : `the deploy had already ${report.outcome}` };
    }
    const signal = options.signal;
    await this.#lease.acquire(signal);
    try {
      const look = await this.#look(this.#r.specs, signal, 'both');
      const t = look.traffic;
      let from: Side;
      let to: Side;
      if (t.state === 'mixed') {
        if (!options.to) throw new BerthDeployError(`${t.summary}: say which side takes it, rollback({ to: 'blue' | 'green' })`, { stage: 'rollback', side: null, live: null });
        to = options.to;
        from = otherSide(to);
      } else if (t.live) {
        from = t.live;
        to = otherSide(from);
        if (options.to && options.to !== to) throw new BerthDeployError(`traffic already goes to ${options.to}`, { stage: 'rollback', side: options.to, live: t.live });
      } else {
        throw new BerthDeployError(`${t.summary}; there is no live side to roll back from`, { stage: 'rollback', side: null, live: null });
      }
      const target = look.sides[to] as SideLook;
      if (!target.facts.exists) {
        throw new BerthDeployError(`nothing to roll back to: ${target.spec.name} (${to}) does not exist — its rollback window ended and it was deleted. Deploy the previous revision instead`, { stage: 'rollback', side: to, live: t.live });
      }
      const run = new DeployRun(this, this.#r.specs, 0, null, signal ?? new AbortController().signal);
      await run.shiftBack(from, to, reason, false);
      return { tier: this.name, live: to, from, atMs: this.#clock.now(), summary: `traffic went back from ${from} to ${to}; ${from} stays (the next deploy replaces it, deleteIdle() removes it)` };
    } finally {
      await this.#lease.release(ABORT_SETTLE_BOUND_MS);
    }
  }

  /**
   * Deletes the side that takes no traffic, under the tier's lease (the end of a rollback window
   * a stopped deploy did not finish). Refuses while traffic is split, or goes nowhere.
   */
  async deleteIdle(options: { signal?: AbortSignal } = {}): Promise<{ side: Side; nodes: readonly DeleteNodeResult[] } | null> {
    const signal = options.signal;
    await this.#lease.acquire(signal);
    try {
      const look = await this.#look(this.#r.specs, signal, 'both');
      const live = look.traffic.live;
      if (!live) throw new BerthDeployError(`${look.traffic.summary}; deleteIdle() needs one side taking all the traffic`, { stage: 'delete', side: null, live: null });
      const idle = otherSide(live);
      const l = look.sides[idle] as SideLook;
      if (!l.facts.exists) return null;
      const run = new DeployRun(this, this.#r.specs, 0, null, signal ?? new AbortController().signal);
      const nodes = await run.deleteSide(idle, 'old');
      return { side: idle, nodes };
    } finally {
      await this.#lease.release(ABORT_SETTLE_BOUND_MS);
    }
  }

  // ---- what DeployRun uses ----

  /** @internal */
  get internals() {
    return {
      options: this.#o,
      resolved: this.#r,
      settings: this.#s,
      lease: this.#lease,
      callLeaseMs: this.#callLeaseMs,
      look: (specs: Readonly<Record<Side, ClusterSpec>>, signal: AbortSignal, which: 'both' | 'needed') => this.#look(specs, signal, which),
      lookSide: (side: Side, spec: ClusterSpec, signal: AbortSignal, scope?: 'full' | 'instances') => this.#lookSide(side, spec, signal, scope),
      readTraffic: (signal: AbortSignal) => this.#readTraffic(signal),
      classify: (raw: { record: TrafficStatus['record']; groups: readonly TargetGroupObservation[] | null }, looks: Partial<Record<Side, SideLook>>) => this.#classify(raw, looks),
      plan: (look: TierLook, windowMs: number) => this.#plan(look, windowMs),
      leaseOn: (spec: ClusterSpec, session: string) => this.#leaseOn(spec, session, false),
      ips: (side: Side) => this.#ips(side),
    };
  }
}

function abortError(signal: AbortSignal, cause: unknown): unknown {
  if (signal.reason instanceof BerthLockError) return signal.reason;
  if (cause instanceof BerthAbortError) return cause;
  return new BerthAbortError(signal.reason instanceof Error ? `Aborted: ${signal.reason.message}` : 'The deploy was aborted.', { cause: signal.reason ?? cause });
}

/** One deploy (or a rollback/deletion outside one): the steps, with the tier's lease held. */
class DeployRun {
  readonly #bg: BlueGreen;
  readonly #x: BlueGreen['internals'];
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

  constructor(bg: BlueGreen, specs: Readonly<Record<Side, ClusterSpec>>, windowMs: number, active: ActiveDeploy | null, signal: AbortSignal) {
    this.#bg = bg;
    this.#x = bg.internals;
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
    (this.#bg.emit as (n: K, e: BlueGreenEvents[K]) => boolean)(name, { ...e, atMs: this.#now() } as BlueGreenEvents[K]);
    this.#steps.push({ step: name, atMs: this.#now() });
  }

  #sleep(ms: number): Promise<void> {
    return this.#x.options.clock.sleep(ms, this.#signal);
  }

  #report(outcome: DeployReport['outcome']): DeployReport {
    return Object.freeze({
      tier: this.#bg.name,
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
    await x.lease.acquire(this.#signal);
    const look = await x.look(this.#specs, this.#signal, 'needed');
    const plan = x.plan(look, this.#windowMs);
    this.#live = look.traffic.live;
    if (plan.blocked) throw this.#fail(plan.blocked, { stage: 'create', side: null });
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
          const l = await this.#x.lookSide(step.side, this.#specs[step.side], this.#signal, 'instances');
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
      if (!keep) {
        await this.#unregister(side);
        await this.deleteSide(side, 'failed');
      }
      throw this.#fail(`${err.message}. ${this.#live ? `Traffic stays on ${this.#live}, untouched` : 'No traffic was moved'}; ${side} was ${keep ? 'kept (keepFailedSide)' : 'deleted'}`, {
        stage: err.stage,
        side,
        deleted: keep ? null : side,
      });
    }
  }

  async #abandonBeforeShift(side: Side, reason: string): Promise<DeployReport> {
    if (!this.#x.settings.keepFailedSide) {
      await this.#unregister(side);
      await this.deleteSide(side, 'failed');
    }
    const report = this.#report('rolled-back');
    this.#emit('deploy.rolled-back', { report, reason });
    return report;
  }

  async #apply(side: Side): Promise<void> {
    const o = this.#x.options;
    const spec = this.#specs[side];
    this.#emit('side.applying', { side, clusterName: spec.name });
    const c = new Controller({
      spec,
      driver: o.driver,
      clock: o.clock,
      holderId: this.#bg.holderId,
      sessionId: `${this.#bg.sessionId}/${side}`,
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
      const l = await this.#x.lookSide(side, spec, this.#signal, 'instances');
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
      ips: this.#x.ips(side),
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
    const l = await x.lookSide(to, spec, this.#signal, 'instances');
    const bad = l.statuses.filter((s) => !s.healthy);
    const allowed = how.forward ? 0 : x.settings.tolerateUnhealthyNodes;
    if (bad.length > allowed || bad.length === l.statuses.length) {
      throw new StepFailure('shift', `${to} is not healthy at the moment of the shift: ${bad.map((s) => `${s.nodeId} is ${s.state}`).join('; ')}`);
    }
    this.#emit('traffic.shifting', { from, to });
    const t = x.resolved.traffic;
    if (t.kind === 'dns') {
      const before = (await x.readTraffic(this.#signal)).record;
      const values = x.ips(to).sort();
      await x.lease.ensure(this.#signal, x.callLeaseMs);
      await this.#bg.driver.setDns(x.resolved.trafficSpec, [{ name: t.recordName, values }], { signal: this.#signal });
      const settleMs = dnsSettleMs(x.settings.dnsPropagationMs, before?.ttl ?? null, t.ttl);
      this.#emit('traffic.dns', { recordName: t.recordName, values, ttl: t.ttl, previous: before ? { values: before.values, ttl: before.ttl } : null, settleMs });
      await this.#sleep(settleMs);
      const after = (await x.readTraffic(this.#signal)).record;
      if (!after || after.values.join(',') !== values.join(',')) {
        throw new BerthDeployError(`${t.recordName} changed while traffic was moving to ${to}: it lists ${after?.values.join(', ') ?? 'nothing'}; someone else edits it. Nothing was deleted`, { stage: 'shift', side: to, live: null });
      }
    } else {
      const ids = l.statuses.filter((s) => s.healthy && s.current).map((s) => (s.current as NonNullable<NodeStatus['current']>).instanceId);
      // The old side's instances as EC2 lists them now: one lost a moment ago is still listed
      // (terminated, for a while) and its target is deregistered with the others.
      const fromIds = from ? allInstanceIds((await x.lookSide(from, this.#specs[from], this.#signal, 'instances')).observation) : [];
      await x.lease.ensure(this.#signal, x.callLeaseMs);
      await this.#bg.driver.registerTargets(x.resolved.trafficSpec, t.targetGroupArns, ids, { signal: this.#signal });
      await this.#waitTargetsHealthy(to, ids, t.targetGroupArns);
      if (from) await this.#drain(from, fromIds);
    }
    this.#emit('traffic.shifted', { from, to });
  }

  async #waitTargetsHealthy(side: Side, ids: readonly string[], arns: readonly string[]): Promise<void> {
    const started = this.#now();
    const timeoutMs = this.#x.settings.registerTimeoutMs;
    let groups = await this.#bg.driver.describeTargetGroups(this.#x.resolved.trafficSpec, arns, { signal: this.#signal });
    // Nothing is healthy before HealthyThresholdCount checks have passed: sleep through that.
    const atBestMs = Math.max(0, ...groups.map((g) => g.healthyAfterMs));
    if (atBestMs > 0) {
      await this.#sleep(Math.min(atBestMs, timeoutMs));
      groups = await this.#bg.driver.describeTargetGroups(this.#x.resolved.trafficSpec, arns, { signal: this.#signal });
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
      groups = await this.#bg.driver.describeTargetGroups(this.#x.resolved.trafficSpec, arns, { signal: this.#signal });
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
    const mine = new Set([...known, ...allInstanceIds((await x.lookSide(side, this.#specs[side], this.#signal, 'instances')).observation)]);
    const groups = await this.#bg.driver.describeTargetGroups(x.resolved.trafficSpec, t.targetGroupArns, { signal: this.#signal });
    const registered = groups.filter((g) => g.targets.some((tg) => mine.has(tg.instanceId) && isRegistered(tg)));
    const ids = [...new Set(registered.flatMap((g) => g.targets.filter((tg) => mine.has(tg.instanceId) && isRegistered(tg)).map((tg) => tg.instanceId)))].sort();
    let delayMs = 0;
    if (ids.length > 0) {
      await x.lease.ensure(this.#signal, x.callLeaseMs);
      await this.#bg.driver.deregisterTargets(x.resolved.trafficSpec, registered.map((g) => g.targetGroupArn), ids, { signal: this.#signal });
      delayMs = Math.max(...registered.map((g) => g.deregistrationDelayMs));
      this.#emit('traffic.deregistering', { side, instanceIds: ids, targetGroupArns: registered.map((g) => g.targetGroupArn), delayMs });
      if (delayMs > 0) await this.#sleep(delayMs);
    }
    const started = this.#now() - delayMs;
    for (;;) {
      const now = await this.#bg.driver.describeTargetGroups(x.resolved.trafficSpec, t.targetGroupArns, { signal: this.#signal });
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
      const rec = (await x.readTraffic(this.#signal)).record;
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
      const o = await x.lookSide(old, this.#specs[old], this.#signal, 'instances');
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
    const l = await x.lookSide(side, this.#specs[side], this.#signal, 'instances');
    const bad = new Map<string, string>();
    for (const s of l.statuses) if (!s.healthy) bad.set(s.nodeId, `${s.nodeId} is ${s.state}${s.cause ? ` (${s.cause})` : ''}`);
    const t = x.resolved.traffic;
    if (t.kind === 'target-groups') {
      const groups = await this.#bg.driver.describeTargetGroups(x.resolved.trafficSpec, t.targetGroupArns, { signal: this.#signal });
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
    const l = await this.#x.lookSide(to, this.#specs[to], this.#signal, 'instances');
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
    const raw = await x.readTraffic(this.#signal);
    const looks: Partial<Record<Side, SideLook>> = {};
    if (raw.groups) looks[side] = await x.lookSide(side, this.#specs[side], this.#signal, 'instances');
    const t = x.classify(raw, looks);
    if (t.registered[side].length > 0 || t.draining[side].length > 0) {
      throw this.#fail(`traffic reaches ${side} again (${t.summary}); it was not deleted. Check who moved it, then deleteIdle() or deploy() again`, { stage: 'delete', side });
    }
  }

  /** Deletes every node of the side (its spec's deletion policy), under the side's own lease. */
  async deleteSide(side: Side, why: 'stale' | 'failed' | 'old', observation?: ClusterObservation): Promise<readonly DeleteNodeResult[]> {
    const x = this.#x;
    const spec = this.#specs[side];
    const obs = observation ?? (await this.#bg.driver.observe(spec, { scope: 'full', signal: this.#signal }));
    const nodeIds = [...new Set([...spec.nodes.map((n) => n.id), ...Object.keys(obs.nodes)])].sort();
    this.#emit('side.deleting', { side, clusterName: spec.name, nodeIds, why });
    const lease = x.leaseOn(spec, `${this.#bg.sessionId}/${side}`);
    await lease.acquire(this.#signal);
    const nodes: DeleteNodeResult[] = [];
    try {
      // One node at a time: each deletion rewrites the side's cluster record without its IP
      // (read, then UPSERT), and two at once would each write back the other's IP.
      for (const id of nodeIds) {
        await lease.ensure(this.#signal, x.callLeaseMs);
        nodes.push(await this.#bg.driver.deleteNode(spec, id, { signal: this.#signal }));
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
class StepFailure extends Error {
  readonly stage: DeployStage;
  constructor(stage: DeployStage, message: string) {
    super(message);
    this.stage = stage;
  }
}

/**
 * Creates a blue/green tier. Validates everything it can before any cloud call (both sides,
 * the traffic, the rule that sides share no node id or IP, stateless sides) and throws a
 * `BerthConfigError` listing every problem.
 *
 * @example
 * ```ts
 * const tier = createBlueGreen({
 *   name: 'web', driver, clock,
 *   blue: webInput('web-blue', 10), green: webInput('web-green', 20),
 *   traffic: { dns: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', recordName: 'web.example.com', ttl: 60 } },
 *   rollbackWindowMs: 3_600_000,
 *   hooks: { verify: async (side, ctx) => (await fetch(`http://${ctx.ips[0]}/health`)).ok },
 * });
 * console.log(formatBlueGreenPlan(await tier.plan({ image: 'ami-0fedcba9876543210' })));
 * const report = await tier.deploy({ image: 'ami-0fedcba9876543210' });
 * ```
 */
export function createBlueGreen(options: BlueGreenOptions): BlueGreen {
  return new BlueGreen(options);
}

