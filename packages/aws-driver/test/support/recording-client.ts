import { defineCluster, type ClusterInput, type ClusterSpec } from '@berth/core';
import { createAwsDriver, type AwsDriver, type AwsDriverClients } from '../../src/index.js';

/** One command a fake client was sent: its operation (the command class without `Command`) and input. */
export interface RecordedCall {
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

/** Answers one operation: returns the output, or throws an error (see {@link awsError}). */
export type FakeHandler = (input: Record<string, unknown>) => unknown;

/**
 * A client that is nothing but `send(command)`: it records every command, answers with the
 * handler named after the command, `{}` for reads without a handler, and fails on anything
 * else. The shape a simulated AWS has: no middleware stack, no config.
 */
export function recordingClient(handlers: Readonly<Record<string, FakeHandler>>, calls: RecordedCall[]) {
  return {
    async send(command: { readonly input: unknown }): Promise<unknown> {
      const operation = command.constructor.name.replace(/Command$/, '');
      const input = command.input as Record<string, unknown>;
      calls.push({ operation, input });
      const handler = handlers[operation];
      if (handler) return handler(input);
      if (/^(Describe|List|Get)/.test(operation)) return {};
      throw awsError('UnsupportedOperation', `the fake client has no ${operation}`);
    },
  };
}

/** An error shaped like the SDK's for an AWS error code. */
export function awsError(code: string, message = code, status = 400): Error {
  return Object.assign(new Error(message), { name: code, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
}

/** A driver over recording clients (EC2, Auto Scaling, Route 53 share `calls`). */
export function fakeDriver(handlers: Readonly<Record<string, FakeHandler>>, calls: RecordedCall[], region = 'eu-west-1'): AwsDriver {
  const client = recordingClient(handlers, calls);
  const clients = { ec2: client, autoScaling: client, route53: client } as unknown as AwsDriverClients;
  return createAwsDriver({ region, clients, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
}

/** A valid spec for fake-client tests: three nodes in eu-west-1, no DNS unless given. */
export function fakeSpec(overrides: Partial<ClusterInput> = {}): ClusterSpec {
  return defineCluster({
    name: 'kafka',
    region: 'eu-west-1',
    subnets: [
      { id: 'subnet-0a1b2c3d', az: 'eu-west-1a', cidr: '10.0.1.0/24' },
      { id: 'subnet-0a1b2c3e', az: 'eu-west-1b', cidr: '10.0.2.0/24' },
      { id: 'subnet-0a1b2c3f', az: 'eu-west-1c', cidr: '10.0.3.0/24' },
    ],
    nodes: [
      { id: 'n1', ip: '10.0.1.10', subnetId: 'subnet-0a1b2c3d' },
      { id: 'n2', ip: '10.0.2.10', subnetId: 'subnet-0a1b2c3e' },
      { id: 'n3', ip: '10.0.3.10', subnetId: 'subnet-0a1b2c3f' },
    ],
    image: 'ami-0123456789abcdef0',
    instanceType: 'm6i.large',
    securityGroupIds: ['sg-0123456789abcdef0', 'sg-0fedcba9876543210'],
    iamInstanceProfile: 'kafka-node',
    dataVolume: { sizeGiB: 100 },
    tags: { team: 'data' },
    ...overrides,
  });
}
