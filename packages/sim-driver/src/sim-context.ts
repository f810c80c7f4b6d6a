import type { Prng } from '@berth/core';
import type { AgentHost } from './agent.js';
import type { QuorumApp } from './app.js';
import type { ResolvedSimOptions, RangeMs } from './options.js';
import type { Scheduler } from './scheduler.js';
import type { TraceRecorder } from './trace.js';
import type { AutoScaling } from './world/autoscaling.js';
import type { ChangeFeed } from './world/change-feed.js';
import type { Ec2 } from './world/ec2.js';
import type { Route53 } from './world/route53.js';
import type { WorldState } from './world/world-state.js';
import type { FaultState } from './fault-state.js';
import type { AwsApi } from './aws-api.js';

/** Names of the per-subsystem PRNG streams (each derived from the seed by name). */
export const STREAMS = ['latency', 'ec2', 'ebs', 'asg', 'route53', 'agent', 'app', 'faults', 'consistency'] as const;
export type StreamName = (typeof STREAMS)[number];

/** Everything a subsystem needs, wired once by createSimulation. */
export interface SimContext {
  readonly options: ResolvedSimOptions;
  readonly scheduler: Scheduler;
  readonly trace: TraceRecorder;
  readonly rng: Readonly<Record<StreamName, Prng>>;
  readonly state: WorldState;
  readonly faults: FaultState;
  readonly ec2: Ec2;
  readonly asg: AutoScaling;
  readonly route53: Route53;
  readonly changes: ChangeFeed;
  readonly app: QuorumApp;
  readonly agents: AgentHost;
  readonly api: AwsApi;
}

/** A whole number of milliseconds drawn uniformly from `range`. */
export function draw(rng: Prng, range: RangeMs, factor = 1): number {
  const [lo, hi] = range;
  return Math.round((lo + rng.next() * (hi - lo)) * factor);
}
