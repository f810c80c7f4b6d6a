import { AutoScalingServiceException, TerminateInstanceInAutoScalingGroupCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DeleteLaunchTemplateCommand, DescribeInstancesCommand, DescribeLaunchTemplatesCommand, EC2ServiceException } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { createNode, expectAwsError, IMAGE, instanceIn, rulesAccount, tags } from './account-fixture.js';

// The AWS behaviour the driver's call savings rely on (issue 13): what tells it that what it
// remembered is out of date.

describe('rules behind the roll call savings', () => {
  it('ASG-29: UpdateAutoScalingGroup naming a launch template that does not exist (deleted) fails with ValidationError; the group keeps its template', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const node = await createNode(sim, 'n1', { version: '1' });
      const gone = (await sim.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'lt-gone', LaunchTemplateData: { ImageId: IMAGE } }))).LaunchTemplate?.LaunchTemplateId as string;
      await sim.aws.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: gone }));
      await expectAwsError(
        sim.aws.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: node.group, LaunchTemplate: { LaunchTemplateId: gone, Version: '1' } })),
        'ValidationError',
        400,
        AutoScalingServiceException,
        /launch template/,
      );
      expect(sim.world.groups.find((g) => g.name === node.group)?.launchTemplate?.name).toBe(node.template);
    });
  });

  it('ASG-30: TerminateInstanceInAutoScalingGroup of an instance in no group fails with ValidationError (Instance Id not found); of one already terminating, it does nothing more', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const node = await createNode(sim, 'n1');
      const id = await instanceIn(sim, node.group, 'InService');
      const terminate = (instanceId: string) => sim.aws.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: false }));
      await expectAwsError(terminate('i-0000000000000dead'), 'ValidationError', 400, AutoScalingServiceException, /^Instance Id not found - No managed instance found for instance ID/);
      await terminate(id);
      await terminate(id);
      expect(sim.world.instance(id)?.lifecycleState).toMatch(/^Terminat/);
    });
  });

  it('ASG-37: an instance a group launched carries aws:autoscaling:groupName = the group, in DescribeInstances', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const node = await createNode(sim, 'n1');
      const id = await instanceIn(sim, node.group, 'InService');
      const out = await sim.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
      const tagsOf = out.Reservations?.[0]?.Instances?.[0]?.Tags ?? [];
      expect(tagsOf.find((t) => t.Key === 'aws:autoscaling:groupName')?.Value).toBe(node.group);
    });
  });

  it('LT-8: DeleteLaunchTemplate of a template that does not exist (deleted already) fails with InvalidLaunchTemplateId.NotFound', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const id = (await sim.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'lt-a', LaunchTemplateData: { ImageId: IMAGE } }))).LaunchTemplate?.LaunchTemplateId as string;
      await sim.aws.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: id }));
      await expectAwsError(sim.aws.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: id })), 'InvalidLaunchTemplateId.NotFound', 400, EC2ServiceException);
    });
  });

  it('LT-9: DescribeLaunchTemplates filters by tag:<key> and pages by MaxResults (1 to 200) with NextToken', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      for (let i = 0; i < 5; i++) {
        await sim.aws.ec2.send(
          new CreateLaunchTemplateCommand({
            LaunchTemplateName: `lt-${i}`,
            LaunchTemplateData: { ImageId: IMAGE },
            TagSpecifications: [{ ResourceType: 'launch-template', Tags: tags({ cluster: i < 4 ? 'a' : 'b' }) }],
          }),
        );
      }
      const names: string[] = [];
      let NextToken: string | undefined;
      let pages = 0;
      do {
        const page = await sim.aws.ec2.send(new DescribeLaunchTemplatesCommand({ Filters: [{ Name: 'tag:cluster', Values: ['a'] }], MaxResults: 3, NextToken }));
        names.push(...(page.LaunchTemplates ?? []).map((t) => t.LaunchTemplateName as string));
        NextToken = page.NextToken;
        pages++;
      } while (NextToken);
      expect(names.sort()).toEqual(['lt-0', 'lt-1', 'lt-2', 'lt-3']);
      expect(pages).toBe(2);
      expect((await sim.aws.ec2.send(new DescribeLaunchTemplatesCommand({ Filters: [{ Name: 'tag:cluster', Values: ['a'] }], MaxResults: 200 }))).LaunchTemplates).toHaveLength(4);
      await expectAwsError(sim.aws.ec2.send(new DescribeLaunchTemplatesCommand({ MaxResults: 201 })), 'InvalidParameterValue', 400, EC2ServiceException);
    });
  });
});
