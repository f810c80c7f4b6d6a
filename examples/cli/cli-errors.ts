/**
 * The CLI's own failures, next to Berth's errors: each maps to one exit code (exit-codes.ts).
 */

/** A flag, argument or combination the CLI cannot run with. Exit 2, before any cloud call. */
export class UsageError extends Error {
  readonly code = 'USAGE' as const;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A check the command ran did not pass: preflight found problems, or `plan --detailed-exitcode`
 * found changes. Exit 3. The command's result (report, plan) was already printed.
 */
export class CheckFailedError extends Error {
  readonly code: 'PREFLIGHT_FAILED' | 'CHANGES_PENDING';
  constructor(code: 'PREFLIGHT_FAILED' | 'CHANGES_PENDING', message: string) {
    super(message);
    this.code = code;
    this.name = 'CheckFailedError';
  }
}

/** The operator declined at a hold (canary or checkpoint): the roll stopped there. Exit 4. */
export class RollStoppedError extends Error {
  readonly code = 'ROLL_STOPPED' as const;
  constructor(message: string) {
    super(message);
    this.name = 'RollStoppedError';
  }
}
