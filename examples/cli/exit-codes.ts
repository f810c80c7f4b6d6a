import { CommanderError } from 'commander';
import { BerthConfigError, BerthError, BerthLockError, BerthRollHaltedError } from '@berth/core';
import { CheckFailedError, GameDayRefusedError, GameDayStoppedError, RollStoppedError, UsageError } from './cli-errors.js';

/** The exit codes of `berth-cli`, by name. */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  checkFailed: 3,
  rollHalted: 4,
  lockHeld: 5,
  gameDayStopped: 6,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Every exit code with what it means: `--help` prints it and docs/cli.md lists it (a test compares them). */
export const EXIT_CODES: readonly { readonly code: ExitCode; readonly name: keyof typeof EXIT; readonly meaning: string }[] = [
  { code: 0, name: 'ok', meaning: 'done (help and --version included)' },
  { code: 1, name: 'error', meaning: 'any other error: AWS refused or failed a call, a hook failed outside a roll, the roll was aborted' },
  { code: 2, name: 'usage', meaning: 'usage error: unknown command or option, missing argument, bad value (nothing was called)' },
  { code: 3, name: 'checkFailed', meaning: 'a check failed: the spec or game-day plan is invalid (CONFIG_INVALID), preflight found problems, plan --detailed-exitcode found changes, or a game-day was refused (NO_TARGET, BLAST_RADIUS, UNSUPPORTED_FAULT)' },
  { code: 4, name: 'rollHalted', meaning: 'the roll halted (ROLL_HALTED) or was declined at a hold (ROLL_STOPPED); the report says where' },
  { code: 5, name: 'lockHeld', meaning: 'another controller holds the cluster lock (LOCK_HELD)' },
  { code: 6, name: 'gameDayStopped', meaning: 'a game-day stopped before its end (GAME_DAY_STOPPED: a kill switch, quorum at risk); its report says where' },
  { code: 130, name: 'interrupted', meaning: 'interrupted (Ctrl-C): the roll stopped cleanly and released the lock, or the game-day stopped and wrote its report' },
];

/** The exit code for an error a command threw. */
export function exitCodeFor(err: unknown): ExitCode {
  if (err instanceof CommanderError) {
    // --help, --version and `help` exit 0; commander's own usage errors (and help shown because
    // no command was given) are usage errors.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
    if (err.code === 'commander.help' && err.exitCode === 0) return EXIT.ok;
    return EXIT.usage;
  }
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof GameDayStoppedError) return err.interrupted ? EXIT.interrupted : EXIT.gameDayStopped;
  if (err instanceof GameDayRefusedError) return EXIT.checkFailed;
  if (err instanceof BerthConfigError || err instanceof CheckFailedError) return EXIT.checkFailed;
  if (err instanceof BerthRollHaltedError || err instanceof RollStoppedError) return EXIT.rollHalted;
  if (err instanceof BerthLockError && err.code === 'LOCK_HELD') return EXIT.lockHeld;
  if (err instanceof BerthError || err instanceof Error) return EXIT.error;
  return EXIT.error;
}
