import type { BerthRollHaltedError, ClusterSpec } from '@berth/core';
import type { TraceEntry } from '@berth/sim-driver';
import type { DriverCall } from '../recording/driver-call.js';
import type { HookCall } from '../recording/hook-call.js';

/** The invariants, numbered as in docs/chaos.md. */
export type InvariantId =
  | 'quorum-safety'
  | 'single-attach'
  | 'ownership'
  | 'data-retained'
  | 'liveness'
  | 'failure-containment'
  | 'single-controller'
  | 'no-double-replace'
  | 'iam-allowed';

export const INVARIANT_NUMBERS: Readonly<Record<InvariantId, number>> = Object.freeze({
  'quorum-safety': 1,
  'single-attach': 2,
  ownership: 3,
  'data-retained': 4,
  liveness: 5,
  'failure-containment': 6,
  'single-controller': 7,
  'no-double-replace': 8,
  'iam-allowed': 9,
});

/** What has not converged, and why. */
export interface PendingItem {
  readonly nodeId: string;
  readonly reason: string;
}

/** What a roll's halt said: the fields of its `BerthRollHaltedError`, with the session, time and message. */
export type HaltRecord = Pick<BerthRollHaltedError, 'nodeId' | 'nodeIds' | 'phase' | 'hook' | 'lastError' | 'rolledBack' | 'untouched'> & {
  /** The recording session whose roll halted, and when. */
  readonly session: string;
  readonly atMs: number;
  readonly message: string;
};

/** How the liveness phase ended. */
export interface LivenessResult {
  readonly outcome: 'completed' | 'halted' | 'error' | 'timeout';
  /** The node a halt named (its `nodeId` field). */
  readonly haltNodeId: string | null;
  /** The last roll's halt, with every field it gave. */
  readonly halt?: HaltRecord | null;
  readonly message: string | null;
  /** Virtual time the liveness phase took, and the bound it was given. */
  readonly durationMs: number;
  readonly boundMs: number;
  readonly pending: readonly PendingItem[];
}

/** A request IAM denied (the simulator evaluates every call against the caller's policies). */
export interface IamDenialRecord {
  readonly atMs: number;
  /** The role that called: the controller's, or a node's instance profile role (the bootstrap). */
  readonly principalArn: string;
  readonly action: string;
  readonly resource: string;
  /** Denied by an explicit Deny rather than for want of an Allow. */
  readonly explicit: boolean;
}

/** Everything the checkers look at. Plain data: checkers are pure functions of it. */
export interface ChaosEvidence {
  /** The spec the controllers were asked to reach (target revision). */
  readonly spec: ClusterSpec;
  readonly trace: readonly TraceEntry[];
  readonly calls: readonly DriverCall[];
  /** Set once the liveness phase has ended. */
  readonly liveness?: LivenessResult | null;
  /** Requests IAM denied so far (`sim.account.iamDenials()`); absent when IAM is not evaluated. */
  readonly iamDenials?: readonly IamDenialRecord[];
  /**
   * The oldest view the controller promises to decide a disruption on. Default
   * `DEFAULT_FRESHNESS_MS` (Berth's controller); set it for a roll strategy with another promise.
   */
  readonly freshnessBoundMs?: number;
  /**
   * The rolls' replacement timeout: a replacement its session still sees unfinished after this
   * long is a failure (as a failed bootstrap is). Absent: only reported failures count.
   */
  readonly replacementTimeoutMs?: number;
  /** Every hook call the controllers made (the scenario runner records them). */
  readonly hookCalls?: readonly HookCall[];
  /** Every halt of every session, with its fields. */
  readonly halts?: readonly HaltRecord[];
  /** Messages give times as `+ms` after this (the scenario runner: the roll's start). Default 0. */
  readonly originMs?: number;
}

export interface Violation {
  readonly invariant: InvariantId;
  readonly atMs: number;
  readonly nodeId: string | null;
  readonly message: string;
}

/** Something worth recording that is not the controller's fault (e.g. a quorum dip caused by faults alone). */
export interface InvariantNote {
  readonly invariant: InvariantId;
  readonly atMs: number;
  readonly message: string;
}

export interface InvariantResult {
  readonly violations: readonly Violation[];
  readonly notes: readonly InvariantNote[];
}

export type InvariantChecker = (evidence: ChaosEvidence) => InvariantResult;

/** How messages write a virtual time: `+1234` ms after the evidence's origin. */
export const timeIn = (evidence: ChaosEvidence) => (atMs: number): string => `+${atMs - (evidence.originMs ?? 0)}`;

export const ok = (notes: InvariantNote[] = []): InvariantResult => ({ violations: [], notes });
