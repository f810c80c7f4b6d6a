import { setCapacityMarket } from './spot-capacity.js';
import type { AdoptionSource, ClusterChange, ClusterSpec, Driver, DriverCapabilities, EnsureNodeOptions, EnsureNodeResult, LockDriver, LockOptions, ObserveScope, TargetGroupObservation, VolumeModificationRecord, VolumeTarget, WaitForChangeOptions } from '@berth/core';
import { createAwsContext, type AwsContext } from './aws-context.js';
import { resolveAwsDriverConfig, type AwsDriverOptions, type ResolvedAwsDriverConfig } from './aws-driver-options.js';
import { deleteChangeQueue, ensureChangeQueue, queueNameFor, receiveChanges, type ChangeQueueResult, type DeleteChangeQueueResult } from './change-queue.js';
import { deleteNode } from './delete-node.js';
import { createDynamoDbLock, ensureLockTable } from './dynamodb-lock.js';
import { ensureNode } from './ensure-node.js';
import { checkAdoption, takeOverAdoption } from './adopt-node.js';
import { iamPolicyFor, type IamPolicyDocument, type IamPolicyOptions } from './iam-policy.js';
import { ObserveBatcher } from './observe-batch.js';
import { ObservationCache } from './observe-cache.js';
import { preflight, type PreflightReport } from './preflight.js';
import { completeLifecycle, replaceInstance } from './replace-instance.js';
import { setNodePaused } from './pause-node.js';
import { restoreLaunchTemplate } from './restore-launch-template.js';
import { setDns } from './set-dns.js';
import { deregisterTargets, describeTargetGroups, registerTargets } from './target-groups.js';
import { createSystemClock } from './system-clock.js';
import { snapshotVolume } from './volume-operations.js';
import { modifyVolume, volumeModifications } from './modify-volume.js';

/** The AWS driver: the core {@link Driver} plus AWS-only helpers. */
export interface AwsDriver extends Driver {
  readonly config: ResolvedAwsDriverConfig;
  /** Every problem the account has with this spec, in one report. Changes nothing. */
  preflight(spec: ClusterSpec, options?: { signal?: AbortSignal }): Promise<PreflightReport>;
  /** Least-privilege policies for the controller and the nodes (pure; no call). `changeQueue` defaults to the driver's option. */
  iamPolicyFor(spec: ClusterSpec, options?: Omit<IamPolicyOptions, 'lockTable'>): { readonly controller: IamPolicyDocument; readonly node: IamPolicyDocument };
  /** Creates the lock table if missing and waits until it is ACTIVE. */
  ensureLockTable(options?: { signal?: AbortSignal }): Promise<{ tableName: string; created: boolean }>;
  /**
   * Creates or converges the cluster's change feed: SQS queue `berth-<cluster>-changes`, the
   * EventBridge rule of the same name on the default bus (the cluster's groups' launch,
   * launch-failure and terminate events), with `capabilities.spot` the rule
   * `berth-<cluster>-notices` (EC2 spot interruption warnings), their targets and the queue
   * policy. Idempotent; works whether or not the `changeQueue` option is on (which makes
   * `ensureNode` call it).
   */
  ensureChangeQueue(spec: ClusterSpec, options?: { signal?: AbortSignal }): Promise<ChangeQueueResult>;
  /**
   * A spot node's group to on-demand launches (its `-od` template, the group tagged
   * `berth:on-demand-since`) or back to spot; the running instance stays (spot-capacity.ts).
   */
  setCapacityMarket(spec: ClusterSpec, nodeId: string, market: 'spot' | 'on-demand', options?: { signal?: AbortSignal }): Promise<EnsureNodeResult>;
  /** Deletes the cluster's rule and queue. Nothing else does: `deleteNode` leaves them alone. Idempotent. */
  deleteChangeQueue(spec: ClusterSpec, options?: { signal?: AbortSignal }): Promise<DeleteChangeQueueResult>;
  /** Only with the `changeQueue` option: one long poll of the cluster's queue. */
  readonly waitForChange?: (spec: ClusterSpec, options: WaitForChangeOptions) => Promise<readonly ClusterChange[]>;
  /**
   * ELBv2 (`capabilities.loadBalancers`): the groups' deregistration delay, health-check timing
   * and targets' health — one DescribeTargetGroups, then one DescribeTargetGroupAttributes and
   * one DescribeTargetHealth per group. ARNs outside the spec's region or partition are refused
   * before any call; a group that does not exist is a non-retryable `TargetGroupNotFound` naming it.
   */
  describeTargetGroups(spec: ClusterSpec, targetGroupArns: readonly string[], options?: { signal?: AbortSignal }): Promise<readonly TargetGroupObservation[]>;
  /** RegisterTargets in every given group, one call per group (idempotent). */
  registerTargets(spec: ClusterSpec, targetGroupArns: readonly string[], instanceIds: readonly string[], options?: { signal?: AbortSignal }): Promise<void>;
  /** DeregisterTargets from every given group, one call per group; a target that is not registered is no error. */
  deregisterTargets(spec: ClusterSpec, targetGroupArns: readonly string[], instanceIds: readonly string[], options?: { signal?: AbortSignal }): Promise<void>;
  /** The latest modification of each volume that has one: one DescribeVolumesModifications (a `volume-id` filter), paginated. */
  volumeModifications(spec: ClusterSpec, volumeIds: readonly string[], options?: { signal?: AbortSignal }): Promise<readonly VolumeModificationRecord[]>;
  apiCallCounts(): Readonly<Record<string, number>>;
  resetApiCallCounts(): void;
  /** Closes the SDK clients' sockets; clients passed in `clients` are destroyed too where they have a `destroy`. */
  destroy(): void;
}

/**
 * Creates the driver for real AWS (or a local emulator) over AWS SDK v3. SDK retries are off by
 * default (`maxAttempts: 1`): the core runtime wrapper retries errors this driver marks
 * retryable (throttling, 5xx, eventual consistency, transient states).
 *
 * @example
 * ```ts
 * const driver = createAwsDriver({ region: 'eu-west-1' });
 * const report = await driver.preflight(spec);
 * if (!report.ok) console.error(report.problems);
 * const controller = createController({ spec, driver, clock: createSystemClock() });
 * ```
 * @example Against moto (tests):
 * ```ts
 * createAwsDriver({ region: 'us-east-1', endpoint: 'http://127.0.0.1:5000', emulator: 'moto',
 *   credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
 * ```
 */
export function createAwsDriver(options: AwsDriverOptions): AwsDriver {
  return new AwsDriverImpl(options);
}

class AwsDriverImpl implements AwsDriver {
  readonly name = 'aws';
  readonly capabilities: DriverCapabilities;
  readonly config: ResolvedAwsDriverConfig;
  readonly lock: LockDriver;
  // `declare`: no field is emitted, so the property exists only when the constructor sets it.
  declare readonly waitForChange?: (spec: ClusterSpec, options: WaitForChangeOptions) => Promise<readonly ClusterChange[]>;
  readonly #ctx: AwsContext;
  /** The groups last described, and those this driver changed since (observe.ts describes only groups in flight). */
  readonly #observed = new ObservationCache();
  /** Concurrent observe() calls share one set of describes (observe-batch.ts). */
  readonly #looks: ObserveBatcher;
  /** The change feed per queue name, ensured at most once by this driver (dropped on failure, so tried again). */
  readonly #feeds = new Map<string, Promise<ChangeQueueResult>>();
  /** The feeds known to be in place, by queue name (observe() reads them only once they are). */
  readonly #ready = new Map<string, ChangeQueueResult>();
  /** Changes an observation took off the queue, for the next waitForChange, by queue name. */
  readonly #pending = new Map<string, ClusterChange[]>();

  constructor(options: AwsDriverOptions) {
    this.config = resolveAwsDriverConfig(options);
    this.capabilities = this.config.capabilities;
    const ctx = createAwsContext(options, this.config, options.clock ?? createSystemClock());
    // Every operation sends Auto Scaling requests through the cache's watch: a group this driver changes is described again by the next look.
    this.#ctx = Object.create(ctx, { asg: { value: this.#observed.watch(ctx.asg), enumerable: true } }) as AwsContext;
    this.#looks = new ObserveBatcher(this.#ctx, this.#observed);
    const lock = createDynamoDbLock(this.#ctx);
    // Taking a cluster's lease ends a time when other processes could change it: what this driver
    // remembers of its groups and templates is described again before it is used (a hint from
    // another owner's time would make a template-only update think a group is already moved).
    this.lock = Object.freeze({
      ...lock,
      acquire: async (spec: ClusterSpec, o: LockOptions) => {
        const lease = await lock.acquire(spec, o);
        this.#observed.stale(`${this.config.region}/${spec.name}`);
        this.#ctx.templates.forget(spec.name);
        return lease;
      },
    });
    // Only an own property when the option is on: `'waitForChange' in driver` tells the truth.
    if (this.config.changeQueue !== null) {
      this.waitForChange = async (spec, o) => {
        const feed = await this.#feed(spec, o.signal);
        // What an observation already took off the queue comes first, without waiting.
        const pending = this.#pending.get(feed.queueName);
        if (pending && pending.length > 0) {
          this.#pending.delete(feed.queueName);
          return pending;
        }
        return (await receiveChanges(this.#ctx, spec, feed.queueUrl, o.timeoutMs, o.signal)).changes;
      };
    }
  }

  #feed(spec: ClusterSpec, signal: AbortSignal | undefined): Promise<ChangeQueueResult> {
    const key = queueNameFor(this.#ctx, spec);
    let p = this.#feeds.get(key);
    if (!p) {
      p = ensureChangeQueue(this.#ctx, spec, signal);
      this.#feeds.set(key, p);
      p.then(
        (r) => this.#ready.set(key, r),
        () => this.#feeds.delete(key),
      );
    }
    return p;
  }

  async observe(spec: ClusterSpec, options: { scope?: ObserveScope; signal?: AbortSignal } = {}) {
    const scope = options.scope ?? 'full';
    // A look that decides a disruption must know the spot warnings already on the queue: take
    // them off with a short poll (once the feed is in place; with capabilities.spot only, the
    // one case where such warnings come) and keep the other changes for the next waitForChange.
    const feed = this.config.changeQueue !== null && this.capabilities.spot && scope !== 'groups' ? this.#ready.get(queueNameFor(this.#ctx, spec)) : undefined;
    if (feed && spec.region === this.config.region) {
      const { changes } = await receiveChanges(this.#ctx, spec, feed.queueUrl, 0, options.signal);
      if (changes.length > 0) this.#pending.set(feed.queueName, [...(this.#pending.get(feed.queueName) ?? []), ...changes]);
    }
    return this.#looks.observe(spec, scope, options.signal);
  }

  async ensureNode(spec: ClusterSpec, nodeId: string, options: EnsureNodeOptions = {}) {
    // The feed first, so that the node's first launch is already an event on the queue.
    if (this.config.changeQueue !== null && spec.region === this.config.region) await this.#feed(spec, options.signal);
    return ensureNode(this.#ctx, spec, nodeId, options.signal, options.observed, options.keepTemplate ?? false, options.membership);
  }

  replaceInstance(spec: ClusterSpec, nodeId: string, instanceId: string, options: { signal?: AbortSignal } = {}) {
    return replaceInstance(this.#ctx, spec, nodeId, instanceId, options.signal);
  }

  completeLifecycle(spec: ClusterSpec, nodeId: string, instanceId: string, result: 'CONTINUE' | 'ABANDON', options: { signal?: AbortSignal } = {}) {
    return completeLifecycle(this.#ctx, spec, nodeId, instanceId, result, options.signal);
  }

  setCapacityMarket(spec: ClusterSpec, nodeId: string, market: 'spot' | 'on-demand', options: { signal?: AbortSignal } = {}) {
    return setCapacityMarket(this.#ctx, spec, nodeId, market, options.signal);
  }

  restoreLaunchTemplate(spec: ClusterSpec, nodeId: string, to: { readonly launchTemplateId: string; readonly launchTemplateVersion: string }, options: { signal?: AbortSignal } = {}) {
    return restoreLaunchTemplate(this.#ctx, spec, nodeId, to, options.signal);
  }

  setNodePaused(spec: ClusterSpec, nodeId: string, paused: boolean, options: { signal?: AbortSignal; atMs?: number } = {}) {
    return setNodePaused(this.#ctx, spec, nodeId, paused, options.atMs ?? this.#ctx.clock.now(), options.signal);
  }

  setDns(spec: ClusterSpec, records: readonly { name: string; values: readonly string[] }[], options: { signal?: AbortSignal } = {}) {
    return setDns(this.#ctx, spec, records, options.signal);
  }

  snapshotVolume(spec: ClusterSpec, nodeId: string, options: { signal?: AbortSignal; description?: string; wait?: boolean } = {}) {
    return snapshotVolume(this.#ctx, spec, nodeId, options);
  }

  modifyVolume(spec: ClusterSpec, nodeId: string, target: VolumeTarget, options: { signal?: AbortSignal } = {}) {
    return modifyVolume(this.#ctx, spec, nodeId, target, options.signal);
  }

  volumeModifications(_spec: ClusterSpec, volumeIds: readonly string[], options: { signal?: AbortSignal } = {}) {
    return volumeModifications(this.#ctx, volumeIds, options.signal);
  }

  /** docs/adopt.md: checks an unmanaged instance's ENI and volume for the node; `protect` sets DeleteOnTermination=false on both. */
  checkAdoption(spec: ClusterSpec, nodeId: string, source: AdoptionSource, options: { signal?: AbortSignal; protect?: boolean } = {}) {
    return checkAdoption(this.#ctx, spec, nodeId, source, options.protect ?? false, options.signal);
  }

  /** docs/adopt.md: once the unmanaged instance is terminated, waits for its ENI and volume to be free and tags them as the node's. */
  takeOverAdoption(spec: ClusterSpec, nodeId: string, source: AdoptionSource, options: { signal?: AbortSignal } = {}) {
    return takeOverAdoption(this.#ctx, spec, nodeId, source, options.signal);
  }

  deleteNode(spec: ClusterSpec, nodeId: string, options: { signal?: AbortSignal; policy?: 'retain' | 'snapshot' | 'delete' } = {}) {
    return deleteNode(this.#ctx, spec, nodeId, options.policy, options.signal);
  }

  describeTargetGroups(spec: ClusterSpec, targetGroupArns: readonly string[], options: { signal?: AbortSignal } = {}) {
    return describeTargetGroups(this.#ctx, spec, targetGroupArns, options.signal);
  }

  registerTargets(spec: ClusterSpec, targetGroupArns: readonly string[], instanceIds: readonly string[], options: { signal?: AbortSignal } = {}) {
    return registerTargets(this.#ctx, spec, targetGroupArns, instanceIds, options.signal);
  }

  deregisterTargets(spec: ClusterSpec, targetGroupArns: readonly string[], instanceIds: readonly string[], options: { signal?: AbortSignal } = {}) {
    return deregisterTargets(this.#ctx, spec, targetGroupArns, instanceIds, options.signal);
  }

  preflight(spec: ClusterSpec, options: { signal?: AbortSignal } = {}) {
    return preflight(this.#ctx, spec, options.signal);
  }

  iamPolicyFor(spec: ClusterSpec, options: Omit<IamPolicyOptions, 'lockTable'> = {}) {
    const cq = this.config.changeQueue;
    const changeQueue = cq === null ? false : cq.queueName === null ? true : { queueName: cq.queueName };
    return iamPolicyFor(spec, { changeQueue, ...options, lockTable: this.config.lockTable });
  }

  ensureLockTable(options: { signal?: AbortSignal } = {}) {
    return ensureLockTable(this.#ctx, options.signal);
  }

  async ensureChangeQueue(spec: ClusterSpec, options: { signal?: AbortSignal } = {}) {
    const result = await ensureChangeQueue(this.#ctx, spec, options.signal);
    this.#feeds.set(queueNameFor(this.#ctx, spec), Promise.resolve(result));
    this.#ready.set(queueNameFor(this.#ctx, spec), result);
    return result;
  }

  async deleteChangeQueue(spec: ClusterSpec, options: { signal?: AbortSignal } = {}) {
    const key = queueNameFor(this.#ctx, spec);
    this.#feeds.delete(key);
    this.#ready.delete(key);
    this.#pending.delete(key);
    return deleteChangeQueue(this.#ctx, spec, options.signal);
  }

  apiCallCounts() {
    return this.#ctx.counts();
  }

  resetApiCallCounts() {
    this.#ctx.resetCounts();
  }

  destroy() {
    this.#ctx.destroyClients();
  }
}
