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

/**
 * Application-level membership changes, called when the cluster grows or shrinks (`apply()` with
 * nodes added to the spec, or `apply({ removeNodes })`). One node at a time, under the lease,
 * each with its own timeout (`hookTimeoutsMs.addMember` / `.removeMember`). Both must be
 * idempotent: a controller that crashed mid-change calls the hook again for the same node.
 * Without them the application is taken to manage its membership itself (nodes join and leave
 * on their own); Berth still goes one node at a time with the health gate between steps.
 */
export interface MembershipHooks {
  /**
   * The node's instance is InService and healthy: make it a voting member now (etcd
   * `member add`, ZooKeeper `reconfig -add`, Kafka: nothing). Called before the health gate.
   */
  addMember?(nodeId: string, ctx: HookContext): void | Promise<void>;
  /**
   * Decommission the node: take it out of the membership and move its data off (etcd
   * `member remove`, Kafka reassign partitions, Cassandra `nodetool decommission`). Its
   * resources are deleted only once this returned and the rest of the cluster is healthy.
   */
  removeMember?(nodeId: string, ctx: HookContext): void | Promise<void>;
}

/** Every hook a controller takes: the roll's gates and the membership changes. */
export type ClusterHooks = RollHooks & MembershipHooks;

/** Where a roll holds: after its canary batch or at a checkpoint. */
export interface RollHold {
  readonly kind: 'canary' | 'checkpoint';
  /** Outdated nodes replaced so far, and how many the roll has to replace in all. */
  readonly replaced: readonly string[];
  readonly total: number;
  /** The checkpoint's percentage, for `checkpoint`. */
  readonly percent: number | null;
}
