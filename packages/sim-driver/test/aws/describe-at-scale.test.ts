import { AutoScalingServiceException, CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand, DescribeScalingActivitiesCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, CreateTagsCommand, DeleteTagsCommand, DescribeInstancesCommand, EC2ServiceException, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { Simulation } from '../../src/index.js';
import { AZ, createEni, createNode, expectAwsError, IMAGE, instanceIn, rulesAccount, SUBNET, until } from './account-fixture.js';

// The describes an observation of a large cluster relies on (docs/aws-behaviour.md EC2-13,
// EC2-14, ASG-33, ASG-34; docs/aws-driver.md "What a cheap look knows").

let nodes = 0;
/** `count` groups of one whose instances carry `t` (the groups' tags, propagated at launch); their instance ids once InService. */
async function launch(sim: Simulation, count: number, t: Record<string, string>): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `node-${++nodes}`;
    await createNode(sim, name, { tags: t });
    out.push(await instanceIn(sim, name, 'InService'));
  }
  return out;
}

const ids = (r: { Reservations?: { Instances?: { InstanceId?: string }[] }[] }) => (r.Reservations ?? []).flatMap((x) => x.Instances ?? []).map((i) => i.InstanceId ?? '').sort();

async function groups(sim: Simulation, count: number): Promise<string[]> {
  const eni = await createEni(sim, SUBNET.a);
  await sim.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'lt-scale', LaunchTemplateData: { ImageId: IMAGE, NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: eni.id }] } }));
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `g-${String(i).padStart(3, '0')}`;
    names.push(name);
    await sim.aws.autoScaling.send(
      new CreateAutoScalingGroupCommand({ AutoScalingGroupName: name, LaunchTemplate: { LaunchTemplateName: 'lt-scale', Version: '$Latest' }, MinSize: 0, MaxSize: 1, DesiredCapacity: 0, AvailabilityZones: [AZ.a] }),
    );
  }
  return names;
}

describe('describes at scale', () => {
  it('EC2-13: DescribeInstances pages by MaxResults 5–1000 with NextToken, refuses MaxResults with InstanceIds, and answers every match without MaxResults', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const mine = await launch(sim, 7, { 'berth:cluster': 'a' });
      await launch(sim, 3, { 'berth:cluster': 'b' });
      const Filters = [{ Name: 'tag:berth:cluster', Values: ['a'] }];
      await expectAwsError(sim.aws.ec2.send(new DescribeInstancesCommand({ Filters, MaxResults: 4 })), 'InvalidParameterValue', 400, EC2ServiceException);
      await expectAwsError(sim.aws.ec2.send(new DescribeInstancesCommand({ Filters, MaxResults: 1001 })), 'InvalidParameterValue', 400, EC2ServiceException);
      await expectAwsError(sim.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: mine.slice(0, 1), MaxResults: 5 })), 'InvalidParameterCombination', 400, EC2ServiceException);
      const first = await sim.aws.ec2.send(new DescribeInstancesCommand({ Filters, MaxResults: 5 }));
      expect(ids(first)).toHaveLength(5);
      const rest = await sim.aws.ec2.send(new DescribeInstancesCommand({ Filters, MaxResults: 5, NextToken: first.NextToken }));
      expect(rest.NextToken).toBeUndefined();
      expect([...ids(first), ...ids(rest)].sort()).toEqual([...mine].sort());
      const all = await sim.aws.ec2.send(new DescribeInstancesCommand({ Filters, MaxResults: 1000 }));
      expect(ids(all)).toEqual([...mine].sort());
      expect(all.NextToken).toBeUndefined();
      expect(ids(await sim.aws.ec2.send(new DescribeInstancesCommand({ Filters })))).toEqual([...mine].sort());
    });
  });

  it('EC2-14: DescribeInstances filters by instance-state-name and by tag with * and ? wildcards; a terminated instance is listed only when its state is asked for', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const [ok, failed, gone] = await launch(sim, 3, { 'berth:cluster': 'a' });
      const phase = (id: string | undefined, Value: string) => sim.aws.ec2.send(new CreateTagsCommand({ Resources: [id as string], Tags: [{ Key: 'berth:phase', Value }] }));
      await phase(ok, 'in-service');
      await phase(failed, 'failed:mounting: no volume');
      await phase(gone, 'failed');
      await sim.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [gone as string] }));
      await until(sim, () => sim.world.instances.find((i) => i.id === gone)?.ec2State === 'terminated', 'terminated');
      // Its group launched a replacement (ASG-1), tagged like the others but with no phase yet.
      const next = await instanceIn(sim, sim.world.instances.find((i) => i.id === gone)?.groupName as string, 'InService');
      const find = async (Filters: { Name: string; Values: string[] }[]) => ids(await sim.aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:berth:cluster', Values: ['a'] }, ...Filters], MaxResults: 1000 })));
      const live = ['pending', 'running', 'shutting-down', 'stopping', 'stopped'];
      expect(await find([{ Name: 'instance-state-name', Values: live }])).toEqual([ok, failed, next].sort());
      expect(await find([{ Name: 'instance-state-name', Values: ['terminated'] }])).toEqual([gone]);
      expect(await find([{ Name: 'tag:berth:phase', Values: ['failed', 'failed:*'] }])).toEqual([failed, gone].sort());
      expect(await find([{ Name: 'tag:berth:phase', Values: ['in-servic?'] }])).toEqual([ok]);
      expect(await find([{ Name: 'tag:berth:phase', Values: ['failed:*'] }, { Name: 'instance-state-name', Values: live }])).toEqual([failed]);
      await expectAwsError(find([{ Name: 'instance-state', Values: ['running'] }]), 'InvalidParameterValue', 400, EC2ServiceException);
    });
  });

  it('ASG-33: DescribeAutoScalingGroups takes up to 50 AutoScalingGroupNames, up to MaxRecords (≤ 100) with it; unknown names are left out', async () => {
    const { sim } = rulesAccount({ limits: { autoscaling: { capacity: 1_000 } } });
    await sim.run(async () => {
      const names = await groups(sim, 101);
      const describe = (AutoScalingGroupNames: string[], MaxRecords?: number) => sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames, ...(MaxRecords !== undefined && { MaxRecords }) }));
      expect((await describe(names.slice(0, 50))).AutoScalingGroups).toHaveLength(50);
      await expectAwsError(describe(names.slice(0, 51)), 'ValidationError', 400, AutoScalingServiceException);
      const hundred = await describe(names.slice(0, 100), 100);
      expect(hundred.AutoScalingGroups?.map((g) => g.AutoScalingGroupName)).toEqual(names.slice(0, 100));
      expect(hundred.NextToken).toBeUndefined();
      await expectAwsError(describe(names.slice(0, 101), 100), 'ValidationError', 400, AutoScalingServiceException);
      await expectAwsError(describe(names.slice(0, 10), 101), 'ValidationError', 400, AutoScalingServiceException, /less than or equal to 100/);
      expect((await describe(['g-000', 'no-such-group', 'g-100'])).AutoScalingGroups?.map((g) => g.AutoScalingGroupName)).toEqual(['g-000', 'g-100']);
    });
  });

  it("ASG-34: DescribeScalingActivities by one group name gives that group's activities, newest first, at most 100 a page; without a name every group's", async () => {
    const { sim } = rulesAccount({ limits: { autoscaling: { capacity: 1_000 } } });
    await sim.run(async () => {
      await createNode(sim, 'g-000');
      await createNode(sim, 'g-001');
      await instanceIn(sim, 'g-000', 'InService');
      await instanceIn(sim, 'g-001', 'InService');
      const of = async (AutoScalingGroupName?: string, MaxRecords?: number) =>
        (await sim.aws.autoScaling.send(new DescribeScalingActivitiesCommand({ ...(AutoScalingGroupName && { AutoScalingGroupName }), ...(MaxRecords !== undefined && { MaxRecords }) }))).Activities ?? [];
      const one = await of('g-000');
      expect(one.length).toBeGreaterThan(0);
      expect(one.every((a) => a.AutoScalingGroupName === 'g-000')).toBe(true);
      const all = await of();
      expect(new Set(all.map((a) => a.AutoScalingGroupName))).toEqual(new Set(['g-000', 'g-001']));
      const starts = all.map((a) => a.StartTime?.getTime() ?? 0);
      expect(starts).toEqual([...starts].sort((x, y) => y - x));
      await expectAwsError(of('g-000', 101), 'ValidationError', 400, AutoScalingServiceException, /less than or equal to 100/);
    });
  });

  it("a tag-filtered DescribeInstances reads the world's tag index, which follows CreateTags, DeleteTags and the instances EC2 forgets", async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const [a1, a2] = await launch(sim, 2, { 'berth:cluster': 'a' });
      const [b1] = await launch(sim, 1, { 'berth:cluster': 'b' });
      const of = async (cluster: string) => ids(await sim.aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:berth:cluster', Values: [cluster] }] })));
      expect(await of('a')).toEqual([a1, a2].sort());
      await sim.aws.ec2.send(new CreateTagsCommand({ Resources: [a2 as string], Tags: [{ Key: 'berth:cluster', Value: 'b' }] }));
      expect(await of('a')).toEqual([a1]);
      expect(await of('b')).toEqual([a2, b1].sort());
      await sim.aws.ec2.send(new DeleteTagsCommand({ Resources: [b1 as string], Tags: [{ Key: 'berth:cluster' }] }));
      expect(await of('b')).toEqual([a2]);
      // The same answer as a scan: a wildcard value is not looked up in the index.
      expect(await of('?')).toEqual([a1, a2].sort());
      await sim.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [a1 as string] }));
      await until(sim, () => !sim.world.instances.some((i) => i.id === a1), 'EC2 forgets the terminated instance', 60_000);
      expect(sim.world.instances.filter((i) => i.tags['berth:cluster'] === 'a').map((i) => i.id)).toEqual(await of('a'));
    });
  });

  it('API-8: an EC2 describe with more than 200 filter values, or a value longer than 255 characters, fails with FilterLimitExceeded', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const [mine] = await launch(sim, 1, { 'berth:cluster': 'c-0' });
      const names = Array.from({ length: 195 }, (_, i) => `c-${i}`);
      const states = ['pending', 'running', 'shutting-down', 'stopping', 'stopped'];
      const describe = (clusters: string[]) => sim.aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:berth:cluster', Values: clusters }, { Name: 'instance-state-name', Values: states }] }));
      expect(ids(await describe(names))).toEqual([mine]);
      await expectAwsError(describe([...names, 'one-more']), 'FilterLimitExceeded', 400, EC2ServiceException, /200/);
      await expectAwsError(describe(['x'.repeat(256)]), 'FilterLimitExceeded', 400, EC2ServiceException, /255/);
      expect(ids(await describe(['x'.repeat(255)]))).toEqual([]);
    });
  });
});
