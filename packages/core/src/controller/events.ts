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
  /**
   * `watch()`: the node has not come into service for longer than `stuckAfterMs` (once per
   * instance): the instance and its lifecycle state, the last phase, how long, the bootstrap's
   * failure reason and the group's last failed activity.
   */
  'node.stuck': {
    nodeId: string;
    phase: string;
    sinceMs: number;
    atMs: number;
    instanceId: string | null;
    lifecycleState: string | null;
    stuckMs: number;
    reason: string | null;
    activity: string | null;
  };
  /** `watch({ onStuck: 'abandon' })` abandoned the stuck instance's launch (CompleteLifecycleAction ABANDON): the group launches another. */
  'node.abandoned': { nodeId: string; instanceId: string; stuckMs: number; atMs: number };
  /** `watch({ onStuck: 'abandon' })` did not abandon a stuck instance now (once per instance): why (quorum, a roll holds the lease). */
  'node.abandon-deferred': { nodeId: string; instanceId: string; reason: string; atMs: number };
  /** `pauseNode()` scaled the node's group to 0 (`instanceId`: the instance it stopped). */
  'node.paused': { nodeId: string; instanceId: string | null; atMs: number };
  /** `resumeNode()` scaled the node's group back to 1. */
  'node.resumed': { nodeId: string; atMs: number };
  /**
   * A spot node's group moved to on-demand (spot capacity missing for `capacity.fallbackAfterSec`)
   * or back to spot (`watch()`, docs/spot.md); `replacedInstanceId`: the on-demand instance a
   * return to spot replaces.
   */
  'node.capacity': { nodeId: string; market: 'spot' | 'on-demand'; reason: string; replacedInstanceId: string | null; atMs: number };
  'quorum.at-risk': { down: readonly string[]; tolerance: number; atMs: number };
  'quorum.restored': { atMs: number };
  'dns.repaired': { records: readonly string[]; atMs: number };
  /**
   * `watch()` was throttled by AWS (after the runtime's own retries): it pauses `delayMs`
   * (exponential, jittered; `attempt` counts throttled looks in a row) and looks again.
   */
  'watch.throttled': { operation: string; code: string; attempt: number; delayMs: number; atMs: number };
  /** `adopt()` checked the node's ENI and volume and set DeleteOnTermination=false; it asks `confirmUnmanagedStopped` next. */
  'node.adopting': { nodeId: string; eniId: string; volumeId: string; instanceId: string | null; atMs: number };
  /** The node took over the ENI and volume and its first instance under Berth is InService and healthy. */
  'node.adopted': { nodeId: string; eniId: string; volumeId: string; fromInstanceId: string | null; instanceId: string; atMs: number };
  /**
   * A membership step starts: the node joins (`sizeBefore` → `sizeAfter` members, `quorumAfter`
   * the majority then). `resumed`: its group was already there, tagged `joining` (a change a
   * controller started and did not finish).
   */
  'member.adding': { nodeId: string; sizeBefore: number; sizeAfter: number; quorumAfter: number; resumed: boolean; atMs: number };
  /** The node is healthy, `addMember` returned, the health gate passed: it is a member. */
  'member.added': { nodeId: string; size: number; quorum: number; durationMs: number; atMs: number };
  /** A node the spec no longer lists leaves: `removeMember` next (`resumed`: only its deletion was left). */
  'member.removing': { nodeId: string; sizeBefore: number; sizeAfter: number; quorumAfter: number; resumed: boolean; atMs: number };
  /** `removeMember` returned, the health gate passed, and the node's resources went per its deletion policy. */
  'member.removed': { nodeId: string; size: number; quorum: number; changes: readonly { resource: string; action: string; id: string; detail?: string }[]; snapshotId: string | null; durationMs: number; atMs: number };
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
