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
  | 'HOOK_FAILED'
  | 'HOOK_TIMEOUT'
  | 'DEPLOY_FAILED'
  | 'NODE_OP_REFUSED'
  | 'MEMBERSHIP_REFUSED';

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

/** The issues without repeats (the same path and message), in their first order. */
export function dedupeIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\u0000${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
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

/**
 * A user hook (isLeader, clusterHealthy, beforeReplace...) threw (`HOOK_FAILED`) or outlived
 * its timeout (`HOOK_TIMEOUT`). `touched` says whether the node had been disrupted already.
 */
export class BerthHookError extends BerthError {
  readonly hook: string;
  readonly nodeId: string | null;
  readonly timedOut: boolean;
  constructor(hook: string, nodeId: string | null, cause: unknown, options: { timeoutMs?: number; touched?: boolean } = {}) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    const timedOut = options.timeoutMs !== undefined;
    const where = `Hook '${hook}'${nodeId ? ` for node ${nodeId}` : ''}`;
    const what = timedOut ? `did not finish within ${Math.round((options.timeoutMs as number) / 1000)} s` : `threw: ${msg}`;
    const after = options.touched
      ? `The node's replacement had already started; it carries on under its Auto Scaling group.`
      : nodeId
        ? `Node ${nodeId} was not replaced because of it.`
        : `No node was replaced because of it.`;
    super(timedOut ? 'HOOK_TIMEOUT' : 'HOOK_FAILED', `${where} ${what}. ${after} Fix the hook${timedOut ? ' or raise its timeout (hookTimeoutsMs)' : ''}, then roll again.`, { cause });
    this.hook = hook;
    this.nodeId = nodeId;
    this.timedOut = timedOut;
  }
}

/** Where a halt happened and what it did about it, as fields. */
export interface HaltDetails {
  readonly nodeId?: string | null;
  /** Every node the halt concerns (a gate names the batch it held). */
  readonly nodeIds?: readonly string[];
  readonly phase?: string | null;
  /** The hook that failed or timed out. */
  readonly hook?: string | null;
  readonly lastError?: string | null;
  /** Nodes whose launch template went back to their last good revision. */
  readonly rolledBack?: readonly string[];
  /** Outdated nodes the roll did not touch. */
  readonly untouched?: readonly string[];
  readonly cause?: unknown;
}

/** The roll stopped. `nodeId`, `phase`, `hook` and `lastError` say where and why. */
export class BerthRollHaltedError extends BerthError {
  readonly nodeId: string | null;
  readonly nodeIds: readonly string[];
  readonly phase: string | null;
  readonly hook: string | null;
  readonly lastError: string | null;
  readonly rolledBack: readonly string[];
  readonly untouched: readonly string[];
  readonly reason: string;
  constructor(reason: string, details: HaltDetails = {}) {
    super('ROLL_HALTED', `Roll halted: ${reason}`, { cause: details.cause });
    this.reason = reason;
    this.nodeId = details.nodeId ?? null;
    this.nodeIds = Object.freeze([...(details.nodeIds ?? (details.nodeId ? [details.nodeId] : []))]);
    this.phase = details.phase ?? null;
    this.hook = details.hook ?? null;
    this.lastError = details.lastError ?? null;
    this.rolledBack = Object.freeze([...(details.rolledBack ?? [])]);
    this.untouched = Object.freeze([...(details.untouched ?? [])]);
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

/**
 * An operation on one node (`pauseNode`, `resumeNode`) was refused before anything changed:
 * quorum does not allow it, a roll holds the cluster, or the node is not in a state for it.
 * The message names the node, why, and what to do.
 */
export class BerthNodeRefusedError extends BerthError {
  readonly nodeId: string;
  readonly operation: string;
  constructor(operation: string, nodeId: string, message: string, options?: { cause?: unknown }) {
    super('NODE_OP_REFUSED', message, options);
    this.nodeId = nodeId;
    this.operation = operation;
  }
}

/**
 * A membership change (adding or removing a node) was refused or stopped: unsafe for the quorum,
 * a roll holding the cluster, a node that never became healthy, a health gate that did not
 * pass. `nodeId` names the node of the step; `done` lists the steps that completed before.
 */
export class BerthMembershipError extends BerthError {
  readonly nodeId: string | null;
  readonly done: readonly string[];
  constructor(message: string, details: { nodeId?: string | null; done?: readonly string[]; cause?: unknown } = {}) {
    super('MEMBERSHIP_REFUSED', message, { cause: details.cause });
    this.nodeId = details.nodeId ?? null;
    this.done = Object.freeze([...(details.done ?? [])]);
  }
}
