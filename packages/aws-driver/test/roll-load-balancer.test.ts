import { CreateListenerCommand, CreateLoadBalancerCommand, CreateTargetGroupCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, ModifyTargetGroupAttributesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeSubnetsCommand } from '@aws-sdk/client-ec2';
import { createController, liveInstances, type Clock, type ControllerEvents } from '@berth/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clientConfig, clusterSpec, useMotoWorld } from './support/aws-fixture.js';

/*
 * A roll behind an ELBv2 target group, through moto (issue 10). moto registers and deregisters
 * targets and reports every registered running instance `healthy` at once; it runs no health
 * checks and no draining (docs/aws-behaviour.md: the simulator's roll-load-balancer test shows
 * those). What moto shows here: the controller's wire calls in order — each old instance leaves
 * the group before it is terminated, each new one joins it and is read healthy before its batch
 * counts — and the group ending with exactly the new instances.
 *
 * The group's timing (5 s × 2 checks to be healthy, a 5 s deregistration delay) and the
 * controller's waits are real time; the clock (the controller's and the driver's) runs 20 times
 * faster than the wall so they cost well under a second per batch. Every part of the roll reads the
 * same clock, so its decisions are what they would be at 1×.
 */

function fastClock(factor: number): Clock {
  const wall0 = performance.now();
  // Starts at the wall clock: moto stamps launch times with it, and the controller reads them.
  const epoch = Date.now();
  return {
    now: () => epoch + Math.round((performance.now() - wall0) * factor),
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason as Error);
        const t = setTimeout(resolve, ms / factor);
        signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason as Error)), { once: true });
      }),
  };
}

// One clock for the controller and the driver (its lease expiries and waits).
const clock = fastClock(20);
const m = useMotoWorld({ lockTable: true, driver: { clock } });
let elb: ElasticLoadBalancingV2Client;
beforeEach(() => {
  elb = new ElasticLoadBalancingV2Client(clientConfig(m.moto.endpoint));
});
afterEach(() => elb.destroy());

async function targetGroup(): Promise<string> {
  const { world } = m;
  const vpcId = (await world.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [world.subnets[0]!.id] }))).Subnets?.[0]?.VpcId;
  const g = await elb.send(new CreateTargetGroupCommand({ Name: 'kafka-rest', Protocol: 'TCP', Port: 8082, VpcId: vpcId, TargetType: 'instance', HealthCheckIntervalSeconds: 5, HealthCheckTimeoutSeconds: 5, HealthyThresholdCount: 2 }));
  const arn = g.TargetGroups?.[0]?.TargetGroupArn as string;
  await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '5' }] }));
  const lb = await elb.send(new CreateLoadBalancerCommand({ Name: 'kafka-rest-lb', Type: 'network', Scheme: 'internal', Subnets: world.subnets.map((s) => s.id) }));
  await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancers?.[0]?.LoadBalancerArn, Protocol: 'TCP', Port: 8082, DefaultActions: [{ Type: 'forward', TargetGroupArn: arn }] }));
  return arn;
}

async function targets(arn: string): Promise<string[]> {
  const r = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
  return (r.TargetHealthDescriptions ?? []).map((d) => `${d.Target?.Id}:${d.TargetHealth?.State}`).sort();
}

describe('a roll behind a target group (moto)', () => {
  it('apply() registers every node; the roll deregisters each old instance before terminating it and registers each new one before its batch counts', async () => {
    const { world, driver } = m;
    const arn = await targetGroup();
    const spec = clusterSpec(world, 3, { loadBalancer: { targetGroupArns: [arn] } });
    const applied = await createController({ spec, driver, clock, holderId: 'lb-test', pollIntervalMs: 500 }).apply();
    expect(applied.registered.map((r) => r.nodeId)).toEqual(['n1', 'n2', 'n3']);
    const before = await driver.observe(spec);
    const oldIds = spec.nodes.map((n) => liveInstances(before.nodes[n.id]!)[0]!.instanceId);
    expect(await targets(arn)).toEqual(oldIds.map((id) => `${id}:healthy`).sort());

    const next = clusterSpec(world, 3, { image: world.otherImage, loadBalancer: { targetGroupArns: [arn] } });
    const roller = createController({ spec: next, driver, clock, holderId: 'lb-test', pollIntervalMs: 500 });
    const order: string[] = [];
    const inGroupAtTermination: boolean[] = [];
    roller.on('node.draining', (e) => order.push(`draining:${e.nodeId}`));
    roller.on('node.replacing', (e: ControllerEvents['node.replacing']) => {
      order.push(`replacing:${e.nodeId}`);
      void targets(arn).then((t) => inGroupAtTermination.push(t.some((x) => x.startsWith(`${e.instanceId}:`))));
    });
    roller.on('node.registered', (e) => order.push(`registered:${e.nodeIds.join()}`));
    roller.on('batch.completed', (e) => order.push(`completed:${e.nodeIds.join()}`));
    const report = await roller.roll({ maxUnavailable: 1 });

    expect(report.outcome).toBe('completed');
    expect(order).toEqual(['n1', 'n2', 'n3'].flatMap((n) => [`draining:${n}`, `replacing:${n}`, `registered:${n}`, `completed:${n}`]));
    expect(inGroupAtTermination).toEqual([false, false, false]);
    expect(report.apiCalls['DeregisterTargets']).toBe(3);
    expect(report.apiCalls['RegisterTargets']).toBe(3);
    const after = await driver.observe(next);
    const newIds = next.nodes.map((n) => liveInstances(after.nodes[n.id]!)[0]!.instanceId);
    expect(newIds.filter((id) => oldIds.includes(id))).toEqual([]);
    expect(await targets(arn)).toEqual(newIds.map((id) => `${id}:healthy`).sort());
  });
});
