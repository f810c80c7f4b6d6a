import { BerthDriverError, throwIfAborted } from '@berth/core';
import type { SimContext } from './sim-context.js';
import { draw } from './sim-context.js';
import type { SimLimits } from './options.js';
import { TokenBucket } from './token-bucket.js';

export type AwsService = 'ec2' | 'autoscaling' | 'route53' | 'dynamodb' | 'sqs';
type LimitKey = keyof SimLimits;

const AUTOSCALING_OPS = new Set([
  'CreateAutoScalingGroup',
  'UpdateAutoScalingGroup',
  'DeleteAutoScalingGroup',
  'DescribeAutoScalingGroups',
  'DescribeScalingActivities',
  'TerminateInstanceInAutoScalingGroup',
  'CompleteLifecycleAction',
  'RecordLifecycleActionHeartbeat',
  'PutLifecycleHook',
  'DescribeLifecycleHooks',
  'SuspendProcesses',
  'ResumeProcesses',
  'CreateOrUpdateTags',
]);
const ROUTE53_OPS = new Set(['ChangeResourceRecordSets', 'ListResourceRecordSets', 'GetChange']);
const DYNAMODB_OPS = new Set(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem']);
const SQS_OPS = new Set(['ReceiveMessage', 'DeleteMessageBatch', 'CreateQueue']);

export function serviceOf(operation: string): AwsService {
  if (AUTOSCALING_OPS.has(operation)) return 'autoscaling';
  if (ROUTE53_OPS.has(operation)) return 'route53';
  if (DYNAMODB_OPS.has(operation)) return 'dynamodb';
  if (SQS_OPS.has(operation)) return 'sqs';
  return 'ec2';
}

/** Who made a call: the controller's driver, or an instance's bootstrap (counted apart). */
export type Caller = 'controller' | 'agent';

/**
 * The simulated API front door: per-call latency, token buckets, injected API errors and
 * call accounting by operation name. The world's effect happens when the response is sent.
 */
export class AwsApi {
  readonly #ctx: SimContext;
  readonly #buckets: Record<LimitKey, TokenBucket>;
  readonly controllerCounts: Record<string, number> = {};
  readonly agentCounts: Record<string, number> = {};

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
    const now = ctx.scheduler.nowMs;
    const l = ctx.options.limits;
    this.#buckets = {
      ec2Describe: new TokenBucket(l.ec2Describe, now),
      ec2Mutate: new TokenBucket(l.ec2Mutate, now),
      autoscaling: new TokenBucket(l.autoscaling, now),
      route53: new TokenBucket(l.route53, now),
    };
  }

  /** Tokens left in each bucket now (for inspection and tests). */
  bucketTokens(): Record<LimitKey, number> {
    const now = this.#ctx.scheduler.nowMs;
    return {
      ec2Describe: this.#buckets.ec2Describe.tokens(now),
      ec2Mutate: this.#buckets.ec2Mutate.tokens(now),
      autoscaling: this.#buckets.autoscaling.tokens(now),
      route53: this.#buckets.route53.tokens(now),
    };
  }

  #latency(service: AwsService, operation: string): number {
    const t = this.#ctx.options.timings.apiLatencyMs;
    const rng = this.#ctx.rng.latency;
    switch (service) {
      case 'ec2':
        return draw(rng, operation.startsWith('Describe') ? t.ec2Describe : t.ec2Mutate);
      case 'autoscaling':
        return draw(rng, t.autoscaling);
      case 'route53':
        return draw(rng, t.route53);
      case 'dynamodb':
        return draw(rng, t.dynamodb);
      case 'sqs':
        return draw(rng, t.sqs);
    }
  }

  /** Decides at request time whether the call is refused (throttled or an injected error). */
  #admission(service: AwsService, operation: string): BerthDriverError | null {
    const now = this.#ctx.scheduler.nowMs;
    const key: LimitKey | null =
      service === 'ec2' ? (operation.startsWith('Describe') ? 'ec2Describe' : 'ec2Mutate') : service === 'autoscaling' || service === 'route53' ? service : null;
    if (key !== null && !this.#buckets[key].tryTake(now)) return throttleError(service, operation, 'rate limit (token bucket empty)');
    const faults = this.#ctx.faults.apiErrors;
    for (let i = faults.length - 1; i >= 0; i--) {
      const f = faults[i];
      if (f === undefined) continue;
      if (now >= f.untilMs) {
        faults.splice(i, 1);
        continue;
      }
      if (f.operations !== null && !f.operations.includes(operation)) continue;
      if (!this.#ctx.rng.faults.chance(f.rate)) continue;
      this.#ctx.trace.record('fault.api-error', { operation, code: f.code });
      if (f.code === 'throttle') return throttleError(service, operation, 'injected throttling');
      return new BerthDriverError(operation, service === 'ec2' ? 'InternalError' : 'ServiceUnavailable', 'injected server error (5xx)', {
        retryable: true,
      });
    }
    return null;
  }

  /** A controller call: counted, throttled, delayed; `effect` runs when the response is sent. */
  async call<T>(operation: string, signal: AbortSignal | undefined, effect: () => T): Promise<T> {
    const maxAttempts = this.#ctx.options.sdkMaxAttempts;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#attempt(operation, signal, effect);
      } catch (e) {
        if (!(e instanceof BerthDriverError) || !e.retryable || attempt >= maxAttempts) throw e;
        // The SDK's standard retry: full jitter over an exponential base, longer for throttling.
        const baseMs = (e.throttling ? 500 : 100) * 2 ** (attempt - 1);
        await this.#ctx.scheduler.sleep(Math.round(this.#ctx.rng.latency.next() * Math.min(20_000, baseMs)), signal, `${operation} retry`);
      }
    }
  }

  async #attempt<T>(operation: string, signal: AbortSignal | undefined, effect: () => T): Promise<T> {
    throwIfAborted(signal);
    this.controllerCounts[operation] = (this.controllerCounts[operation] ?? 0) + 1;
    const service = serviceOf(operation);
    const refused = this.#admission(service, operation);
    await this.#ctx.scheduler.sleep(this.#latency(service, operation), signal, operation);
    if (refused) throw refused;
    return effect();
  }

  /** A call made by an instance's bootstrap: a plain callback on the event queue. */
  agentCall<T>(operation: string, effect: () => T, done: (err: BerthDriverError | null, value: T | undefined) => void): void {
    this.agentCounts[operation] = (this.agentCounts[operation] ?? 0) + 1;
    const service = serviceOf(operation);
    const refused = this.#admission(service, operation);
    this.#ctx.scheduler.after(this.#latency(service, operation), `agent ${operation}`, () => {
      if (refused) return done(refused, undefined);
      let value: T;
      try {
        value = effect();
      } catch (e) {
        if (e instanceof BerthDriverError) return done(e, undefined);
        throw e;
      }
      done(null, value);
    });
  }
}

export function throttleError(service: AwsService, operation: string, why: string): BerthDriverError {
  const code = service === 'ec2' ? 'RequestLimitExceeded' : 'Throttling';
  return new BerthDriverError(operation, code, `Rate exceeded (${why}); retry with backoff.`, { throttling: true });
}

/** A non-retryable AWS error thrown by the world's operations. */
export function awsError(operation: string, code: string, message: string, retryable = false): BerthDriverError {
  return new BerthDriverError(operation, code, message, { retryable });
}
