import { EventBridgeServiceException, ListTargetsByRuleCommand, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { changeEventPattern, groupName, parseChangeMessage } from '@berth/aws-driver';
import type { ClusterSpec } from '@berth/core';
import { describe, expect, it } from 'vitest';
import type { IamDecision, IamEvaluationRequest, IamEvaluator } from '../../src/aws/iam/iam-decision.js';
import { createSimulation } from '../../src/index.js';
import { EVENT_DELIVERY_MS } from '../../src/aws/services/eventbridge.js';
import type { SimulationOptions } from '../../src/options.js';
import { expectAwsError } from './account-fixture.js';
import { faultOf, testSim } from './service-fixture.js';

interface Statement {
  Effect?: string;
  Principal?: { Service?: string | string[] };
  Action?: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string>>;
}

/**
 * A tiny IAM evaluator for resource policies: allows when a statement allows the principal
 * (by service), the action and the resource, and its ArnEquals/StringEquals conditions hold;
 * otherwise ImplicitlyDenied. Enough to tell "the queue policy lets this rule send" apart.
 */
function stubEvaluator(asyncAnswers = false): IamEvaluator & { calls: IamEvaluationRequest[] } {
  const list = (x: string | string[] | undefined) => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
  const calls: IamEvaluationRequest[] = [];
  const decide = (r: IamEvaluationRequest): IamDecision => {
    const statements = ((r.resourcePolicy as { Statement?: Statement[] } | undefined)?.Statement ?? []);
    const allows = statements.some(
      (s) =>
        s.Effect === 'Allow' &&
        list(s.Principal?.Service).includes(r.principalArn) &&
        list(s.Action).some((a) => a === r.action || a === '*' || a === 'sqs:*') &&
        list(s.Resource).some((x) => x === r.resource || x === '*') &&
        Object.entries(s.Condition ?? {}).every(([op, kv]) => ['ArnEquals', 'StringEquals'].includes(op) && Object.entries(kv).every(([k, v]) => r.context[k] === v)),
    );
    return allows ? 'Allowed' : 'ImplicitlyDenied';
  };
  return {
    calls,
    evaluate(r) {
      calls.push(r);
      return asyncAnswers ? Promise.resolve().then(() => decide(r)) : decide(r);
    },
  };
}

const spec = { name: 'c1', nodes: [{ id: 'n1' }, { id: 'n2' }, { id: 'n3' }] } as unknown as ClusterSpec;

/** The change feed as change-queue.ts sets it up: queue, rule on the cluster's Auto Scaling events, target, queue policy. */
function withChangeFeed(overrides: SimulationOptions = {}, policy: 'rule' | 'other-rule' | 'none' = 'rule') {
  const sim = testSim(overrides);
  const { call } = sim;
  const { QueueUrl } = call('sqs', 'CreateQueue', { QueueName: 'berth-c1-changes', Attributes: { MessageRetentionPeriod: '3600' } }) as { QueueUrl: string };
  const queueArn = (call('sqs', 'GetQueueAttributes', { QueueUrl, AttributeNames: ['QueueArn'] }) as { Attributes: { QueueArn: string } }).Attributes.QueueArn;
  const { RuleArn } = call('events', 'PutRule', { Name: 'berth-c1-changes', EventPattern: JSON.stringify(changeEventPattern(spec)), State: 'ENABLED', Description: 'test' }) as { RuleArn: string };
  expect(call('events', 'PutTargets', { Rule: 'berth-c1-changes', Targets: [{ Id: 'berth-change-queue', Arn: queueArn }] })).toEqual({ FailedEntryCount: 0, FailedEntries: [] });
  if (policy !== 'none') {
    const sourceArn = policy === 'rule' ? RuleArn : RuleArn.replace('berth-c1-changes', 'someone-else');
    const document = { Version: '2012-10-17', Statement: [{ Sid: 'BerthChangeRule', Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: queueArn, Condition: { ArnEquals: { 'aws:SourceArn': sourceArn } } }] };
    call('sqs', 'SetQueueAttributes', { QueueUrl, Attributes: { Policy: JSON.stringify(document) } });
  }
  const launched = (nodeId: string, instanceId: string) =>
    sim.ctx.events.emit({
      source: 'aws.autoscaling',
      detailType: 'EC2 Instance Launch Successful',
      detail: { AutoScalingGroupName: groupName('c1', nodeId), EC2InstanceId: instanceId, StatusCode: 'InProgress' },
      resources: [`arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/${groupName('c1', nodeId)}`],
    });
  const receiveAll = () => call('sqs', 'ReceiveMessage', { QueueUrl, MaxNumberOfMessages: 10 }) as { Messages?: { Body: string }[] };
  const failures = () => sim.trace.entries.filter((e) => e.kind === 'events.delivery-failed');
  return { ...sim, QueueUrl, queueArn, RuleArn, launched, receiveAll, failures };
}

describe('SimEventBridge rules and targets', () => {
  it('puts, describes, lists and deletes rules as AWS answers', () => {
    const { call } = testSim();
    const pattern = JSON.stringify({ source: ['my.app'] });
    expect(call('events', 'PutRule', { Name: 'r1', EventPattern: pattern, Tags: [{ Key: 'k', Value: 'v' }] })).toEqual({ RuleArn: 'arn:aws:events:eu-west-1:123456789012:rule/r1' });
    expect(call('events', 'DescribeRule', { Name: 'r1' })).toEqual({ Name: 'r1', Arn: 'arn:aws:events:eu-west-1:123456789012:rule/r1', EventPattern: pattern, State: 'ENABLED', EventBusName: 'default', CreatedBy: '123456789012' });
    // PutRule replaces the rule: what it omits is cleared.
    call('events', 'PutRule', { Name: 'r1', EventPattern: pattern, State: 'DISABLED', Description: 'd' });
    expect(call('events', 'DescribeRule', { Name: 'r1' })).toMatchObject({ State: 'DISABLED', Description: 'd' });
    call('events', 'PutRule', { Name: 'r1', EventPattern: pattern });
    expect(call('events', 'DescribeRule', { Name: 'r1' })).not.toHaveProperty('Description');
    expect(faultOf(() => call('events', 'DescribeRule', { Name: 'nope' }))).toMatchObject({ code: 'ResourceNotFoundException', message: 'Rule nope does not exist.' });
    expect(faultOf(() => call('events', 'PutRule', { Name: 'bad', EventPattern: '{"source": "my.app"}' }))).toMatchObject({
      code: 'InvalidEventPatternException',
      message: 'Event pattern is not valid. Reason: "source" must be an object or an array',
    });
    expect(faultOf(() => call('events', 'PutRule', { Name: 'bad', ScheduleExpression: 'rate(5 minutes)' })).message).toContain('does not support ScheduleExpression');
    call('events', 'PutRule', { Name: 'r2', EventPattern: pattern });
    expect((call('events', 'ListRules', { NamePrefix: 'r' }) as { Rules: { Name: string }[] }).Rules.map((r) => r.Name)).toEqual(['r1', 'r2']);
    const paged = call('events', 'ListRules', { Limit: 1 }) as { Rules: { Name: string }[]; NextToken: string };
    expect(paged.Rules.map((r) => r.Name)).toEqual(['r1']);
    expect((call('events', 'ListRules', { Limit: 1, NextToken: paged.NextToken }) as { Rules: { Name: string }[] }).Rules.map((r) => r.Name)).toEqual(['r2']);
    expect(call('events', 'DeleteRule', { Name: 'r2' })).toEqual({});
    expect(call('events', 'DeleteRule', { Name: 'r2' })).toEqual({});
  });

  it('EB-5: refuses to delete a rule that has targets; reports per-target failures', () => {
    const { call } = testSim();
    call('events', 'PutRule', { Name: 'r1', EventPattern: JSON.stringify({ source: ['my.app'] }) });
    const put = call('events', 'PutTargets', {
      Rule: 'r1',
      Targets: [
        { Id: 'q', Arn: 'arn:aws:sqs:eu-west-1:123456789012:q1' },
        { Id: 'fn', Arn: 'arn:aws:lambda:eu-west-1:123456789012:function:f' },
      ],
    });
    expect(put).toMatchObject({ FailedEntryCount: 1, FailedEntries: [{ TargetId: 'fn', ErrorCode: 'ValidationException' }] });
    expect(call('events', 'ListTargetsByRule', { Rule: 'r1' })).toEqual({ Targets: [{ Id: 'q', Arn: 'arn:aws:sqs:eu-west-1:123456789012:q1' }] });
    expect(faultOf(() => call('events', 'DeleteRule', { Name: 'r1' }))).toMatchObject({ code: 'ValidationException', message: "Rule can't be deleted since it has targets." });
    expect(call('events', 'RemoveTargets', { Rule: 'r1', Ids: ['q'] })).toEqual({ FailedEntryCount: 0, FailedEntries: [] });
    expect(call('events', 'DeleteRule', { Name: 'r1' })).toEqual({});
    expect(faultOf(() => call('events', 'ListTargetsByRule', { Rule: 'r1' }))).toMatchObject({ code: 'ResourceNotFoundException', message: 'Rule r1 does not exist on EventBus default.' });
    expect(faultOf(() => call('events', 'PutTargets', { Rule: 'r1', Targets: [{ Id: 'q', Arn: 'arn:aws:sqs:eu-west-1:123456789012:q1' }] })).code).toBe('ResourceNotFoundException');
  });

  it('EB-5: PutTargets answers HTTP 200 with FailedEntryCount and FailedEntries; with IAM evaluated, a denied call is AccessDeniedException with the IAM-12 message', async () => {
    const sim = createSimulation({ seed: 1, profile: 'fast', iam: 'evaluate', account: 'manual', changeQueue: false });
    const rule = 'arn:aws:events:eu-west-1:123456789012:rule/r1';
    sim.account.setControllerPolicy({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['events:PutRule', 'events:PutTargets', 'events:ListTargetsByRule', 'events:RemoveTargets'], Resource: rule },
        { Effect: 'Deny', Action: 'events:RemoveTargets', Resource: rule },
      ],
    });
    const user = 'User: arn:aws:sts::123456789012:assumed-role/berth-controller/berth is not authorized to perform:';
    await sim.run(async () => {
      const events = sim.aws.eventBridge;
      await events.send(new PutRuleCommand({ Name: 'r1', EventPattern: JSON.stringify({ source: ['my.app'] }) }));
      // A target the rule cannot take does not fail the call: the caller must read FailedEntries.
      const put = await events.send(
        new PutTargetsCommand({
          Rule: 'r1',
          Targets: [
            { Id: 'q', Arn: 'arn:aws:sqs:eu-west-1:123456789012:q1' },
            { Id: 'fn', Arn: 'arn:aws:lambda:eu-west-1:123456789012:function:f' },
          ],
        }),
      );
      expect(put.$metadata.httpStatusCode).toBe(200);
      expect(put).toMatchObject({ FailedEntryCount: 1, FailedEntries: [{ TargetId: 'fn', ErrorCode: 'ValidationException' }] });
      expect((await events.send(new ListTargetsByRuleCommand({ Rule: 'r1' }))).Targets?.map((t) => t.Id)).toEqual(['q']);
      // Denied: no identity-based policy allows PutRule on another rule; an explicit deny on RemoveTargets.
      const other = await expectAwsError(events.send(new PutRuleCommand({ Name: 'r2', EventPattern: JSON.stringify({ source: ['my.app'] }) })), 'AccessDeniedException', 400, EventBridgeServiceException);
      expect(other.message).toBe(`${user} events:PutRule on resource: arn:aws:events:eu-west-1:123456789012:rule/r2 because no identity-based policy allows the events:PutRule action`);
      const remove = await expectAwsError(events.send(new RemoveTargetsCommand({ Rule: 'r1', Ids: ['q'] })), 'AccessDeniedException', 400, EventBridgeServiceException);
      expect(remove.message).toBe(`${user} events:RemoveTargets on resource: ${rule} with an explicit deny in an identity-based policy`);
      expect((await events.send(new ListTargetsByRuleCommand({ Rule: 'r1' }))).Targets?.map((t) => t.Id)).toEqual(['q']);
    });
  });

  it('refuses PutEvents entries whose source is an AWS service', () => {
    const { call } = testSim();
    const out = call('events', 'PutEvents', {
      Entries: [
        { Source: 'aws.autoscaling', DetailType: 'EC2 Instance Launch Successful', Detail: '{}' },
        { Source: 'my.app', DetailType: 'Thing', Detail: '{"a":1}' },
        { Source: 'my.app', DetailType: 'Thing', Detail: 'not json' },
      ],
    }) as { FailedEntryCount: number; Entries: Record<string, string>[] };
    expect(out.FailedEntryCount).toBe(2);
    expect(out.Entries[0]).toEqual({ ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' });
    expect(out.Entries[1]?.['EventId']).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.Entries[2]).toEqual({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' });
  });
});

describe('SimEventBridge delivery to SQS', () => {
  it("delivers a matching Auto Scaling event in EventBridge's envelope, which change-queue.ts parses", async () => {
    const { launched, receiveAll, scheduler, failures } = withChangeFeed();
    const startMs = scheduler.nowMs;
    launched('n2', 'i-0abc');
    await scheduler.run(() => scheduler.sleep(EVENT_DELIVERY_MS[1]));
    const bodies = (receiveAll().Messages ?? []).map((m) => m.Body);
    expect(bodies).toHaveLength(1);
    const body = bodies[0] as string;
    const event = JSON.parse(body) as Record<string, unknown>;
    expect(Object.keys(event)).toEqual(['version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail']);
    expect(event).toMatchObject({
      version: '0',
      'detail-type': 'EC2 Instance Launch Successful',
      source: 'aws.autoscaling',
      account: '123456789012',
      time: new Date(startMs).toISOString().replace('.000Z', 'Z'),
      region: 'eu-west-1',
      detail: { AutoScalingGroupName: groupName('c1', 'n2'), EC2InstanceId: 'i-0abc' },
    });
    expect(parseChangeMessage('c1', body, new Set(['n1', 'n2', 'n3']))).toEqual({ change: { atMs: startMs, nodeId: 'n2', instanceId: 'i-0abc', kind: 'lifecycle', detail: 'InService' } });
    expect(failures()).toEqual([]);
  });

  it('delivers after a latency drawn from EVENT_DELIVERY_MS, scaled down in the fast profile', async () => {
    for (const [profile, [lo, hi]] of [['realistic', EVENT_DELIVERY_MS], ['fast', [1, 10]]] as const) {
      const { launched, ctx, scheduler } = withChangeFeed({ profile });
      launched('n1', 'i-1');
      const arrivedAfter = await scheduler.run(async () => {
        const start = scheduler.nowMs;
        while (ctx.sqs.depth('berth-c1-changes') === 0) await scheduler.sleep(1);
        return scheduler.nowMs - start;
      });
      expect(arrivedAfter).toBeGreaterThanOrEqual(lo);
      expect(arrivedAfter).toBeLessThanOrEqual(hi);
    }
  });

  it('skips events the pattern does not match and rules that are disabled', async () => {
    const { call, ctx, receiveAll, scheduler, launched } = withChangeFeed();
    ctx.events.emit({ source: 'aws.autoscaling', detailType: 'EC2 Instance Launch Successful', detail: { AutoScalingGroupName: 'someone-elses-group', EC2InstanceId: 'i-9' }, resources: [] });
    ctx.events.emit({ source: 'aws.ec2', detailType: 'EC2 Instance State-change Notification', detail: { state: 'running' }, resources: [] });
    call('events', 'DisableRule', { Name: 'berth-c1-changes' });
    launched('n1', 'i-1');
    await scheduler.run(() => scheduler.sleep(2_000));
    expect(receiveAll()).toEqual({});
  });

  it('with IAM on, delivers only when the queue policy lets this rule send', async () => {
    for (const asyncAnswers of [false, true]) {
      const allowed = withChangeFeed({}, 'rule');
      const evaluator = stubEvaluator(asyncAnswers);
      allowed.ctx.iam.evaluator = evaluator;
      allowed.launched('n1', 'i-1');
      await allowed.scheduler.run(() => allowed.scheduler.sleep(2_000));
      expect(allowed.ctx.sqs.depth('berth-c1-changes')).toBe(1);
      expect(allowed.scheduler.holds).toBe(0);
      expect(evaluator.calls[0]).toMatchObject({ principalArn: 'events.amazonaws.com', action: 'sqs:SendMessage', resource: allowed.queueArn, context: { 'aws:SourceArn': allowed.RuleArn } });

      for (const policy of ['none', 'other-rule'] as const) {
        const refused = withChangeFeed({}, policy);
        refused.ctx.iam.evaluator = stubEvaluator(asyncAnswers);
        refused.launched('n1', 'i-1');
        await refused.scheduler.run(() => refused.scheduler.sleep(2_000));
        expect(refused.ctx.sqs.depth('berth-c1-changes')).toBe(0);
        const [failure] = refused.failures();
        expect(failure).toMatchObject({ kind: 'events.delivery-failed', queueArn: refused.queueArn, sourceArn: refused.RuleArn, service: 'events.amazonaws.com' });
        expect(String(failure?.['reason'])).toContain(policy === 'none' ? 'no policy' : 'does not allow');
      }
    }
  });

  it('drops a delivery to a queue that does not exist, and says why in the trace', async () => {
    const { call, ctx, scheduler, failures, queueArn, QueueUrl } = withChangeFeed();
    call('sqs', 'DeleteQueue', { QueueUrl });
    ctx.events.emit({ source: 'aws.autoscaling', detailType: 'EC2 Instance Terminate Successful', detail: { AutoScalingGroupName: groupName('c1', 'n1'), EC2InstanceId: 'i-1' }, resources: [] });
    await scheduler.run(() => scheduler.sleep(2_000));
    expect(failures()).toMatchObject([{ queueArn, reason: `queue ${queueArn} does not exist` }]);
  });

  it('is deterministic: one seed, one trace and the same messages', async () => {
    const run = async (seed: number) => {
      const feed = withChangeFeed({ seed });
      feed.launched('n1', 'i-1');
      feed.launched('n2', 'i-2');
      await feed.scheduler.run(() => feed.scheduler.sleep(2_000));
      return { trace: JSON.stringify(feed.trace.entries), bodies: (feed.receiveAll().Messages ?? []).map((m) => m.Body) };
    };
    const a = await run(11);
    expect(await run(11)).toEqual(a);
    expect(a.bodies).toHaveLength(2);
    expect((await run(12)).trace).not.toBe(a.trace);
  });

  it('routes custom PutEvents the same way', async () => {
    const { call, scheduler } = testSim();
    const { QueueUrl } = call('sqs', 'CreateQueue', { QueueName: 'app' }) as { QueueUrl: string };
    call('events', 'PutRule', { Name: 'app', EventPattern: JSON.stringify({ source: ['my.app'], detail: { n: [{ numeric: ['>', 1] }] } }) });
    call('events', 'PutTargets', { Rule: 'app', Targets: [{ Id: 'q', Arn: 'arn:aws:sqs:eu-west-1:123456789012:app', InputPath: '$.detail' }] });
    call('events', 'PutEvents', {
      Entries: [
        { Source: 'my.app', DetailType: 'T', Detail: '{"n":1}' },
        { Source: 'my.app', DetailType: 'T', Detail: '{"n":2}' },
      ],
    });
    await scheduler.run(() => scheduler.sleep(2_000));
    const got = call('sqs', 'ReceiveMessage', { QueueUrl, MaxNumberOfMessages: 10 }) as { Messages?: { Body: string }[] };
    expect(got.Messages?.map((m) => m.Body)).toEqual(['{"n":2}']);
  });
});
