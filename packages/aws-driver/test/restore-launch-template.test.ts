import { AutoScalingClient, DeleteAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DeleteLaunchTemplateCommand } from '@aws-sdk/client-ec2';
import { BerthDriverError } from '@berth/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { groupName, TAG } from '../src/index.js';
import { clientConfig, useMotoWorld } from './support/aws-fixture.js';

const aws = useMotoWorld({ nodes: 3 });

let asg: AutoScalingClient;
beforeEach(() => {
  asg = new AutoScalingClient(clientConfig(aws.moto.endpoint));
});
afterEach(() => asg.destroy());

async function groupTemplate(nodeId: string): Promise<{ launchTemplateId: string; launchTemplateVersion: string }> {
  const g = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName('kafka', nodeId)] }))).AutoScalingGroups![0]!;
  return { launchTemplateId: g.LaunchTemplate!.LaunchTemplateId!, launchTemplateVersion: g.LaunchTemplate!.Version! };
}

describe('restoreLaunchTemplate on moto', () => {
  it('points the group back at the template it used before a roll; a second call changes nothing', async () => {
    await aws.driver.ensureNode(aws.spec, 'n1');
    const before = await groupTemplate('n1');
    const v2 = { ...aws.spec, instanceType: 't3.large' };
    await aws.driver.ensureNode(v2, 'n1');
    expect((await groupTemplate('n1')).launchTemplateId).not.toBe(before.launchTemplateId);

    aws.driver.resetApiCallCounts();
    const changes = await aws.driver.restoreLaunchTemplate!(v2, 'n1', before);
    expect(changes).toEqual([{ resource: 'auto-scaling-group', action: 'updated', id: 'berth-kafka-n1', detail: expect.stringMatching(/→ berth-kafka-n1-r-[0-9a-f]{16} version 1 \(restored\)$/) }]);
    expect(await groupTemplate('n1')).toEqual(before);
    expect(aws.driver.apiCallCounts()).toEqual({ DescribeAutoScalingGroups: 1, DescribeLaunchTemplates: 1, UpdateAutoScalingGroup: 1 });
    expect((await aws.driver.observe(v2)).nodes.n1!.group).toMatchObject({ launchTemplateId: before.launchTemplateId, launchTemplateVersion: '1' });

    aws.driver.resetApiCallCounts();
    expect(await aws.driver.restoreLaunchTemplate!(v2, 'n1', before)).toEqual([{ resource: 'auto-scaling-group', action: 'unchanged', id: 'berth-kafka-n1', detail: expect.stringContaining('already on') }]);
    expect(aws.driver.apiCallCounts()).toEqual({ DescribeAutoScalingGroups: 1, DescribeLaunchTemplates: 1 });
  });

  it("refuses another node's template, a template Berth did not make, a deleted one and a version it does not have, naming the node and the template", async () => {
    await aws.driver.ensureNode(aws.spec, 'n1');
    await aws.driver.ensureNode(aws.spec, 'n2');
    const own = await groupTemplate('n1');
    const other = await groupTemplate('n2');
    const refusal = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as BerthDriverError);

    const foreign = await refusal(aws.driver.restoreLaunchTemplate!(aws.spec, 'n1', other));
    expect(foreign).toBeInstanceOf(BerthDriverError);
    expect(foreign).toMatchObject({ awsCode: 'LaunchTemplateNotOwned', retryable: false });
    expect(foreign!.message).toContain(other.launchTemplateId);
    expect(foreign!.message).toContain("is not node n1's of cluster kafka");
    expect(foreign!.message).toContain(`${TAG.node}=n2`);

    // Tagged like n1's, but not named like a template of n1's.
    const lt = await aws.world.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'hand-made',
        LaunchTemplateData: { ImageId: aws.world.image },
        TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: TAG.cluster, Value: 'kafka' }, { Key: TAG.node, Value: 'n1' }] }],
      }),
    );
    const handMade = await refusal(aws.driver.restoreLaunchTemplate!(aws.spec, 'n1', { launchTemplateId: lt.LaunchTemplate!.LaunchTemplateId!, launchTemplateVersion: '1' }));
    expect(handMade).toMatchObject({ awsCode: 'LaunchTemplateNotOwned' });
    expect(handMade!.message).toContain('hand-made');

    expect(await refusal(aws.driver.restoreLaunchTemplate!(aws.spec, 'n1', { ...own, launchTemplateVersion: '7' }))).toMatchObject({ awsCode: 'InvalidLaunchTemplateVersion' });

    await aws.world.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: lt.LaunchTemplate!.LaunchTemplateId! }));
    const gone = await refusal(aws.driver.restoreLaunchTemplate!(aws.spec, 'n1', { launchTemplateId: lt.LaunchTemplate!.LaunchTemplateId!, launchTemplateVersion: '1' }));
    expect(gone).toMatchObject({ awsCode: 'LaunchTemplateNotFound', retryable: false });
    expect(gone!.message).toMatch(/node n1 of cluster kafka cannot go back to it/);

    // Nothing moved.
    expect(await groupTemplate('n1')).toEqual(own);
    expect(await groupTemplate('n2')).toEqual(other);
  });

  it('a node whose group is gone: NotProvisioned, naming the node', async () => {
    await aws.driver.ensureNode(aws.spec, 'n1');
    const own = await groupTemplate('n1');
    await asg.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: groupName('kafka', 'n1'), ForceDelete: true }));
    const err = await aws.driver.restoreLaunchTemplate!(aws.spec, 'n1', own).catch((e: unknown) => e);
    expect(err).toMatchObject({ awsCode: 'NotProvisioned', message: expect.stringContaining('node n1 of cluster kafka has no Auto Scaling group') });
  });
});
