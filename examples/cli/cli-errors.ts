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

/** A game-day refused to start (NO_TARGET, BLAST_RADIUS, UNSUPPORTED_FAULT): nothing was injected. Exit 3. */
export class GameDayRefusedError extends Error {
  readonly code: 'NO_TARGET' | 'BLAST_RADIUS' | 'UNSUPPORTED_FAULT';
  constructor(code: 'NO_TARGET' | 'BLAST_RADIUS' | 'UNSUPPORTED_FAULT', message: string) {
    super(message);
    this.code = code;
    this.name = 'GameDayRefusedError';
  }
}

/**
 * A game-day stopped before its end: a kill switch, a stop condition, quorum at risk. Exit 6
 * (130 when Ctrl-C stopped it). Its report was already printed and written.
 */
export class GameDayStoppedError extends Error {
  readonly code = 'GAME_DAY_STOPPED' as const;
  /** What stopped it (`kill-switch`, `quorum-at-risk`...). */
  readonly reason: string;
  /** Ctrl-C stopped it. */
  readonly interrupted: boolean;
  constructor(reason: string, message: string, interrupted: boolean) {
    super(message);
    this.reason = reason;
    this.interrupted = interrupted;
    this.name = 'GameDayStoppedError';
  }
}

/** On moto (5.2.1): FIS templates but no experiments. The run stops before anything is injected. Exit 1. */
export class FisUnavailableError extends Error {
  readonly code = 'FIS_UNAVAILABLE' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FisUnavailableError';
  }
}
