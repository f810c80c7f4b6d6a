import { DescribeLaunchTemplatesCommand } from '@aws-sdk/client-ec2';
import { BerthDriverError, computeRevision, createController, liveInstances, type ClusterObservation, type ClusterSpec } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSystemClock, launchTemplateName, MOTO_CAPABILITIES, TAG } from '../src/index.js';
import { clusterSpec, useMotoWorld } from './support/aws-fixture.js';

/*
 * A whole controller.roll() through moto (issue 4).
 *
 * moto launches instances at once and ignores lifecycle hooks; the driver says so with
 * MOTO_CAPABILITIES (phaseReporting, lifecycleHooks and attachmentRules false), so the
 * controller takes an instance that is InService with no phase (null) as healthy and never
 * completes a lifecycle action. What this test checks, moto can: the controller's wire calls,
 * one node at a time, templates per revision, every node ending on the new revision with its
 * own ENI, volume and DNS records unchanged, the lease taken and released, and a second roll
 * doing nothing.
 *
 * What moto cannot check here (the simulator's controller tests and a staging account must):
 *  - timing and the waits it drives: Pending, Pending:Wait, Terminating, shutting-down,
 *    volume detach/attach all happen at once, so no replacement is ever observed in flight
 *    and the quorum budget never meets a node that is still down;
 *  - the launch lifecycle hook: Pending:Wait, the heartbeat timeout, CONTINUE/ABANDON,
 *    the default result (moto answers CompleteLifecycleAction with HTTP 500);
 *  - the bootstrap on the instance: no phases (attaching … in-service), so no halt on a node
 *    that fails on the new revision (`failed:<phase>:<reason>`) and no phase timings;
 *  - the fixed IP on the instance: an ASG instance does not get the template's ENI (device
 *    index 0), so the IP is checked on the ENI and the template, not on the instance;
 *  - the data volume following the node: no single-attach / same-AZ rules, no VolumeInUse
 *    while the old instance lets go of it;
 *  - launch failures: DescribeScalingActivities is always empty (lastActivityError null);
 *  - change notifications: none (the controller polls observe here);
 *  - lease contention under real concurrency (moto does not serialise conditional writes).
 */

const clock = createSystemClock();
const aws = useMotoWorld({ lockTable: true });

const live = (o: ClusterObservation, nodeId: string) => {
  const node = o.nodes[nodeId];
  return node ? liveInstances(node) : [];
};

async function templateNames(cluster: string): Promise<string[]> {
  const r = await aws.world.ec2.send(new DescribeLaunchTemplatesCommand({ MaxResults: 200, Filters: [{ Name: `tag:${TAG.cluster}`, Values: [cluster] }] }));
  return (r.LaunchTemplates ?? []).map((t) => t.LaunchTemplateName ?? '').sort();
}

describe('controller.roll() through moto', () => {
  it('apply() provisions 3 nodes; a roll to another image replaces them one at a time and every node ends on the new revision', async () => {
    expect(aws.driver.capabilities).toEqual(MOTO_CAPABILITIES);
    const spec = clusterSpec(aws.world, 3);
    const controller = createController({ spec, driver: aws.driver, clock, holderId: 'roll-test', pollIntervalMs: 50 });
    const applied = await controller.apply();
    expect(applied.nodes.map((n) => n.nodeId)).toEqual(['n1', 'n2', 'n3']);
    const before = await aws.driver.observe(spec);
    for (const n of spec.nodes) {
      const instances = live(before, n.id);
      expect(instances.map((i) => [i.lifecycleState, i.phase, i.revision])).toEqual([['InService', null, computeRevision(spec, n.id)]]);
    }
    const status = await controller.status();
    expect(status.converged).toBe(true);

    const next: ClusterSpec = clusterSpec(aws.world, 3, { image: aws.world.otherImage });
    for (const n of next.nodes) expect(computeRevision(next, n.id)).not.toBe(computeRevision(spec, n.id));

    // Every hook sees the cluster from the cloud: before each replacement, every other node
    // must be InService on some revision (one at a time, quorum kept).
    const order: string[] = [];
    const roller = createController({ spec: next, driver: aws.driver, clock, holderId: 'roll-test', pollIntervalMs: 50 });
    const report = await roller.roll({
      maxUnavailable: 1,
      hooks: {
        beforeReplace: (nodeId, { observation }) => {
          order.push(`before:${nodeId}`);
          for (const other of next.nodes.filter((n) => n.id !== nodeId)) {
            expect(live(observation, other.id).some((i) => i.lifecycleState === 'InService'), `${other.id} in service while ${nodeId} is replaced`).toBe(true);
          }
        },
        afterReplace: (nodeId) => void order.push(`after:${nodeId}`),
      },
    });

    expect(report.haltReason).toBe(null);
    expect(report.outcome).toBe('completed');
    expect(report.replacedCount).toBe(3);
    expect(report.batches.map((b) => b.nodeIds)).toEqual([['n1'], ['n2'], ['n3']]);
    expect(order).toEqual(['before:n1', 'after:n1', 'before:n2', 'after:n2', 'before:n3', 'after:n3']);
    expect(report.apiCalls['TerminateInstanceInAutoScalingGroup']).toBe(3);
    expect(report.apiCalls['CompleteLifecycleAction'] ?? 0).toBe(0); // lifecycleHooks: false

    const after = await aws.driver.observe(next);
    for (const n of next.nodes) {
      const node = after.nodes[n.id];
      const instances = live(after, n.id);
      expect(instances.length, `live instances of ${n.id}`).toBe(1);
      expect(instances[0]!.revision, `revision of ${n.id}`).toBe(computeRevision(next, n.id));
      expect(instances[0]!.lifecycleState).toBe('InService');
      expect(live(before, n.id)[0]!.instanceId).not.toBe(instances[0]!.instanceId);
      expect(report.nodes.find((r) => r.nodeId === n.id)?.newInstanceId).toBe(instances[0]!.instanceId);
      expect(node?.group?.revision).toBe(computeRevision(next, n.id));
      // The node's identity did not move: same ENI and IP, same data volume.
      expect(node?.eni?.eniId).toBe(before.nodes[n.id]?.eni?.eniId);
      expect(node?.eni?.ip).toBe(n.ip);
      expect(node?.volume?.volumeId).toBe(before.nodes[n.id]?.volume?.volumeId);
      // One template per revision; the previous one is kept until the next ensureNode.
      expect((await templateNames('kafka')).filter((t) => t.startsWith(`berth-kafka-${n.id}-`))).toContain(launchTemplateName('kafka', n.id, computeRevision(next, n.id)));
    }

    // The lease was released: another holder gets it at once.
    const lease = await aws.driver.lock.acquire(next, { holder: 'someone-else', session: 'someone-else-session', ttlMs: 60_000 });
    await aws.driver.lock.release(next, lease);

    // Nothing left to do: a second roll replaces nothing.
    const again = await roller.roll({ maxUnavailable: 1 });
    expect(again.outcome).toBe('completed');
    expect(again.replacedCount).toBe(0);
    expect([...again.alreadyCurrent].sort()).toEqual(['n1', 'n2', 'n3']);
  });
});

describe('replaceInstance on moto', () => {
  it('is a no-op for an instance already replaced, refuses another node\'s instance, and rejects an unknown id', async () => {
    const spec = clusterSpec(aws.world, 3);
    await createController({ spec, driver: aws.driver, clock, holderId: 'replace-test', pollIntervalMs: 50 }).apply();
    const o = await aws.driver.observe(spec);
    const old = live(o, 'n1')[0]!.instanceId;
    const other = live(o, 'n2')[0]!.instanceId;
    await aws.driver.replaceInstance(spec, 'n1', old);
    const mid = await aws.driver.observe(spec);
    const replacement = live(mid, 'n1')[0]!.instanceId;
    expect(replacement).not.toBe(old);
    // A retry after success: the old instance is in no group any more, and terminated.
    await aws.driver.replaceInstance(spec, 'n1', old);
    await expect(aws.driver.replaceInstance(spec, 'n1', other)).rejects.toMatchObject({ awsCode: 'InstanceNotInNodeGroup' });
    const unknown = await aws.driver.replaceInstance(spec, 'n1', 'i-0000000000000dead').then(() => null, (e: unknown) => e);
    expect(unknown).toBeInstanceOf(BerthDriverError);
    expect((unknown as BerthDriverError).retryable).toBe(false);
    const end = await aws.driver.observe(spec);
    expect(live(end, 'n1').map((i) => i.instanceId)).toEqual([replacement]);
    expect(live(end, 'n2').map((i) => i.instanceId)).toEqual([other]);
  });
});
