export { createSimulation } from './create-simulation.js';
export type { Simulation, SimApp } from './create-simulation.js';
export { simulatedClusterInput } from './simulated-cluster-input.js';
export type { SimulatedClusterOptions } from './simulated-cluster-input.js';
export { resolveSimOptions, REALISTIC_TIMINGS, FAST_TIMINGS, DEFAULT_LIMITS, scaleTimings } from './options.js';
export type {
  SimulationOptions,
  ResolvedSimOptions,
  SimTimings,
  SimLimits,
  SimProfile,
  RangeMs,
  BucketLimits,
  ApiLatencyTimings,
} from './options.js';
export type { TraceEntry, TraceListener } from './trace.js';
export type { SimFaults, ApiErrorsFault } from './faults.js';
export type { AppStatus, AppMemberStatus, DataLossEvent } from './app.js';
export { SimWorld } from './sim-world.js';
export type {
  InstanceView,
  GroupView,
  VolumeView,
  EniView,
  SnapshotView,
  LaunchTemplateView,
  DnsRecordView,
  DnsChangeView,
  LeaseView,
  ScalingActivityView,
} from './sim-world.js';
export { SimDriver, groupName, LAUNCH_HOOK_NAME, PAGE_SIZES } from './sim-driver.js';
export { SimClock } from './sim-clock.js';
export { Scheduler } from './scheduler.js';
export type { Waiter, RunOptions } from './scheduler.js';
export { SimulationError } from './simulation-error.js';
export type { SimulationErrorCode } from './simulation-error.js';
export { TAG_CLUSTER, TAG_NODE, TAG_REVISION, TAG_PHASE, TAG_PHASE_REASON } from './world/ec2.js';
