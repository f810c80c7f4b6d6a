// One API call as the CLI makes it: validate the parameters (botocore), send, retry what the
// CLI v2's default `standard` retry mode retries (botocore/retries/standard.py: throttling codes,
// transient codes, HTTP 500/502/503/504, connection failures; AWS_MAX_ATTEMPTS attempts, 3 by
// default), and turn the final failure into the CLI's error.
import { cliRetries } from '../aws-cli-retry.js';
import { CliFailure } from './cli-failure.js';
import { normalizeOutput } from './normalize-output.js';
import type { OperationSpec, ServiceSpec } from './operations.js';
import { PyFloat } from './py-values.js';
import { validateParams } from './validate-params.js';

/** What the simulated AWS receives for one call. */
export interface AwsCliInvokeRequest {
  readonly service: string;
  readonly operation: string;
  readonly input: Record<string, unknown>;
  readonly region: string;
}

export type AwsCliInvoke = (request: AwsCliInvokeRequest) => Promise<Record<string, unknown>>;

// Which errors the CLI retries: aws-cli-retry.ts (shared with the simulator's node agent).

interface ServiceException {
  readonly code: string;
  readonly message: string;
  readonly status: number | undefined;
}

/** An AWS SDK v3 service exception (has `$metadata` or `$fault`); anything else is a connection failure. */
function asServiceException(e: unknown, service: ServiceSpec): ServiceException | null {
  if (typeof e !== 'object' || e === null) return null;
  const err = e as { name?: unknown; message?: unknown; $metadata?: unknown; $fault?: unknown; Code?: unknown };
  const meta = err.$metadata;
  if ((typeof meta !== 'object' || meta === null) && err.$fault !== 'client' && err.$fault !== 'server') return null;
  const name = typeof err.Code === 'string' ? err.Code : typeof err.name === 'string' ? err.name : 'Unknown';
  const status = typeof meta === 'object' && meta !== null ? (meta as { httpStatusCode?: unknown }).httpStatusCode : undefined;
  return {
    code: service.errorCodes?.[name] ?? name,
    message: typeof err.message === 'string' && err.message !== '' ? err.message : 'Unknown',
    status: typeof status === 'number' ? status : undefined,
  };
}

/** The URL the CLI reports when it cannot connect. */
export function endpointUrl(service: ServiceSpec, region: string, override: string | undefined): string {
  if (override !== undefined) {
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*)([^?#]*)(\?[^#]*)?/u.exec(override);
    if (m !== null) return `${m[1]}${m[2] === '' ? '/' : m[2]}${m[3] ?? ''}`;
    return override;
  }
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return service.global === true ? `https://${service.endpointPrefix}.${suffix}/` : `https://${service.endpointPrefix}.${region}.${suffix}/`;
}

// PyFloat marks a JSON float for validation; the service gets a plain number.
function plain(value: unknown): unknown {
  if (value instanceof PyFloat) return value.value;
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: plain(v), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

export interface CallContext {
  readonly op: OperationSpec;
  readonly service: ServiceSpec;
  readonly region: string;
  readonly endpointOverride: string | undefined;
  readonly maxAttempts: number;
  readonly invoke: AwsCliInvoke;
  /** Lines for `--debug`. */
  readonly debug: string[] | null;
  /** Waits the CLI's backoff before attempt `attempt + 1` (the bridge moves virtual time); none when absent. */
  readonly backoff?: (attempt: number) => Promise<void>;
  /** Takes a streaming `Body` out of the output (`s3api get-object` writes it to its outfile). */
  readonly onBody?: (body: Uint8Array) => void;
}

/** Validates, sends (with retries) and returns the normalized output, or throws the CLI's failure. */
export async function callService(ctx: CallContext, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const problems = validateParams(params, ctx.op.input);
  if (problems.length > 0) throw CliFailure.paramValidation(`Parameter validation failed:\n${problems.join('\n')}`);
  const input = plain(params) as Record<string, unknown>;
  for (let attempt = 1; ; attempt++) {
    ctx.debug?.push(`berth-sim: ${ctx.op.operation} attempt ${attempt}: ${JSON.stringify(input)}\n`);
    let failure: unknown;
    try {
      const output = await ctx.invoke({ service: ctx.op.apiService ?? ctx.op.service, operation: ctx.op.operation, input, region: ctx.region });
      if (ctx.onBody && output['Body'] instanceof Uint8Array) {
        const { Body, ...rest } = output;
        ctx.onBody(Body as Uint8Array);
        return normalizeOutput(rest) as Record<string, unknown>;
      }
      return normalizeOutput(output) as Record<string, unknown>;
    } catch (e) {
      failure = e;
    }
    const atMax = attempt >= ctx.maxAttempts;
    const serviceError = asServiceException(failure, ctx.service);
    if (serviceError === null) {
      ctx.debug?.push(`berth-sim: connection-level failure: ${failure instanceof Error ? (failure.stack ?? failure.message) : String(failure)}\n`);
      if (!atMax) {
        await ctx.backoff?.(attempt);
        continue;
      }
      throw CliFailure.general(`Could not connect to the endpoint URL: "${endpointUrl(ctx.service, ctx.region, ctx.endpointOverride)}"`, failure);
    }
    if (cliRetries(serviceError.code, serviceError.status) && !atMax) {
      await ctx.backoff?.(attempt);
      continue;
    }
    const retryInfo = atMax ? ` (reached max retries: ${attempt - 1})` : '';
    throw new CliFailure(
      'service',
      `An error occurred (${serviceError.code}) when calling the ${ctx.op.operation} operation${retryInfo}: ${serviceError.message}`,
      { cause: failure, serviceError: { code: serviceError.code, message: serviceError.message } },
    );
  }
}
