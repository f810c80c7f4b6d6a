import { PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { createController, defineCluster, type ClusterSpec } from '@berth/core';
import { createSimulation, simulatedClusterInput, type Simulation } from '@berth/sim-driver';
import { describe, expect, it } from 'vitest';
import { fisExperimentTemplate, FisTemplateError, GameDayError, runGameDay, type Fault, type FisEngine, type GameDayPlan } from '@berth/chaos';
import { createFisEngine, fisCallerPolicy, fisExperimentRolePolicy } from '../src/index.js';

/*
 * FIS game-days on simulated AWS: the production aws-driver FIS engine (createFisEngine) talks to
 * the simulator's FIS and CloudWatch through sim.aws, as the controller role; the experiment
 * acts as its own role, under the generated policies.
 */

const ACCT = '123456789012';
const ROLE = `arn:aws:iam::${ACCT}:role/berth-fis`;
const kill = (nodeId: string, atMs: number): Fault => ({ kind: 'kill-instance', nodeId, atMs, stabilityMs: 2_000 });
const plan = (steps: Fault[], extra: Partial<GameDayPlan> = {}): GameDayPlan => ({ name: 'fis-test', targetTags: { env: 'staging' }, steps, ...extra });

async function staging(o: { experimentActions?: readonly string[]; apiRoleArns?: readonly string[] } = {}): Promise<{ sim: Simulation; spec: ClusterSpec; engine: FisEngine; alarmArn: string }> {
  const sim = createSimulation({ seed: 12, profile: 'fast' });
  const spec = defineCluster({ ...simulatedClusterInput({ nodes: 5, name: 'gd' }), tags: { env: 'staging' } });
  const opts = { region: spec.region, accountId: ACCT, clusterName: spec.name, experimentRoleArn: ROLE };
  // The controller may also run game-days on its cluster: the caller policy appended to its own.
  sim.account.transformPolicies((role, doc) => {
    if (role !== 'controller') return doc;
    const d = doc as { Version: string; Statement: unknown[] };
    return { ...d, Statement: [...d.Statement, ...fisCallerPolicy(opts).Statement, { Sid: 'Alarms', Effect: 'Allow', Action: ['cloudwatch:PutMetricAlarm', 'cloudwatch:SetAlarmState'], Resource: '*' }] };
  });
  sim.account.setRolePolicies('berth-fis', { fis: fisExperimentRolePolicy(o.experimentActions ?? ['aws:ec2:terminate-instances'], { ...opts, ...(o.apiRoleArns && { apiRoleArns: o.apiRoleArns }) }) });
  await sim.run(async () => {
    await createController({ spec, driver: sim.driver, clock: sim.clock, holderId: 'setup' }).apply();
    while (!(sim.app.clusterHealthy() && spec.nodes.every((n) => sim.world.currentInstance(n.id)?.lifecycleState === 'InService'))) await sim.clock.sleep(1_000);
  });
  await sim.run(() => sim.aws.cloudWatch.send(new PutMetricAlarmCommand({ AlarmName: 'gd-errors', MetricName: 'Errors', Namespace: 'App', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' })));
  const engine = createFisEngine({ region: spec.region, clients: { fis: sim.aws.fis, cloudWatch: sim.aws.cloudWatch } });
  return { sim, spec, engine, alarmArn: `arn:aws:cloudwatch:${spec.region}:${ACCT}:alarm:gd-errors` };
}

/** Terminated (the world forgets a terminated instance after a while). */
const terminated = (sim: Simulation, id: string): boolean => {
  const i = sim.world.instance(id);
  return i === null || i === undefined || /^Terminat/.test(i.lifecycleState);
};

describe('FIS game-days (simulated AWS)', () => {
  it('terminates the right node at the right time through FIS, and the cluster recovers', async () => {
    const { sim, spec, engine, alarmArn } = await staging();
    const first = sim.world.currentInstance('gd-2')!.id;
    const second = sim.world.currentInstance('gd-4')!.id;
    const r = await sim.run(async () => {
      const t0 = sim.clock.now();
      const p = runGameDay(plan([kill('gd-2', 0), kill('gd-4', 120_000)]), { spec, driver: sim.driver, clock: sim.clock, injector: { name: 'unused', supports: () => false, inject: () => Promise.reject(new Error('unused')) }, fis: { engine, roleArn: ROLE, stopAlarmArns: [alarmArn], pollMs: 5_000 } });
      // gd-4 is still up a little before +2 min; gd-2 went at the start.
      await sim.clock.sleep(110_000);
      expect(terminated(sim, first)).toBe(true);
      expect(terminated(sim, second)).toBe(false);
      const out = await p;
      expect(sim.clock.now() - t0).toBeGreaterThanOrEqual(120_000);
      return out;
    });
    expect(r.stopped).toBeNull();
    expect(r.fis?.status).toBe('completed');
    expect(r.actions.map((a) => a.status)).toEqual(['injected', 'injected']);
    expect(terminated(sim, second)).toBe(true);
    const fisKills = sim.trace.filter((e) => e.kind === 'fis.action-started' && e['actionId'] === 'aws:ec2:terminate-instances');
    expect(fisKills.length).toBe(2);
    // The groups replace both nodes: the cluster is whole again.
    await sim.run(async () => {
      while (!(sim.app.clusterHealthy() && spec.nodes.every((n) => sim.world.currentInstance(n.id)?.lifecycleState === 'InService'))) await sim.clock.sleep(2_000);
    });
    expect(sim.world.currentInstance('gd-2')!.id).not.toBe(first);
  });

  it('a stop-condition alarm in ALARM stops the experiment, and the report says so', async () => {
    const { sim, spec, engine, alarmArn } = await staging();
    const second = sim.world.currentInstance('gd-4')!.id;
    const r = await sim.run(async () => {
      const p = runGameDay(plan([kill('gd-2', 0), kill('gd-4', 120_000)]), { spec, driver: sim.driver, clock: sim.clock, injector: { name: 'unused', supports: () => false, inject: () => Promise.reject(new Error('unused')) }, fis: { engine, roleArn: ROLE, stopAlarmArns: [alarmArn] } });
      await sim.clock.sleep(60_000);
      await sim.aws.cloudWatch.send(new SetAlarmStateCommand({ AlarmName: 'gd-errors', StateValue: 'ALARM', StateReason: 'errors up' }));
      return p;
    });
    expect(r.stopped?.reason).toBe('stop-condition');
    expect(r.stopped?.detail).toContain('gd-errors');
    expect(r.fis?.status).toBe('stopped');
    expect(r.actions.map((a) => a.status)).toEqual(['injected', 'not-reached']);
    expect(terminated(sim, second)).toBe(false);
  });

  it('the kill switch stops the experiment', async () => {
    const { sim, spec, engine } = await staging();
    const second = sim.world.currentInstance('gd-4')!.id;
    const killSwitch = new AbortController();
    const r = await sim.run(async () => {
      const p = runGameDay(plan([kill('gd-2', 0), kill('gd-4', 120_000)]), { spec, driver: sim.driver, clock: sim.clock, signal: killSwitch.signal, injector: { name: 'unused', supports: () => false, inject: () => Promise.reject(new Error('unused')) }, fis: { engine, roleArn: ROLE } });
      await sim.clock.sleep(30_000);
      killSwitch.abort();
      return p;
    });
    expect(r.stopped?.reason).toBe('kill-switch');
    expect(r.fis?.status).toBe('stopped');
    expect(terminated(sim, second)).toBe(false);
  });

  it('an invariant violation seen while it runs stops the experiment; a dry run only builds the template', async () => {
    const { sim, spec, engine } = await staging();
    const second = sim.world.currentInstance('gd-4')!.id;
    let broken = false;
    const injector = { name: 'unused', supports: () => false, inject: () => Promise.reject(new Error('unused')) };
    const r = await sim.run(async () => {
      const p = runGameDay(plan([kill('gd-2', 0), kill('gd-4', 120_000)]), { spec, driver: sim.driver, clock: sim.clock, injector, violations: () => (broken ? [{ invariant: 'quorum-safety', atMs: 0, nodeId: null, message: 'lost quorum' }] : []), fis: { engine, roleArn: ROLE } });
      await sim.clock.sleep(40_000);
      broken = true;
      return p;
    });
    expect(r.stopped).toMatchObject({ reason: 'invariant-violation', detail: '[quorum-safety] lost quorum' });
    expect(r.stopped!.atMs).toBeLessThan(60_000);
    expect(r.fis?.status).toBe('stopped');
    expect(terminated(sim, second)).toBe(false);
    const dry = await sim.run(() => runGameDay(plan([kill('gd-2', 0)]), { spec, driver: sim.driver, clock: sim.clock, injector, dryRun: true, fis: { engine, roleArn: ROLE } }));
    expect(dry.actions.map((a) => a.status)).toEqual(['would-inject']);
    expect(dry.fis?.template.actions['step-1-kill-instance']?.actionId).toBe('aws:ec2:terminate-instances');
    expect(dry.fis?.experimentId).toBeNull();
  });

  it('a node step about to start with the quorum margin too low stops the experiment (quorum at risk, watched between FIS steps)', async () => {
    const { sim, spec, engine } = await staging();
    const second = sim.world.currentInstance('gd-3')!.id;
    // Replacements boot slowly: gd-1 is still down when gd-3's step comes.
    sim.faults.markImageSlow(spec.image, 100);
    const injector = { name: 'unused', supports: () => false, inject: () => Promise.reject(new Error('unused')) };
    const r = await sim.run(() => runGameDay(plan([kill('gd-1', 0), kill('gd-3', 60_000)]), { spec, driver: sim.driver, clock: sim.clock, injector, minQuorumMargin: 2, fis: { engine, roleArn: ROLE } }));
    expect(r.stopped?.reason).toBe('quorum-at-risk');
    expect(r.stopped!.atMs).toBeLessThan(60_000);
    expect(r.actions.map((a) => a.status)).toEqual(['injected', 'not-reached']);
    expect(terminated(sim, second)).toBe(false);
  });

  it('API throttling through FIS: the experiment role may inject only into EC2 calls of the roles its policy names', async () => {
    const controller = `arn:aws:iam::${ACCT}:role/berth-controller`;
    const step: Fault = { kind: 'api-throttle', rate: 0.01, durationMs: 60_000, atMs: 0, stabilityMs: 0 };
    const injector = { name: 'unused', supports: () => false, inject: () => Promise.reject(new Error('unused')) };
    {
      const { sim, spec, engine } = await staging({ experimentActions: ['aws:fis:inject-api-throttle-error'], apiRoleArns: [controller] });
      const r = await sim.run(() => runGameDay(plan([step]), { spec, driver: sim.driver, clock: sim.clock, injector, fis: { engine, roleArn: ROLE, apiRoleArn: controller } }));
      expect(r.stopped).toBeNull();
      expect(sim.trace.some((e) => e.kind === 'fault.api-errors' && e['code'] === 'throttle' && e['rate'] === 0.01)).toBe(true);
    }
    {
      // The policy names another role: fis:Targets does not match, the experiment fails.
      const { sim, spec, engine } = await staging({ experimentActions: ['aws:fis:inject-api-throttle-error'], apiRoleArns: [`arn:aws:iam::${ACCT}:role/other`] });
      const r = await sim.run(() => runGameDay(plan([step]), { spec, driver: sim.driver, clock: sim.clock, injector, fis: { engine, roleArn: ROLE, apiRoleArn: controller } }));
      expect(r.stopped?.reason).toBe('experiment-failed');
      expect(r.fis?.reason).toMatch(/fis:InjectApiThrottleError/);
      expect(sim.trace.some((e) => e.kind === 'fault.api-errors')).toBe(false);
    }
  });

  it('refuses bad input before any call', async () => {
    const { sim, spec, engine } = await staging();
    let calls = 0;
    sim.onApiCall((c) => {
      if (c.service === 'fis' || c.service === 'cloudwatch') calls++;
    });
    const run = (p: GameDayPlan, fis: Partial<Parameters<typeof runGameDay>[1]['fis']> = {}) =>
      sim.run(() => runGameDay(p, { spec, driver: sim.driver, clock: sim.clock, injector: { name: 'x', supports: () => true, inject: async () => ({}) }, fis: { engine, roleArn: ROLE, ...fis } }));
    await expect(run(plan([kill('gd-2', 0)]), { roleArn: 'berth-fis' })).rejects.toMatchObject({ name: 'FisTemplateError', field: 'roleArn' });
    await expect(run(plan([kill('gd-2', 0)]), { stopAlarmArns: ['arn:aws:sns:eu-west-1:123456789012:topic'] })).rejects.toMatchObject({ field: 'stopAlarmArns[0]' });
    await expect(run(plan([kill('gd-2', 0), kill('gd-4', 30_000)]))).rejects.toMatchObject({ field: 'steps[1].atMs' });
    await expect(run(plan([{ kind: 'slow-boot', factor: 3, durationMs: 60_000, atMs: 0, stabilityMs: 0 }]))).rejects.toMatchObject({ code: 'UNSUPPORTED_FAULT', field: 'steps[0].kind' });
    await expect(run(plan([kill('gd-2', 0)], { targetTags: { env: 'prod' } }))).rejects.toBeInstanceOf(GameDayError);
    // A stop-condition alarm that does not exist: refused by the engine before the template is made.
    await expect(run(plan([kill('gd-2', 0)]), { stopAlarmArns: [`arn:aws:cloudwatch:${spec.region}:${ACCT}:alarm:missing`] })).rejects.toMatchObject({ code: 'ALARM_NOT_FOUND' });
    expect(calls).toBe(1); // the DescribeAlarms of the last one, nothing else
    expect(() => fisExperimentTemplate(plan(Array.from({ length: 21 }, (_, i) => kill('gd-2', i * 60_000))), { spec, roleArn: ROLE })).toThrow(FisTemplateError);
  });

  it('the experiment fails when its role lacks a permission (IAM denial), and the report says why', async () => {
    const { sim, spec, engine } = await staging({ experimentActions: ['aws:ec2:send-spot-instance-interruptions'] });
    const first = sim.world.currentInstance('gd-2')!.id;
    const r = await sim.run(() => runGameDay(plan([kill('gd-2', 0)]), { spec, driver: sim.driver, clock: sim.clock, injector: { name: 'x', supports: () => true, inject: async () => ({}) }, fis: { engine, roleArn: ROLE } }));
    expect(r.stopped?.reason).toBe('experiment-failed');
    expect(r.fis?.reason).toMatch(/not authorized to perform: ec2:TerminateInstances/);
    expect(terminated(sim, first)).toBe(false);
    expect(sim.account.iamDenials().some((d) => d.action === 'ec2:TerminateInstances' && d.principalArn.includes('berth-fis'))).toBe(true);
  });
});
