// `berth-cli gameday` against a simulated AWS account (--sim), in this process: the dry run,
// a run that writes the timeline report, the kill file, and plans refused before anything runs.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import type { GameDayReport, ReportData } from '@berth/chaos';
import { CONTROLLER_ROLE, simulatedClusterInput, type Simulation } from '@berth/sim-driver';
import { describe, expect, it } from 'vitest';
import { EXIT, main, type CliIo } from '../berth-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-cli-gameday-'));
const file = (name: string, content: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
};
const SPEC = file('kafka.json', { ...simulatedClusterInput({ nodes: 3, name: 'kafka' }), tags: { env: 'staging' } });
const kill = (nodeId: string, atMs: number) => ({ kind: 'kill-instance', nodeId, atMs, stabilityMs: 30_000 });
const PLAN = file('plan.json', { name: 'broker loss', targetTags: { env: 'staging' }, steps: [kill('kafka-2', 0), kill('kafka-3', 60_000), kill('kafka-1', 120_000)] });
const SIM = ['--sim', '--sim-profile', 'fast', '--poll', '1s'];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}
async function cli(argv: string[], extra: Partial<CliIo> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { env: {}, ...extra, stdout: { write: (s: string) => ((stdout += s), true) }, stderr: { write: (s: string) => ((stderr += s), true) } });
  return { code, stdout, stderr };
}
const STACK = /\n\s+at .+:\d+:\d+/;

describe('berth-cli gameday --sim', () => {
  it('--dry-run prints each step with its target and the blast radius against the tolerance; injects nothing', async () => {
    const az = file('az.json', { name: 'az loss', targetTags: { env: 'staging' }, steps: [{ kind: 'az-outage', azIndex: 0, durationMs: 60_000, atMs: 30_000 }] });
    const r = await cli(['gameday', PLAN, '--spec', SPEC, '--dry-run', ...SIM]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toBe(
      [
        "Game-day 'broker loss' on cluster kafka (3 nodes; tags env=staging match), injector driver(aws):",
        '  +0s     kill-instance  node kafka-2              would inject',
        '  +1m     kill-instance  node kafka-3              would inject',
        '  +2m     kill-instance  node kafka-1              would inject',
        'Blast radius: up to 1 node disrupted at once; the cluster tolerates 1 (quorum 2 of 3).',
        'Dry run: nothing was injected.',
        '',
      ].join('\n'),
    );
    // An AZ outage names its AZ and the nodes in it; the driver's injector cannot play it.
    const refused = await cli(['gameday', az, '--spec', SPEC, '--dry-run', ...SIM]);
    expect(refused.code).toBe(EXIT.checkFailed);
    expect(refused.stderr).toMatch(/^error UNSUPPORTED_FAULT: game-day 'az loss': injector driver\(aws\) cannot inject az-outage\n$/);
    const json = JSON.parse((await cli(['gameday', PLAN, '--spec', SPEC, '--dry-run', '--json', ...SIM])).stdout) as { blastRadius: number; tolerance: number; actions: { status: string }[] };
    expect(json).toMatchObject({ blastRadius: 1, tolerance: 1, dryRun: true });
    expect(json.actions.map((a) => a.status)).toEqual(['would-inject', 'would-inject', 'would-inject']);
  });

  it('runs the plan and writes report.json and report.html, recorded live', async () => {
    const out = join(dir, 'run');
    const r = await cli(['gameday', PLAN, '--spec', SPEC, ...SIM, '--report', out]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/^Game-day 'broker loss' on kafka: 3 of 3 steps injected in \S+; ran to the end\n/);
    expect(r.stdout).toMatch(/ {2}\+1m {5}kill-instance {2}node kafka-3 +injected\n/);
    expect(r.stdout).toContain(`Report: ${join(out, 'report.html')} (timeline), ${join(out, 'report.json')}`);
    const data = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ReportData;
    expect(data).toMatchObject({ source: 'live', ok: true, stopped: null, origin: 'the game-day started', target: expect.stringMatching(/^simulator \(seed 42, fast profile/) });
    expect(data.faults.map((f) => [f.kind, f.detail])).toEqual([
      ['kill-instance', '+0s kill-instance kafka-2'],
      ['kill-instance', '+1m kill-instance kafka-3'],
      ['kill-instance', '+2m kill-instance kafka-1'],
    ]);
    expect(data.faults.map((f) => Math.round(f.atMs / 1000))).toEqual([0, 60, 120]);
    // Each killed node's lane leaves in-service after its fault and is back by the end.
    for (const [i, n] of data.nodes.entries()) {
      const fault = data.faults.find((f) => f.detail.endsWith(n.nodeId))!;
      const out = n.segments.find((s) => s.state !== 'in-service');
      expect(out, n.nodeId).toBeDefined();
      expect(out!.fromMs, n.nodeId).toBeGreaterThanOrEqual(fault.atMs);
      expect(n.segments.at(-1)!.state, `lane ${i}`).toBe('in-service');
    }
    expect(Math.min(...data.quorumMargin.map((m) => m.margin))).toBe(0);
    expect(data.resolution!.observations).toBeGreaterThan(50);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain("<h1>Game-day 'broker loss' on kafka</h1>");
    expect(html).toContain('time since the game-day started');
  }, 20_000);

  it('a kill file stops it mid-way: the report is written and says kill-switch; exit 6', async () => {
    const out = join(dir, 'killed');
    const stopFile = join(dir, 'STOP');
    const r = await cli(['gameday', PLAN, '--spec', SPEC, ...SIM, '--report', out, '--kill-file', stopFile], {
      // 30 s into the game-day (virtual time), the operator touches the file.
      onSimulation: (sim) => void sim.clock.sleep(30_000).then(() => writeFileSync(stopFile, '')),
    });
    expect(r.code).toBe(EXIT.gameDayStopped);
    expect(r.stdout).toMatch(/^Game-day 'broker loss' on kafka: 1 of 3 steps injected in \S+; stopped at \+3\ds: kill-switch \(kill file .*STOP exists\)\n/);
    expect(r.stdout).toMatch(/node kafka-3 +not reached\n/);
    expect(r.stderr).toMatch(/kill switch: kill file .*STOP exists; stopping the game-day\n/);
    expect(r.stderr).toMatch(/\nerror GAME_DAY_STOPPED: The game-day stopped at \+3\ds: kill-switch \(kill file .*STOP exists\); 1 of 3 steps injected\.\n$/);
    const data = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ReportData;
    expect(data.stopped).toMatchObject({ reason: 'kill-switch', detail: expect.stringMatching(/kill file .*STOP exists/) });
    expect(data.ok).toBe(false);
    expect(data.faults).toHaveLength(1);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/Stopped at \+3\ds: kill-switch/);
    // A kill switch already set stops it before anything.
    const again = await cli(['gameday', PLAN, '--spec', SPEC, ...SIM, '--kill-file', stopFile]);
    expect(again.code).toBe(EXIT.usage);
    expect(again.stderr).toMatch(/error USAGE: not starting the game-day: kill file .*STOP exists\.\n$/);
  }, 20_000);

  it('an SSM parameter set to stop stops it: read through the simulated SSM (sim.aws.ssm), String type', async () => {
    const name = '/staging/gameday/kill';
    const r = await cli(['gameday', PLAN, '--spec', SPEC, ...SIM, '--kill-parameter', name], {
      onSimulation: (sim) => {
        sim.account.putParameter(name, 'run', { type: 'String' });
        void sim.clock.sleep(70_000).then(() => sim.account.putParameter(name, 'stop', { type: 'String' }));
      },
    });
    expect(r.code).toBe(EXIT.gameDayStopped);
    expect(r.stdout).toMatch(/^Game-day 'broker loss' on kafka: 2 of 3 steps injected in \S+; stopped at \+1m1\ds: kill-switch \(SSM parameter \/staging\/gameday\/kill is 'stop'\)/);
    // A parameter that cannot be read fails closed: nothing starts.
    const missing = await cli(['gameday', PLAN, '--spec', SPEC, ...SIM, '--kill-parameter', '/nowhere']);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toMatch(/not starting the game-day: .*\/nowhere/);
  }, 20_000);

  it('Ctrl-C stops it and the report is still written (exit 130)', async () => {
    const out = join(dir, 'interrupted');
    const interrupt = new AbortController();
    const r = await cli(['gameday', PLAN, '--spec', SPEC, ...SIM, '--report', out], {
      signal: interrupt.signal,
      onSimulation: (sim) => void sim.clock.sleep(70_000).then(() => interrupt.abort(new Error('interrupted (SIGINT)'))),
    });
    expect(r.code).toBe(EXIT.interrupted);
    expect(r.stdout).toMatch(/^Game-day 'broker loss' on kafka: 2 of 3 steps injected in \S+; stopped at \+1m1\ds: kill-switch \(Ctrl-C \(SIGINT\)\)\n/);
    const data = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ReportData;
    expect(data.stopped).toMatchObject({ reason: 'kill-switch', detail: 'Ctrl-C (SIGINT)' });
    expect(data.faults).toHaveLength(2);
  }, 20_000);

  it.each<[string, unknown, RegExp]>([
    ['an unknown node', { name: 'x', targetTags: { env: 'staging' }, steps: [kill('kafka-9', 0)] }, /steps\[0\]\.nodeId: no node "kafka-9" in cluster kafka \(its nodes: kafka-1, kafka-2, kafka-3\)/],
    ['a missing time', { name: 'x', targetTags: { env: 'staging' }, steps: [{ kind: 'kill-instance', nodeId: 'kafka-1' }] }, /steps\[0\]\.atMs: required/],
    ['an unknown kind', { name: 'x', targetTags: { env: 'staging' }, steps: [{ kind: 'meteor', atMs: 0 }] }, /steps\[0\]\.kind: unknown fault kind "meteor"/],
    ['a controller fault', { name: 'x', targetTags: { env: 'staging' }, steps: [{ kind: 'controller-crash', atMs: 0, restart: 'same-holder', downMs: 1 }] }, /steps\[0\]\.kind: controller-crash is played by chaos scenarios/],
    ['a misspelt field', { name: 'x', targetTags: { env: 'staging' }, steps: [{ kind: 'kill-instance', nodeID: 'kafka-1', atMs: 0 }] }, /steps\[0\]\.nodeID: unknown field for kill-instance/],
    ['no target tags', { name: 'x', targetTags: {}, steps: [kill('kafka-1', 0)] }, /targetTags: name at least one tag/],
    ['no steps', { name: 'x', targetTags: { env: 'staging' }, steps: [] }, /steps: required: a non-empty list/],
  ])('refuses a plan with %s, naming the field (exit 3, nothing run)', async (_what, plan, message) => {
    const r = await cli(['gameday', file('bad-plan.json', plan), '--spec', SPEC, ...SIM]);
    expect(r.code).toBe(EXIT.checkFailed);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error CONFIG_INVALID: Invalid game-day plan .*bad-plan\.json \(\d problems?\):\n/);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(STACK);
  });

  it('refuses a cluster without the target tags and a blast radius over the tolerance (exit 3), and usage errors (exit 2)', async () => {
    const other = file('prod.json', { name: 'x', targetTags: { env: 'production' }, steps: [kill('kafka-1', 0)] });
    const wide = file('wide.json', { name: 'wide', targetTags: { env: 'staging' }, steps: [kill('kafka-1', 0), kill('kafka-2', 10_000)] });
    const [noTarget, radius, noSpec, poll] = await Promise.all([
      cli(['gameday', other, '--spec', SPEC, ...SIM]),
      cli(['gameday', wide, '--spec', SPEC, ...SIM]),
      cli(['gameday', PLAN, ...SIM]),
      cli(['gameday', PLAN, '--spec', SPEC, '--sim', '--poll', '100ms']),
    ]);
    expect(noTarget.code).toBe(EXIT.checkFailed);
    expect(noTarget.stderr).toMatch(/^error NO_TARGET: game-day 'x': cluster kafka does not carry the tags env=production; refusing to touch it\n$/);
    expect(radius.code).toBe(EXIT.checkFailed);
    expect(radius.stderr).toMatch(/^error BLAST_RADIUS: game-day 'wide' disrupts up to 2 nodes at once; cluster kafka tolerates 1\./);
    expect(noSpec).toMatchObject({ code: EXIT.usage, stderr: expect.stringMatching(/gameday needs the spec of the cluster it targets: --spec SPEC\.json/) });
    expect(poll).toMatchObject({ code: EXIT.usage, stderr: expect.stringMatching(/--poll must be from 1s to 1m; got '100ms'/) });
    expect(existsSync(join(dir, 'run-none'))).toBe(false);
  });
});

describe('berth-cli gameday --engine fis --sim (the simulator\'s FIS)', () => {
  const ROLE = 'arn:aws:iam::123456789012:role/berth-fis';
  const REGION = (JSON.parse(readFileSync(SPEC, 'utf8')) as { region: string }).region;
  const ALARM = `arn:aws:cloudwatch:${REGION}:123456789012:alarm:kafka-errors`;
  const FIS = ['--engine', 'fis', '--fis-role', ROLE];
  /** Terminated, or already forgotten by the world. */
  const gone = (sim: Simulation, id: string) => !/^(Pending|InService)/.test(sim.world.instance(id)?.lifecycleState ?? 'Terminated');

  it('--dry-run prints the steps, the blast radius and the FIS template; --json has the template; nothing is created', async () => {
    const r = await cli(['gameday', PLAN, '--spec', SPEC, '--dry-run', ...SIM, ...FIS, '--stop-alarm', ALARM]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toContain("Game-day 'broker loss' on cluster kafka (3 nodes; tags env=staging match), injector aws-fis:\n  +0s     kill-instance  node kafka-2              would inject\n");
    expect(r.stdout).toContain(`FIS experiment template (created by a run, not by the dry run); FIS acts as ${ROLE}:\n  actions:\n`);
    expect(r.stdout.match(/ aws:ec2:terminate-instances /g)).toHaveLength(3);
    expect(r.stdout).toMatch(/\n {2}targets:\n {4}\S+ +aws:ec2:instance {2}/);
    expect(r.stdout).toContain(`  stop conditions: aws:cloudwatch:alarm ${ALARM}\nDry run: nothing was injected.\n`);
    const json = JSON.parse((await cli(['gameday', PLAN, '--spec', SPEC, '--dry-run', '--json', ...SIM, ...FIS])).stdout) as GameDayReport;
    expect(json.fis).toMatchObject({ templateId: null, experimentId: null, template: { roleArn: ROLE, stopConditions: [{ source: 'none' }] } });
    expect(Object.values(json.fis!.template.actions).filter((a) => a.actionId === 'aws:ec2:terminate-instances')).toHaveLength(3);
  });

  it('runs the plan as one FIS experiment: kills at the right times, the faults in the live report, exit 0', async () => {
    const out = join(dir, 'fis-run');
    const ids: Record<string, string> = {};
    const seen: Record<string, boolean[]> = {};
    const r = await cli(['gameday', PLAN, '--spec', SPEC, ...SIM, ...FIS, '--report', out], {
      onSimulation: (sim) => {
        for (const n of ['kafka-1', 'kafka-2', 'kafka-3']) ids[n] = sim.world.currentInstance(n)!.id;
        // Just before +1 min and +2 min: kafka-3 is still up at +55 s, kafka-1 at +115 s.
        void sim.clock.sleep(55_000).then(() => (seen['55'] = ['kafka-2', 'kafka-3'].map((n) => gone(sim, ids[n]!))));
        void sim.clock.sleep(115_000).then(() => (seen['115'] = ['kafka-3', 'kafka-1'].map((n) => gone(sim, ids[n]!))));
      },
    });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(EXIT.ok);
    expect(seen).toEqual({ '55': [true, false], '115': [true, false] });
    expect(r.stdout).toMatch(/^Game-day 'broker loss' on kafka: 3 of 3 steps injected by fis \(experiment EXP\w+\) in \S+; ran to the end\n/);
    expect(r.stdout).toMatch(/\nFIS experiment EXP\w+ from template EXT\w+: completed \(Experiment completed\.\)\n/);
    const data = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ReportData;
    expect(data).toMatchObject({ source: 'live', ok: true, stopped: null });
    expect(data.notes.join('\n')).toMatch(/3 of 3 steps injected by fis \(experiment EXP\w+\)/);
    expect(data.faults.map((f) => f.detail.replace(/^\S+ /, ''))).toEqual(['kill-instance kafka-2', 'kill-instance kafka-3', 'kill-instance kafka-1']);
    // Recorded when FIS was seen running each action: within a poll (1 s) and FIS's start-up of the plan's times.
    for (const [i, f] of data.faults.entries()) expect(f.atMs - i * 60_000, f.detail).toBeGreaterThanOrEqual(0);
    for (const [i, f] of data.faults.entries()) expect(f.atMs - i * 60_000, f.detail).toBeLessThan(10_000);
  }, 20_000);

  it('a --stop-alarm going to ALARM at +60 s stops the experiment: exit 6, stop-condition, the report written', async () => {
    const out = join(dir, 'fis-alarm');
    const r = await cli(['gameday', PLAN, '--spec', SPEC, ...SIM, ...FIS, '--stop-alarm', ALARM, '--report', out], {
      onSimulation: async (sim) => {
        // The test's own calls go as the controller role: it may manage the alarm.
        sim.account.setRolePolicies(CONTROLLER_ROLE, { ...sim.account.rolePolicies(CONTROLLER_ROLE), testAlarms: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['cloudwatch:PutMetricAlarm', 'cloudwatch:SetAlarmState'], Resource: '*' }] } });
        await sim.aws.cloudWatch.send(new PutMetricAlarmCommand({ AlarmName: 'kafka-errors', MetricName: 'Errors', Namespace: 'App', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' }));
        void sim.clock.sleep(60_000).then(() => sim.aws.cloudWatch.send(new SetAlarmStateCommand({ AlarmName: 'kafka-errors', StateValue: 'ALARM', StateReason: 'errors up' })));
      },
    });
    expect(r.code).toBe(EXIT.gameDayStopped);
    expect(r.stdout).toMatch(/^Game-day 'broker loss' on kafka: 1 of 3 steps injected by fis \(experiment EXP\w+\) in \S+; stopped at \+1m(0\ds)?: stop-condition \(FIS stopped the experiment EXP\w+: .*kafka-errors.*\)\n/);
    expect(r.stdout).toMatch(/\nFIS experiment EXP\w+ from template EXT\w+: stopped \(.*kafka-errors.*\)\n/);
    expect(r.stderr).toMatch(/error GAME_DAY_STOPPED: The game-day stopped at \+1m(0\ds)?: stop-condition/);
    const data = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ReportData;
    expect(data.stopped).toMatchObject({ reason: 'stop-condition' });
    expect(data.faults.map((f) => f.kind)).toEqual(['kill-instance']);
    // An alarm CloudWatch does not have: refused, naming the flag, nothing injected.
    const missing = await cli(['gameday', PLAN, '--spec', SPEC, ...SIM, ...FIS, '--stop-alarm', ALARM.replace('kafka-errors', 'nope')]);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toMatch(/error USAGE: --stop-alarm: CloudWatch has no alarm arn:aws:cloudwatch:.*:alarm:nope/);
  }, 20_000);

  it('usage errors name the flag before anything runs (exit 2); faults FIS cannot play are refused (exit 3)', async () => {
    const stuck = file('stuck.json', { name: 'stuck', targetTags: { env: 'staging' }, steps: [{ kind: 'stuck-attach', nodeId: 'kafka-1', durationMs: 60_000, atMs: 0 }] });
    const throttle = file('throttle.json', { name: 'throttle', targetTags: { env: 'staging' }, steps: [{ kind: 'api-throttle', rate: 0.5, durationMs: 60_000, atMs: 0 }] });
    const cases: [string[], number, RegExp][] = [
      [['--fis-role', ROLE], EXIT.usage, /^error USAGE: --fis-role applies to --engine fis .*this game-day's engine is berth\.\n$/],
      [['--stop-alarm', ALARM, '--fis-api-role', ROLE], EXIT.usage, /^error USAGE: --stop-alarm, --fis-api-role apply to --engine fis/],
      [['--engine', 'fis'], EXIT.usage, /^error USAGE: --engine fis needs --fis-role ARN/],
      [['--engine', 'fis', '--fis-role', 'berth-fis'], EXIT.usage, /^error USAGE: --fis-role: not an IAM role ARN .*'berth-fis'\.\n$/],
      [[...FIS, '--stop-alarm', 'kafka-errors'], EXIT.usage, /^error USAGE: --stop-alarm: not a CloudWatch alarm ARN .*'kafka-errors'\.\n$/],
      [[...FIS, '--fis-api-role', 'arn:aws:iam::1:role/x'], EXIT.usage, /^error USAGE: --fis-api-role: not an IAM role ARN/],
      [[...FIS, '--stop-alarm', ALARM, '--stop-alarm', ALARM], EXIT.usage, /^error USAGE: --stop-alarm: the same alarm is given twice/],
    ];
    for (const [flags, code, message] of cases) {
      const r = await cli(['gameday', PLAN, '--spec', SPEC, '--dry-run', ...SIM, ...flags]);
      expect({ flags, code: r.code, stdout: r.stdout }).toEqual({ flags, code, stdout: '' });
      expect(r.stderr).toMatch(message);
    }
    const refused = await cli(['gameday', stuck, '--spec', SPEC, '--dry-run', ...SIM, ...FIS]);
    expect(refused.code).toBe(EXIT.checkFailed);
    expect(refused.stderr).toMatch(/^error UNSUPPORTED_FAULT: steps\[0\]\.kind: FIS has no action for stuck-attach; FIS plays kill-instance, /);
    const noApiRole = await cli(['gameday', throttle, '--spec', SPEC, '--dry-run', ...SIM, ...FIS]);
    expect(noApiRole.code).toBe(EXIT.usage);
    expect(noApiRole.stderr).toMatch(/^error USAGE: --fis-api-role: /);
  });
});
