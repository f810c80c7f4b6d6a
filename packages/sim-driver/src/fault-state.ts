import type { Phase } from '@berth/core';

export interface BadImage {
  /** The phase the bootstrap fails in; `launching` means user data never runs (no heartbeats). */
  readonly phase: Phase;
  readonly reason: string;
}

export interface ApiErrorFault {
  /** AWS operation names; all operations when absent. */
  readonly operations: readonly string[] | null;
  readonly code: 'throttle' | '5xx';
  readonly rate: number;
  readonly untilMs: number;
}

/** The active faults, as the world reads them. Changed only through `sim.faults`. */
export class FaultState {
  readonly badImages = new Map<string, BadImage>();
  readonly slowImages = new Map<string, number>();
  /** AZ → end of the outage. */
  readonly azOutages = new Map<string, number>();
  /** Node → time until which its attachments hang. */
  readonly stuckAttach = new Map<string, number>();
  readonly slowAttach = new Map<string, number>();
  /** Nodes whose grow watcher (berth-grow-fs.timer) is stopped: their file system grows at boot only. */
  readonly growWatcherStopped = new Set<string>();
  eniReleaseDelayMs = 0;
  readonly apiErrors: ApiErrorFault[] = [];
  consistencyLag: { readonly lagMs: number; readonly untilMs: number } | null = null;
  /** AZ → end of the time without spot capacity (SPOT-3). */
  readonly spotCapacityOut = new Map<string, number>();

  /** No spot capacity in `az` now: spot launches there fail. */
  spotCapacityMissing(az: string, nowMs: number): boolean {
    const until = this.spotCapacityOut.get(az);
    return until !== undefined && nowMs < until;
  }

  azDown(az: string, nowMs: number): boolean {
    const until = this.azOutages.get(az);
    return until !== undefined && nowMs < until;
  }
}
