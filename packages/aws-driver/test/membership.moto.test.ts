import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeNetworkInterfacesCommand, DescribeVolumesCommand } from '@aws-sdk/client-ec2';
import { createController } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSystemClock, TAG } from '../src/index.js';
import { clientConfig, clusterSpec, useMotoWorld } from './support/aws-fixture.js';

/*
 * Growing and shrinking a cluster through moto (issue 11, item 5): the AWS side of a membership
 * change — groups created one at a time and tagged `berth:membership` (joining, then member),
 * the deletion policy recorded on each group, a removed node deleted per that policy (its volume
 * kept for `retain`, deleted for `delete`) and the cluster record without its IP.
 *
 * What moto cannot show (the simulator's membership tests do): instances are InService at once
 * with no boot phases, so the wait for a new node to be healthy and the health gate never wait;
 * the application's quorum (addMember/removeMember) is the test's hooks.
 */

const clock = createSystemClock();
const aws = useMotoWorld({ lockTable: true });

async function groupTags(): Promise<Record<string, Record<string, string>>> {
  const asg = new AutoScalingClient(clientConfig(aws.moto.endpoint));
  const r = await asg.send(new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: `tag:${TAG.cluster}`, Values: ['kafka'] }] }));
  asg.destroy();
  return Object.fromEntries((r.AutoScalingGroups ?? []).map((g) => [g.AutoScalingGroupName ?? '', Object.fromEntries((g.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']))]));
}

describe('membership changes through moto', () => {
  it('3 → 5 → 3: groups created one at a time, tagged joining then member; removal per the recorded deletion policy', async () => {
    const three = clusterSpec(aws.world, 3);
    const five = clusterSpec(aws.world, 5);
    await createController({ spec: three, driver: aws.driver, clock, holderId: 'm', pollIntervalMs: 50 }).apply();
    expect(Object.values(await groupTags()).map((t) => [t[TAG.membership], t[TAG.deletionPolicy]])).toEqual([
      [undefined, 'retain'],
      [undefined, 'retain'],
      [undefined, 'retain'],
    ]);

    // Grow: at each addMember, the node's group exists tagged joining and the next node's does not yet.
    const seen: string[] = [];
    const grower = createController({
      spec: five,
      driver: aws.driver,
      clock,
      holderId: 'm',
      pollIntervalMs: 50,
      hooks: {
        addMember: async (nodeId) => {
          const tags = await groupTags();
          seen.push(`${nodeId} ${tags[`berth-kafka-${nodeId}`]?.[TAG.membership]} groups=${Object.keys(tags).length}`);
        },
      },
    });
    const grown = await grower.apply();
    expect(seen).toEqual(['n4 joining groups=4', 'n5 joining groups=5']);
    expect(grown.membership?.added).toEqual(['n4', 'n5']);
    const afterGrow = await groupTags();
    expect(afterGrow['berth-kafka-n4']?.[TAG.membership]).toBe('member');
    expect(afterGrow['berth-kafka-n5']?.[TAG.membership]).toBe('member');
    expect((await grower.status()).membership).toEqual({ joining: [], orphans: [] });

    // Shrink: without removeNodes nothing goes; with it, n4 and n5 go one at a time, volumes retained.
    const removed: string[] = [];
    const shrinker = createController({ spec: three, driver: aws.driver, clock, holderId: 'm', pollIntervalMs: 50, hooks: { removeMember: (nodeId) => void removed.push(nodeId) } });
    const kept = await shrinker.apply();
    expect(kept.membership?.notRemoved).toEqual(['n4', 'n5']);
    expect(Object.keys(await groupTags())).toHaveLength(5);
    const shrunk = await shrinker.apply({ removeNodes: ['n4', 'n5'] });
    expect(removed).toEqual(['n4', 'n5']);
    expect(Object.keys(await groupTags()).sort()).toEqual(['berth-kafka-n1', 'berth-kafka-n2', 'berth-kafka-n3']);
    expect(shrunk.membership?.removed.map((r) => r.changes.map((c) => `${c.resource}:${c.action}`).join(' '))).toEqual([
      'auto-scaling-group:deleted launch-template:deleted dns-record:deleted dns-record:updated network-interface:deleted volume:retained',
      'auto-scaling-group:deleted launch-template:deleted dns-record:deleted dns-record:updated network-interface:deleted volume:retained',
    ]);
    const volumes = (await aws.world.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: `tag:${TAG.node}`, Values: ['n4', 'n5'] }, { Name: `tag:${TAG.volume}`, Values: ['data'] }] }))).Volumes ?? [];
    expect(volumes.map((v) => [v.State, v.Tags?.find((t) => t.Key === TAG.deletionPolicy)?.Value])).toEqual([
      ['available', 'retain'],
      ['available', 'retain'],
    ]);
    const enis = (await aws.world.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: `tag:${TAG.node}`, Values: ['n4', 'n5'] }] }))).NetworkInterfaces ?? [];
    expect(enis).toEqual([]);
    const obs = await aws.driver.observe(three);
    expect(obs.dnsRecords?.find((r) => r.name === 'kafka.kafka.internal')?.values).toEqual(three.nodes.map((n) => n.ip).sort());
    const status = await shrinker.status();
    expect(status.membership).toEqual({ joining: [], orphans: [] });
    expect(status.converged).toBe(true);
  });

  it('a removed node whose policy is delete loses its volume; the policy comes from its group when the spec no longer lists it', async () => {
    const four = clusterSpec(aws.world, 4, { dataVolume: { sizeGiB: 50, type: 'gp3', mountPath: '/var/lib/kafka', deletionPolicy: 'delete' } });
    const three = clusterSpec(aws.world, 3, { dataVolume: { sizeGiB: 50, type: 'gp3', mountPath: '/var/lib/kafka', deletionPolicy: 'retain' } });
    await createController({ spec: four, driver: aws.driver, clock, holderId: 'm', pollIntervalMs: 50 }).apply();
    // The node was applied with delete; the smaller spec says retain for the nodes it keeps.
    const r = await createController({ spec: three, driver: aws.driver, clock, holderId: 'm', pollIntervalMs: 50 }).apply({ removeNodes: true });
    expect(r.membership?.removed.map((x) => x.changes.at(-1))).toMatchObject([{ resource: 'volume', action: 'deleted' }]);
    const volumes = (await aws.world.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: `tag:${TAG.node}`, Values: ['n4'] }, { Name: `tag:${TAG.volume}`, Values: ['data'] }] }))).Volumes ?? [];
    expect(volumes).toEqual([]);
  });
});
