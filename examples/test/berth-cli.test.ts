// The example CLI's conventions, command by command: help with every default, --version, --json
// on stdout alone, exit codes, one-message errors, --sim. Most cases call the CLI's `main` in
// this process (fast); the last block runs it as a child process, where the conventions are
// about the process itself (exit status, what reaches stdout and stderr).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Controller, formatDuration, type ControllerEvents, type RollOptions, type RollReport } from '@berth/core';
import { simulatedClusterInput, type Simulation } from '@berth/sim-driver';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildProgram, EXIT, EXIT_CODES, main, VERSION_TEXT, type CliIo } from '../berth-cli.js';
import { parseDuration } from '../cli/duration.js';
import { holdApproval } from '../cli/hold-approval.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'berth-cli-'));
const file = (name: string, content: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
};
const input = simulatedClusterInput({ nodes: 3, name: 'kafka' });
const CURRENT = file('kafka.json', input);
const NEXT = file('kafka-next.json', { ...input, image: 'ami-0fedcba9876543210', dataVolume: { ...input.dataVolume, sizeGiB: 130 } });
const INVALID = file('bad.json', { ...input, instanceType: 'large', dataVolume: { ...input.dataVolume, sizeGiB: 0 } });
const BROKEN = file('broken.json', '{ nope');
const OTHER = file('other.json', simulatedClusterInput({ nodes: 3, name: 'zookeeper' }));

interface Sink {
  write(s: string): boolean;
  readonly isTTY?: boolean;
  readonly columns?: number;
  text(): string;
}
const sink = (tty = false): Sink => {
  const chunks: string[] = [];
  return { write: (s) => (chunks.push(s), true), ...(tty && { isTTY: true, columns: 120, rows: 40 }), text: () => chunks.join('') };
};

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}
async function cli(argv: string[], extra: Partial<CliIo> & { ttyStderr?: boolean } = {}): Promise<Run> {
  const stdout = sink();
  const stderr = sink(extra.ttyStderr);
  // Nothing may reach the process's own stdout (a stray console.log in the CLI or below it).
  const leaks = [vi.spyOn(process.stdout, 'write'), vi.spyOn(console, 'log'), vi.spyOn(console, 'info'), vi.spyOn(console, 'debug')];
  try {
    const code = await main(argv, { env: {}, ...extra, stdout, stderr });
    for (const leak of leaks) expect(leak).not.toHaveBeenCalled();
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  } finally {
    for (const leak of leaks) leak.mockRestore();
  }
}
/** Parses stdout whole: with --json it must be exactly one JSON document. */
const json = <T = Record<string, unknown>>(r: Run): T => JSON.parse(r.stdout) as T;
const STACK = /\n\s+at .+:\d+:\d+/;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('help and version', () => {
  it('--help on the program lists every command and the exit codes, on stdout, exit 0', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stderr).toBe('');
    for (const c of ['validate', 'iam-policy', 'init', 'preflight', 'plan', 'apply', 'status', 'roll']) expect(r.stdout).toMatch(new RegExp(`\\n  ${c} \\[options\\] <spec>`));
    for (const e of EXIT_CODES) expect(r.stdout).toContain(`${String(e.code).padStart(3)}  ${e.meaning}`);
  });

  it('--help on every command lists every option with its default', async () => {
    const program = buildProgram({ stdout: sink(), stderr: sink(), env: {} });
    expect(program.commands.length).toBe(11);
    for (const cmd of program.commands) {
      const r = await cli([cmd.name(), '--help']);
      expect(r.code, cmd.name()).toBe(EXIT.ok);
      const help = cmd.createHelp();
      for (const o of cmd.options) {
        expect(r.stdout, `${cmd.name()} ${o.flags}`).toContain(o.flags);
        if (o.long === '--help') continue;
        expect(help.optionDescription(o), `${cmd.name()} ${o.flags}`).toMatch(/default: \S/);
      }
      // The conventions hold on every command.
      expect(cmd.options.map((o) => o.long)).toEqual(expect.arrayContaining(['--json', '--sim']));
    }
  });

  it('--version prints the CLI version (examples/package.json) and @berth/core’s', async () => {
    const r = await cli(['--version']);
    const own = JSON.parse(readFileSync(join(root, 'examples/package.json'), 'utf8')) as { version: string };
    const core = JSON.parse(readFileSync(join(root, 'packages/core/package.json'), 'utf8')) as { version: string };
    expect(r).toEqual({ code: EXIT.ok, stdout: `berth-cli ${own.version} (@berth/core ${core.version})\n`, stderr: '' });
    expect(VERSION_TEXT).toBe(r.stdout.trim());
  });
});

describe('usage errors exit 2 with one message on stderr, before any cloud call', () => {
  it.each<[string, string[], RegExp]>([
    ['an unknown command', ['frobnicate'], /error: unknown command 'frobnicate'/],
    ['no command', [], /Usage: berth-cli/],
    ['a missing spec', ['plan'], /error: missing required argument 'spec'/],
    ['an extra argument', ['plan', CURRENT, 'extra'], /error: too many arguments for 'plan'/],
    ['an unknown option', ['plan', CURRENT, '--nope'], /error: unknown option '--nope'/],
    ['a bad number', ['roll', NEXT, '--max-unavailable', '0'], /--max-unavailable must be a whole number ≥ 1; got '0'/],
    ['a duration without a unit', ['roll', NEXT, '--bake', '5'], /--bake needs a unit: got '5'; write 5s, 5m or 5ms/],
    ['a duration that is not one', ['roll', NEXT, '--canary-hold', 'five minutes'], /--canary-hold must be a duration like 90s, 5m, 1h or 250ms/],
    ['a checkpoint out of range', ['roll', NEXT, '--checkpoint', '150'], /--checkpoint must be a percentage of the nodes to roll, from 1 to 99/],
    ['a value not among the choices', ['roll', NEXT, '--on-failure', 'retry'], /Allowed choices are rollback, hold/],
    ['--canary swallowing the spec file', ['roll', '--canary', NEXT], /--canary takes an optional node count .* Write the spec file before --canary/],
    ['--skip naming no node', ['roll', NEXT, '--skip', 'kafka-9'], /--skip kafka-9: no such node in cluster kafka \(its nodes: kafka-1, kafka-2, kafka-3\)/],
    ['a canary as big as the cluster', ['roll', NEXT, '--canary', '4'], /--canary 4: cluster kafka has 3 nodes/],
    ['a hold with nobody to approve it', ['roll', NEXT, '--checkpoint', '50'], /holds for approval \(--checkpoint\), and there is no terminal to ask at: pass --yes/],
    ['a canary hold with nobody to approve it', ['roll', NEXT, '--canary'], /holds for approval \(--canary without --canary-hold\)/],
    ['--sim with an endpoint', ['status', CURRENT, '--sim', '--endpoint', 'http://127.0.0.1:1'], /option '--endpoint <url>' cannot be used with option '--sim'/],
    ['a --sim-* flag (it implies --sim) with an endpoint', ['status', CURRENT, '--sim-seed', '7', '--endpoint', 'http://127.0.0.1:1'], /cannot be used with/],
    ['--sim-from of another cluster', ['status', CURRENT, '--sim-from', OTHER], /--sim-from .*other\.json describes cluster zookeeper in eu-west-1, not kafka/],
    ['a spec file that does not exist', ['validate', join(dir, 'missing.json')], /error USAGE: cannot read the spec file .*missing\.json: ENOENT/],
    ['an unknown simulated failure phase', ['roll', NEXT, '--sim-bad-image', 'dancing'], /Allowed choices are launching, attaching, mounting, configuring, joining/],
  ])('%s', async (_what, argv, message) => {
    const r = await cli(argv);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(STACK);
  });
});

describe('validate and iam-policy (no cloud call)', () => {
  it('validate says a valid spec is valid; --json gives the resolved spec', async () => {
    expect(await cli(['validate', CURRENT])).toEqual({ code: 0, stdout: `${CURRENT}: cluster kafka, 3 nodes in eu-west-1 — valid\n`, stderr: '' });
    const r = await cli(['validate', CURRENT, '--json', '--sim']);
    expect(json<{ valid: boolean; spec: { nodes: unknown[] } }>(r)).toMatchObject({ valid: true, spec: { name: 'kafka', nodes: expect.any(Array) } });
  });

  it('an invalid spec exits 3 with every problem and its path; --json lists the issues on stdout', async () => {
    const r = await cli(['validate', INVALID]);
    expect(r.code).toBe(EXIT.checkFailed);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error CONFIG_INVALID: Invalid cluster spec .*bad\.json \(2 problems\):\n {2}- instanceType: must be an EC2 instance type/);
    expect(r.stderr).toMatch(/\n {2}- dataVolume\.sizeGiB: /);
    expect(r.stderr).not.toMatch(STACK);
    const j = await cli(['validate', INVALID, '--json']);
    expect(j.code).toBe(EXIT.checkFailed);
    expect(json<{ valid: boolean; issues: { path: string }[] }>(j)).toMatchObject({ valid: false, issues: [{ path: 'instanceType' }, { path: 'dataVolume.sizeGiB' }] });
  });

  it('a spec file that is not JSON fails the check (3), naming the file', async () => {
    const r = await cli(['validate', BROKEN]);
    expect(r.code).toBe(EXIT.checkFailed);
    expect(r.stderr).toMatch(/error CONFIG_INVALID: Invalid cluster spec .*broken\.json \(1 problem\):\n {2}- \(root\): not valid JSON/);
  });

  it('BERTH_DEBUG=1 adds the stack trace', async () => {
    const r = await cli(['validate', INVALID], { env: { BERTH_DEBUG: '1' } });
    expect(r.code).toBe(EXIT.checkFailed);
    expect(r.stderr).toMatch(STACK);
  });

  it('iam-policy prints the policies scoped to the account, with or without --json', async () => {
    const r = await cli(['iam-policy', CURRENT, '--account', '123456789012']);
    const policy = json<{ controller: { Version: string }; node: { Statement: unknown[] } }>(r);
    expect(policy.controller.Version).toBe('2012-10-17');
    expect(JSON.stringify(policy.controller)).toContain('arn:aws:ec2:eu-west-1:123456789012:');
    expect(policy.node.Statement.length).toBeGreaterThan(0);
    expect((await cli(['iam-policy', CURRENT, '--account', '123456789012', '--json'])).stdout).toBe(r.stdout);
  });
});

describe('--sim: every cloud command against a simulated AWS account', () => {
  it('init creates the lock table; --json says what it made', async () => {
    const r = await cli(['init', CURRENT, '--sim', '--change-queue']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/^lock table berth-locks: (created|already there)\nchange queue berth-kafka-changes: ready/);
    expect(r.stderr).toMatch(/^simulation: seed 42, realistic profile, region eu-west-1; cluster kafka running \(3 nodes/);
    const j = json<{ lockTable: { tableName: string }; changeQueue: null }>(await cli(['init', CURRENT, '--sim', '--json']));
    expect(j).toMatchObject({ lockTable: { tableName: 'berth-locks' }, changeQueue: null });
  });

  it('preflight passes on the prepared account; --json is the report', async () => {
    const r = await cli(['preflight', CURRENT, '--sim', '--quiet']);
    expect(r).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(r.stdout).toMatch(/^Preflight passed: \d+ checks \(subnets, /);
    expect(json<{ ok: boolean }>(await cli(['preflight', CURRENT, '--sim', '--json', '-q']))).toMatchObject({ ok: true, problems: [] });
  });

  it('preflight problems exit 3 and list each with its path; plan, apply and roll stop before any change', async () => {
    // The controller's role may not create volumes: preflight's dry runs see it.
    const denyVolumes = (sim: Simulation) =>
      sim.account.setControllerPolicy({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: '*', Resource: '*' },
          { Effect: 'Deny', Action: 'ec2:CreateVolume', Resource: '*' },
        ],
      });
    const r = await cli(['preflight', CURRENT, '--sim', '--json', '-q'], { onSimulation: denyVolumes });
    expect(r.code).toBe(EXIT.checkFailed);
    const report = json<{ ok: boolean; problems: { check: string; path: string }[] }>(r);
    expect(report.ok).toBe(false);
    expect(r.stderr).toMatch(/^error PREFLIGHT_FAILED: Preflight found \d+ problems?; nothing was changed:\n {2}- .*\[permissions\]: .*CreateVolume/);
    let calls = 0;
    for (const cmd of ['plan', 'apply', 'roll']) {
      const x = await cli([cmd, NEXT, '--sim', '--sim-from', CURRENT, '-q'], {
        onSimulation: (sim) => {
          denyVolumes(sim);
          // Writes by the controller; preflight's dry runs (DryRun: true) change nothing.
          sim.onApiCall((c) => void (c.callerKind === 'controller' && c.input.DryRun !== true && /^(Create|Delete|Update|Terminate|Modify|Put|Change|Run)/.test(c.operation) && calls++));
        },
      });
      expect(x.code, cmd).toBe(EXIT.checkFailed);
      expect(x.stdout, cmd).toBe('');
      expect(x.stderr, cmd).toMatch(/^error PREFLIGHT_FAILED: /);
    }
    expect(calls).toBe(0);
  });

  it('plan prints formatPlan, --json the plan, and --detailed-exitcode exits 3 only with changes', async () => {
    const same = await cli(['plan', CURRENT, '--sim', '-q', '--detailed-exitcode']);
    expect(same).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(same.stdout).toMatch(/No changes\./);
    const r = await cli(['plan', NEXT, '--sim', '--sim-from', CURRENT, '-q']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/~ kafka-1 \(eu-west-1a\) instance will be replaced, batch 1\n\s+image\s+ami-0123456789abcdef0 → ami-0fedcba9876543210\n\s+dataVolume\.sizeGiB\s+100 → 130/);
    expect(r.stdout).toMatch(/Plan: 0 to create, 3 to replace in 3 batches/);
    const j = await cli(['plan', NEXT, '--sim', '--sim-from', CURRENT, '--json', '--skip', 'kafka-2', '--detailed-exitcode']);
    expect(j.code).toBe(EXIT.checkFailed);
    const plan = json<{ noChanges: boolean; schedule: { batches: { nodeIds: string[] }[] }; observation?: unknown }>(j);
    expect(plan.noChanges).toBe(false);
    expect(plan.schedule.batches.flatMap((b) => b.nodeIds).sort()).toEqual(['kafka-1', 'kafka-3']);
    expect(plan.observation).toBeUndefined();
    expect(j.stderr).toMatch(/error CHANGES_PENDING: The plan has changes \(--detailed-exitcode\)\.\n$/);
    const empty = await cli(['plan', CURRENT, '--sim', '--sim-from', 'empty', '-q']);
    expect(empty.stdout).toMatch(/Plan: 3 to create/);
  });

  it('apply says what it created, updated and resized; --json adds the summary', async () => {
    const created = await cli(['apply', CURRENT, '--sim', '--sim-from', 'empty', '-q']);
    expect(created.code).toBe(EXIT.ok);
    expect(created.stdout.match(/^\+ kafka-\d$/gm)).toHaveLength(3);
    expect(created.stdout.match(/^ {4}created auto-scaling-group berth-kafka-kafka-\d/gm)).toHaveLength(3);
    expect(created.stdout).toMatch(/Apply complete: 3 created, 0 updated \(0 volumes modified\), 0 unchanged; 4 DNS records set\.\n$/);
    const resized = json<{ resized: unknown[]; summary: { created: string[]; updated: string[]; resized: string[]; modified: string[] } }>(await cli(['apply', NEXT, '--sim', '--sim-from', CURRENT, '--json', '-q']));
    expect(resized.summary).toMatchObject({ created: [], updated: ['kafka-1', 'kafka-2', 'kafka-3'], resized: ['kafka-1', 'kafka-2', 'kafka-3'], modified: ['kafka-1', 'kafka-2', 'kafka-3'] });
    expect(resized.resized).toContainEqual({ nodeId: 'kafka-1', fromGiB: 100, toGiB: 130 });
    const text = await cli(['apply', NEXT, '--sim', '--sim-from', CURRENT, '-q']);
    expect(text.stdout).toMatch(/~ kafka-2\n {4}resized volume 100 → 130 GiB/);
    const none = await cli(['apply', CURRENT, '--sim', '-q']);
    expect(none.stdout).toBe('Apply complete: no changes.\n');
  });

  it('apply adds nodes one at a time, and removes a node the spec lost only with --remove-nodes', async () => {
    const FIVE = file('kafka-5.json', simulatedClusterInput({ nodes: 5, name: 'kafka' }));
    const grown = await cli(['apply', FIVE, '--sim', '--sim-from', CURRENT, '-q']);
    expect(grown.code).toBe(EXIT.ok);
    expect(grown.stdout).toMatch(/member added: kafka-4\nmember added: kafka-5\n/);
    const kept = await cli(['apply', CURRENT, '--sim', '--sim-from', FIVE, '-q']);
    expect(kept.code).toBe(EXIT.ok);
    expect(kept.stdout).toMatch(/not removed: kafka-4 is in AWS but not in the spec \(--remove-nodes kafka-4 removes it\)/);
    const plan = await cli(['plan', CURRENT, '--sim', '--sim-from', FIVE, '--remove-nodes', 'kafka-5', '-q']);
    expect(plan.stdout).toMatch(/1\. - remove kafka-5: removeMember, health gate, delete its resources per its deletion policy {2}\(5 → 4 members, quorum 3\)/);
    const removed = await cli(['apply', CURRENT, '--sim', '--sim-from', FIVE, '--remove-nodes', '-q']);
    expect(removed.code).toBe(EXIT.ok);
    expect(removed.stdout).toMatch(/^- kafka-4 removed: deleted auto-scaling-group berth-kafka-kafka-4;/m);
    expect(removed.stdout).toMatch(/^- kafka-5 removed: .*retained volume vol-/m);
    expect(removed.stdout).toMatch(/ 2 removed\.\n$/);
    // status names the nodes the spec no longer lists, and the nodes still to join.
    expect((await cli(['status', CURRENT, '--sim', '--sim-from', FIVE, '-q'])).stdout).toMatch(/\nnot in the spec: kafka-4, kafka-5 \(apply --remove-nodes removes them\)\n/);
    expect((await cli(['status', FIVE, '--sim', '--sim-from', CURRENT, '-q'])).stdout).toMatch(/\njoining: kafka-4, kafka-5 \(apply adds them one at a time\)\n/);
  });

  it('status shows every node and the quorum margin; --json is the ClusterStatus', async () => {
    const r = await cli(['status', CURRENT, '--sim', '-q']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/kafka-1 +eu-west-1a +in-service +healthy +current +i-\w+/);
    expect(r.stdout).toMatch(/\nquorum: 3\/3 healthy, margin 1 \(quorum 2, tolerance 1\); converged\nleader: kafka-\d\nlock: free\n$/);
    const s = json<{ converged: boolean; nodes: { healthy: boolean }[]; pendingResizes: unknown[] }>(await cli(['status', NEXT, '--sim', '--sim-from', CURRENT, '--json', '-q']));
    expect(s.converged).toBe(false);
    expect(s.pendingResizes).toHaveLength(3);
    expect(s.nodes.every((n) => n.healthy)).toBe(true);
    expect((await cli(['status', NEXT, '--sim', '--sim-from', CURRENT, '-q'])).stdout).toMatch(
      /; not converged: 3 outdated \(kafka-1, kafka-2, kafka-3\); 3 volumes to modify \(kafka-1 sizeGiB 100 → 130; .*; apply modifies them\)\n/,
    );
    expect((await cli(['status', CURRENT, '--sim', '--sim-from', 'empty', '-q'])).stdout).toMatch(/kafka-1 +eu-west-1a +absent +down +-/);
    // A held lock shows (a roll elsewhere).
    const locked = await cli(['status', CURRENT, '--sim', '-q'], { onSimulation: (sim, spec) => sim.driver.lock.acquire(spec, { holder: 'ops-laptop', session: 'x', ttlMs: 600_000 }).then(() => {}) });
    expect(locked.stdout).toMatch(/\nlock: held by ops-laptop until \S+\n$/);
  });

  it('roll replaces every outdated node, with progress on stderr and the report on stdout', async () => {
    const r = await cli(['roll', NEXT, '--sim', '--sim-from', CURRENT, '--sim-profile', 'fast']);
    expect(r.code).toBe(EXIT.ok);
    // The report as formatRollReport writes it (the demo and the HTML report use the same format).
    expect(r.stdout).toMatch(/^Roll kafka-\d+: completed in \S+ \(maxUnavailable 1\); 3 nodes replaced\n {2}batch 1 {2}\+\S+ → \+\S+ {2}kafka-1\n/);
    expect(r.stderr).toMatch(/\n\+0s roll started: 3 outdated \(kafka-1, kafka-2, kafka-3\), maxUnavailable 1, tolerance 1\n/);
    expect(r.stderr).toMatch(/\n\+\S+ kafka-1: replaced i-\w+ → i-\w+ in \S+\n/);
    expect(r.stderr).toMatch(/\n\+\S+ roll completed\n$/);
    const quiet = await cli(['roll', NEXT, '--sim', '--sim-from', CURRENT, '--sim-profile', 'fast', '--json', '-q']);
    expect(quiet.stderr).toBe('');
    expect(json<RollReport>(quiet)).toMatchObject({ outcome: 'completed', replacedCount: 3 });
  });

  it('on a terminal the progress is a live view, redrawn from the events', async () => {
    const r = await cli(['roll', NEXT, '--sim', '--sim-from', CURRENT, '--sim-profile', 'fast'], { ttyStderr: true });
    expect(r.code).toBe(EXIT.ok);
    expect(r.stderr).toContain('\u001B['); // redrawn in place
    const last = r.stderr.slice(r.stderr.lastIndexOf('Roll of kafka completed'));
    expect(last).toMatch(/^Roll of kafka completed · 3\/3 replaced/);
    expect(last).toMatch(/kafka-3 +\S*replaced/);
  });

  it('a halted roll exits 4: the report on stdout (--json), the reason on stderr as one message', async () => {
    const r = await cli(['roll', NEXT, '--sim', '--sim-from', CURRENT, '--sim-bad-image', 'mounting', '--json', '-q']);
    expect(r.code).toBe(EXIT.rollHalted);
    expect(json<RollReport>(r)).toMatchObject({ outcome: 'halted', replacedCount: 0 });
    expect(r.stderr).toMatch(/^error ROLL_HALTED: Roll halted: node kafka-1 failed to boot revision r-\w+ \(instance i-\w+, in phase mounting\): simulated failure \(--sim-bad-image mounting\); rolled back kafka-1 .*; not touched: kafka-2, kafka-3\n$/);
  });

  it('a lock held by another controller exits 5 (apply and roll)', async () => {
    const holdLock = async (sim: Simulation, spec: Parameters<Simulation['driver']['lock']['acquire']>[0]) => {
      await sim.driver.lock.acquire(spec, { holder: 'ops-laptop', session: 'other', ttlMs: 600_000 });
    };
    for (const cmd of ['apply', 'roll']) {
      const r = await cli([cmd, NEXT, '--sim', '--sim-from', CURRENT, '-q'], { onSimulation: holdLock });
      expect(r.code, cmd).toBe(EXIT.lockHeld);
      expect(r.stdout, cmd).toBe('');
      expect(r.stderr, cmd).toMatch(/^error LOCK_HELD: .*ops-laptop/);
      expect(r.stderr, cmd).not.toMatch(STACK);
    }
  });

  it('one seed, one run: the same report twice; a --sim-* flag implies --sim', async () => {
    const args = ['roll', NEXT, '--sim-from', CURRENT, '--sim-seed', '7', '--sim-profile', 'fast', '--json', '-q'];
    const [a, b] = [await cli(args), await cli(args)];
    expect(a.code).toBe(EXIT.ok);
    expect(a.stdout).toBe(b.stdout);
    const note = await cli(['status', CURRENT, '--sim-seed', '7']);
    expect(note.stderr).toMatch(/^simulation: seed 7, realistic profile/);
  });

  it('Ctrl-C stops a roll cleanly and exits 130', async () => {
    const interrupt = new AbortController();
    const roll = Controller.prototype.roll;
    vi.spyOn(Controller.prototype, 'roll').mockImplementation(function (this: Controller, options?: RollOptions) {
      this.once('node.replacing', () => interrupt.abort(new Error('interrupted (SIGINT)')));
      return roll.call(this, options);
    });
    const r = await cli(['roll', NEXT, '--sim', '--sim-from', CURRENT, '--json', '-q'], { signal: interrupt.signal });
    expect(r.code).toBe(EXIT.interrupted);
    expect(json<RollReport>(r).outcome).toBe('aborted');
    expect(r.stderr).toMatch(/^error ABORTED: /);
  });
});

/** Records the controller's events of every roll the CLI starts in this process. */
function recordRolls(): { options: RollOptions[]; events: { name: keyof ControllerEvents; e: Record<string, unknown> }[] } {
  const seen = { options: [] as RollOptions[], events: [] as { name: keyof ControllerEvents; e: Record<string, unknown> }[] };
  const roll = Controller.prototype.roll;
  vi.spyOn(Controller.prototype, 'roll').mockImplementation(function (this: Controller, options?: RollOptions) {
    seen.options.push(options ?? {});
    for (const name of ['roll.held', 'roll.resumed', 'batch.baking', 'batch.started'] as const) this.on(name, (e) => seen.events.push({ name, e: e as unknown as Record<string, unknown> }));
    return roll.call(this, options);
  });
  return seen;
}

describe('roll flags reach the controller', () => {
  it('every flag becomes its RollOptions field, and the roll runs them: canary hold, bake, skip', async () => {
    const seen = recordRolls();
    const r = await cli([
      'roll', NEXT, '--sim', '--sim-from', CURRENT, '--sim-profile', 'fast', '--json', '-q',
      '--max-unavailable', '2', '--canary', '1', '--canary-hold', '90s', '--bake', '1m30s',
      '--checkpoint', '50', '--checkpoint', '25%', '--on-failure', 'hold', '--skip', 'kafka-3',
      '--waves', 'az', '--replacement-timeout', '45m', '--health-timeout', '10s', '--retry-failed', '--yes',
    ]); // prettier-ignore
    expect(r.code).toBe(EXIT.ok);
    expect(seen.options).toHaveLength(1);
    const { hooks, signal, ...options } = seen.options[0]!;
    expect(options).toEqual({
      maxUnavailable: 2,
      canary: { nodes: 1, holdMs: 90_000 },
      bakeMs: 90_000,
      checkpoints: [25, 50],
      onFailure: 'hold',
      skip: ['kafka-3'],
      waves: 'az',
      replacementTimeoutMs: 2_700_000,
      healthTimeoutMs: 10_000,
      retryFailed: true,
    });
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(typeof hooks?.approve).toBe('function');
    const report = json<RollReport>(r);
    expect(report.maxUnavailable).toBe(2);
    expect(report.batches.map((b) => b.nodeIds)).toEqual([['kafka-1'], ['kafka-2']]); // the canary alone, then the rest; kafka-3 skipped
    // The canary held for its 90 s (no approval asked: a hold time decides), every batch baked 90 s.
    const held = seen.events.filter((x) => x.name === 'roll.held').map((x) => x.e);
    expect(held).toEqual([expect.objectContaining({ kind: 'canary', replaced: ['kafka-1'], untilMs: (held[0]?.atMs as number) + 90_000 })]);
    expect(seen.events.filter((x) => x.name === 'roll.resumed').map((x) => x.e.by)).toEqual(['hold-elapsed']);
    expect(seen.events.filter((x) => x.name === 'batch.baking').map((x) => x.e.bakeMs)).toEqual([90_000, 90_000]);
  });

  it('--canary-hold alone is a one-node canary; without flags, no canary, bake or checkpoint', async () => {
    const seen: RollOptions[] = [];
    vi.spyOn(Controller.prototype, 'roll').mockImplementation(async (options?: RollOptions) => {
      seen.push(options ?? {});
      throw new Error('stop here');
    });
    await cli(['roll', NEXT, '--sim', '-q', '--canary-hold', '5m']);
    await cli(['roll', NEXT, '--sim', '-q']);
    expect(seen[0]).toMatchObject({ canary: { nodes: 1, holdMs: 300_000 } });
    expect(seen[1]).not.toHaveProperty('canary');
    expect(seen[1]).not.toHaveProperty('bakeMs');
    expect(seen[1]).not.toHaveProperty('checkpoints');
    expect(seen[1]).toMatchObject({ maxUnavailable: 1, onFailure: 'rollback', waves: 'balanced' });
  });

  it('plan shows the schedule the same flags give a roll', async () => {
    const r = await cli(['plan', NEXT, '--sim', '--sim-from', CURRENT, '-q', '--canary', '--bake', '2m', '--checkpoint', '50']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/bake 2m after every batch:\n {3}1\. kafka-1 \(eu-west-1a\) {2}canary\n {6}then hold \(canary\): until resume\(\) or the approve hook says go\n {3}2\. kafka-2 \(eu-west-1b\)\n {6}then hold \(checkpoint 50%\)/);
  });
});

describe('holds', () => {
  it('--yes approves a checkpoint and the roll goes on', async () => {
    const r = await cli(['roll', NEXT, '--sim', '--sim-from', CURRENT, '--sim-profile', 'fast', '--checkpoint', '50', '--yes']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stderr).toMatch(/ holding at 50% \(2 of 3 replaced\) until approved\n\S+ checkpoint 50% \(2 of 3 replaced\): approved \(--yes\)\n\S+ resumed \(approved\)\n\S+ batch 3: kafka-3\n/);
  });

  it.each([
    ['y', EXIT.ok, /checkpoint 50% \(2 of 3 replaced\): approved at the prompt\n/],
    ['n', EXIT.rollHalted, /\nerror ROLL_STOPPED: The roll stopped at its checkpoint 50% \(2 of 3 replaced\): not approved\. Replaced: kafka-1, kafka-2; no other node was touched\. Roll again to continue\.\n$/],
  ])('on a terminal the operator answers the hold: %s', async (answer, code, says) => {
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const stdout = sink();
    let stderr = '';
    const exit = await main(['roll', NEXT, '--sim', '--sim-from', CURRENT, '--sim-profile', 'fast', '--checkpoint', '50', '--json'], {
      env: {},
      stdin,
      stdout,
      stderr: {
        write: (chunk: string) => {
          stderr += chunk;
          // The operator reads the prompt, then answers (virtual time stands still meanwhile).
          if (chunk.includes('Continue? [y/N] ')) setTimeout(() => stdin.write(`${answer}\n`), 20);
          return true;
        },
      },
    });
    expect(exit).toBe(code);
    expect(stderr).toContain('The roll holds at its checkpoint 50% (2 of 3 replaced). Continue? [y/N] ');
    expect(stderr).toMatch(says);
    expect(JSON.parse(stdout.text())).toMatchObject({ outcome: answer === 'y' ? 'completed' : 'aborted', replacedCount: answer === 'y' ? 3 : 2 });
  });

  const hold = { kind: 'checkpoint', replaced: ['kafka-1'], total: 3, percent: 50 } as const;
  const ctx = {} as Parameters<NonNullable<ReturnType<typeof holdApproval>['approve']>>[1];

  it('--yes approves at once', () => {
    const notes: string[] = [];
    const a = holdApproval({ yes: true, output: new PassThrough(), note: (l) => notes.push(l), onDecline: () => {} });
    expect(a.approve(hold, ctx)).toBe(true);
    expect(notes).toEqual(['checkpoint 50% (1 of 3 replaced): approved (--yes)']);
  });

  it('on a terminal, asks once and answers the polls with the operator’s word', async () => {
    for (const [answer, expected] of [['y', true], ['n', false]] as const) {
      const input = Object.assign(new PassThrough(), { isTTY: true });
      const output = new PassThrough();
      let prompt = '';
      output.on('data', (d: Buffer) => (prompt += d.toString()));
      const declined: unknown[] = [];
      const a = holdApproval({ yes: false, input, output, note: () => {}, onDecline: (h) => declined.push(h) });
      expect(a.approve(hold, ctx)).toBe(false);
      expect(a.approve(hold, ctx)).toBe(false); // still waiting: one prompt only
      const waiting = a.waiting();
      expect(waiting).not.toBeNull();
      input.write(`${answer}\n`);
      await waiting;
      expect(prompt).toBe('The roll holds at its checkpoint 50% (1 of 3 replaced). Continue? [y/N] ');
      expect(a.approve(hold, ctx)).toBe(expected);
      expect(declined).toHaveLength(expected ? 0 : 1);
      a.close();
    }
  });
});

describe('durations', () => {
  it.each([
    ['250ms', 250],
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1_500],
    ['0s', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text, '--bake')).toBe(ms);
  });

  it('reads what @berth/core’s formatDuration writes', () => {
    for (const ms of [250, 42_000, 300_000, 566_000, 3_600_000, 3_720_000, 3_723_000]) expect(parseDuration(formatDuration(ms), 'x')).toBe(ms);
  });
});

describe('docs/cli.md', () => {
  it('lists every exit code as the CLI defines it', () => {
    const doc = readFileSync(join(root, 'docs/cli.md'), 'utf8');
    for (const e of EXIT_CODES) expect(doc).toContain(`| ${e.code} | \`${e.name}\` | ${e.meaning} |`);
  });

  it('documents every command and option', () => {
    const doc = readFileSync(join(root, 'docs/cli.md'), 'utf8');
    for (const cmd of buildProgram({ stdout: sink(), stderr: sink(), env: {} }).commands) {
      expect(doc, cmd.name()).toContain(`### ${cmd.name()}`);
      for (const o of cmd.options) if (o.long !== '--help') expect(doc, `${cmd.name()} ${o.flags}`).toContain(`\`${o.flags}\``);
    }
  });
});

describe('as a process', () => {
  const run = (args: string[]) =>
    new Promise<Run>((resolve) => {
      execFile(`${root}/node_modules/.bin/tsx`, ['examples/berth-cli.ts', ...args], { cwd: root, env: { ...process.env, BERTH_DEBUG: '' } }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
      });
    });

  it('exit status, stdout and stderr, as a shell sees them', async () => {
    // One run that loads the drivers (a halted roll: progress, report and error at once), three that do not.
    const [version, usage, invalid, halted] = await Promise.all([
      run(['--version']),
      run(['plan', CURRENT, '--bogus']),
      run(['validate', INVALID, '--json']),
      run(['roll', NEXT, '--sim', '--sim-from', CURRENT, '--sim-profile', 'fast', '--sim-bad-image', 'configuring', '--json']),
    ]);
    expect(version).toEqual({ code: 0, stdout: `${VERSION_TEXT}\n`, stderr: '' });
    expect(usage.code).toBe(EXIT.usage);
    expect(usage.stdout).toBe('');
    expect(usage.stderr).toMatch(/^error: unknown option '--bogus'/);
    expect(invalid.code).toBe(EXIT.checkFailed);
    expect(JSON.parse(invalid.stdout)).toMatchObject({ valid: false });
    expect(invalid.stderr).toMatch(/^error CONFIG_INVALID: /);
    expect(halted.code).toBe(EXIT.rollHalted);
    expect(JSON.parse(halted.stdout)).toMatchObject({ outcome: 'halted' });
    expect(halted.stderr).toMatch(/^simulation: seed 42, .*\n\+0s roll started: 3 outdated/);
    expect(halted.stderr).toMatch(/\nerror ROLL_HALTED: Roll halted: node kafka-1 failed to boot .* in phase configuring/);
    for (const r of [usage, invalid, halted]) expect(r.stderr).not.toMatch(STACK);
  }, 60_000);
});
