import type { ClusterObservation } from './observation.js';
import type { ClusterSpec } from './spec/cluster-spec.js';

export interface HookContext {
  readonly spec: ClusterSpec;
  /** The latest observation the controller has. */
  readonly observation: ClusterObservation;
  /** Fires when the hook's timeout passes or the roll is aborted: stop then. */
  readonly signal: AbortSignal;
  /** Nodes the roll has taken down on purpose right now (its batch in flight). */
  readonly disrupting?: readonly string[];
}

/**
 * Application-level gates the controller calls during a roll. All optional. Each runs with a
 * timeout (`hookTimeoutsMs`, defaults in `DEFAULT_HOOK_TIMEOUTS_MS`) and its own `ctx.signal`;
 * a hook that throws or outlives its timeout halts the roll, naming the hook and the node,
 * before any further node is touched.
 */
export interface RollHooks {
  /** Whether this node leads the application now; the leader is replaced last. */
  isLeader?(nodeId: string, ctx: HookContext): boolean | Promise<boolean>;
  /** Called before a node's instance is terminated: drain it, step a leader down... */
  beforeReplace?(nodeId: string, ctx: HookContext): void | Promise<void>;
  /** Called once the node's new instance is InService and healthy. */
  afterReplace?(nodeId: string, ctx: HookContext): void | Promise<void>;
  /**
   * The application's own verdict (Kafka: no under-replicated partitions; MongoDB: a primary
   * and caught-up secondaries). Gates every batch and follows every replacement.
   */
  clusterHealthy?(ctx: HookContext): boolean | Promise<boolean>;
  /**
   * Asked, polled with backoff, while a roll holds after its canary or at a checkpoint: `true`
   * lets it go on (as `resume()` does). Without it, a hold with no `holdMs` waits for `resume()`.
   */
  approve?(hold: RollHold, ctx: HookContext): boolean | Promise<boolean>;
  /**
   * Adoption (`controller.adopt`): `true` once the unmanaged instance that holds the node's ENI
   * and volume is terminated (or terminating), e.g. after the hook terminated it. Berth detaches
   * and attaches nothing without it. Called after Berth set DeleteOnTermination=false on both.
   */
  confirmUnmanagedStopped?(nodeId: string, instanceId: string | null, ctx: HookContext): boolean | Promise<boolean>;
}

/** Where a roll holds: after its canary batch or at a checkpoint. */
export interface RollHold {
  readonly kind: 'canary' | 'checkpoint';
  /** Outdated nodes replaced so far, and how many the roll has to replace in all. */
  readonly replaced: readonly string[];
  readonly total: number;
  /** The checkpoint's percentage, for `checkpoint`. */
  readonly percent: number | null;
}
