import { BerthAbortError, BerthDriverError, BerthError } from '@berth/core';

/** Codes AWS uses when a token bucket is empty (EC2, Auto Scaling, Route 53, DynamoDB). */
const THROTTLING = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceededException',
  'EC2ThrottledException',
  'BandwidthLimitExceeded',
]);

/** Server-side or transient-state failures that succeed when tried again later. */
const TRANSIENT = new Set([
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'Unavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'RequestExpired',
  'TimeoutError',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  // Auto Scaling: another activity or update is under way on the group.
  'ScalingActivityInProgress',
  'ResourceContention',
  'ResourceInUse',
  // EC2: the ENI / volume is still held by an instance that is shutting down.
  'InvalidNetworkInterface.InUse',
  'VolumeInUse',
  'IncorrectState',
  'IncorrectInstanceState',
  // Route 53: a change to the same records is still being applied.
  'PriorRequestNotComplete',
  'TransactionConflictException',
]);

export interface MapErrorContext {
  /** Ids this driver created recently: a NotFound naming one of them is eventual consistency. */
  readonly recentlyCreated?: (message: string) => boolean;
  /** The caller knows this call follows a create, so NotFound means "not visible yet". */
  readonly afterCreate?: boolean;
}

interface SdkErrorShape {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
}

/**
 * Maps an AWS SDK v3 error to a {@link BerthDriverError} whose `retryable`/`throttling` flags
 * drive the core runtime wrapper's retries. Berth errors and aborts pass through unchanged.
 */
export function mapAwsError(operation: string, err: unknown, ctx: MapErrorContext = {}): BerthError {
  if (err instanceof BerthError) return err;
  const e = (err ?? {}) as SdkErrorShape;
  if (e.name === 'AbortError') return new BerthAbortError(`${operation} was aborted.`, { cause: err });
  const message = typeof e.message === 'string' && e.message.length > 0 ? e.message : String(err);
  // An unparseable body (an HTML error page from a proxy, or from moto for an action it does
  // not implement) leaves only the HTTP status to go by.
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  let code = e.Code ?? (e.name && e.name !== 'Error' ? e.name : undefined) ?? e.code ?? (status !== undefined ? `Http${status}` : 'Unknown');
  // moto answers HTTP 500 for actions it does not implement; that will never succeed.
  if (/has not been implemented|NotImplementedError|not yet implemented/i.test(message)) code = 'NotImplemented';
  if (code === 'NotImplemented') {
    return new BerthDriverError(operation, code, `${message} (the endpoint does not implement ${operation})`, { cause: err, retryable: false });
  }

  const throttling = THROTTLING.has(code) || /rate exceeded|throttl/i.test(message) || status === 429;
  const serverSide = e.$fault === 'server' || (status !== undefined && status >= 500);
  const notFound = /NotFound$|\.NotFound\b|NoSuch/.test(code);
  const eventual = notFound && (ctx.afterCreate === true || (ctx.recentlyCreated?.(message) ?? false));
  const retryable = throttling || serverSide || TRANSIENT.has(code) || eventual;
  const hint = eventual ? ' (a resource created moments ago is not visible yet: eventual consistency)' : '';
  return new BerthDriverError(operation, code, `${message}${hint}`, { retryable, throttling, cause: err });
}

/** True when the error is AWS's "does not exist" for this kind of resource. */
export function isNotFound(err: unknown): boolean {
  return err instanceof BerthDriverError && /NotFound$|\.NotFound\b|NoSuch/.test(err.awsCode);
}

export function isAwsCode(err: unknown, ...codes: string[]): boolean {
  return err instanceof BerthDriverError && codes.includes(err.awsCode);
}
