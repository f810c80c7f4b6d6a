import type { Phase } from '../observation.js';
import type { RollReport } from './roll-report.js';

/** Every event a controller emits, by name. Each carries the clock time `atMs`. */
export interface ControllerEvents {
  'lock.acquired': { holder: string; session: string; token: number; expiresAtMs: number; atMs: number };
  'lock.released': { holder: string; session: string; atMs: number };
  /** The lease was taken over or expired: the controller stops without another write. */
  'lock.lost': { holder: string; session: string; reason: string; atMs: number };
  'apply.node': { nodeId: string; changes: readonly { resource: string; action: string; id: string }[]; atMs: number };
  'roll.started': { rollId: string; outdated: readonly string[]; maxUnavailable: number; tolerance: number; atMs: number };
  'roll.waiting': { reason: string; nodeIds: readonly string[]; atMs: number };
  'batch.started': { index: number; nodeIds: readonly string[]; budget: number; atMs: number };
  'batch.completed': { index: number; nodeIds: readonly string[]; durationMs: number; atMs: number };
  /** The batch's replacements are done: the cluster must stay healthy this long before the batch counts as done. */
  'batch.baking': { index: number; nodeIds: readonly string[]; bakeMs: number; untilMs: number; atMs: number };
  /** The roll holds after its canary or at a checkpoint, until `untilMs` (null: until `resume()` or `approve`). */
  'roll.held': { kind: 'canary' | 'checkpoint'; percent: number | null; replaced: readonly string[]; total: number; untilMs: number | null; atMs: number };
  /** A hold or a pause ended. */
  'roll.resumed': { by: 'resume' | 'approve' | 'hold-elapsed'; atMs: number };
  /** `pause()` took effect: the roll stopped before its next batch. */
  'roll.paused': { atMs: number };
  /** The node's instance left the load balancer's target groups; it drains for `delayMs`. */
  'node.draining': { nodeId: string; instanceId: string; targetGroupArns: readonly string[]; delayMs: number; atMs: number };
  /** New instances were registered with the target groups; the batch waits for `healthy`. */
  'node.registering': { nodeIds: readonly string[]; instanceIds: readonly string[]; targetGroupArns: readonly string[]; atMs: number };
  'node.registered': { nodeIds: readonly string[]; instanceIds: readonly string[]; targetGroupArns: readonly string[]; durationMs: number; atMs: number };
  'node.replacing': { nodeId: string; instanceId: string; atMs: number };
  'node.phase': { nodeId: string; instanceId: string; phase: Phase; reason: string | null; atMs: number };
  'node.replaced': { nodeId: string; oldInstanceId: string | null; newInstanceId: string; durationMs: number; atMs: number };
  'node.failed': { nodeId: string; instanceId: string | null; reason: string; atMs: number };
  'node.lost': { nodeId: string; instanceId: string; atMs: number };
  'node.recovered': { nodeId: string; instanceId: string; downMs: number; atMs: number };
  /** `watch()` replaces a node AWS announced will go, before its deadline. */
  'node.preempting': { nodeId: string; instanceId: string; kind: string; deadlineMs: number | null; atMs: number };
  'node.stuck': { nodeId: string; phase: string; sinceMs: number; atMs: number };
  /**
   * A spot node's group moved to on-demand (spot capacity missing for `capacity.fallbackAfterSec`)
   * or back to spot (`watch()`, docs/spot.md); `replacedInstanceId`: the on-demand instance a
   * return to spot replaces.
   */
  'node.capacity': { nodeId: string; market: 'spot' | 'on-demand'; reason: string; replacedInstanceId: string | null; atMs: number };
  'quorum.at-risk': { down: readonly string[]; tolerance: number; atMs: number };
  'quorum.restored': { atMs: number };
  'dns.repaired': { records: readonly string[]; atMs: number };
  'roll.halted': {
    reason: string;
    nodeId: string | null;
    nodeIds: readonly string[];
    phase: string | null;
    hook: string | null;
    lastError: string | null;
    /** Nodes whose launch template went back to their last good revision. */
    rolledBack: readonly string[];
    /** Outdated nodes this roll never touched. */
    untouched: readonly string[];
    report: RollReport;
    atMs: number;
  };
  /** The roll was aborted (its signal fired); the report says how far it came. */
  'roll.aborted': { report: RollReport; atMs: number };
  'roll.completed': { report: RollReport; atMs: number };
  /**
   * The roll ended on an error that is neither a halt nor an abort (a driver error that is not
   * retryable, the lock held by another controller at the start): `roll()` rejects with it.
   */
  'roll.failed': { code: string | null; message: string; report: RollReport; atMs: number };
}

export type ControllerEventName = keyof ControllerEvents;
