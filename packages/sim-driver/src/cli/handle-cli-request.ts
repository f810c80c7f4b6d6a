// The server side of bin/aws-cli-shim.mjs: the shim POSTs what `aws` was called with, and this
// answers with what the real CLI would have printed and returned.
import type { AwsCliInvoke } from './call-service.js';
import type { ErrorMessageStyle } from './cli-failure.js';
import { runAwsCli } from './run-aws-cli.js';
import type { AwsCliResult } from './run-aws-cli.js';

/** The JSON body the shim sends: the words after `aws` and the environment the CLI reads. */
export interface CliRequestBody {
  readonly argv: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Environment variables the simulated CLI reads; anything else in `env` is ignored. */
const CLI_ENV = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_DEFAULT_OUTPUT', 'AWS_MAX_ATTEMPTS', 'AWS_CLI_ERROR_FORMAT'] as const;

function isBody(body: unknown): body is CliRequestBody {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as { argv?: unknown; env?: unknown };
  if (!Array.isArray(b.argv) || !b.argv.every((a) => typeof a === 'string')) return false;
  if (b.env === undefined || b.env === null) return true;
  return typeof b.env === 'object' && Object.values(b.env).every((v) => v === undefined || v === null || typeof v === 'string');
}

/**
 * Runs the command a shim call describes. `body` is the parsed JSON the shim sent; a malformed
 * body is answered with exit code 255 and a message naming the problem.
 *
 * @example
 * // in the simulated AWS's HTTP server, for POST /cli:
 * const answer = await handleCliRequest(JSON.parse(text), (req) => world.invoke(req));
 * res.end(JSON.stringify(answer));
 */
export async function handleCliRequest(
  body: unknown,
  invoke: AwsCliInvoke,
  options: { errorMessages?: ErrorMessageStyle; backoff?: (attempt: number) => Promise<void> } = {},
): Promise<AwsCliResult> {
  if (!isBody(body)) {
    return { stdout: '', stderr: 'berth-sim: bad /cli request: expected {"argv": string[], "env": {name: string}}\n', exitCode: 255 };
  }
  const env: Record<string, string | undefined> = {};
  for (const name of CLI_ENV) {
    const v = body.env?.[name];
    if (typeof v === 'string') env[name] = v;
  }
  return runAwsCli(body.argv, { env, invoke, ...(options.errorMessages === undefined ? {} : { errorMessages: options.errorMessages }), ...(options.backoff && { backoff: options.backoff }) });
}
