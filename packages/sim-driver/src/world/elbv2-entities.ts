import type { QueuedEvent } from '../event-queue.js';
import type { Tags } from './entities.js';

/** ELBv2 entities of the simulated account (mutable; outside the package read-only). */

/** A target group's health check settings (CreateTargetGroup's `HealthCheck*` parameters). */
export interface SimHealthCheck {
  readonly protocol: string;
  /** `traffic-port` or a port number. */
  readonly port: string;
  readonly path: string | null;
  readonly intervalSec: number;
  readonly timeoutSec: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

/** A target's state as the health checks left it (what DescribeTargetHealth reports while the group is in use). */
export type SimTargetCheckState = 'initial' | 'healthy' | 'unhealthy';

/** One registered target of a group (an instance, at a port). */
export interface SimTarget {
  readonly instanceId: string;
  readonly port: number;
  state: SimTargetCheckState;
  /** The reason code of `state` (`Elb.RegistrationInProgress`, `Elb.InitialHealthChecking`, `Target.FailedHealthChecks`; null when healthy). */
  reason: string | null;
  /** Consecutive passed and failed checks. */
  passes: number;
  fails: number;
  /** The next health check, while the target is checked. */
  checkEv: QueuedEvent | null;
  /** Set while the target drains (ELB-5): when it leaves the group. */
  drainingUntilMs: number | null;
  drainEv: QueuedEvent | null;
  readonly registeredAtMs: number;
}

export interface SimTargetGroup {
  readonly arn: string;
  readonly name: string;
  readonly protocol: string;
  readonly port: number;
  readonly vpcId: string;
  readonly targetType: 'instance';
  readonly healthCheck: SimHealthCheck;
  /** Target group attributes by key (`deregistration_delay.timeout_seconds`...), as strings. */
  readonly attributes: Map<string, string>;
  readonly tags: Tags;
  /** Registered targets (draining ones included) by `<instance id>:<port>`, in registration order. */
  readonly targets: Map<string, SimTarget>;
  readonly createdAtMs: number;
}

export interface SimLoadBalancer {
  readonly arn: string;
  readonly name: string;
  readonly type: 'application' | 'network';
  readonly scheme: 'internet-facing' | 'internal';
  readonly vpcId: string;
  readonly subnets: readonly { readonly subnetId: string; readonly az: string }[];
  readonly securityGroups: readonly string[];
  readonly dnsName: string;
  readonly tags: Tags;
  readonly createdAtMs: number;
}

export interface SimListener {
  readonly arn: string;
  readonly loadBalancerArn: string;
  readonly protocol: string;
  readonly port: number;
  /** The target groups its default actions forward to. */
  readonly targetGroupArns: readonly string[];
  /** `DefaultActions` as given (SDK shape, a private copy). */
  readonly defaultActions: readonly Readonly<Record<string, unknown>>[];
}
