import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { BerthNodeRefusedError, createController, liveInstances, planApply, type ClusterObservation } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSystemClock, groupName, TAG } from '../src/index.js';
import { clientConfig, clusterSpec, useMotoWorld } from './support/aws-fixture.js';

/*
 * pauseNode / resumeNode through moto: the wire calls and what they leave behind.
 *
 * moto can show: the berth:paused group tag (CreateOrUpdateTags, DeleteTags), the group going
 * to 0/1/0 and its instance terminated, the ENI, data volume, launch template and DNS records
 * left as they were, ensureNode (apply()) keeping the group at 0, a second controller seeing
 * the mark, and resume bringing the group back to 1/1/1 with a new instance from the same
 * template. moto cannot show: the new instance getting the node's ENI and IP (its ASG
 * instances ignore the template's ENI) and the volume re-attaching (no bootstrap) — the
 * simulator's pause-node tests do; nor stuck launches (no lifecycle hooks: simulator only).
 */

const clock = createSystemClock();
const aws = useMotoWorld({ lockTable: true });

const live = (o: ClusterObservation, nodeId: string) => {
  const n = o.nodes[nodeId];
  return n ? liveInstances(n) : [];
};

describe('pauseNode / resumeNode through moto', () => {
  it('pause holds the group at 0 behind the berth:paused tag keeping ENI, volume, template and DNS; apply() and a second controller keep it; resume brings it back', async () => {
    const spec = clusterSpec(aws.world, 3);
    const c = createController({ spec, driver: aws.driver, clock, holderId: 'pause-test', pollIntervalMs: 50 });
    await c.apply();
    const before = await aws.driver.observe(spec);
    const n2 = before.nodes['n2'];
    const instanceId = live(before, 'n2')[0]?.instanceId;
    expect(instanceId).toBeDefined();

    const paused = await c.pauseNode('n2');
    expect(paused).toMatchObject({ nodeId: 'n2', instanceId, unchanged: false });
    const asg = new AutoScalingClient(clientConfig(aws.moto.endpoint));
    const groups = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName(spec.name, 'n2')] }));
    const g = groups.AutoScalingGroups?.[0];
    expect([g?.MinSize, g?.MaxSize, g?.DesiredCapacity]).toEqual([0, 1, 0]);
    expect(g?.Tags?.find((t) => t.Key === TAG.paused)).toMatchObject({ PropagateAtLaunch: false });
    asg.destroy();

    const after = await aws.driver.observe(spec);
    expect(live(after, 'n2')).toEqual([]);
    expect(after.nodes['n2']?.group?.pausedAtMs).toBeGreaterThan(0);
    expect(after.nodes['n2']?.group?.launchTemplateId).toBe(n2?.group?.launchTemplateId);
    expect(after.nodes['n2']?.eni).toMatchObject({ eniId: n2?.eni?.eniId, ip: n2?.eni?.ip });
    expect(after.nodes['n2']?.volume?.volumeId).toBe(n2?.volume?.volumeId);
    expect(after.dnsRecords).toEqual(before.dnsRecords);
    expect(planApply(after, spec).nodes).toEqual([]);

    // Refused: with n2 paused, pausing another would leave 1 of 3.
    await expect(c.pauseNode('n3')).rejects.toBeInstanceOf(BerthNodeRefusedError);

    // apply() and a second controller keep it paused.
    await c.apply();
    const second = createController({ spec, driver: aws.driver, clock, holderId: 'pause-test-2', pollIntervalMs: 50 });
    await second.apply();
    const status = await second.status();
    expect(status.paused).toEqual(['n2']);
    expect(status.quorum).toMatchObject({ healthy: 2, down: 1 });
    expect(live(await aws.driver.observe(spec), 'n2')).toEqual([]);

    const resumed = await second.resumeNode('n2', { wait: true, timeoutMs: 60_000 });
    expect(resumed.instanceId).not.toBe(instanceId);
    const back = await aws.driver.observe(spec);
    expect(back.nodes['n2']?.group).toMatchObject({ minSize: 1, maxSize: 1, desiredCapacity: 1, pausedAtMs: null });
    expect(live(back, 'n2').map((i) => i.lifecycleState)).toEqual(['InService']);
    expect(back.nodes['n2']?.eni?.eniId).toBe(n2?.eni?.eniId);
    expect(back.nodes['n2']?.volume?.volumeId).toBe(n2?.volume?.volumeId);
    expect((await second.status()).converged).toBe(true);
  });
});
