export { defineCluster } from './spec/define-cluster.js';
export { clusterSpecJsonSchema } from './spec/json-schema.js';
export { AWS_REGIONS } from './spec/aws-regions.js';
export type { AwsPartition } from './spec/aws-regions.js';
export { USER_TAGS_MAX } from './spec/tag-limits.js';
export type { ClusterInput } from './spec/schema.js';
export type {
  ClusterSpec,
  NodeSpec,
  SubnetSpec,
  DataVolumeSpec,
  CapacitySpec,
  RootVolumeSpec,
  DnsSpec,
  LoadBalancerSpec,
  LifecycleSpec,
  BootstrapSpec,
  BootstrapFileSpec,
  BootstrapFileSource,
  DeletionPolicy,
  AdoptSpec,
} from './spec/cluster-spec.js';
export { nodeRecordName } from './spec/cluster-spec.js';
export { secretWarnings } from './spec/secret-warnings.js';
export { parseSsmParameter, parseS3Uri } from './spec/file-sources.js';
export type { SsmParameterRef } from './spec/file-sources.js';
export { VOLUME_LIMITS } from './spec/volume-limits.js';
export type { VolumeType, VolumeLimits } from './spec/volume-limits.js';
export { parseCidr, parseIpv4, formatIpv4 } from './spec/ipv4.js';
export { computeRevision, revisionInputs, canonicalJson, METADATA_OPTIONS, BOOTSTRAP_FORMAT_VERSION } from './revision.js';
export {
  BerthError,
  BerthConfigError,
  BerthDriverError,
  BerthCapabilityError,
  BerthLockError,
  BerthTimeoutError,
  BerthAbortError,
  BerthHookError,
  BerthRollHaltedError,
  BerthMembershipError,
  isAbortError,
  throwIfAborted,
} from './errors.js';
export type { BerthErrorCode, ConfigIssue, HaltDetails } from './errors.js';
export type { Clock } from './clock.js';
export { createPrng } from './prng.js';
export type { Prng } from './prng.js';
export { DEFAULT_CAPABILITIES } from './driver.js';
export type { AdoptionSource, AdoptionCheck } from './adoption.js';
export type {
  Driver,
  DriverCapabilities,
  DriverCallOptions,
  ObserveOptions,
  EnsureNodeResult,
  EnsureNodeOptions,
  DeleteNodeResult,
  ResourceChange,
  ResourceKind,
  DnsRecordSet,
  ClusterChange,
  WaitForChangeOptions,
  TargetState,
  TargetHealthObservation,
  TargetGroupObservation,
} from './driver.js';
export type { Lease, LeaseScope, LockDriver, LockOptions } from './lock.js';
export { PHASE_ORDER, liveInstances } from './observation.js';
export type {
  ClusterObservation,
  NodeObservation,
  InstanceObservation,
  InstanceDisruption,
  GroupObservation,
  EniObservation,
  VolumeObservation,
  VolumeAttachmentObservation,
  DnsRecordObservation,
  Phase,
  LifecycleState,
  Ec2State,
  ObserveScope,
} from './observation.js';
export type { RollHooks, HookContext, RollHold } from './hooks.js';
export type { MembershipHooks, ClusterHooks } from './hooks.js';
export { planMembership, checkAddition, checkRemoval } from './plan/plan-membership.js';
export type { MembershipPlan, MembershipStep, RemoveNodesOption } from './plan/plan-membership.js';
export { quorumOf } from './plan/quorum.js';
export type { QuorumMath } from './plan/quorum.js';
export { nodeStatus, clusterStatuses, parseFailureReason } from './plan/node-status.js';
export type { NodeStatus, NodeState, NodeFailure } from './plan/node-status.js';
export { planRoll, checkDisruption, survivesAzLoss } from './plan/plan-roll.js';
export type { RollPlan, RollPolicy, RollAction, InFlightReplacement, DisruptionCheck, DisruptionVerdict } from './plan/plan-roll.js';
export { planApply, desiredDnsRecords, azWarnings } from './plan/plan-apply.js';
export { planCluster, formatPlan } from './plan/plan-cluster.js';
export type { ClusterPlan, ClusterPlanPolicy, NodePlan, FieldChange, PlannedBatch, RollSchedule } from './plan/plan-cluster.js';
export type { ApplyPlan, NodeApplyStep } from './plan/plan-apply.js';
export { planVolumeChanges, checkVolumeModifications, VOLUME_MODIFICATION_COOLDOWN_MS } from './plan/plan-volume-changes.js';
export type { VolumeChange, VolumeField, VolumeTarget, VolumeModificationRecord } from './plan/plan-volume-changes.js';
export { nodeMachine } from './machines/node-machine.js';
export type { NodeMachineContext, NodeMachineEvent, NodeMachineEmitted } from './machines/node-machine.js';
export { rollMachine } from './controller/roll-machine.js';
export type { RollMachineContext, RollMachineEvent, RollSteps } from './controller/roll-machine.js';
export { RuntimeDriver } from './runtime/runtime-driver.js';
export type { RuntimeOptions, RetryOptions, OperationStats } from './runtime/runtime-driver.js';
export { TokenBucket } from './runtime/token-bucket.js';
export { createController, Controller } from './controller/create-controller.js';
export { DEFAULT_FRESHNESS_MS, DEFAULT_HOOK_TIMEOUTS_MS, ABORT_SETTLE_BOUND_MS } from './controller/roll-defaults.js';
export type { HookName } from './controller/roll-defaults.js';
export type { ControllerOptions, RollOptions, ApplyResult, ClusterStatus, WatchOptions } from './controller/create-controller.js';
export { DEFAULT_FULL_LOOK_INTERVAL_MS, DEFAULT_THROTTLE_BASE_MS, DEFAULT_THROTTLE_MAX_MS, DEFAULT_WATCH_INTERVAL_MS, type WatchPacer } from './controller/watch-pacing.js';
export { createFleet, Fleet, type FleetCluster, type FleetEvents, type FleetOptions, type FleetRunOptions, type FleetShareOptions } from './fleet/create-fleet.js';
export { LookPacer, type LookPacerOptions } from './fleet/look-pacer.js';
export type { ApplyOptions } from './controller/create-controller.js';
export type { ControllerEvents, ControllerEventName } from './controller/events.js';
export type { AdoptOptions, AdoptResult } from './controller/adopt-node.js';
export type { RollReport, NodeReplacementReport, BatchReport } from './controller/roll-report.js';
export { formatRollTime, formatRollReport } from './controller/roll-report.js';
export { formatDuration } from './format-duration.js';
export { createBlueGreen, BlueGreen } from './blue-green/blue-green.js';
export { BerthDeployError } from './blue-green/blue-green-error.js';
export type { DeployStage } from './blue-green/blue-green-error.js';
export { formatBlueGreenPlan, planBlueGreen } from './blue-green/plan-blue-green.js';
export type { SideFacts, PlanSettings } from './blue-green/plan-blue-green.js';
export type {
  Side,
  BlueGreenOptions,
  BlueGreenTraffic,
  BlueGreenDnsTraffic,
  BlueGreenHooks,
  VerifyContext,
  VerifyStage,
  DeployOptions,
  DeployReport,
  RollbackResult,
  BlueGreenStatus,
  SideStatus,
  TrafficStatus,
  BlueGreenPlan,
  BlueGreenStep,
} from './blue-green/blue-green-types.js';
export type { BlueGreenEvents, BlueGreenEventName } from './blue-green/blue-green-events.js';
export { BerthNodeRefusedError } from './errors.js';
export type { PauseNodeOptions, ResumeNodeOptions, NodePauseResult } from './controller/pause-node.js';
export { defaultStuckAfterMs, stuckNode, abandonVerdict } from './controller/stuck-nodes.js';
export type { OnStuck, StuckNode } from './controller/stuck-nodes.js';
