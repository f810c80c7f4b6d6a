import type { Clock } from '../clock.js';
import type { ClusterChange, ResourceChange } from '../driver.js';
import { BerthDriverError, BerthError, BerthLockError, BerthRollHaltedError, BerthTimeoutError, isAbortError, throwIfAborted } from '../errors.js';
import type { RollHold, RollHooks } from '../hooks.js';
import type { NodeMachineEmitted } from '../machines/node-machine.js';
import type { ClusterObservation } from '../observation.js';
import { clusterStatuses, type NodeStatus } from '../plan/node-status.js';
import { checkDisruption, planRoll, type InFlightReplacement, type RollAction, type RollPlan } from '../plan/plan-roll.js';
import { canaryCap, holdDue, type HoldDue, type HoldPolicy } from '../plan/roll-holds.js';
import { formatDuration } from '../format-duration.js';
import type { RuntimeDriver } from '../runtime/runtime-driver.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import type { ControllerEvents } from './events.js';
import type { HookRunner } from './hook-runner.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { NodeTracker } from './node-tracker.js';
import { RollRecorder } from './roll-report.js';
import { TargetGate } from './target-gate.js';
import { waitForProgress, type ProgressWait } from './wait-for-progress.js';

/** What one roll was asked to do, resolved. */
export interface RollSettings {
  readonly maxUnavailable: number;
  readonly replacementTimeoutMs: number;
  readonly healthTimeoutMs: number;
  readonly ignoreFailuresBeforeMs: number;
  readonly skip: ReadonlySet<string>;
  readonly waves: 'balanced' | 'az';
  readonly tolerateAzLoss: boolean;
  readonly onFailure: 'rollback' | 'hold';
  readonly freshnessMs: number;
  readonly pollIntervalMs: number;
  /** Lease time a mutating call needs left before it is made. */
  readonly callLeaseMs: number;
  /** Canary, checkpoints, bake time. */
  readonly holds: HoldPolicy;
}

/** What a roll is doing now, for `status()`. */
export interface RollProgress {
  readonly rollId: string;
  readonly startedAtMs: number;
  /** The roll machine's state: `replacing`, `verifying`, `holding`, `paused`, `waiting`… */
  readonly state: string;
  /** Outdated nodes this roll has replaced, and how many it has to replace in all. */
  readonly replaced: readonly string[];
  readonly total: number;
  /** Nodes of the batch in flight (1-based `batch`), if any. */
  readonly batch: number | null;
  readonly inFlight: readonly string[];
  /** The hold it is in (canary or checkpoint), since when and until when (null: until `resume()`/`approve`). */
  readonly hold: (RollHold & { readonly sinceMs: number; readonly untilMs: number | null }) | null;
  /** The bake it is in, if any. */
  readonly baking: { readonly batch: number; readonly untilMs: number } | null;
}

export interface RollDeps {
  readonly spec: ClusterSpec;
  readonly driver: RuntimeDriver;
  readonly clock: Clock;
  readonly hooks: RollHooks;
  readonly hookRunner: HookRunner;
  readonly lease: LeaseKeeper;
  readonly emit: <K extends keyof ControllerEvents>(name: K, e: ControllerEvents[K]) => void;
  readonly onNodeEvent: (e: NodeMachineEmitted, recorder: RollRecorder) => void;
}

/** The group's template before this roll moved it: where a rollback goes. */
interface TemplateBefore {
  readonly launchTemplateId: string;
  readonly launchTemplateVersion: string;
  readonly revision: string | null;
}

type Halt = Extract<RollAction, { type: 'halt' }>;

/**
 * One roll's state and its steps, each a unit the roll machine sequences: look, decide,
 * start a batch (checking every disruption at the moment of use), verify it, wait, and halt
 * safely. Where each decision is made:
 * - which batch: the pure planner (`planRoll`), on the latest look;
 * - whether one node of it may go now: `checkDisruption` on a fresh look, right before its
 *   `replaceInstance`, after the hooks and the health gate;
 * - whether the lease allows a write: `LeaseKeeper.ensure`, right before each mutating call;
 * - what a halt leaves behind: `rollBack`, which points the groups this roll moved and did not
 *   finish back at their last good template.
 */
export class RollRun {
  readonly recorder: RollRecorder;
  readonly tracker: NodeTracker;
  readonly signal: AbortSignal;
  readonly startedAtMs: number;
  readonly #d: RollDeps;
  readonly #s: RollSettings;
  readonly #inFlight = new Map<string, InFlightReplacement>();
  readonly #firstSeenDown = new Map<string, number>();
  readonly #batchOf = new Map<string, number>();
  readonly #templateBefore = new Map<string, TemplateBefore>();
  /** Nodes this roll put in flight at some point. */
  readonly #touched = new Set<string>();
  /** Nodes this roll replaced and verified. */
  readonly #done: string[] = [];
  /** Instances this roll took out of the load balancer and has not replaced yet. */
  readonly #deregistered = new Map<string, string>();
  readonly #gate: TargetGate;
  #total = 0;
  #hold: RollProgress['hold'] = null;
  #baking: RollProgress['baking'] = null;
  #batch: string[] = [];
  #started = false;
  #lastWaitReason = '';
  #lastObservation: ClusterObservation | null = null;
  /** The last batch was done at the first poll after the wait's sleep: look at once next time. */
  #lookFirst = false;

  constructor(deps: RollDeps, settings: RollSettings, signal: AbortSignal) {
    this.#d = deps;
    this.#s = settings;
    this.signal = signal;
    this.startedAtMs = deps.clock.now();
    this.recorder = new RollRecorder(`${deps.spec.name}-${this.startedAtMs}`, deps.spec.name, this.startedAtMs, settings.maxUnavailable);
    this.tracker = new NodeTracker(deps.spec.nodes.map((n) => n.id), this.startedAtMs, (e) => deps.onNodeEvent(e, this.recorder));
    this.#gate = new TargetGate({ spec: deps.spec, driver: deps.driver, clock: deps.clock, lease: deps.lease, emit: deps.emit, pollIntervalMs: settings.pollIntervalMs, callLeaseMs: settings.callLeaseMs });
  }

  /** Where the roll stands (the machine's state is the caller's to give). */
  progress(state: string): RollProgress {
    const first = this.#batch[0];
    return {
      rollId: this.recorder.rollId,
      startedAtMs: this.startedAtMs,
      state,
      replaced: [...this.#done],
      total: this.#total,
      batch: first !== undefined ? (this.#batchOf.get(first) ?? null) : null,
      inFlight: [...this.#inFlight.keys()],
      hold: this.#hold,
      baking: this.#baking,
    };
  }

  // ---- looking and deciding ----

  /** A cheap look (groups and instances), fed to the node trackers. */
  async look(): Promise<ClusterObservation> {
    const obs = await this.#d.driver.observe(this.#d.spec, { scope: 'instances', signal: this.signal });
    this.#observed(obs);
    return obs;
  }

  #observed = (obs: ClusterObservation): NodeStatus[] => {
    const statuses = clusterStatuses(this.#d.spec, obs);
    this.tracker.observed(statuses, obs.observedAtMs);
    this.#lastObservation = obs;
    return statuses;
  };

  async decide(obs: ClusterObservation): Promise<RollPlan> {
    const { spec, clock } = this.#d;
    const now = clock.now();
    for (const s of clusterStatuses(spec, obs)) {
      if (s.healthy) this.#firstSeenDown.delete(s.nodeId);
      else if (!this.#firstSeenDown.has(s.nodeId)) this.#firstSeenDown.set(s.nodeId, now);
    }
    // Unhealthy nodes this roll did not disrupt get the same deadline, from when it first saw them.
    const deadlines = new Map(this.#inFlight);
    for (const [nodeId, at] of this.#firstSeenDown) {
      if (!deadlines.has(nodeId)) deadlines.set(nodeId, { nodeId, oldInstanceId: '', startedAtMs: at });
    }
    const leaderId = await this.leader(obs);
    const plan = planRoll(obs, spec, { ...this.#policy(), leaderId, inFlight: deadlines }, now);
    if (!this.#started) {
      this.#started = true;
      this.recorder.alreadyCurrent = plan.statuses.filter((s) => !s.outdated).map((s) => s.nodeId);
      this.#total = plan.order.length;
      this.#d.emit('roll.started', { rollId: this.recorder.rollId, outdated: plan.order, maxUnavailable: this.#s.maxUnavailable, tolerance: plan.quorum.tolerance, atMs: now });
    }
    if (plan.action.type === 'wait' && plan.action.reason !== this.#lastWaitReason) {
      this.#lastWaitReason = plan.action.reason;
      this.#d.emit('roll.waiting', { reason: plan.action.reason, nodeIds: plan.action.nodeIds, atMs: now });
    }
    return plan;
  }

  /** `maxUnavailable`, capped to what is left of the canary while it is not done. */
  get #maxUnavailable(): number {
    return Math.max(1, Math.min(this.#s.maxUnavailable, canaryCap(this.#s.holds, this.#done.length) ?? Infinity));
  }

  #policy() {
    const s = this.#s;
    return { maxUnavailable: this.#maxUnavailable, replacementTimeoutMs: s.replacementTimeoutMs, ignoreFailuresBeforeMs: s.ignoreFailuresBeforeMs, skip: s.skip, waves: s.waves, tolerateAzLoss: s.tolerateAzLoss };
  }

  leader(obs: ClusterObservation): Promise<string | null> {
    return leaderOf(this.#d.spec, this.#d.hooks, this.#d.hookRunner, obs, this.signal);
  }

  // ---- templates ----

  /** Nodes already on the new revision whose group still launches an older one. */
  async updateTemplates(nodeIds: readonly string[], obs: ClusterObservation): Promise<ClusterObservation> {
    const nodes = { ...obs.nodes };
    for (const nodeId of nodeIds) {
      const node = nodes[nodeId];
      const revision = await this.#moveTemplate(nodeId, obs);
      if (node?.group) nodes[nodeId] = { ...node, group: { ...node.group, revision } };
    }
    return { ...obs, nodes };
  }

  /** Points the node's group at the desired revision (remembering where it was, for a rollback). */
  async #moveTemplate(nodeId: string, obs: ClusterObservation): Promise<string> {
    const { driver, spec, clock, lease } = this.#d;
    const node = obs.nodes[nodeId];
    const g = node?.group;
    if (g?.launchTemplateId && g.launchTemplateVersion && !this.#templateBefore.has(nodeId)) {
      this.#templateBefore.set(nodeId, { launchTemplateId: g.launchTemplateId, launchTemplateVersion: g.launchTemplateVersion, revision: g.revision });
    }
    await lease.ensure(this.signal, this.#s.callLeaseMs);
    // The observation lets the driver skip discovery: only the template changes here.
    const result = await driver.ensureNode(spec, nodeId, { signal: this.signal, observed: node });
    this.#d.emit('apply.node', { nodeId, changes: result.changes, atMs: clock.now() });
    return result.revision;
  }

  // ---- one batch ----

  /**
   * Starts the planned batch one node at a time. Before the first node the cluster-health gate
   * must pass; for every node, after its `beforeReplace` hook: a fresh look, the health hook
   * once more, and `checkDisruption` on that look. A node that no longer passes ends the batch
   * there (the nodes already started go on to be verified). Its template moves to the new
   * revision only now, right before its instance is replaced.
   */
  async startBatch(plan: RollPlan, obs: ClusterObservation): Promise<void> {
    const action = plan.action;
    this.#batch = [];
    if (action.type !== 'replace') return;
    const { spec, driver, clock, emit, hookRunner, hooks, lease } = this.#d;
    let view = await this.gateHealthy(obs, 'before the batch', action.nodeIds);
    const disrupted = new Set<string>();
    let index: number | null = null;
    for (const [i, nodeId] of action.nodeIds.entries()) {
      const instanceId = action.instanceIds[i] as string;
      if (hooks.beforeReplace) {
        const fn = hooks.beforeReplace;
        await hookRunner.run('beforeReplace', nodeId, view, this.signal, (ctx) => fn(nodeId, ctx), undefined, { disrupting: [...disrupted] });
      }
      const verdict = await this.#checkAtMomentOfUse(nodeId, instanceId, disrupted);
      view = verdict.view;
      if (!verdict.ok) {
        this.#trimmed(nodeId, verdict.reason, disrupted);
        break;
      }
      if (clusterStatuses(spec, view).find((s) => s.nodeId === nodeId)?.templateOutdated) {
        await this.#moveTemplate(nodeId, view);
        // Moving the template took calls: look again if the view is no longer fresh.
        if (clock.now() - view.observedAtMs > this.#s.freshnessMs) {
          const again = await this.#checkAtMomentOfUse(nodeId, instanceId, disrupted);
          view = again.view;
          if (!again.ok) {
            this.#trimmed(nodeId, again.reason, disrupted);
            break;
          }
        }
      }
      await lease.ensure(this.signal, this.#s.callLeaseMs);
      throwIfAborted(this.signal);
      if (index === null) {
        index = this.recorder.batchStarted(action.nodeIds, clock.now());
      }
      if (this.#gate.enabled) {
        // Out of the load balancer first, and drained; draining takes time, so check again after it.
        this.#deregistered.set(nodeId, instanceId);
        await this.#gate.drain(nodeId, instanceId, this.signal);
        const again = await this.#checkAtMomentOfUse(nodeId, instanceId, disrupted);
        view = again.view;
        if (!again.ok) {
          await this.#gate.restore([instanceId], this.signal);
          this.#deregistered.delete(nodeId);
          this.#trimmed(nodeId, again.reason, disrupted);
          break;
        }
        await lease.ensure(this.signal, this.#s.callLeaseMs);
      }
      const atMs = clock.now();
      // Recorded before the call: if we crash mid-call the cloud still tells the story.
      this.#inFlight.set(nodeId, { nodeId, oldInstanceId: instanceId, startedAtMs: atMs });
      this.#batchOf.set(nodeId, index);
      this.#touched.add(nodeId);
      this.recorder.replacing(nodeId, instanceId, index, atMs);
      this.tracker.replacing(nodeId, instanceId, atMs);
      try {
        await driver.replaceInstance(spec, nodeId, instanceId, { signal: this.signal, notAfterMs: view.observedAtMs + this.#s.freshnessMs });
      } catch (err) {
        if (isAbortError(err) || this.signal.aborted || !isTransient(err)) throw err;
        // Not made (or not known to be): forget it and plan again on a new look.
        this.#inFlight.delete(nodeId);
        this.recorder.cancelReplacing(nodeId);
        this.#trimmed(nodeId, `replaceInstance did not go through in time (${(err as Error).message})`, disrupted);
        break;
      }
      this.#deregistered.delete(nodeId);
      disrupted.add(nodeId);
      this.#batch.push(nodeId);
      // Announced once the call went through: a batch whose first replacement never went out never ran.
      if (disrupted.size === 1) emit('batch.started', { index, nodeIds: action.nodeIds, budget: plan.quorum.budget, atMs: this.recorder.batchStartedAtMs(index) });
      emit('node.replacing', { nodeId, instanceId, atMs });
    }
    if (this.#batch.length === 0) {
      if (index !== null) this.recorder.cancelBatch(index);
      // Nothing started: give the world a moment before planning again.
      await clock.sleep(Math.min(5_000, this.#s.pollIntervalMs), this.signal);
    }
  }

  /**
   * A fresh look, the pure check, the health hook once more; when the hook took longer than the
   * freshness bound, one more look and the pure check again (not the hook: it may always be slow).
   */
  async #checkAtMomentOfUse(nodeId: string, instanceId: string, disrupted: ReadonlySet<string>): Promise<{ ok: boolean; reason: string; view: ClusterObservation }> {
    const check = (view: ClusterObservation) => checkDisruption(view, this.#d.spec, this.#policy(), { nodeId, instanceId, disrupted, maxUnavailable: this.#maxUnavailable });
    let view = (await this.#standingLook()) ?? (await this.look());
    const verdict = check(view);
    if (!verdict.ok) return { ok: false, reason: verdict.reason, view };
    const healthy = this.#d.hooks.clusterHealthy;
    if (!healthy) return { ok: true, reason: '', view };
    const yes = await this.#d.hookRunner.run('clusterHealthy', nodeId, view, this.signal, (ctx) => healthy(ctx), false, { disrupting: [...disrupted] });
    if (!yes) return { ok: false, reason: `the cluster-health hook said no right before ${nodeId} would go`, view };
    if (this.#d.clock.now() - view.observedAtMs <= this.#s.freshnessMs) return { ok: true, reason: '', view };
    view = await this.look();
    const again = check(view);
    return again.ok ? { ok: true, reason: '', view } : { ok: false, reason: again.reason, view };
  }

  /**
   * The last look, when it may stand for a fresh one at the moment of use: it is no older than
   * `freshnessMs` (the bound every disruption is held to: `replaceInstance` gets `notAfterMs`
   * from it) and, with change notifications, the queue, drained now with a short poll, brought
   * nothing since it but boot progress — no termination, launch failure, announced disruption,
   * failed or stopping phase, lifecycle change. Otherwise null, and the caller looks again.
   * Saves the second look of a batch that starts right after the look that verified the batch
   * before it (or the roll's first look).
   */
  async #standingLook(): Promise<ClusterObservation | null> {
    const { driver, spec, clock } = this.#d;
    const last = this.#lastObservation;
    if (!last || clock.now() - last.observedAtMs > this.#s.freshnessMs) return null;
    if (!driver.capabilities.changeNotifications || !driver.waitForChange) return last;
    const changes = await driver.waitForChange(spec, { timeoutMs: 0, signal: this.signal });
    this.tracker.notified(changes);
    const quiet = changes.every((c) => c.kind === 'phase' && c.phase !== 'failed' && c.phase !== 'stopping');
    // The short poll took time too: the look must still be within the bound.
    return quiet && clock.now() - last.observedAtMs <= this.#s.freshnessMs ? last : null;
  }

  #trimmed(nodeId: string, reason: string, disrupted: ReadonlySet<string>): void {
    const text = `not replacing ${nodeId} now: ${reason}${disrupted.size > 0 ? ` (batch goes on with ${[...disrupted].join(', ')} only)` : ''}`;
    this.#lastWaitReason = text;
    this.#d.emit('roll.waiting', { reason: text, nodeIds: [nodeId], atMs: this.#d.clock.now() });
  }

  /**
   * Waits for the batch's nodes to come back on the new revision (or fail, or time out), then
   * admits them to the load balancer, runs afterReplace and the gate, bakes, and says which hold
   * (canary, checkpoint) is due now.
   */
  async verify(): Promise<{ observation: ClusterObservation; hold: HoldDue | null }> {
    const { spec, clock, emit, hookRunner, hooks } = this.#d;
    const batch = this.#batch;
    if (batch.length === 0) return { observation: await this.look(), hold: null };
    const inFlight = this.#inFlight;
    const s = this.#s;
    const isSettled = (statuses: NodeStatus[]) =>
      batch.every((id) => {
        const st = statuses.find((x) => x.nodeId === id);
        const r = inFlight.get(id);
        if (!st || !r) return true;
        const done = st.healthy && !st.outdated && st.current?.instanceId !== r.oldInstanceId;
        const failed = !!st.failure && st.failure.launchedAtMs >= Math.max(s.ignoreFailuresBeforeMs, r.startedAtMs);
        return done || failed || clock.now() - r.startedAtMs > s.replacementTimeoutMs;
      });
    const oldIds = new Set(batch.map((id) => inFlight.get(id)?.oldInstanceId));
    const startedAtMs = Math.min(...batch.map((id) => inFlight.get(id)?.startedAtMs ?? clock.now()));
    // Event times are whole seconds: anything stamped before the batch's second is older news.
    const batchSecondMs = Math.floor(startedAtMs / 1000) * 1000;
    // Only news about the batch's new instances ends the wait early: InService, or gone (failed).
    // Not what the queue still held from before the batch (provisioning's launches, other nodes).
    const relevant = (c: ClusterChange) =>
      batch.includes(c.nodeId) &&
      c.atMs >= batchSecondMs &&
      !oldIds.has(c.instanceId ?? '') &&
      (c.kind === 'terminated' || (c.kind === 'lifecycle' && c.detail === 'InService') || c.phase === 'failed');
    const estimateMs = this.recorder.shortestReplacementMs();
    // Polling: worth a real look once every batch node has a new instance InService, or
    // one of them lost its new instance (a failure), or a replacement ran out of time.
    const probe = (g: ClusterObservation) =>
      batch.every((id) => {
        const r = inFlight.get(id);
        const mine = (g.nodes[id]?.instances ?? []).filter((i) => i.instanceId !== r?.oldInstanceId);
        return !r || mine.some((i) => i.lifecycleState === 'InService') || clock.now() - r.startedAtMs > s.replacementTimeoutMs;
      }) ||
      batch.some((id) => (g.nodes[id]?.instances ?? []).some((i) => i.instanceId !== inFlight.get(id)?.oldInstanceId && i.lifecycleState.startsWith('Terminat')));
    let obs = await this.#waitFor({
      relevant,
      done: isSettled,
      probe,
      // Without notifications, the probe (one call) saves looks while a replacement is under way;
      // when the last batch was already done at the first poll (moto, say), it only adds a call.
      lookFirst: this.#lookFirst,
      settled: (polls) => {
        this.#lookFirst = polls === 1;
      },
      // Sleep through 60% of the fastest replacement so far: it is unlikely to finish sooner. (At 80%
      // the simulator's makespan reached 1.06x its lower bound at p95; at 60%, 1.013x.)
      ...(estimateMs !== null && { notBeforeMs: startedAtMs + Math.floor(estimateMs * 0.6) }),
    });
    const statuses = clusterStatuses(spec, obs);
    const finished = batch.filter((id) => {
      const st = statuses.find((x) => x.nodeId === id);
      return !!st && st.healthy && !st.outdated;
    });
    let hold: HoldDue | null = null;
    if (finished.length === batch.length) {
      if (this.#gate.enabled) {
        const current = new Map(statuses.map((st) => [st.nodeId, st.current?.instanceId ?? null]));
        await this.#gate.admit(
          batch.map((nodeId) => ({ nodeId, instanceId: current.get(nodeId) as string })),
          s.healthTimeoutMs,
          this.signal,
        );
      }
      for (const nodeId of batch) {
        if (hooks.afterReplace) {
          const fn = hooks.afterReplace;
          await hookRunner.run('afterReplace', nodeId, obs, this.signal, (ctx) => fn(nodeId, ctx), undefined, { touched: true });
        }
        inFlight.delete(nodeId);
      }
      obs = await this.gateHealthy(obs, `after replacing ${batch.join(', ')}`, batch);
      const index = this.#batchOf.get(batch[0] as string) ?? 0;
      if (s.holds.bakeMs > 0) {
        const untilMs = clock.now() + s.holds.bakeMs;
        this.#baking = { batch: index, untilMs };
        emit('batch.baking', { index, nodeIds: batch, bakeMs: s.holds.bakeMs, untilMs, atMs: clock.now() });
        try {
          obs = await this.watchHealth(s.holds.bakeMs, `the bake after batch ${index} (${batch.join(', ')})`, batch, this.signal, obs);
        } finally {
          this.#baking = null;
        }
      }
      const durationMs = this.recorder.batchFinished(index, clock.now());
      emit('batch.completed', { index, nodeIds: batch, durationMs, atMs: clock.now() });
      const before = this.#done.length;
      this.#done.push(...batch);
      hold = holdDue(s.holds, before, this.#done.length, this.#total);
      this.#batch = [];
    }
    return { observation: obs, hold };
  }

  /**
   * Watches the cluster for `durationMs`: every node that is healthy now must stay so and the
   * `clusterHealthy` hook must keep saying yes, checked at every poll (`pollIntervalMs`), not
   * sampled once. A failure halts the roll
   * (`phase: 'bake'`), naming the nodes. Returns a fresh look at the end.
   */
  async watchHealth(durationMs: number, what: string, nodeIds: readonly string[], signal: AbortSignal, from?: ClusterObservation): Promise<ClusterObservation> {
    const { spec, clock, hookRunner } = this.#d;
    const healthyHook = this.#d.hooks.clusterHealthy;
    const untilMs = clock.now() + durationMs;
    // The caller's look when it is fresh (the one a previous watch ended on), else a new one.
    let view = from && clock.now() - from.observedAtMs <= this.#s.freshnessMs ? from : await this.look();
    const watched = new Map(
      clusterStatuses(spec, view)
        .filter((st) => st.healthy && st.current)
        .map((st) => [st.nodeId, st.current?.instanceId as string]),
    );
    const fail = (ids: readonly string[], why: string, hook: string | null) => {
      throw new BerthRollHaltedError(`${why} during ${what}`, { nodeId: ids[0] ?? null, nodeIds: ids, phase: 'bake', hook, lastError: why });
    };
    const check = (obs: ClusterObservation) => {
      const down = clusterStatuses(spec, obs).filter((st) => watched.has(st.nodeId) && (!st.healthy || st.current?.instanceId !== watched.get(st.nodeId)));
      if (down.length > 0) fail(down.map((d) => d.nodeId), `${down.map((d) => `${d.nodeId} (${d.state}${d.failure ? `: ${d.failure.reason}` : ''})`).join(', ')} stopped being healthy`, null);
    };
    check(view);
    for (;;) {
      if (healthyHook) {
        const yes = await hookRunner.run('clusterHealthy', nodeIds[0] ?? null, view, signal, (ctx) => healthyHook(ctx), false, { disrupting: [] });
        if (!yes) fail([...nodeIds], 'the cluster-health hook said no', 'clusterHealthy');
      }
      const left = untilMs - clock.now();
      if (left <= 0) return view;
      await clock.sleep(Math.min(left, this.#s.pollIntervalMs), signal);
      // A real look (groups and instances) each time: the groups alone lag behind EC2 — an instance
      // that is gone stays InService/Healthy there until Auto Scaling's next health check.
      view = await this.look();
      check(view);
    }
  }

  /**
   * Holds after the canary or at a checkpoint: for `holdMs` with the health watched (then goes
   * on), or, without it, until `resume()` (the machine leaves this step) or the `approve` hook
   * says yes — with the health watched all along; a failure halts as in a bake.
   */
  async hold(due: HoldDue, signal: AbortSignal): Promise<ClusterObservation> {
    const { clock, emit, hooks, hookRunner } = this.#d;
    const info: RollHold = { kind: due.kind, replaced: [...this.#done], total: this.#total, percent: due.percent };
    const sinceMs = clock.now();
    const untilMs = due.holdMs === null ? null : sinceMs + due.holdMs;
    this.#hold = { ...info, sinceMs, untilMs };
    emit('roll.held', { kind: info.kind, percent: info.percent, replaced: info.replaced, total: info.total, untilMs, atMs: sinceMs });
    const what = due.kind === 'canary' ? 'the canary hold' : `the hold at ${due.percent}%`;
    try {
      if (due.holdMs !== null) {
        const obs = await this.watchHealth(due.holdMs, `${what} (${formatDuration(due.holdMs)})`, this.#done, signal);
        emit('roll.resumed', { by: 'hold-elapsed', atMs: clock.now() });
        return obs;
      }
      const approve = hooks.approve;
      let stepMs = Math.min(1_000, this.#s.pollIntervalMs);
      let obs: ClusterObservation | undefined;
      for (;;) {
        obs = await this.watchHealth(stepMs, what, this.#done, signal, obs);
        if (approve && (await hookRunner.run('approve', null, obs, signal, (ctx) => approve(info, ctx), false))) {
          emit('roll.resumed', { by: 'approve', atMs: clock.now() });
          return obs;
        }
        stepMs = Math.min(stepMs * 2, this.#s.pollIntervalMs);
      }
    } finally {
      this.#hold = null;
    }
  }

  /** One wake-up (a notification worth looking at, or a poll), then plan again. */
  wait(): Promise<ClusterObservation> {
    return this.#waitFor({
      relevant: (c) => c.kind === 'terminated' || c.kind === 'launch-failed' || c.kind === 'disruption' || (c.kind === 'lifecycle' && c.detail === 'InService') || c.phase === 'failed',
      done: () => true,
    });
  }

  #waitFor(wait: ProgressWait): Promise<ClusterObservation> {
    const d = this.#d;
    return waitForProgress({ spec: d.spec, driver: d.driver, clock: d.clock, tracker: this.tracker, pollIntervalMs: this.#s.pollIntervalMs, observed: this.#observed }, this.signal, wait);
  }

  /**
   * The application's verdict, waited for: polls `clusterHealthy` with backoff until it says
   * yes or `healthTimeoutMs` passes (a halt naming the nodes it held), then takes a fresh look.
   */
  async gateHealthy(obs: ClusterObservation, what: string, nodeIds: readonly string[]): Promise<ClusterObservation> {
    const healthy = this.#d.hooks.clusterHealthy;
    if (!healthy) return obs;
    const { clock, hookRunner } = this.#d;
    const deadline = clock.now() + this.#s.healthTimeoutMs;
    let delayMs = 1_000;
    for (;;) {
      const yes = await hookRunner.run('clusterHealthy', nodeIds[0] ?? null, obs, this.signal, (ctx) => healthy(ctx), false, { disrupting: [...this.#inFlight.keys()] });
      if (yes) return obs;
      if (clock.now() >= deadline) {
        throw new BerthRollHaltedError(`the cluster-health hook stayed false for ${Math.round(this.#s.healthTimeoutMs / 1000)} s ${what} (${nodeIds.join(', ')})`, {
          nodeId: nodeIds[0] ?? null,
          nodeIds,
          phase: 'gate',
          hook: 'clusterHealthy',
          lastError: 'clusterHealthy returned false',
        });
      }
      await clock.sleep(delayMs, this.signal);
      delayMs = Math.min(delayMs * 2, 15_000);
      obs = await this.look();
    }
  }

  // ---- halting ----

  /** Outdated nodes this roll never put in flight. */
  untouched(obs: ClusterObservation | null = this.#lastObservation): string[] {
    if (!obs) return [];
    return clusterStatuses(this.#d.spec, obs)
      .filter((s) => s.outdated && !this.#touched.has(s.nodeId) && !this.#s.skip.has(s.nodeId))
      .map((s) => s.nodeId);
  }

  /**
   * A halt leaves the cluster safer than it found it: with `onFailure: 'rollback'` every group
   * this roll moved to the new revision and that is not healthy on it goes back to the template
   * it launched from before (so a later instance loss relaunches a proven revision). Needs the
   * lease: when it is lost, nothing is touched and the halt says so.
   */
  async rollBack(): Promise<{ rolledBack: string[]; notRolledBack: string[]; changes: ResourceChange[] }> {
    const { spec, driver, lease } = this.#d;
    // Instances taken out of the load balancer and never replaced go back in, whatever onFailure says.
    if (this.#deregistered.size > 0 && lease.held && !this.signal.aborted) {
      await this.#gate.restore([...this.#deregistered.values()], this.signal);
      this.#deregistered.clear();
    }
    const moved = [...this.#templateBefore.keys()];
    if (this.#s.onFailure !== 'rollback' || moved.length === 0) return { rolledBack: [], notRolledBack: moved, changes: [] };
    if (!lease.held || this.signal.aborted || !driver.canRestoreLaunchTemplate) return { rolledBack: [], notRolledBack: moved, changes: [] };
    const obs = await driver.observe(spec, { scope: 'instances', signal: this.signal });
    const statuses = new Map(clusterStatuses(spec, obs).map((s) => [s.nodeId, s]));
    const rolledBack: string[] = [];
    const notRolledBack: string[] = [];
    const changes: ResourceChange[] = [];
    for (const [nodeId, before] of this.#templateBefore) {
      const st = statuses.get(nodeId);
      if (st && st.healthy && !st.outdated) {
        notRolledBack.push(nodeId);
        continue;
      }
      await lease.ensure(this.signal, this.#s.callLeaseMs);
      const c = await driver.restoreLaunchTemplate(spec, nodeId, before, { signal: this.signal });
      changes.push(...c);
      rolledBack.push(nodeId);
      this.#d.emit('apply.node', { nodeId, changes: c, atMs: this.#d.clock.now() });
    }
    return { rolledBack, notRolledBack, changes };
  }

  /** Turns an error out of a step into a halt with fields, when it is one. */
  haltFromError(err: unknown): BerthRollHaltedError | null {
    if (err instanceof BerthRollHaltedError) return err;
    const e = err as BerthError & { hook?: string; nodeId?: string | null; timedOut?: boolean };
    if (err instanceof BerthError && (err.code === 'HOOK_FAILED' || err.code === 'HOOK_TIMEOUT')) {
      return new BerthRollHaltedError(err.message, {
        nodeId: e.nodeId ?? null,
        phase: e.nodeId && this.#inFlight.has(e.nodeId) ? 'replacing' : 'hook',
        hook: e.hook ?? null,
        lastError: err.cause instanceof Error ? err.cause.message : String(err.cause ?? err.message),
        cause: err,
      });
    }
    if (err instanceof BerthLockError && err.code === 'LOCK_LOST') {
      return new BerthRollHaltedError(`the lease was lost: ${err.message}`, { nodeIds: [...this.#inFlight.keys()], phase: 'lease', lastError: err.message, cause: err });
    }
    return null;
  }

  /** Halt details from a planner halt. */
  static haltOfPlan(h: Halt): BerthRollHaltedError {
    return new BerthRollHaltedError(h.reason, { nodeId: h.nodeId, nodeIds: h.nodeIds, phase: h.phase, lastError: h.lastError });
  }
}

/** The node the application says leads: the first healthy node `isLeader` says yes for. */
export async function leaderOf(spec: ClusterSpec, hooks: RollHooks, runner: HookRunner, obs: ClusterObservation, signal: AbortSignal): Promise<string | null> {
  const isLeader = hooks.isLeader;
  if (!isLeader) return null;
  for (const s of clusterStatuses(spec, obs)) {
    if (!s.healthy) continue;
    if (await runner.run('isLeader', s.nodeId, obs, signal, (ctx) => isLeader(s.nodeId, ctx), false)) return s.nodeId;
  }
  return null;
}

function isTransient(err: unknown): boolean {
  return (err instanceof BerthDriverError && err.retryable) || err instanceof BerthTimeoutError;
}
