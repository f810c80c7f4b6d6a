import { defineCluster } from '@berth/core';
import { simulatedClusterInput } from '@berth/sim-driver';
import { describe, expect, it } from 'vitest';
import { fisExperimentTemplate, FisTemplateError, isoDuration, parseIsoDuration, type Fault } from '../src/index.js';

const spec = defineCluster({ ...simulatedClusterInput({ nodes: 5, name: 'gd' }), tags: { env: 'staging' } });
const ROLE = 'arn:aws:iam::123456789012:role/berth-fis';
const API_ROLE = 'arn:aws:iam::123456789012:role/berth-controller';
const plan = (steps: Fault[]) => ({ name: 'unit', targetTags: { env: 'staging' }, steps });
const kill = (nodeId: string, atMs: number): Fault => ({ kind: 'kill-instance', nodeId, atMs, stabilityMs: 60_000 });
const err = (f: () => unknown): FisTemplateError => {
  try {
    f();
  } catch (e) {
    if (e instanceof FisTemplateError) return e;
    throw e;
  }
  throw new Error('expected a FisTemplateError');
};

describe('fisExperimentTemplate', () => {
  it('sequences steps with a chain of aws:fis:wait actions; steps at the same time start together', () => {
    const t = fisExperimentTemplate(plan([kill('gd-1', 0), kill('gd-2', 120_000), { kind: 'api-throttle', rate: 0.5, durationMs: 60_000, atMs: 120_000, stabilityMs: 0 }, kill('gd-3', 210_000)]), { spec, roleArn: ROLE, apiRoleArn: API_ROLE });
    const view = Object.fromEntries(Object.entries(t.actions).map(([k, a]) => [k, [a.actionId, a.startAfter ?? [], a.parameters?.['duration'] ?? null]]));
    expect(view).toEqual({
      'wait-until-2m': ['aws:fis:wait', [], 'PT2M'],
      'wait-until-210s': ['aws:fis:wait', ['wait-until-2m'], 'PT90S'],
      'step-1-kill-instance': ['aws:ec2:terminate-instances', [], null],
      'step-2-kill-instance': ['aws:ec2:terminate-instances', ['wait-until-2m'], null],
      'step-3-api-throttle': ['aws:fis:inject-api-throttle-error', ['wait-until-2m'], 'PT1M'],
      'step-4-kill-instance': ['aws:ec2:terminate-instances', ['wait-until-210s'], null],
    });
    expect(t.actions['step-3-api-throttle']?.parameters).toMatchObject({ service: 'ec2', percentage: '50' });
    expect(t.targets['step-3-targets']).toEqual({ resourceType: 'aws:iam:role', resourceArns: [API_ROLE], selectionMode: 'ALL' });
    expect(t.targets['step-2-targets']?.resourceTags).toEqual({ env: 'staging', 'berth:cluster': 'gd', 'berth:node': 'gd-2' });
    expect(t.stopConditions).toEqual([{ source: 'none' }]);
    expect(t.tags).toEqual({ 'berth:game-day': 'unit', 'berth:cluster': 'gd' });
    // The same plan gives the same client token (idempotent creation); another plan another.
    expect(fisExperimentTemplate(plan([kill('gd-1', 0)]), { spec, roleArn: ROLE }).clientToken).toBe(fisExperimentTemplate(plan([kill('gd-1', 0)]), { spec, roleArn: ROLE }).clientToken);
    expect(fisExperimentTemplate(plan([kill('gd-2', 0)]), { spec, roleArn: ROLE }).clientToken).not.toBe(fisExperimentTemplate(plan([kill('gd-1', 0)]), { spec, roleArn: ROLE }).clientToken);
  });

  it('maps each fault to its FIS action and target type; kill-instance as stop-instances on request', () => {
    const t = fisExperimentTemplate(plan([{ kind: 'spot-interruption', nodeId: 'gd-1', atMs: 0, stabilityMs: 0 }, { kind: 'api-5xx', rate: 0.001, durationMs: 120_000, atMs: 0, stabilityMs: 0 }]), { spec, roleArn: ROLE, apiRoleArn: API_ROLE });
    expect(t.actions['step-1-spot-interruption']).toMatchObject({ actionId: 'aws:ec2:send-spot-instance-interruptions', parameters: { durationBeforeInterruption: 'PT2M' }, targets: { SpotInstances: 'step-1-targets' } });
    expect(t.targets['step-1-targets']).toMatchObject({ resourceType: 'aws:ec2:spot-instance', filters: [{ path: 'State.Name', values: ['running'] }] });
    expect(t.actions['step-2-api-5xx']?.parameters).toMatchObject({ percentage: '1' });
    const stop = fisExperimentTemplate(plan([kill('gd-1', 0)]), { spec, roleArn: ROLE, killAs: 'stop' });
    expect(stop.actions['step-1-kill-instance']).toMatchObject({ actionId: 'aws:ec2:stop-instances', parameters: { startInstancesAfterDuration: 'PT1M' } });
  });

  it('refuses, naming the field, what FIS would refuse or could not play', () => {
    expect(err(() => fisExperimentTemplate(plan([kill('gd-1', 0)]), { spec, roleArn: 'arn:aws:iam::123:role/x' })).field).toBe('roleArn');
    expect(err(() => fisExperimentTemplate(plan([kill('gd-1', 0)]), { spec, roleArn: ROLE, stopAlarmArns: Array.from({ length: 6 }, (_, i) => `arn:aws:cloudwatch:${spec.region}:123456789012:alarm:a${i}`) })).code).toBe('QUOTA');
    expect(err(() => fisExperimentTemplate(plan([kill('gd-1', 0)]), { spec, roleArn: ROLE, region: 'us-east-1' })).field).toBe('region');
    expect(err(() => fisExperimentTemplate(plan([kill('gd-9', 0)]), { spec, roleArn: ROLE })).field).toBe('steps[0].nodeId');
    expect(err(() => fisExperimentTemplate(plan([kill('gd-1', 0), kill('gd-2', 59_000)]), { spec, roleArn: ROLE })).field).toBe('steps[1].atMs');
    expect(err(() => fisExperimentTemplate(plan([kill('gd-1', 0), kill('gd-2', 60_500)]), { spec, roleArn: ROLE })).field).toBe('steps[1].atMs');
    expect(err(() => fisExperimentTemplate(plan([{ kind: 'api-throttle', rate: 0.5, durationMs: 60_000, atMs: 0, stabilityMs: 0 }]), { spec, roleArn: ROLE })).field).toBe('apiRoleArn');
    expect(err(() => fisExperimentTemplate(plan([{ kind: 'api-throttle', rate: 0.5, durationMs: 30_000, atMs: 0, stabilityMs: 0 }]), { spec, roleArn: ROLE, apiRoleArn: API_ROLE })).field).toBe('steps[0].durationMs');
    const u = err(() => fisExperimentTemplate(plan([kill('gd-1', 0), { kind: 'stuck-attach', nodeId: 'gd-2', durationMs: 1, atMs: 0, stabilityMs: 0 }, { kind: 'bad-image', phase: 'mounting', reason: 'x', atMs: 0, stabilityMs: 0 }]), { spec, roleArn: ROLE }));
    expect(u.code).toBe('UNSUPPORTED_FAULT');
    expect(u.message).toMatch(/stuck-attach, bad-image/);
    // 21 actions (1 step at 0, 10 later steps, 10 waits) is over the quota of 20.
    expect(err(() => fisExperimentTemplate(plan(Array.from({ length: 11 }, (_, i) => kill(`gd-${(i % 5) + 1}`, i * 60_000))), { spec, roleArn: ROLE })).code).toBe('QUOTA');
  });

  it('a partition is a subnet cut only when the node is alone in its subnet', () => {
    const shared = defineCluster({ ...simulatedClusterInput({ nodes: 5, name: 'gd' }), tags: { env: 'staging' } });
    const node = shared.nodes[0]!;
    const alone = !shared.nodes.some((n) => n.id !== node.id && n.subnetId === node.subnetId);
    const p = plan([{ kind: 'partition', nodeId: node.id, durationMs: 60_000, atMs: 0, stabilityMs: 0 }]);
    if (alone) expect(fisExperimentTemplate(p, { spec: shared, roleArn: ROLE }).targets['step-1-targets']?.resourceArns).toEqual([`arn:aws:ec2:${shared.region}:123456789012:subnet/${node.subnetId}`]);
    else expect(err(() => fisExperimentTemplate(p, { spec: shared, roleArn: ROLE })).code).toBe('UNSUPPORTED_FAULT');
  });

  it('ISO 8601 durations', () => {
    expect(isoDuration(90_000)).toBe('PT90S');
    expect(isoDuration(7_200_000)).toBe('PT120M');
    expect(parseIsoDuration('PT1H30M5S')).toBe(5_405_000);
    expect(parseIsoDuration('P1D')).toBeNaN();
  });
});
