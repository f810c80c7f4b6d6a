/**
 * A custom CLI on top of Berth — the kind of tool a platform team builds around the SDK.
 *
 *   tsx examples/berth-cli.ts --help
 *   tsx examples/berth-cli.ts validate|iam-policy <spec.json>
 *   tsx examples/berth-cli.ts init|preflight|plan|apply|status|roll <spec.json> [--json] [--sim [--sim-from <spec.json|empty>]]
 *   tsx examples/berth-cli.ts gameday <plan.json> --spec <spec.json> [--dry-run] [--kill-file F] [--kill-parameter P] [--report DIR] [--sim]
 *
 * `validate` and `iam-policy` make no cloud call. The others talk to AWS through the AWS driver
 * (credentials from the usual AWS SDK chain; `--endpoint` for a local emulator), or with `--sim`
 * to a simulated AWS account in virtual time. plan, apply and roll run a preflight first:
 * nothing is touched when it finds a problem. docs/cli.md describes every command, option and
 * exit code.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { isAbortError } from '@berth/core';
import { EXIT, exitCodeFor } from './cli/exit-codes.js';
import { formatError } from './cli/format-error.js';
import { buildProgram, type CliIo } from './cli/program.js';

export { EXIT, EXIT_CODES, exitCodeFor } from './cli/exit-codes.js';
export { buildProgram, VERSION_TEXT, type CliIo } from './cli/program.js';

/**
 * Runs the CLI on `argv` (the arguments after the program name) and returns its exit code.
 * Never exits the process and never throws: errors are written to `io.stderr`.
 *
 * @example
 * ```ts
 * const code = await main(['plan', 'kafka.json', '--sim', '--json'], { stdout: process.stdout, stderr: process.stderr, env: process.env });
 * ```
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    // Commander has written its own message (or the help, or the version).
    if (err instanceof CommanderError) return exitCodeFor(err);
    io.stderr.write(formatError(err, io.env.BERTH_DEBUG === '1'));
    if (io.signal?.aborted && isAbortError(err)) return EXIT.interrupted;
    return exitCodeFor(err);
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const interrupt = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('interrupted: stopping cleanly (Ctrl-C again to quit at once)\n');
    interrupt.abort(new Error('interrupted (SIGINT)'));
    process.once('SIGINT', () => process.exit(EXIT.interrupted));
  });
  process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, signal: interrupt.signal });
}
