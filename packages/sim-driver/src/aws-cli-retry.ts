import type { Prng } from '@berth/core';

/**
 * The AWS CLI's own retries, in its default retry mode ("standard"), which every `aws ...`
 * call of the bootstrap gets before the script sees an error. AWS CLI User Guide, "AWS CLI
 * retries" (https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-retries.html):
 * 3 attempts in all; retried are the transient errors RequestTimeout,
 * RequestTimeoutException, PriorRequestNotComplete (and connection errors), the throttling
 * errors listed below, and the non-descriptive HTTP status codes 500, 502, 503 and 504;
 * exponential backoff with a base factor of 2 and at most 20 seconds. Both the simulated
 * `aws` of the bridge and the simulator's node agent apply it.
 */
export const CLI_MAX_ATTEMPTS = 3;

const CLI_RETRIED_CODES = new Set([
  'RequestTimeout',
  'RequestTimeoutException',
  'PriorRequestNotComplete',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'EC2ThrottledException',
]);

const CLI_RETRIED_STATUS = new Set([500, 502, 503, 504]);

/** Whether the AWS CLI retries an error with this code and HTTP status by itself. */
export function cliRetries(code: string, httpStatusCode: number | undefined): boolean {
  return CLI_RETRIED_CODES.has(code) || (httpStatusCode !== undefined && CLI_RETRIED_STATUS.has(httpStatusCode));
}

/** The CLI's wait before its attempt `attempt + 1` (1-based `attempt`): random × 2^(attempt−1) s, at most 20 s. */
export function cliBackoffMs(attempt: number, rng: Prng): number {
  return Math.min(20_000, Math.floor(rng.next() * 2 ** (attempt - 1) * 1000));
}

/** The HTTP status an SDK-shaped error carries. */
export function httpStatusOf(err: unknown): number | undefined {
  const m = (err as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata;
  return typeof m?.httpStatusCode === 'number' ? m.httpStatusCode : undefined;
}
