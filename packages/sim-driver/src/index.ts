export { createSimulation, defaultIamEvaluator } from './create-simulation.js';
export type { Simulation, SimApp } from './create-simulation.js';
export { SimAccount, zoneNameFor } from './account.js';
export type { PrepareOptions, PolicySource, SimTargetGroupOptions } from './account.js';
export type { UnmanagedInstance, UnmanagedInstanceOptions } from './world/unmanaged-instance.js';
export type { SimDefaultRoute, SimVpcEndpointOptions } from './account-network.js';
export type { SimPutParameterOptions } from './account-secrets.js';
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
export type { SimAwsClients, SimClient, SimLooseClient } from './aws/clients.js';
export type { ApiCall, ApiCallListener } from './aws/gateway.js';
export { awsServiceError } from './aws/aws-error.js';
export type { ServiceName } from './aws/aws-error.js';
export type { IamEvaluator, IamEvaluationRequest, IamDecision } from './aws/iam/iam-decision.js';
export { CONTROLLER_ROLE } from './aws/iam/sim-iam.js';
export { BOOTSTRAP_CALLS } from './agent.js';
export { startAwsBridge } from './aws-bridge.js';
export type { AwsBridge, BridgeCall } from './aws-bridge.js';
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
export { SimClock } from './sim-clock.js';
export { Scheduler } from './scheduler.js';
export type { Waiter, RunOptions } from './scheduler.js';
export { SimulationError } from './simulation-error.js';
export type { SimulationErrorCode } from './simulation-error.js';
export { TAG_CLUSTER, TAG_NODE, TAG_REVISION, TAG_PHASE } from './world/ec2.js';
