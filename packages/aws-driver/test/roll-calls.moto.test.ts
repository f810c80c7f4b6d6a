import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { Route53Client } from '@aws-sdk/client-route-53';
import { createController } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSystemClock, type AwsDriverClients } from '../src/index.js';
import { clientConfig, clusterSpec, motoDriver, useMotoWorld } from './support/aws-fixture.js';

/*
 * Control-plane calls per replacement over a whole controller.roll() on moto (issue 13), counted
 * at the SDK clients (every `send`), not by the driver's own accounting — which must agree.
 *
 * moto differs from AWS and the simulator in ways that change the count: it has no lifecycle
 * hooks and no change notifications (the controller polls: a one-call `groups` probe until the
 * new instance is InService, then a look — after a batch that was done at its first poll, the
 * next looks at once), instances launch and terminate at once, and there are no scheduled
 * events. The simulator's figure (bench/run.ts, BENCHMARKS.md) is the one with the change queue.
 *
 * A roll's calls are about 5 per replacement (a look, CreateLaunchTemplate,
 * UpdateAutoScalingGroup, the terminate) plus about 7 per roll (the first look, the lease's
 * acquire and release, DescribeImages and DescribeLaunchTemplates once, a probe): 9 nodes keep
 * the roll's share under one call per replacement. Every call counts, DescribeScalingActivities
 * included (a look asks for it only for a group that looks stuck: ASG-34).
 */

const aws = useMotoWorld({ lockTable: true });
const NODES = 9;
/** The target: control-plane calls (EC2, Auto Scaling, Route 53, DynamoDB) per replacement. */
const TARGET_PER_REPLACEMENT = 6;

/** SDK clients whose `send` is counted by operation while `on.counting` is true. */
function countingClients(endpoint: string, counts: Map<string, number>, on: { counting: boolean }) {
  const made = [new EC2Client(clientConfig(endpoint)), new AutoScalingClient(clientConfig(endpoint)), new Route53Client(clientConfig(endpoint)), new DynamoDBClient(clientConfig(endpoint))] as const;
  const counted = <C extends { send: (...a: never[]) => unknown; destroy: () => void }>(client: C): C =>
    ({
      send: (command: { constructor: { name: string } }, options?: unknown) => {
        if (on.counting) {
          const op = command.constructor.name.replace(/Command$/, '');
          counts.set(op, (counts.get(op) ?? 0) + 1);
        }
        return (client.send as (c: unknown, o?: unknown) => unknown).call(client, command, options);
      },
      destroy: () => client.destroy(),
    }) as unknown as C;
  const [ec2, autoScaling, route53, dynamodb] = made;
  const clients: AwsDriverClients = { ec2: counted(ec2), autoScaling: counted(autoScaling), route53: counted(route53), dynamodb: counted(dynamodb) };
  return clients;
}

describe('control-plane calls per replacement on moto', () => {
  it(`a ${NODES}-node roll to a new image makes at most ${TARGET_PER_REPLACEMENT} control-plane calls per replacement, every call counted at the SDK clients`, async () => {
    const counts = new Map<string, number>();
    const on = { counting: false };
    const driver = motoDriver(aws.moto.endpoint, { clients: countingClients(aws.moto.endpoint, counts, on) });
    try {
      const clock = createSystemClock();
      const spec = clusterSpec(aws.world, NODES);
      await createController({ spec, driver, clock, holderId: 'provisioner', pollIntervalMs: 50 }).apply();

      const next = clusterSpec(aws.world, NODES, { image: aws.world.otherImage });
      const roller = createController({ spec: next, driver, clock, holderId: 'roller', pollIntervalMs: 50 });
      on.counting = true;
      const report = await roller.roll({ maxUnavailable: 1 });
      on.counting = false;

      expect(report.outcome).toBe('completed');
      expect(report.replacedCount).toBe(NODES);
      const byOp = Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      const perReplacement = total / report.replacedCount;
      console.log(
        `moto, ${NODES}-node roll: ${perReplacement.toFixed(2)} control-plane calls per replacement (${total} in all)\n` +
          Object.entries(byOp).map(([op, n]) => `  ${op}: ${(n / report.replacedCount).toFixed(2)} (${n})`).join('\n'),
      );
      // The driver's own accounting (what the roll report and the benchmark use) says the same.
      const reported = Object.fromEntries(Object.entries(report.apiCalls).filter(([op]) => counts.has(op) || op in byOp));
      expect(reported).toEqual(byOp);
      // Per replacement: no describe of its own before the terminate (the look just saw the
      // instance), no describe of the node's templates (one of the cluster's for the roll).
      expect(counts.get('DescribeAutoScalingInstances') ?? 0).toBe(0);
      expect(counts.get('DescribeLaunchTemplates') ?? 0).toBeLessThanOrEqual(1);
      expect(counts.get('TerminateInstanceInAutoScalingGroup')).toBe(NODES);
      expect(perReplacement).toBeLessThanOrEqual(TARGET_PER_REPLACEMENT);
    } finally {
      driver.destroy();
    }
  });
});
