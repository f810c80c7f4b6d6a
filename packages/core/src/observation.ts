/**
 * One consistent snapshot of a cluster as the cloud reports it. Plain readonly data: no SDK
 * types cross this line.
 */

/** How far an instance has come in its boot, as it reports it (a tag on the instance). */
export type Phase = 'launching' | 'attaching' | 'mounting' | 'configuring' | 'joining' | 'healthy' | 'in-service' | 'failed' | 'stopping';

export const PHASE_ORDER: readonly Phase[] = ['launching', 'attaching', 'mounting', 'configuring', 'joining', 'healthy', 'in-service'];

/** Auto Scaling lifecycle states (DescribeAutoScalingGroups), plus `Detached` for instances seen outside the group. */
export type LifecycleState =
  | 'Pending'
  | 'Pending:Wait'
  | 'Pending:Proceed'
  | 'InService'
  | 'Terminating'
  | 'Terminating:Wait'
  | 'Terminating:Proceed'
  | 'Terminated'
  | 'Standby'
  | 'Detached';

export type Ec2State = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

export interface InstanceObservation {
  readonly instanceId: string;
  readonly lifecycleState: LifecycleState;
  readonly ec2State: Ec2State;
  /** The `berth:revision` tag; null when missing. */
  readonly revision: string | null;
  /** The reported phase (`berth:phase` tag); null before the bootstrap reports. */
  readonly phase: Phase | null;
  /** For `failed`: the reason the bootstrap reported. */
  readonly phaseReason: string | null;
  readonly az: string;
  readonly launchedAtMs: number;
  /** The Auto Scaling health status. */
  readonly healthStatus: 'Healthy' | 'Unhealthy';
  readonly spot: boolean;
  /**
   * A disruption AWS announced for this instance and Berth did not start (a spot interruption
   * warning, a scheduled retirement or stop): the planner counts the node as down from the
   * notice on. Null or absent when none is known.
   */
  readonly disruption?: InstanceDisruption | null;
  /** The image and instance type it runs (DescribeInstances), when known: what `plan()` shows as the change. */
  readonly imageId?: string | null;
  readonly instanceType?: string | null;
}

/** A disruption announced by AWS before it happens. */
export interface InstanceDisruption {
  readonly kind: 'spot-interruption' | 'scheduled-retirement' | 'scheduled-stop' | 'scheduled-reboot';
  /** When the notice was seen (or sent, when AWS says). */
  readonly noticedAtMs: number;
  /** When AWS will act (spot: two minutes after the warning); null when it did not say. */
  readonly deadlineMs: number | null;
  /** The notice as AWS gave it (e.g. `instance-action: terminate`). */
  readonly detail: string;
}

export interface GroupObservation {
  readonly name: string;
  readonly minSize: number;
  readonly maxSize: number;
  readonly desiredCapacity: number;
  readonly launchTemplateId: string | null;
  /** The launch template version the group launches from. */
  readonly launchTemplateVersion: string | null;
  /** The revision stored on that launch template version (null when unknown). */
  readonly revision: string | null;
  readonly suspendedProcesses: readonly string[];
  readonly hasLaunchHook: boolean;
  /** The latest scaling activity that failed, if the latest activity failed (e.g. ENI in use). */
  readonly lastActivityError: string | null;
  /**
   * When `controller.pauseNode()` paused the node (clock ms; the AWS driver's `berth:paused`
   * group tag): its group stays at 0 instances until `resumeNode()`. Null or absent: not paused.
   */
  readonly pausedAtMs?: number | null;
  /**
   * The node's place in the application's membership, as the group's `berth:membership` tag
   * records it: `joining` from the group's creation by a membership step until `addMember`
   * and the health gate passed, then `member`. Null or absent: a member (a node the cluster was
   * created with, or a group made before the tag existed).
   */
  readonly membership?: 'joining' | 'member' | null;
  /**
   * A spot node fell back to on-demand at this time (the group's `berth:on-demand-since` tag):
   * its group launches on-demand until Berth tries spot again. Null or absent: no fallback.
   */
  readonly onDemandSinceMs?: number | null;
  /**
   * Since when the group's launches have been failing for want of spot capacity (the oldest of
   * its latest run of failed launch activities that said so). Null or absent: not failing for it.
   */
  readonly spotUnavailableSinceMs?: number | null;
}

export interface EniObservation {
  readonly eniId: string;
  readonly ip: string;
  readonly subnetId: string;
  readonly status: 'available' | 'in-use' | 'attaching' | 'detaching';
  readonly attachedInstanceId: string | null;
}

export interface VolumeAttachmentObservation {
  readonly instanceId: string;
  readonly state: 'attaching' | 'attached' | 'detaching' | 'detached' | 'busy';
}

export interface VolumeObservation {
  readonly volumeId: string;
  readonly az: string;
  readonly sizeGiB: number;
  readonly type: string;
  readonly state: 'creating' | 'available' | 'in-use' | 'deleting' | 'deleted' | 'error';
  readonly attachments: readonly VolumeAttachmentObservation[];
  /** Provisioned IOPS as the volume reports them (null when it reports none). */
  readonly iops: number | null;
  /** Throughput in MiB/s (gp3; null for other types). */
  readonly throughputMiBps: number | null;
}

export interface DnsRecordObservation {
  readonly name: string;
  readonly type: 'A';
  readonly ttl: number;
  readonly values: readonly string[];
}

export interface NodeObservation {
  readonly nodeId: string;
  readonly group: GroupObservation | null;
  /**
   * Every instance seen for this node, newest first: the group's current ones, and
   * terminated ones EC2 still reports (about an hour), whose phase tags tell why they went.
   */
  readonly instances: readonly InstanceObservation[];
  readonly eni: EniObservation | null;
  readonly volume: VolumeObservation | null;
}

export interface ClusterObservation {
  readonly clusterName: string;
  /** Clock time at which the observation was completed. */
  readonly observedAtMs: number;
  /**
   * What was looked at: `full` (every resource), `instances` (groups and instances), or
   * `groups` (a one-call probe: the groups and their instances' lifecycle states only —
   * revisions and phases are null; not enough to plan on).
   */
  readonly scope: ObserveScope;
  /** Keyed by node id; a node with no resources at all is absent. */
  readonly nodes: Readonly<Record<string, NodeObservation>>;
  /** A records in the cluster's zone under the cluster's names (full scope with DNS only). */
  readonly dnsRecords: readonly DnsRecordObservation[] | null;
}

export type ObserveScope = 'full' | 'instances' | 'groups';

/** Instances that still count as the node's current one (not on their way out). */
export function liveInstances(node: NodeObservation): InstanceObservation[] {
  return node.instances.filter(
    (i) =>
      i.ec2State !== 'terminated' &&
      i.ec2State !== 'shutting-down' &&
      !i.lifecycleState.startsWith('Terminat') &&
      i.lifecycleState !== 'Detached',
  );
}
