import type { Clock } from '../clock.js';
import type { ClusterChange, ResourceChange } from '../driver.js';
import { BerthDriverError, BerthError, BerthLockError, BerthRollHaltedError, BerthTimeoutError, isAbortError, throwIfAborted } from '../errors.js';
import type { RollHooks } from '../hooks.js';
import type { NodeMachineEmitted } from '../machines/node-machine.js';
import type { ClusterObservation } from '../observation.js';
import { clusterStatuses, type NodeStatus } from '../plan/node-status.js';
import { checkDisruption, planRoll, type InFlightReplacement, type RollAction, type RollPlan } from '../plan/plan-roll.js';
import type { RuntimeDriver } from '../runtime/runtime-driver.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import type { ControllerEvents } from './events.js';
import type { HookRunner } from './hook-runner.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { NodeTracker } from './node-tracker.js';
import { RollRecorder } from './roll-report.js';
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
  #batch: string[] = [];
  #started = false;
  #lastWaitReason = '';
  #lastObservation: ClusterObservation | null = null;

  constructor(deps: RollDeps, settings: RollSettings, signal: AbortSignal) {
    this.#d = deps;
    this.#s = settings;
    this.signal = signal;
    this.startedAtMs = deps.clock.now();
    this.recorder = new RollRecorder(`${deps.spec.name}-${this.startedAtMs}`, deps.spec.name, this.startedAtMs, settings.maxUnavailable);
    this.tracker = new NodeTracker(deps.spec.nodes.map((n) => n.id), this.startedAtMs, (e) => deps.onNodeEvent(e, this.recorder));
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
      this.#d.emit('roll.started', { rollId: this.recorder.rollId, outdated: plan.order, maxUnavailable: this.#s.maxUnavailable, tolerance: plan.quorum.tolerance, atMs: now });
    }
    if (plan.action.type === 'wait' && plan.action.reason !== this.#lastWaitReason) {
      this.#lastWaitReason = plan.action.reason;
      this.#d.emit('roll.waiting', { reason: plan.action.reason, nodeIds: plan.action.nodeIds, atMs: now });
    }
    return plan;
  }

  #policy() {
    const s = this.#s;
    return { maxUnavailable: s.maxUnavailable, replacementTimeoutMs: s.replacementTimeoutMs, ignoreFailuresBeforeMs: s.ignoreFailuresBeforeMs, skip: s.skip, waves: s.waves, tolerateAzLoss: s.tolerateAzLoss };
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
        emit('batch.started', { index, nodeIds: action.nodeIds, budget: plan.quorum.budget, atMs: clock.now() });
      }
      const atMs = clock.now();
      // Recorded before the call: if we crash mid-call the cloud still tells the story.
      this.#inFlight.set(nodeId, { nodeId, oldInstanceId: instanceId, startedAtMs: atMs });
      this.#batchOf.set(nodeId, index);
      this.#touched.add(nodeId);
      this.recorder.replacing(nodeId, instanceId, index, atMs);
      this.tracker.replacing(nodeId, instanceId, atMs);
      emit('node.replacing', { nodeId, instanceId, atMs });
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
      disrupted.add(nodeId);
      this.#batch.push(nodeId);
    }
    if (this.#batch.length === 0) {
      // Nothing started: give the world a moment before planning again.
      await clock.sleep(Math.min(5_000, this.#s.pollIntervalMs), this.signal);
    }
  }

  /**
   * A fresh look, the pure check, the health hook once more; when the hook took longer than the
   * freshness bound, one more look and the pure check again (not the hook: it may always be slow).
   */
  async #checkAtMomentOfUse(nodeId: string, instanceId: string, disrupted: ReadonlySet<string>): Promise<{ ok: boolean; reason: string; view: ClusterObservation }> {
    const check = (view: ClusterObservation) => checkDisruption(view, this.#d.spec, this.#policy(), { nodeId, instanceId, disrupted, maxUnavailable: this.#s.maxUnavailable });
    let view = await this.look();
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

  #trimmed(nodeId: string, reason: string, disrupted: ReadonlySet<string>): void {
    const text = `not replacing ${nodeId} now: ${reason}${disrupted.size > 0 ? ` (batch goes on with ${[...disrupted].join(', ')} only)` : ''}`;
    this.#lastWaitReason = text;
    this.#d.emit('roll.waiting', { reason: text, nodeIds: [nodeId], atMs: this.#d.clock.now() });
  }

  /** Waits for the batch's nodes to come back on the new revision (or fail, or time out), then runs afterReplace and the gate. */
  async verify(): Promise<ClusterObservation> {
    const { spec, clock, emit, hookRunner, hooks } = this.#d;
    const batch = this.#batch;
    if (batch.length === 0) return this.look();
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
    // Only news about the new instances ends the wait early: InService, or gone (failed).
    const relevant = (c: ClusterChange) =>
      !oldIds.has(c.instanceId ?? '') && (c.kind === 'terminated' || (c.kind === 'lifecycle' && c.detail === 'InService') || c.phase === 'failed');
    const startedAtMs = Math.min(...batch.map((id) => inFlight.get(id)?.startedAtMs ?? clock.now()));
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
      // Sleep through 60% of the fastest replacement so far: it is unlikely to finish sooner. (At 80%
      // the simulator's makespan reached 1.06x its lower bound at p95; at 60%, 1.013x.)
      ...(estimateMs !== null && { notBeforeMs: startedAtMs + Math.floor(estimateMs * 0.6) }),
    });
    const statuses = clusterStatuses(spec, obs);
    const finished = batch.filter((id) => {
      const st = statuses.find((x) => x.nodeId === id);
      return !!st && st.healthy && !st.outdated;
    });
    if (finished.length === batch.length) {
      for (const nodeId of batch) {
        if (hooks.afterReplace) {
          const fn = hooks.afterReplace;
          await hookRunner.run('afterReplace', nodeId, obs, this.signal, (ctx) => fn(nodeId, ctx), undefined, { touched: true });
        }
        inFlight.delete(nodeId);
      }
      obs = await this.gateHealthy(obs, `after replacing ${batch.join(', ')}`, batch);
      const index = this.#batchOf.get(batch[0] as string) ?? 0;
      const durationMs = this.recorder.batchFinished(index, clock.now());
      emit('batch.completed', { index, nodeIds: batch, durationMs, atMs: clock.now() });
      this.#batch = [];
    }
    return obs;
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
