// The simulated `aws` command: parses the command line as AWS CLI v2 does, calls the simulated
// AWS through `invoke` (with the CLI's pagination and retries) and prints as the CLI prints.
import jmespath from 'jmespath';
import { parseKnownArgs } from './argparse.js';
import type { OptionDef } from './argparse.js';
import { invalidChoiceMessage } from './argparse.js';
import { callService } from './call-service.js';
import type { AwsCliInvoke } from './call-service.js';
import { CliFailure, renderFailure } from './cli-failure.js';
import type { CliErrorFormat, ErrorMessageStyle } from './cli-failure.js';
import { writePaginated, writeResponse } from './format-output.js';
import type { OutputFormat } from './format-output.js';
import { parseOperationArgs } from './operation-args.js';
import { SERVICES, commandsOf, findOperation, findService } from './operations.js';
import type { OperationSpec, ServiceSpec } from './operations.js';
import { PageIterator } from './paginate.js';

export interface RunAwsCliOptions {
  /** The caller's environment: AWS_REGION, AWS_DEFAULT_REGION, AWS_DEFAULT_OUTPUT, AWS_MAX_ATTEMPTS, AWS_CLI_ERROR_FORMAT. */
  readonly env?: Record<string, string | undefined>;
  /** The simulated AWS: returns the operation's output (SDK v3 member names) or throws an SDK v3-shaped service exception. */
  readonly invoke: AwsCliInvoke;
  /** Which CLI v2's messages to write: `current` (2.34.0 and later, the default) or `before-2.34`. */
  readonly errorMessages?: ErrorMessageStyle;
  /** Waits the CLI's backoff between attempts (standard mode: aws-cli-retry.ts `cliBackoffMs`); none when absent. */
  readonly backoff?: (attempt: number) => Promise<void>;
}

export interface AwsCliResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  /** Files the command writes (`s3api get-object`'s outfile), base64: the shim writes them where the CLI would. */
  readonly files?: readonly { readonly path: string; readonly base64: string }[];
}

/** The CLI version the messages and `--version` imitate. */
const VERSIONS: Record<ErrorMessageStyle, string> = { current: '2.36.7', 'before-2.34': '2.33.0' };

function globalOptions(style: ErrorMessageStyle): OptionDef[] {
  const outputs = style === 'current' ? ['json', 'text', 'table', 'yaml', 'yaml-stream', 'off'] : ['json', 'text', 'table', 'yaml', 'yaml-stream'];
  const options: OptionDef[] = [
    { flag: '--debug', dest: 'debug', nargs: 'none' },
    { flag: '--endpoint-url', dest: 'endpoint_url', nargs: 'one' },
    { flag: '--no-verify-ssl', dest: 'verify_ssl', nargs: 'none', constValue: false },
    { flag: '--no-paginate', dest: 'paginate', nargs: 'none', constValue: false },
    { flag: '--output', dest: 'output', nargs: 'one', choices: outputs },
    { flag: '--query', dest: 'query', nargs: 'one' },
    { flag: '--profile', dest: 'profile', nargs: 'one' },
    { flag: '--region', dest: 'region', nargs: 'one' },
    { flag: '--color', dest: 'color', nargs: 'one', choices: ['on', 'off', 'auto'] },
    { flag: '--no-sign-request', dest: 'sign_request', nargs: 'none', constValue: false },
    { flag: '--ca-bundle', dest: 'ca_bundle', nargs: 'one' },
    { flag: '--cli-read-timeout', dest: 'read_timeout', nargs: 'one', convert: 'int' },
    { flag: '--cli-connect-timeout', dest: 'connect_timeout', nargs: 'one', convert: 'int' },
    { flag: '--cli-binary-format', dest: 'cli_binary_format', nargs: 'one', choices: ['base64', 'raw-in-base64-out'] },
    { flag: '--no-cli-pager', dest: 'no_cli_pager', nargs: 'none' },
    { flag: '--cli-auto-prompt', dest: 'cli_auto_prompt', nargs: 'none' },
    { flag: '--no-cli-auto-prompt', dest: 'no_cli_auto_prompt', nargs: 'none' },
  ];
  if (style === 'current') {
    options.push({ flag: '--cli-error-format', dest: 'cli_error_format', nargs: 'one', choices: ['legacy', 'json', 'yaml', 'text', 'table', 'enhanced'] });
  }
  options.push({ flag: '--version', dest: 'version', nargs: 'none', exits: true });
  return options;
}

function supportedSummary(): string {
  return SERVICES.map((s) => {
    const commands = commandsOf(s.name);
    return `  ${s.name}: ${commands.length === 0 ? '(none yet)' : commands.join(', ')}`;
  }).join('\n');
}

function notSupported(kind: 'command' | 'operation', words: string, value: string, choices: readonly string[], style: ErrorMessageStyle): CliFailure {
  return CliFailure.usage(
    `${invalidChoiceMessage(kind, value, choices, style)}\n\n` +
      `berth-sim: \`aws ${words}\` is not supported by the simulated AWS CLI. Supported commands:\n${supportedSummary()}\n` +
      'To support another command, add it to packages/sim-driver/src/cli/operations.ts.',
  );
}

function compileQuery(query: string): void {
  try {
    (jmespath as unknown as { compile(q: string): unknown }).compile(query);
  } catch (e) {
    const name = e instanceof Error ? e.name : '';
    const detail = e instanceof Error ? e.message : String(e);
    // jmespath.py's text where the two libraries agree on the problem: the expression ended early.
    const reason = /\bEOF\b/u.test(detail)
      ? `Invalid jmespath expression: Incomplete expression:\n"${query}"\n${' '.repeat(query.length + 1)}^`
      : `${name === 'LexerError' ? 'Bad jmespath expression' : 'Invalid jmespath expression'}: ${detail}`;
    throw CliFailure.paramValidation(`Bad value for --query ${query}: ${reason}`);
  }
}

function resolveRegion(flag: unknown, env: Record<string, string | undefined>): string {
  const region = typeof flag === 'string' && flag !== '' ? flag : (env.AWS_REGION ?? env.AWS_DEFAULT_REGION);
  if (region === undefined || region === '') throw new CliFailure('no-region', 'You must specify a region.');
  if (!/^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{0,63}$/u.test(region) || region.endsWith('-')) {
    throw CliFailure.general(`Provided region_name '${region}' doesn't match a supported format.`);
  }
  return region;
}

function resolveOutput(flag: unknown, env: Record<string, string | undefined>): OutputFormat {
  const output = typeof flag === 'string' ? flag : (env.AWS_DEFAULT_OUTPUT ?? 'json');
  if (output === 'json' || output === 'text' || output === 'off') return output;
  if (output === 'table' || output === 'yaml' || output === 'yaml-stream') {
    throw CliFailure.unsupported(`--output ${output} is not supported by the simulated AWS CLI (use json, text or off)`);
  }
  throw CliFailure.general(`Unknown output type: ${output}`);
}

function maxAttempts(env: Record<string, string | undefined>): number {
  const raw = env.AWS_MAX_ATTEMPTS;
  if (raw === undefined) return 3;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw CliFailure.general(`Value provided to "max_attempts": ${raw} must be an integer greater than or equal to 1.`);
  return n;
}

/**
 * Runs one `aws` command line against the simulated AWS.
 *
 * @param argv what follows `aws` on the command line.
 * @example
 * const r = await runAwsCli(['--region', 'us-east-1', '--output', 'text', 'ec2', 'describe-volumes',
 *   '--volume-ids', 'vol-1', '--query', 'Volumes[0].State'], { invoke: sim.invoke });
 * // r = { stdout: 'available\n', stderr: '', exitCode: 0 }
 */
export async function runAwsCli(argv: readonly string[], options: RunAwsCliOptions): Promise<AwsCliResult> {
  const env = options.env ?? {};
  const style = options.errorMessages ?? 'current';
  const sink = { stdout: '', stderr: '' };
  let errorFormat: CliErrorFormat = 'enhanced';
  let debug: string[] | null = null;
  try {
    if (style === 'current') errorFormat = errorFormatOf(env.AWS_CLI_ERROR_FORMAT, errorFormat);
    const top = parseKnownArgs(argv, globalOptions(style), [{ dest: 'command', optional: false }], style);
    const g = top.values;
    if (g.has('version')) {
      sink.stdout = `aws-cli/${VERSIONS[style]} Python/3.13.7 Linux/berth-sim source/x86_64\n`;
      return { ...sink, exitCode: 0 };
    }
    if (style === 'current' && typeof g.get('cli_error_format') === 'string') errorFormat = errorFormatOf(g.get('cli_error_format') as string, errorFormat);
    if (g.get('debug') === true) debug = [];
    const command = g.get('command') as string;
    const service = findService(command);
    if (service === undefined) throw notSupported('command', command, command, SERVICES.map((s) => s.name), style);

    const query = g.get('query') as string | undefined;
    if (query !== undefined) compileQuery(query);
    const endpointOverride = g.get('endpoint_url') as string | undefined;
    if (endpointOverride !== undefined && !/^[a-zA-Z][a-zA-Z0-9+.-]*:/u.test(endpointOverride)) {
      throw CliFailure.paramValidation(
        `Bad value for --endpoint-url "${endpointOverride}": scheme is missing.  Must be of the form http://<hostname>/ or https://<hostname>/`,
      );
    }
    for (const refused of ['profile', 'cli_auto_prompt'] as const) {
      if (g.has(refused)) throw CliFailure.unsupported(`--${refused.replaceAll('_', '-')} is not supported by the simulated AWS CLI`);
    }

    const op = parseService(service, top.extras, style);
    // A positional outfile (s3api get-object): the last word that is not an option's.
    let outfile: string | null = null;
    if (op.spec.outfile === true) {
      const last = op.rest.at(-1);
      const prev = op.rest.at(-2);
      if (last === undefined || last.startsWith('--') || (prev !== undefined && prev.startsWith('--'))) {
        throw CliFailure.usage(`the following arguments are required: outfile`);
      }
      outfile = last;
      op.rest.pop();
    }
    const call = parseOperationArgs(op.spec, op.rest, g.get('paginate') !== false, style);
    for (const w of call.warnings) sink.stderr += w;
    const region = resolveRegion(g.get('region'), env);
    const output = resolveOutput(g.get('output'), env);
    const files: { path: string; base64: string }[] = [];
    const onBody = outfile === null ? undefined : (body: Uint8Array) => void files.push({ path: outfile, base64: Buffer.from(body).toString('base64') });
    const ctx = { op: op.spec, service, region, endpointOverride, maxAttempts: maxAttempts(env), invoke: options.invoke, debug, ...(options.backoff && { backoff: options.backoff }), ...(onBody && { onBody }) };
    try {
      if (op.spec.paginator !== undefined && call.paginate) {
        const pages = new PageIterator(op.spec.paginator, call.pagination, (params) => callService(ctx, params));
        await writePaginated(pages, { ...call.params }, output, query, sink);
      } else {
        writeResponse(await callService(ctx, call.params), output, query, sink);
      }
    } finally {
      if (debug !== null) sink.stderr += debug.join('');
    }
    return { ...sink, exitCode: 0, ...(files.length > 0 && { files }) };
  } catch (e) {
    if (e instanceof CliFailure) return { stdout: sink.stdout, stderr: sink.stderr + renderFailure(e, style, errorFormat), exitCode: e.exitCode };
    // A bug in the simulation, not behaviour of the CLI: say so loudly.
    const detail = e instanceof Error ? (e.stack ?? e.message) : String(e);
    return { stdout: sink.stdout, stderr: `${sink.stderr}\nberth-sim: internal error in the simulated AWS CLI: ${detail}\n`, exitCode: 255 };
  }
}

function errorFormatOf(value: string | undefined, fallback: CliErrorFormat): CliErrorFormat {
  if (value === undefined || value === '') return fallback;
  const v = value.toLowerCase();
  if (v === 'legacy' || v === 'enhanced' || v === 'json' || v === 'text') return v;
  if (v === 'yaml' || v === 'table') throw CliFailure.unsupported(`cli_error_format ${v} is not supported by the simulated AWS CLI (use enhanced, legacy, json or text)`);
  return 'enhanced'; // the CLI warns and falls back to enhanced
}

function parseService(service: ServiceSpec, args: readonly string[], style: ErrorMessageStyle): { spec: OperationSpec; rest: string[] } {
  const parsed = parseKnownArgs(args, [], [{ dest: 'operation', optional: false }], style);
  const operation = parsed.values.get('operation') as string;
  if (operation === 'help') throw CliFailure.unsupported(`\`aws ${service.name} help\` is not available in the simulated AWS CLI`);
  const spec = findOperation(service.name, operation);
  if (spec === undefined) throw notSupported('operation', `${service.name} ${operation}`, operation, commandsOf(service.name), style);
  return { spec, rest: parsed.extras };
}

// The bridge server (src/aws-bridge.ts) imports the request handler from here; it lives in its own file.
export { handleCliRequest } from './handle-cli-request.js';
