import { DescribeRuleCommand, ListTargetsByRuleCommand, PutEventsCommand, PutRuleCommand } from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand, GetQueueUrlCommand, ListQueueTagsCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { changeEventPattern, phaseEventPattern } from '../src/change-queue.js';
import { motoDriver, useFeedClients, useMotoWorld } from './support/aws-fixture.js';

/**
 * moto's Auto Scaling emits no EventBridge events, so these tests put the events Auto Scaling
 * would send with EventBridge `PutEvents`. AWS reserves the `aws.*` sources for its services
 * (PutEvents with source `aws.autoscaling` is refused there); moto 5.2.1 accepts it, matches
 * the event against the rule's pattern (prefix filter included) and delivers the envelope to
 * the queue target, so the whole path rule → target → queue → driver is exercised. moto does
 * not evaluate the queue policy. Malformed messages are sent straight to the queue with SQS.
 */
const m = useMotoWorld({ nodes: 3, driver: { changeQueue: true, capabilities: { changeNotifications: true } } });

const clients = useFeedClients(m);

const QUEUE = 'berth-kafka-changes';

function autoScalingEvent(detailType: string, group: string, detail: Record<string, unknown> = {}) {
  return {
    Source: 'aws.autoscaling',
    DetailType: detailType,
    Time: new Date('2025-03-01T12:00:00Z'),
    Resources: [`arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/${group}`],
    Detail: JSON.stringify({ StatusCode: 'InProgress', AutoScalingGroupName: group, ActivityId: 'a-1', RequestId: 'r-1', Cause: 'test', ...detail }),
  };
}

async function queueDepth(): Promise<number> {
  const url = (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: QUEUE }))).QueueUrl!;
  const a = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(a.Attributes!.ApproximateNumberOfMessages) + Number(a.Attributes!.ApproximateNumberOfMessagesNotVisible);
}

describe('change queue (moto)', () => {
  it('ensureChangeQueue creates the queue, rule, target and policy once; a second run only reads', async () => {
    const d = m.driver;
    const first = await d.ensureChangeQueue(m.spec);
    expect(first.changes.map((c) => `${c.resource}:${c.action}`)).toEqual([
      'sqs-queue:created',
      'event-rule:created',
      'event-target:created',
      'event-rule:created',
      'event-target:created',
      'queue-policy:created',
    ]);
    expect(first.queueName).toBe(QUEUE);
    expect(first.ruleName).toBe('berth-kafka-changes');
    expect(first.phaseRuleName).toBe('berth-kafka-phases');

    const tags = await clients.sqs.send(new ListQueueTagsCommand({ QueueUrl: first.queueUrl }));
    expect(tags.Tags).toMatchObject({ 'berth:cluster': 'kafka', team: 'data' });
    const rule = await clients.events.send(new DescribeRuleCommand({ Name: 'berth-kafka-changes' }));
    expect(rule.State).toBe('ENABLED');
    expect(JSON.parse(rule.EventPattern!)).toEqual({
      source: ['aws.autoscaling'],
      'detail-type': ['EC2 Instance Launch Successful', 'EC2 Instance Terminate Successful', 'EC2 Instance Launch Unsuccessful'],
      detail: { AutoScalingGroupName: [{ prefix: 'berth-kafka-' }] },
    });
    expect(JSON.parse(rule.EventPattern!)).toEqual(changeEventPattern(m.spec));
    const phaseRule = await clients.events.send(new DescribeRuleCommand({ Name: 'berth-kafka-phases' }));
    expect(phaseRule.State).toBe('ENABLED');
    expect(JSON.parse(phaseRule.EventPattern!)).toEqual({
      source: ['aws.tag'],
      'detail-type': ['Tag Change on Resource'],
      detail: { service: ['ec2'], 'resource-type': ['instance'], 'changed-tag-keys': ['berth:phase'], tags: { 'berth:cluster': ['kafka'] } },
    });
    expect(JSON.parse(phaseRule.EventPattern!)).toEqual(phaseEventPattern(m.spec));
    for (const r of ['berth-kafka-changes', 'berth-kafka-phases']) {
      const targets = await clients.events.send(new ListTargetsByRuleCommand({ Rule: r }));
      expect(targets.Targets).toEqual([expect.objectContaining({ Id: 'berth-change-queue', Arn: first.queueArn })]);
    }
    const attrs = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: first.queueUrl, AttributeNames: ['Policy', 'MessageRetentionPeriod'] }));
    expect(JSON.parse(attrs.Attributes!.Policy!)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'BerthChangeRule',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: first.queueArn,
          Condition: { ArnEquals: { 'aws:SourceArn': [first.ruleArn, first.phaseRuleArn] } },
        },
      ],
    });
    expect(attrs.Attributes!.MessageRetentionPeriod).toBe('3600');

    d.resetApiCallCounts();
    const second = await d.ensureChangeQueue(m.spec);
    expect(second.changes.map((c) => c.action)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
    expect({ ...second, changes: [] }).toEqual({ ...first, changes: [] });
    expect(d.apiCallCounts()).toEqual({ DescribeRule: 2, GetQueueAttributes: 1, GetQueueUrl: 1, ListTargetsByRule: 2 });
  });

  it('ensureChangeQueue converges a target moved to another queue and a changed rule pattern', async () => {
    const d = m.driver;
    await d.ensureChangeQueue(m.spec);
    const other = motoDriver(m.moto.endpoint, { changeQueue: { queueName: 'elsewhere' } });
    try {
      // A rule of the same name pointed at another queue: the target is replaced, the policy made for it.
      const moved = await other.ensureChangeQueue(m.spec);
      expect(moved.changes.map((c) => `${c.resource}:${c.action}`)).toEqual(['sqs-queue:created', 'event-rule:unchanged', 'event-target:updated', 'event-rule:unchanged', 'event-target:updated', 'queue-policy:created']);
    } finally {
      other.destroy();
    }
    await clients.events.send(new PutRuleCommand({ Name: 'berth-kafka-changes', EventPattern: JSON.stringify({ source: ['aws.ec2'] }), State: 'ENABLED' }));
    const back = await d.ensureChangeQueue(m.spec);
    expect(back.changes.map((c) => `${c.resource}:${c.action}`)).toEqual(['sqs-queue:unchanged', 'event-rule:updated', 'event-target:updated', 'event-rule:unchanged', 'event-target:updated', 'queue-policy:unchanged']);
    expect(JSON.parse((await clients.events.send(new DescribeRuleCommand({ Name: 'berth-kafka-changes' }))).EventPattern!)).toEqual(changeEventPattern(m.spec));
  });

  it('turns Auto Scaling events put on the default bus into changes, and deletes them from the queue', async () => {
    const d = m.driver;
    await d.ensureChangeQueue(m.spec);
    const put = await clients.events.send(
      new PutEventsCommand({
        Entries: [
          autoScalingEvent('EC2 Instance Launch Successful', 'berth-kafka-n1', { EC2InstanceId: 'i-0new', StatusCode: 'InProgress' }),
          autoScalingEvent('EC2 Instance Terminate Successful', 'berth-kafka-n2', { EC2InstanceId: 'i-0old' }),
          autoScalingEvent('EC2 Instance Launch Unsuccessful', 'berth-kafka-n3', { EC2InstanceId: '', StatusCode: 'Failed', StatusMessage: "The image id '[ami-gone]' does not exist." }),
          // Outside the rule: another prefix, another event type.
          autoScalingEvent('EC2 Instance Launch Successful', 'berth-other-n1', { EC2InstanceId: 'i-0x' }),
          autoScalingEvent('EC2 Instance-launch Lifecycle Action', 'berth-kafka-n1', { EC2InstanceId: 'i-0new' }),
          // Matches the prefix but is no node of this spec (a cluster named kafka-b, say): delivered, then skipped.
          autoScalingEvent('EC2 Instance Launch Successful', 'berth-kafka-b-n1', { EC2InstanceId: 'i-0y' }),
        ],
      }),
    );
    expect(put.FailedEntryCount ?? 0).toBe(0);
    expect(await queueDepth()).toBe(4);

    d.resetApiCallCounts();
    const changes = await d.waitForChange!(m.spec, { timeoutMs: 5_000 });
    const atMs = Date.parse('2025-03-01T12:00:00Z');
    expect([...changes].sort((a, b) => a.nodeId.localeCompare(b.nodeId))).toEqual([
      { atMs, nodeId: 'n1', instanceId: 'i-0new', kind: 'lifecycle', detail: 'InService' },
      { atMs, nodeId: 'n2', instanceId: 'i-0old', kind: 'terminated', detail: 'Terminated' },
      { atMs, nodeId: 'n3', instanceId: null, kind: 'launch-failed', detail: "The image id '[ami-gone]' does not exist." },
    ]);
    expect(d.apiCallCounts()).toEqual({ DeleteMessageBatch: 1, ReceiveMessage: 1 });
    expect(await queueDepth()).toBe(0);
  });

  it("turns tag changes of the cluster's instances that touch berth:phase into phase changes (the boot phases)", async () => {
    const d = m.driver;
    await d.ensureChangeQueue(m.spec);
    const tagChange = (instanceId: string, changed: string[], tags: Record<string, string>) => ({
      Source: 'aws.tag',
      DetailType: 'Tag Change on Resource',
      Time: new Date('2025-03-01T12:00:07Z'),
      Resources: [`arn:aws:ec2:us-east-1:123456789012:instance/${instanceId}`],
      Detail: JSON.stringify({ 'changed-tag-keys': changed, service: 'ec2', 'resource-type': 'instance', version: 3, tags }),
    });
    const node = (nodeId: string, phase: string) => ({ 'berth:cluster': 'kafka', 'berth:node': nodeId, 'berth:revision': 'r1', 'berth:phase': phase });
    const put = await clients.events.send(
      new PutEventsCommand({
        Entries: [
          tagChange('i-0a1', ['berth:phase'], node('n1', 'mounting')),
          tagChange('i-0a2', ['berth:phase'], node('n2', 'failed:configuring:configure-exit-3')),
          // Outside the rule: another key changed, another cluster, a volume.
          tagChange('i-0a1', ['team'], { ...node('n1', 'mounting'), team: 'x' }),
          tagChange('i-0b1', ['berth:phase'], { ...node('n1', 'joining'), 'berth:cluster': 'other' }),
          { ...tagChange('vol-0a1', ['berth:phase'], node('n1', 'joining')), Detail: JSON.stringify({ 'changed-tag-keys': ['berth:phase'], service: 'ec2', 'resource-type': 'volume', tags: node('n1', 'joining') }) },
          // Matches, but names no node of this spec: delivered, then skipped.
          tagChange('i-0a9', ['berth:phase'], node('n9', 'joining')),
        ],
      }),
    );
    expect(put.FailedEntryCount ?? 0).toBe(0);
    expect(await queueDepth()).toBe(3);
    d.resetApiCallCounts();
    const changes = await d.waitForChange!(m.spec, { timeoutMs: 5_000 });
    const atMs = Date.parse('2025-03-01T12:00:07Z');
    expect([...changes].sort((a, b) => a.nodeId.localeCompare(b.nodeId))).toEqual([
      { atMs, nodeId: 'n1', instanceId: 'i-0a1', kind: 'phase', detail: 'mounting', phase: 'mounting' },
      { atMs, nodeId: 'n2', instanceId: 'i-0a2', kind: 'phase', detail: 'configuring:configure-exit-3', phase: 'failed' },
    ]);
    expect(d.apiCallCounts()).toEqual({ DeleteMessageBatch: 1, ReceiveMessage: 1 });
    expect(await queueDepth()).toBe(0);
  });

  it('returns [] after its wait when nothing arrives, in one ReceiveMessage', async () => {
    const d = m.driver;
    await d.ensureChangeQueue(m.spec);
    d.resetApiCallCounts();
    const t = Date.now();
    expect(await d.waitForChange!(m.spec, { timeoutMs: 1_000 })).toEqual([]);
    expect(Date.now() - t).toBeGreaterThanOrEqual(900);
    expect(d.apiCallCounts()).toEqual({ ReceiveMessage: 1 });
    expect(await d.waitForChange!(m.spec, { timeoutMs: 0 })).toEqual([]);
    expect(d.apiCallCounts()).toEqual({ ReceiveMessage: 2 });
  });

  it('skips and deletes malformed messages (sent straight to the queue)', async () => {
    const d = m.driver;
    const feed = await d.ensureChangeQueue(m.spec);
    const good = { version: '0', id: 'e-1', 'detail-type': 'EC2 Instance Launch Successful', source: 'aws.autoscaling', time: '2025-03-01T12:00:05Z', detail: { AutoScalingGroupName: 'berth-kafka-n2', EC2InstanceId: 'i-0ok' } };
    for (const body of [
      'not json',
      '[1,2]',
      JSON.stringify({ ...good, source: 'aws.ec2' }),
      JSON.stringify({ ...good, detail: {} }),
      JSON.stringify({ ...good, time: 'yesterday' }),
      JSON.stringify({ ...good, detail: { AutoScalingGroupName: 'berth-kafka-n2' } }),
      JSON.stringify(good),
    ]) {
      await clients.sqs.send(new SendMessageCommand({ QueueUrl: feed.queueUrl, MessageBody: body }));
    }
    expect(await queueDepth()).toBe(7);
    d.resetApiCallCounts();
    const changes = await d.waitForChange!(m.spec, { timeoutMs: 2_000 });
    expect(changes).toEqual([{ atMs: Date.parse('2025-03-01T12:00:05Z'), nodeId: 'n2', instanceId: 'i-0ok', kind: 'lifecycle', detail: 'InService' }]);
    expect(d.apiCallCounts()).toEqual({ DeleteMessageBatch: 1, ReceiveMessage: 1 });
    expect(await queueDepth()).toBe(0);
  });

  it('ensureNode ensures the feed once per cluster; waitForChange ensures it when nothing did; deleteNode leaves it', async () => {
    const d = m.driver;
    await d.ensureNode(m.spec, 'n1');
    await d.ensureNode(m.spec, 'n2');
    expect(d.apiCallCounts()).toMatchObject({ GetQueueUrl: 1, CreateQueue: 1, PutRule: 2, PutTargets: 2, SetQueueAttributes: 1 });
    await d.deleteNode(m.spec, 'n2', { policy: 'delete' });
    expect(await queueDepth()).toBe(0); // still there

    // A fresh driver (a controller that only rolls): its first waitForChange looks the feed over once.
    const other = motoDriver(m.moto.endpoint, { changeQueue: true, capabilities: { changeNotifications: true } });
    try {
      expect(await other.waitForChange!(m.spec, { timeoutMs: 0 })).toEqual([]);
      expect(await other.waitForChange!(m.spec, { timeoutMs: 0 })).toEqual([]);
      expect(other.apiCallCounts()).toEqual({ DescribeRule: 2, GetQueueAttributes: 1, GetQueueUrl: 1, ListTargetsByRule: 2, ReceiveMessage: 2 });
    } finally {
      other.destroy();
    }

    const deleted = await d.deleteChangeQueue(m.spec);
    expect(deleted.changes.map((c) => `${c.resource}:${c.action}`)).toEqual(['event-target:deleted', 'event-rule:deleted', 'event-target:deleted', 'event-rule:deleted', 'sqs-queue:deleted']);
    await expect(clients.sqs.send(new GetQueueUrlCommand({ QueueName: QUEUE }))).rejects.toMatchObject({ name: expect.stringMatching(/QueueDoesNotExist|NonExistentQueue/) });
    for (const r of ['berth-kafka-changes', 'berth-kafka-phases']) {
      await expect(clients.events.send(new DescribeRuleCommand({ Name: r }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    }
    expect((await d.deleteChangeQueue(m.spec)).changes).toEqual([]);
  });

  it('honours the abort signal of a long poll', async () => {
    const d = m.driver;
    await d.ensureChangeQueue(m.spec);
    const ac = new AbortController();
    const t = Date.now();
    const p = d.waitForChange!(m.spec, { timeoutMs: 20_000, signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stop')), 200);
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    expect(Date.now() - t).toBeLessThan(5_000);
  });
});
