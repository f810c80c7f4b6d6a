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
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { ClusterChange, ClusterSpec, InstanceDisruption } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { isAwsCode } from './map-aws-error.js';
import { changeQueueName, changeRuleName, groupNamePrefix, nodeIdFromGroupName, noticeRuleName, phaseRuleName, TAG, tagsToRecord } from './names.js';
import { parsePhase } from './observe.js';

/** The Auto Scaling events the change rule forwards (EventBridge `detail-type`). */
export const CHANGE_EVENT_TYPES = Object.freeze({
  launched: 'EC2 Instance Launch Successful',
  terminated: 'EC2 Instance Terminate Successful',
  launchFailed: 'EC2 Instance Launch Unsuccessful',
});

/** EC2's warning, two minutes ahead, that it will interrupt a spot instance (EventBridge `detail-type`, source `aws.ec2`). */
export const SPOT_INTERRUPTION_WARNING = 'EC2 Spot Instance Interruption Warning';

/**
 * EventBridge's event for a changed tag (source `aws.tag`, docs/aws-behaviour.md EB-7): the
 * bootstrap reports each phase by tagging its instance `berth:phase`, so these events carry the
 * boot phases to the queue.
 */
export const TAG_CHANGE = 'Tag Change on Resource';

/** How long before the interruption AWS sends the warning (docs/aws-behaviour.md EC2-5). */
export const SPOT_NOTICE_MS = 2 * 60_000;

/** The id of each rule's one target (the queue). */
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
  /** The rule forwarding spot interruption warnings (with `capabilities.spot`), else null. */
  readonly noticeRuleName: string | null;
  readonly noticeRuleArn: string | null;
  /** The rule forwarding the `berth:phase` tag changes of the cluster's instances. */
  readonly phaseRuleName: string;
  readonly phaseRuleArn: string;
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

/**
 * The notice rule's event pattern: every spot interruption warning of the region. The event
 * names only the instance (`detail.instance-id`, `detail.instance-action`), nothing a pattern
 * could tie to the cluster, so the driver keeps those of its own instances.
 */
export function noticeEventPattern(): Record<string, unknown> {
  return { source: ['aws.ec2'], 'detail-type': [SPOT_INTERRUPTION_WARNING] };
}

/**
 * The phase rule's event pattern: tag changes of EC2 instances tagged `berth:cluster=<name>`
 * that changed `berth:phase` (EB-7). `changed-tag-keys` is an array in the event: a pattern
 * value matches when the array holds it (EB-2). The tags in the event are the instance's tags
 * after the change, so the cluster's tag selects the cluster's own instances.
 */
export function phaseEventPattern(spec: ClusterSpec): Record<string, unknown> {
  return {
    source: ['aws.tag'],
    'detail-type': [TAG_CHANGE],
    detail: { service: ['ec2'], 'resource-type': ['instance'], 'changed-tag-keys': [TAG.phase], tags: { [TAG.cluster]: [spec.name] } },
  };
}

/** The queue policy: EventBridge may send, and only from the cluster's rules. */
export function changeQueuePolicy(queueArn: string, ruleArns: readonly string[]): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'BerthChangeRule',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': ruleArns.length === 1 ? ruleArns[0] : [...ruleArns] } },
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
 * EventBridge rules on the default bus — one for the cluster's Auto Scaling events, one for the
 * `berth:phase` tag changes of its instances (the boot phases) and, with `capabilities.spot`, one
 * for EC2's spot interruption warnings — each rule's target (the queue), and the queue policy
 * that lets the rules send. Looks before it writes: a second run makes six read calls
 * (GetQueueUrl, GetQueueAttributes, and DescribeRule and ListTargetsByRule per rule; eight with
 * the notice rule) and no write.
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

  const ruleArn = await ensureRule(ctx, ruleName, changeEventPattern(spec), `Berth: Auto Scaling launch/terminate events of cluster ${spec.name}, to SQS ${queueName}`, queueArn, changes, signal);
  const phaseName = phaseRuleName(spec.name);
  const phaseArn = await ensureRule(ctx, phaseName, phaseEventPattern(spec), `Berth: berth:phase tag changes of cluster ${spec.name}'s instances (boot phases), to SQS ${queueName}`, queueArn, changes, signal);
  // Spot interruption warnings, only for a driver whose instances may be spot (capabilities.spot):
  // the rule takes every warning of the region, which is noise otherwise.
  const noticeName = ctx.config.capabilities.spot ? noticeRuleName(spec.name) : null;
  const noticeArn =
    noticeName === null
      ? null
      : await ensureRule(ctx, noticeName, noticeEventPattern(), `Berth: EC2 spot interruption warnings (the region's; cluster ${spec.name} keeps its own instances'), to SQS ${queueName}`, queueArn, changes, signal);

  const policy = changeQueuePolicy(queueArn, [ruleArn, phaseArn, ...(noticeArn === null ? [] : [noticeArn])]);
  if (!sameJson(attrs.Attributes?.Policy, policy)) {
    await ctx.call('SetQueueAttributes', (abortSignal) => ctx.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: JSON.stringify(policy) } }), { abortSignal }), {
      signal,
    });
    changes.push({ resource: 'queue-policy', action: attrs.Attributes?.Policy ? 'updated' : 'created', id: queueArn });
  } else {
    changes.push({ resource: 'queue-policy', action: 'unchanged', id: queueArn });
  }
  return Object.freeze({ queueName, queueUrl: url, queueArn, ruleName, ruleArn, noticeRuleName: noticeName, noticeRuleArn: noticeArn, phaseRuleName: phaseName, phaseRuleArn: phaseArn, changes: Object.freeze(changes) });
}

/**
 * One rule on the default bus with the queue as its only target: re-put when it is missing,
 * disabled or has another pattern; its target re-put when it points elsewhere or rewrites the
 * event. Two reads (DescribeRule, ListTargetsByRule) when all is in place. Returns its ARN.
 */
async function ensureRule(
  ctx: AwsContext,
  ruleName: string,
  pattern: Record<string, unknown>,
  description: string,
  queueArn: string,
  changes: ChangeQueueChange[],
  signal?: AbortSignal,
): Promise<string> {
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
      (abortSignal) => ctx.events.send(new PutRuleCommand({ Name: ruleName, EventPattern: JSON.stringify(pattern), State: 'ENABLED', Description: description }), { abortSignal }),
      { signal },
    );
    ruleArn = put.RuleArn ?? ruleArn;
    if (!ruleArn) throw new Error(`PutRule returned no RuleArn for ${ruleName}`);
    changes.push({ resource: 'event-rule', action: rule ? 'updated' : 'created', id: ruleArn });
  } else {
    changes.push({ resource: 'event-rule', action: 'unchanged', id: ruleArn });
  }

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
  return ruleArn;
}

/**
 * Deletes the cluster's rule (target first) and queue. `deleteNode` never does: the feed is
 * the cluster's, not a node's. Idempotent.
 */
export async function deleteChangeQueue(ctx: AwsContext, spec: ClusterSpec, signal?: AbortSignal): Promise<DeleteChangeQueueResult> {
  const queueName = queueNameFor(ctx, spec);
  const changes: ChangeQueueChange[] = [];
  // The notice rule whether or not this driver makes it: an earlier one (capabilities.spot) may have.
  for (const ruleName of [changeRuleName(spec.name), phaseRuleName(spec.name), noticeRuleName(spec.name)]) await deleteRule(ctx, ruleName, changes, signal);
  const url = await getQueueUrl(ctx, queueName, signal);
  if (url !== null) {
    await ctx.call('DeleteQueue', (abortSignal) => ctx.sqs.send(new DeleteQueueCommand({ QueueUrl: url }), { abortSignal }), { signal }).catch((err: unknown) => {
      if (!isAwsCode(err, ...QUEUE_GONE)) throw err;
    });
    changes.push({ resource: 'sqs-queue', action: 'deleted', id: url });
  }
  return Object.freeze({ changes: Object.freeze(changes) });
}

/** Deletes a rule, its targets first (a rule with targets cannot be deleted). Nothing when it does not exist. */
async function deleteRule(ctx: AwsContext, ruleName: string, changes: ChangeQueueChange[], signal?: AbortSignal): Promise<void> {
  const targets = await ctx
    .call('ListTargetsByRule', (abortSignal) => ctx.events.send(new ListTargetsByRuleCommand({ Rule: ruleName }), { abortSignal }), { signal })
    .catch((err: unknown) => {
      if (isAwsCode(err, ...RULE_GONE)) return null;
      throw err;
    });
  if (targets === null) return;
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

/** A spot interruption warning as the queue delivered it, before the driver knows whose instance it is. */
export interface SpotNotice {
  readonly instanceId: string;
  /** The event's `time`: when EC2 sent the warning. */
  readonly atMs: number;
  /** `detail.instance-action`: `terminate`, `stop` or `hibernate`. */
  readonly action: string;
}

/**
 * One long poll of the cluster's queue: a single `ReceiveMessage` (up to 10 messages, waiting
 * `min(20, ceil(timeoutMs / 1000))` s), each EventBridge envelope turned into a
 * {@link ClusterChange}, then one `DeleteMessageBatch` for everything received (malformed
 * messages and events of groups outside the spec included: they are skipped). A spot
 * interruption warning names only an instance: the driver keeps it when the instance is one of
 * the cluster's nodes — known from its observations and launch events, or else looked up with
 * one `DescribeInstances` (by instance id and the cluster's tag) for the batch — remembers it
 * for `observe()` and returns a `disruption` change. A failed delete does not lose the changes:
 * its messages come back after the visibility timeout, and duplicates are harmless (the
 * controller observes before it acts).
 */
export async function receiveChanges(ctx: AwsContext, spec: ClusterSpec, queueUrl: string, timeoutMs: number, signal?: AbortSignal): Promise<ReceivedChanges> {
  // timeoutMs 0: a short poll, which answers at once (and may miss a message, SQS-5).
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
  const notices: { notice: SpotNotice; messageId: string | null }[] = [];
  for (const m of messages) {
    const parsed = parseChangeMessage(spec.name, m.Body, nodeIds);
    if ('change' in parsed) {
      changes.push(parsed.change);
      // A launch or a phase names the node's instance: its notices need no lookup.
      if ((parsed.change.kind === 'lifecycle' || parsed.change.kind === 'phase') && parsed.change.instanceId !== null) ctx.notices.learn(spec.name, parsed.change.instanceId, parsed.change.nodeId);
    } else if ('notice' in parsed) notices.push({ notice: parsed.notice, messageId: m.MessageId ?? null });
    else skipped.push({ messageId: m.MessageId ?? null, reason: parsed.skip });
  }
  if (notices.length > 0) {
    // Before the delete: should the lookup fail, the messages come back and are read again.
    await lookUpOwners(ctx, spec, notices.map((n) => n.notice.instanceId), nodeIds, signal);
    for (const { notice, messageId } of notices) {
      const nodeId = ctx.notices.ownerOf(spec.name, notice.instanceId);
      if (!nodeId) {
        skipped.push({ messageId, reason: `spot interruption warning for ${notice.instanceId}, which is none of cluster ${spec.name}'s instances` });
        continue;
      }
      const disruption = spotDisruption(notice);
      ctx.notices.record(notice.instanceId, { clusterName: spec.name, nodeId, disruption, source: 'event' });
      changes.push(Object.freeze({ atMs: notice.atMs, nodeId, instanceId: notice.instanceId, kind: 'disruption', detail: `${disruption.kind} (${disruption.detail})` }));
    }
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

/** The disruption a spot warning announces: AWS acts two minutes after it (at once for hibernation). */
export function spotDisruption(notice: SpotNotice): InstanceDisruption {
  return Object.freeze({
    kind: 'spot-interruption',
    noticedAtMs: notice.atMs,
    deadlineMs: notice.action === 'hibernate' ? notice.atMs : notice.atMs + SPOT_NOTICE_MS,
    detail: `instance-action: ${notice.action}`,
  });
}

/**
 * Learns which of these instances are the cluster's nodes, for those the driver does not know
 * yet: one `DescribeInstances` filtered by their ids and the cluster's tag. Instances it does
 * not return are remembered as none of the cluster's (warnings for other workloads' spot
 * instances cost one lookup each, once).
 */
async function lookUpOwners(ctx: AwsContext, spec: ClusterSpec, instanceIds: readonly string[], nodeIds: ReadonlySet<string>, signal?: AbortSignal): Promise<void> {
  const unknown = [...new Set(instanceIds)].filter((id) => ctx.notices.ownerOf(spec.name, id) === undefined);
  if (unknown.length === 0) return;
  const found = new Map<string, string>();
  let NextToken: string | undefined;
  do {
    const page = await ctx.call('DescribeInstances', (abortSignal) =>
      ctx.ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: 'instance-id', Values: unknown },
            { Name: `tag:${TAG.cluster}`, Values: [spec.name] },
          ],
          NextToken,
        }),
        { abortSignal },
      ),
    { signal });
    for (const i of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      const nodeId = tagsToRecord(i.Tags)[TAG.node];
      if (i.InstanceId && nodeId !== undefined && nodeIds.has(nodeId)) found.set(i.InstanceId, nodeId);
    }
    NextToken = page.NextToken;
  } while (NextToken);
  for (const id of unknown) ctx.notices.learn(spec.name, id, found.get(id) ?? null);
}

/**
 * Parses one queue message (an EventBridge envelope) into a change of the cluster (an Auto
 * Scaling event of one of its groups, or a `berth:phase` tag change of one of its instances), a
 * spot interruption warning (whose instance the caller must still place), or says why it is
 * skipped.
 */
export function parseChangeMessage(clusterName: string, body: string | undefined, nodeIds?: ReadonlySet<string>): { change: ClusterChange } | { notice: SpotNotice } | { skip: string } {
  if (body === undefined) return { skip: 'empty body' };
  let event: unknown;
  try {
    event = JSON.parse(body);
  } catch {
    return { skip: 'body is not JSON' };
  }
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return { skip: 'body is not an event object' };
  const e = event as Record<string, unknown>;
  const detail = e['detail'];
  if (detail === null || typeof detail !== 'object') return { skip: 'event has no detail' };
  const d = detail as Record<string, unknown>;
  const time = e['time'];
  const atMs = typeof time === 'string' ? Date.parse(time) : Number.NaN;
  if (e['source'] === 'aws.ec2' && e['detail-type'] === SPOT_INTERRUPTION_WARNING) {
    const instanceId = d['instance-id'];
    const action = d['instance-action'];
    if (typeof instanceId !== 'string' || instanceId.length === 0) return { skip: 'spot interruption warning without instance-id' };
    if (!Number.isFinite(atMs)) return { skip: `event time ${JSON.stringify(time)} is not a timestamp` };
    return { notice: Object.freeze({ instanceId, atMs, action: typeof action === 'string' && action.length > 0 ? action : 'terminate' }) };
  }
  if (e['source'] === 'aws.tag' && e['detail-type'] === TAG_CHANGE) return parsePhaseChange(clusterName, e, d, atMs, nodeIds);
  if (e['source'] !== 'aws.autoscaling') return { skip: `source is ${JSON.stringify(e['source'])}, not aws.autoscaling` };
  const group = d['AutoScalingGroupName'];
  if (typeof group !== 'string') return { skip: 'detail has no AutoScalingGroupName' };
  const nodeId = nodeIdFromGroupName(clusterName, group, nodeIds);
  if (nodeId === null) return { skip: `group ${group} is not a node of cluster ${clusterName}` };
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

/**
 * A `Tag Change on Resource` event of an instance (EB-7) as a `phase` change: the instance from
 * `resources`, the node and cluster from the tags the event carries, the phase from `berth:phase`
 * (`failed:<phase>:<reason>` gives phase `failed` and the reason as `detail`).
 */
function parsePhaseChange(clusterName: string, e: Record<string, unknown>, d: Record<string, unknown>, atMs: number, nodeIds?: ReadonlySet<string>): { change: ClusterChange } | { skip: string } {
  if (d['service'] !== 'ec2' || d['resource-type'] !== 'instance') return { skip: `tag change of ${JSON.stringify(d['service'])} ${JSON.stringify(d['resource-type'])}, not of an EC2 instance` };
  const rawTags = d['tags'];
  const tags = rawTags !== null && typeof rawTags === 'object' && !Array.isArray(rawTags) ? (rawTags as Record<string, unknown>) : {};
  if (tags[TAG.cluster] !== clusterName) return { skip: `tag change of an instance outside cluster ${clusterName}` };
  const nodeId = tags[TAG.node];
  if (typeof nodeId !== 'string' || (nodeIds !== undefined && !nodeIds.has(nodeId))) return { skip: `tag change of an instance of no node of cluster ${clusterName} (${JSON.stringify(nodeId)})` };
  const resources = Array.isArray(e['resources']) ? (e['resources'] as unknown[]) : [];
  const arn = resources.find((r): r is string => typeof r === 'string' && /:instance\/i-[0-9a-f]+$/.test(r));
  if (arn === undefined) return { skip: 'tag change without an instance ARN in resources' };
  if (!Number.isFinite(atMs)) return { skip: `event time ${JSON.stringify(e['time'])} is not a timestamp` };
  const value = tags[TAG.phase];
  const { phase, reason } = parsePhase(typeof value === 'string' ? value : undefined);
  if (phase === null) return { skip: `berth:phase ${JSON.stringify(value)} is no phase` };
  const instanceId = arn.slice(arn.lastIndexOf('/') + 1);
  return { change: Object.freeze({ atMs, nodeId, instanceId, kind: 'phase', detail: phase === 'failed' ? (reason ?? 'failed') : phase, phase }) };
}
