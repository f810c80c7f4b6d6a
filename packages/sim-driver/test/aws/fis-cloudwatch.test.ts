import { CreateTagsCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { createController, defineCluster, type ClusterSpec } from '@berth/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput, type Simulation } from '../../src/index.js';
import { failure } from './account-fixture.js';
import * as commands from '../support/sdk-commands.js';

/*
 * The rules FIS-1…FIS-15 and CW-1…CW-7 (docs/aws-behaviour.md) on the simulated FIS and
 * CloudWatch, called directly (the game-day through the production FIS engine is in
 * packages/aws-driver/test/fis-game-day.test.ts). IAM is on: the caller is the role `tester`, the
 * experiment role `berth-fis`, each with the policies a test gives it. Commands are named as the
 * SDK's (the simulated clients read the operation from the class name).
 */

type In = Record<string, unknown>;
const {
  CreateExperimentTemplateCommand: CreateExperimentTemplate,
  GetExperimentTemplateCommand: GetExperimentTemplate,
  StartExperimentCommand: StartExperiment,
  GetExperimentCommand: GetExperiment,
  StopExperimentCommand: StopExperiment,
  ListExperimentsCommand: ListExperiments,
  PutMetricAlarmCommand: PutMetricAlarm,
  DescribeAlarmsCommand: DescribeAlarms,
  SetAlarmStateCommand: SetAlarmState,
  DeleteAlarmsCommand: DeleteAlarms,
} = commands;

const ACCT = '123456789012';
const REGION = 'eu-west-1';
const ROLE = `arn:aws:iam::${ACCT}:role/berth-fis`;
const ADMIN = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
const allow = (Action: string | string[], Resource: string | string[] = '*', Condition?: In) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action, Resource, ...(Condition && { Condition }) }] });
const policy = (...docs: { Statement: unknown[] }[]) => ({ Version: '2012-10-17', Statement: docs.flatMap((d) => d.Statement) });

const wait = (duration = 'PT1M', startAfter?: string[]) => ({ actionId: 'aws:fis:wait', parameters: { duration }, ...(startAfter && { startAfter }) });
const template = (actions: In, targets: In = {}, extra: In = {}): In => ({ roleArn: ROLE, actions, targets, stopConditions: [{ source: 'none' }], ...extra });
const alarm = (name: string, extra: In = {}): In => ({ AlarmName: name, MetricName: 'Errors', Namespace: 'App', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold', ...extra });
const alarmArn = (name: string) => `arn:aws:cloudwatch:${REGION}:${ACCT}:alarm:${name}`;

interface ActionView {
  state: { status: string; reason?: string };
  startTime?: Date;
  endTime?: Date;
}
interface ExperimentView {
  id: string;
  state: { status: string; reason?: string };
  startTime: Date;
  actions: Record<string, ActionView>;
}

/**
 * A simulation without a cluster; `tester` and `berth-fis` may do everything unless a test
 * narrows them. `iam: 'off'` for malformed requests: the simulated IAM cannot evaluate a request
 * on a malformed ARN (an empty alarm name, a role "ARN" that is not one) and fails before the
 * service answers.
 */
function bare(iam: 'evaluate' | 'off' = 'evaluate'): Simulation {
  const sim = createSimulation({ seed: 5, profile: 'fast', iam });
  sim.account.setRolePolicies('tester', { all: ADMIN });
  sim.account.setRolePolicies('berth-fis', { all: ADMIN });
  return sim;
}

const fis = (sim: Simulation, c: { input: In }): Promise<unknown> => sim.run(() => sim.awsAs('tester').fis.send(c));
const cw = (sim: Simulation, c: { input: In }): Promise<unknown> => sim.run(() => sim.awsAs('tester').cloudWatch.send(c));
const create = async (sim: Simulation, input: In): Promise<{ id: string; arn: string }> => ((await fis(sim, new CreateExperimentTemplate(input))) as { experimentTemplate: { id: string; arn: string } }).experimentTemplate;
const start = async (sim: Simulation, templateId: string, extra: In = {}): Promise<ExperimentView> => ((await fis(sim, new StartExperiment({ experimentTemplateId: templateId, ...extra }))) as { experiment: ExperimentView }).experiment;
const get = async (sim: Simulation, id: string): Promise<ExperimentView> => ((await fis(sim, new GetExperiment({ id }))) as { experiment: ExperimentView }).experiment;
/** Advances virtual time by `ms`. */
const sleep = (sim: Simulation, ms: number): Promise<void> => sim.run(() => sim.clock.sleep(ms));
/** Runs until the experiment has ended (virtual time). */
async function settle(sim: Simulation, id: string, maxMs = 3_600_000): Promise<ExperimentView> {
  for (let t = 0; t < maxMs; t += 5_000) {
    const x = await get(sim, id);
    if (['completed', 'stopped', 'failed', 'cancelled'].includes(x.state.status)) return x;
    await sleep(sim, 5_000);
  }
  throw new Error(`experiment ${id} did not end`);
}
/** The template CreateExperimentTemplate refuses: the error. */
const refused = (sim: Simulation, input: In) => failure(fis(sim, new CreateExperimentTemplate(input)));
const instanceArn = (id: string) => `arn:aws:ec2:${REGION}:${ACCT}:instance/${id}`;
const terminated = (sim: Simulation, id: string): boolean => {
  const i = sim.world.instance(id);
  return i === null || i === undefined || /^Terminat/.test(i.lifecycleState);
};

describe('FIS and CloudWatch rules on the simulator', () => {
  // One provisioned cluster (spot instances) for the rules whose targets are instances or subnets.
  let sim: Simulation;
  let spec: ClusterSpec;
  beforeAll(async () => {
    sim = createSimulation({ seed: 9, profile: 'fast', spot: true });
    spec = defineCluster(simulatedClusterInput({ nodes: 3, name: 'fc' }));
    sim.account.setRolePolicies('tester', { all: ADMIN });
    await sim.run(async () => {
      await createController({ spec, driver: sim.driver, clock: sim.clock, holderId: 'setup' }).apply();
      while (!(sim.app.clusterHealthy() && spec.nodes.every((n) => sim.world.currentInstance(n.id)?.lifecycleState === 'InService'))) await sim.clock.sleep(1_000);
    });
  });

  it('FIS-1: actions start when their startAfter actions complete (or at the start), each once', async () => {
    const s = bare();
    const t = await create(s, template({ a: wait('PT1M'), b: wait('PT2M', ['a']), c: wait('PT1M') }));
    const x = await settle(s, (await start(s, t.id)).id);
    expect(x.state.status).toBe('completed');
    const [a, b, c] = (['a', 'b', 'c'] as const).map((n) => x.actions[n] as ActionView);
    expect(a?.startTime?.getTime()).toBe(c?.startTime?.getTime());
    expect(b?.startTime?.getTime()).toBe(a?.endTime?.getTime());
    expect(b!.endTime!.getTime() - b!.startTime!.getTime()).toBe(120_000);
    const started = s.trace.filter((e) => e.kind === 'fis.action-started').map((e) => e['action']);
    expect(started.sort()).toEqual(['a', 'b', 'c']);
  });

  it('FIS-2: aws:fis:wait takes one minute to 12 hours and needs no permission', async () => {
    const s = bare();
    expect((await refused(s, template({ w: wait('PT30S') }))).message).toMatch(/w\.parameters\.duration/);
    expect((await refused(s, template({ w: wait('PT12H1M') }))).message).toMatch(/duration/);
    expect((await refused(s, template({ w: wait('1 minute') }))).message).toMatch(/duration/);
    await create(s, template({ w: wait('PT12H') }));
    const t = await create(s, template({ w: wait('PT1M') }));
    s.account.setRolePolicies('berth-fis', {});
    expect((await settle(s, (await start(s, t.id)).id)).state.status).toBe('completed');
  });

  it('FIS-3: the API-error injections check service, percentage and duration, need their permission, and fail the calls', async () => {
    const s = bare();
    const roles = { r: { resourceType: 'aws:iam:role', resourceArns: [`arn:aws:iam::${ACCT}:role/app`], selectionMode: 'ALL' } };
    const inject = (params: In, actionId = 'aws:fis:inject-api-throttle-error') => ({ i: { actionId, parameters: { service: 'ec2', percentage: '100', duration: 'PT1M', operations: 'DescribeInstances', ...params }, targets: { Roles: 'r' } } });
    expect((await refused(s, template(inject({ service: 'autoscaling' }), roles))).message).toMatch(/service/);
    expect((await refused(s, template(inject({ percentage: '0' }), roles))).message).toMatch(/percentage/);
    expect((await refused(s, template(inject({ duration: 'PT10S' }), roles))).message).toMatch(/duration/);
    const subnet = { r: { resourceType: 'aws:ec2:subnet', resourceArns: [`arn:aws:ec2:${REGION}:${ACCT}:subnet/subnet-1`], selectionMode: 'ALL' } };
    expect((await refused(s, template(inject({}), subnet))).message).toMatch(/aws:iam:role/);

    const t = await create(s, template(inject({}), roles));
    // Without fis:InjectApiThrottleError the experiment fails.
    s.account.setRolePolicies('berth-fis', { some: allow('fis:InjectApiInternalError') });
    const denied = await settle(s, (await start(s, t.id)).id);
    expect(denied.state.status).toBe('failed');
    expect(denied.actions['i']?.state.reason).toMatch(/fis:InjectApiThrottleError/);

    s.account.setRolePolicies('berth-fis', { some: allow('fis:InjectApiThrottleError', '*', { StringEquals: { 'fis:Service': 'ec2' } }) });
    const x = await start(s, t.id);
    await sleep(s, 5_000);
    expect((await failure(s.run(() => s.awsAs('tester').ec2.send(new DescribeInstancesCommand({}))))).name).toBe('RequestLimitExceeded');
    expect((await settle(s, x.id)).state.status).toBe('completed');
    await s.run(() => s.awsAs('tester').ec2.send(new DescribeInstancesCommand({})));
  });

  it('FIS-4: disrupt-connectivity cuts the members in the target subnets off for its duration, under its permissions', async () => {
    const node = spec.nodes[0]!;
    const inSubnet = spec.nodes.filter((n) => n.subnetId === node.subnetId).map((n) => n.id).sort();
    const others = spec.nodes.filter((n) => n.subnetId !== node.subnetId);
    expect(others.length).toBeGreaterThan(0);
    const t = await create(sim, template({ cut: { actionId: 'aws:network:disrupt-connectivity', parameters: { duration: 'PT2M', scope: 'all' }, targets: { Subnets: 's' } } }, { s: { resourceType: 'aws:ec2:subnet', resourceArns: [`arn:aws:ec2:${REGION}:${ACCT}:subnet/${node.subnetId}`], selectionMode: 'ALL' } }));
    const partitioned = () => sim.app.status().members.filter((m) => m.partitioned).map((m) => m.nodeId).sort();
    // Without ec2:CreateNetworkAcl the action fails and nothing is cut.
    sim.account.setRolePolicies('berth-fis', { some: allow(['ec2:DescribeSubnets', 'ec2:CreateNetworkAclEntry', 'ec2:ReplaceNetworkAclAssociation']) });
    const denied = await settle(sim, (await start(sim, t.id)).id);
    expect(denied.state.status).toBe('failed');
    expect(denied.actions['cut']?.state.reason).toMatch(/ec2:CreateNetworkAcl\b/);
    expect(partitioned()).toEqual([]);

    sim.account.setRolePolicies('berth-fis', { all: ADMIN });
    const x = await start(sim, t.id);
    await sleep(sim, 5_000);
    expect(partitioned()).toEqual(inSubnet);
    await sleep(sim, 60_000);
    expect(partitioned()).toEqual(inSubnet);
    expect((await settle(sim, x.id)).state.status).toBe('completed');
    await sleep(sim, 1_000);
    expect(partitioned()).toEqual([]);
  });

  it('FIS-5: a stop-condition alarm going to ALARM stops the running experiment', async () => {
    const s = bare();
    await cw(s, new PutMetricAlarm(alarm('stop')));
    expect((await refused(s, template({ w: wait() }, {}, { stopConditions: [{ source: 'aws:cloudwatch:alarm', value: 'stop' }] }))).message).toMatch(/stopConditions/);
    expect((await refused(s, template({ w: wait() }, {}, { stopConditions: [{ source: 'aws:sns:topic', value: alarmArn('stop') }] }))).message).toMatch(/stopConditions/);
    const t = await create(s, template({ w: wait('PT10M'), after: wait('PT1M', ['w']) }, {}, { stopConditions: [{ source: 'aws:cloudwatch:alarm', value: alarmArn('stop') }] }));
    const x = await start(s, t.id);
    await sleep(s, 60_000);
    await cw(s, new SetAlarmState({ AlarmName: 'stop', StateValue: 'OK', StateReason: 'fine' }));
    expect((await get(s, x.id)).state.status).toBe('running');
    await cw(s, new SetAlarmState({ AlarmName: 'stop', StateValue: 'ALARM', StateReason: 'errors up' }));
    const got = await get(s, x.id);
    expect(got.state.status).toBe('stopped');
    expect(got.state.reason).toMatch(/stop condition/);
    expect(got.actions['w']?.state.status).toBe('stopped');
    expect(got.actions['after']?.state.status).toBe('cancelled');
  });

  it('FIS-6: quotas of a template: 20 actions, 5 stop conditions, 5 resources per target, 12 hours per action', async () => {
    const s = bare();
    for (const n of [3, 4, 5]) await cw(s, new PutMetricAlarm(alarm(`a${n}`)));
    const actions = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`w${i}`, wait()]));
    await create(s, template(actions(20)));
    expect((await refused(s, template(actions(21)))).name).toBe('ServiceQuotaExceededException');
    const stops = (n: number) => ({ stopConditions: Array.from({ length: n }, (_, i) => ({ source: 'aws:cloudwatch:alarm', value: alarmArn(`a${i}`) })) });
    expect((await refused(s, template(actions(1), {}, stops(6)))).name).toBe('ServiceQuotaExceededException');
    await create(s, template(actions(1), {}, stops(5)));
    const kill = { k: { actionId: 'aws:ec2:terminate-instances', targets: { Instances: 't' } } };
    const arns = (n: number) => ({ t: { resourceType: 'aws:ec2:instance', resourceArns: Array.from({ length: n }, (_, i) => instanceArn(`i-00000000000000${i}0`)), selectionMode: 'ALL' } });
    await create(s, template(kill, arns(5)));
    expect((await refused(s, template(kill, arns(6)))).message).toMatch(/resourceArns: at most 5/);
    expect((await refused(s, template({ w: wait('PT13H') }))).message).toMatch(/12 h/);
  });

  it('FIS-7: a retry with the same clientToken creates no second template or experiment', async () => {
    const s = bare();
    const input = template({ w: wait() }, {}, { clientToken: 'tok-1' });
    const a = await create(s, input);
    const b = await create(s, input);
    expect(b.id).toBe(a.id);
    expect((await create(s, { ...input, clientToken: 'tok-2' })).id).not.toBe(a.id);
    const x = await start(s, a.id, { clientToken: 'run-1' });
    const y = await start(s, a.id, { clientToken: 'run-1' });
    expect(y.id).toBe(x.id);
    const list = (await fis(s, new ListExperiments({ experimentTemplateId: a.id }))) as { experiments: unknown[] };
    expect(list.experiments.length).toBe(1);
    expect((await start(s, a.id, { clientToken: 'run-2' })).id).not.toBe(x.id);
  });

  it('FIS-8: creating a template needs iam:PassRole on the experiment role, passed to fis.amazonaws.com', async () => {
    const s = bare();
    const fisAll = allow('fis:*');
    s.account.setRolePolicies('tester', { p: policy(fisAll, allow('iam:PassRole', ROLE, { StringEquals: { 'iam:PassedToService': 'fis.amazonaws.com' } })) });
    await create(s, template({ w: wait() }));
    const other = `arn:aws:iam::${ACCT}:role/other`;
    const e = await refused(s, { ...template({ w: wait() }), roleArn: other });
    expect(e.name).toBe('AccessDeniedException');
    expect(e.message).toMatch(/iam:PassRole/);
    // PassRole granted for another service only: denied too.
    s.account.setRolePolicies('tester', { p: policy(fisAll, allow('iam:PassRole', ROLE, { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } })) });
    expect((await refused(s, template({ w: wait('PT2M') }))).message).toMatch(/iam:PassRole/);
  });

  it('FIS-9: an action the experiment role may not do fails it and the experiment; later actions end cancelled', async () => {
    const victim = sim.world.currentInstance(spec.nodes[1]!.id)!.id;
    const t = await create(sim, template({ k: { actionId: 'aws:ec2:terminate-instances', targets: { Instances: 't' } }, after: wait('PT1M', ['k']) }, { t: { resourceType: 'aws:ec2:instance', resourceArns: [instanceArn(victim)], selectionMode: 'ALL' } }));
    sim.account.setRolePolicies('berth-fis', { some: allow('ec2:DescribeInstances') });
    const x = await settle(sim, (await start(sim, t.id)).id);
    expect(x.state.status).toBe('failed');
    expect(x.state.reason).toMatch(/not authorized.*ec2:TerminateInstances/);
    expect(x.actions['k']?.state.status).toBe('failed');
    expect(x.actions['after']?.state.status).toBe('cancelled');
    expect(terminated(sim, victim)).toBe(false);
    sim.account.setRolePolicies('berth-fis', { all: ADMIN });
  });

  it('FIS-10: templates are authorized on experiment-template and action/<id>, experiments on the template (its tags) and experiment', async () => {
    const s = bare();
    const base = `arn:aws:fis:${REGION}:${ACCT}`;
    s.account.setRolePolicies('tester', {
      p: policy(
        allow('fis:CreateExperimentTemplate', [`${base}:experiment-template/*`, `${base}:action/aws:fis:wait`]),
        allow('fis:StartExperiment', `${base}:experiment-template/*`, { StringEquals: { 'aws:ResourceTag/team': 'a' } }),
        allow('fis:StartExperiment', `${base}:experiment/*`),
        allow('iam:PassRole', ROLE),
      ),
    });
    const tagged = await create(s, template({ w: wait() }, {}, { tags: { team: 'a' } }));
    expect(tagged.arn).toBe(`${base}:experiment-template/${tagged.id}`);
    const untagged = await create(s, template({ w: wait() }));
    const kill = template({ k: { actionId: 'aws:ec2:terminate-instances', targets: { Instances: 't' } } }, { t: { resourceType: 'aws:ec2:instance', resourceArns: [instanceArn('i-0123456789abcdef0')], selectionMode: 'ALL' } });
    expect((await refused(s, kill)).message).toMatch(/action\/aws:ec2:terminate-instances/);
    await start(s, tagged.id);
    const e = await failure(fis(s, new StartExperiment({ experimentTemplateId: untagged.id })));
    expect(e.name).toBe('AccessDeniedException');
    expect(e.message).toMatch(new RegExp(`experiment-template/${untagged.id}`));
  });

  it('FIS-11: targets are resolved when the experiment starts; a target resolving to nothing fails it', async () => {
    const victim = sim.world.currentInstance(spec.nodes[2]!.id)!.id;
    const target = (filters?: In[]) => ({ t: { resourceType: 'aws:ec2:instance', resourceTags: { 'fis-test': 'chosen' }, selectionMode: 'COUNT(1)', ...(filters && { filters }) } });
    const kill = { k: { actionId: 'aws:ec2:terminate-instances', targets: { Instances: 't' } } };
    // No instance has the tag yet: the template is accepted; the experiment would fail.
    const t = await create(sim, template(kill, target()));
    const none = await settle(sim, (await start(sim, t.id)).id);
    expect(none.state.status).toBe('failed');
    expect(none.state.reason).toMatch(/Target resolution returned empty set for target t/);
    await sim.run(() => sim.awsAs('tester').ec2.send(new CreateTagsCommand({ Resources: [victim], Tags: [{ Key: 'fis-test', Value: 'chosen' }] })));
    // A filter on the state that nothing matches: empty, failed.
    const stopped = await create(sim, template(kill, target([{ path: 'State.Name', values: ['stopped'] }])));
    expect((await settle(sim, (await start(sim, stopped.id)).id)).state.status).toBe('failed');
    expect(terminated(sim, victim)).toBe(false);
    // Now the tag matches at start: the instance is terminated, through EC2 as the experiment role.
    expect((await settle(sim, (await start(sim, t.id)).id)).state.status).toBe('completed');
    expect(terminated(sim, victim)).toBe(true);
  });

  it('FIS-12: the simulator plays the actions Berth uses and refuses the others at creation', async () => {
    const s = bare();
    const target = (resourceType: string, arn: string) => ({ t: { resourceType, resourceArns: [arn], selectionMode: 'ALL' } });
    const inst = target('aws:ec2:instance', instanceArn('i-0123456789abcdef0'));
    await create(s, template({ k: { actionId: 'aws:ec2:terminate-instances', targets: { Instances: 't' } } }, inst));
    await create(s, template({ k: { actionId: 'aws:ec2:send-spot-instance-interruptions', parameters: { durationBeforeInterruption: 'PT2M' }, targets: { SpotInstances: 't' } } }, target('aws:ec2:spot-instance', instanceArn('i-0123456789abcdef0'))));
    await create(s, template({ k: { actionId: 'aws:network:disrupt-connectivity', parameters: { duration: 'PT1M', scope: 'all' }, targets: { Subnets: 't' } } }, target('aws:ec2:subnet', `arn:aws:ec2:${REGION}:${ACCT}:subnet/subnet-1`)));
    for (const actionId of ['aws:fis:inject-api-throttle-error', 'aws:fis:inject-api-internal-error']) {
      await create(s, template({ k: { actionId, parameters: { service: 'ec2', percentage: '50', duration: 'PT1M' }, targets: { Roles: 't' } } }, target('aws:iam:role', `arn:aws:iam::${ACCT}:role/app`)));
    }
    for (const actionId of ['aws:ec2:stop-instances', 'aws:ec2:reboot-instances']) {
      const e = await refused(s, template({ k: { actionId, targets: { Instances: 't' } } }, inst));
      expect(e.name).toBe('ValidationException');
      expect(e.message).toContain(actionId);
    }
  });

  it('FIS-13: a malformed template is a ValidationException, over a quota ServiceQuotaExceededException, an unknown id ResourceNotFoundException (404)', async () => {
    const s = bare();
    const kill = (to: string) => ({ k: { actionId: 'aws:ec2:terminate-instances', targets: { Instances: to } } });
    const inst = { t: { resourceType: 'aws:ec2:instance', resourceArns: [instanceArn('i-0123456789abcdef0')], selectionMode: 'ALL' } };
    const cases: [In, RegExp][] = [
      [template(kill('nope'), inst), /no target nope/],
      [template(kill('t'), { t: { ...inst.t, resourceType: 'aws:ec2:subnet' } }), /acts on aws:ec2:instance/],
      [template(kill('t'), { t: { ...inst.t, selectionMode: 'SOME' } }), /selectionMode/],
      [template({ w: wait(), x: wait('PT1M', ['nope']) }), /startAfter: no action nope/],
      [template({ w: { actionId: 'aws:fis:wait', parameters: { duration: 'PT1M' }, targets: { Instances: 't' } } }, inst), /takes no target/],
      [{ ...template({ w: wait() }), roleArn: 'berth-fis' }, /roleArn/],
    ];
    for (const [input, message] of cases) {
      const e = await refused(s, input);
      expect({ name: e.name, status: e.$metadata?.httpStatusCode, message: e.message }).toEqual({ name: 'ValidationException', status: 400, message: expect.stringMatching(message) });
    }
    expect((await refused(s, template(Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`w${i}`, wait()]))))).name).toBe('ServiceQuotaExceededException');
    for (const c of [new GetExperimentTemplate({ id: 'EXTnope' }), new StartExperiment({ experimentTemplateId: 'EXTnope' }), new GetExperiment({ id: 'EXPnope' }), new StopExperiment({ id: 'EXPnope' })]) {
      const e = await failure(fis(s, c));
      expect({ name: e.name, status: e.$metadata.httpStatusCode }).toEqual({ name: 'ResourceNotFoundException', status: 404 });
    }
  });

  it('FIS-14: StopExperiment stops the running actions and rolls their effect back; pending actions end cancelled', async () => {
    const s = bare();
    const roles = { r: { resourceType: 'aws:iam:role', resourceArns: [`arn:aws:iam::${ACCT}:role/app`], selectionMode: 'ALL' } };
    const t = await create(s, template({ errors: { actionId: 'aws:fis:inject-api-internal-error', parameters: { service: 'ec2', percentage: '100', duration: 'PT10M', operations: 'DescribeInstances' }, targets: { Roles: 'r' } }, later: wait('PT1M', ['errors']) }, roles));
    const x = await start(s, t.id);
    await sleep(s, 5_000);
    const describe = () => s.run(() => s.awsAs('tester').ec2.send(new DescribeInstancesCommand({})));
    expect((await failure(describe())).$metadata.httpStatusCode).toBe(500);
    const stopped = ((await fis(s, new StopExperiment({ id: x.id }))) as { experiment: ExperimentView }).experiment;
    expect(['stopping', 'stopped']).toContain(stopped.state.status);
    const got = await settle(s, x.id);
    expect(got.state.status).toBe('stopped');
    expect(got.actions['errors']?.state.status).toBe('stopped');
    expect(got.actions['later']?.state.status).toBe('cancelled');
    await describe();
    // Stopping an ended experiment changes nothing.
    expect(((await fis(s, new StopExperiment({ id: x.id }))) as { experiment: ExperimentView }).experiment.state.status).toBe('stopped');
  });

  it('FIS-15: send-spot-instance-interruptions targets spot instances: the notice now, the interruption later, under ec2:SendSpotInstanceInterruptions', async () => {
    const victim = sim.world.currentInstance(spec.nodes[0]!.id)!.id;
    const spot = (d: string, type = 'aws:ec2:spot-instance') => template({ n: { actionId: 'aws:ec2:send-spot-instance-interruptions', parameters: { durationBeforeInterruption: d }, targets: { SpotInstances: 't' } } }, { t: { resourceType: type, resourceArns: [instanceArn(victim)], selectionMode: 'ALL' } });
    expect((await refused(sim, spot('PT1M'))).message).toMatch(/durationBeforeInterruption/);
    expect((await refused(sim, spot('PT2M', 'aws:ec2:instance'))).message).toMatch(/aws:ec2:spot-instance/);
    const t = await create(sim, spot('PT2M'));
    const notices = () => sim.trace.filter((e) => e.kind === 'fault.spot-interruption' && e['instanceId'] === victim).length;
    sim.account.setRolePolicies('berth-fis', { some: allow(['ec2:TerminateInstances', 'ec2:DescribeInstances']) });
    const denied = await settle(sim, (await start(sim, t.id)).id);
    expect(denied.state.reason).toMatch(/ec2:SendSpotInstanceInterruptions/);
    expect(notices()).toBe(0);
    sim.account.setRolePolicies('berth-fis', { all: ADMIN });
    const x = await start(sim, t.id);
    // The action starts a second after the experiment; the simulator interrupts its spot
    // instances after its own notice time (1.2 s in the fast profile), not durationBeforeInterruption.
    await sleep(sim, 1_500);
    expect(notices()).toBe(1);
    expect(terminated(sim, victim)).toBe(false);
    expect((await settle(sim, x.id)).state.status).toBe('completed');
    await sleep(sim, 30_000);
    expect(terminated(sim, victim)).toBe(true);
  });

  it('CW-1: a missing required parameter is MissingParameter, a bad value InvalidParameterValue', async () => {
    const s = bare();
    for (const field of ['AlarmName', 'EvaluationPeriods', 'ComparisonOperator', 'MetricName']) {
      const { [field]: _dropped, ...input } = alarm('x');
      const e = await failure(cw(s, new PutMetricAlarm(input)));
      expect({ name: e.name, message: e.message }).toEqual({ name: 'MissingParameter', message: expect.stringContaining(field) });
    }
    expect((await failure(cw(s, new PutMetricAlarm(alarm('x', { EvaluationPeriods: 0 }))))).name).toBe('InvalidParameterValue');
    expect((await failure(cw(s, new PutMetricAlarm(alarm('x', { ComparisonOperator: 'Above' }))))).name).toBe('InvalidParameterValue');
    await cw(s, new PutMetricAlarm(alarm('x')));
    expect((await failure(cw(s, new SetAlarmState({ AlarmName: 'x', StateValue: 'RED', StateReason: 'r' })))).name).toBe('InvalidParameterValue');
    expect((await failure(cw(s, new SetAlarmState({ AlarmName: 'x', StateValue: 'ALARM' })))).name).toBe('MissingParameter');
    expect((await failure(cw(s, new SetAlarmState({ StateValue: 'ALARM', StateReason: 'r' })))).name).toBe('MissingParameter');
  });

  const describeAlarms = async (s: Simulation, names: string[]) => ((await cw(s, new DescribeAlarms({ AlarmNames: names }))) as { MetricAlarms: In[] }).MetricAlarms;

  it('CW-2: PutMetricAlarm on an existing name replaces its configuration and keeps its state', async () => {
    const s = bare();
    await cw(s, new PutMetricAlarm(alarm('x', { Threshold: 1, Statistic: 'Sum' })));
    await cw(s, new SetAlarmState({ AlarmName: 'x', StateValue: 'ALARM', StateReason: 'r' }));
    await cw(s, new PutMetricAlarm(alarm('x', { Threshold: 5, Statistic: 'Maximum' })));
    const [a, ...rest] = await describeAlarms(s, ['x']);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ Threshold: 5, Statistic: 'Maximum', StateValue: 'ALARM' });
  });

  it('CW-3: a new alarm is INSUFFICIENT_DATA, and stays so (no metrics are simulated)', async () => {
    const s = bare();
    await cw(s, new PutMetricAlarm(alarm('x')));
    expect((await describeAlarms(s, ['x']))[0]?.['StateValue']).toBe('INSUFFICIENT_DATA');
    await sleep(s, 3_600_000);
    expect((await describeAlarms(s, ['x']))[0]?.['StateValue']).toBe('INSUFFICIENT_DATA');
  });

  it('CW-4: DescribeAlarms with AlarmNames returns the ones that exist and leaves the others out', async () => {
    const s = bare();
    await cw(s, new PutMetricAlarm(alarm('b')));
    await cw(s, new PutMetricAlarm(alarm('a')));
    await cw(s, new PutMetricAlarm(alarm('c')));
    expect((await describeAlarms(s, ['c', 'missing', 'a'])).map((m) => m['AlarmName'])).toEqual(['a', 'c']);
    expect(await describeAlarms(s, ['missing'])).toEqual([]);
  });

  it('CW-5: SetAlarmState sets the state; an alarm that does not exist is ResourceNotFound', async () => {
    const s = bare();
    await cw(s, new PutMetricAlarm(alarm('x')));
    await cw(s, new SetAlarmState({ AlarmName: 'x', StateValue: 'ALARM', StateReason: 'testing' }));
    expect((await describeAlarms(s, ['x']))[0]).toMatchObject({ StateValue: 'ALARM', StateReason: 'testing' });
    await cw(s, new SetAlarmState({ AlarmName: 'x', StateValue: 'OK', StateReason: 'back' }));
    expect((await describeAlarms(s, ['x']))[0]?.['StateValue']).toBe('OK');
    const e = await failure(cw(s, new SetAlarmState({ AlarmName: 'y', StateValue: 'ALARM', StateReason: 'r' })));
    expect({ name: e.name, status: e.$metadata.httpStatusCode }).toEqual({ name: 'ResourceNotFound', status: 404 });
  });

  it('CW-6: DeleteAlarms with a name that does not exist deletes none of them', async () => {
    const s = bare();
    await cw(s, new PutMetricAlarm(alarm('x')));
    await cw(s, new PutMetricAlarm(alarm('y')));
    expect((await failure(cw(s, new DeleteAlarms({ AlarmNames: ['x', 'missing'] })))).name).toBe('ResourceNotFound');
    expect((await describeAlarms(s, ['x', 'y'])).length).toBe(2);
    await cw(s, new DeleteAlarms({ AlarmNames: ['x'] }));
    expect((await describeAlarms(s, ['x', 'y'])).map((m) => m['AlarmName'])).toEqual(['y']);
  });

  it('CW-7: an alarm ARN is arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>, and IAM authorizes on it', async () => {
    const s = bare();
    await cw(s, new PutMetricAlarm(alarm('mine')));
    await cw(s, new PutMetricAlarm(alarm('theirs')));
    expect((await describeAlarms(s, ['mine']))[0]?.['AlarmArn']).toBe(alarmArn('mine'));
    s.account.setRolePolicies('tester', { p: policy(allow(['cloudwatch:SetAlarmState', 'cloudwatch:DeleteAlarms', 'cloudwatch:PutMetricAlarm'], alarmArn('mine')), allow('cloudwatch:DescribeAlarms', alarmArn('*'))) });
    await cw(s, new SetAlarmState({ AlarmName: 'mine', StateValue: 'ALARM', StateReason: 'r' }));
    await cw(s, new PutMetricAlarm(alarm('mine', { Threshold: 3 })));
    for (const c of [new SetAlarmState({ AlarmName: 'theirs', StateValue: 'ALARM', StateReason: 'r' }), new PutMetricAlarm(alarm('theirs')), new DeleteAlarms({ AlarmNames: ['mine', 'theirs'] })]) {
      const e = await failure(cw(s, c));
      expect(e.name).toBe('AccessDenied');
      expect(e.message).toContain(alarmArn('theirs'));
    }
    expect((await describeAlarms(s, ['mine', 'theirs'])).length).toBe(2);
    s.account.setRolePolicies('tester', { p: allow('cloudwatch:DescribeAlarms', alarmArn('mine')) });
    expect((await failure(cw(s, new DescribeAlarms({ AlarmNames: ['mine'] })))).message).toContain(alarmArn('*'));
  });
});
