import EventEmitter from 'eventemitter3';
import { LeaseKeeper } from '../controller/lease-keeper.js';
import { ABORT_SETTLE_BOUND_MS } from '../controller/roll-defaults.js';
import type { DeleteNodeResult } from '../driver.js';
import { BerthCapabilityError, BerthLockError, throwIfAborted } from '../errors.js';
import { createPrng } from '../prng.js';
import { RuntimeDriver } from '../runtime/runtime-driver.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import { BerthDeployError } from './blue-green-error.js';
import type { BlueGreenEvents } from './blue-green-events.js';
import {
  otherSide,
  type BlueGreenOptions,
  type BlueGreenPlan,
  type BlueGreenStatus,
  type DeployOptions,
  type DeployReport,
  type RollbackResult,
  type Side,
  type SideStatus,
} from './blue-green-types.js';
import { abortError, DeployRun, type ActiveDeploy, type DeployContext } from './deploy-run.js';
import { currentInstanceIds } from './plan-blue-green.js';
import { deploySpecs, resolveBlueGreen, type ResolvedBlueGreen } from './resolve-blue-green.js';
import { TierReader, type SideLook } from './tier-reader.js';

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
  readonly #reader: TierReader;
  readonly #lease: LeaseKeeper;
  readonly #ctx: DeployContext;
  #active: ActiveDeploy | null = null;

  constructor(options: BlueGreenOptions) {
    super();
    const r = resolveBlueGreen(options);
    if (r.traffic.kind === 'target-groups' && !options.driver.capabilities.loadBalancers) {
      throw new BerthCapabilityError('loadBalancers', options.driver.name, `Blue/green over target groups (tier ${r.name})`);
    }
    this.#o = options;
    this.#r = r;
    this.name = r.name;
    this.sides = r.specs;
    this.trafficSpec = r.trafficSpec;
    const n = ++tierCount;
    const clock = options.clock;
    this.holderId = options.holderId ?? `berth-bg-${n}@${clock.now()}`;
    this.sessionId = options.sessionId ?? `${this.holderId}/${clock.now().toString(36)}.${n.toString(36)}`;
    this.driver = new RuntimeDriver(options.driver, { ...options.runtime, clock, prng: createPrng(options.seed ?? fnv(this.holderId)) });
    this.#reader = new TierReader(this.driver, r, clock);
    this.#lease = this.#leaseOn(r.trafficSpec, this.sessionId, true);
    this.#ctx = {
      name: r.name,
      holderId: this.holderId,
      sessionId: this.sessionId,
      options,
      resolved: r,
      settings: r.settings,
      driver: this.driver,
      reader: this.#reader,
      lease: this.#lease,
      // One attempt's timeout, at most half the TTL.
      callLeaseMs: Math.min(options.runtime?.timeoutMs ?? 120_000, r.settings.lockTtlMs / 2),
      leaseOn: (spec, session) => this.#leaseOn(spec, session, false),
      emit: (name, e) => (this.emit as (n: typeof name, e: BlueGreenEvents[typeof name]) => boolean)(name, e),
    };
  }

  #leaseOn(spec: ClusterSpec, session: string, events: boolean): LeaseKeeper {
    const now = () => this.#o.clock.now();
    return new LeaseKeeper({
      driver: this.driver,
      spec,
      clock: this.#o.clock,
      holder: this.holderId,
      session,
      ttlMs: this.#r.settings.lockTtlMs,
      ...(events && {
        onAcquired: (l) => this.emit('lock.acquired', { holder: l.holder, session: l.session, token: l.token, expiresAtMs: l.expiresAtMs, atMs: now() }),
        onReleased: (l) => this.emit('lock.released', { holder: l.holder, session: l.session, atMs: now() }),
        onLost: (err) => this.emit('lock.lost', { holder: this.holderId, session: this.sessionId, reason: err.message, atMs: now() }),
      }),
    });
  }

  /** Which side is live and how each side stands, read from the cloud now. */
  async status(options: { signal?: AbortSignal } = {}): Promise<BlueGreenStatus> {
    const [look, lock] = await Promise.all([this.#reader.look(this.#r.specs, options.signal, 'both'), this.driver.lock.inspect(this.trafficSpec, { signal: options.signal })]);
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
        ips: this.#reader.ips(s),
      };
    };
    return {
      tier: this.name,
      observedAtMs: look.atMs,
      live: look.traffic.live,
      traffic: look.traffic,
      sides: { blue: side('blue'), green: side('green') },
      lock: lock && lock.expiresAtMs > this.#o.clock.now() ? lock : null,
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
    const look = await this.#reader.look(specs, options.signal, 'needed');
    return this.#reader.plan(look, options.rollbackWindowMs ?? this.#r.settings.rollbackWindowMs);
  }

  /**
   * Deploys the new revision to the idle side and moves traffic to it, under the tier's lease:
   * the steps of {@link plan}, in order. Resolves with a report (`completed`, `rolled-back` when
   * `rollback()` was called, `no-change`); throws {@link BerthDeployError} when a check fails
   * (saying where traffic is and what was deleted), `BerthAbortError` when aborted (the cloud is
   * left as it is; `deploy()` again continues).
   */
  async deploy(options: DeployOptions = {}): Promise<DeployReport> {
    const specs = deploySpecs(this.#r, options);
    const windowMs = options.rollbackWindowMs ?? this.#r.settings.rollbackWindowMs;
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
    try {
      await this.#lease.acquire(ac.signal);
      const report = await new DeployRun(this.#ctx, specs, windowMs, active, ac.signal).execute();
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
      const summary = report.outcome === 'rolled-back' ? `the deploy was rolled back: traffic goes to ${report.live ?? 'no side'}` : `the deploy had already ${report.outcome}`;
      return { tier: this.name, live: report.live, from: report.outcome === 'rolled-back' && report.shiftedAtMs !== null ? report.to : null, atMs: this.#o.clock.now(), summary };
    }
    const signal = options.signal;
    await this.#lease.acquire(signal);
    try {
      const look = await this.#reader.look(this.#r.specs, signal, 'both');
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
      await new DeployRun(this.#ctx, this.#r.specs, 0, null, signal ?? new AbortController().signal).shiftBack(from, to, reason, false);
      return { tier: this.name, live: to, from, atMs: this.#o.clock.now(), summary: `traffic went back from ${from} to ${to}; ${from} stays (the next deploy replaces it, deleteIdle() removes it)` };
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
      const look = await this.#reader.look(this.#r.specs, signal, 'both');
      const live = look.traffic.live;
      if (!live) throw new BerthDeployError(`${look.traffic.summary}; deleteIdle() needs one side taking all the traffic`, { stage: 'delete', side: null, live: null });
      const idle = otherSide(live);
      const l = look.sides[idle] as SideLook;
      if (!l.facts.exists) return null;
      const nodes = await new DeployRun(this.#ctx, this.#r.specs, 0, null, signal ?? new AbortController().signal).deleteSide(idle, 'old', l.observation);
      return { side: idle, nodes };
    } finally {
      await this.#lease.release(ABORT_SETTLE_BOUND_MS);
    }
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
