import { DeleteRuleCommand, DescribeRuleCommand, ListTargetsByRuleCommand, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import type { ClusterChange, ClusterSpec } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { isAwsCode } from './map-aws-error.js';
import { changeQueueName, changeRuleName, groupNamePrefix, nodeIdFromGroupName, TAG } from './names.js';

/** The Auto Scaling events the change rule forwards (EventBridge `detail-type`). */
export const CHANGE_EVENT_TYPES = Object.freeze({
  launched: 'EC2 Instance Launch Successful',
  terminated: 'EC2 Instance Terminate Successful',
  launchFailed: 'EC2 Instance Launch Unsuccessful',
});

/** The id of the rule's one target (the queue). */
export const CHANGE_TARGET_ID = 'berth-change-queue';

const QUEUE_GONE = ['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue'];
const RULE_GONE = ['ResourceNotFoundException'];
/** Events older than this are useless to a controller (it observes at least every 5 minutes). */
const RETENTION_SECONDS = 3600;

export interface ChangeQueueChange {
  readonly resource: 'sqs-queue' | 'queue-policy' | 'event-rule' | 'event-target';
  readonly action: 'created' | 'updated' | 'unchanged' | 'deleted';
  readonly id: string;
}

export interface ChangeQueueResult {
  readonly queueName: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly ruleName: string;
  readonly ruleArn: string;
  readonly changes: readonly ChangeQueueChange[];
}

export interface DeleteChangeQueueResult {
  readonly changes: readonly ChangeQueueChange[];
}

/** The queue's name for this cluster under the driver's options. */
export function queueNameFor(ctx: AwsContext, spec: ClusterSpec): string {
  return ctx.config.changeQueue?.queueName ?? changeQueueName(spec.name);
}

/** The rule's event pattern: the cluster's groups' launch, launch-failure and terminate events. */
export function changeEventPattern(spec: ClusterSpec): Record<string, unknown> {
  return {
    source: ['aws.autoscaling'],
    'detail-type': [CHANGE_EVENT_TYPES.launched, CHANGE_EVENT_TYPES.terminated, CHANGE_EVENT_TYPES.launchFailed],
    detail: { AutoScalingGroupName: [{ prefix: groupNamePrefix(spec.name) }] },
  };
}

/** The queue policy: EventBridge may send, and only from the cluster's rule. */
export function changeQueuePolicy(queueArn: string, ruleArn: string): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'BerthChangeRule',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
      },
    ],
  };
}

function sameJson(a: string | undefined, b: unknown): boolean {
  if (a === undefined) return false;
  try {
    return canonical(JSON.parse(a)) === canonical(b);
  } catch {
    return false;
  }
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Creates or converges the cluster's change feed: the SQS queue (tagged `berth:cluster`), the
 * EventBridge rule on the default bus, its target (the queue) and the queue policy that lets
 * the rule send. Looks before it writes: a second run makes four read calls
 * (GetQueueUrl, GetQueueAttributes, DescribeRule, ListTargetsByRule) and no write.
 */
export async function ensureChangeQueue(ctx: AwsContext, spec: ClusterSpec, signal?: AbortSignal): Promise<ChangeQueueResult> {
  const queueName = queueNameFor(ctx, spec);
  const ruleName = changeRuleName(spec.name);
  const changes: ChangeQueueChange[] = [];

  let queueUrl = await getQueueUrl(ctx, queueName, signal);
  if (queueUrl === null) {
    const created = await ctx.call(
      'CreateQueue',
      (abortSignal) =>
        ctx.sqs.send(
          new CreateQueueCommand({
            QueueName: queueName,
            Attributes: { MessageRetentionPeriod: String(RETENTION_SECONDS), SqsManagedSseEnabled: 'true' },
            tags: { ...spec.tags, [TAG.cluster]: spec.name },
          }),
          { abortSignal },
        ),
      { signal },
    );
    queueUrl = created.QueueUrl ?? null;
    if (queueUrl === null) throw new Error(`CreateQueue returned no QueueUrl for ${queueName}`);
    changes.push({ resource: 'sqs-queue', action: 'created', id: queueUrl });
  } else {
    changes.push({ resource: 'sqs-queue', action: 'unchanged', id: queueUrl });
  }
  const url = queueUrl;
  const attrs = await ctx.call(
    'GetQueueAttributes',
    (abortSignal) => ctx.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn', 'Policy'] }), { abortSignal }),
    { signal, afterCreate: changes[0]?.action === 'created' },
  );
  const queueArn = attrs.Attributes?.QueueArn;
  if (!queueArn) throw new Error(`GetQueueAttributes returned no QueueArn for ${queueName}`);

  const pattern = changeEventPattern(spec);
  const rule = await ctx
    .call('DescribeRule', (abortSignal) => ctx.events.send(new DescribeRuleCommand({ Name: ruleName }), { abortSignal }), { signal })
    .catch((err: unknown) => {
      if (isAwsCode(err, ...RULE_GONE)) return null;
      throw err;
    });
  let ruleArn = rule?.Arn;
  if (!rule || !ruleArn || rule.State !== 'ENABLED' || !sameJson(rule.EventPattern, pattern)) {
    const put = await ctx.call(
      'PutRule',
      (abortSignal) =>
        ctx.events.send(
          new PutRuleCommand({
            Name: ruleName,
            EventPattern: JSON.stringify(pattern),
            State: 'ENABLED',
            Description: `Berth: Auto Scaling launch/terminate events of cluster ${spec.name}, to SQS ${queueName}`,
          }),
          { abortSignal },
        ),
      { signal },
    );
    ruleArn = put.RuleArn ?? ruleArn;
    if (!ruleArn) throw new Error(`PutRule returned no RuleArn for ${ruleName}`);
    changes.push({ resource: 'event-rule', action: rule ? 'updated' : 'created', id: ruleArn });
  } else {
    changes.push({ resource: 'event-rule', action: 'unchanged', id: ruleArn });
  }
  const arn = ruleArn;

  const targets = await ctx.call('ListTargetsByRule', (abortSignal) => ctx.events.send(new ListTargetsByRuleCommand({ Rule: ruleName }), { abortSignal }), {
    signal,
    afterCreate: !rule,
  });
  const target = targets.Targets?.find((t) => t.Id === CHANGE_TARGET_ID);
  const plain = target !== undefined && target.Arn === queueArn && !target.Input && !target.InputPath && !target.InputTransformer;
  if (!plain) {
    // Upsert by target id: replaces a target that points elsewhere or rewrites the event.
    const put = await ctx.call(
      'PutTargets',
      (abortSignal) => ctx.events.send(new PutTargetsCommand({ Rule: ruleName, Targets: [{ Id: CHANGE_TARGET_ID, Arn: queueArn }] }), { abortSignal }),
      { signal, afterCreate: !rule },
    );
    const failed = put.FailedEntries?.[0];
    if ((put.FailedEntryCount ?? 0) > 0) throw new Error(`PutTargets failed for ${ruleName}: ${failed?.ErrorCode ?? 'unknown'} ${failed?.ErrorMessage ?? ''}`.trim());
    changes.push({ resource: 'event-target', action: target ? 'updated' : 'created', id: `${ruleName}/${CHANGE_TARGET_ID}` });
  } else {
    changes.push({ resource: 'event-target', action: 'unchanged', id: `${ruleName}/${CHANGE_TARGET_ID}` });
  }

  const policy = changeQueuePolicy(queueArn, arn);
  if (!sameJson(attrs.Attributes?.Policy, policy)) {
    await ctx.call('SetQueueAttributes', (abortSignal) => ctx.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: JSON.stringify(policy) } }), { abortSignal }), {
      signal,
    });
    changes.push({ resource: 'queue-policy', action: attrs.Attributes?.Policy ? 'updated' : 'created', id: queueArn });
  } else {
    changes.push({ resource: 'queue-policy', action: 'unchanged', id: queueArn });
  }
  return Object.freeze({ queueName, queueUrl: url, queueArn, ruleName, ruleArn: arn, changes: Object.freeze(changes) });
}

/**
 * Deletes the cluster's rule (target first) and queue. `deleteNode` never does: the feed is
 * the cluster's, not a node's. Idempotent.
 */
export async function deleteChangeQueue(ctx: AwsContext, spec: ClusterSpec, signal?: AbortSignal): Promise<DeleteChangeQueueResult> {
  const queueName = queueNameFor(ctx, spec);
  const ruleName = changeRuleName(spec.name);
  const changes: ChangeQueueChange[] = [];
  const targets = await ctx
    .call('ListTargetsByRule', (abortSignal) => ctx.events.send(new ListTargetsByRuleCommand({ Rule: ruleName }), { abortSignal }), { signal })
    .catch((err: unknown) => {
      if (isAwsCode(err, ...RULE_GONE)) return null;
      throw err;
    });
  if (targets !== null) {
    const ids = (targets.Targets ?? []).map((t) => t.Id).filter((id): id is string => id !== undefined);
    if (ids.length > 0) {
      await ctx.call('RemoveTargets', (abortSignal) => ctx.events.send(new RemoveTargetsCommand({ Rule: ruleName, Ids: ids }), { abortSignal }), { signal });
      for (const id of ids) changes.push({ resource: 'event-target', action: 'deleted', id: `${ruleName}/${id}` });
    }
    await ctx.call('DeleteRule', (abortSignal) => ctx.events.send(new DeleteRuleCommand({ Name: ruleName }), { abortSignal }), { signal }).catch((err: unknown) => {
      if (!isAwsCode(err, ...RULE_GONE)) throw err;
    });
    changes.push({ resource: 'event-rule', action: 'deleted', id: ruleName });
  }
  const url = await getQueueUrl(ctx, queueName, signal);
  if (url !== null) {
    await ctx.call('DeleteQueue', (abortSignal) => ctx.sqs.send(new DeleteQueueCommand({ QueueUrl: url }), { abortSignal }), { signal }).catch((err: unknown) => {
      if (!isAwsCode(err, ...QUEUE_GONE)) throw err;
    });
    changes.push({ resource: 'sqs-queue', action: 'deleted', id: url });
  }
  return Object.freeze({ changes: Object.freeze(changes) });
}

async function getQueueUrl(ctx: AwsContext, queueName: string, signal?: AbortSignal): Promise<string | null> {
  try {
    const r = await ctx.call('GetQueueUrl', (abortSignal) => ctx.sqs.send(new GetQueueUrlCommand({ QueueName: queueName }), { abortSignal }), { signal });
    return r.QueueUrl ?? null;
  } catch (err) {
    if (isAwsCode(err, ...QUEUE_GONE)) return null;
    throw err;
  }
}

/** Why a message was dropped instead of becoming a change. */
export interface SkippedChangeMessage {
  readonly messageId: string | null;
  readonly reason: string;
}

export interface ReceivedChanges {
  readonly changes: readonly ClusterChange[];
  readonly skipped: readonly SkippedChangeMessage[];
}

/**
 * One long poll of the cluster's queue: a single `ReceiveMessage` (up to 10 messages, waiting
 * `min(20, ceil(timeoutMs / 1000))` s), each EventBridge envelope turned into a
 * {@link ClusterChange}, then one `DeleteMessageBatch` for everything received (malformed
 * messages and events of groups outside the spec included: they are skipped). A failed delete
 * does not lose the changes: its messages come back after the visibility timeout, and
 * duplicates are harmless (the controller observes before it acts).
 */
export async function receiveChanges(ctx: AwsContext, spec: ClusterSpec, queueUrl: string, timeoutMs: number, signal?: AbortSignal): Promise<ReceivedChanges> {
  const waitSeconds = Math.max(0, Math.min(20, Math.ceil(timeoutMs / 1000)));
  const received = await ctx.call(
    'ReceiveMessage',
    (abortSignal) => ctx.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds }), { abortSignal }),
    { signal },
  );
  const messages = received.Messages ?? [];
  if (messages.length === 0) return { changes: [], skipped: [] };
  const nodeIds = new Set(spec.nodes.map((n) => n.id));
  const changes: ClusterChange[] = [];
  const skipped: SkippedChangeMessage[] = [];
  for (const m of messages) {
    const parsed = parseChangeMessage(spec.name, m.Body, nodeIds);
    if ('change' in parsed) changes.push(parsed.change);
    else skipped.push({ messageId: m.MessageId ?? null, reason: parsed.skip });
  }
  const entries = messages
    .filter((m): m is Message & { ReceiptHandle: string } => typeof m.ReceiptHandle === 'string')
    .map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle }));
  if (entries.length > 0) {
    try {
      await ctx.call('DeleteMessageBatch', (abortSignal) => ctx.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }), { abortSignal }));
    } catch {
      // The messages reappear after the visibility timeout; the changes are returned anyway.
    }
  }
  changes.sort((a, b) => a.atMs - b.atMs);
  return { changes, skipped };
}

/**
 * Parses one queue message (an EventBridge envelope of an Auto Scaling event) into a change of
 * the cluster, or says why it is skipped.
 */
export function parseChangeMessage(clusterName: string, body: string | undefined, nodeIds?: ReadonlySet<string>): { change: ClusterChange } | { skip: string } {
  if (body === undefined) return { skip: 'empty body' };
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    return { skip: 'body is not JSON' };
  }
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return { skip: 'body is not an event object' };
  const e = event as Record<string, unknown>;
  if (e['source'] !== 'aws.autoscaling') return { skip: `source is ${JSON.stringify(e['source'])}, not aws.autoscaling` };
  const detail = e['detail'];
  if (detail === null || typeof detail !== 'object') return { skip: 'event has no detail' };
  const d = detail as Record<string, unknown>;
  const group = d['AutoScalingGroupName'];
  if (typeof group !== 'string') return { skip: 'detail has no AutoScalingGroupName' };
  const nodeId = nodeIdFromGroupName(clusterName, group, nodeIds);
  if (nodeId === null) return { skip: `group ${group} is not a node of cluster ${clusterName}` };
  const time = e['time'];
  const atMs = typeof time === 'string' ? Date.parse(time) : Number.NaN;
  if (!Number.isFinite(atMs)) return { skip: `event time ${JSON.stringify(time)} is not a timestamp` };
  const rawInstance = d['EC2InstanceId'];
  const instanceId = typeof rawInstance === 'string' && rawInstance.length > 0 ? rawInstance : null;
  const type = e['detail-type'];
  switch (type) {
    case CHANGE_EVENT_TYPES.launched:
      if (instanceId === null) return { skip: 'launch event without EC2InstanceId' };
      return { change: Object.freeze({ atMs, nodeId, instanceId, kind: 'lifecycle', detail: 'InService' }) };
    case CHANGE_EVENT_TYPES.terminated:
      if (instanceId === null) return { skip: 'terminate event without EC2InstanceId' };
      return { change: Object.freeze({ atMs, nodeId, instanceId, kind: 'terminated', detail: 'Terminated' }) };
    case CHANGE_EVENT_TYPES.launchFailed: {
      const msg = d['StatusMessage'];
      return { change: Object.freeze({ atMs, nodeId, instanceId, kind: 'launch-failed', detail: typeof msg === 'string' && msg.length > 0 ? msg : 'launch failed' }) };
    }
    default:
      return { skip: `detail-type ${JSON.stringify(type)} is not one Berth asked for` };
  }
}
