import { createController, defineCluster } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput, type Simulation } from '../src/index.js';
import { CreateExperimentTemplateCommand, DeleteAlarmsCommand, DescribeAlarmsCommand, GetExperimentCommand, PutMetricAlarmCommand, SetAlarmStateCommand, StartExperimentCommand, StopExperimentCommand } from './support/sdk-commands.js';

/*
 * The simulated FIS and CloudWatch themselves (the game-day through them, with the production
 * FIS engine, is in packages/aws-driver/test/fis-game-day.test.ts). Commands are named as the
 * SDK's (the simulator's clients read the operation from the class name); the simulator does not
 * depend on the FIS and CloudWatch SDK clients.
 */

const ROLE = 'arn:aws:iam::123456789012:role/berth-fis';
const template = (actions: Record<string, unknown>, targets: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({ clientToken: `t-${JSON.stringify(actions).length}`, roleArn: ROLE, actions, targets, stopConditions: [{ source: 'none' }], ...extra });

async function rejects(sim: Simulation, input: Record<string, unknown>): Promise<{ name: string; message: string }> {
  try {
    await sim.run(() => sim.aws.fis.send(new CreateExperimentTemplateCommand(input)));
  } catch (e) {
    return e as { name: string; message: string };
  }
  throw new Error('expected CreateExperimentTemplate to fail');
}

describe('simulated FIS', () => {
  it('CreateExperimentTemplate refuses what FIS refuses', async () => {
    const sim = createSimulation({ seed: 1, profile: 'fast', iam: 'off' });
    const wait = { w: { actionId: 'aws:fis:wait', parameters: { duration: 'PT1M' } } };
    expect(await rejects(sim, template({ a: { actionId: 'aws:ec2:reboot-instances' } }))).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('aws:ec2:reboot-instances') });
    expect((await rejects(sim, template({ ...wait, b: { actionId: 'aws:fis:wait', parameters: { duration: 'PT1M' }, startAfter: ['nope'] } }))).message).toMatch(/startAfter: no action nope/);
    expect((await rejects(sim, template({ a: { actionId: 'aws:fis:wait', parameters: { duration: 'PT1M' }, startAfter: ['b'] }, b: { actionId: 'aws:fis:wait', parameters: { duration: 'PT1M' }, startAfter: ['a'] } }))).message).toMatch(/cycle/);
    expect((await rejects(sim, template({ w: { actionId: 'aws:fis:wait', parameters: { duration: 'PT30S' } } }))).message).toMatch(/duration/);
    expect((await rejects(sim, template(Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`w${i}`, wait.w]))))).name).toBe('ServiceQuotaExceededException');
    expect((await rejects(sim, template(wait, {}, { stopConditions: [{ source: 'aws:cloudwatch:alarm', value: 'not-an-arn' }] }))).message).toMatch(/stopConditions/);
    expect((await rejects(sim, template({ k: { actionId: 'aws:ec2:terminate-instances', targets: { Instances: 't' } } }, { t: { resourceType: 'aws:ec2:subnet', resourceArns: ['arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-1'], selectionMode: 'ALL' } }))).message).toMatch(/acts on aws:ec2:instance/);
    // The same client token returns the template the first call made.
    const a = (await sim.run(() => sim.aws.fis.send(new CreateExperimentTemplateCommand(template(wait))))) as { experimentTemplate: { id: string } };
    const b = (await sim.run(() => sim.aws.fis.send(new CreateExperimentTemplateCommand(template(wait))))) as { experimentTemplate: { id: string } };
    expect(b.experimentTemplate.id).toBe(a.experimentTemplate.id);
  });

  it('CloudWatch alarms: start in INSUFFICIENT_DATA, SetAlarmState trips them, unknown names are ResourceNotFound', async () => {
    const sim = createSimulation({ seed: 1, profile: 'fast', iam: 'off' });
    await sim.run(async () => {
      await sim.aws.cloudWatch.send(new PutMetricAlarmCommand({ AlarmName: 'x', MetricName: 'Errors', Namespace: 'App', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' }));
      const d = (await sim.aws.cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: ['x', 'missing'] }))) as { MetricAlarms: { StateValue: string }[] };
      expect(d.MetricAlarms.map((m) => m.StateValue)).toEqual(['INSUFFICIENT_DATA']);
      await sim.aws.cloudWatch.send(new SetAlarmStateCommand({ AlarmName: 'x', StateValue: 'ALARM', StateReason: 'test' }));
      await expect(sim.aws.cloudWatch.send(new SetAlarmStateCommand({ AlarmName: 'y', StateValue: 'ALARM', StateReason: 'test' }))).rejects.toMatchObject({ name: 'ResourceNotFound' });
      await expect(sim.aws.cloudWatch.send(new DeleteAlarmsCommand({ AlarmNames: ['x', 'y'] }))).rejects.toMatchObject({ name: 'ResourceNotFound' });
      await expect(sim.aws.cloudWatch.send(new PutMetricAlarmCommand({ AlarmName: 'z' }))).rejects.toMatchObject({ name: 'MissingParameter' });
    });
  });

  it('disrupt-connectivity cuts the members of the subnet off for its duration, and StopExperiment heals them at once', async () => {
    const sim = createSimulation({ seed: 3, profile: 'fast', iam: 'off' });
    const spec = defineCluster(simulatedClusterInput({ nodes: 3, name: 'net' }));
    await sim.run(async () => {
      await createController({ spec, driver: sim.driver, clock: sim.clock, holderId: 'setup' }).apply();
      while (!sim.app.clusterHealthy()) await sim.clock.sleep(1_000);
    });
    const node = spec.nodes[0]!;
    const subnet = `arn:aws:ec2:${spec.region}:123456789012:subnet/${node.subnetId}`;
    const inSubnet = spec.nodes.filter((n) => n.subnetId === node.subnetId).map((n) => n.id);
    await sim.run(async () => {
      const t = (await sim.aws.fis.send(new CreateExperimentTemplateCommand(template({ cut: { actionId: 'aws:network:disrupt-connectivity', parameters: { duration: 'PT10M', scope: 'all' }, targets: { Subnets: 's' } } }, { s: { resourceType: 'aws:ec2:subnet', resourceArns: [subnet], selectionMode: 'ALL' } })))) as { experimentTemplate: { id: string } };
      const x = (await sim.aws.fis.send(new StartExperimentCommand({ experimentTemplateId: t.experimentTemplate.id }))) as { experiment: { id: string } };
      await sim.clock.sleep(5_000);
      expect(sim.app.status().members.filter((m) => m.partitioned).map((m) => m.nodeId).sort()).toEqual(inSubnet.sort());
      await sim.aws.fis.send(new StopExperimentCommand({ id: x.experiment.id }));
      await sim.clock.sleep(1);
      expect(sim.app.status().members.filter((m) => m.partitioned)).toEqual([]);
      const got = (await sim.aws.fis.send(new GetExperimentCommand({ id: x.experiment.id }))) as { experiment: { state: { status: string }; actions: Record<string, { state: { status: string } }> } };
      expect(got.experiment.state.status).toBe('stopped');
      expect(got.experiment.actions['cut']?.state.status).toBe('stopped');
    });
  });
});
