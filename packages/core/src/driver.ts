import type { LockDriver } from './lock.js';
import type { ClusterObservation, NodeObservation, ObserveScope, Phase } from './observation.js';
import type { VolumeModificationRecord, VolumeTarget } from './plan/plan-volume-changes.js';
import type { ClusterSpec, DeletionPolicy } from './spec/cluster-spec.js';
import type { AdoptionCheck, AdoptionSource } from './adoption.js';

export interface DriverCallOptions {
  readonly signal?: AbortSignal;
}

/**
 * What a driver can do. Core branches on these flags, never on a driver's name, and raises a
 * `BerthCapabilityError` when a strategy needs a flag that is false.
 */
export interface DriverCapabilities {
  /** Instances report their boot phase (the `berth:phase` tag). Default true. */
  readonly phaseReporting: boolean;
  /**
   * Launch lifecycle hooks hold new instances in `Pending:Wait` until the bootstrap completes
   * the action. False on the local emulator (moto), where instances go straight to InService.
   */
  readonly lifecycleHooks: boolean;
  /** `waitForChange` is implemented; otherwise the controller polls `observe`. Default false. */
  readonly changeNotifications: boolean;
  /** Spot instances and interruption notices. Default false. */
  readonly spot: boolean;
  /** `snapshotVolume` works. Default true. */
  readonly snapshots: boolean;
  /** `modifyVolume` works (size, type, IOPS, throughput of a data volume, online). Default true. */
  readonly volumeResize: boolean;
  /** The backend enforces single-attach and same-AZ rules for ENIs and volumes. Default true. */
  readonly attachmentRules: boolean;
  /** ELBv2 target groups: `describeTargetGroups`, `registerTargets`, `deregisterTargets`. Default false. */
  readonly loadBalancers: boolean;
  /** `setNodePaused` works: a node's group can be held at 0 instances and brought back (`pauseNode`). Default false. */
  readonly pauseNodes?: boolean;
  /** `checkAdoption` and `takeOverAdoption`: a node can take over an unmanaged instance's ENI and volume. Default false. */
  readonly adoption?: boolean;
}

export const DEFAULT_CAPABILITIES: DriverCapabilities = Object.freeze({
  phaseReporting: true,
  lifecycleHooks: true,
  changeNotifications: false,
  spot: false,
  snapshots: true,
  volumeResize: true,
  attachmentRules: true,
  loadBalancers: false,
});

export interface ObserveOptions extends DriverCallOptions {
  /**
   * `instances`: groups and instances only (cheaper, used to plan a roll); `groups`: the
   * groups alone, one call (a probe while polling). Default `full`.
   */
  readonly scope?: ObserveScope;
}

export type ResourceKind =
  | 'network-interface'
  | 'volume'
  | 'launch-template'
  | 'launch-template-version'
  | 'auto-scaling-group'
  | 'lifecycle-hook'
  | 'dns-record';

export interface ResourceChange {
  readonly resource: ResourceKind;
  readonly action: 'created' | 'updated' | 'unchanged' | 'deleted' | 'retained' | 'snapshotted';
  readonly id: string;
  readonly detail?: string;
}

export interface EnsureNodeResult {
  readonly nodeId: string;
  readonly revision: string;
  readonly changes: readonly ResourceChange[];
}

export interface DeleteNodeResult {
  readonly nodeId: string;
  readonly changes: readonly ResourceChange[];
  /** Set when the policy was `snapshot`. */
  readonly snapshotId: string | null;
}

export interface DnsRecordSet {
  readonly name: string;
  readonly values: readonly string[];
}

/** One notification of something that changed, from `waitForChange`. */
export interface ClusterChange {
  readonly atMs: number;
  readonly nodeId: string;
  readonly instanceId: string | null;
  readonly kind: 'lifecycle' | 'phase' | 'launch-failed' | 'terminated' | 'disruption';
  /** The new lifecycle state, the phase, or the error. */
  readonly detail: string;
  readonly phase?: Phase;
}

/** ELBv2's `TargetHealth.State` (DescribeTargetHealth). */
export type TargetState = 'initial' | 'healthy' | 'unhealthy' | 'unhealthy.draining' | 'unused' | 'draining' | 'unavailable';

/** One registered target (an instance) of a target group, as DescribeTargetHealth reports it. */
export interface TargetHealthObservation {
  readonly instanceId: string;
  readonly state: TargetState;
  /** `TargetHealth.Reason` (e.g. `Target.DeregistrationInProgress`); null when healthy. */
  readonly reason: string | null;
}

/** One ELBv2 target group and its targets. */
export interface TargetGroupObservation {
  readonly targetGroupArn: string;
  /** The `deregistration_delay.timeout_seconds` attribute, in ms: how long a deregistered target drains. */
  readonly deregistrationDelayMs: number;
  /** How long a new target takes to be healthy at best: `HealthyThresholdCount × HealthCheckIntervalSeconds`, in ms. */
  readonly healthyAfterMs: number;
  readonly targets: readonly TargetHealthObservation[];
}

export interface WaitForChangeOptions extends DriverCallOptions {
  /** Longest wait; a driver may return `[]` sooner (SQS long polls last at most 20 s). */
  readonly timeoutMs: number;
}

export interface EnsureNodeOptions extends DriverCallOptions {
  /**
   * What the caller has just observed of this node. A hint: a driver may use it to skip
   * discovery calls (e.g. when only the launch template needs a new version), and must stay
   * correct and idempotent when the hint is stale.
   */
  readonly observed?: NodeObservation;
  /**
   * Converge everything but the launch template: a group that already launches from a template
   * bound to the node's current ENI and volume stays on it (the roll moves it with the node's
   * batch). A node without one gets its template as usual.
   */
  readonly keepTemplate?: boolean;
  /**
   * The node's membership state to record on its group (`GroupObservation.membership`): set at
   * the group's creation, updated on an existing group. Absent: left as it is.
   */
  readonly membership?: 'joining' | 'member';
}

/**
 * The seam between Berth and a cloud. A driver speaks cloud, not strategy: idempotent async
 * methods over plain data. Core wraps every driver in a {@link RuntimeDriver} that adds
 * retries, rate limiting, timeouts, abort handling and call accounting.
 */
export interface Driver {
  readonly name: string;
  readonly capabilities: DriverCapabilities;

  /** One consistent snapshot of the cluster, in a number of API calls that does not grow with the node count. */
  observe(spec: ClusterSpec, options?: ObserveOptions): Promise<ClusterObservation>;

  /** Creates or updates the node's ENI, volume, launch template version, group with hook, and DNS record. Idempotent. */
  ensureNode(spec: ClusterSpec, nodeId: string, options?: EnsureNodeOptions): Promise<EnsureNodeResult>;

  /** Terminates the instance in its group without decrementing capacity, so the group launches a replacement. */
  replaceInstance(spec: ClusterSpec, nodeId: string, instanceId: string, options?: DriverCallOptions): Promise<void>;

  completeLifecycle(
    spec: ClusterSpec,
    nodeId: string,
    instanceId: string,
    result: 'CONTINUE' | 'ABANDON',
    options?: DriverCallOptions,
  ): Promise<void>;

  /** UPSERTs the given A records in the spec's hosted zone, in one atomic batch. */
  setDns(spec: ClusterSpec, records: readonly DnsRecordSet[], options?: DriverCallOptions): Promise<void>;

  snapshotVolume(
    spec: ClusterSpec,
    nodeId: string,
    options?: DriverCallOptions & { readonly description?: string; readonly wait?: boolean },
  ): Promise<{ readonly snapshotId: string }>;

  /**
   * Points the node's group back at a launch template it launched from before (a rollback after
   * a failed replacement): `to` is the group's template as an earlier observation saw it. Refuses
   * a template that is not this node's. Returns what it changed.
   */
  restoreLaunchTemplate?(
    spec: ClusterSpec,
    nodeId: string,
    to: { readonly launchTemplateId: string; readonly launchTemplateVersion: string },
    options?: DriverCallOptions,
  ): Promise<readonly ResourceChange[]>;

  /**
   * Starts a modification of the node's data volume towards `target` (one `ModifyVolume`; the
   * volume goes `modifying → optimizing → completed`; the node's watcher grows the file system).
   * Core checks shrinks, type limits and the cooldown before it calls this.
   */
  modifyVolume(spec: ClusterSpec, nodeId: string, target: VolumeTarget, options?: DriverCallOptions): Promise<void>;

  /**
   * The latest modification of each given volume that has one (`DescribeVolumesModifications`).
   * Core asks only when a volume change is planned; without this method it cannot check the
   * cooldown itself and leaves it to the cloud.
   */
  volumeModifications?(spec: ClusterSpec, volumeIds: readonly string[], options?: DriverCallOptions): Promise<readonly VolumeModificationRecord[]>;

  /**
   * Moves a spot node's group to on-demand launches (the fallback when spot capacity is missing)
   * or back to spot, keeping the state on the cloud (a group tag) so that a new controller sees
   * it. Does not touch the running instance. Only with `capabilities.spot`.
   */
  setCapacityMarket?(spec: ClusterSpec, nodeId: string, market: 'spot' | 'on-demand', options?: DriverCallOptions): Promise<EnsureNodeResult>;

  /** Deletes the node's group, template, ENI and records; the volume per `policy` (default: the spec's). */
  deleteNode(
    spec: ClusterSpec,
    nodeId: string,
    options?: DriverCallOptions & { readonly policy?: DeletionPolicy },
  ): Promise<DeleteNodeResult>;

  readonly lock: LockDriver;

  /**
   * The given ELBv2 target groups (their deregistration delay and health-check timing) and every
   * target's health. Only when `capabilities.loadBalancers` is true.
   */
  describeTargetGroups?(spec: ClusterSpec, targetGroupArns: readonly string[], options?: DriverCallOptions): Promise<readonly TargetGroupObservation[]>;

  /** Registers the instances as targets of every given target group (idempotent). Only with `capabilities.loadBalancers`. */
  registerTargets?(spec: ClusterSpec, targetGroupArns: readonly string[], instanceIds: readonly string[], options?: DriverCallOptions): Promise<void>;

  /**
   * Deregisters the instances from every given target group (idempotent: a target that is not
   * registered is no error). Their state goes `draining` for the deregistration delay, then they
   * are gone. Only with `capabilities.loadBalancers`.
   */
  deregisterTargets?(spec: ClusterSpec, targetGroupArns: readonly string[], instanceIds: readonly string[], options?: DriverCallOptions): Promise<void>;

  /**
   * Resolves with the changes since the last call (at least one), or with `[]` after
   * `timeoutMs`. Only when `capabilities.changeNotifications` is true.
   */
  waitForChange?(spec: ClusterSpec, options: WaitForChangeOptions): Promise<readonly ClusterChange[]>;

  /** Cloud API calls made so far, by API operation name (e.g. `DescribeInstances`). */
  apiCallCounts?(): Readonly<Record<string, number>>;

  /**
   * `paused: true` marks the node's group paused (the mark `observe` reports as
   * `group.pausedAtMs`, at `atMs`) and then scales it to 0: its instance terminates, its ENI,
   * data volume, launch template, group and DNS records stay, and `ensureNode` keeps the group
   * at 0 while the mark is on. `paused: false` scales the group back to 1 and then removes the
   * mark. Idempotent; returns what it changed. Only with `capabilities.pauseNodes`.
   */
  setNodePaused?(spec: ClusterSpec, nodeId: string, paused: boolean, options?: DriverCallOptions & { readonly atMs?: number }): Promise<readonly ResourceChange[]>;

  /**
   * Checks that the ENI and volume `source` names (or finds on its instance) can become the
   * node's: the ENI's IP and subnet are the node's, the volume is in the node's AZ and fits the
   * spec, neither belongs to another node or cluster. Throws a `BerthConfigError` naming the
   * node and field otherwise, before changing anything. With `protect`, then sets
   * DeleteOnTermination=false on both attachments, so terminating the unmanaged instance keeps
   * them. Only with `capabilities.adoption`.
   */
  checkAdoption?(spec: ClusterSpec, nodeId: string, source: AdoptionSource, options?: DriverCallOptions & { readonly protect?: boolean }): Promise<AdoptionCheck>;

  /**
   * Takes the ENI and volume over for the node, once the unmanaged instance is confirmed gone:
   * checks again on a fresh look, refuses while that instance is running or stopped (its
   * primary ENI cannot be detached), waits until both are `available`, and tags them as the
   * node's. `ensureNode` then launches onto them. Only with `capabilities.adoption`.
   */
  takeOverAdoption?(spec: ClusterSpec, nodeId: string, source: AdoptionSource, options?: DriverCallOptions): Promise<AdoptionCheck>;
}
