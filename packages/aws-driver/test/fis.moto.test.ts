import { CloudWatchClient, DescribeAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { DeleteExperimentTemplateCommand, FisClient, ListTagsForResourceCommand } from '@aws-sdk/client-fis';
import { fisExperimentTemplate, type Fault } from '@berth/chaos';
import { defineCluster } from '@berth/core';
import { simulatedClusterInput } from '@berth/sim-driver';
import { beforeEach, describe, expect, it } from 'vitest';
import { createFisEngine } from '../src/index.js';
import { clientConfig } from './support/aws-fixture.js';
import { sharedMoto } from './support/moto-server.js';

/*
 * The FIS template of a game-day on moto 5.2.1, which implements CreateExperimentTemplate,
 * DeleteExperimentTemplate and tags (no GetExperimentTemplate, no experiments): the template is
 * read back from what moto stored (DeleteExperimentTemplate returns it). CloudWatch alarms:
 * PutMetricAlarm and DescribeAlarms. Runs are tested on the simulator (fis-game-day.test.ts).
 */

const moto = sharedMoto();
const ACCT = '123456789012';
const spec = defineCluster({ ...simulatedClusterInput({ nodes: 5, name: 'gd' }), tags: { env: 'staging' } });
const REGION = spec.region;
const config = (endpoint: string) => ({ ...clientConfig(endpoint), region: REGION });
const steps: Fault[] = [
  { kind: 'kill-instance', nodeId: 'gd-2', atMs: 0, stabilityMs: 60_000 },
  { kind: 'spot-interruption', nodeId: 'gd-3', atMs: 300_000, stabilityMs: 60_000 },
  { kind: 'az-outage', azIndex: 0, durationMs: 120_000, atMs: 600_000, stabilityMs: 60_000 },
];
const plan = { name: 'three faults', targetTags: { env: 'staging' }, steps };
const alarmArn = `arn:aws:cloudwatch:${REGION}:${ACCT}:alarm:gd-errors`;

describe('FIS templates and stop alarms on moto', () => {
  beforeEach(() => moto.reset());

  it('a game-day plan becomes a template with the right targets, actions and stop conditions (created once per client token)', async () => {
    const cw = new CloudWatchClient(config(moto.endpoint));
    const fis = new FisClient(config(moto.endpoint));
    await cw.send(new PutMetricAlarmCommand({ AlarmName: 'gd-errors', MetricName: 'Errors', Namespace: 'App', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' }));
    const alarms = await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['gd-errors'] }));
    expect(alarms.MetricAlarms?.[0]?.AlarmArn).toBe(alarmArn);

    const input = fisExperimentTemplate(plan, { spec, roleArn: `arn:aws:iam::${ACCT}:role/berth-fis`, stopAlarmArns: [alarmArn] });
    const engine = createFisEngine({ clients: { fis, cloudWatch: cw } });
    const { templateId } = await engine.createTemplate(input);
    expect((await engine.createTemplate(input)).templateId).toBe(templateId);

    const tags = await fis.send(new ListTagsForResourceCommand({ resourceArn: `arn:aws:fis:${REGION}:${ACCT}:experiment-template/${templateId}` }));
    expect(tags.tags).toMatchObject({ 'berth:game-day': 'three faults', 'berth:cluster': 'gd' });
    const stored = (await fis.send(new DeleteExperimentTemplateCommand({ id: templateId }))).experimentTemplate!;
    expect(stored.stopConditions).toEqual([{ source: 'aws:cloudwatch:alarm', value: alarmArn }]);
    expect(Object.fromEntries(Object.entries(stored.actions ?? {}).map(([k, a]) => [k, [a.actionId, a.startAfter ?? [], a.targets ?? {}]]))).toEqual({
      'wait-until-5m': ['aws:fis:wait', [], {}],
      'wait-until-10m': ['aws:fis:wait', ['wait-until-5m'], {}],
      'step-1-kill-instance': ['aws:ec2:terminate-instances', [], { Instances: 'step-1-targets' }],
      'step-2-spot-interruption': ['aws:ec2:send-spot-instance-interruptions', ['wait-until-5m'], { SpotInstances: 'step-2-targets' }],
      'step-3-az-outage': ['aws:network:disrupt-connectivity', ['wait-until-10m'], { Subnets: 'step-3-targets' }],
    });
    expect(stored.actions?.['wait-until-10m']?.parameters).toEqual({ duration: 'PT5M' });
    expect(stored.targets?.['step-1-targets']).toMatchObject({ resourceType: 'aws:ec2:instance', resourceTags: { env: 'staging', 'berth:cluster': 'gd', 'berth:node': 'gd-2' }, selectionMode: 'ALL' });
    expect(stored.targets?.['step-3-targets']?.resourceArns).toEqual(spec.subnets.filter((s) => s.az === [...new Set(spec.subnets.map((x) => x.az))].sort()[0]).map((s) => `arn:aws:ec2:${REGION}:${ACCT}:subnet/${s.id}`));
    cw.destroy();
    fis.destroy();
  });

  it('a stop-condition alarm CloudWatch does not have is refused before the template is made', async () => {
    const cw = new CloudWatchClient(config(moto.endpoint));
    let fisCalls = 0;
    const fis = { send: async () => (fisCalls++, {}) };
    const engine = createFisEngine({ clients: { fis, cloudWatch: cw } });
    const input = fisExperimentTemplate(plan, { spec, roleArn: `arn:aws:iam::${ACCT}:role/berth-fis`, stopAlarmArns: [alarmArn] });
    await expect(engine.createTemplate(input)).rejects.toMatchObject({ code: 'ALARM_NOT_FOUND' });
    expect(fisCalls).toBe(0);
    cw.destroy();
  });
});
