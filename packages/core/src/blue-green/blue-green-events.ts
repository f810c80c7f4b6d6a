import type { DeleteNodeResult } from '../driver.js';
import type { DeployStage } from './blue-green-error.js';
import type { DeployReport, Side, VerifyStage } from './blue-green-types.js';

/** Every event a blue/green tier emits, by name. Each carries the clock time `atMs`. */
export interface BlueGreenEvents {
  'lock.acquired': { holder: string; session: string; token: number; expiresAtMs: number; atMs: number };
  'lock.released': { holder: string; session: string; atMs: number };
  'lock.lost': { holder: string; session: string; reason: string; atMs: number };
  /** `resume` says what a stopped deploy left and where this one picks up. */
  'deploy.started': { from: Side | null; to: Side; resume: string | null; atMs: number };
  'side.applying': { side: Side; clusterName: string; atMs: number };
  /** One node of the side converged by `apply()` (the controller's `apply.node`). */
  'side.node': { side: Side; nodeId: string; changes: readonly { resource: string; action: string; id: string }[]; atMs: number };
  /** While waiting for the side: how many of its nodes are healthy (when the count changes). */
  'side.waiting': { side: Side; healthy: number; total: number; atMs: number };
  'side.healthy': { side: Side; durationMs: number; atMs: number };
  /** `verify` said yes before the shift or before a rollback (the window's polls report only a no). */
  'side.verified': { side: Side; stage: VerifyStage; atMs: number };
  'side.rejected': { side: Side; stage: VerifyStage; reason: string; atMs: number };
  /** `why`: `stale` (an idle side on another revision), `failed`, or `old` (its rollback window is over). */
  'side.deleting': { side: Side; clusterName: string; nodeIds: readonly string[]; why: 'stale' | 'failed' | 'old'; atMs: number };
  'side.deleted': { side: Side; clusterName: string; nodes: readonly DeleteNodeResult[]; atMs: number };
  'traffic.shifting': { from: Side | null; to: Side; atMs: number };
  /** DNS: the record now lists `values`; clients may use the previous ones for `settleMs`. */
  'traffic.dns': { recordName: string; values: readonly string[]; ttl: number; previous: { values: readonly string[]; ttl: number } | null; settleMs: number; atMs: number };
  'traffic.registered': { side: Side; instanceIds: readonly string[]; targetGroupArns: readonly string[]; durationMs: number; atMs: number };
  'traffic.deregistering': { side: Side; instanceIds: readonly string[]; targetGroupArns: readonly string[]; delayMs: number; atMs: number };
  'traffic.shifted': { from: Side | null; to: Side; atMs: number };
  /** Traffic went back to the old side: `automatic` after a failed check, or by `rollback()`. */
  'traffic.shifted-back': { from: Side; to: Side; reason: string; automatic: boolean; atMs: number };
  'window.started': { live: Side; old: Side; endsAtMs: number; atMs: number };
  /** A check of the live side failed during the window (traffic goes back next). */
  'window.failed': { side: Side; reason: string; atMs: number };
  /** The old side is not healthy: a rollback could not go to it now. */
  'window.warning': { side: Side; reason: string; atMs: number };
  'window.ended': { live: Side; atMs: number };
  'deploy.completed': { report: DeployReport; atMs: number };
  'deploy.rolled-back': { report: DeployReport; reason: string; atMs: number };
  'deploy.failed': { stage: DeployStage; reason: string; live: Side | null; shiftedBack: boolean; deleted: Side | null; report: DeployReport; atMs: number };
}

/** The name of a blue/green event. */
export type BlueGreenEventName = keyof BlueGreenEvents;
