/** One call of a roll hook (`clusterHealthy`, `beforeReplace`...), as the scenario runner saw it. */
export interface HookCall {
  /** The recording session of the controller that called it. */
  readonly session: string;
  readonly hook: string;
  readonly nodeId: string | null;
  readonly startMs: number;
  endMs: number | null;
  /** How it ended: returned, threw (its message), or still running when the evidence was taken. */
  outcome: 'returned' | 'threw' | 'running';
  error: string | null;
  /** A `slow-hook` fault made it take this much longer. */
  readonly delayedMs: number;
}
