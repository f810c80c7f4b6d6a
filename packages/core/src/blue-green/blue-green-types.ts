import type { Clock } from '../clock.js';
import type { DeleteNodeResult, Driver, TargetGroupObservation } from '../driver.js';
import type { Lease } from '../lock.js';
import type { ClusterObservation } from '../observation.js';
import type { FieldChange } from '../plan/plan-cluster.js';
import type { NodeStatus } from '../plan/node-status.js';
import type { RuntimeOptions } from '../runtime/runtime-driver.js';
import type { ClusterSpec, DeletionPolicy } from '../spec/cluster-spec.js';
import type { ClusterInput } from '../spec/schema.js';

/** The two sides of a blue/green tier. */
export type Side = 'blue' | 'green';

export const SIDES: readonly Side[] = Object.freeze(['blue', 'green'] as const);

export function otherSide(side: Side): Side {
  return side === 'blue' ? 'green' : 'blue';
}

/** Traffic goes to the side whose node IPs a Route 53 A record lists. */
export interface BlueGreenDnsTraffic {
  readonly hostedZoneId: string;
  /** The name clients resolve, e.g. `web.example.com`. Berth UPSERTs its A record. */
  readonly recordName: string;
  /** The record's TTL in seconds. Default 60. */
  readonly ttl?: number;
}

/**
 * How traffic reaches the tier: persistent ELBv2 target groups (the live side's instances are
 * registered) or a DNS record (it lists the live side's node IPs). Exactly one.
 */
export type BlueGreenTraffic =
  | { readonly targetGroupArns: readonly string[]; readonly dns?: undefined }
  | { readonly dns: BlueGreenDnsTraffic; readonly targetGroupArns?: undefined };

/** When `verify` is asked. */
export type VerifyStage =
  /** The new side is up, every node healthy, no traffic yet: may traffic move to it? */
  | 'before-shift'
  /** Polled on the live (new) side during the rollback window: is it still good? */
  | 'window'
  /** The old side, before traffic goes back to it: can it take it? */
  | 'before-rollback';

/** What `verify` is told about the side it judges. */
export interface VerifyContext {
  readonly stage: VerifyStage;
  /** The side's cluster spec (the new revision for the side being deployed). */
  readonly spec: ClusterSpec;
  /** The latest look at the side. */
  readonly observation: ClusterObservation;
  /** The side's node IPs. */
  readonly ips: readonly string[];
  /** The side's current instances. */
  readonly instanceIds: readonly string[];
  /** Fires when the hook's timeout passes or the deploy is aborted: stop then. */
  readonly signal: AbortSignal;
}

/** Application-level gates of a blue/green deploy. */
export interface BlueGreenHooks {
  /**
   * Is this side good? `false`, a throw or a timeout (`hookTimeoutMs`) means no: before the
   * shift the deploy stops with traffic untouched; in the rollback window traffic goes back.
   */
  verify?(side: Side, ctx: VerifyContext): boolean | Promise<boolean>;
}

/** Everything `createBlueGreen` takes; checked before any cloud call. */
export interface BlueGreenOptions {
  /**
   * The tier's name (a cluster name: 2–40 of a-z, 0-9, "-"). Its lease — held by every
   * `deploy()`, `rollback()` and `deleteIdle()` — is the lock of this name, and the traffic's
   * IAM statements are `iamPolicyFor(blueGreen.trafficSpec)`.
   */
  readonly name: string;
  readonly driver: Driver;
  readonly clock: Clock;
  /**
   * The two sides: the same tier with their own cluster names, node ids and IPs (e.g.
   * `web-blue`, `web-green`), in one region. Stateless: `dataVolume.deletionPolicy` must be
   * `delete` or `snapshot`, since a side is deleted after every rollback window.
   */
  readonly blue: ClusterInput;
  readonly green: ClusterInput;
  readonly traffic: BlueGreenTraffic;
  /** How long the old side is kept after the shift, with the new side's health watched. */
  readonly rollbackWindowMs: number;
  readonly hooks?: BlueGreenHooks;
  /** Who holds the leases. Default `berth-bg-<n>@<clock time>`. */
  readonly holderId?: string;
  /** This instance's lease session (see `ControllerOptions.sessionId`). Default: holder id and a count. */
  readonly sessionId?: string;
  /** Seed of the retry-jitter PRNG. Default: a hash of the holder id. */
  readonly seed?: number;
  readonly runtime?: Partial<Omit<RuntimeOptions, 'clock' | 'prng'>>;
  /** Lease length; renewed when half of it is left. Default 600 000 ms. */
  readonly lockTtlMs?: number;
  /** Pause between looks while waiting and during the rollback window. Default 10 000 ms. */
  readonly pollIntervalMs?: number;
  /** How long the new side may take until every node is healthy. Default 1 800 000 ms. */
  readonly healthyTimeoutMs?: number;
  /** Target groups: how long the new side's targets may take to be `healthy`. Default 600 000 ms. */
  readonly registerTimeoutMs?: number;
  /** DNS: time for a change to reach every Route 53 name server (R53-4). Default 60 000 ms. */
  readonly dnsPropagationMs?: number;
  /** How long one `verify` call may take. Default 60 000 ms. */
  readonly hookTimeoutMs?: number;
  /**
   * Nodes of the live side that may be unhealthy at a look during the rollback window before it
   * counts as a failure (an instance the Auto Scaling group is replacing). Default 0.
   */
  readonly tolerateUnhealthyNodes?: number;
  /**
   * A side that failed (before the shift, or in the window after traffic went back) is deleted
   * once traffic is off it, unless this is true: then it stays for inspection and the next
   * deploy replaces it. Default false.
   */
  readonly keepFailedSide?: boolean;
}

/** What to deploy: the idle side's spec with these changes. */
export interface DeployOptions {
  /** The new image (the side's `image`; per-node image overrides are dropped). */
  readonly image?: string;
  /**
   * Any other change (instance type, bootstrap scripts...): gets the side's input with `image`
   * applied, returns the new input. The side's name, region and nodes must stay.
   */
  readonly change?: (input: ClusterInput, side: Side) => ClusterInput;
  /** This deploy's rollback window, instead of the tier's. */
  readonly rollbackWindowMs?: number;
  /** Aborts the deploy; the cloud is left as it is, and a later `deploy()` continues from it. */
  readonly signal?: AbortSignal;
}

/** Where traffic goes, as the cloud says now. */
export interface TrafficStatus {
  readonly kind: 'dns' | 'target-groups';
  /**
   * `blue`/`green`: all of it to that side; `none`: nowhere (no record, no target); `mixed`:
   * both sides (a shift under way or interrupted); `foreign`: only to addresses or instances of
   * neither side.
   */
  readonly state: Side | 'none' | 'mixed' | 'foreign';
  /** The side that takes all the traffic, when one does. */
  readonly live: Side | null;
  /** DNS: the record as Route 53 has it (null: no record). */
  readonly record: { readonly name: string; readonly ttl: number; readonly values: readonly string[] } | null;
  /** Target groups: each group with its targets' health. */
  readonly targetGroups: readonly TargetGroupObservation[] | null;
  /** Registered (or draining) instances per side. */
  readonly registered: Readonly<Record<Side, readonly string[]>>;
  readonly draining: Readonly<Record<Side, readonly string[]>>;
  /** Record values or registered instances that belong to neither side. */
  readonly foreign: readonly string[];
  /**
   * Target groups: registered targets whose instance is stopped or terminated (`unused`,
   * `Target.InvalidState`, ELB-12). They take no traffic; a deploy deregisters those it can
   * still tell are a side's.
   */
  readonly dead: readonly string[];
  /** One line for people. */
  readonly summary: string;
}

/** One side as `status()` found it. */
export interface SideStatus {
  readonly side: Side;
  readonly clusterName: string;
  /** Some resource of the side exists. */
  readonly exists: boolean;
  readonly nodes: readonly NodeStatus[];
  readonly healthy: number;
  readonly total: number;
  /** Images and instance types its current instances run (DescribeInstances). */
  readonly images: readonly string[];
  readonly instanceTypes: readonly string[];
  readonly instanceIds: readonly string[];
  readonly ips: readonly string[];
}

/** What `status()` returns: where traffic goes and how each side stands, read from the cloud. */
export interface BlueGreenStatus {
  readonly tier: string;
  readonly observedAtMs: number;
  /** The side all traffic goes to, or null. Derived from the cloud on every call. */
  readonly live: Side | null;
  readonly traffic: TrafficStatus;
  readonly sides: Readonly<Record<Side, SideStatus>>;
  /** The tier's lease, when one is held (its holder is deploying, rolling back or deleting). */
  readonly lock: Lease | null;
}

/** One step of a blue/green plan; `deploy()` runs them in this order. */
export type BlueGreenStep =
  | { readonly kind: 'delete-side'; readonly side: Side; readonly clusterName: string; readonly nodeIds: readonly string[]; readonly policy: DeletionPolicy; readonly when: 'now' | 'after-window'; readonly why: string }
  | { readonly kind: 'create-side'; readonly side: Side; readonly clusterName: string; readonly nodeIds: readonly string[]; readonly existing: readonly string[] }
  | { readonly kind: 'wait-healthy'; readonly side: Side; readonly timeoutMs: number }
  | { readonly kind: 'verify'; readonly side: Side }
  | { readonly kind: 'shift-traffic'; readonly from: Side | null; readonly to: Side; readonly how: string; readonly settleMs: number | null }
  | { readonly kind: 'settle'; readonly to: Side; readonly how: string }
  | { readonly kind: 'rollback-window'; readonly live: Side; readonly old: Side; readonly windowMs: number };

/** What `deploy()` would do now, in order: nothing is created, moved or deleted that is not here. */
export interface BlueGreenPlan {
  readonly tier: string;
  readonly traffic: TrafficStatus;
  readonly live: Side | null;
  /** The side the deploy brings up (or finishes), null when there is nothing to do or it is blocked. */
  readonly target: Side | null;
  /** The target's fields against what the live side runs. */
  readonly changes: readonly FieldChange[];
  readonly steps: readonly BlueGreenStep[];
  /** What a failure does, before and after the shift. */
  readonly onFailure: readonly string[];
  /** A deploy that stopped part-way, as the cloud shows it, and where this one picks up. */
  readonly resume: string | null;
  readonly warnings: readonly string[];
  /** Why the deploy cannot go on (nothing is done); null when it can. */
  readonly blocked: string | null;
  readonly noChanges: boolean;
}

/** What `deploy()` did, with every step's clock time. */
export interface DeployReport {
  readonly tier: string;
  /**
   * `completed`; `rolled-back` (by `rollback()`); `no-change` (the live side already runs it);
   * `failed` (on a `BerthDeployError`'s `report`).
   */
  readonly outcome: 'completed' | 'rolled-back' | 'no-change' | 'failed';
  readonly from: Side | null;
  readonly to: Side | null;
  /** The side traffic goes to at the end. */
  readonly live: Side | null;
  readonly resumed: string | null;
  readonly startedAtMs: number;
  readonly finishedAtMs: number;
  readonly shiftedAtMs: number | null;
  /** The sides this deploy deleted, with what each node's deletion did. */
  readonly deleted: readonly { readonly side: Side; readonly nodes: readonly DeleteNodeResult[] }[];
  /** Every step with its clock time. */
  readonly steps: readonly { readonly step: string; readonly atMs: number }[];
}

/** What `rollback()` did. */
export interface RollbackResult {
  readonly tier: string;
  /** The side traffic goes to now. */
  readonly live: Side | null;
  /** The side traffic left (null when the deploy stopped before its shift). */
  readonly from: Side | null;
  readonly atMs: number;
  readonly summary: string;
}
