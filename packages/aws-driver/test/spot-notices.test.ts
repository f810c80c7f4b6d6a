import { DescribeRuleCommand, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { noticeEventPattern } from '../src/change-queue.js';
import { useFeedClients, useMotoWorld } from './support/aws-fixture.js';

/**
 * Spot interruption warnings through the change queue, on moto: a driver whose instances may be
 * spot (`capabilities.spot`) adds a second rule for EC2's warnings to the same queue. moto lets
 * `PutEvents` use the source `aws.ec2` (AWS reserves it for EC2 itself), so the tests put the
 * warning EC2 would send. moto cannot show that EC2 sends it, when, or for which instances; the
 * simulator does (packages/sim-driver/test/disruption-notices.test.ts).
 */
const m = useMotoWorld({ nodes: 3, driver: { changeQueue: true, capabilities: { changeNotifications: true, spot: true } } });

const clients = useFeedClients(m);

const TIME = new Date('2025-03-01T12:00:00Z');

function spotWarning(instanceId: string, action = 'terminate') {
  return {
    Source: 'aws.ec2',
    DetailType: 'EC2 Spot Instance Interruption Warning',
    Time: TIME,
    Resources: [`arn:aws:ec2:us-east-1:123456789012:instance/${instanceId}`],
    Detail: JSON.stringify({ 'instance-id': instanceId, 'instance-action': action }),
  };
}

describe('spot interruption warnings (moto)', () => {
  it('ensureChangeQueue adds the notice rule to the same queue, and the queue policy lets both rules send; a second run only reads', async () => {
    const d = m.driver;
    const first = await d.ensureChangeQueue(m.spec);
    expect(first.changes.map((c) => `${c.resource}:${c.action}`)).toEqual([
      'sqs-queue:created',
      'event-rule:created',
      'event-target:created',
      'event-rule:created',
      'event-target:created',
      'event-rule:created',
      'event-target:created',
      'queue-policy:created',
    ]);
    expect(first.noticeRuleName).toBe('berth-kafka-notices');
    const rule = await clients.events.send(new DescribeRuleCommand({ Name: 'berth-kafka-notices' }));
    expect(JSON.parse(rule.EventPattern!)).toEqual({ source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] });
    expect(JSON.parse(rule.EventPattern!)).toEqual(noticeEventPattern());
    const policy = JSON.parse((await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: first.queueUrl, AttributeNames: ['Policy'] }))).Attributes!.Policy!);
    expect(policy.Statement[0].Condition).toEqual({ ArnEquals: { 'aws:SourceArn': [first.ruleArn, first.phaseRuleArn, first.noticeRuleArn] } });

    d.resetApiCallCounts();
    const second = await d.ensureChangeQueue(m.spec);
    expect(second.changes.every((c) => c.action === 'unchanged')).toBe(true);
    expect(d.apiCallCounts()).toEqual({ DescribeRule: 3, GetQueueAttributes: 1, GetQueueUrl: 1, ListTargetsByRule: 3 });

    const deleted = await d.deleteChangeQueue(m.spec);
    expect(deleted.changes.map((c) => `${c.resource}:${c.action}:${c.id}`)).toEqual([
      'event-target:deleted:berth-kafka-changes/berth-change-queue',
      'event-rule:deleted:berth-kafka-changes',
      'event-target:deleted:berth-kafka-phases/berth-change-queue',
      'event-rule:deleted:berth-kafka-phases',
      'event-target:deleted:berth-kafka-notices/berth-change-queue',
      'event-rule:deleted:berth-kafka-notices',
      expect.stringMatching(/^sqs-queue:deleted:/),
    ]);
  });

  it("turns a warning for one of the cluster's instances into a disruption change and a disruption on the observed instance; skips others after one lookup", async () => {
    const d = m.driver;
    await d.ensureNode(m.spec, 'n1');
    const ours = (await d.observe(m.spec, { scope: 'instances' })).nodes.n1!.instances[0]!.instanceId;
    const put = await clients.events.send(new PutEventsCommand({ Entries: [spotWarning(ours), spotWarning('i-0123456789abcdef0'), spotWarning('i-0123456789abcdef1', 'hibernate')] }));
    expect(put.FailedEntryCount ?? 0).toBe(0);

    d.resetApiCallCounts();
    const changes = await d.waitForChange!(m.spec, { timeoutMs: 5_000 });
    expect(changes).toEqual([{ atMs: TIME.getTime(), nodeId: 'n1', instanceId: ours, kind: 'disruption', detail: 'spot-interruption (instance-action: terminate)' }]);
    // The two foreign ids are looked up together, once (ours is known from the observation).
    expect(d.apiCallCounts()).toEqual({ DeleteMessageBatch: 1, DescribeInstances: 1, ReceiveMessage: 1 });

    const seen = (await d.observe(m.spec, { scope: 'instances' })).nodes.n1!.instances.find((i) => i.instanceId === ours);
    expect(seen?.disruption).toEqual({ kind: 'spot-interruption', noticedAtMs: TIME.getTime(), deadlineMs: TIME.getTime() + 120_000, detail: 'instance-action: terminate' });

    // Again for a foreign instance: known to be none of ours, no lookup.
    await clients.events.send(new PutEventsCommand({ Entries: [spotWarning('i-0123456789abcdef0')] }));
    d.resetApiCallCounts();
    expect(await d.waitForChange!(m.spec, { timeoutMs: 5_000 })).toEqual([]);
    expect(d.apiCallCounts().DescribeInstances).toBeUndefined();
  });
});
