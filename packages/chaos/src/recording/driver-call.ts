/** Driver operations that change the cloud (everything but reads and the lock itself). */
export const MUTATING_OPS: ReadonlySet<string> = new Set(['ensureNode', 'replaceInstance', 'completeLifecycle', 'setDns', 'snapshotVolume', 'modifyVolume', 'deleteNode', 'restoreLaunchTemplate']);

/** Operations that take a node's instance away. */
export const DISRUPTIVE_OPS: ReadonlySet<string> = new Set(['replaceInstance', 'deleteNode']);

/** What a controller believed after an `observe`. */
export interface ObservedSummary {
  /** Nodes InService and healthy, as the planner counts them. */
  readonly healthy: readonly string[];
  /** Healthy nodes whose instance runs the desired revision (a replacement that finished). */
  readonly updated: readonly string[];
  /** Failures on the desired revision the planner would halt on. */
  readonly failures: readonly { readonly nodeId: string; readonly instanceId: string; readonly launchedAtMs: number }[];
  /** Node → ENI IP and volume id as observed (full scope only). */
  readonly resources: Readonly<Record<string, { readonly ip: string | null; readonly volumeId: string | null }>>;
}

/** Ground truth at the moment a disruptive call started (from the world, not the cloud API). */
export interface TruthSnapshot {
  /** Nodes whose instance is InService and running and whose member is up and reachable. */
  readonly healthy: readonly string[];
}

/** The lease a controller held when it made a call, as the lock's answers to it said. */
export interface HeldLease {
  readonly holder: string;
  /** The lease's session (the controller instance that took it). */
  readonly session: string;
  /** The fencing token of the acquisition. */
  readonly token: number;
  readonly expiresAtMs: number;
}

/** One driver call made by a controller, as the recording proxy saw it. */
export interface DriverCall {
  readonly seq: number;
  /** The lock holder id of the controller that made the call. */
  readonly holder: string;
  /** One recording session (one controller process); a restart with the same holder is a new session. */
  readonly session: string;
  readonly op: string;
  readonly nodeId: string | null;
  readonly instanceId: string | null;
  /** The revision the caller's spec wants for `nodeId` (null when no node). */
  readonly desiredRevision: string | null;
  readonly startMs: number;
  endMs: number | null;
  ok: boolean | null;
  error: string | null;
  /** For `deleteNode`: the policy asked for. For `completeLifecycle`: the result. */
  readonly detail: string | null;
  /** Set on `observe` calls that returned. */
  observed: ObservedSummary | null;
  /** Set on disruptive calls. */
  readonly truth: TruthSnapshot | null;
  /** Failures observed before this time are ignored by the session's roll (`retryFailed`). */
  readonly ignoreFailuresBeforeMs: number;
  /**
   * The lease this session held when the call started: from the last `lock.acquire` / `lock.renew`
   * that returned to it (null before any, and after `lock.release`). Absent in evidence recorded
   * before sessions were kept.
   */
  readonly lease?: HeldLease | null;
}
