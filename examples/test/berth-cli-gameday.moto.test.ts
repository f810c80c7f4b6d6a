// `berth-cli gameday` through the AWS driver on the local emulator (moto, 127.0.0.1): a
// game-day with its report, the kill switch as an SSM parameter, and the report format the same
// as a rehearsal's in the simulator. Moto relaunches at once and runs no bootstrap (no phase
// tags): the lanes show what its observations show.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { DeleteExperimentTemplateCommand, FisClient } from '@aws-sdk/client-fis';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { ReportData } from '@berth/chaos';
import { simulatedClusterInput } from '@berth/sim-driver';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { clientConfig, clusterInput, useMotoWorld } from '../../packages/aws-driver/test/support/aws-fixture.js';
import { EXIT, main } from '../berth-cli.js';

const aws = useMotoWorld({ nodes: 3, provision: true, fresh: 'manual' });
const AWS_ENV = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_EC2_METADATA_DISABLED: 'true' };
const dir = mkdtempSync(join(tmpdir(), 'berth-cli-gameday-moto-'));
const file = (name: string, content: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(content));
  return p;
};

beforeAll(() => aws.fresh(), 60_000);
beforeEach(() => {
  for (const [k, v] of Object.entries(AWS_ENV)) vi.stubEnv(k, v);
  return () => void vi.unstubAllEnvs();
});

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdout: { write: (s: string) => ((stdout += s), true) }, stderr: { write: (s: string) => ((stderr += s), true) }, env: {} });
  return { code, stdout, stderr };
}
const onMoto = () => ['--endpoint', aws.moto.endpoint, '--emulator', 'moto', '--poll', '1s'];
const kill = (nodeId: string, atMs: number) => ({ kind: 'kill-instance', nodeId, atMs, stabilityMs: 500 });

/** A JSON value's shape: object keys (sorted) with their values' shapes, an array's element shape, a primitive's type; null is any shape. */
type Shape = string | { readonly [k: string]: Shape } | readonly Shape[];
function shape(v: unknown): Shape {
  if (v === null) return 'any';
  if (Array.isArray(v)) return v.length === 0 ? [] : [shape(v[0])];
  if (typeof v === 'object') return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]));
  return typeof v;
}
/** Same keys at every level; where either side is null or an empty list, any shape. */
function sameShape(a: Shape, b: Shape, path = ''): string[] {
  if (a === 'any' || b === 'any' || (Array.isArray(a) && a.length === 0) || (Array.isArray(b) && b.length === 0)) return [];
  if (typeof a === 'string' || typeof b === 'string') return a === b ? [] : [`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
  if (Array.isArray(a) !== Array.isArray(b)) return [`${path}: list vs object`];
  if (Array.isArray(a)) return sameShape(a[0] as Shape, (b as readonly Shape[])[0] as Shape, `${path}[]`);
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.flatMap((k) => (k in a && k in b ? sameShape((a as Record<string, Shape>)[k]!, (b as Record<string, Shape>)[k]!, `${path}.${k}`) : [`${path}.${k}: only on one side`]));
}

describe('berth-cli gameday on moto', () => {
  it('runs a game-day through the AWS driver; its report has the format of a rehearsal in the simulator', async () => {
    const spec = file('kafka.json', clusterInput(aws.world, 3));
    const plan = file('plan.json', { name: 'broker loss', targetTags: { team: 'data' }, steps: [kill('n2', 0)] });
    const out = join(dir, 'aws');
    const r = await cli('gameday', plan, '--spec', spec, ...onMoto(), '--report', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/^Game-day 'broker loss' on kafka: 1 of 1 steps injected in \S+; ran to the end\n {2}\+0s {5}kill-instance {2}node n2 +injected\n/);
    const onAws = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ReportData;
    expect(onAws).toMatchObject({ source: 'live', ok: true, target: `AWS us-east-1 at ${aws.moto.endpoint}`, faults: [{ kind: 'kill-instance', detail: '+0s kill-instance n2' }] });
    expect(onAws.nodes.map((n) => n.nodeId)).toEqual(['n1', 'n2', 'n3']);

    // The same plan rehearsed in the simulator, on a cluster of the same shape.
    const simSpec = file('kafka-sim.json', { ...simulatedClusterInput({ nodes: 3, name: 'kafka' }), tags: { team: 'data' } });
    const simPlan = file('plan-sim.json', { name: 'broker loss', targetTags: { team: 'data' }, steps: [kill('kafka-2', 0)] });
    const rehearsal = await cli('gameday', simPlan, '--spec', simSpec, '--sim', '--sim-profile', 'fast', '--poll', '1s', '--report', join(dir, 'sim'), '-q');
    expect(rehearsal.code).toBe(EXIT.ok);
    const inSim = JSON.parse(readFileSync(join(dir, 'sim', 'report.json'), 'utf8')) as ReportData;

    expect(sameShape(shape(inSim), shape(onAws))).toEqual([]);
    expect(Object.keys(onAws).sort()).toEqual(Object.keys(inSim).sort());
    for (const d of [inSim, onAws]) {
      expect(d.source).toBe('live');
      expect(d.nodes).toHaveLength(3); // one lane per node
      expect(d.origin).toBe('the game-day started');
    }
    // Rendered by the one renderer: the same sections, in the same order.
    const sections = (html: string) => [...html.matchAll(/<(h2|p id="[a-z]+")/g)].map((m) => m[1]);
    expect(sections(readFileSync(join(out, 'report.html'), 'utf8'))).toEqual(sections(readFileSync(join(dir, 'sim', 'report.html'), 'utf8')));
  }, 30_000);

  it("stops when the kill-switch SSM parameter says 'stop'; the report is still written and says so (exit 6)", async () => {
    const ssm = new SSMClient(clientConfig(aws.moto.endpoint));
    try {
      await ssm.send(new PutParameterCommand({ Name: '/gameday/kill', Value: 'go', Type: 'String', Overwrite: true }));
      const spec = file('kafka.json', clusterInput(aws.world, 3));
      const plan = file('plan3.json', { name: 'rolling loss', targetTags: { team: 'data' }, steps: [kill('n1', 0), kill('n2', 6_000), kill('n3', 12_000)] });
      const out = join(dir, 'killed');
      const running = cli('gameday', plan, '--spec', spec, ...onMoto(), '--report', out, '--kill-parameter', '/gameday/kill');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await ssm.send(new PutParameterCommand({ Name: '/gameday/kill', Value: 'stop', Type: 'String', Overwrite: true }));
      const r = await running;
      expect(r.code).toBe(EXIT.gameDayStopped);
      expect(r.stdout).toMatch(/^Game-day 'rolling loss' on kafka: 1 of 3 steps injected in \S+; stopped at \+\ds: kill-switch \(SSM parameter \/gameday\/kill is 'stop'\)\n/);
      expect(r.stderr).toMatch(/error GAME_DAY_STOPPED: .*1 of 3 steps injected/);
      const data = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ReportData;
      expect(data.stopped).toMatchObject({ reason: 'kill-switch', detail: "SSM parameter /gameday/kill is 'stop'" });
      expect(data.faults.map((f) => f.detail)).toEqual(['+0s kill-instance n1']);

      // A parameter that cannot be read stops it before anything (a kill switch must work).
      const missing = await cli('gameday', plan, '--spec', spec, ...onMoto(), '--kill-parameter', '/gameday/none');
      expect(missing.code).toBe(EXIT.usage);
      expect(missing.stderr).toMatch(/not starting the game-day: cannot read the kill parameter \/gameday\/none: .*ParameterNotFound|not starting the game-day: cannot read the kill parameter \/gameday\/none/);
    } finally {
      ssm.destroy();
    }
  }, 30_000);

  // moto 5.2.1 stores FIS templates (CreateExperimentTemplate, DeleteExperimentTemplate) but has
  // no experiments: StartExperiment answers with an HTML 404 page. So on moto a FIS game-day's
  // template is made (and checked here) and the run then stops, saying why; runs are tested on
  // the simulator's FIS (berth-cli-gameday.test.ts).
  it('--engine fis: the dry run prints the template; a run creates it through the endpoint, then fails clearly (moto has no experiments)', async () => {
    const ROLE = 'arn:aws:iam::123456789012:role/berth-fis';
    const ALARM = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:kafka-errors';
    const spec = file('kafka.json', clusterInput(aws.world, 3));
    const plan = file('plan-fis.json', { name: 'fis loss', targetTags: { team: 'data' }, steps: [kill('n2', 0), kill('n3', 120_000)] });
    const fis = ['--engine', 'fis', '--fis-role', ROLE, '--stop-alarm', ALARM];
    const dry = await cli('gameday', plan, '--spec', spec, ...onMoto(), ...fis, '--dry-run');
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(EXIT.ok);
    expect(dry.stdout).toMatch(/injector aws-fis:\n/);
    expect(dry.stdout).toContain(`  stop conditions: aws:cloudwatch:alarm ${ALARM}\nDry run: nothing was injected.\n`);

    // The alarm must exist before a template names it (checked with DescribeAlarms).
    const missing = await cli('gameday', plan, '--spec', spec, ...onMoto(), ...fis);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toMatch(/^error USAGE: --stop-alarm: CloudWatch has no alarm arn:aws:cloudwatch:us-east-1:123456789012:alarm:kafka-errors/);

    const cw = new CloudWatchClient(clientConfig(aws.moto.endpoint));
    const client = new FisClient(clientConfig(aws.moto.endpoint));
    try {
      await cw.send(new PutMetricAlarmCommand({ AlarmName: 'kafka-errors', MetricName: 'Errors', Namespace: 'App', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' }));
      const r = await cli('gameday', plan, '--spec', spec, ...onMoto(), ...fis, '--report', join(dir, 'fis'));
      expect(r.code).toBe(EXIT.error);
      expect(r.stdout).toBe('');
      const m = /^error FIS_UNAVAILABLE: moto has no FIS experiments \(StartExperiment is not implemented in moto 5\.2\.1\): template (\S+) was created, nothing was injected\. Rehearse the run in the simulator \(--sim\) or run it on AWS\.\n/.exec(r.stderr);
      expect(m, r.stderr).not.toBeNull();
      // The template moto stored (DeleteExperimentTemplate returns it): the plan's actions, the role, the alarm.
      const stored = (await client.send(new DeleteExperimentTemplateCommand({ id: m![1] }))).experimentTemplate!;
      expect(stored.roleArn).toBe(ROLE);
      expect(stored.stopConditions).toEqual([{ source: 'aws:cloudwatch:alarm', value: ALARM }]);
      expect(Object.values(stored.actions ?? {}).map((a) => a.actionId).sort()).toEqual(['aws:ec2:terminate-instances', 'aws:ec2:terminate-instances', 'aws:fis:wait']);
      expect(stored.tags).toMatchObject({ 'berth:cluster': 'kafka' });
    } finally {
      cw.destroy();
      client.destroy();
    }
  }, 30_000);
});
