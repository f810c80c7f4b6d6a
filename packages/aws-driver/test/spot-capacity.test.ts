import { DescribeAutoScalingGroupsCommand, AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, DescribeLaunchTemplatesCommand, DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { groupName, TAG } from '../src/index.js';
import { spotUnavailableSince } from '../src/spot-capacity.js';
import { clientConfig, clusterSpec, useMotoWorld } from './support/aws-fixture.js';

/**
 * Spot nodes on moto: the launch template's InstanceMarketOptions (SPOT-1) and the group tag
 * that holds the on-demand fallback. moto shows both; it cannot show a spot launch failing for
 * capacity (SPOT-3) or interruption notices in instance metadata (SPOT-4): the simulator does
 * (packages/sim-driver/test/spot-capacity.test.ts, test/bootstrap/spot-watcher.test.ts).
 */
const m = useMotoWorld({ driver: { capabilities: { spot: true } } });

const tagsOf = (tags: { Key?: string; Value?: string }[] | undefined) => Object.fromEntries((tags ?? []).map((t) => [t.Key, t.Value]));

describe('spot nodes (moto)', () => {
  it('SPOT-1 on moto: a spot node\'s template asks for one-time spot, terminated on interruption; setCapacityMarket moves the group to an on-demand template (tagged on the group) and back', async () => {
    const spec = clusterSpec(m.world, 3, { capacity: { spot: true } });
    const asg = new AutoScalingClient(clientConfig(m.moto.endpoint));
    try {
      await m.driver.ensureNode(spec, 'n1');
      const group = async () => (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName(spec.name, 'n1')] }))).AutoScalingGroups?.[0];
      const marketOf = async (templateId: string) =>
        (await m.world.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId, Versions: ['1'] }))).LaunchTemplateVersions?.[0]?.LaunchTemplateData?.InstanceMarketOptions;
      const spotTemplate = (await group())?.LaunchTemplate?.LaunchTemplateId as string;
      expect(await marketOf(spotTemplate)).toEqual({ MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' } });
      expect(tagsOf((await group())?.Tags)[TAG.onDemandSince]).toBeUndefined();

      const od = await m.driver.setCapacityMarket(spec, 'n1', 'on-demand');
      expect(od.changes.filter((c) => c.resource === 'launch-template' && c.action === 'created').map((c) => c.detail)).toEqual([expect.stringMatching(/-od \(user data \d+ bytes\)$/)]);
      const g = await group();
      expect(Number(tagsOf(g?.Tags)[TAG.onDemandSince])).toBeGreaterThan(0);
      const odTemplate = g?.LaunchTemplate?.LaunchTemplateId as string;
      expect(odTemplate).not.toBe(spotTemplate);
      expect(await marketOf(odTemplate)).toBeUndefined();
      // The observation reports the fallback; a re-run of ensureNode keeps it.
      expect((await m.driver.observe(spec, { scope: 'groups' })).nodes['n1']?.group?.onDemandSinceMs).toBe(Number(tagsOf(g?.Tags)[TAG.onDemandSince]));
      await m.driver.ensureNode(spec, 'n1');
      expect((await group())?.LaunchTemplate?.LaunchTemplateId).toBe(odTemplate);

      await m.driver.setCapacityMarket(spec, 'n1', 'spot');
      expect(tagsOf((await group())?.Tags)[TAG.onDemandSince]).toBeUndefined();
      expect((await group())?.LaunchTemplate?.LaunchTemplateId).toBe(spotTemplate);
      const names = (await m.world.ec2.send(new DescribeLaunchTemplatesCommand({ Filters: [{ Name: `tag:${TAG.node}`, Values: ['n1'] }] }))).LaunchTemplates?.map((t) => t.LaunchTemplateName);
      expect(names?.some((n) => n?.endsWith('-od'))).toBe(true);
      // moto launches from the template but ignores its market options: its instance is on-demand.
      const inst = (await m.world.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: `tag:${TAG.node}`, Values: ['n1'] }] }))).Reservations?.flatMap((r) => r.Instances ?? [])[0];
      expect(inst?.InstanceLifecycle).toBeUndefined();
    } finally {
      asg.destroy();
    }
  });

  it('setCapacityMarket refuses an on-demand node, before any call', async () => {
    const spec = clusterSpec(m.world, 3);
    m.driver.resetApiCallCounts();
    await expect(m.driver.setCapacityMarket(spec, 'n1', 'on-demand')).rejects.toThrow(/node n1 of cluster .* is not a spot node \(capacity.spot is false\)/);
    expect(m.driver.apiCallCounts()).toEqual({});
  });

  it('SPOT-3: the spot failures of a group: the latest run of failed launches that name missing spot capacity, from its oldest start', () => {
    const t = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s));
    const msg = 'Could not launch Spot Instances. InsufficientInstanceCapacity - There is no Spot capacity available that matches your request. Launching EC2 instance failed.';
    const since = spotUnavailableSince([
      { AutoScalingGroupName: 'a', StatusCode: 'Failed', StatusMessage: msg, StartTime: t(30), ActivityId: '3', Cause: '' },
      { AutoScalingGroupName: 'a', StatusCode: 'Failed', StatusMessage: msg, StartTime: t(20), ActivityId: '2', Cause: '' },
      { AutoScalingGroupName: 'a', StatusCode: 'Successful', StartTime: t(10), ActivityId: '1', Cause: '' },
      { AutoScalingGroupName: 'a', StatusCode: 'Failed', StatusMessage: msg, StartTime: t(5), ActivityId: '0', Cause: '' },
      { AutoScalingGroupName: 'b', StatusCode: 'Failed', StatusMessage: 'Interface: [eni-1] in use. Launching EC2 instance failed.', StartTime: t(40), ActivityId: '4', Cause: '' },
      { AutoScalingGroupName: 'c', StatusCode: 'Successful', StartTime: t(50), ActivityId: '6', Cause: '' },
      { AutoScalingGroupName: 'c', StatusCode: 'Failed', StatusMessage: msg, StartTime: t(45), ActivityId: '5', Cause: '' },
    ]);
    expect([...since]).toEqual([['a', t(20).getTime()]]);
  });
});
