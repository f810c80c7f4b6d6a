import type { Prng } from '@berth/core';
import type { AgentHost } from './agent.js';
import type { QuorumApp } from './app.js';
import type { AwsGateway } from './aws/gateway.js';
import type { SimIam } from './aws/iam/sim-iam.js';
import type { SimDynamoDb } from './aws/services/dynamodb.js';
import type { SimEventBridge } from './aws/services/eventbridge.js';
import type { SimSqs } from './aws/services/sqs.js';
import type { FaultState } from './fault-state.js';
import type { ResolvedSimOptions, RangeMs } from './options.js';
import type { Scheduler } from './scheduler.js';
import type { TraceRecorder } from './trace.js';
import type { AutoScaling } from './world/autoscaling.js';
import type { Ec2 } from './world/ec2.js';
import type { Elbv2 } from './world/elbv2.js';
import type { LaunchTemplates } from './world/launch-templates.js';
import type { Route53 } from './world/route53.js';
import type { WorldState } from './world/world-state.js';

/** Names of the per-subsystem PRNG streams (each derived from the seed by name). */
export const STREAMS = ['latency', 'ec2', 'ebs', 'asg', 'route53', 'agent', 'app', 'faults', 'consistency', 'sqs', 'cli'] as const;
export type StreamName = (typeof STREAMS)[number];

/** The simulated account's identity: one account, one region. */
export interface SimAccountInfo {
  readonly accountId: string;
  readonly region: string;
  /** `aws`, `aws-cn` or `aws-us-gov`, from the region. */
  readonly partition: string;
}

/** Everything a subsystem needs, wired once by createSimulation. */
export interface SimContext {
  readonly options: ResolvedSimOptions;
  readonly account: SimAccountInfo;
  readonly scheduler: Scheduler;
  readonly trace: TraceRecorder;
  readonly rng: Readonly<Record<StreamName, Prng>>;
  readonly state: WorldState;
  readonly faults: FaultState;
  readonly ec2: Ec2;
  readonly launchTemplates: LaunchTemplates;
  readonly asg: AutoScaling;
  readonly route53: Route53;
  readonly elbv2: Elbv2;
  readonly dynamodb: SimDynamoDb;
  readonly sqs: SimSqs;
  readonly events: SimEventBridge;
  readonly iam: SimIam;
  readonly app: QuorumApp;
  readonly agents: AgentHost;
  readonly gateway: AwsGateway;
}

/** A whole number of milliseconds drawn uniformly from `range`. */
export function draw(rng: Prng, range: RangeMs, factor = 1): number {
  const [lo, hi] = range;
  return Math.round((lo + rng.next() * (hi - lo)) * factor);
}
