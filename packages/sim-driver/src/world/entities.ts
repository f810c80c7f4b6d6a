import type { Ec2State, LifecycleState } from '@berth/core';
import type { QueuedEvent } from '../event-queue.js';

/** Mutable world entities. Outside the package they are exposed read-only (`sim.world`). */
export type Tags = Record<string, string>;

/** What the launch template's user data tells the node agent (the bootstrap's config). */
export interface BootstrapConfig {
  readonly clusterName: string;
  readonly nodeId: string;
  readonly revision: string;
  readonly deviceName: string;
  readonly fileSystem: 'xfs' | 'ext4';
  readonly mountPath: string;
  readonly attachTimeoutSec: number;
  readonly configureTimeoutSec: number;
  readonly healthTimeoutSec: number;
  readonly onFailure: 'abandon' | 'wait';
}

export interface SimInstance {
  readonly id: string;
  readonly clusterName: string | null;
  readonly nodeId: string | null;
  groupName: string | null;
  readonly az: string;
  readonly subnetId: string;
  readonly eniId: string | null;
  readonly privateIp: string | null;
  readonly imageId: string;
  readonly instanceType: string;
  readonly launchTemplateId: string | null;
  readonly launchTemplateVersion: number | null;
  readonly bootstrap: BootstrapConfig | null;
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
  /** Bumped when the instance stops running, so stale agent callbacks do nothing. */
  generation: number;
  /** Launch lifecycle action (Pending:Wait) timers. */
  hookTimeoutEv: QueuedEvent | null;
  hookGlobalDeadlineMs: number | null;
}

export interface LaunchTemplateVersion {
  readonly versionNumber: number;
  readonly imageId: string;
  readonly instanceType: string;
  readonly eniId: string;
  readonly securityGroupIds: readonly string[];
  readonly revision: string;
  readonly bootstrap: BootstrapConfig;
  readonly tags: Tags;
  readonly createdAtMs: number;
}

export interface SimLaunchTemplate {
  readonly id: string;
  readonly name: string;
  readonly tags: Tags;
  readonly versions: LaunchTemplateVersion[];
  /** CreateLaunchTemplateVersion ClientToken → the version it created (idempotent retries). */
  readonly clientTokens: Map<string, number>;
  defaultVersion: number;
  deleted: boolean;
}

export interface SimLifecycleHook {
  readonly name: string;
  readonly transition: 'autoscaling:EC2_INSTANCE_LAUNCHING' | 'autoscaling:EC2_INSTANCE_TERMINATING';
  heartbeatTimeoutSec: number;
  defaultResult: 'CONTINUE' | 'ABANDON';
}

export interface ScalingActivity {
  readonly atMs: number;
  readonly description: string;
  readonly status: 'Successful' | 'Failed';
  readonly statusMessage: string | null;
}

export interface SimGroup {
  readonly name: string;
  readonly tags: Tags;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  launchTemplateId: string;
  /** A version number as a string, `$Latest` or `$Default`. */
  launchTemplateVersion: string;
  readonly subnetIds: readonly string[];
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

export interface SimEni {
  readonly id: string;
  readonly subnetId: string;
  readonly az: string;
  readonly ip: string;
  status: 'available' | 'in-use';
  attachedInstanceId: string | null;
  readonly tags: Tags;
  readonly securityGroupIds: readonly string[];
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
}

export interface SimVolumeModification {
  state: 'modifying' | 'optimizing' | 'completed';
  readonly originalSizeGiB: number;
  readonly targetSizeGiB: number;
  readonly startedAtMs: number;
}

export interface SimVolume {
  readonly id: string;
  readonly az: string;
  sizeGiB: number;
  readonly type: string;
  readonly iops: number | null;
  readonly throughputMiBps: number | null;
  state: 'creating' | 'available' | 'in-use' | 'deleting' | 'deleted';
  attachment: SimVolumeAttachment | null;
  readonly tags: Tags;
  readonly snapshotId: string | null;
  data: VolumeData | null;
  readonly visibleAtMs: number;
  modification: SimVolumeModification | null;
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
}

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
}

export interface SimHostedZone {
  readonly id: string;
  /** What ListResourceRecordSets returns (authoritative, updated at once). */
  readonly records: Map<string, SimDnsRecord>;
  /** What resolvers answer: changes land here when their change goes INSYNC. */
  readonly propagated: Map<string, SimDnsRecord>;
}

export interface SimSubnet {
  readonly id: string;
  readonly az: string;
  readonly cidr: string;
}

export interface SimLease {
  readonly clusterName: string;
  readonly holder: string;
  readonly token: number;
  readonly expiresAtMs: number;
}
