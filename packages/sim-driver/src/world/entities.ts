import type { Ec2State, LifecycleState } from '@berth/core';
import type { QueuedEvent } from '../event-queue.js';
import type { AgentConfig } from '../user-data-config.js';

/** Mutable world entities. Outside the package they are exposed read-only (`sim.world`). */
export type Tags = Record<string, string>;

// ---- the account's network and identity (what exists before Berth runs) ---------------------

export interface SimVpc {
  readonly id: string;
  readonly cidr: string;
}

export interface SimSubnet {
  readonly id: string;
  readonly az: string;
  readonly cidr: string;
  readonly vpcId: string;
}

export interface SimSecurityGroup {
  readonly id: string;
  readonly vpcId: string;
  readonly name: string;
}

export interface SimImage {
  readonly id: string;
  readonly name: string;
  readonly rootDeviceName: string;
  readonly state: 'available';
}

export interface SimKeyPair {
  readonly name: string;
}

export interface SimKmsKey {
  readonly id: string;
  readonly arn: string;
  /** Key ids and aliases that resolve to this key. */
  readonly aliases: readonly string[];
}

export interface SimRole {
  readonly name: string;
  readonly arn: string;
  /** Inline policies by name (documents as JSON values). */
  readonly policies: Map<string, unknown>;
}

export interface SimInstanceProfile {
  readonly name: string;
  readonly arn: string;
  readonly roleName: string;
}

// ---- EC2 ------------------------------------------------------------------------------------

export interface SimInstance {
  readonly id: string;
  /** `berth:cluster` / `berth:node` tags at launch (for tracing and inspection). */
  readonly clusterName: string | null;
  readonly nodeId: string | null;
  groupName: string | null;
  readonly az: string;
  readonly subnetId: string;
  readonly vpcId: string;
  readonly eniId: string | null;
  readonly privateIp: string | null;
  readonly imageId: string;
  readonly instanceType: string;
  readonly keyName: string | null;
  readonly launchTemplate: { readonly id: string; readonly name: string; readonly version: number } | null;
  /** Base64, as given in the launch template. */
  readonly userData: string | null;
  /** What the node bootstrap reads from its user data (null: not a Berth bootstrap). */
  readonly agentConfig: AgentConfig | null;
  readonly iamInstanceProfile: string | null;
  readonly rootVolumeId: string | null;
  readonly rootDeviceName: string;
  readonly metadataOptions: { readonly httpTokens: string; readonly httpPutResponseHopLimit: number; readonly httpEndpoint: string };
  ec2State: Ec2State;
  lifecycleState: LifecycleState;
  healthStatus: 'Healthy' | 'Unhealthy';
  readonly tags: Tags;
  readonly launchedAtMs: number;
  readonly visibleAtMs: number;
  terminatedAtMs: number | null;
  stateReason: string | null;
  readonly spot: boolean;
  spotNoticeAtMs: number | null;
  /** Scheduled events EC2 announced for it (DescribeInstanceStatus `Events`). */
  readonly scheduledEvents: SimInstanceEvent[];
  /** Bumped when the instance stops running, so stale agent callbacks do nothing. */
  generation: number;
  /** Launch lifecycle action (Pending:Wait) timers. */
  hookTimeoutEv: QueuedEvent | null;
  hookGlobalDeadlineMs: number | null;
}

/** A scheduled event of an instance (EC2's `InstanceStatusEvent`). */
export interface SimInstanceEvent {
  readonly id: string;
  readonly code: 'instance-retirement' | 'instance-stop' | 'system-reboot' | 'instance-reboot' | 'system-maintenance';
  description: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number | null;
}

export interface SimEni {
  readonly id: string;
  readonly subnetId: string;
  readonly vpcId: string;
  readonly az: string;
  readonly ip: string;
  readonly description: string;
  status: 'available' | 'in-use';
  attachedInstanceId: string | null;
  /** The attachment's device index (0: the instance's primary interface) and DeleteOnTermination (ENI-8). */
  deviceIndex?: number;
  deleteOnTermination?: boolean;
  readonly tags: Tags;
  securityGroupIds: string[];
  readonly visibleAtMs: number;
  deleted: boolean;
}

/** What is written on a volume: its file system and the application's log. null = blank. */
export interface VolumeData {
  readonly fileSystem: 'xfs' | 'ext4';
  fsSizeGiB: number;
  /** Index of the last application log entry persisted on this volume. */
  appIndex: number;
}

export interface SimVolumeAttachment {
  readonly instanceId: string;
  readonly device: string;
  state: 'attaching' | 'attached' | 'detaching';
  readonly deleteOnTermination: boolean;
  readonly attachedAtMs: number;
}

export interface SimVolumeModification {
  state: 'modifying' | 'optimizing' | 'completed';
  readonly originalSizeGiB: number;
  readonly targetSizeGiB: number;
  readonly originalType: string;
  readonly targetType: string;
  readonly originalIops: number | null;
  readonly targetIops: number | null;
  readonly originalThroughputMiBps: number | null;
  readonly targetThroughputMiBps: number | null;
  readonly startedAtMs: number;
  endedAtMs: number | null;
}

export interface SimVolume {
  readonly id: string;
  readonly az: string;
  sizeGiB: number;
  type: string;
  iops: number | null;
  throughputMiBps: number | null;
  readonly encrypted: boolean;
  /** The KMS key ARN of an encrypted volume (null: the account's default EBS key). */
  readonly kmsKeyArn: string | null;
  state: 'creating' | 'available' | 'in-use' | 'deleting' | 'deleted';
  attachment: SimVolumeAttachment | null;
  readonly tags: Tags;
  readonly snapshotId: string | null;
  /** The instance whose launch created this volume (its root volume), or null for a volume created by CreateVolume. */
  readonly launchedWith: string | null;
  data: VolumeData | null;
  readonly createdAtMs: number;
  readonly visibleAtMs: number;
  modification: SimVolumeModification | null;
  /** When each modification of the last 24 hours started (EBS allows four per rolling day). */
  readonly modificationStarts: number[];
  /** Timers of the current attach or detach, cancelled when superseded. */
  attachEv: QueuedEvent | null;
}

export interface SimSnapshot {
  readonly id: string;
  readonly volumeId: string;
  readonly sizeGiB: number;
  state: 'pending' | 'completed';
  readonly data: VolumeData | null;
  readonly startedAtMs: number;
  readonly description: string;
  readonly tags: Tags;
  readonly visibleAtMs: number;
  readonly encrypted: boolean;
}

export interface LaunchTemplateVersion {
  readonly versionNumber: number;
  readonly description: string | null;
  /** `LaunchTemplateData` as given to CreateLaunchTemplate (SDK shape, a private copy). */
  readonly data: Readonly<Record<string, unknown>>;
  readonly createdAtMs: number;
}

export interface SimLaunchTemplate {
  readonly id: string;
  readonly name: string;
  readonly tags: Tags;
  readonly versions: LaunchTemplateVersion[];
  defaultVersion: number;
  readonly createdAtMs: number;
  deleted: boolean;
}

// ---- Auto Scaling ---------------------------------------------------------------------------

export interface SimLifecycleHook {
  readonly name: string;
  readonly transition: 'autoscaling:EC2_INSTANCE_LAUNCHING' | 'autoscaling:EC2_INSTANCE_TERMINATING';
  heartbeatTimeoutSec: number;
  defaultResult: 'CONTINUE' | 'ABANDON';
}

export interface ScalingActivity {
  readonly activityId: string;
  readonly atMs: number;
  readonly description: string;
  readonly cause: string;
  readonly status: 'Successful' | 'Failed';
  readonly statusMessage: string | null;
}

export interface SimGroupTag {
  readonly value: string;
  readonly propagateAtLaunch: boolean;
}

export interface SimGroup {
  readonly name: string;
  readonly arn: string;
  /** Tags by key. */
  readonly tags: Map<string, SimGroupTag>;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  /** The launch template and the version string the group asked for (`1`, `$Latest`, `$Default`). */
  launchTemplate: { id: string; name: string; version: string };
  availabilityZones: string[];
  /** Comma-separated subnet ids, or '' when the group was created with AvailabilityZones only. */
  vpcZoneIdentifier: string;
  readonly hooks: SimLifecycleHook[];
  readonly suspended: Set<string>;
  /** Instances the group holds now (including Terminating ones), oldest first. */
  readonly instanceIds: string[];
  lastActivityError: string | null;
  readonly activities: ScalingActivity[];
  launchEv: QueuedEvent | null;
  launchFailures: number;
  deleting: boolean;
  readonly createdAtMs: number;
}

// ---- Route 53 -------------------------------------------------------------------------------

export interface SimDnsRecord {
  readonly name: string;
  readonly type: 'A';
  readonly ttl: number;
  readonly values: readonly string[];
}

export interface SimDnsChange {
  readonly id: string;
  readonly zoneId: string;
  status: 'PENDING' | 'INSYNC';
  readonly submittedAtMs: number;
  readonly comment: string | null;
}

export interface SimHostedZone {
  readonly id: string;
  readonly name: string;
  /** What ListResourceRecordSets returns (authoritative, updated at once). */
  readonly records: Map<string, SimDnsRecord>;
  /** What resolvers answer: changes land here when their change goes INSYNC. */
  readonly propagated: Map<string, SimDnsRecord>;
}
