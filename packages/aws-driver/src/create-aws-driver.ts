import type { ClusterSpec, Driver, DriverCapabilities, LockDriver } from '@berth/core';
import { createAwsContext, type AwsContext } from './aws-context.js';
import { resolveAwsDriverConfig, type AwsDriverOptions, type ResolvedAwsDriverConfig } from './aws-driver-options.js';
import { deleteNode } from './delete-node.js';
import { createDynamoDbLock, ensureLockTable } from './dynamodb-lock.js';
import { ensureNode } from './ensure-node.js';
import { iamPolicyFor, type IamPolicyDocument, type IamPolicyOptions } from './iam-policy.js';
import { observeCluster } from './observe.js';
import { preflight, type PreflightReport } from './preflight.js';
import { completeLifecycle, replaceInstance } from './replace-instance.js';
import { setDns } from './set-dns.js';
import { createSystemClock } from './system-clock.js';
import { resizeVolume, snapshotVolume } from './volume-operations.js';

/** The AWS driver: the core {@link Driver} plus AWS-only helpers. */
export interface AwsDriver extends Driver {
  readonly config: ResolvedAwsDriverConfig;
  /** Every problem the account has with this spec, in one report. Changes nothing. */
  preflight(spec: ClusterSpec, options?: { signal?: AbortSignal }): Promise<PreflightReport>;
  /** Least-privilege policies for the controller and the nodes (pure; no call). */
  iamPolicyFor(spec: ClusterSpec, options?: Omit<IamPolicyOptions, 'lockTable'>): { readonly controller: IamPolicyDocument; readonly node: IamPolicyDocument };
  /** Creates the lock table if missing and waits until it is ACTIVE. */
  ensureLockTable(options?: { signal?: AbortSignal }): Promise<{ tableName: string; created: boolean }>;
  apiCallCounts(): Readonly<Record<string, number>>;
  resetApiCallCounts(): void;
  /** Closes the SDK clients' sockets (clients passed in `clients` are closed too). */
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
  readonly #ctx: AwsContext;

  constructor(options: AwsDriverOptions) {
    this.config = resolveAwsDriverConfig(options);
    this.capabilities = this.config.capabilities;
    this.#ctx = createAwsContext(options, this.config, options.clock ?? createSystemClock());
    this.lock = createDynamoDbLock(this.#ctx);
  }

  observe(spec: ClusterSpec, options: { scope?: 'full' | 'instances'; signal?: AbortSignal } = {}) {
    return observeCluster(this.#ctx, spec, options.scope ?? 'full', options.signal);
  }

  ensureNode(spec: ClusterSpec, nodeId: string, options: { signal?: AbortSignal } = {}) {
    return ensureNode(this.#ctx, spec, nodeId, options.signal);
  }

  replaceInstance(spec: ClusterSpec, nodeId: string, instanceId: string, options: { signal?: AbortSignal } = {}) {
    return replaceInstance(this.#ctx, spec, nodeId, instanceId, options.signal);
  }

  completeLifecycle(spec: ClusterSpec, nodeId: string, instanceId: string, result: 'CONTINUE' | 'ABANDON', options: { signal?: AbortSignal } = {}) {
    return completeLifecycle(this.#ctx, spec, nodeId, instanceId, result, options.signal);
  }

  setDns(spec: ClusterSpec, records: readonly { name: string; values: readonly string[] }[], options: { signal?: AbortSignal } = {}) {
    return setDns(this.#ctx, spec, records, options.signal);
  }

  snapshotVolume(spec: ClusterSpec, nodeId: string, options: { signal?: AbortSignal; description?: string; wait?: boolean } = {}) {
    return snapshotVolume(this.#ctx, spec, nodeId, options);
  }

  resizeVolume(spec: ClusterSpec, nodeId: string, sizeGiB: number, options: { signal?: AbortSignal } = {}) {
    return resizeVolume(this.#ctx, spec, nodeId, sizeGiB, options.signal);
  }

  deleteNode(spec: ClusterSpec, nodeId: string, options: { signal?: AbortSignal; policy?: 'retain' | 'snapshot' | 'delete' } = {}) {
    return deleteNode(this.#ctx, spec, nodeId, options.policy, options.signal);
  }

  preflight(spec: ClusterSpec, options: { signal?: AbortSignal } = {}) {
    return preflight(this.#ctx, spec, options.signal);
  }

  iamPolicyFor(spec: ClusterSpec, options: Omit<IamPolicyOptions, 'lockTable'> = {}) {
    return iamPolicyFor(spec, { ...options, lockTable: this.config.lockTable });
  }

  ensureLockTable(options: { signal?: AbortSignal } = {}) {
    return ensureLockTable(this.#ctx, options.signal);
  }

  apiCallCounts() {
    return this.#ctx.counts();
  }

  resetApiCallCounts() {
    this.#ctx.resetCounts();
  }

  destroy() {
    for (const c of [this.#ctx.ec2, this.#ctx.asg, this.#ctx.r53, this.#ctx.ddb]) c.destroy();
  }
}
