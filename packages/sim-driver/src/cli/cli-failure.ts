// Every way an AWS CLI invocation can fail, with the return code and stderr text of the real CLI
// (awscli/errorhandler.py, awscli/errorformat.py, awscli/argparser.py; return codes from
// awscli/constants.py and the CLI's documented return codes).
import { pyJsonDumps } from './py-values.js';
import { formatText } from './text-format.js';

export type CliFailureCode =
  /** A parameter the CLI itself rejects (bad JSON or shorthand, failed model validation). 252 */
  | 'param-validation'
  /** An argparse error: unknown command, missing required option, bad choice, no value. 252 */
  | 'usage'
  /** Options left over after the operation's own were parsed. 252 */
  | 'unknown-options'
  /** Something the real CLI can do but this simulation cannot (table output, file://). 252 */
  | 'unsupported'
  /** No region configured. 253 */
  | 'no-region'
  /** The service answered with an error. 254 */
  | 'service'
  /** Anything else the CLI reports as a general error: connection failures, Python errors. 255 */
  | 'general';

const EXIT_CODES: Record<CliFailureCode, number> = {
  'param-validation': 252,
  usage: 252,
  'unknown-options': 252,
  unsupported: 252,
  'no-region': 253,
  service: 254,
  general: 255,
};

/** The error-message format of the CLI being imitated. */
export type ErrorMessageStyle =
  /** AWS CLI v2.34.0 and later: `aws: [ERROR]: ...`, `--cli-error-format`. */
  | 'current'
  /** AWS CLI v2 before 2.34.0: bare messages, argparse-style usage errors. */
  | 'before-2.34';

/** The CLI's `cli_error_format` setting (2.34+); `yaml` and `table` are not simulated. */
export type CliErrorFormat = 'enhanced' | 'legacy' | 'json' | 'text';

export const USAGE =
  'aws [options] <command> <subcommand> [<subcommand> ...] [parameters]\n' +
  'To see help text, you can run:\n\n' +
  '  aws help\n' +
  '  aws <command> help\n' +
  '  aws <command> <subcommand> help\n';

export class CliFailure extends Error {
  override readonly name = 'CliFailure';
  readonly code: CliFailureCode;
  /** For `service` failures: the error code and message the service sent. */
  readonly serviceError: { readonly code: string; readonly message: string } | undefined;

  constructor(code: CliFailureCode, message: string, options: { cause?: unknown; serviceError?: { code: string; message: string } } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.serviceError = options.serviceError;
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }

  static paramValidation(message: string): CliFailure {
    return new CliFailure('param-validation', message);
  }

  /** argparse's `parser.error(message)`. */
  static usage(message: string): CliFailure {
    return new CliFailure('usage', message);
  }

  static unsupported(what: string): CliFailure {
    return new CliFailure('unsupported', `berth-sim: ${what}.`);
  }

  static general(message: string, cause?: unknown): CliFailure {
    return new CliFailure('general', message, { cause });
  }
}

/** The text the CLI writes to stderr for a failure. */
export function renderFailure(failure: CliFailure, style: ErrorMessageStyle, errorFormat: CliErrorFormat): string {
  const usageLine = `usage: ${USAGE.trimEnd()}\n`;
  if (style === 'before-2.34') {
    switch (failure.code) {
      case 'usage':
        return `\n${usageLine}\naws: error: ${failure.message}\n\n`;
      case 'unknown-options':
        return `\nusage: ${USAGE}\n${failure.message}\n\n`;
      case 'no-region':
        return `\n${failure.message} You can also configure your region by running "aws configure".\n`;
      default:
        return `\n${failure.message}\n`;
    }
  }
  switch (failure.code) {
    case 'unknown-options':
      return `\nusage: ${USAGE}\n${writeError(failure.message)}`;
    case 'usage':
      return structured('ParamValidation', `${failure.message}\n\n${usageLine}`, errorFormat);
    case 'param-validation':
      return structured('ParamValidation', failure.message, errorFormat);
    case 'unsupported':
      return writeError(failure.message);
    case 'no-region':
      return structured('NoRegion', `${failure.message} You can also configure your region by running "aws configure".`, errorFormat);
    case 'service':
      return serviceError(failure, errorFormat);
    case 'general':
      return writeError(failure.message);
  }
}

function writeError(message: string): string {
  const m = message.trim();
  return m === '' ? '\naws: [ERROR]:\n' : `\naws: [ERROR]: ${m}\n`;
}

function structured(code: string, message: string, errorFormat: CliErrorFormat): string {
  if (errorFormat === 'legacy') return writeError(message);
  if (errorFormat === 'enhanced') return writeError(`An error occurred (${code}): ${message}`);
  return formatErrorInfo({ Code: code, Message: message }, errorFormat);
}

function serviceError(failure: CliFailure, errorFormat: CliErrorFormat): string {
  const info = failure.serviceError;
  if (info === undefined || errorFormat === 'legacy' || errorFormat === 'enhanced') return writeError(failure.message);
  return formatErrorInfo({ Code: info.code, Message: info.message }, errorFormat);
}

// --cli-error-format json|text print the error's fields with the output formatters, to stderr.
function formatErrorInfo(info: Record<string, string>, format: 'json' | 'text'): string {
  return format === 'json' ? `${pyJsonDumps(info, 4)}\n` : formatText(info);
}
