import { TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { Simulation } from '../../src/index.js';
import { createNode, instanceIn, rulesAccount, SUBNET, until } from './account-fixture.js';

interface AutoScalingEvent {
  readonly source: string;
  readonly 'detail-type': string;
  readonly account: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Record<string, unknown>;
}

/** A queue fed by a rule on the default bus for Auto Scaling's events (with the queue policy EventBridge needs). */
async function eventQueue(sim: Simulation, pattern: Record<string, unknown> = { source: ['aws.autoscaling'] }): Promise<string> {
  const q = await sim.aws.sqs.send(new CreateQueueCommand({ QueueName: 'asg-events' }));
  const url = q.QueueUrl as string;
  const arn = (await sim.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes?.['QueueArn'] as string;
  const rule = await sim.aws.eventBridge.send(new PutRuleCommand({ Name: 'asg-events', EventPattern: JSON.stringify(pattern) }));
  await sim.aws.sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: url,
      Attributes: {
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: arn, Condition: { ArnEquals: { 'aws:SourceArn': rule.RuleArn } } }],
        }),
      },
    }),
  );
  const t = await sim.aws.eventBridge.send(new PutTargetsCommand({ Rule: 'asg-events', Targets: [{ Id: 'queue', Arn: arn }] }));
  expect(t.FailedEntryCount).toBe(0);
  return url;
}

/** What the queue holds (a few receives: a group that keeps failing keeps sending). */
/** Gives the queue back the policy that lets the rule send. */
async function restorePolicy(sim: Simulation, url: string): Promise<string> {
  const arn = (await sim.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes?.['QueueArn'] as string;
  const ruleArn = 'arn:aws:events:eu-west-1:123456789012:rule/asg-events';
  await sim.aws.sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: url,
      Attributes: { Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: arn, Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } } }] }) },
    }),
  );
  return url;
}

async function drain(sim: Simulation, url: string): Promise<AutoScalingEvent[]> {
  const out: AutoScalingEvent[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await sim.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    if (!r.Messages?.length) break;
    out.push(...r.Messages.map((m) => JSON.parse(m.Body as string) as AutoScalingEvent));
  }
  return out;
}

describe('Auto Scaling events in EventBridge', () => {
  it('EB-1: launches and terminations reach a rule on the default bus as "EC2 Instance Launch Successful" and "EC2 Instance Terminate Successful"', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const url = await eventQueue(sim);
      await createNode(sim, 'n1');
      const first = await instanceIn(sim, 'n1', 'InService');
      await sim.aws.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: first, ShouldDecrementDesiredCapacity: false }));
      await until(sim, () => sim.world.instance(first)?.ec2State === 'terminated', 'terminated');
      const second = await instanceIn(sim, 'n1', 'InService');
      await sim.clock.sleep(5_000);
      const events = await drain(sim, url);
      const groupArn = sim.world.groups.find((g) => g.name === 'n1')?.arn as string;
      const arnOf = (id: string) => `arn:aws:ec2:eu-west-1:123456789012:instance/${id}`;
      const seen = events.map((e) => [e['detail-type'], e.detail['EC2InstanceId']]);
      expect(seen).toEqual(expect.arrayContaining([
        ['EC2 Instance Launch Successful', first],
        ['EC2 Instance Terminate Successful', first],
        ['EC2 Instance Launch Successful', second],
      ]));
      const launched = events.find((e) => e['detail-type'] === 'EC2 Instance Launch Successful' && e.detail['EC2InstanceId'] === first) as AutoScalingEvent;
      expect(launched).toMatchObject({ source: 'aws.autoscaling', account: '123456789012', region: 'eu-west-1', resources: [groupArn, arnOf(first)] });
      expect(launched.detail).toMatchObject({ AutoScalingGroupName: 'n1', EC2InstanceId: first, StatusCode: 'InProgress', ActivityId: expect.any(String), Cause: expect.any(String) });
      const terminated = events.find((e) => e['detail-type'] === 'EC2 Instance Terminate Successful') as AutoScalingEvent;
      expect(terminated).toMatchObject({ resources: [groupArn, arnOf(first)], detail: { AutoScalingGroupName: 'n1', EC2InstanceId: first } });
    });
  });

  it('EB-1, EB-2: a failed launch is "EC2 Instance Launch Unsuccessful" with the failure in StatusMessage; a pattern selects by detail-type and group-name prefix', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const url = await eventQueue(sim, { source: ['aws.autoscaling'], 'detail-type': ['EC2 Instance Launch Unsuccessful'], detail: { AutoScalingGroupName: [{ prefix: 'bad-' }] } });
      await createNode(sim, 'bad-1', { vpcZoneIdentifier: SUBNET.a });
      await createNode(sim, 'good-1', { subnet: 'b' });
      await instanceIn(sim, 'good-1', 'InService');
      await sim.clock.sleep(5_000);
      const events = await drain(sim, url);
      expect(events.length).toBeGreaterThan(0);
      for (const e of events) {
        expect(e['detail-type']).toBe('EC2 Instance Launch Unsuccessful');
        expect(e.detail).toMatchObject({
          AutoScalingGroupName: 'bad-1',
          StatusCode: 'Failed',
          StatusMessage: 'Network interfaces and an instance-level subnet ID may not be specified on the same request. Launching EC2 instance failed.',
        });
      }
    });
  });

  it('EB-3, EB-4: with IAM evaluated, deliveries reach the queue only while its policy lets the rule send; refused events are dropped, not retried', async () => {
    const { sim } = rulesAccount({ iam: 'evaluate' });
    sim.account.setControllerPolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });
    await sim.run(async () => {
      const url = await eventQueue(sim);
      await sim.aws.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: '' } }));
      await createNode(sim, 'n1');
      await instanceIn(sim, 'n1', 'InService');
      await sim.clock.sleep(5_000);
      expect(await drain(sim, url)).toEqual([]);
      expect(sim.trace.filter((e) => e.kind === 'events.delivery-failed').length).toBeGreaterThan(0);
      // Put the policy back: what was refused is lost; what happens next arrives.
      const policyUrl = await restorePolicy(sim, url);
      await sim.clock.sleep(600_000);
      expect(await drain(sim, policyUrl)).toEqual([]);
      const inst = sim.world.instances.find((i) => i.groupName === 'n1')?.id as string;
      await sim.aws.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: inst, ShouldDecrementDesiredCapacity: false }));
      await instanceIn(sim, 'n1', 'InService');
      await sim.clock.sleep(5_000);
      // (Launches fail while the old instance still holds the interface: ENI-6.)
      const got = (await drain(sim, url)).filter((e) => e['detail-type'] !== 'EC2 Instance Launch Unsuccessful');
      expect(got.map((e) => [e['detail-type'], e.detail['EC2InstanceId']])).toEqual([
        ['EC2 Instance Terminate Successful', inst],
        ['EC2 Instance Launch Successful', sim.world.instances.find((i) => i.groupName === 'n1' && i.id !== inst)?.id],
      ]);
    });
  });
});
