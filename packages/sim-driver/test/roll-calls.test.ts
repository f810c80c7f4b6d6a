import { DeleteLaunchTemplateCommand } from '@aws-sdk/client-ec2';
import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { changeQueueName, createAwsDriver, groupName, launchTemplateName } from '@berth/aws-driver';
import { computeRevision, createController, defineCluster, type ClusterHooks, type ClusterSpec } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput, type Simulation } from '../src/index.js';
import { provision, retrying, setup } from './helpers.js';

// The AWS driver's call savings in a roll (issue 13), on the simulated AWS: what each saves, and
// that each falls back to the calls it saves when what it remembers may be out of date.

const NEW_IMAGE = 'ami-0fedcba9876543210';
const THIRD_IMAGE = 'ami-0aaaaaaaaaaaaaaa1';

function delta(sim: Simulation, before: Readonly<Record<string, number>>, op: string): number {
  return (sim.driver.apiCallCounts()[op] ?? 0) - (before[op] ?? 0);
}

/** A second production driver on the same simulated account: another process, unknown to the first. */
function otherDriver(sim: Simulation, spec: ClusterSpec) {
  return createAwsDriver({ region: spec.region, clients: sim.aws, clock: sim.clock });
}

describe('AWS driver: calls a roll saves', () => {
  it('refuses a negative groupSightingMaxAgeMs or templateCacheMaxAgeMs, naming the option, before any call', () => {
    for (const field of ['groupSightingMaxAgeMs', 'templateCacheMaxAgeMs'] as const) {
      expect(() => createAwsDriver({ region: 'eu-west-1', [field]: -1 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', issues: [expect.objectContaining({ path: field })] }));
    }
  });

  it('replaceInstance makes no DescribeAutoScalingInstances right after a look saw the instance InService in the node group; it describes for a retry, after groupSightingMaxAgeMs, and for another node’s instance (refused)', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      const [n1, n2, n3] = ['demo-1', 'demo-2', 'demo-3'].map((id) => sim.world.currentInstance(id)!.id) as [string, string, string];
      await sim.driver.observe(spec, { scope: 'instances' });
      let before = sim.driver.apiCallCounts();
      await sim.driver.replaceInstance(spec, 'demo-1', n1);
      expect(delta(sim, before, 'DescribeAutoScalingInstances')).toBe(0);
      expect(delta(sim, before, 'TerminateInstanceInAutoScalingGroup')).toBe(1);
      // A retry after success: the sighting served once, so it describes and sees it terminating (a no-op).
      before = sim.driver.apiCallCounts();
      await sim.driver.replaceInstance(spec, 'demo-1', n1);
      expect(delta(sim, before, 'DescribeAutoScalingInstances')).toBe(1);
      expect(delta(sim, before, 'TerminateInstanceInAutoScalingGroup')).toBe(0);
      // Another node's instance, seen in its own group: refused after a describe, not terminated.
      await sim.driver.observe(spec, { scope: 'instances' });
      before = sim.driver.apiCallCounts();
      await expect(sim.driver.replaceInstance(spec, 'demo-2', n3)).rejects.toMatchObject({ awsCode: 'InstanceNotInNodeGroup', retryable: false });
      expect(delta(sim, before, 'DescribeAutoScalingInstances')).toBe(1);
      expect(delta(sim, before, 'TerminateInstanceInAutoScalingGroup')).toBe(0);
      // A look older than the bound (30 s by default) does not stand: describe first.
      await sim.driver.observe(spec, { scope: 'instances' });
      await sim.clock.sleep(sim.driver.config.groupSightingMaxAgeMs + 1);
      before = sim.driver.apiCallCounts();
      await sim.driver.replaceInstance(spec, 'demo-2', n2);
      expect(delta(sim, before, 'DescribeAutoScalingInstances')).toBe(1);
      expect(delta(sim, before, 'TerminateInstanceInAutoScalingGroup')).toBe(1);
    });
  });

  it('the template-only update describes the cluster’s templates once for every node, and heals when another process moved a group or deleted a template behind its back', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      const input = simulatedClusterInput({ nodes: 3 });
      const b = defineCluster({ ...input, image: NEW_IMAGE });
      const c = defineCluster({ ...input, image: THIRD_IMAGE });
      const update = async (driver: ReturnType<typeof otherDriver>, to: ClusterSpec, nodeId: string) => {
        const obs = await retrying(sim, () => driver.observe(to, { scope: 'instances' }));
        return retrying(sim, () => driver.ensureNode(to, nodeId, { observed: obs.nodes[nodeId] }));
      };
      const groupTemplate = (nodeId: string) => sim.world.groups.find((g) => g.name.endsWith(nodeId))?.launchTemplate?.name;

      let before = sim.driver.apiCallCounts();
      for (const n of b.nodes) expect((await update(sim.driver, b, n.id)).revision).toBe(computeRevision(b, n.id));
      expect(delta(sim, before, 'DescribeLaunchTemplates')).toBe(1);
      expect(delta(sim, before, 'CreateLaunchTemplate')).toBe(3);
      expect(delta(sim, before, 'UpdateAutoScalingGroup')).toBe(3);

      // Another process rolls demo-1 on to C: the group is on a template this driver never saw,
      // so it describes again before it moves the group back to B.
      const other = otherDriver(sim, spec);
      sim.account.prepare(c); // what the simulation's own driver does before its first call about a spec
      await update(other, c, 'demo-1');
      expect(groupTemplate('demo-1')).toBe(launchTemplateName(spec.name, 'demo-1', computeRevision(c, 'demo-1')));
      // This driver takes the cluster's lease back (as its controller would before it changes
      // anything): what it remembered of the groups and templates from before is described again.
      await sim.driver.lock.acquire(spec, { holder: 'roll-calls', session: 'roll-calls-1', ttlMs: 600_000 });
      before = sim.driver.apiCallCounts();
      expect((await update(sim.driver, b, 'demo-1')).revision).toBe(computeRevision(b, 'demo-1'));
      expect(delta(sim, before, 'DescribeLaunchTemplates')).toBe(1);
      expect(groupTemplate('demo-1')).toBe(launchTemplateName(spec.name, 'demo-1', computeRevision(b, 'demo-1')));

      // Another process deleted demo-2's template of the first revision (kept for a rollback):
      // pointing the group at it fails (ASG-29), and the full ensureNode makes it again.
      const a = launchTemplateName(spec.name, 'demo-2', computeRevision(spec, 'demo-2'));
      await sim.aws.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateName: a }));
      before = sim.driver.apiCallCounts();
      const back = await update(sim.driver, spec, 'demo-2');
      expect(back.revision).toBe(computeRevision(spec, 'demo-2'));
      expect(back.changes).toContainEqual(expect.objectContaining({ resource: 'launch-template', action: 'created', detail: expect.stringContaining(a) }));
      expect(groupTemplate('demo-2')).toBe(a);
      expect(delta(sim, before, 'UpdateAutoScalingGroup')).toBe(2);
      other.destroy();
    });
  });

  it('a realistic 5-node roll looks once per replacement and once more, makes no DescribeAutoScalingInstances, describes the templates once and renews its lease only as its TTL needs', async () => {
    const sim = createSimulation({ seed: 7, profile: 'realistic' });
    const input = simulatedClusterInput({ nodes: 5 });
    const spec = defineCluster(input);
    const report = await sim.run(async () => {
      const p = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'provisioner' });
      await p.apply();
      while (!(await p.status()).converged || !sim.app.clusterHealthy()) await sim.clock.sleep(10_000);
      const roller = createController({ spec: defineCluster({ ...input, image: NEW_IMAGE }), driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller', lockTtlMs: 600_000 });
      return roller.roll({ maxUnavailable: 1 });
    });
    expect(report.outcome).toBe('completed');
    expect(report.replacedCount).toBe(5);
    const calls = report.apiCalls;
    // A look is DescribeAutoScalingGroups and DescribeInstances: count looks by the latter.
    expect(calls.DescribeInstances).toBe(report.replacedCount + 1);
    expect(calls.DescribeAutoScalingInstances ?? 0).toBe(0);
    expect(calls.DescribeLaunchTemplates).toBe(1);
    // Acquire and release, and a renewal each time 150 s (a quarter of the TTL) is left.
    expect(calls.UpdateItem).toBe(2 + Math.floor(report.durationMs / 450_000));
  });

  it('the look that verified a batch stands for the next fresh look only while the change queue brought nothing but boot progress: a termination on the queue makes the controller look again', async () => {
    /** Controller calls and hook markers, in order, for a 3-node roll; `inject`: a termination event of another node on the queue during demo-x's beforeReplace. */
    const roll = async (inject: boolean) => {
      const sim = createSimulation({ seed: 1, profile: 'fast' });
      const input = simulatedClusterInput({ nodes: 3 });
      const spec = defineCluster(input);
      const log: string[] = [];
      sim.onApiCall((c) => {
        if (c.callerKind === 'controller' && c.service !== 'sqs') log.push(c.operation);
      });
      sim.account.setRolePolicies('admin', { all: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } });
      let hooked = 0;
      const hooks: ClusterHooks = {
        ...sim.hooks,
        beforeReplace: async (nodeId, ctx) => {
          await sim.hooks.beforeReplace?.(nodeId, ctx);
          // The second node of the roll: its batch starts right after the look that verified the first.
          if (++hooked !== 2) return;
          log.push(`beforeReplace:${nodeId}`);
          if (!inject) return;
          const other = spec.nodes.map((n) => n.id).find((id) => id !== nodeId && sim.world.currentInstance(id)?.lifecycleState === 'InService') as string;
          const admin = sim.awsAs('admin');
          const { QueueUrl } = await admin.sqs.send(new GetQueueUrlCommand({ QueueName: changeQueueName(spec.name) }));
          const event = { source: 'aws.autoscaling', 'detail-type': 'EC2 Instance Terminate Successful', time: new Date(sim.clock.now()).toISOString(), detail: { AutoScalingGroupName: groupName(spec.name, other), EC2InstanceId: sim.world.currentInstance(other)!.id } };
          await admin.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(event) }));
        },
      };
      const report = await sim.run(async () => {
        const p = createController({ spec, driver: sim.driver, clock: sim.clock, hooks, holderId: 'provisioner' });
        await p.apply();
        while (!(await p.status()).converged || !sim.app.clusterHealthy()) await sim.clock.sleep(1_000);
        return createController({ spec: defineCluster({ ...input, image: NEW_IMAGE }), driver: sim.driver, clock: sim.clock, hooks, holderId: 'roller' }).roll({ maxUnavailable: 1 });
      });
      expect(report.outcome).toBe('completed');
      const from = log.findIndex((e) => e.startsWith('beforeReplace:'));
      return log.slice(from, log.indexOf('TerminateInstanceInAutoScalingGroup', from));
    };
    // Quiet queue: no look between the hook and the terminate (the verify look stands).
    const quiet = await roll(false);
    expect(quiet).toEqual(expect.arrayContaining(['CreateLaunchTemplate', 'UpdateAutoScalingGroup']));
    expect(quiet).not.toContain('DescribeInstances');
    // A termination on the queue since that look: a fresh look before the terminate.
    expect(await roll(true)).toContain('DescribeInstances');
  });
});
