// How IAM authorizes the SQS operations the simulator answers:
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html
// Batch operations are authorized as their single action (the SAR has no batch actions:
// DeleteMessageBatch is sqs:DeleteMessage). CreateQueue with tags also
// needs sqs:TagQueue (SQS API Reference, CreateQueue, `tags`: "To be able to tag a queue on
// creation, you must have the sqs:CreateQueue and sqs:TagQueue permissions"). Within the
// account, the queue's own policy may grant what the caller's policies do not: the check
// carries it as `resourcePolicy` when the simulated SQS can tell it.

import type { AuthorizationCheck, Authorizer, ServiceContext } from '../service.js';
import { check, obj, regionalArn, requestTagKeys, str, type Context, type Input } from './authorize-common.js';

/** The queue's policy, when the simulated SQS can tell it (see `queuePolicy` in the report to the framework). */
interface QueuePolicySource {
  queuePolicy?(queueName: string): unknown;
}

/** The queue a request names: `QueueName`, or the last segment of `QueueUrl` (`https://sqs.<region>.amazonaws.com/<account>/<name>`). */
export function queueOf(input: Input): { name: string; account: string | null } {
  const name = str(input, 'QueueName');
  if (name !== null) return { name, account: null };
  const url = str(input, 'QueueUrl') ?? '';
  const parts = url.replace(/\/+$/, '').split('/');
  const last = parts[parts.length - 1] ?? '';
  const account = parts[parts.length - 2] ?? '';
  return { name: last, account: /^\d{12}$/.test(account) ? account : null };
}

function queueArn(ctx: ServiceContext, q: { name: string; account: string | null }): string {
  return q.account === null || q.account === ctx.accountId ? regionalArn(ctx, 'sqs', q.name) : `arn:${ctx.partition}:sqs:${ctx.region}:${q.account}:${q.name}`;
}

function onQueue(ctx: ServiceContext, action: string, input: Input, context: Context = {}): AuthorizationCheck {
  const q = queueOf(input);
  const policy = (ctx.sim.sqs as unknown as QueuePolicySource).queuePolicy?.(q.name);
  return check(action, queueArn(ctx, q), context, policy === undefined || policy === null ? {} : { resourcePolicy: policy });
}

function simple(action: string): Authorizer {
  return (input, ctx) => [onQueue(ctx, action, input)];
}

function tagMap(v: Input | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v ?? {})) if (typeof x === 'string') out[k] = x;
  return out;
}

export const SQS_AUTHORIZERS: Readonly<Record<string, Authorizer>> = {
  CreateQueue(input, ctx) {
    const tags = tagMap(obj(input, 'tags'));
    const out = [onQueue(ctx, 'sqs:CreateQueue', input, requestTagKeys(tags))];
    if (Object.keys(tags).length > 0) out.push(onQueue(ctx, 'sqs:TagQueue', input, requestTagKeys(tags)));
    return out;
  },
  GetQueueUrl: simple('sqs:GetQueueUrl'),
  GetQueueAttributes: simple('sqs:GetQueueAttributes'),
  SetQueueAttributes: simple('sqs:SetQueueAttributes'),
  TagQueue(input, ctx) {
    return [onQueue(ctx, 'sqs:TagQueue', input, requestTagKeys(tagMap(obj(input, 'Tags'))))];
  },
  UntagQueue(input, ctx) {
    const keys = Array.isArray(input['TagKeys']) ? input['TagKeys'].filter((k): k is string => typeof k === 'string') : [];
    return [onQueue(ctx, 'sqs:UntagQueue', input, keys.length > 0 ? { 'aws:TagKeys': keys } : {})];
  },
  ListQueueTags: simple('sqs:ListQueueTags'),
  ListQueues() {
    return [check('sqs:ListQueues', '*', {})];
  },
  SendMessage: simple('sqs:SendMessage'),
  ReceiveMessage: simple('sqs:ReceiveMessage'),
  DeleteMessage: simple('sqs:DeleteMessage'),
  DeleteMessageBatch: simple('sqs:DeleteMessage'),
  ChangeMessageVisibility: simple('sqs:ChangeMessageVisibility'),
  DeleteQueue: simple('sqs:DeleteQueue'),
};
