import { DescribeAutoScalingGroupsCommand, DescribeScalingActivitiesCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateNetworkInterfaceCommand,
  CreateVolumeCommand,
  DescribeInstanceStatusCommand,
  type DescribeInstanceStatusCommandInput,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeVolumesCommand,
  EC2ServiceException,
  TerminateInstancesCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import { PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { Simulation } from '../../src/index.js';
import { AZ, createNode, expectAwsError, instanceIn, rulesAccount, SUBNET, tags, until } from './account-fixture.js';

/** A queue that a rule on the default bus with `pattern` delivers to (with the queue policy EventBridge needs). */
async function ruleQueue(sim: Simulation, name: string, pattern: Record<string, unknown>): Promise<string> {
  const url = (await sim.aws.sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
  const arn = (await sim.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes?.['QueueArn'] as string;
  const rule = await sim.aws.eventBridge.send(new PutRuleCommand({ Name: name, EventPattern: JSON.stringify(pattern) }));
  const statement = { Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: arn, Condition: { ArnEquals: { 'aws:SourceArn': rule.RuleArn } } };
  await sim.aws.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: JSON.stringify({ Version: '2012-10-17', Statement: [statement] }) } }));
  await sim.aws.eventBridge.send(new PutTargetsCommand({ Rule: name, Targets: [{ Id: 'q', Arn: arn }] }));
  return url;
}

async function bodies(sim: Simulation, url: string): Promise<Record<string, unknown>[]> {
  const r = await sim.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  return (r.Messages ?? []).map((m) => JSON.parse(m.Body as string) as Record<string, unknown>);
}

/** DescribeInstances of one instance by id. */
async function describeInstance(sim: ReturnType<typeof rulesAccount>['sim'], id: string): Promise<Instance> {
  const r = await sim.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  return r.Reservations?.[0]?.Instances?.[0] as Instance;
}

/** DescribeInstances of a new instance, retried while EC2 does not show it yet (EC2-7). */
async function visible(sim: ReturnType<typeof rulesAccount>['sim'], id: string): Promise<Instance> {
  for (;;) {
    try {
      return await describeInstance(sim, id);
    } catch (e) {
      if ((e as Error).name !== 'InvalidInstanceID.NotFound') throw e;
      await sim.clock.sleep(1);
    }
  }
}

describe('EC2 instances', () => {
  it('EC2-1: an instance goes pending → running; TerminateInstances answers running → shutting-down; then terminated', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1');
      const id = await instanceIn(sim, 'n1', 'Pending');
      const first = await visible(sim, id);
      expect(first.State).toEqual({ Code: 0, Name: 'pending' });
      await until(sim, async () => (await describeInstance(sim, id)).State?.Name === 'running', 'running');
      expect((await describeInstance(sim, id)).State).toEqual({ Code: 16, Name: 'running' });

      const t = await sim.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      expect(t.TerminatingInstances).toEqual([{ InstanceId: id, PreviousState: { Code: 16, Name: 'running' }, CurrentState: { Code: 32, Name: 'shutting-down' } }]);
      expect((await describeInstance(sim, id)).State?.Name).toBe('shutting-down');
      await until(sim, async () => (await describeInstance(sim, id)).State?.Name === 'terminated', 'terminated');
      expect((await describeInstance(sim, id)).State).toEqual({ Code: 48, Name: 'terminated' });
    });
    const states = sim.trace.filter((e) => e.kind === 'instance.state').map((e) => `${String(e.from)}→${String(e.to)}`);
    expect(states.slice(0, 3)).toEqual(['pending→running', 'running→shutting-down', 'shutting-down→terminated']);
  });

  it('EC2-2: a terminated instance stays in DescribeInstances (state terminated, with its tags) for about an hour, then is gone', async () => {
    const { sim } = rulesAccount({ timings: { terminatedVisibleMs: 3600_000 } });
    await sim.run(async () => {
      await createNode(sim, 'n1', { template: { TagSpecifications: [{ ResourceType: 'instance', Tags: tags({ app: 'kafka' }) }] } });
      const id = await instanceIn(sim, 'n1', 'InService');
      await sim.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      await until(sim, () => sim.world.instance(id)?.ec2State === 'terminated', 'terminated');
      const terminatedAt = sim.clock.now();

      await sim.clock.sleep(59 * 60_000);
      const seen = await describeInstance(sim, id);
      expect(seen.State?.Name).toBe('terminated');
      expect(seen.Tags).toContainEqual({ Key: 'app', Value: 'kafka' });
      // A filter on the state must leave terminated instances out explicitly.
      const all = await sim.aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:app', Values: ['kafka'] }] }));
      expect(all.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId)).toContain(id);
      const live = await sim.aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:app', Values: ['kafka'] }, { Name: 'instance-state-name', Values: ['pending', 'running'] }] }));
      expect(live.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId)).not.toContain(id);

      await sim.clock.sleep(terminatedAt + 61 * 60_000 - sim.clock.now());
      await expectAwsError(sim.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] })), 'InvalidInstanceID.NotFound', 400, EC2ServiceException, new RegExp(id));
      const later = await sim.aws.ec2.send(new DescribeInstancesCommand({}));
      expect(later.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId)).not.toContain(id);
    });
  });

  it('EC2-4: the instance carries the template\'s metadata options; the hop limit defaults to 1', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1', { template: { MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' } } });
      const id = await instanceIn(sim, 'n1', 'InService');
      expect((await describeInstance(sim, id)).MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' });
    });
  });

  it('EC2-5: a spot instance is marked spot, is terminated two minutes after its interruption notice, and the group replaces it', async () => {
    const { sim } = rulesAccount({ spot: true, timings: { spotNoticeMs: 120_000 } });
    await sim.run(async () => {
      await createNode(sim, 'n1', { template: { TagSpecifications: [{ ResourceType: 'instance', Tags: tags({ 'berth:node': 'n1' }) }] } });
      const id = await instanceIn(sim, 'n1', 'InService');
      const spot = await sim.aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-lifecycle', Values: ['spot'] }] }));
      expect(spot.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => [i.InstanceId, i.InstanceLifecycle])).toEqual([[id, 'spot']]);
      const noticeAt = sim.clock.now();
      sim.faults.spotInterrupt('n1');
      await sim.clock.sleep(119_000);
      expect((await describeInstance(sim, id)).State?.Name).toBe('running');
      await until(sim, () => sim.world.instance(id)?.ec2State !== 'running', 'interrupted', 100);
      expect(sim.clock.now() - noticeAt).toBeGreaterThanOrEqual(120_000);
      expect((await describeInstance(sim, id)).StateReason?.Code).toBe('Server.SpotInstanceTermination');
      const next = await instanceIn(sim, 'n1', 'InService');
      expect(next).not.toBe(id);
    });
  });

  it('EC2-5, EB-6: the interruption warning goes to the default bus as EC2 sends it, two minutes ahead; only rules whose pattern matches it get it', async () => {
    const { sim } = rulesAccount({ spot: true, timings: { spotNoticeMs: 120_000 } });
    await sim.run(async () => {
      const warnings = await ruleQueue(sim, 'spot-warnings', { source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] });
      const scaling = await ruleQueue(sim, 'scaling', { source: ['aws.autoscaling'] });
      await createNode(sim, 'n1', { template: { TagSpecifications: [{ ResourceType: 'instance', Tags: tags({ 'berth:node': 'n1' }) }] } });
      const id = await instanceIn(sim, 'n1', 'InService');
      await bodies(sim, scaling); // the launch
      const sentAt = sim.clock.now();
      sim.faults.spotInterrupt('n1');
      await sim.clock.sleep(5_000);
      const got = await bodies(sim, warnings);
      expect(got).toEqual([
        {
          version: '0',
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          'detail-type': 'EC2 Spot Instance Interruption Warning',
          source: 'aws.ec2',
          account: '123456789012',
          time: new Date(Math.floor(sentAt / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
          region: 'eu-west-1',
          resources: [`arn:aws:ec2:eu-west-1:123456789012:instance/${id}`],
          detail: { 'instance-id': id, 'instance-action': 'terminate' },
        },
      ]);
      expect(await bodies(sim, scaling)).toEqual([]);
      expect(sim.world.instance(id)?.ec2State).toBe('running');
      await until(sim, () => sim.world.instance(id)?.ec2State !== 'running', 'interrupted', 100);
      expect(sim.clock.now() - sentAt).toBeGreaterThanOrEqual(120_000);
    });
  });

  it('EC2-8: DescribeInstanceStatus shows scheduled events of running instances (filters on event.*, none on tags); a retirement takes the instance at its time and stays listed as [Completed]', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1');
      await createNode(sim, 'n2', { subnet: 'b' });
      const a = await instanceIn(sim, 'n1', 'InService');
      const b = await instanceIn(sim, 'n2', 'InService');
      const status = (input: DescribeInstanceStatusCommandInput) => sim.aws.ec2.send(new DescribeInstanceStatusCommand(input));
      expect((await status({})).InstanceStatuses?.map((x) => [x.InstanceId, x.InstanceState?.Name, x.InstanceStatus?.Status, x.Events]).sort()).toEqual([
        [a, 'running', 'ok', undefined],
        [b, 'running', 'ok', undefined],
      ].sort());
      const at = sim.clock.now() + 3600_000;
      const eventId = sim.faults.scheduleInstanceEvent(a, { code: 'instance-retirement', inMs: 3600_000 });
      sim.faults.scheduleInstanceEvent(b, { code: 'system-reboot', inMs: 7200_000 });
      const retiring = await status({ Filters: [{ Name: 'event.code', Values: ['instance-retirement', 'instance-stop'] }] });
      expect(retiring.InstanceStatuses?.map((x) => [x.InstanceId, x.Events])).toEqual([
        [a, [{ InstanceEventId: eventId, Code: 'instance-retirement', Description: 'The instance is running on degraded hardware', NotBefore: new Date(at) }]],
      ]);
      expect((await status({ Filters: [{ Name: 'event.code', Values: ['system-reboot'] }] })).InstanceStatuses?.map((x) => x.InstanceId)).toEqual([b]);
      await expectAwsError(status({ Filters: [{ Name: 'tag:berth:node', Values: ['n1'] }] }), 'InvalidParameterValue', 400, EC2ServiceException);
      await expectAwsError(status({ InstanceIds: [a], MaxResults: 5 }), 'InvalidParameterCombination', 400, EC2ServiceException);

      await until(sim, () => sim.world.instance(a)?.ec2State !== 'running', 'retired', 60_000);
      expect(sim.clock.now()).toBeGreaterThanOrEqual(at);
      expect(sim.world.instance(a)?.stateReason).toMatch(/^Server\.ScheduledStop/);
      const replacement = await instanceIn(sim, 'n1', 'InService');
      expect(replacement).not.toBe(a);
      // Running instances only by default; with IncludeAllInstances the retired one, its event completed.
      expect((await status({ Filters: [{ Name: 'event.code', Values: ['instance-retirement'] }] })).InstanceStatuses).toEqual([]);
      const all = await status({ IncludeAllInstances: true, InstanceIds: [a] });
      expect(all.InstanceStatuses?.[0]?.Events?.[0]?.Description).toBe('[Completed] The instance is running on degraded hardware');
    });
  });

  it('EC2-5: with no capacity in the AZ, launches fail with InsufficientInstanceCapacity until it returns', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const outageEnds = sim.clock.now() + 60_000;
      sim.faults.azOutage(AZ.a, 60_000);
      await createNode(sim, 'n1');
      await sim.clock.sleep(30_000);
      const failed = await sim.aws.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'n1' }));
      expect(failed.Activities?.length).toBeGreaterThan(0);
      const message = 'We currently do not have sufficient m6i.large capacity in the Availability Zone you requested (eu-west-1a). Launching EC2 instance failed.';
      expect(new Set(failed.Activities?.map((a) => `${a.StatusCode} ${a.StatusMessage}`))).toEqual(new Set([`Failed ${message}`]));
      await instanceIn(sim, 'n1', 'InService');
      expect(sim.clock.now()).toBeGreaterThanOrEqual(outageEnds);
    });
  });

  it('EC2-7: a new interface, volume or instance may be missing from describes (NotFound by id, absent from tag filters) until EC2 catches up', async () => {
    const { sim } = rulesAccount();
    sim.faults.consistencyLag(5_000, 60_000);
    await sim.run(async () => {
      const eni = await sim.aws.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: SUBNET.a, Groups: ['sg-0123456789abcdef0'], TagSpecifications: [{ ResourceType: 'network-interface', Tags: tags({ k: 'v' }) }] }));
      const eniId = eni.NetworkInterface?.NetworkInterfaceId as string;
      const vol = await sim.aws.ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ.a, Size: 10, VolumeType: 'gp3', TagSpecifications: [{ ResourceType: 'volume', Tags: tags({ k: 'v' }) }] }));
      const volId = vol.VolumeId as string;

      await expectAwsError(sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] })), 'InvalidNetworkInterfaceID.NotFound', 400, EC2ServiceException);
      await expectAwsError(sim.aws.ec2.send(new DescribeVolumesCommand({ VolumeIds: [volId] })), 'InvalidVolume.NotFound', 400, EC2ServiceException);
      expect((await sim.aws.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:k', Values: ['v'] }] }))).Volumes).toEqual([]);
      expect((await sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'tag:k', Values: ['v'] }] }))).NetworkInterfaces).toEqual([]);

      // The group lists its new instance before EC2's describes show it.
      await createNode(sim, 'n1');
      await until(sim, async () => ((await sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['n1'] }))).AutoScalingGroups?.[0]?.Instances?.length ?? 0) > 0, 'the group lists an instance', 10);
      const listed = (await sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['n1'] }))).AutoScalingGroups?.[0]?.Instances?.[0]?.InstanceId as string;
      await expectAwsError(sim.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [listed] })), 'InvalidInstanceID.NotFound', 400, EC2ServiceException);

      await sim.clock.sleep(5_000);
      expect((await sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }))).NetworkInterfaces?.[0]?.NetworkInterfaceId).toBe(eniId);
      expect((await sim.aws.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:k', Values: ['v'] }] }))).Volumes?.map((v) => v.VolumeId)).toEqual([volId]);
      expect((await describeInstance(sim, listed)).InstanceId).toBe(listed);
    });
  });
});
