import { BerthAbortError } from '@berth/core';
import type { SimLimits } from '../options.js';
import { draw, type SimContext } from '../sim-context.js';
import { TokenBucket } from '../token-bucket.js';
import { awsServiceError, SimFault, type ServiceName } from './aws-error.js';
import type { IamDenial } from './iam/iam-decision.js';
import type { Authorizer, Caller, ServiceContext, SimService } from './service.js';

type LimitKey = keyof SimLimits;

/** Settles one request: `err` is an SDK-shaped service error (or an abort), else `output`. */
export type RequestDone = (err: Error | null, output: unknown) => void;

/** One request the simulated account answered (`sim.onApiCall`). */
export interface ApiCall {
  /** Virtual time the request arrived and was answered. */
  readonly sentAtMs: number;
  readonly answeredAtMs: number;
  /** `controller` (the driver, `sim.aws`, `sim.awsAs`) or `instance` (a bootstrap, with the instance role). */
  readonly callerKind: 'controller' | 'instance';
  readonly principalArn: string;
  readonly roleName: string;
  /** The calling instance, for instance-role callers. */
  readonly instanceId: string | null;
  readonly service: ServiceName;
  readonly operation: string;
  /** The request's input as the service received it (shared: do not modify). */
  readonly input: Readonly<Record<string, unknown>>;
  /** The AWS error code when the call failed (`UnauthorizedOperation`, `VolumeInUse`...), else null. */
  readonly errorCode: string | null;
}

export type ApiCallListener = (call: ApiCall) => void;

/**
 * The simulated AWS front door, shared by every client: each request is counted, may be refused
 * by a token bucket or an injected fault, is authorized as IAM would authorize it for its
 * caller, waits its latency in virtual time, and then runs the service's operation against the
 * world. Responses keep the order of their requests' arrival (a reserved sequence number), so
 * an IAM evaluation that takes wall time changes nothing in the run.
 */
export class AwsGateway {
  readonly #ctx: SimContext;
  readonly #services: Readonly<Record<ServiceName, SimService>>;
  readonly #authorizers: Readonly<Record<ServiceName, Readonly<Record<string, Authorizer>>>>;
  readonly #buckets: Record<LimitKey, TokenBucket>;
  /** Calls by caller kind and operation (`controller` and `instance`). */
  readonly counts: { readonly controller: Record<string, number>; readonly instance: Record<string, number> } = { controller: {}, instance: {} };
  readonly #listeners: ApiCallListener[] = [];

  constructor(ctx: SimContext, services: Readonly<Record<ServiceName, SimService>>, authorizers: Readonly<Record<ServiceName, Readonly<Record<string, Authorizer>>>>) {
    this.#ctx = ctx;
    this.#services = services;
    this.#authorizers = authorizers;
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

  /** Calls `listener` with every request once it is answered. Returns an unsubscribe. */
  onApiCall(listener: ApiCallListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  /** `done`, reporting the answered call to the listeners first (only when there are any). */
  #reporting(caller: Caller, service: ServiceName, operation: string, input: Record<string, unknown>, done: RequestDone): RequestDone {
    if (this.#listeners.length === 0) return done;
    const sentAtMs = this.#ctx.scheduler.nowMs;
    return (err, out) => {
      const call: ApiCall = {
        sentAtMs,
        answeredAtMs: this.#ctx.scheduler.nowMs,
        callerKind: caller.kind,
        principalArn: caller.principalArn,
        roleName: caller.roleName,
        instanceId: caller.instanceId ?? null,
        service,
        operation,
        input,
        errorCode: err === null ? null : ((err as { Code?: string; name?: string }).Code ?? err.name),
      };
      for (const l of [...this.#listeners]) l(call);
      done(err, out);
    };
  }

  /** Whether the simulated service implements `operation`. */
  implements(service: ServiceName, operation: string): boolean {
    return Object.hasOwn(this.#services[service].operations, operation);
  }

  /**
   * A request from user code (an SDK client's `send`): resolves with the output (passed through
   * `output` first, when given: the client's `$metadata`, without a promise hop of its own) or
   * rejects with the SDK error.
   */
  request(caller: Caller, service: ServiceName, operation: string, input: Record<string, unknown>, signal?: AbortSignal, output?: (out: unknown) => unknown): Promise<unknown> {
    const w = this.#ctx.scheduler.waiter<unknown>(`${service}:${operation}`, signal);
    if (w.settled) return w.promise;
    this.#dispatch(caller, service, operation, input, (err, out) => (err ? w.reject(err) : w.resolve(output ? output(out) : out)), signal);
    return w.promise;
  }

  /** A request from world code (an instance's bootstrap): `done` is called from the event queue. */
  requestCallback(caller: Caller, service: ServiceName, operation: string, input: Record<string, unknown>, done: RequestDone): void {
    this.#dispatch(caller, service, operation, input, done, undefined);
  }

  #dispatch(caller: Caller, service: ServiceName, operation: string, input: Record<string, unknown>, answer: RequestDone, signal: AbortSignal | undefined): void {
    const { scheduler } = this.#ctx;
    const done = this.#reporting(caller, service, operation, input, answer);
    const counts = this.counts[caller.kind];
    counts[operation] = (counts[operation] ?? 0) + 1;
    const ctx = this.#serviceContext(caller, service, operation, signal);
    const handler = this.#services[service].operations[operation];
    const latencyMs = this.#latency(service, operation);
    const seq = scheduler.reserveSeq();
    if (!handler) {
      const e = awsServiceError(service, service === 'ec2' ? 'InvalidAction' : 'UnknownOperationException', `The simulated ${service} does not implement ${operation}. Berth's simulator answers the operations Berth and its bootstrap use; add ${operation} to packages/sim-driver/src/aws/services/${service}.ts if you need it.`);
      scheduler.atSeq(scheduler.nowMs + latencyMs, seq, `${operation} (unknown)`, () => done(e, undefined));
      return;
    }
    const refused = this.#admission(service, operation);
    // Authorized on arrival, as AWS does; the decision may take wall time (a hold keeps virtual time still).
    let denial: IamDenial | null = null;
    let evaluationError: unknown = null;
    if (refused === null && this.#ctx.iam.evaluator !== null) {
      const authorizer = this.#authorizers[service][operation];
      if (!authorizer) throw new Error(`simulated ${service}:${operation} has no authorizer: every operation must say how IAM authorizes it (src/aws/iam/)`);
      const decided = this.#ctx.iam.authorize(caller, authorizer(input, ctx));
      if (decided instanceof Promise) {
        scheduler.hold(
          decided.then(
            (d) => {
              denial = d;
            },
            (e: unknown) => {
              evaluationError = e;
            },
          ),
        );
      } else denial = decided;
    }
    scheduler.atSeq(scheduler.nowMs + latencyMs, seq, operation, () => {
      if (signal?.aborted) return; // the waiter already rejected; the request never arrived
      if (refused) return done(refused, undefined);
      if (evaluationError !== null) return done(evaluationError instanceof Error ? evaluationError : new Error(String(evaluationError)), undefined);
      if (denial && !(denial.onBehalfOf === 'kms' && service === 'ec2' && operation === 'CreateVolume')) {
        return done(this.#accessDenied(service, operation, caller, denial, input), undefined);
      }
      let out: unknown;
      try {
        out = handler(input, ctx);
      } catch (e) {
        return done(this.#toServiceError(service, operation, e), undefined);
      }
      // KMS-3: EBS checks the key after CreateVolume answers; a volume whose key the caller may not use vanishes.
      if (denial && typeof (out as { VolumeId?: unknown }).VolumeId === 'string') this.#ctx.ec2.failCreation((out as { VolumeId: string }).VolumeId, `${denial.action} denied`);
      if (out instanceof Promise) out.then((v: unknown) => done(null, v), (e: unknown) => done(this.#toServiceError(service, operation, e), undefined));
      else done(null, out);
    });
  }

  #serviceContext(caller: Caller, service: ServiceName, operation: string, signal: AbortSignal | undefined): ServiceContext {
    const a = this.#ctx.account;
    return { sim: this.#ctx, caller, service, operation, region: a.region, accountId: a.accountId, partition: a.partition, ...(signal && { signal }) };
  }

  #toServiceError(service: ServiceName, operation: string, e: unknown): Error {
    if (e instanceof SimFault) return awsServiceError(service, e.code, e.message, e.httpStatusCode === undefined ? {} : { httpStatusCode: e.httpStatusCode });
    if (e instanceof BerthAbortError) return e;
    // A bug in the simulator, not an AWS answer: let it surface as such.
    const err = e instanceof Error ? e : new Error(String(e));
    err.message = `simulator error in ${service}:${operation}: ${err.message}`;
    throw err;
  }

  #accessDenied(service: ServiceName, operation: string, caller: Caller, d: IamDenial, input: Record<string, unknown>): Error {
    if (d.onBehalfOf === 'kms' && service === 'ec2' && operation === 'AttachVolume') {
      // KMS-3: EC2 cannot use the volume's key with the caller's permissions.
      return awsServiceError(service, 'CustomerKeyHasBeenRevoked', `Volume ${String(input['VolumeId'])} cannot be attached. The encrypted volume was unable to access the KMS master key. (${d.action} on ${d.resource} was denied for ${caller.principalArn})`);
    }
    const why = d.explicit ? `with an explicit deny in an identity-based policy` : `because no identity-based policy allows the ${d.action} action`;
    // IAM-12: an action without resource-level permissions (checked on `*`) names no resource.
    const on = d.resource === '*' ? '' : ` on resource: ${d.resource}`;
    const base = `User: ${caller.principalArn} is not authorized to perform: ${d.action}${on} ${why}`;
    switch (service) {
      case 'ec2':
        return awsServiceError(service, 'UnauthorizedOperation', `You are not authorized to perform this operation. ${base}. Encoded authorization failure message: (simulated; decoded above)`);
      case 'dynamodb':
      case 'events':
      case 'ssm':
      case 'fis':
        return awsServiceError(service, 'AccessDeniedException', base);
      default:
        return awsServiceError(service, 'AccessDenied', base);
    }
  }

  #latency(service: ServiceName, operation: string): number {
    const t = this.#ctx.options.timings.apiLatencyMs;
    const rng = this.#ctx.rng.latency;
    switch (service) {
      case 'ec2':
        return draw(rng, operation.startsWith('Describe') ? t.ec2Describe : t.ec2Mutate);
      case 'autoscaling':
      case 'elasticloadbalancing': // a regional Query API like Auto Scaling: the same latencies
        return draw(rng, t.autoscaling);
      case 'route53':
        return draw(rng, t.route53);
      case 'dynamodb':
        return draw(rng, t.dynamodb);
      case 'sqs':
      case 'events':
      case 'ssm':
      case 's3':
      case 'fis':
      case 'cloudwatch':
        return draw(rng, t.sqs);
    }
  }

  /** Decides on arrival whether the call is refused (throttled, or an injected error). */
  #admission(service: ServiceName, operation: string): Error | null {
    const now = this.#ctx.scheduler.nowMs;
    const key: LimitKey | null =
      service === 'ec2' ? (operation.startsWith('Describe') ? 'ec2Describe' : 'ec2Mutate') : service === 'autoscaling' || service === 'route53' ? service : null;
    if (key !== null && !this.#buckets[key].tryTake(now)) return throttleError(service, 'rate limit (token bucket empty)');
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
      if (f.code === 'throttle') return throttleError(service, 'injected throttling');
      return awsServiceError(service, serverErrorCode(service), 'We encountered an internal error. Please try again. (injected 5xx)', { httpStatusCode: 500, fault: 'server' });
    }
    return null;
  }
}

function serverErrorCode(service: ServiceName): string {
  switch (service) {
    case 'ec2':
      return 'InternalError';
    case 'dynamodb':
    case 'ssm':
      return 'InternalServerError';
    case 'fis':
      return 'InternalServerException';
    case 'cloudwatch':
      return 'InternalServiceError';
    case 's3':
      return 'InternalError';
    case 'autoscaling':
    case 'route53':
    case 'sqs':
    case 'elasticloadbalancing':
      return 'InternalFailure';
    case 'events':
      return 'InternalException';
  }
}

/** The throttling answer of each service (EC2 `RequestLimitExceeded` 503; Auto Scaling `Throttling` 400, "Rate exceeded"). */
export function throttleError(service: ServiceName, why: string): Error {
  switch (service) {
    case 'ec2':
      return awsServiceError(service, 'RequestLimitExceeded', `Request limit exceeded. (${why})`, { httpStatusCode: 503 });
    case 'dynamodb':
      return awsServiceError(service, 'ThrottlingException', `Rate exceeded (${why})`);
    case 'sqs':
      return awsServiceError(service, 'RequestThrottled', `Rate exceeded (${why})`);
    case 'events':
    case 'fis':
      return awsServiceError(service, 'ThrottlingException', `Rate exceeded (${why})`);
    default:
      return awsServiceError(service, 'Throttling', `Rate exceeded (${why})`);
  }
}
