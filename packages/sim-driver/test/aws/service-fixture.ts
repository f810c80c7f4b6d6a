import { createPrng, type Prng } from '@berth/core';
import { SimFault } from '../../src/aws/aws-error.js';
import { SimIam } from '../../src/aws/iam/sim-iam.js';
import type { ServiceContext } from '../../src/aws/service.js';
import { SimDynamoDb } from '../../src/aws/services/dynamodb.js';
import { SimEventBridge } from '../../src/aws/services/eventbridge.js';
import { SimSqs } from '../../src/aws/services/sqs.js';
import { resolveSimOptions, type SimulationOptions } from '../../src/options.js';
import { Scheduler } from '../../src/scheduler.js';
import { STREAMS, type SimContext, type StreamName } from '../../src/sim-context.js';
import { TraceRecorder } from '../../src/trace.js';

type Service = 'dynamodb' | 'sqs' | 'events';

/** A SimContext with just what the three services use (IAM off), and direct calls of their operations. */
export function testSim(overrides: SimulationOptions = {}) {
  const options = resolveSimOptions({ seed: 7, ...overrides });
  const scheduler = new Scheduler(options.startTimeMs, options.maxVirtualMs);
  const trace = new TraceRecorder(() => scheduler.nowMs);
  const root = createPrng(options.seed);
  const rng = Object.fromEntries(STREAMS.map((s) => [s, root.derive(s)])) as Record<StreamName, Prng>;
  const account = { accountId: options.accountId, region: 'eu-west-1', partition: 'aws' };
  const iam = new SimIam(account);
  const parts: Record<string, unknown> = { options, account, scheduler, trace, rng, iam };
  const ctx = parts as unknown as SimContext;
  parts['dynamodb'] = new SimDynamoDb(ctx);
  parts['sqs'] = new SimSqs(ctx);
  parts['events'] = new SimEventBridge(ctx);
  const serviceContext = (service: Service, operation: string): ServiceContext => ({ sim: ctx, caller: iam.controllerCaller(), service, operation, region: account.region, accountId: account.accountId, partition: account.partition });
  /** `extra`: more of the service context (the request's `signal`, once the gateway passes it). */
  const call = (service: Service, operation: string, input: Record<string, unknown>, extra: Record<string, unknown> = {}): unknown => {
    const svc = service === 'dynamodb' ? ctx.dynamodb.service : service === 'sqs' ? ctx.sqs.service : ctx.events.service;
    const handler = svc.operations[operation];
    if (!handler) throw new Error(`${service} does not implement ${operation}`);
    return handler(input, { ...serviceContext(service, operation), ...extra });
  };
  return { ctx, scheduler, trace, call };
}

/** The fault an operation throws (fails the test when it does not throw one). */
export function faultOf(fn: () => unknown): SimFault {
  try {
    fn();
  } catch (e) {
    if (e instanceof SimFault) return e;
    throw e;
  }
  throw new Error('expected the operation to fail');
}
