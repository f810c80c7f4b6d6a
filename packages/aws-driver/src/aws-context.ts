import { AutoScalingClient, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SQSClient } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { BerthTimeoutError, throwIfAborted, type Clock } from '@berth/core';
import type { AwsDriverOptions, ClientLike, ResolvedAwsDriverConfig } from './aws-driver-options.js';
import { DisruptionNotices } from './disruption-notices.js';
import { InstanceSightings } from './instance-sightings.js';
import { TemplateCache } from './template-cache.js';
import { mapAwsError } from './map-aws-error.js';
import { route53SigningRegion } from './partition.js';

/** Everything the driver's operations share. Internal. */
export interface AwsContext {
  readonly ec2: ClientLike<EC2Client>;
  readonly asg: ClientLike<AutoScalingClient>;
  readonly r53: ClientLike<Route53Client>;
  readonly ddb: ClientLike<DynamoDBClient>;
  readonly sqs: ClientLike<SQSClient>;
  readonly events: ClientLike<EventBridgeClient>;
  readonly elbv2: ClientLike<ElasticLoadBalancingV2Client>;
  /** SSM and S3 (preflight's file-source check), made on first use. */
  readonly ssm: ClientLike<SSMClient>;
  readonly s3: ClientLike<S3Client>;
  readonly clock: Clock;
  readonly config: ResolvedAwsDriverConfig;
  /** Root device names of AMIs this driver looked up (an AMI's never changes). */
  readonly rootDevices: Map<string, string>;
  /** Disruptions AWS announced for the driver's instances, and which instances are whose. */
  readonly notices: DisruptionNotices;
  /** Which group each instance was in, per the driver's own DescribeAutoScalingGroups answers (replace-instance.ts). */
  readonly sightings: InstanceSightings;
  /** The clusters' launch templates as this driver knows them (template-cache.ts). */
  readonly templates: TemplateCache;
  /**
   * Runs one SDK call, counting it under `operation` and mapping its failure to a
   * BerthDriverError. `afterCreate` marks calls that follow a create, where NotFound means
   * "not visible yet".
   */
  call<T>(operation: string, fn: (abortSignal: AbortSignal | undefined) => Promise<T>, opts?: CallOptions): Promise<T>;
  /** Remembers an id this driver just created (for eventual-consistency classification). */
  created(id: string): void;
  /** Polls `check` until it returns a value other than undefined, or times out. */
  waitFor<T>(what: string, check: () => Promise<T | undefined>, signal?: AbortSignal): Promise<T>;
  counts(): Readonly<Record<string, number>>;
  resetCounts(): void;
  /** Destroys every client made or given (SSM and S3 only when they were). */
  destroyClients(): void;
}

export interface CallOptions {
  readonly signal?: AbortSignal | undefined;
  readonly afterCreate?: boolean;
}

const RECENT_MS = 5 * 60_000;

export function createAwsContext(options: AwsDriverOptions, config: ResolvedAwsDriverConfig, clock: Clock): AwsContext {
  const base = {
    region: config.region,
    maxAttempts: config.maxAttempts,
    ...(config.endpoint !== null && { endpoint: config.endpoint }),
    // A copy of static credentials: the SDK writes a marker into the object (fails if frozen).
    ...(options.credentials !== undefined && { credentials: typeof options.credentials === 'function' ? options.credentials : { ...options.credentials } }),
  };
  const ec2 = options.clients?.ec2 ?? new EC2Client(base);
  const asg = options.clients?.autoScaling ?? new AutoScalingClient(base);
  // Route 53 is global per partition: sign for its region (us-east-1 would fail in aws-cn and aws-us-gov).
  const r53 = options.clients?.route53 ?? new Route53Client({ ...base, region: route53SigningRegion(config.region) });
  const ddb = options.clients?.dynamodb ?? new DynamoDBClient(base);
  const sqs = options.clients?.sqs ?? new SQSClient(base);
  const events = options.clients?.eventBridge ?? new EventBridgeClient(base);
  const elbv2 = options.clients?.elbv2 ?? new ElasticLoadBalancingV2Client(base);
  let ssm = options.clients?.ssm;
  // A custom endpoint (moto) serves buckets by path, not by virtual host.
  let s3 = options.clients?.s3;

  // Counted here, not by a client middleware: a client passed in may be any object with `send`.
  const counts = new Map<string, number>();

  const sightings = new InstanceSightings(config.groupSightingMaxAgeMs);
  const recent = new Map<string, number>();
  const recentlyCreated = (message: string): boolean => {
    const now = clock.now();
    for (const [id, at] of recent) {
      if (now - at > RECENT_MS) recent.delete(id);
      else if (message.includes(id)) return true;
    }
    return false;
  };

  const ctx: AwsContext = {
    ec2,
    asg,
    r53,
    ddb,
    sqs,
    events,
    elbv2,
    get ssm() {
      ssm ??= new SSMClient(base);
      return ssm;
    },
    get s3() {
      s3 ??= new S3Client({ ...base, forcePathStyle: config.endpoint !== null });
      return s3;
    },
    clock,
    config,
    rootDevices: new Map(),
    notices: new DisruptionNotices(),
    sightings,
    templates: new TemplateCache(),
    async call(operation, fn, opts = {}) {
      throwIfAborted(opts.signal);
      counts.set(operation, (counts.get(operation) ?? 0) + 1);
      const sentAtMs = clock.now();
      try {
        const result = await fn(opts.signal);
        // Every group describe, whoever made it (observe, ensureNode), tells where instances are.
        if (operation === 'DescribeAutoScalingGroups') sightings.learn((result as { AutoScalingGroups?: AutoScalingGroup[] }).AutoScalingGroups, sentAtMs);
        return result;
      } catch (err) {
        throw mapAwsError(operation, err, { recentlyCreated, afterCreate: opts.afterCreate ?? false });
      }
    },
    created(id) {
      recent.set(id, clock.now());
    },
    async waitFor(what, check, signal) {
      const deadline = clock.now() + config.waitTimeoutMs;
      for (;;) {
        throwIfAborted(signal);
        const v = await check();
        if (v !== undefined) return v;
        if (clock.now() >= deadline) {
          throw new BerthTimeoutError(`Timed out after ${config.waitTimeoutMs} ms waiting for ${what}. Check it in the AWS console, then run the operation again.`);
        }
        await clock.sleep(config.pollIntervalMs, signal);
      }
    },
    counts: () => Object.freeze(Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)))),
    resetCounts: () => counts.clear(),
    destroyClients() {
      for (const c of [ec2, asg, r53, ddb, sqs, events, elbv2, ssm, s3]) c?.destroy?.();
    },
  };
  return ctx;
}
