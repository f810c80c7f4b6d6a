/**
 * Every error Berth throws is a {@link BerthError} with a stable `code`, so automation can
 * branch on `err.code` instead of parsing messages. Messages say what was wrong, which node
 * or field, and what to do.
 */
export type BerthErrorCode =
  | 'CONFIG_INVALID'
  | 'DRIVER_ERROR'
  | 'CAPABILITY_MISSING'
  | 'LOCK_HELD'
  | 'LOCK_LOST'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'ROLL_HALTED'
  | 'NOT_PROVISIONED'
  | 'HOOK_FAILED';

export class BerthError extends Error {
  readonly code: BerthErrorCode;
  constructor(code: BerthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** One problem found while validating a cluster spec. */
export interface ConfigIssue {
  /** Where the problem is, e.g. `nodes[2].ip` or `dataVolume.iops`. */
  readonly path: string;
  /** What is wrong and what to do about it. */
  readonly message: string;
}

/** The spec is invalid. `issues` lists every problem at once, each with its path. */
export class BerthConfigError extends BerthError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], subject = 'cluster spec') {
    const lines = issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n');
    super('CONFIG_INVALID', `Invalid ${subject} (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines}`);
    this.issues = Object.freeze([...issues]);
  }
}

/**
 * A cloud call failed. `awsCode` carries the provider's error code when there is one
 * (`RequestLimitExceeded`, `VolumeInUse`...); `retryable` tells the runtime wrapper whether
 * to try again.
 */
export class BerthDriverError extends BerthError {
  readonly operation: string;
  readonly awsCode: string;
  readonly retryable: boolean;
  readonly throttling: boolean;
  constructor(
    operation: string,
    awsCode: string,
    message: string,
    options: { retryable?: boolean; throttling?: boolean; cause?: unknown } = {},
  ) {
    super('DRIVER_ERROR', `${operation} failed with ${awsCode}: ${message}`, { cause: options.cause });
    this.operation = operation;
    this.awsCode = awsCode;
    this.throttling = options.throttling ?? false;
    this.retryable = options.retryable ?? this.throttling;
  }
}

/** A strategy needs a driver capability the driver does not have. */
export class BerthCapabilityError extends BerthError {
  readonly capability: string;
  constructor(capability: string, driverName: string, what: string) {
    super(
      'CAPABILITY_MISSING',
      `${what} needs the driver capability '${capability}', which driver '${driverName}' does not have. ` +
        `Use a driver that supports it, or turn off the option that needs it.`,
    );
    this.capability = capability;
  }
}

/** Another controller holds the cluster's lock. */
export class BerthLockError extends BerthError {
  readonly holder: string | null;
  readonly expiresAtMs: number | null;
  constructor(
    code: 'LOCK_HELD' | 'LOCK_LOST',
    message: string,
    details: { holder?: string | null; expiresAtMs?: number | null; cause?: unknown } = {},
  ) {
    super(code, message, { cause: details.cause });
    this.holder = details.holder ?? null;
    this.expiresAtMs = details.expiresAtMs ?? null;
  }
}

export class BerthTimeoutError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TIMEOUT', message, options);
  }
}

export class BerthAbortError extends BerthError {
  constructor(message = 'The operation was aborted.', options?: { cause?: unknown }) {
    super('ABORTED', message, options);
  }
}

/** A user hook (isLeader, clusterHealthy, beforeReplace...) threw. */
export class BerthHookError extends BerthError {
  readonly hook: string;
  readonly nodeId: string | null;
  constructor(hook: string, nodeId: string | null, cause: unknown) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    super(
      'HOOK_FAILED',
      `Hook '${hook}'${nodeId ? ` for node ${nodeId}` : ''} threw: ${msg}. Fix the hook; no node was touched because of it.`,
      { cause },
    );
    this.hook = hook;
    this.nodeId = nodeId;
  }
}

/** The roll stopped. `nodeId`, `phase` and `lastError` say where and why. */
export class BerthRollHaltedError extends BerthError {
  readonly nodeId: string | null;
  readonly phase: string | null;
  readonly lastError: string | null;
  readonly reason: string;
  constructor(
    reason: string,
    details: { nodeId?: string | null; phase?: string | null; lastError?: string | null; cause?: unknown } = {},
  ) {
    super('ROLL_HALTED', `Roll halted: ${reason}`, { cause: details.cause });
    this.reason = reason;
    this.nodeId = details.nodeId ?? null;
    this.phase = details.phase ?? null;
    this.lastError = details.lastError ?? null;
  }
}

export function isAbortError(err: unknown): boolean {
  return err instanceof BerthAbortError || (err instanceof Error && err.name === 'AbortError');
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new BerthAbortError(
      signal.reason instanceof Error ? `Aborted: ${signal.reason.message}` : 'The operation was aborted.',
      { cause: signal.reason },
    );
  }
}
