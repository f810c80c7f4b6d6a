import EventEmitter from 'eventemitter3';
import { createActor, fromPromise, toPromise } from 'xstate';
import type { Clock } from '../clock.js';
import type { ClusterChange, Driver, EnsureNodeResult } from '../driver.js';
import { BerthAbortError, BerthError, BerthHookError, BerthLockError, BerthRollHaltedError, isAbortError, throwIfAborted } from '../errors.js';
import type { HookContext, RollHooks } from '../hooks.js';
import type { Lease } from '../lock.js';
import type { NodeMachineEmitted } from '../machines/node-machine.js';
import type { ClusterObservation } from '../observation.js';
import { planApply, type ApplyPlan } from '../plan/plan-apply.js';
import { clusterStatuses, type NodeStatus } from '../plan/node-status.js';
import { planRoll, type InFlightReplacement, type RollPlan } from '../plan/plan-roll.js';
import { quorumOf, type QuorumMath } from '../plan/quorum.js';
import { createPrng } from '../prng.js';
import { RuntimeDriver, type RuntimeOptions } from '../runtime/runtime-driver.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import type { ControllerEvents } from './events.js';
import { NodeTracker } from './node-tracker.js';
import { rollMachine } from './roll-machine.js';
import { diffCounts, RollRecorder, type RollReport } from './roll-report.js';

export interface ControllerOptions {
  readonly spec: ClusterSpec;
  readonly driver: Driver;
  readonly clock: Clock;
  readonly hooks?: RollHooks;
  /** Who holds the lock while this controller acts. Default `berth-<n>@<clock time>`. */
  readonly holderId?: string;
  /**
   * This controller instance's lease session. Two controllers with one holder id are two owners,
   * and the lease tells them apart by this. Default: holder id, clock time and a per-process count.
   */
  readonly sessionId?: string;
  /** Seed of the retry-jitter PRNG. Default: a hash of the holder id. */
  readonly seed?: number;
  /** Retry, rate-limit and timeout settings of the runtime wrapper. */
  readonly runtime?: Partial<Omit<RuntimeOptions, 'clock' | 'prng'>>;
  /** Lease length; renewed when half of it is left. Default 600 000 ms. */
  readonly lockTtlMs?: number;
  /** Longest pause between polls when the driver has no change notifications. Default 10 000 ms. */
  readonly pollIntervalMs?: number;
}

export interface RollOptions {
  /** Most nodes replaced at once; always capped by the quorum tolerance. Default 1. */
  readonly maxUnavailable?: number;
  /** How long one replacement may take before the roll halts. Default 1 800 000 ms (30 min). */
  readonly replacementTimeoutMs?: number;
  /** How long `clusterHealthy` may stay false at a gate before the roll halts. Default 600 000 ms. */
  readonly healthTimeoutMs?: number;
  /** Hooks for this roll, on top of the controller's. */
  readonly hooks?: RollHooks;
  /** Ignore failures reported before this roll started (retry a revision after fixing its cause). */
  readonly retryFailed?: boolean;
  /** Nodes to leave alone. */
  readonly skip?: readonly string[];
  readonly signal?: AbortSignal;
}

export interface ApplyResult {
  readonly nodes: readonly EnsureNodeResult[];
  readonly dnsRecords: readonly string[];
  readonly resized: readonly { nodeId: string; fromGiB: number; toGiB: number }[];
  readonly warnings: readonly string[];
}

export interface ClusterStatus {
  readonly clusterName: string;
  readonly observedAtMs: number;
  readonly nodes: readonly NodeStatus[];
  readonly quorum: QuorumMath & { readonly healthy: number; readonly down: number; /** healthy − quorum: how many more may fail. */ readonly margin: number };
  readonly outdated: readonly string[];
  readonly converged: boolean;
}

export interface WatchOptions {
  readonly signal: AbortSignal;
  /** Pause between observations when the driver has no notifications. Default: pollIntervalMs. */
  readonly intervalMs?: number;
  /** A node booting longer than this is reported `node.stuck`. Default 900 000 ms. */
  readonly stuckAfterMs?: number;
  /** Repair DNS drift (UPSERT, under the lock). Default true. */
  readonly repairDns?: boolean;
}

let controllerCount = 0;
const fnv = (s: string) => {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
};

/**
 * With notifications, still look at least this often: timeouts, and failures that send no
 * event (a bootstrap waiting for manual repair). Failures that abandon send one.
 */
const SAFETY_POLL_MS = 300_000;
/** SQS's longest long-poll. */
const MAX_WAIT_MS = 20_000;

/**
 * Drives one cluster: `plan()`, `apply()`, `roll()`, `status()`, `watch()`, with typed events.
 * Stateless across crashes: everything it needs is in the cloud (revision tags, launch
 * template versions, lifecycle states, the lock), so a new controller continues where a
 * killed one stopped.
 */
export class Controller extends EventEmitter<{ [K in keyof ControllerEvents]: (e: ControllerEvents[K]) => void }> {
  readonly spec: ClusterSpec;
  readonly driver: RuntimeDriver;
  readonly clock: Clock;
  readonly holderId: string;
  readonly sessionId: string;
  readonly #hooks: RollHooks;
  readonly #lockTtlMs: number;
  readonly #pollIntervalMs: number;
  #lease: Lease | null = null;
  #rollActor: { send(e: { type: 'pause' } | { type: 'resume' }): void } | null = null;

  constructor(options: ControllerOptions) {
    super();
    this.spec = options.spec;
    this.clock = options.clock;
    const n = ++controllerCount;
    this.holderId = options.holderId ?? `berth-${n}@${options.clock.now()}`;
    this.sessionId = options.sessionId ?? `${this.holderId}/${options.clock.now().toString(36)}.${n.toString(36)}`;
    this.driver = new RuntimeDriver(options.driver, {
      ...options.runtime,
      clock: options.clock,
      prng: createPrng(options.seed ?? fnv(this.holderId)),
    });
    this.#hooks = options.hooks ?? {};
    this.#lockTtlMs = options.lockTtlMs ?? 600_000;
    this.#pollIntervalMs = options.pollIntervalMs ?? 10_000;
  }

  /** What `apply()` and `roll()` would do now, without doing it. */
  async plan(options: { maxUnavailable?: number; signal?: AbortSignal; hooks?: RollHooks } = {}): Promise<{ apply: ApplyPlan; roll: RollPlan; observation: ClusterObservation }> {
    const observation = await this.driver.observe(this.spec, { scope: 'full', signal: options.signal });
    const hooks = { ...this.#hooks, ...options.hooks };
    const signal = options.signal ?? new AbortController().signal;
    const leaderId = await this.#leader(hooks, observation, signal);
    const roll = planRoll(observation, this.spec, {
      maxUnavailable: options.maxUnavailable ?? 1,
      leaderId,
      replacementTimeoutMs: Infinity,
      inFlight: new Map(),
      ignoreFailuresBeforeMs: 0,
    }, this.clock.now());
    return { apply: planApply(observation, this.spec), roll, observation };
  }

  /** Provisions and converges every node's resources and DNS. Idempotent; disrupts nothing. */
  async apply(options: { signal?: AbortSignal } = {}): Promise<ApplyResult> {
    const signal = options.signal;
    await this.#acquire(signal);
    try {
      const observation = await this.driver.observe(this.spec, { scope: 'full', signal });
      const plan = planApply(observation, this.spec);
      const nodes: EnsureNodeResult[] = [];
      for (const step of plan.nodes) {
        await this.#renewIfDue(signal);
        const result = await this.driver.ensureNode(this.spec, step.nodeId, { signal });
        nodes.push(result);
        this.emit('apply.node', { nodeId: step.nodeId, changes: result.changes, atMs: this.clock.now() });
      }
      for (const r of plan.resizes) {
        await this.driver.resizeVolume(this.spec, r.nodeId, r.toGiB, { signal });
      }
      if (plan.dns.length > 0) await this.driver.setDns(this.spec, plan.dns, { signal });
      return { nodes, dnsRecords: plan.dns.map((r) => r.name), resized: plan.resizes, warnings: plan.warnings };
    } finally {
      await this.#release();
    }
  }

  /** The cluster as observed now, interpreted. */
  async status(options: { signal?: AbortSignal } = {}): Promise<ClusterStatus> {
    const observation = await this.driver.observe(this.spec, { scope: 'full', signal: options.signal });
    return this.#status(observation);
  }

  /** Pauses a running roll before its next batch; `resume()` continues it. */
  pause(): void {
    this.#rollActor?.send({ type: 'pause' });
  }
  resume(): void {
    this.#rollActor?.send({ type: 'resume' });
  }

  /**
   * Replaces every outdated instance, in batches that never leave fewer than quorum healthy
   * members. Resolves with a report; throws {@link BerthRollHaltedError} (with `.report`)
   * when it halts, naming the node, its phase and its last error.
   */
  async roll(options: RollOptions = {}): Promise<RollReport> {
    const outer = options.signal;
    throwIfAborted(outer);
    const spec = this.spec;
    const hooks: RollHooks = { ...this.#hooks, ...options.hooks };
    const maxUnavailable = Math.max(1, Math.floor(options.maxUnavailable ?? 1));
    const replacementTimeoutMs = options.replacementTimeoutMs ?? 1_800_000;
    const healthTimeoutMs = options.healthTimeoutMs ?? 600_000;
    const startedAtMs = this.clock.now();
    const ignoreFailuresBeforeMs = options.retryFailed ? startedAtMs : 0;
    const skip = new Set(options.skip ?? []);
    const recorder = new RollRecorder(`${spec.name}-${startedAtMs}`, spec.name, startedAtMs, maxUnavailable);
    const callsBefore = this.driver.apiCallCounts();
    const inFlight = new Map<string, InFlightReplacement>();
    const firstSeenDown = new Map<string, number>();
    const batchOf = new Map<string, number>();
    let started = false;
    let lastWaitReason = '';
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(outer?.reason);
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    const signal = controller.signal;

    const tracker = new NodeTracker(spec.nodes.map((n) => n.id), startedAtMs, (e) => this.#onNodeEvent(e, recorder));
    const observed = (observation: ClusterObservation): NodeStatus[] => {
      const statuses = clusterStatuses(spec, observation);
      tracker.observed(statuses, observation.observedAtMs);
      return statuses;
    };
    const ctx = (observation: ClusterObservation): HookContext => ({ spec, observation, signal });

    const gateHealthy = async (observation: ClusterObservation, what: string): Promise<ClusterObservation> => {
      if (!hooks.clusterHealthy) return observation;
      const deadline = this.clock.now() + healthTimeoutMs;
      let delayMs = 1_000;
      for (;;) {
        if (await this.#hook('clusterHealthy', null, () => hooks.clusterHealthy?.(ctx(observation)))) return observation;
        if (this.clock.now() >= deadline) {
          throw new BerthRollHaltedError(`the cluster-health hook stayed false for ${Math.round(healthTimeoutMs / 1000)} s ${what}`, { phase: 'gate' });
        }
        await this.clock.sleep(delayMs, signal);
        delayMs = Math.min(delayMs * 2, 15_000);
        await this.#renewIfDue(signal);
      }
    };

    const machine = rollMachine.provide({
      actors: {
        lock: fromPromise(async () => {
          await this.#acquire(signal);
        }),
        observe: fromPromise(async () => {
          // Planning a roll needs groups and instances only: the cheap scope.
          const obs = await this.driver.observe(spec, { scope: 'instances', signal });
          observed(obs);
          return obs;
        }),
        decide: fromPromise(async ({ input }) => {
          await this.#renewIfDue(signal);
          const obs = input.observation;
          const now = this.clock.now();
          const statuses = clusterStatuses(spec, obs);
          for (const s of statuses) {
            if (s.healthy) firstSeenDown.delete(s.nodeId);
            else if (!firstSeenDown.has(s.nodeId)) firstSeenDown.set(s.nodeId, now);
          }
          // Unhealthy nodes this roll did not disrupt get the same deadline, from when it first saw them.
          const deadlines = new Map(inFlight);
          for (const [nodeId, at] of firstSeenDown) {
            if (!deadlines.has(nodeId)) deadlines.set(nodeId, { nodeId, oldInstanceId: '', startedAtMs: at });
          }
          const leaderId = await this.#leader(hooks, obs, signal);
          const plan = planRoll(obs, spec, { maxUnavailable, leaderId, replacementTimeoutMs, inFlight: deadlines, ignoreFailuresBeforeMs, skip }, now);
          if (!started) {
            started = true;
            recorder.alreadyCurrent = plan.statuses.filter((s) => !s.outdated).map((s) => s.nodeId);
            this.emit('roll.started', { rollId: recorder.rollId, outdated: plan.order, maxUnavailable, tolerance: plan.quorum.tolerance, atMs: now });
          }
          if (plan.action.type === 'wait' && plan.action.reason !== lastWaitReason) {
            lastWaitReason = plan.action.reason;
            this.emit('roll.waiting', { reason: plan.action.reason, nodeIds: plan.action.nodeIds, atMs: now });
          }
          return plan;
        }),
        updateTemplates: fromPromise(async ({ input }) => {
          const nodes = { ...input.observation.nodes };
          for (const nodeId of input.nodeIds) {
            await this.#renewIfDue(signal);
            const node = nodes[nodeId];
            // The observation lets the driver skip discovery: only the template changes here.
            const result = await this.driver.ensureNode(spec, nodeId, { signal, observed: node });
            this.emit('apply.node', { nodeId, changes: result.changes, atMs: this.clock.now() });
            if (node?.group) nodes[nodeId] = { ...node, group: { ...node.group, revision: result.revision } };
          }
          return { ...input.observation, nodes };
        }),
        startBatch: fromPromise(async ({ input }) => {
          const action = input.plan.action;
          if (action.type !== 'replace') return;
          const obs = await gateHealthy(input.observation, 'before the batch');
          await this.#renewIfDue(signal);
          const index = recorder.batchStarted(action.nodeIds, this.clock.now());
          this.emit('batch.started', { index, nodeIds: action.nodeIds, budget: input.plan.quorum.budget, atMs: this.clock.now() });
          for (const [i, nodeId] of action.nodeIds.entries()) {
            const instanceId = action.instanceIds[i] as string;
            await this.#hook('beforeReplace', nodeId, () => hooks.beforeReplace?.(nodeId, ctx(obs)));
            throwIfAborted(signal);
            const atMs = this.clock.now();
            // Recorded before the call: if we crash mid-call the cloud still tells the story.
            inFlight.set(nodeId, { nodeId, oldInstanceId: instanceId, startedAtMs: atMs });
            batchOf.set(nodeId, index);
            recorder.replacing(nodeId, instanceId, index, atMs);
            tracker.replacing(nodeId, instanceId, atMs);
            this.emit('node.replacing', { nodeId, instanceId, atMs });
            await this.driver.replaceInstance(spec, nodeId, instanceId, { signal });
          }
        }),
        verify: fromPromise(async ({ input }) => {
          const action = input.plan.action;
          const batch = action.type === 'replace' ? action.nodeIds : [];
          const isSettled = (statuses: NodeStatus[]) =>
            batch.every((id) => {
              const s = statuses.find((x) => x.nodeId === id);
              const r = inFlight.get(id);
              if (!s || !r) return true;
              const done = s.healthy && !s.outdated && s.current?.instanceId !== r.oldInstanceId;
              const failed = !!s.failure && s.failure.launchedAtMs >= Math.max(ignoreFailuresBeforeMs, r.startedAtMs);
              return done || failed || this.clock.now() - r.startedAtMs > replacementTimeoutMs;
            });
          const oldIds = new Set(batch.map((id) => inFlight.get(id)?.oldInstanceId));
          // Only news about the new instances ends the wait early: InService, or gone (failed).
          const relevant = (c: ClusterChange) =>
            !oldIds.has(c.instanceId ?? '') && (c.kind === 'terminated' || (c.kind === 'lifecycle' && c.detail === 'InService') || c.phase === 'failed');
          const startedAtMs = Math.min(...batch.map((id) => inFlight.get(id)?.startedAtMs ?? this.clock.now()));
          const estimateMs = recorder.shortestReplacementMs();
          // Polling: worth a real look once every batch node has a new instance InService, or
          // one of them lost its new instance (a failure), or a replacement ran out of time.
          const probe = (g: ClusterObservation) =>
            batch.every((id) => {
              const r = inFlight.get(id);
              const mine = (g.nodes[id]?.instances ?? []).filter((i) => i.instanceId !== r?.oldInstanceId);
              return !r || mine.some((i) => i.lifecycleState === 'InService') || this.clock.now() - r.startedAtMs > replacementTimeoutMs;
            }) ||
            batch.some((id) => (g.nodes[id]?.instances ?? []).some((i) => i.instanceId !== inFlight.get(id)?.oldInstanceId && i.lifecycleState.startsWith('Terminat')));
          let obs = await this.#waitFor(spec, signal, tracker, observed, {
            relevant,
            done: isSettled,
            probe,
            // Sleep through 60% of the fastest replacement so far: it is unlikely to finish sooner. (At 80%
            // the simulator's makespan reached 1.06x its lower bound at p95; at 60%, 1.013x.)
            ...(estimateMs !== null && { notBeforeMs: startedAtMs + Math.floor(estimateMs * 0.6) }),
          });
          const statuses = clusterStatuses(spec, obs);
          const finished = batch.filter((id) => {
            const s = statuses.find((x) => x.nodeId === id);
            return !!s && s.healthy && !s.outdated;
          });
          if (finished.length === batch.length) {
            for (const nodeId of batch) {
              await this.#hook('afterReplace', nodeId, () => hooks.afterReplace?.(nodeId, ctx(obs)));
              inFlight.delete(nodeId);
            }
            obs = await gateHealthy(obs, `after replacing ${batch.join(', ')}`);
            const index = batchOf.get(batch[0] as string) ?? 0;
            const durationMs = recorder.batchFinished(index, this.clock.now());
            this.emit('batch.completed', { index, nodeIds: batch, durationMs, atMs: this.clock.now() });
          }
          return obs;
        }),
        wait: fromPromise(async () => {
          // One wake-up (a notification worth looking at, or a poll), then plan again.
          return this.#waitFor(spec, signal, tracker, observed, {
            relevant: (c) => c.kind === 'terminated' || c.kind === 'launch-failed' || (c.kind === 'lifecycle' && c.detail === 'InService') || c.phase === 'failed',
            done: () => true,
          });
        }),
        release: fromPromise(async () => {
          await this.#release();
        }),
      },
    });

    const actor = createActor(machine);
    this.#rollActor = actor;
    actor.start();
    let output;
    try {
      output = await toPromise(actor);
    } finally {
      this.#rollActor = null;
      tracker.stop();
      outer?.removeEventListener('abort', onOuterAbort);
    }
    const now = this.clock.now();
    const apiCalls = diffCounts(this.driver.apiCallCounts(), callsBefore);
    const ops = this.driver.stats();
    if (output.error) {
      const err = output.error;
      const halted = err instanceof BerthRollHaltedError ? err : null;
      const aborted = isAbortError(err) || signal.aborted;
      const report = recorder.finish(aborted ? 'aborted' : 'halted', halted?.reason ?? (err instanceof Error ? err.message : String(err)), now, apiCalls, ops);
      if (halted || err instanceof BerthHookError) {
        const h = halted ?? new BerthRollHaltedError((err as Error).message, { cause: err });
        this.emit('roll.halted', { reason: h.reason, nodeId: h.nodeId, phase: h.phase, lastError: h.lastError, report, atMs: now });
        throw withReport(h, report);
      }
      if (aborted && !(err instanceof BerthAbortError)) throw withReport(new BerthAbortError('The roll was aborted.', { cause: err }), report);
      throw err instanceof BerthError ? withReport(err, report) : err;
    }
    const outcome = output.outcome;
    if (outcome && outcome.type === 'halt') {
      const report = recorder.finish('halted', outcome.reason, now, apiCalls, ops);
      this.emit('roll.halted', { reason: outcome.reason, nodeId: outcome.nodeId, phase: outcome.phase, lastError: outcome.lastError, report, atMs: now });
      throw withReport(new BerthRollHaltedError(outcome.reason, { nodeId: outcome.nodeId, phase: outcome.phase, lastError: outcome.lastError }), report);
    }
    const report = recorder.finish('completed', null, now, apiCalls, ops);
    this.emit('roll.completed', { report, atMs: now });
    return report;
  }

  /**
   * Recovery outside a roll, until `signal` aborts: observes continuously, reports lost,
   * recovered and stuck nodes and quorum at risk, repairs DNS drift. Never starts a
   * disruption: the Auto Scaling group replaces lost instances; Berth watches and reports.
   */
  async watch(options: WatchOptions): Promise<void> {
    const { signal } = options;
    const spec = this.spec;
    const stuckAfterMs = options.stuckAfterMs ?? 900_000;
    const intervalMs = options.intervalMs ?? this.#pollIntervalMs;
    const repairDns = options.repairDns ?? true;
    const q = quorumOf(spec.nodes.length);
    const lostAt = new Map<string, number>();
    const stuckReported = new Set<string>();
    let atRisk = false;
    let lastFullMs = -Infinity;
    const tracker = new NodeTracker(spec.nodes.map((n) => n.id), this.clock.now(), (e) => {
      if (e.type === 'phase') this.emit('node.phase', { nodeId: e.nodeId, instanceId: e.instanceId, phase: e.phase, reason: e.reason, atMs: e.atMs });
      else if (e.type === 'lost') {
        lostAt.set(e.nodeId, e.atMs);
        this.emit('node.lost', { nodeId: e.nodeId, instanceId: e.instanceId, atMs: e.atMs });
      } else if (e.type === 'replaced') {
        const since = lostAt.get(e.nodeId);
        lostAt.delete(e.nodeId);
        stuckReported.delete(e.nodeId);
        if (since !== undefined || e.cause === 'recover') this.emit('node.recovered', { nodeId: e.nodeId, instanceId: e.newInstanceId, downMs: since === undefined ? 0 : e.atMs - since, atMs: e.atMs });
      } else if (e.type === 'failed') this.emit('node.failed', { nodeId: e.nodeId, instanceId: e.instanceId, reason: e.reason, atMs: e.atMs });
    });
    try {
      for (;;) {
        if (signal.aborted) return;
        const full = repairDns && !!spec.dns && this.clock.now() - lastFullMs >= 5 * intervalMs;
        let obs: ClusterObservation;
        try {
          obs = await this.driver.observe(spec, { scope: full ? 'full' : 'instances', signal });
        } catch (err) {
          if (signal.aborted) return;
          throw err;
        }
        const statuses = clusterStatuses(spec, obs);
        tracker.observed(statuses, obs.observedAtMs);
        const now = this.clock.now();
        const down = statuses.filter((s) => !s.healthy);
        // At risk once no further failure is tolerated.
        if (down.length > 0 && down.length >= q.tolerance) {
          if (!atRisk) this.emit('quorum.at-risk', { down: down.map((s) => s.nodeId), tolerance: q.tolerance, atMs: now });
          atRisk = true;
        } else if (atRisk && down.length < q.tolerance) {
          atRisk = false;
          this.emit('quorum.restored', { atMs: now });
        }
        for (const s of down) {
          const since = Math.min(lostAt.get(s.nodeId) ?? now, s.current?.launchedAtMs ?? now);
          if (now - since > stuckAfterMs && !stuckReported.has(s.nodeId)) {
            stuckReported.add(s.nodeId);
            this.emit('node.stuck', { nodeId: s.nodeId, phase: s.phase ?? s.state, sinceMs: since, atMs: now });
          }
        }
        if (full) {
          lastFullMs = now;
          const drift = planApply(obs, spec).dns;
          if (drift.length > 0) await this.#repairDns(drift, signal);
        }
        try {
          if (this.driver.capabilities.changeNotifications && this.driver.waitForChange) {
            const changes = await this.driver.waitForChange(spec, { timeoutMs: Math.min(intervalMs, MAX_WAIT_MS), signal });
            tracker.notified(changes);
          } else {
            await this.clock.sleep(intervalMs, signal);
          }
        } catch (err) {
          if (signal.aborted) return;
          throw err;
        }
      }
    } finally {
      tracker.stop();
    }
  }

  async #repairDns(records: readonly { name: string; values: readonly string[] }[], signal: AbortSignal): Promise<void> {
    try {
      await this.#acquire(signal);
    } catch (err) {
      if (err instanceof BerthLockError && err.code === 'LOCK_HELD') return; // a roll is on; it owns the cluster now
      throw err;
    }
    try {
      await this.driver.setDns(this.spec, records, { signal });
      this.emit('dns.repaired', { records: records.map((r) => r.name), atMs: this.clock.now() });
    } finally {
      await this.#release();
    }
  }

  #status(observation: ClusterObservation): ClusterStatus {
    const nodes = clusterStatuses(this.spec, observation);
    const q = quorumOf(nodes.length);
    const healthy = nodes.filter((n) => n.healthy).length;
    const outdated = nodes.filter((n) => n.outdated).map((n) => n.nodeId);
    return {
      clusterName: this.spec.name,
      observedAtMs: observation.observedAtMs,
      nodes,
      quorum: { ...q, healthy, down: nodes.length - healthy, margin: healthy - q.quorum },
      outdated,
      converged: outdated.length === 0 && healthy === nodes.length,
    };
  }

  /**
   * Waits for progress: with change notifications, sleeps on `waitForChange` and observes
   * (the cheap `instances` scope) only when a relevant change arrives or `SAFETY_POLL_MS`
   * passed; without them, polls with backoff. Sleeps through `notBeforeMs` first.
   */
  async #waitFor(
    spec: ClusterSpec,
    signal: AbortSignal,
    tracker: NodeTracker,
    observed: (o: ClusterObservation) => NodeStatus[],
    wait: {
      relevant: (c: ClusterChange) => boolean;
      done: (statuses: NodeStatus[]) => boolean;
      notBeforeMs?: number;
      /** Without notifications: a one-call `groups` probe must say yes before a real look. */
      probe?: (groupsOnly: ClusterObservation) => boolean;
    },
  ): Promise<ClusterObservation> {
    for (let now = this.clock.now(); wait.notBeforeMs !== undefined && now < wait.notBeforeMs; now = this.clock.now()) {
      await this.#renewIfDue(signal);
      await this.clock.sleep(Math.min(wait.notBeforeMs - now, this.#lockTtlMs / 4), signal);
    }
    let delayMs = Math.min(2_000, this.#pollIntervalMs);
    let lastObservedMs = this.clock.now(); // a deliberate sleep counts as looked-at
    for (;;) {
      await this.#renewIfDue(signal);
      if (this.driver.capabilities.changeNotifications && this.driver.waitForChange) {
        const changes = await this.driver.waitForChange(spec, { timeoutMs: MAX_WAIT_MS, signal });
        tracker.notified(changes);
        if (!changes.some(wait.relevant) && this.clock.now() - lastObservedMs < SAFETY_POLL_MS) continue;
      } else {
        await this.clock.sleep(delayMs, signal);
        delayMs = Math.min(delayMs * 2, this.#pollIntervalMs);
        if (wait.probe && this.clock.now() - lastObservedMs < SAFETY_POLL_MS) {
          const groups = await this.driver.observe(spec, { scope: 'groups', signal });
          if (!wait.probe(groups)) continue;
        }
      }
      const obs = await this.driver.observe(spec, { scope: 'instances', signal });
      lastObservedMs = this.clock.now();
      if (wait.done(observed(obs))) return obs;
    }
  }

  #onNodeEvent(e: NodeMachineEmitted, recorder: RollRecorder): void {
    switch (e.type) {
      case 'phase':
        recorder.phase(e.nodeId, e.instanceId, e.phase, e.atMs);
        this.emit('node.phase', { nodeId: e.nodeId, instanceId: e.instanceId, phase: e.phase, reason: e.reason, atMs: e.atMs });
        break;
      case 'lost':
        this.emit('node.lost', { nodeId: e.nodeId, instanceId: e.instanceId, atMs: e.atMs });
        break;
      case 'replaced':
        if (recorder.isReplacing(e.nodeId)) {
          const durationMs = recorder.replaced(e.nodeId, e.newInstanceId, e.atMs);
          this.emit('node.replaced', { nodeId: e.nodeId, oldInstanceId: e.oldInstanceId, newInstanceId: e.newInstanceId, durationMs, atMs: e.atMs });
        } else if (e.cause === 'recover') {
          this.emit('node.recovered', { nodeId: e.nodeId, instanceId: e.newInstanceId, downMs: 0, atMs: e.atMs });
        }
        break;
      case 'failed':
        this.emit('node.failed', { nodeId: e.nodeId, instanceId: e.instanceId, reason: e.reason, atMs: e.atMs });
        break;
    }
  }

  async #leader(hooks: RollHooks, observation: ClusterObservation, signal: AbortSignal): Promise<string | null> {
    if (!hooks.isLeader) return null;
    for (const s of clusterStatuses(this.spec, observation)) {
      if (!s.healthy) continue;
      const ctx: HookContext = { spec: this.spec, observation, signal };
      if (await this.#hook('isLeader', s.nodeId, () => hooks.isLeader?.(s.nodeId, ctx))) return s.nodeId;
    }
    return null;
  }

  async #hook<T>(name: string, nodeId: string | null, fn: () => T | Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isAbortError(err)) throw err;
      throw new BerthHookError(name, nodeId, err);
    }
  }

  async #acquire(signal: AbortSignal | undefined): Promise<void> {
    if (this.#lease) return;
    this.#lease = await this.driver.lock.acquire(this.spec, { holder: this.holderId, session: this.sessionId, ttlMs: this.#lockTtlMs, signal });
    this.emit('lock.acquired', { holder: this.holderId, token: this.#lease.token, expiresAtMs: this.#lease.expiresAtMs, atMs: this.clock.now() });
  }

  async #renewIfDue(signal: AbortSignal | undefined): Promise<void> {
    const lease = this.#lease;
    if (!lease) return;
    const now = this.clock.now();
    if (lease.expiresAtMs - now > this.#lockTtlMs / 2) return;
    if (now >= lease.expiresAtMs) {
      this.#lease = null;
      throw new BerthLockError('LOCK_LOST', `The lease on cluster ${this.spec.name} expired before it was renewed; another controller may act now. Stopping without touching anything else.`, { holder: lease.holder, expiresAtMs: lease.expiresAtMs });
    }
    this.#lease = await this.driver.lock.renew(this.spec, lease, { ttlMs: this.#lockTtlMs, signal });
  }

  async #release(): Promise<void> {
    const lease = this.#lease;
    this.#lease = null;
    if (!lease) return;
    try {
      await this.driver.lock.release(this.spec, lease);
      this.emit('lock.released', { holder: lease.holder, atMs: this.clock.now() });
    } catch {
      // The lease expires by itself; nothing else depends on the release.
    }
  }
}

function withReport<E extends Error>(err: E, report: RollReport): E & { report: RollReport } {
  return Object.assign(err, { report });
}

/**
 * Creates the controller for one cluster.
 *
 * @example
 * ```ts
 * const sim = createSimulation({ seed: 42 });
 * const controller = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks });
 * controller.on('node.replaced', (e) => console.log(`${e.nodeId}: ${e.oldInstanceId} → ${e.newInstanceId}`));
 * await sim.run(async () => {
 *   await controller.apply();
 *   await controller.roll({ maxUnavailable: 1 });
 * });
 * ```
 */
export function createController(options: ControllerOptions): Controller {
  return new Controller(options);
}
