// The Auto Scaling rules pauseNode / resumeNode rely on (docs/aws-behaviour.md ASG-20..22),
// checked on the simulated AWS API directly.
import { AutoScalingServiceException, CreateOrUpdateTagsCommand, DeleteTagsCommand, DescribeAutoScalingGroupsCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { Simulation } from '../../src/index.js';
import { createNode, expectAwsError, instanceIn, liveInstancesOf, rulesAccount, until } from './account-fixture.js';

const group = async (sim: Simulation, name: string) => (await sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))).AutoScalingGroups?.[0];

describe('Auto Scaling: holding a group of one at 0', () => {
  it('ASG-20: UpdateAutoScalingGroup refuses a desired capacity outside [min, max] with ValidationError; desired 0 needs min 0', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1');
      await expectAwsError(
        sim.aws.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'n1', DesiredCapacity: 0 })),
        'ValidationError',
        400,
        AutoScalingServiceException,
        /Desired capacity:0 must be between the specified min size:1 and max size:1/,
      );
      await expectAwsError(
        sim.aws.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'n1', MinSize: 0, MaxSize: 1, DesiredCapacity: 2 })),
        'ValidationError',
        400,
        AutoScalingServiceException,
        /Desired capacity:2 must be between the specified min size:0 and max size:1/,
      );
      expect(await group(sim, 'n1')).toMatchObject({ MinSize: 1, MaxSize: 1, DesiredCapacity: 1 });
    });
  });

  it('ASG-21: desired 0 terminates the group\'s instance (scale in) and launches none; desired 1 launches one from the group\'s launch template with the same ENI and IP', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const node = await createNode(sim, 'n1');
      const first = await instanceIn(sim, 'n1', 'InService');
      await sim.aws.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'n1', MinSize: 0, MaxSize: 1, DesiredCapacity: 0 }));
      await until(sim, () => sim.world.instance(first)?.ec2State === 'terminated', 'scaled in', 500);
      await sim.clock.sleep(600_000);
      expect(liveInstancesOf(sim, 'n1')).toEqual([]);
      // The interface (DeleteOnTermination false) is back to available with its IP (ENI-5).
      const eni = (await sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [node.eniId] }))).NetworkInterfaces?.[0];
      expect([eni?.Status, eni?.PrivateIpAddress]).toEqual(['available', node.ip]);

      await sim.aws.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'n1', MinSize: 1, MaxSize: 1, DesiredCapacity: 1 }));
      const second = await instanceIn(sim, 'n1', 'InService');
      expect(second).not.toBe(first);
      const described = (await sim.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [second] }))).Reservations?.[0]?.Instances?.[0];
      expect(described?.PrivateIpAddress).toBe(node.ip);
      expect(described?.NetworkInterfaces?.[0]?.NetworkInterfaceId).toBe(node.eniId);
    });
  });

  it('ASG-22: CreateOrUpdateTags adds or overwrites a group tag, DeleteTags removes it, DescribeAutoScalingGroups shows it; without PropagateAtLaunch it stays off the instances', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1');
      const tag = (Value: string) => ({ ResourceId: 'n1', ResourceType: 'auto-scaling-group', Key: 'berth:paused', Value, PropagateAtLaunch: false });
      await sim.aws.autoScaling.send(new CreateOrUpdateTagsCommand({ Tags: [tag('1')] }));
      await sim.aws.autoScaling.send(new CreateOrUpdateTagsCommand({ Tags: [tag('2')] }));
      expect((await group(sim, 'n1'))?.Tags?.filter((t) => t.Key === 'berth:paused')).toEqual([expect.objectContaining({ Key: 'berth:paused', Value: '2', PropagateAtLaunch: false })]);
      const instance = await instanceIn(sim, 'n1', 'InService');
      expect(sim.world.instance(instance)?.tags['berth:paused']).toBeUndefined();
      await sim.aws.autoScaling.send(new DeleteTagsCommand({ Tags: [{ ResourceId: 'n1', ResourceType: 'auto-scaling-group', Key: 'berth:paused' }] }));
      expect((await group(sim, 'n1'))?.Tags?.some((t) => t.Key === 'berth:paused')).toBe(false);
    });
  });
});
