import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ServiceName } from './aws-error.js';
import type { AwsGateway } from './gateway.js';
import type { Caller } from './service.js';

/** What a simulated client offers of an SDK client: `send` (typed as the real one) and `destroy`. */
export type SimClient<C extends { send: unknown; destroy: unknown }> = Pick<C, 'send' | 'destroy'>;

/**
 * Simulated AWS SDK v3 clients. Each `send(new XCommand(input))` is answered by the simulated
 * account (latency, throttling, IAM, eventual consistency, virtual time) with the output or
 * the exception the real client would give. Use them like real clients, inside `sim.run`.
 */
export interface SimAwsClients {
  readonly ec2: SimClient<EC2Client>;
  readonly autoScaling: SimClient<AutoScalingClient>;
  readonly route53: SimClient<Route53Client>;
  readonly dynamodb: SimClient<DynamoDBClient>;
  readonly sqs: SimClient<SQSClient>;
  readonly eventBridge: SimClient<EventBridgeClient>;
  /** Elastic Load Balancing v2 (target groups, load balancers, listeners). */
  readonly elbv2: SimClient<ElasticLoadBalancingV2Client>;
  /** AWS Fault Injection Service (experiment templates and experiments, run in virtual time). */
  readonly fis: SimLooseClient;
  /** CloudWatch alarms (FIS stop conditions). */
  readonly cloudWatch: SimLooseClient;
  /**
   * Systems Manager (Parameter Store), typed loosely: its SDK client is not a dependency of the
   * simulator. It also fits `AwsDriverClients.ssm`, so `sim.aws` can be handed to an AWS driver.
   */
  readonly ssm: SimSsmClient;
}

/** The simulated SSM client: takes `@aws-sdk/client-ssm` commands, answers with their output. */
export interface SimSsmClient {
  // The answer is the SDK command's output type, which this package cannot name.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  send(command: object, options?: object): Promise<any>;
  destroy(): void;
}

/**
 * A simulated client of a service whose SDK client is not a dependency of the simulator (FIS,
 * CloudWatch): `send` takes that SDK's command and answers as the real client would.
 */
export interface SimLooseClient {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  destroy(): void;
}

interface CommandLike {
  readonly input?: unknown;
  /** SDK v3 commands carry their operation schema: `[kind, namespace, operationName, ...]`. */
  readonly schema?: readonly unknown[];
}

/** The API operation a command calls (`DescribeInstancesCommand` → `DescribeInstances`). */
export function operationOf(command: unknown): string {
  const c = command as CommandLike & { constructor?: { name?: string } };
  const fromSchema = Array.isArray(c.schema) && typeof c.schema[2] === 'string' ? c.schema[2] : null;
  const name = fromSchema ?? c.constructor?.name?.replace(/Command$/, '') ?? '';
  if (!name) throw new TypeError('send() needs an AWS SDK v3 command (e.g. new DescribeInstancesCommand({...}))');
  return name;
}

class SimServiceClient {
  readonly #gateway: AwsGateway;
  readonly #service: ServiceName;
  readonly #caller: () => Caller;

  constructor(gateway: AwsGateway, service: ServiceName, caller: () => Caller) {
    this.#gateway = gateway;
    this.#service = service;
    this.#caller = caller;
  }

  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown> {
    const input = ((command as CommandLike).input ?? {}) as Record<string, unknown>;
    return this.#gateway.request(this.#caller(), this.#service, operationOf(command), input, options?.abortSignal, withMetadata);
  }

  destroy(): void {
    // Nothing to close: no sockets.
  }
}

function withMetadata(output: unknown): unknown {
  return { ...(output as Record<string, unknown>), $metadata: { httpStatusCode: 200, attempts: 1, totalRetryDelay: 0 } };
}

/** Clients for one caller (the controller's role by default). */
export function createSimClients(gateway: AwsGateway, caller: () => Caller): SimAwsClients {
  const make = (service: ServiceName) => new SimServiceClient(gateway, service, caller) as never;
  return Object.freeze({
    ec2: make('ec2'),
    autoScaling: make('autoscaling'),
    route53: make('route53'),
    dynamodb: make('dynamodb'),
    sqs: make('sqs'),
    eventBridge: make('events'),
    elbv2: make('elasticloadbalancing'),
    fis: make('fis'),
    cloudWatch: make('cloudwatch'),
    ssm: make('ssm'),
  });
}

/**
 * Simulated SSM and S3 clients for the AWS driver (its preflight checks file sources). Typed
 * loosely: the SDK clients of SSM and S3 are not dependencies of the simulator.
 */
export function simSecretClients(gateway: AwsGateway, caller: () => Caller): { readonly ssm: never; readonly s3: never } {
  return { ssm: new SimServiceClient(gateway, 'ssm', caller) as never, s3: new SimServiceClient(gateway, 's3', caller) as never };
}
