import { DescribeAutoScalingGroupsCommand, DescribeScalingActivitiesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { rulesAccount } from './account-fixture.js';

describe('Auto Scaling request bucket', () => {
  it('API-10: every Amazon EC2 Auto Scaling operation draws on one bucket per account and Region: a burst of DescribeAutoScalingGroups throttles DescribeScalingActivities too; EC2 describes are unaffected', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const groups = await Promise.allSettled(Array.from({ length: 60 }, () => sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({}))));
      expect(groups.filter((r) => r.status === 'rejected').length).toBeGreaterThan(0);
      await expect(sim.aws.autoScaling.send(new DescribeScalingActivitiesCommand({ MaxRecords: 10 }))).rejects.toMatchObject({ name: 'Throttling' });
      await sim.aws.ec2.send(new DescribeInstancesCommand({}));
      // Refilled over time: a call a few seconds later goes through.
      await sim.clock.sleep(5_000);
      await sim.aws.autoScaling.send(new DescribeScalingActivitiesCommand({ MaxRecords: 10 }));
    });
  });
});
