import EventEmitter from 'eventemitter3';
import { createActor, toPromise } from 'xstate';
import type { Clock } from '../clock.js';
import type { DeleteNodeResult, Driver, EnsureNodeResult } from '../driver.js';
import { BerthAbortError, BerthCapabilityError, BerthConfigError, BerthError, BerthLockError, BerthMembershipError, BerthRollHaltedError, isAbortError, throwIfAborted, type ConfigIssue } from '../errors.js';
import type { ClusterHooks, MembershipHooks, RollHooks } from '../hooks.js';
import { planMembership, validateRemoveNodes, type MembershipPlan, type RemoveNodesOption } from '../plan/plan-membership.js';
import { MembershipRun, validateMembershipOptions } from './membership-run.js';
import type { NodeMachineEmitted } from '../machines/node-machine.js';
import type { ClusterObservation } from '../observation.js';
import { planApply, type ApplyPlan } from '../plan/plan-apply.js';
import type { VolumeChange } from '../plan/plan-volume-changes.js';
import { clusterStatuses, type NodeStatus } from '../plan/node-status.js';
import { planCluster, type ClusterPlan } from '../plan/plan-cluster.js';
import { planRoll, type RollPlan } from '../plan/plan-roll.js';
import { quorumOf, type QuorumMath } from '../plan/quorum.js';
import { resolveHoldPolicy, type HoldPolicy } from '../plan/roll-holds.js';
import type { Lease } from '../lock.js';
import { createPrng } from '../prng.js';
import { RuntimeDriver, type RuntimeOptions } from '../runtime/runtime-driver.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import type { ControllerEvents } from './events.js';
import { HookRunner } from './hook-runner.js';
import { LeaseKeeper } from './lease-keeper.js';
import { adoptNode, pendingAdoption, type AdoptDeps, type AdoptOptions, type AdoptResult } from './adopt-node.js';
import { NodeTracker } from './node-tracker.js';
import { ABORT_SETTLE_BOUND_MS, DEFAULT_FRESHNESS_MS, type HookName } from './roll-defaults.js';
import { rollMachine, type RollSteps } from './roll-machine.js';
import { diffCounts, type RollRecorder, type RollReport } from './roll-report.js';
import { leaderOf, RollRun, type RollProgress } from './roll-run.js';
import { MAX_WAIT_MS } from './wait-for-progress.js';
import { TargetGate } from './target-gate.js';
import { decideVolumeChanges } from './volume-changes.js';
import { pauseNode, resumeNode, type NodePauseResult, type PauseDeps, type PauseNodeOptions, type ResumeNodeOptions } from './pause-node.js';
import { abandonStuck, defaultStuckAfterMs, stuckNode, type OnStuck, type StuckNode } from './stuck-nodes.js';
import { capacityStep } from './capacity-step.js';
import { DEFAULT_FULL_LOOK_INTERVAL_MS, DEFAULT_THROTTLE_BASE_MS, DEFAULT_THROTTLE_MAX_MS, DEFAULT_WATCH_INTERVAL_MS, throttleBackoffMs, throttlingError, type WatchPacer } from './watch-pacing.js';

export interface ControllerOptions {
  readonly spec: ClusterSpec;
  readonly driver: Driver;
  readonly clock: Clock;
  /** The roll's gates and the membership hooks (`addMember`, `removeMember`). */
  readonly hooks?: ClusterHooks;
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
  /** The oldest view a disruption may be decided on. Default {@link DEFAULT_FRESHNESS_MS}. */
  readonly freshnessMs?: number;
  /** Per-hook timeouts (ms), on top of `DEFAULT_HOOK_TIMEOUTS_MS`. */
  readonly hookTimeoutsMs?: Partial<Record<HookName, number>>;
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
  /**
   * What a halt does to the groups this roll moved to the new revision and did not finish:
   * `rollback` (default) points them back at the template they launched from before, so a
   * later instance loss relaunches a proven revision; `hold` leaves them on the new one.
   */
  readonly onFailure?: 'rollback' | 'hold';
  /**
   * AZ order of the batches (a batch never spans two AZs): `balanced` (default) draws each batch
   * from the AZ with the most outdated nodes left; `az` finishes one AZ before the next.
   */
  readonly waves?: 'balanced' | 'az';
  /**
   * Size batches so that losing any one AZ on top of the batch still leaves a quorum, where the
   * layout allows it. Default true.
   */
  readonly tolerateAzLoss?: boolean;
  /** Per-hook timeouts for this roll (ms), on top of the controller's. */
  readonly hookTimeoutsMs?: Partial<Record<HookName, number>>;
  /**
   * Replace `nodes` nodes first (default 1, one batch), then hold: for `holdMs` of bake time with
   * the health gate watched throughout, or, without `holdMs`, until `resume()` or the `approve`
   * hook says go. `true` is `{ nodes: 1 }`.
   */
  readonly canary?: boolean | { readonly nodes?: number; readonly holdMs?: number };
  /**
   * Bake time after every batch: the batch counts as done only once the cluster stayed healthy
   * (every node up, `clusterHealthy` true, polled) for this long. A failure while baking halts
   * (and rolls back, per `onFailure`). Default 0.
   */
  readonly bakeMs?: number;
  /**
   * Pause when these percentages of the nodes to roll are replaced (e.g. `[25, 50]`); `resume()`
   * or the `approve` hook continues. `status()` says where the roll stands.
   */
  readonly checkpoints?: readonly number[];
  /** Aborts the roll; `roll()` settles within `ABORT_SETTLE_BOUND_MS` of it. */
  readonly signal?: AbortSignal;
}

/** What `apply()` is allowed to do beyond converging the spec's nodes. */
export interface ApplyOptions {
  readonly signal?: AbortSignal;
  /**
   * Remove nodes that are in AWS but no longer in the spec: `true` for all of them, or the list
   * of node ids (each must be out of the spec). Without it such nodes stay, reported by
   * `plan()`, `status()` and `ApplyResult.membership.notRemoved`: a node is never deleted just
   * because the spec lost it.
   */
  readonly removeNodes?: RemoveNodesOption;
  /** Membership hooks (and `clusterHealthy`) for this call, on top of the controller's. */
  readonly hooks?: MembershipHooks & Pick<RollHooks, 'clusterHealthy'>;
  /** How long a node being added may take to be InService and healthy. Default 1 800 000 ms. */
  readonly joinTimeoutMs?: number;
  /** How long the health gate around a membership step may stay closed. Default 600 000 ms. */
  readonly healthTimeoutMs?: number;
}

export interface ApplyResult {
  readonly nodes: readonly EnsureNodeResult[];
  /** Membership steps done (one node at a time), and the nodes outside the spec left alone. */
  readonly membership?: { readonly added: readonly string[]; readonly removed: readonly DeleteNodeResult[]; readonly notRemoved: readonly string[] };
  readonly dnsRecords: readonly string[];
  readonly resized: readonly { nodeId: string; fromGiB: number; toGiB: number }[];
  /** Data volumes whose modification (size, type, IOPS, throughput) apply() started. */
  readonly volumesModified: readonly VolumeChange[];
  /** Data volumes already being modified towards the spec by an earlier apply(): nothing sent. */
  readonly volumesUnderWay: readonly VolumeChange[];
  /** Healthy instances registered with the spec's target groups, which were missing them. */
  readonly registered: readonly { nodeId: string; instanceId: string; targetGroupArns: readonly string[] }[];
  readonly warnings: readonly string[];
}

export interface ClusterStatus {
  readonly clusterName: string;
  readonly observedAtMs: number;
  readonly nodes: readonly NodeStatus[];
  readonly quorum: QuorumMath & { readonly healthy: number; readonly down: number; /** healthy − quorum: how many more may fail. */ readonly margin: number };
  readonly outdated: readonly string[];
  /** Data volumes smaller than the spec asks: `apply()` grows them. */
  readonly pendingResizes: readonly { readonly nodeId: string; readonly fromGiB: number; readonly toGiB: number }[];
  /** Data volumes whose size, type, IOPS or throughput differ from the spec (still to modify, or modifying). */
  readonly pendingVolumeChanges: readonly VolumeChange[];
  /** Volume changes the spec asks that apply() refuses (a shrink, a value the type does not allow). */
  readonly volumeRefusals: readonly ConfigIssue[];
  /** Every node healthy on the desired revision, and no volume change pending or refused. */
  readonly converged: boolean;
  /** The node the `isLeader` hook names (null without the hook, or when no node says yes). */
  readonly leader: string | null;
  /** The cluster's lease as the lock table has it (null: nobody holds it, or it expired). */
  readonly lock: { readonly holder: string; readonly session: string; readonly expiresAtMs: number; readonly mine: boolean } | null;
  /** This controller's roll in progress, and where it stands (null: none in this process). */
  readonly roll: RollProgress | null;
  /** Nodes `pauseNode()` paused (counted as down in `quorum`). */
  readonly paused: readonly string[];
  /** Nodes booting longer than the default stuck bound (`watch()`'s `stuckAfterMs` default), with why. */
  readonly stuck: readonly StuckNode[];
  /**
   * Membership not settled: spec nodes still to add (no group yet, or tagged `joining`), and
   * nodes in AWS the spec no longer lists (`apply({ removeNodes })` removes them). Either one
   * makes `converged` false and a roll refuse.
   */
  readonly membership: { readonly joining: readonly string[]; readonly orphans: readonly string[] };
}

export interface WatchOptions {
  readonly signal: AbortSignal;
  /**
   * Longest pause between two looks (observations of the groups and instances). With change
   * notifications (`driver.capabilities.changeNotifications`) the watch looks sooner when a
   * relevant change arrives — a launch, a termination, a failed boot, a disruption notice —
   * and takes boot phases from the notifications without a look. Default: 60 s with change
   * notifications (`DEFAULT_WATCH_INTERVAL_MS`), else the controller's `pollIntervalMs`.
   */
  readonly intervalMs?: number;
  /**
   * How often a look is a full one: the cluster's own DNS records (drift is repaired), network
   * interfaces, volumes, scheduled events, and instances the load balancer is missing (also
   * checked after a node recovers). Default 5 minutes (`DEFAULT_FULL_LOOK_INTERVAL_MS`), never
   * less than `intervalMs`.
   */
  readonly fullLookIntervalMs?: number;
  /**
   * A look throttled by AWS (after the runtime's own retries) does not end the watch: it waits
   * `baseMs`, doubling per throttled look up to `maxMs` (with jitter from the controller's
   * seeded PRNG), emits `watch.throttled` and looks again. Defaults: 5 s and 5 minutes.
   */
  readonly throttleBackoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** Paces the looks of many watches sharing one API budget (`createFleet()` passes one). Default: none. */
  readonly pacer?: WatchPacer;
  /**
   * A node down longer than this (its current instance's launch, or since first seen down
   * without one) is reported `node.stuck`, once per instance. Default: the bootstrap's attach,
   * configure and health timeouts plus the hook's heartbeat timeout (`defaultStuckAfterMs`).
   */
  readonly stuckAfterMs?: number;
  /**
   * `report` (default): emit `node.stuck`. `abandon`: also abandon a stuck instance's launch
   * (`CompleteLifecycleAction ABANDON`, the group launches another) when it is in
   * `Pending:Wait` — on a fresh look, under the lease, at most once per instance, and only when
   * the other nodes hold a quorum or the instance reported `failed` (docs/stuck-nodes.md).
   */
  readonly onStuck?: OnStuck;
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
 * Drives one cluster: `plan()`, `apply()`, `roll()`, `status()`, `watch()`, with typed events.
 * Stateless across crashes: everything it needs is in the cloud (revision tags, launch
 * template versions, lifecycle states, the lease), so a new controller continues where a
 * killed one stopped.
 */
export class Controller extends EventEmitter<{ [K in keyof ControllerEvents]: (e: ControllerEvents[K]) => void }> {
  readonly spec: ClusterSpec;
  readonly driver: RuntimeDriver;
  readonly clock: Clock;
  readonly holderId: string;
  readonly sessionId: string;
  readonly #hooks: ClusterHooks;
  readonly #lockTtlMs: number;
  readonly #pollIntervalMs: number;
  readonly #freshnessMs: number;
  readonly #hookTimeoutsMs: Partial<Record<HookName, number>>;
  readonly #runtimeTimeoutMs: number;
  readonly #lease: LeaseKeeper;
  #rollActor: { send(e: { type: 'pause' } | { type: 'resume' }): void; getSnapshot(): { value: unknown } } | null = null;
  #rollRun: RollRun | null = null;
  /** A membership change runs in this process (a roll refuses meanwhile). */
  #membershipBusy = false;

  constructor(options: ControllerOptions) {
    super();
    // Spot nodes need a driver that can launch spot: refused here, before any call.
    const spotNode = options.spec.nodes.find((n) => n.capacity.spot);
    if (spotNode && !options.driver.capabilities.spot) throw new BerthCapabilityError('spot', options.driver.name, `Spot capacity (node ${spotNode.id}: capacity.spot)`);
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
    this.#freshnessMs = options.freshnessMs ?? DEFAULT_FRESHNESS_MS;
    this.#hookTimeoutsMs = options.hookTimeoutsMs ?? {};
    this.#runtimeTimeoutMs = options.runtime?.timeoutMs ?? 120_000;
    this.#lease = new LeaseKeeper({
      driver: this.driver,
      spec: this.spec,
      clock: this.clock,
      holder: this.holderId,
      session: this.sessionId,
      ttlMs: this.#lockTtlMs,
      // Renew only when the next mutating call could need it (or a quarter of the TTL is left).
      renewAheadMs: Math.max(Math.min(this.#runtimeTimeoutMs, this.#lockTtlMs / 2), this.#lockTtlMs / 4),
      onAcquired: (lease) => this.emit('lock.acquired', { holder: lease.holder, session: lease.session, token: lease.token, expiresAtMs: lease.expiresAtMs, atMs: this.clock.now() }),
      onReleased: (lease) => this.emit('lock.released', { holder: lease.holder, session: lease.session, atMs: this.clock.now() }),
      onLost: (err) => this.emit('lock.lost', { holder: this.holderId, session: this.sessionId, reason: err.message, atMs: this.clock.now() }),
    });
  }

  /** Lease time a mutating call needs left: one attempt's timeout, at most half the TTL. */
  get #callLeaseMs(): number {
    return Math.min(this.#runtimeTimeoutMs, this.#lockTtlMs / 2);
  }

  /**
   * What `apply()` and `roll()` would do now, without doing it: the whole plan (every node's
   * changes as spec fields, every batch in order, the effective `maxUnavailable` and why it was
   * capped — render it with `formatPlan`), plus the next roll step (null while nodes are still
   * to create: `apply()` first) and the apply steps.
   */
  async plan(
    options: Pick<RollOptions, 'maxUnavailable' | 'hooks' | 'waves' | 'tolerateAzLoss' | 'skip' | 'canary' | 'bakeMs' | 'checkpoints'> & { signal?: AbortSignal; removeNodes?: RemoveNodesOption } = {},
  ): Promise<ClusterPlan & { apply: ApplyPlan; roll: RollPlan | null; observation: ClusterObservation; membership: MembershipPlan }> {
    const holds = resolveHoldPolicy(options);
    validateRemoveNodes(this.spec, options.removeNodes);
    const observation = await this.driver.observe(this.spec, { scope: 'full', signal: options.signal });
    const hooks = { ...this.#hooks, ...options.hooks };
    const signal = options.signal ?? new AbortController().signal;
    const leaderId = await leaderOf(this.spec, hooks, new HookRunner(this.clock, this.spec, this.#hookTimeoutsMs), observation, signal);
    const policy = {
      maxUnavailable: options.maxUnavailable ?? 1,
      leaderId,
      waves: options.waves ?? 'balanced',
      tolerateAzLoss: options.tolerateAzLoss ?? true,
      skip: new Set(options.skip ?? []),
      holds,
      removeNodes: options.removeNodes,
    } as const;
    const cluster = planCluster(observation, this.spec, policy);
    // Nodes still to create are apply()'s work, not a reason to halt: the roll has no step yet.
    const roll = cluster.nodes.some((n) => n.action === 'create')
      ? null
      : planRoll(observation, this.spec, { ...policy, replacementTimeoutMs: Infinity, inFlight: new Map(), ignoreFailuresBeforeMs: 0 }, this.clock.now());
    return { ...cluster, apply: planApply(observation, this.spec), roll, observation, membership: cluster.membership ?? planMembership(observation, this.spec, options) };
  }

  /**
   * Provisions and converges every node's resources and DNS. Idempotent; disrupts nothing. A
   * node's launch template moves to a new revision here only when the node has no running
   * instance of another revision; otherwise the roll moves it with the node's own batch.
   */
  async apply(options: ApplyOptions = {}): Promise<ApplyResult> {
    const signal = options.signal;
    validateRemoveNodes(this.spec, options.removeNodes);
    validateMembershipOptions(options);
    await this.#lease.acquire(signal);
    try {
      const observation = await this.driver.observe(this.spec, { scope: 'full', signal });
      const plan = planApply(observation, this.spec);
      const volumes = await decideVolumeChanges(this.driver, this.spec, plan, this.clock.now(), signal);
      // Nodes added to or removed from a running cluster go one at a time (membership-run.ts).
      const membership = planMembership(observation, this.spec, { removeNodes: options.removeNodes });
      if (membership.steps.length > 0 && this.#rollRun) {
        throw new BerthMembershipError(`Membership change refused: a roll runs in this controller (${membership.steps.map((s) => `${s.kind} ${s.nodeId}`).join(', ')} wait for it to end); a roll and a membership change never overlap. Nothing was changed.`, { nodeId: membership.steps[0]?.nodeId ?? null });
      }
      const joining = new Set(membership.joining);
      const nodes: EnsureNodeResult[] = [];
      // Nodes still to adopt are adopt()'s: an ENI created here would find the node's IP taken.
      const adopting = pendingAdoption(this.spec, observation);
      for (const step of plan.nodes) {
        if (adopting.has(step.nodeId)) continue;
        if (joining.has(step.nodeId)) continue;
        await this.#lease.ensure(signal, this.#callLeaseMs);
        // A node running another revision keeps its template: the roll moves it with the node's batch.
        const result = await this.driver.ensureNode(this.spec, step.nodeId, { signal, keepTemplate: step.leftToRoll });
        nodes.push(result);
        this.emit('apply.node', { nodeId: step.nodeId, changes: result.changes, atMs: this.clock.now() });
      }
      for (const c of volumes.perform) {
        await this.#lease.ensure(signal, this.#callLeaseMs);
        await this.driver.modifyVolume(this.spec, c.nodeId, c.target, { signal });
      }
      let dns = plan.dns;
      let changed: { added: readonly string[]; removed: readonly DeleteNodeResult[] } = { added: [], removed: [] };
      if (membership.steps.length > 0) {
        this.#membershipBusy = true;
        try {
          const hooks = { ...this.#hooks, ...options.hooks };
          const run = new MembershipRun(
            { spec: this.spec, driver: this.driver, clock: this.clock, hooks, hookRunner: new HookRunner(this.clock, this.spec, this.#hookTimeoutsMs), lease: this.#lease, emit: (name, e) => (this.emit as (n: typeof name, e: unknown) => boolean)(name, e), pollIntervalMs: this.#pollIntervalMs, callLeaseMs: this.#callLeaseMs, freshnessMs: this.#freshnessMs },
            { removeNodes: options.removeNodes, joinTimeoutMs: options.joinTimeoutMs ?? 1_800_000, healthTimeoutMs: options.healthTimeoutMs ?? 600_000 },
            signal ?? new AbortController().signal,
          );
          const out = await run.run(observation);
          nodes.push(...out.created);
          changed = out;
        } finally {
          this.#membershipBusy = false;
        }
        // The cluster record follows the membership as it is now.
        dns = planApply(await this.driver.observe(this.spec, { scope: 'full', signal }), this.spec).dns;
      }
      if (dns.length > 0) {
        await this.#lease.ensure(signal, this.#callLeaseMs);
        await this.driver.setDns(this.spec, dns, { signal });
      }
      // Healthy instances the load balancer is missing join it (booting ones: watch() or the next apply()).
      const gate = this.#targetGate();
      let missing: Awaited<ReturnType<TargetGate['missing']>> = [];
      if (gate.enabled) {
        const callSignal = signal ?? new AbortController().signal;
        const after = await this.driver.observe(this.spec, { scope: 'instances', signal });
        missing = await gate.missing(clusterStatuses(this.spec, after), callSignal);
        await gate.register(missing, callSignal);
      }
      const waiting = [...adopting].map((id) => `node ${id}: not provisioned, its spec adopts an existing network interface and volume: run adopt('${id}') (docs/adopt.md)`);
      const notFound = Array.isArray(options.removeNodes) ? options.removeNodes.filter((id) => !membership.orphans.includes(id)) : [];
      const warnings = [...plan.warnings, ...waiting, ...membership.warnings, ...(notFound.length > 0 ? [`removeNodes names ${notFound.join(', ')}, which ${notFound.length === 1 ? 'is' : 'are'} not in AWS (already removed?)`] : [])];
      return {
        nodes,
        dnsRecords: dns.map((r) => r.name),
        resized: plan.resizes.filter((r) => volumes.perform.some((c) => c.nodeId === r.nodeId)),
        volumesModified: volumes.perform,
        volumesUnderWay: volumes.underWay,
        registered: missing.map((m) => ({ nodeId: m.nodeId, instanceId: m.instanceId, targetGroupArns: m.targetGroupArns })),
        warnings,
        membership: { added: changed.added, removed: changed.removed, notRemoved: membership.notRemoved },
      };
    } finally {
      await this.#lease.release(ABORT_SETTLE_BOUND_MS);
    }
  }

  /**
   * Adopts one node of an existing, unmanaged cluster (docs/adopt.md): the network interface
   * carrying the node's IP and its data volume, named by the node's `adopt` in the spec or found
   * on `options.instanceId`. Checks them before changing anything, under the lease and with the
   * other nodes holding a quorum; sets DeleteOnTermination=false on both; takes them over only
   * when `confirmUnmanagedStopped` says the unmanaged instance is terminated; then the node's
   * group launches onto them, and this resolves once its instance is InService and healthy.
   *
   * @example
   * ```ts
   * const controller = createController({ spec, driver, clock, hooks: {
   *   confirmUnmanagedStopped: async (nodeId, instanceId) => { await terminate(instanceId); return true; },
   * } });
   * await controller.adopt('zk-1');
   * ```
   */
  async adopt(nodeId: string, options: AdoptOptions = {}): Promise<AdoptResult> {
    return adoptNode(this.#adoptDeps(), nodeId, options);
  }

  /**
   * Adopts every node whose spec has `adopt` and that is not Berth's yet, one at a time in spec
   * order, each after the previous one is healthy (`adopt`). Stops at the first refusal or failure.
   */
  async adoptAll(options: Omit<AdoptOptions, 'instanceId' | 'device'> = {}): Promise<readonly AdoptResult[]> {
    const observation = await this.driver.observe(this.spec, { scope: 'full', signal: options.signal });
    const out: AdoptResult[] = [];
    for (const nodeId of pendingAdoption(this.spec, observation)) out.push(await this.adopt(nodeId, options));
    return out;
  }

  #adoptDeps(): AdoptDeps {
    return {
      spec: this.spec,
      driver: this.driver,
      clock: this.clock,
      lease: this.#lease,
      hooks: this.#hooks,
      hookTimeoutsMs: this.#hookTimeoutsMs,
      pollIntervalMs: this.#pollIntervalMs,
      callLeaseMs: this.#callLeaseMs,
      emit: (name, e) => this.emit(name, e as never),
    };
  }

  /**
   * The cluster as observed now, interpreted: every node's state, the quorum margin, what is
   * outdated or left to grow, the leader (when an `isLeader` hook says), who holds the lease,
   * and this controller's roll in progress (its state, how far it came, the hold it is in).
   */
  async status(options: { signal?: AbortSignal; hooks?: RollHooks } = {}): Promise<ClusterStatus> {
    const signal = options.signal ?? new AbortController().signal;
    const observation = await this.driver.observe(this.spec, { scope: 'full', signal });
    const lease = await this.driver.lock.inspect(this.spec, { signal });
    const hooks = { ...this.#hooks, ...options.hooks };
    const leader = await leaderOf(this.spec, hooks, new HookRunner(this.clock, this.spec, this.#hookTimeoutsMs), observation, signal);
    return this.#status(observation, { lease, leader });
  }

  /** Where this controller's roll stands now, without a call (null when it runs none). */
  get rollProgress(): RollProgress | null {
    const run = this.#rollRun;
    const actor = this.#rollActor;
    if (!run || !actor) return null;
    const v = actor.getSnapshot().value;
    return run.progress(typeof v === 'string' ? v : JSON.stringify(v));
  }

  /**
   * Pauses a running roll before its next batch (a batch in flight finishes first); `resume()`
   * continues it. The lease stays held (and renewed) while paused.
   */
  pause(): void {
    this.#rollActor?.send({ type: 'pause' });
  }

  /** Continues a paused roll, or ends a hold (canary, checkpoint) at once. */
  resume(): void {
    const state = this.#rollActor?.getSnapshot().value;
    this.#rollActor?.send({ type: 'resume' });
    if (state === 'paused' || state === 'holding') this.emit('roll.resumed', { by: 'resume', atMs: this.clock.now() });
  }

  /**
   * Pauses a node keeping its identity and data: its group goes to 0 instances and is marked
   * paused (the mark lives on the group, so `apply()`, `roll()`, `watch()` and a restarted
   * controller leave it at 0); its ENI, IP, data volume, launch template and DNS records stay.
   * Refused (`BerthNodeRefusedError`) unless the other nodes hold a quorum on a fresh look,
   * under the lease, and while this controller runs a roll; another controller holding the lease
   * rejects it with `BerthLockError` `LOCK_HELD`. Runs `beforeReplace` and drains the
   * node from the spec's target groups first. The planner counts it as down until
   * `resumeNode()`. Needs `capabilities.pauseNodes`. See docs/pause-nodes.md.
   */
  pauseNode(nodeId: string, options: PauseNodeOptions = {}): Promise<NodePauseResult> {
    return pauseNode(this.#pauseDeps(), nodeId, options);
  }

  /**
   * Resumes a paused node: its group goes back to 1 instance (the same ENI, IP and volume) and
   * the mark is removed, under the lease. With `wait`, resolves once it is InService and healthy
   * (registered with the target groups, `afterReplace` run).
   */
  resumeNode(nodeId: string, options: ResumeNodeOptions = {}): Promise<NodePauseResult> {
    return resumeNode(this.#pauseDeps(), nodeId, options);
  }

  #pauseDeps(): PauseDeps {
    return {
      spec: this.spec,
      driver: this.driver,
      clock: this.clock,
      lease: this.#lease,
      hooks: this.#hooks,
      hookRunner: new HookRunner(this.clock, this.spec, this.#hookTimeoutsMs),
      gate: this.#targetGate(),
      emit: (name, e) => this.emit(name, e as never),
      callLeaseMs: this.#callLeaseMs,
      freshnessMs: this.#freshnessMs,
      pollIntervalMs: this.#pollIntervalMs,
      rollActive: () => this.#rollRun !== null,
    };
  }

  #abandonDeps() {
    return { spec: this.spec, driver: this.driver, clock: this.clock, lease: this.#lease, emit: (name: keyof ControllerEvents, e: unknown) => this.emit(name, e as never), callLeaseMs: this.#callLeaseMs, freshnessMs: this.#freshnessMs, rollActive: () => this.#rollRun !== null };
  }

  #rollDeps(hooks: RollHooks, timeouts: Partial<Record<HookName, number>>) {
    return {
      spec: this.spec,
      driver: this.driver,
      clock: this.clock,
      hooks,
      hookRunner: new HookRunner(this.clock, this.spec, { ...this.#hookTimeoutsMs, ...timeouts }),
      lease: this.#lease,
      emit: <K extends keyof ControllerEvents>(name: K, e: ControllerEvents[K]) => {
        (this.emit as (n: K, e: ControllerEvents[K]) => boolean)(name, e);
      },
      onNodeEvent: (e: NodeMachineEmitted, recorder: RollRecorder) => this.#onNodeEvent(e, recorder),
    };
  }

  #settings(options: RollOptions, startedAtMs: number, holds: HoldPolicy) {
    return {
      holds,
      maxUnavailable: Math.max(1, Math.floor(options.maxUnavailable ?? 1)),
      replacementTimeoutMs: options.replacementTimeoutMs ?? 1_800_000,
      healthTimeoutMs: options.healthTimeoutMs ?? 600_000,
      ignoreFailuresBeforeMs: options.retryFailed ? startedAtMs : 0,
      skip: new Set(options.skip ?? []),
      waves: options.waves ?? 'balanced',
      tolerateAzLoss: options.tolerateAzLoss ?? true,
      onFailure: options.onFailure ?? 'rollback',
      freshnessMs: this.#freshnessMs,
      pollIntervalMs: this.#pollIntervalMs,
      callLeaseMs: this.#callLeaseMs,
    } as const;
  }

  /**
   * Replaces every outdated instance, in batches that never leave fewer than quorum healthy
   * members, each disruption checked on a fresh look under a live lease. Resolves with a
   * report; throws {@link BerthRollHaltedError} (with `.report`) when it halts, naming the node,
   * its phase, the hook and the last error, and what was rolled back.
   */
  async roll(options: RollOptions = {}): Promise<RollReport> {
    const outer = options.signal;
    throwIfAborted(outer);
    if (this.#membershipBusy) throw new BerthMembershipError('Roll refused: a membership change (apply() adding or removing a node) runs in this controller; a roll and a membership change never overlap. Roll once apply() has finished.');
    // Bad options fail here, before the lock or any call.
    const holds = resolveHoldPolicy(options);
    const hooks: RollHooks = { ...this.#hooks, ...options.hooks };
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(outer?.reason);
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    const signal = controller.signal;
    const callsBefore = this.driver.apiCallCounts();
    const run = new RollRun(this.#rollDeps(hooks, options.hookTimeoutsMs ?? {}), this.#settings(options, this.clock.now(), holds), signal);
    // A lost lease stops everything at once: no further call is made under it.
    const lease = this.#lease;
    const lostListener = (e: { reason: string }) => controller.abort(new BerthLockError('LOCK_LOST', e.reason));
    this.on('lock.lost', lostListener);

    const steps: RollSteps = {
      lock: async () => {
        await lease.acquire(signal);
      },
      observe: () => run.look(),
      decide: (observation) => run.decide(observation),
      updateTemplates: (nodeIds, observation) => run.updateTemplates(nodeIds, observation),
      startBatch: (plan, observation) => run.startBatch(plan, observation),
      verify: () => run.verify(),
      // Its own signal too: resume() ends the hold by stopping its actor.
      hold: (hold, stepSignal) => run.hold(hold, AbortSignal.any([signal, stepSignal])),
      wait: () => run.wait(),
      // The lease is released once the halt (and its rollback) is dealt with: #finishRoll.
      release: async () => {},
    };
    const actor = createActor(rollMachine, { input: { steps } });
    this.#rollActor = actor;
    this.#rollRun = run;
    let lastState: unknown = null;
    actor.subscribe((snap) => {
      if (snap.value === 'paused' && lastState !== 'paused') this.emit('roll.paused', { atMs: this.clock.now() });
      lastState = snap.value;
    });
    actor.start();
    let output;
    try {
      // An abort settles the roll at once, whatever a step is waiting on.
      output = await Promise.race([toPromise(actor), abortedPromise(signal)]);
    } finally {
      this.#rollActor = null;
      this.#rollRun = null;
      actor.stop();
      run.tracker.stop();
      this.off('lock.lost', lostListener);
      outer?.removeEventListener('abort', onOuterAbort);
    }
    return this.#finishRoll(run, output, signal, callsBefore);
  }

  async #finishRoll(
    run: RollRun,
    output: { error: unknown; outcome: { type: 'done' } | (RollPlan['action'] & { type: 'halt' }) | null } | { aborted: unknown },
    signal: AbortSignal,
    callsBefore: Readonly<Record<string, number>>,
  ): Promise<RollReport> {
    const error = 'aborted' in output ? (output.aborted ?? new BerthAbortError('The roll was aborted.')) : output.error;
    const outcome = 'aborted' in output ? null : output.outcome;
    let halt: BerthRollHaltedError | null = null;
    if (error) halt = run.haltFromError(error);
    else if (outcome && outcome.type === 'halt') halt = RollRun.haltOfPlan(outcome);
    const aborted = !halt && (isAbortError(error) || signal.aborted);

    // A halt leaves the cluster safer than it found it: roll back what this roll moved.
    let rolledBack: string[] = [];
    let rollbackNote = '';
    if (halt && !aborted) {
      try {
        const r = await run.rollBack();
        rolledBack = r.rolledBack;
        if (r.notRolledBack.length > 0 && !this.#lease.held) rollbackNote = `; not rolled back (lease lost): ${r.notRolledBack.join(', ')}`;
      } catch (err) {
        rollbackNote = `; rollback failed: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    await this.#lease.release(ABORT_SETTLE_BOUND_MS);

    const now = this.clock.now();
    const apiCalls = diffCounts(this.driver.apiCallCounts(), callsBefore);
    const ops = this.driver.stats();
    if (halt) {
      const named = new Set(halt.nodeIds);
      const untouched = run.untouched().filter((id) => !named.has(id));
      const tail = `${rolledBack.length > 0 ? `; rolled back ${rolledBack.join(', ')} to their last good launch template` : ''}${rollbackNote}${untouched.length > 0 ? `; not touched: ${untouched.join(', ')}` : ''}`;
      const full = new BerthRollHaltedError(`${halt.reason}${tail}`, {
        nodeId: halt.nodeId,
        nodeIds: halt.nodeIds,
        phase: halt.phase,
        hook: halt.hook,
        lastError: halt.lastError,
        rolledBack,
        untouched,
        cause: halt.cause ?? error ?? undefined,
      });
      // A replacement the halt cut short failed, also where no instance said so (a timeout, failing launches).
      if (halt.nodeId !== null && halt.phase !== 'lease') run.tracker.halted(halt.nodeId, halt.reason, now);
      const report = run.recorder.finish('halted', full.reason, now, apiCalls, ops);
      this.emit('roll.halted', { reason: full.reason, nodeId: full.nodeId, nodeIds: full.nodeIds, phase: full.phase, hook: full.hook, lastError: full.lastError, rolledBack, untouched, report, atMs: now });
      throw withReport(full, report);
    }
    if (error) {
      const report = run.recorder.finish(aborted ? 'aborted' : 'halted', error instanceof Error ? error.message : String(error), now, apiCalls, ops);
      if (aborted) {
        this.emit('roll.aborted', { report, atMs: now });
        if (!(error instanceof BerthAbortError)) throw withReport(new BerthAbortError('The roll was aborted.', { cause: error }), report);
      } else {
        this.emit('roll.failed', { code: error instanceof BerthError ? error.code : null, message: error instanceof Error ? error.message : String(error), report, atMs: now });
      }
      throw error instanceof BerthError ? withReport(error, report) : error;
    }
    const report = run.recorder.finish('completed', null, now, apiCalls, ops);
    this.emit('roll.completed', { report, atMs: now });
    return report;
  }

  /**
   * Recovery outside a roll, until `signal` aborts: observes continuously, reports lost,
   * recovered and stuck nodes and quorum at risk, repairs DNS drift. The one disruption it
   * starts is a graceful one: a node AWS announced will go (a spot interruption, a scheduled
   * retirement or stop) is replaced before its deadline — `beforeReplace` first, under the
   * lease, on a fresh look — when the other nodes hold a quorum without it. Otherwise the Auto
   * Scaling group replaces lost instances; Berth watches and reports.
   *
   * It looks on a relevant change (with change notifications) or after `intervalMs`, takes a
   * full look (DNS, load balancer) every `fullLookIntervalMs`, and backs off when AWS throttles
   * it (`watch.throttled`) instead of failing. Many clusters in one process: `createFleet()`.
   */
  async watch(options: WatchOptions): Promise<void> {
    const spec = this.spec;
    const stuckAfterMs = options.stuckAfterMs ?? defaultStuckAfterMs(spec);
    const onStuck = options.onStuck ?? 'report';
    const notifications = this.driver.capabilities.changeNotifications && !!this.driver.waitForChange;
    const intervalMs = options.intervalMs ?? (notifications ? DEFAULT_WATCH_INTERVAL_MS : this.#pollIntervalMs);
    const fullLookIntervalMs = Math.max(intervalMs, options.fullLookIntervalMs ?? DEFAULT_FULL_LOOK_INTERVAL_MS);
    const backoffBaseMs = options.throttleBackoff?.baseMs ?? DEFAULT_THROTTLE_BASE_MS;
    const backoffMaxMs = options.throttleBackoff?.maxMs ?? DEFAULT_THROTTLE_MAX_MS;
    const positive = (path: string, v: number, given: unknown) => (v > 0 && Number.isFinite(v) ? [] : [{ path, message: `watch(): ${path} must be a positive number of milliseconds, got ${String(given)}` }]);
    const issues: ConfigIssue[] = [
      ...(onStuck !== 'report' && onStuck !== 'abandon' ? [{ path: 'onStuck', message: `watch(): onStuck must be 'report' or 'abandon', got ${JSON.stringify(onStuck)}` }] : []),
      ...(!(stuckAfterMs > 0) ? [{ path: 'stuckAfterMs', message: `watch(): stuckAfterMs must be a positive number of milliseconds, got ${String(options.stuckAfterMs)}` }] : []),
      ...(options.intervalMs !== undefined ? positive('intervalMs', options.intervalMs, options.intervalMs) : []),
      ...(options.fullLookIntervalMs !== undefined ? positive('fullLookIntervalMs', options.fullLookIntervalMs, options.fullLookIntervalMs) : []),
      ...(options.throttleBackoff?.baseMs !== undefined ? positive('throttleBackoff.baseMs', backoffBaseMs, backoffBaseMs) : []),
      ...(options.throttleBackoff?.maxMs !== undefined ? positive('throttleBackoff.maxMs', backoffMaxMs, backoffMaxMs) : []),
    ];
    if (issues.length > 0) throw new BerthConfigError(issues);
    // Our own signal, following the caller's without a listener on it: a hundred watches on one
    // signal add none there (no MaxListenersExceededWarning); the waits below listen on this one.
    const signal = AbortSignal.any([options.signal]);
    const prng = createPrng(fnv(`${this.sessionId}/watch`));
    const downSince = new Map<string, number>();
    const lastCurrent = new Map<string, string | null>();
    const abandonAttempted = new Set<string>();
    const abandonDeferred = new Set<string>();
    const pausedNow = new Set<string>();
    const repairDns = options.repairDns ?? true;
    const q = quorumOf(spec.nodes.length);
    const lostAt = new Map<string, number>();
    const stuckReported = new Set<string>();
    const preempted = new Set<string>();
    const spotMissing = new Map<string, number>();
    const gate = this.#targetGate();
    let atRisk = false;
    let lastFullMs = -Infinity;
    let recoveredSinceCheck = false;
    let throttled = 0;
    const tracker = new NodeTracker(spec.nodes.map((n) => n.id), this.clock.now(), (e) => {
      if (e.type === 'phase') this.emit('node.phase', { nodeId: e.nodeId, instanceId: e.instanceId, phase: e.phase, reason: e.reason, atMs: e.atMs });
      else if (e.type === 'lost') {
        if (pausedNow.has(e.nodeId)) return; // pauseNode() stopped it: not a loss
        lostAt.set(e.nodeId, e.atMs);
        this.emit('node.lost', { nodeId: e.nodeId, instanceId: e.instanceId, atMs: e.atMs });
      } else if (e.type === 'replaced') {
        recoveredSinceCheck = true;
        const since = lostAt.get(e.nodeId);
        lostAt.delete(e.nodeId);
        if (since !== undefined || e.cause === 'recover') this.emit('node.recovered', { nodeId: e.nodeId, instanceId: e.newInstanceId, downMs: since === undefined ? 0 : e.atMs - since, atMs: e.atMs });
      } else if (e.type === 'failed') this.emit('node.failed', { nodeId: e.nodeId, instanceId: e.instanceId, reason: e.reason, atMs: e.atMs });
    });

    /** One look and what follows from it. */
    const look = async (): Promise<void> => {
      if (options.pacer) await options.pacer.look(signal);
      // A full look now and then: DNS drift, and instances the load balancer is missing.
      const full = ((repairDns && !!spec.dns) || gate.enabled) && this.clock.now() - lastFullMs >= fullLookIntervalMs;
      const obs = await this.driver.observe(spec, { scope: full ? 'full' : 'instances', signal });
      const statuses = clusterStatuses(spec, obs);
      pausedNow.clear();
      for (const s of statuses) if (s.paused) pausedNow.add(s.nodeId);
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
      for (const s of statuses) if (s.healthy || s.paused) downSince.delete(s.nodeId);
      for (const s of down) {
        // Without an instance: down since its last one went (an abandoned launch starts the count again).
        const current = s.current?.instanceId ?? null;
        if (!downSince.has(s.nodeId) || lastCurrent.get(s.nodeId) !== current) downSince.set(s.nodeId, now);
        lastCurrent.set(s.nodeId, current);
        const stuck = stuckNode(s, now, stuckAfterMs, downSince.get(s.nodeId));
        if (!stuck) continue;
        const key = `${s.nodeId}/${stuck.instanceId ?? '-'}`;
        if (!stuckReported.has(key)) {
          stuckReported.add(key);
          this.emit('node.stuck', { ...stuck, atMs: now });
        }
        if (onStuck === 'abandon' && stuck.lifecycleState === 'Pending:Wait') {
          // A failed look or lease take is tried again on the next look (the instance was not abandoned).
          await abandonStuck(this.#abandonDeps(), stuck, statuses, abandonAttempted, abandonDeferred, signal).catch(() => false);
        }
      }
      const noticed = statuses.find((s) => s.state === 'interrupted' && s.current && !preempted.has(s.current.instanceId));
      if (noticed?.current) {
        preempted.add(noticed.current.instanceId);
        await this.#preempt(noticed, obs, signal).catch((err: unknown) => {
          if (signal.aborted || isAbortError(err)) return;
          this.emit('node.failed', { nodeId: noticed.nodeId, instanceId: noticed.current?.instanceId ?? null, reason: `graceful replacement before the announced ${noticed.disruption?.kind ?? 'disruption'} failed: ${err instanceof Error ? err.message : String(err)}`, atMs: this.clock.now() });
        });
        return; // look again at once
      }
      // Spot nodes: fall back to on-demand, or back to spot (capacity-step.ts).
      await capacityStep(this.#capacityDeps(spotMissing), obs, signal);
      if (full) {
        lastFullMs = now;
        const drift = repairDns ? planApply(obs, spec).dns : [];
        if (drift.length > 0) await this.#repairDns(drift, signal);
      }
      if (gate.enabled && (full || recoveredSinceCheck)) {
        recoveredSinceCheck = false;
        await this.#registerMissing(gate, statuses, signal);
      }
      throttled = 0;
      await waitForNews();
    };

    /** Until the interval is up or a relevant change arrives (boot phases update the tracker without a look). */
    const waitForNews = async (): Promise<void> => {
      if (!notifications || !this.driver.waitForChange) return this.clock.sleep(intervalMs, signal);
      const until = this.clock.now() + intervalMs;
      for (let left = intervalMs; left > 0; left = until - this.clock.now()) {
        const before = this.clock.now();
        const changes = await this.driver.waitForChange(spec, { timeoutMs: Math.min(left, MAX_WAIT_MS), signal });
        tracker.notified(changes);
        if (changes.some((c) => c.kind !== 'phase' || c.phase === 'failed')) return;
        if (changes.length === 0 && this.clock.now() === before) return; // a driver that cannot wait: look now
      }
    };

    try {
      while (!signal.aborted) {
        try {
          await look();
        } catch (err) {
          if (signal.aborted) return;
          const throttle = throttlingError(err);
          if (!throttle) throw err;
          // Throttled (after the runtime's own retries): back off and look again, never give up.
          throttled++;
          const delayMs = throttleBackoffMs(throttled, backoffBaseMs, backoffMaxMs, prng);
          this.emit('watch.throttled', { operation: throttle.operation, code: throttle.awsCode, attempt: throttled, delayMs, atMs: this.clock.now() });
          await this.clock.sleep(delayMs, signal).catch(() => undefined);
        }
      }
    } finally {
      tracker.stop();
    }
  }

  #capacityDeps(spotMissing: Map<string, number>) {
    return { spotMissing, spec: this.spec, driver: this.driver, clock: this.clock, lease: this.#lease, hooks: this.#hooks, hookRunner: new HookRunner(this.clock, this.spec, this.#hookTimeoutsMs), freshnessMs: this.#freshnessMs, callLeaseMs: this.#callLeaseMs, emit: <K extends keyof ControllerEvents>(name: K, e: ControllerEvents[K]) => void (this.emit as (n: K, e: ControllerEvents[K]) => boolean)(name, e) };
  }

  /**
   * Replaces a node AWS announced will go, before it goes: only when every other node is
   * healthy enough to keep a quorum without it, under the lease (a roll holding it handles the
   * node itself), `beforeReplace` first, then a fresh look and `replaceInstance`.
   */
  #targetGate(): TargetGate {
    return new TargetGate({ spec: this.spec, driver: this.driver, clock: this.clock, lease: this.#lease, emit: (name, e) => this.emit(name, e as never), pollIntervalMs: this.#pollIntervalMs, callLeaseMs: this.#callLeaseMs });
  }

  /**
   * Registers healthy nodes' instances the target groups are missing (a new cluster's, a
   * recovery's), under the lease; skipped while another controller holds it (a roll admits its
   * own nodes).
   */
  async #registerMissing(gate: TargetGate, statuses: readonly NodeStatus[], signal: AbortSignal): Promise<void> {
    const missing = await gate.missing(statuses, signal);
    if (missing.length === 0) return;
    try {
      await this.#lease.acquire(signal);
    } catch (err) {
      if (err instanceof BerthLockError && err.code === 'LOCK_HELD') return;
      throw err;
    }
    try {
      await gate.register(missing, signal);
    } finally {
      await this.#lease.release(ABORT_SETTLE_BOUND_MS);
    }
  }

  async #preempt(s: NodeStatus, obs: ClusterObservation, signal: AbortSignal): Promise<void> {
    const q = quorumOf(this.spec.nodes.length);
    const others = clusterStatuses(this.spec, obs).filter((x) => x.nodeId !== s.nodeId && x.healthy).length;
    const instanceId = s.current?.instanceId as string;
    const disruption = s.disruption;
    if (others < q.quorum) {
      this.emit('quorum.at-risk', { down: clusterStatuses(this.spec, obs).filter((x) => !x.healthy).map((x) => x.nodeId), tolerance: q.tolerance, atMs: this.clock.now() });
      return;
    }
    // This controller already holds the lease (its roll, apply() or another step): that owner
    // handles the node; taking the lease here would hand it back at the end, under the owner.
    if (this.#lease.held) return;
    try {
      await this.#lease.acquire(signal);
    } catch (err) {
      if (err instanceof BerthLockError && err.code === 'LOCK_HELD') return; // a roll is on; it counts the node as down
      throw err;
    }
    try {
      this.emit('node.preempting', { nodeId: s.nodeId, instanceId, kind: disruption?.kind ?? 'spot-interruption', deadlineMs: disruption?.deadlineMs ?? null, atMs: this.clock.now() });
      const runner = new HookRunner(this.clock, this.spec, this.#hookTimeoutsMs);
      const before = this.#hooks.beforeReplace;
      if (before) await runner.run('beforeReplace', s.nodeId, obs, signal, (ctx) => before(s.nodeId, ctx), undefined);
      // Out of the load balancer before it goes, draining for what time the notice leaves (less a margin).
      const gate = this.#targetGate();
      if (gate.enabled) await gate.drain(s.nodeId, instanceId, signal, disruption?.deadlineMs ? Math.max(0, disruption.deadlineMs - this.clock.now() - 30_000) : Infinity);
      // A spot node's own interruption watcher stops it gracefully (the pre-stop script, then the
      // unmount) before EC2 takes the instance at the deadline (docs/spot.md). Terminating it now
      // would cut that short, and gains nothing: its replacement cannot have the node's ENI and
      // volume before the old instance is gone.
      if ((disruption?.kind ?? 'spot-interruption') === 'spot-interruption' && this.spec.nodes.find((n) => n.id === s.nodeId)?.capacity.spot) return;
      const fresh = await this.driver.observe(this.spec, { scope: 'instances', signal });
      const now = clusterStatuses(this.spec, fresh);
      const self = now.find((x) => x.nodeId === s.nodeId);
      if (self?.current?.instanceId !== instanceId) return; // already gone: the group handles it
      if (now.filter((x) => x.nodeId !== s.nodeId && x.healthy).length < q.quorum) {
        await gate.restore([instanceId], signal);
        return;
      }
      await this.#lease.ensure(signal, this.#callLeaseMs);
      await this.driver.replaceInstance(this.spec, s.nodeId, instanceId, { signal, notAfterMs: fresh.observedAtMs + this.#freshnessMs });
      this.emit('node.replacing', { nodeId: s.nodeId, instanceId, atMs: this.clock.now() });
    } finally {
      await this.#lease.release(ABORT_SETTLE_BOUND_MS);
    }
  }

  async #repairDns(records: readonly { name: string; values: readonly string[] }[], signal: AbortSignal): Promise<void> {
    // Held by this controller already (a roll, apply()): its owner sets the records; not here.
    if (this.#lease.held) return;
    try {
      await this.#lease.acquire(signal);
    } catch (err) {
      if (err instanceof BerthLockError && err.code === 'LOCK_HELD') return; // a roll is on; it owns the cluster now
      throw err;
    }
    try {
      await this.#lease.ensure(signal, this.#callLeaseMs);
      await this.driver.setDns(this.spec, records, { signal });
      this.emit('dns.repaired', { records: records.map((r) => r.name), atMs: this.clock.now() });
    } finally {
      await this.#lease.release(ABORT_SETTLE_BOUND_MS);
    }
  }

  #status(observation: ClusterObservation, extra: { lease: Lease | null; leader: string | null }): ClusterStatus {
    const nodes = clusterStatuses(this.spec, observation);
    const q = quorumOf(nodes.length);
    const healthy = nodes.filter((n) => n.healthy).length;
    const outdated = nodes.filter((n) => n.outdated).map((n) => n.nodeId);
    const applyPlan = planApply(observation, this.spec);
    const pendingResizes = applyPlan.resizes;
    const m = planMembership(observation, this.spec);
    const membership = { joining: m.joining, orphans: m.orphans };
    const l = extra.lease;
    return {
      clusterName: this.spec.name,
      observedAtMs: observation.observedAtMs,
      nodes,
      quorum: { ...q, healthy, down: nodes.length - healthy, margin: healthy - q.quorum },
      outdated,
      pendingResizes,
      pendingVolumeChanges: applyPlan.volumeChanges,
      volumeRefusals: applyPlan.volumeRefusals,
      converged: outdated.length === 0 && healthy === nodes.length && applyPlan.volumeChanges.length === 0 && applyPlan.volumeRefusals.length === 0 && membership.joining.length === 0 && membership.orphans.length === 0,
      leader: extra.leader,
      lock: l && l.expiresAtMs > this.clock.now() ? { holder: l.holder, session: l.session, expiresAtMs: l.expiresAtMs, mine: l.session === this.sessionId } : null,
      roll: this.rollProgress,
      paused: nodes.filter((n) => n.paused).map((n) => n.nodeId),
      stuck: nodes.map((n) => stuckNode(n, observation.observedAtMs, defaultStuckAfterMs(this.spec))).filter((n): n is StuckNode => n !== null),
      membership,
    };
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
}

/** Settles with `{ aborted: reason }` when the signal fires (never otherwise). */
function abortedPromise(signal: AbortSignal): Promise<{ aborted: unknown }> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve({ aborted: signal.reason });
    else signal.addEventListener('abort', () => resolve({ aborted: signal.reason }), { once: true });
  });
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
