import {
  AlreadyExistsFault,
  AutoScalingServiceException,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAccountLimitsCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
  LimitExceededFault,
  ResourceInUseFault,
  ResumeProcessesCommand,
  SetInstanceHealthCommand,
  SuspendProcessesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DescribeInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { defineCluster } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { simulatedClusterInput, type Simulation } from '../../src/index.js';
import { AZ, createEni, createGroup, createNode, createTemplate, expectAwsError, IMAGE, instanceIn, liveInstancesOf, rulesAccount, SUBNET, until } from './account-fixture.js';

const group = async (sim: Simulation, name: string) => (await sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))).AutoScalingGroups?.[0];
const activities = async (sim: Simulation, name: string) => (await sim.aws.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: name }))).Activities ?? [];

describe('Auto Scaling groups', () => {
  it('ASG-1: a group of one replaces an instance EC2 terminated, and one terminated through the group without decrementing its capacity', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1');
      const first = await instanceIn(sim, 'n1', 'InService');
      await sim.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [first] }));
      const second = await instanceIn(sim, 'n1', 'InService');
      expect(second).not.toBe(first);

      const r = await sim.aws.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: second, ShouldDecrementDesiredCapacity: false }));
      // Asynchronous: a scaling activity, the instance still running at the answer.
      expect(r.Activity).toMatchObject({ AutoScalingGroupName: 'n1', StatusCode: 'InProgress' });
      expect((await sim.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [second] }))).Reservations?.[0]?.Instances?.[0]?.State?.Name).toBe('shutting-down');
      const third = await instanceIn(sim, 'n1', 'InService');
      expect(third).not.toBe(second);
      expect((await group(sim, 'n1'))?.DesiredCapacity).toBe(1);
    });
  });

  it('ASG-1: TerminateInstanceInAutoScalingGroup with ShouldDecrementDesiredCapacity lowers the capacity (refused below the minimum)', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1');
      const inst = await instanceIn(sim, 'n1', 'InService');
      await expectAwsError(
        sim.aws.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: inst, ShouldDecrementDesiredCapacity: true })),
        'ValidationError',
        400,
        AutoScalingServiceException,
        /desiredSize equals minSize \(1\)/,
      );
      await sim.aws.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'n1', MinSize: 0 }));
      await sim.aws.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: inst, ShouldDecrementDesiredCapacity: true }));
      await sim.clock.sleep(60_000);
      expect((await group(sim, 'n1'))).toMatchObject({ DesiredCapacity: 0, Instances: [] });
      expect(liveInstancesOf(sim, 'n1')).toEqual([]);
      await expectAwsError(
        sim.aws.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: inst, ShouldDecrementDesiredCapacity: false })),
        'ValidationError',
        400,
        AutoScalingServiceException,
        new RegExp(`No managed instance found for instance ID: ${inst}`),
      );
    });
  });

  it('ASG-2: a group created with AvailabilityZones launches its one instance on the template\'s interface, with its address', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const node = await createNode(sim, 'n1', { subnet: 'c' });
      const inst = await instanceIn(sim, 'n1', 'InService');
      expect(await group(sim, 'n1')).toMatchObject({ AvailabilityZones: [AZ.c], Instances: [{ InstanceId: inst, AvailabilityZone: AZ.c, LifecycleState: 'InService', HealthStatus: 'Healthy' }] });
      expect((await group(sim, 'n1'))?.VPCZoneIdentifier).toBeUndefined();
      const i = (await sim.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [inst] }))).Reservations?.[0]?.Instances?.[0];
      expect(i).toMatchObject({ PrivateIpAddress: node.ip, SubnetId: SUBNET.c });
    });
  });

  it('ASG-3, EC2-6: a group given VPCZoneIdentifier with an existing-interface template is created, but every launch fails and it never has an instance', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1', { vpcZoneIdentifier: SUBNET.a });
      expect(await group(sim, 'n1')).toMatchObject({ VPCZoneIdentifier: SUBNET.a, AvailabilityZones: [AZ.a], DesiredCapacity: 1 });
      await sim.clock.sleep(10_000);
      const acts = await activities(sim, 'n1');
      expect(acts.length).toBeGreaterThan(3);
      for (const a of acts) {
        expect(a).toMatchObject({ StatusCode: 'Failed', StatusMessage: 'Network interfaces and an instance-level subnet ID may not be specified on the same request. Launching EC2 instance failed.' });
      }
      expect((await group(sim, 'n1'))?.Instances).toEqual([]);
      expect(sim.world.instances).toEqual([]);
      // Failed launches are retried with backoff, not in a tight loop.
      const starts = acts.map((a) => a.StartTime!.getTime()).sort((x, y) => x - y);
      const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
      expect(gaps.at(-1)!).toBeGreaterThan(gaps[0]!);
    });
  });

  it('ASG-7: with Launch suspended a lost instance is not replaced until Launch resumes; ReplaceUnhealthy governs replacing an unhealthy one', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1');
      const first = await instanceIn(sim, 'n1', 'InService');
      await sim.aws.autoScaling.send(new SuspendProcessesCommand({ AutoScalingGroupName: 'n1', ScalingProcesses: ['Launch'] }));
      expect((await group(sim, 'n1'))?.SuspendedProcesses?.map((p) => p.ProcessName)).toEqual(['Launch']);
      await sim.aws.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: first, ShouldDecrementDesiredCapacity: false }));
      await sim.clock.sleep(600_000);
      expect(liveInstancesOf(sim, 'n1')).toEqual([]);
      expect((await group(sim, 'n1'))?.Instances).toEqual([]);
      await sim.aws.autoScaling.send(new ResumeProcessesCommand({ AutoScalingGroupName: 'n1', ScalingProcesses: ['Launch'] }));
      const second = await instanceIn(sim, 'n1', 'InService');

      await sim.aws.autoScaling.send(new SuspendProcessesCommand({ AutoScalingGroupName: 'n1', ScalingProcesses: ['ReplaceUnhealthy'] }));
      await sim.aws.autoScaling.send(new SetInstanceHealthCommand({ InstanceId: second, HealthStatus: 'Unhealthy' }));
      await sim.clock.sleep(60_000);
      expect((await group(sim, 'n1'))?.Instances?.map((i) => [i.InstanceId, i.HealthStatus, i.LifecycleState])).toEqual([[second, 'Unhealthy', 'InService']]);
      await sim.aws.autoScaling.send(new ResumeProcessesCommand({ AutoScalingGroupName: 'n1', ScalingProcesses: ['ReplaceUnhealthy'] }));
      await sim.aws.autoScaling.send(new SetInstanceHealthCommand({ InstanceId: second, HealthStatus: 'Unhealthy' }));
      const third = await instanceIn(sim, 'n1', 'InService');
      expect(third).not.toBe(second);
    });
  });

  it('ASG-8: DeleteAutoScalingGroup without ForceDelete is refused while the group has instances; ForceDelete terminates them; min 0 first lets it go', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1');
      await createNode(sim, 'n2', { subnet: 'b' });
      const i1 = await instanceIn(sim, 'n1', 'InService');
      const i2 = await instanceIn(sim, 'n2', 'InService');
      await expectAwsError(
        sim.aws.autoScaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: 'n1' })),
        'ResourceInUseFault',
        400,
        ResourceInUseFault,
        /^You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request\(s\) still in the group\.$/,
      );
      await sim.aws.autoScaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: 'n1', ForceDelete: true }));
      expect(await group(sim, 'n1')).toMatchObject({ Status: 'Delete in progress' });
      await until(sim, async () => (await group(sim, 'n1')) === undefined, 'group gone', 500);
      expect(sim.world.instance(i1)?.ec2State).toBe('terminated');

      await sim.aws.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'n2', MinSize: 0, DesiredCapacity: 0 }));
      await until(sim, () => sim.world.instance(i2)?.ec2State === 'terminated', 'scaled in', 500);
      await sim.aws.autoScaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: 'n2' }));
      expect(await group(sim, 'n2')).toBeUndefined();
    });
  });

  it('ASG-9: CreateAutoScalingGroup answers AlreadyExists for a name in use and ValidationError for bad parameters', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1');
      await expectAwsError(createGroup(sim, 'n1', 'lt-n1'), 'AlreadyExistsFault', 400, AlreadyExistsFault, /already exists/);
      const create = (over: Record<string, unknown>) =>
        sim.aws.autoScaling.send(new CreateAutoScalingGroupCommand({ AutoScalingGroupName: 'g2', LaunchTemplate: { LaunchTemplateName: 'lt-n1', Version: '$Latest' }, MinSize: 1, MaxSize: 1, AvailabilityZones: [AZ.a], ...over }));
      await expectAwsError(create({ DesiredCapacity: 2 }), 'ValidationError', 400, AutoScalingServiceException, /Desired capacity:2 must be between the specified min size:1 and max size:1/);
      await expectAwsError(create({ LaunchTemplate: { LaunchTemplateName: 'lt-missing', Version: '$Latest' } }), 'ValidationError', 400, AutoScalingServiceException, /valid fully-formed launch template/);
      await expectAwsError(create({ LaunchTemplate: { LaunchTemplateName: 'lt-n1', Version: '9' } }), 'ValidationError', 400, AutoScalingServiceException, /version 9/);
      await expectAwsError(create({ AvailabilityZones: undefined }), 'ValidationError', 400, AutoScalingServiceException, /At least one Availability Zone or VPC Subnet is required/);
      await expectAwsError(create({ AvailabilityZones: ['us-east-1a'] }), 'ValidationError', 400, AutoScalingServiceException);
      await expectAwsError(create({ AvailabilityZones: undefined, VPCZoneIdentifier: 'subnet-0000000000000dead' }), 'ValidationError', 400, AutoScalingServiceException);
    });
  });

  it('ASG-10: failed launches are scaling activities with StatusCode Failed and EC2\'s message, retried with backoff until one succeeds', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      // The template names an instance profile the account does not have yet.
      const eni = await createEni(sim, SUBNET.a);
      await createTemplate(sim, 'lt-n1', eni.id, { IamInstanceProfile: { Name: 'late-profile' } });
      await createGroup(sim, 'n1', 'lt-n1', { azs: [AZ.a] });
      await sim.clock.sleep(30_000);
      const failed = await activities(sim, 'n1');
      expect(failed.length).toBeGreaterThan(2);
      expect(failed[0]).toMatchObject({
        StatusCode: 'Failed',
        StatusMessage: 'Value (late-profile) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name. Launching EC2 instance failed.',
        Description: 'Launching a new EC2 instance.  Status Reason: Value (late-profile) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name. Launching EC2 instance failed.',
      });
      const starts = failed.map((a) => a.StartTime!.getTime()).reverse();
      const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
      expect(gaps.at(-1)!).toBeGreaterThan(gaps[0]!);
      // The profile appears (IAM is eventually consistent): the next retry launches.
      sim.account.prepare(defineCluster(simulatedClusterInput({ nodes: 3, name: 'late', iamInstanceProfile: 'late-profile' })), { policies: false });
      await instanceIn(sim, 'n1', 'InService');
      expect((await activities(sim, 'n1'))[0]).toMatchObject({ StatusCode: 'Successful', Description: expect.stringMatching(/^Launching a new EC2 instance: i-/) });
    });
  });

  it('ASG-14: UpdateAutoScalingGroup with another launch template leaves the running instance as it is; the next launch uses the template, and going back works the same way', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const node = await createNode(sim, 'n1');
      const first = await instanceIn(sim, 'n1', 'InService');
      const bigger = await createTemplate(sim, 'lt-n1-bigger', node.eniId, { InstanceType: 'm6i.xlarge' });
      const original = (await group(sim, 'n1'))?.LaunchTemplate;
      await sim.aws.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'n1', LaunchTemplate: { LaunchTemplateId: bigger, Version: '1' } }));
      await sim.clock.sleep(60_000);
      expect(liveInstancesOf(sim, 'n1')).toEqual([first]);
      expect(sim.world.instance(first)?.instanceType).toBe('m6i.large');
      await sim.aws.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: first, ShouldDecrementDesiredCapacity: false }));
      await until(sim, () => sim.world.instance(first)?.ec2State === 'terminated', 'terminated');
      const second = await instanceIn(sim, 'n1', 'InService');
      expect(sim.world.instance(second)?.instanceType).toBe('m6i.xlarge');
      // Back to the template the group used before (a rollback): again only the next launch changes.
      await sim.aws.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'n1', LaunchTemplate: { LaunchTemplateId: original?.LaunchTemplateId as string, Version: '$Latest' } }));
      expect(sim.world.instance(second)?.ec2State).toBe('running');
      await sim.aws.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: second, ShouldDecrementDesiredCapacity: false }));
      await until(sim, () => sim.world.instance(second)?.ec2State === 'terminated', 'terminated');
      const third = await instanceIn(sim, 'n1', 'InService');
      expect(sim.world.instance(third)?.instanceType).toBe('m6i.large');
    });
  });

  it('ASG-13: DescribeAutoScalingGroups filters by tag-key, tag-value and tag:<key> (exact, case-sensitive, values ORed, filters ANDed) and pages by MaxRecords (default 50, at most 100)', async () => {
    const { sim } = rulesAccount({ limits: { autoscaling: { capacity: 1_000 } } });
    await sim.run(async () => {
      const eni = await createEni(sim, SUBNET.a);
      await sim.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'lt-any', LaunchTemplateData: { ImageId: IMAGE, NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: eni.id }] } }));
      const make = (name: string, tags: Record<string, string>) =>
        sim.aws.autoScaling.send(
          new CreateAutoScalingGroupCommand({
            AutoScalingGroupName: name,
            LaunchTemplate: { LaunchTemplateName: 'lt-any', Version: '$Latest' },
            MinSize: 0,
            MaxSize: 1,
            DesiredCapacity: 0,
            AvailabilityZones: [AZ.a],
            Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value, ResourceId: name, ResourceType: 'auto-scaling-group', PropagateAtLaunch: false })),
          }),
        );
      await make('a-1', { 'berth:cluster': 'a', 'berth:node': '1' });
      await make('a-2', { 'berth:cluster': 'a', 'berth:node': '2' });
      await make('b-1', { 'berth:cluster': 'b', 'berth:node': '1' });
      await make('x', { Owner: 'A' });
      const names = async (Filters: { Name: string; Values: string[] }[]) => ((await sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({ Filters }))).AutoScalingGroups ?? []).map((g) => g.AutoScalingGroupName).sort();
      expect(await names([{ Name: 'tag:berth:cluster', Values: ['a'] }])).toEqual(['a-1', 'a-2']);
      expect(await names([{ Name: 'tag:berth:cluster', Values: ['a', 'b'] }, { Name: 'tag:berth:node', Values: ['1'] }])).toEqual(['a-1', 'b-1']);
      expect(await names([{ Name: 'tag-key', Values: ['Owner'] }])).toEqual(['x']);
      expect(await names([{ Name: 'tag-key', Values: ['owner'] }])).toEqual([]);
      expect(await names([{ Name: 'tag-value', Values: ['A'] }])).toEqual(['x']);
      expect(await names([{ Name: 'tag-value', Values: ['a'] }])).toEqual(['a-1', 'a-2']);
      expect(await names([{ Name: 'tag:berth:cluster', Values: ['*'] }])).toEqual([]);
      await expectAwsError(names([{ Name: 'auto-scaling-group', Values: ['a-1'] }]), 'ValidationError', 400, AutoScalingServiceException);

      for (let i = 0; i < 57; i++) await make(`g-${String(i).padStart(2, '0')}`, {});
      const first = await sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({}));
      expect(first.AutoScalingGroups).toHaveLength(50);
      const rest = await sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({ NextToken: first.NextToken }));
      expect(rest.AutoScalingGroups).toHaveLength(11);
      expect(rest.NextToken).toBeUndefined();
      expect((await sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 100 }))).AutoScalingGroups).toHaveLength(61);
      await expectAwsError(sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 101 })), 'ValidationError', 400, AutoScalingServiceException, /Member must have value less than or equal to 100/);
    });
  });

  it('QUOTA-1, ASG-9: the 501st group is refused with LimitExceeded; DescribeAccountLimits reports the quota and the count', async () => {
    const { sim } = rulesAccount({ limits: { autoscaling: { capacity: 10_000, refillPerSec: 1_000 } } });
    await sim.run(async () => {
      const eni = await createEni(sim, SUBNET.a);
      await sim.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'lt-any', LaunchTemplateData: { ImageId: IMAGE, NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: eni.id }] } }));
      const make = (name: string) =>
        sim.aws.autoScaling.send(new CreateAutoScalingGroupCommand({ AutoScalingGroupName: name, LaunchTemplate: { LaunchTemplateName: 'lt-any', Version: '$Latest' }, MinSize: 0, MaxSize: 1, DesiredCapacity: 0, AvailabilityZones: [AZ.a] }));
      await Promise.all(Array.from({ length: 500 }, (_, i) => make(`g-${i}`)));
      expect(await sim.aws.autoScaling.send(new DescribeAccountLimitsCommand({}))).toMatchObject({ MaxNumberOfAutoScalingGroups: 500, NumberOfAutoScalingGroups: 500 });
      await expectAwsError(make('g-500'), 'LimitExceededFault', 400, LimitExceededFault);
      await sim.aws.autoScaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: 'g-0' }));
      expect((await sim.aws.autoScaling.send(new DescribeAccountLimitsCommand({}))).NumberOfAutoScalingGroups).toBe(499);
      await make('g-500');
    });
  });

  it('IAM-3, IAM-12: a new group is authorized on its name\'s ARN with * for the unknown group id; a denial is AccessDenied (HTTP 403) naming it', async () => {
    const { sim } = rulesAccount({ iam: 'evaluate' });
    sim.account.setControllerPolicy({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['ec2:*', 'iam:CreateServiceLinkedRole', 'autoscaling:Describe*'], Resource: '*' },
        { Effect: 'Allow', Action: 'autoscaling:*', Resource: 'arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/berth-*' },
      ],
    });
    await sim.run(async () => {
      const eni = await createEni(sim, SUBNET.a);
      await createTemplate(sim, 'lt-n1', eni.id);
      await expectAwsError(
        createGroup(sim, 'n1', 'lt-n1'),
        'AccessDenied',
        403,
        AutoScalingServiceException,
        /^User: arn:aws:sts::123456789012:assumed-role\/berth-controller\/berth is not authorized to perform: autoscaling:CreateAutoScalingGroup on resource: arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:\*:autoScalingGroupName\/n1 because no identity-based policy allows the autoscaling:CreateAutoScalingGroup action/,
      );
      await createGroup(sim, 'berth-n1', 'lt-n1');
      const arn = (await group(sim, 'berth-n1'))?.AutoScalingGroupARN as string;
      expect(arn).toMatch(/^arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:[0-9a-f-]{36}:autoScalingGroupName\/berth-n1$/);
      await sim.aws.autoScaling.send(new SuspendProcessesCommand({ AutoScalingGroupName: 'berth-n1', ScalingProcesses: ['Launch'] }));
    });
  });

  it('IAM-4, IAM-6: creating a group from a template checks that the caller may launch it: ec2:RunInstances, and iam:PassRole to EC2 for its instance profile', async () => {
    const { sim } = rulesAccount({ iam: 'evaluate' });
    const base = [
      { Effect: 'Allow', Action: ['autoscaling:*', 'iam:CreateServiceLinkedRole', 'ec2:Describe*', 'ec2:CreateNetworkInterface', 'ec2:CreateLaunchTemplate'], Resource: '*' },
    ];
    const run = { Effect: 'Allow', Action: 'ec2:RunInstances', Resource: '*' };
    const pass = (service: string) => ({ Effect: 'Allow', Action: 'iam:PassRole', Resource: 'arn:aws:iam::123456789012:role/demo-node', Condition: { StringEquals: { 'iam:PassedToService': service } } });
    const set = (...extra: object[]) => sim.account.setControllerPolicy({ Version: '2012-10-17', Statement: [...base, ...extra] });
    set();
    await sim.run(async () => {
      const eni = await createEni(sim, SUBNET.a);
      await createTemplate(sim, 'lt-n1', eni.id, { IamInstanceProfile: { Name: 'demo-node' } });
      await expectAwsError(createGroup(sim, 'n1', 'lt-n1'), 'AccessDenied', 403, AutoScalingServiceException, /not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:eu-west-1/);
      set(run);
      await expectAwsError(createGroup(sim, 'n1', 'lt-n1'), 'AccessDenied', 403, AutoScalingServiceException, /not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role\/demo-node /);
      set(run, pass('autoscaling.amazonaws.com'));
      await expectAwsError(createGroup(sim, 'n1', 'lt-n1'), 'AccessDenied', 403, AutoScalingServiceException, /iam:PassRole/);
      set(run, pass('ec2.amazonaws.com'));
      await createGroup(sim, 'n1', 'lt-n1');
      // The launches themselves are Auto Scaling's (its service-linked role), not the caller's.
      await instanceIn(sim, 'n1', 'InService');
    });
  });

  it('IAM-5: the first group of the account creates the service-linked role, which needs iam:CreateServiceLinkedRole', async () => {
    const { sim } = rulesAccount({ iam: 'evaluate' });
    const allow = (actions: string[]) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] });
    sim.account.setControllerPolicy(allow(['ec2:*', 'autoscaling:*']));
    await sim.run(async () => {
      const eni = await createEni(sim, SUBNET.a);
      await createTemplate(sim, 'lt-n1', eni.id);
      const e = await expectAwsError(
        createGroup(sim, 'n1', 'lt-n1'),
        'AccessDenied',
        403,
        AutoScalingServiceException,
        /^User: arn:aws:sts::123456789012:assumed-role\/berth-controller\/berth is not authorized to perform: iam:CreateServiceLinkedRole on resource: arn:aws:iam::123456789012:role\/aws-service-role\/autoscaling\.amazonaws\.com\/AWSServiceRoleForAutoScaling because no identity-based policy allows the iam:CreateServiceLinkedRole action/,
      );
      expect((e as { Code?: string }).Code).toBe('AccessDenied');
      expect(sim.trace.some((t) => t.kind === 'iam.service-linked-role')).toBe(false);
      sim.account.setControllerPolicy({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['ec2:*', 'autoscaling:*'], Resource: '*' },
          { Effect: 'Allow', Action: 'iam:CreateServiceLinkedRole', Resource: 'arn:aws:iam::*:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling', Condition: { StringLike: { 'iam:AWSServiceName': 'autoscaling.amazonaws.com' } } },
        ],
      });
      await createGroup(sim, 'n1', 'lt-n1');
      expect(sim.trace.filter((t) => t.kind === 'iam.service-linked-role')).toHaveLength(1);
      // Once the role exists, creating a group no longer needs the permission.
      sim.account.setControllerPolicy(allow(['ec2:*', 'autoscaling:*']));
      const eni2 = await createEni(sim, SUBNET.b);
      await createTemplate(sim, 'lt-n2', eni2.id);
      await createGroup(sim, 'n2', 'lt-n2', { azs: [AZ.b] });
      expect((await group(sim, 'n2'))?.ServiceLinkedRoleARN).toBe('arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling');
    });
  });
});
