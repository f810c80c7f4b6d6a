export { defineCluster } from './spec/define-cluster.js';
export type { ClusterInput } from './spec/schema.js';
export type {
  ClusterSpec,
  NodeSpec,
  SubnetSpec,
  DataVolumeSpec,
  RootVolumeSpec,
  DnsSpec,
  LifecycleSpec,
  BootstrapSpec,
  BootstrapFileSpec,
  DeletionPolicy,
} from './spec/cluster-spec.js';
export { nodeRecordName } from './spec/cluster-spec.js';
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
  isAbortError,
  throwIfAborted,
} from './errors.js';
export type { BerthErrorCode, ConfigIssue } from './errors.js';
export type { Clock } from './clock.js';
export { createPrng } from './prng.js';
export type { Prng } from './prng.js';
export { DEFAULT_CAPABILITIES } from './driver.js';
export type {
  Driver,
  DriverCapabilities,
  DriverCallOptions,
  ObserveOptions,
  EnsureNodeResult,
  DeleteNodeResult,
  ResourceChange,
  ResourceKind,
  DnsRecordSet,
  ClusterChange,
} from './driver.js';
export type { Lease, LockDriver, LockOptions } from './lock.js';
export { PHASE_ORDER, liveInstances } from './observation.js';
export type {
  ClusterObservation,
  NodeObservation,
  InstanceObservation,
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
export type { RollHooks, HookContext } from './hooks.js';
