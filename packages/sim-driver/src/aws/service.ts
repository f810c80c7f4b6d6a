import type { SimContext } from '../sim-context.js';
import type { ServiceName } from './aws-error.js';

/**
 * Who makes a call. AWS evaluates every request against the caller's policies; the simulated
 * account does the same, with the request context AWS would build for this caller.
 */
export interface Caller {
  /** `controller`: whoever runs Berth (or the user's own SDK code on `sim.aws`); `instance`: an instance's role credentials. */
  readonly kind: 'controller' | 'instance';
  /** The principal ARN as AWS reports it (`arn:aws:sts::<acct>:assumed-role/<role>/<session>`). */
  readonly principalArn: string;
  /** The IAM role whose policies apply. */
  readonly roleName: string;
  /** For instance credentials: the instance making the request (`ec2:SourceInstanceARN`). */
  readonly instanceId?: string;
  /** For instance credentials: its primary private IPv4 (`aws:EC2InstanceSourcePrivateIPv4`). */
  readonly sourcePrivateIp?: string;
  /** For instance credentials: its VPC (`aws:EC2InstanceSourceVPC`). */
  readonly sourceVpcId?: string;
}

/** What an operation handler sees besides its input. */
export interface ServiceContext {
  readonly sim: SimContext;
  readonly caller: Caller;
  readonly service: ServiceName;
  readonly operation: string;
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  /** The request's abort signal (an SDK call's `abortSignal`), for operations that wait. */
  readonly signal?: AbortSignal;
}

/**
 * One AWS operation: takes the SDK-shaped input (the command's `input`, as the AWS SDK v3
 * sends it) and returns the SDK-shaped output, or throws a `SimFault` (`fault(code, message)`)
 * that the gateway turns into the client's SDK exception. Runs when the response is sent, in
 * virtual time; may return a promise for operations that wait (SQS long polls).
 */
export type OperationHandler = (input: Record<string, unknown>, ctx: ServiceContext) => unknown;

/** One IAM authorization AWS makes for a request: an action on one resource, with its context keys. */
export interface AuthorizationCheck {
  /** `service:Action`, e.g. `ec2:AttachVolume`. */
  readonly action: string;
  /** The resource ARN, or `*` for actions without resource-level permissions. */
  readonly resource: string;
  /** Request context keys and values (`aws:ResourceTag/berth:cluster`, `ec2:CreateAction`...). */
  readonly context: Readonly<Record<string, string | readonly string[]>>;
  /**
   * Set when a service makes this call to another on the caller's behalf (EC2 calling KMS for an
   * encrypted volume): AWS reports such a denial as that service's error (for EBS and KMS, e.g.
   * the volume failing to attach or create), not as an authorization error of the operation.
   */
  readonly onBehalfOf?: 'kms';
  /** The resource's own policy (an SQS queue policy), when AWS evaluates one with the caller's policies. */
  readonly resourcePolicy?: unknown;
}

/**
 * Builds the authorizations AWS makes for one request (from the Service Authorization
 * Reference): which actions on which resources, with which condition keys. Called at request
 * time with the world as it is then. An empty list means the request needs no authorization
 * (never the case on AWS; used only for operations the simulated account does not check).
 */
export type Authorizer = (input: Record<string, unknown>, ctx: ServiceContext) => readonly AuthorizationCheck[];

/** A simulated AWS service: its operations (their authorizations live in `iam/`). */
export interface SimService {
  readonly name: ServiceName;
  readonly operations: Readonly<Record<string, OperationHandler>>;
}
