import type { S3Client } from '@aws-sdk/client-s3';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client, EC2ClientConfig } from '@aws-sdk/client-ec2';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { BerthConfigError, DEFAULT_CAPABILITIES, type Clock, type DriverCapabilities } from '@berth/core';

/** Options of {@link createAwsDriver}. Every field but `region` is optional. */
export interface AwsDriverOptions {
  /** The cluster's region (`spec.region` must match). */
  readonly region: string;
  /** SDK credentials or a provider; default: the SDK's default chain. */
  readonly credentials?: EC2ClientConfig['credentials'];
  /** One endpoint for every service, e.g. `http://127.0.0.1:5000` for moto. Default: AWS. */
  readonly endpoint?: string;
  /**
   * Bring your own clients: SDK v3 clients, or any object with the client's
   * `send(command, { abortSignal })` (a simulated AWS, a recording fake). The driver neither
   * configures them nor touches their middleware (`region`, `endpoint`, `credentials` and
   * `maxAttempts` apply only to the clients it makes) and calls `destroy()` where they have one.
   */
  readonly clients?: AwsDriverClients;
  /**
   * Attempts per SDK call, for the clients the driver makes. Default 1: the core runtime
   * wrapper already retries retryable errors with backoff and jitter, and SDK retries inside
   * that would multiply them. `apiCallCounts()` counts the driver's calls (one per `send`),
   * not the SDK's attempts inside one: with more than 1, retried requests are not counted.
   */
  readonly maxAttempts?: number;
  /** The DynamoDB table holding cluster leases. Default `berth-locks`. */
  readonly lockTable?: string;
  /**
   * `'moto'`: the local emulator. Sets the capabilities moto lacks (`lifecycleHooks`,
   * `attachmentRules`, `phaseReporting`: false) and short polling intervals.
   */
  readonly emulator?: 'moto';
  /**
   * Change notifications (opt-in): an SQS queue per cluster (`berth-<cluster>-changes`, or
   * `queueName` — then one driver per cluster) fed by an EventBridge rule on the cluster's
   * Auto Scaling launch/terminate events. `ensureNode` creates them (once per cluster and
   * driver), `waitForChange` long-polls the queue, and `capabilities.changeNotifications`
   * becomes true — except with `emulator: 'moto'`, whose Auto Scaling emits no events (force
   * it with `capabilities: { changeNotifications: true }`). Default false.
   */
  readonly changeQueue?: boolean | { readonly queueName?: string };
  /** Overrides on top of the defaults (and of the emulator's). */
  readonly capabilities?: Partial<DriverCapabilities>;
  /** Default: {@link createSystemClock}. */
  readonly clock?: Clock;
  /** Between polls of snapshots, terminations and detaches. Default 5000 ms (moto: 20 ms). */
  readonly pollIntervalMs?: number;
  /** How long a wait (snapshot, termination, detach, table) may take. Default 30 min (moto: 10 s). */
  readonly waitTimeoutMs?: number;
  /**
   * Page size for the observation's describes. Default: each API's maximum, so that up to
   * ~100 nodes cost one call per API. Lower it to exercise pagination.
   */
  readonly pageSize?: number;
  /**
   * `replaceInstance` must know the instance is in the node's group (TerminateInstanceInAutoScalingGroup
   * takes no group name). When one of the driver's own group describes (a controller's look)
   * showed it there, InService, at most this long ago, that sighting stands for the
   * `DescribeAutoScalingInstances` it would otherwise make; each sighting serves once. 0: always
   * describe. Default 30 000 ms (the controller's look is at most `freshnessMs`, 10 s, old then).
   */
  readonly groupSightingMaxAgeMs?: number;
  /**
   * A roll's template-only update (a node whose launch template alone changes) finds the node's
   * templates in what the driver knows of the cluster's: one `DescribeLaunchTemplates` of the
   * whole cluster (by its tag, 200 a page), kept up to date with the driver's own creates and
   * deletes and described again when AWS disagrees (template-cache.ts). Known templates older
   * than this are described again. 0: describe the node's templates every time. Default
   * 3 600 000 ms (an hour: one describe per roll).
   */
  readonly templateCacheMaxAgeMs?: number;
}

/**
 * What the driver needs of a client: its `send`, and its `destroy` if it has one. An SDK v3
 * client fits; so does a plain object that dispatches on the command it is sent.
 */
export type ClientLike<C extends { send: unknown; destroy: unknown }> = Pick<C, 'send'> & Partial<Pick<C, 'destroy'>>;

/** The clients the driver talks through (`AwsDriverOptions.clients`); each is optional. */
export interface AwsDriverClients {
  readonly ec2?: ClientLike<EC2Client>;
  readonly autoScaling?: ClientLike<AutoScalingClient>;
  /**
   * Route 53 is global per partition: the driver signs its own client for us-east-1,
   * cn-northwest-1 (regions `cn-*`) or us-gov-west-1 (`us-gov-*`); one passed here must be too.
   */
  readonly route53?: ClientLike<Route53Client>;
  readonly dynamodb?: ClientLike<DynamoDBClient>;
  readonly sqs?: ClientLike<SQSClient>;
  readonly eventBridge?: ClientLike<EventBridgeClient>;
  /** Elastic Load Balancing v2: the target groups of `spec.loadBalancer`. */
  readonly elbv2?: ClientLike<ElasticLoadBalancingV2Client>;
  /** SSM Parameter Store: preflight checks that the files' parameters exist (never reads a value). */
  readonly ssm?: ClientLike<SSMClient>;
  /** S3: preflight checks that the files' objects exist (lists, never reads them). */
  readonly s3?: ClientLike<S3Client>;
}

export interface ResolvedAwsDriverConfig {
  readonly region: string;
  readonly endpoint: string | null;
  readonly maxAttempts: number;
  readonly lockTable: string;
  readonly emulator: 'moto' | null;
  readonly capabilities: DriverCapabilities;
  readonly pollIntervalMs: number;
  readonly waitTimeoutMs: number;
  readonly pageSize: number | null;
  readonly groupSightingMaxAgeMs: number;
  readonly templateCacheMaxAgeMs: number;
  /** Null when change notifications are off; `queueName` null means `berth-<cluster>-changes`. */
  readonly changeQueue: { readonly queueName: string | null } | null;
}

/** What the AWS driver can do on AWS: the core defaults, ELBv2 target groups, and pausing nodes. */
export const AWS_CAPABILITIES: DriverCapabilities = Object.freeze({
  ...DEFAULT_CAPABILITIES,
  loadBalancers: true,
  pauseNodes: true,
  adoption: true,
});

/** Capabilities of moto 5.2.1, which launches instantly, ignores hooks and attachment rules and runs no bootstrap. */
export const MOTO_CAPABILITIES: DriverCapabilities = Object.freeze({
  ...AWS_CAPABILITIES,
  lifecycleHooks: false,
  attachmentRules: false,
  phaseReporting: false,
});

export function resolveAwsDriverConfig(options: AwsDriverOptions): ResolvedAwsDriverConfig {
  const issues: { path: string; message: string }[] = [];
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(options.region ?? '')) issues.push({ path: 'region', message: `must be an AWS region like us-east-1; got '${options.region}'` });
  const maxAttempts = options.maxAttempts ?? 1;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) issues.push({ path: 'maxAttempts', message: 'must be a whole number ≥ 1' });
  const pageSize = options.pageSize ?? null;
  if (pageSize !== null && (!Number.isInteger(pageSize) || pageSize < 5)) issues.push({ path: 'pageSize', message: 'must be a whole number ≥ 5 (the smallest page EC2 accepts)' });
  const groupSightingMaxAgeMs = options.groupSightingMaxAgeMs ?? 30_000;
  if (!Number.isFinite(groupSightingMaxAgeMs) || groupSightingMaxAgeMs < 0) issues.push({ path: 'groupSightingMaxAgeMs', message: `must be a number of ms ≥ 0; got ${String(options.groupSightingMaxAgeMs)}` });
  const templateCacheMaxAgeMs = options.templateCacheMaxAgeMs ?? 3_600_000;
  if (!Number.isFinite(templateCacheMaxAgeMs) || templateCacheMaxAgeMs < 0) issues.push({ path: 'templateCacheMaxAgeMs', message: `must be a number of ms ≥ 0; got ${String(options.templateCacheMaxAgeMs)}` });
  if (options.endpoint !== undefined && !/^https?:\/\//.test(options.endpoint)) issues.push({ path: 'endpoint', message: `must be a URL like http://127.0.0.1:5000; got '${options.endpoint}'` });
  const changeQueue = options.changeQueue === undefined || options.changeQueue === false ? null : { queueName: options.changeQueue === true ? null : (options.changeQueue.queueName ?? null) };
  if (changeQueue !== null && changeQueue.queueName !== null && !/^[A-Za-z0-9_-]{1,80}$/.test(changeQueue.queueName)) {
    issues.push({ path: 'changeQueue.queueName', message: `must be 1–80 letters, digits, '-' or '_' (an SQS standard queue name); got '${changeQueue.queueName}'` });
  }
  if (changeQueue === null && options.capabilities?.changeNotifications === true) {
    issues.push({ path: 'capabilities.changeNotifications', message: 'needs the `changeQueue` option: without the queue there is nothing to wait on' });
  }
  if (issues.length > 0) throw new BerthConfigError(issues, 'AWS driver options');
  const moto = options.emulator === 'moto';
  // moto's Auto Scaling emits no EventBridge events, so the queue would stay empty there.
  const changeNotifications = changeQueue !== null && !moto;
  return Object.freeze({
    region: options.region,
    endpoint: options.endpoint ?? null,
    maxAttempts,
    lockTable: options.lockTable ?? 'berth-locks',
    emulator: moto ? 'moto' : null,
    capabilities: Object.freeze({ ...(moto ? MOTO_CAPABILITIES : AWS_CAPABILITIES), changeNotifications, ...options.capabilities }),
    pollIntervalMs: options.pollIntervalMs ?? (moto ? 20 : 5000),
    waitTimeoutMs: options.waitTimeoutMs ?? (moto ? 10_000 : 30 * 60_000),
    pageSize,
    groupSightingMaxAgeMs,
    templateCacheMaxAgeMs,
    changeQueue: changeQueue === null ? null : Object.freeze(changeQueue),
  });
}
