// The custom CLI end to end against the local AWS emulator (moto), started by the moto
// project's global setup on 127.0.0.1: the AWS driver path, without --sim. Moto launches
// instantly and ignores lifecycle hooks (see packages/aws-driver/test/roll.test.ts for what it
// cannot check). Most runs call the CLI's `main` in this process; two run it as a child process
// (exit status and stdout as a shell sees them).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApplyResult, ClusterInput, RollReport } from '@berth/core';
import { defineCluster } from '@berth/core';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { clusterInput, useMotoWorld } from '../../packages/aws-driver/test/support/aws-fixture.js';
import { EXIT, main } from '../berth-cli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const aws = useMotoWorld();
// Fake credentials for the emulator; never look for instance metadata.
const AWS_ENV = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_EC2_METADATA_DISABLED: 'true' };

beforeEach(() => {
  for (const [k, v] of Object.entries(AWS_ENV)) vi.stubEnv(k, v);
  return () => void vi.unstubAllEnvs();
});

const emulator = () => ['--endpoint', aws.moto.endpoint, '--emulator', 'moto'];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}
async function cli(...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main([...args, ...emulator()], { stdout: { write: (s: string) => ((stdout += s), true) }, stderr: { write: (s: string) => ((stderr += s), true) }, env: {} });
  return { code, stdout, stderr };
}
function spawnCli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(`${root}/node_modules/.bin/tsx`, ['examples/berth-cli.ts', ...args, ...emulator()], { cwd: root, env: { ...process.env, ...AWS_ENV, BERTH_DEBUG: '' } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}
function specFile(name: string, input: ClusterInput): string {
  const p = join(mkdtempSync(join(tmpdir(), 'berth-cli-moto-')), name);
  writeFileSync(p, JSON.stringify(input));
  return p;
}

describe('examples/berth-cli.ts on moto', () => {
  it('init, preflight, apply, status, plan and roll, in text and --json', async () => {
    const input = clusterInput(aws.world, 3);
    const current = specFile('kafka.json', input);
    const next = specFile('kafka-next.json', { ...input, image: aws.world.otherImage });

    const init = await cli('init', current, '--change-queue');
    expect(init.code).toBe(EXIT.ok);
    expect(init.stdout).toMatch(/^lock table berth-locks: created\nchange queue berth-kafka-changes: ready/);
    expect(await cli('preflight', current, '--json')).toMatchObject({ code: EXIT.ok, stdout: expect.stringMatching(/^\{\n {2}"ok": true/) });

    const applied = await cli('apply', current, '--json');
    expect(applied.code).toBe(EXIT.ok);
    const result = JSON.parse(applied.stdout) as ApplyResult & { summary: { created: string[] } };
    expect(result.summary.created).toEqual(['n1', 'n2', 'n3']);
    expect(result.nodes.flatMap((n) => n.changes).filter((c) => c.resource === 'auto-scaling-group' && c.action === 'created')).toHaveLength(3);

    const status = await cli('status', current);
    expect(status.stdout).toMatch(/quorum: 3\/3 healthy, margin 1 \(quorum 2, tolerance 1\); converged/);

    // The plan as terraform shows one: fields, batches (one AZ each), the summary.
    const plan = await cli('plan', next, '--detailed-exitcode');
    expect(plan.code).toBe(EXIT.checkFailed);
    expect(plan.stdout).toMatch(new RegExp(`~ n\\d \\([a-z0-9-]+\\) instance will be replaced, batch 1\\n\\s+image\\s+ami-\\w+ → ${aws.world.otherImage}`));
    expect(plan.stdout).toMatch(/Plan: 0 to create, 3 to replace in 3 batches, 0 to update in place\./);
    const json = JSON.parse((await cli('plan', next, '--json')).stdout) as { schedule: { batches: { nodeIds: string[] }[] }; noChanges: boolean };
    expect(json.schedule.batches.flatMap((b) => b.nodeIds).sort()).toEqual(['n1', 'n2', 'n3']);
    expect(json.noChanges).toBe(false);

    const rolled = await cli('roll', next, '--json', '--max-unavailable', '2', '--skip', 'n2');
    expect(rolled.code).toBe(EXIT.ok);
    const report = JSON.parse(rolled.stdout) as RollReport;
    expect(report).toMatchObject({ outcome: 'completed', replacedCount: 2, maxUnavailable: 2 });
    expect(rolled.stderr).toMatch(/^\+0s roll started: 2 outdated \(n1, n3\)/);
    const rest = await cli('roll', next);
    expect(rest.stdout).toMatch(/^Roll kafka-\d+: completed in \S+ \(maxUnavailable 1\); 1 node replaced, 2 already current \(n1, n3\)\n {2}batch 1 .* {2}n2\n/);
    expect((await cli('apply', next)).stdout).toBe('Apply complete: no changes.\n');
    expect(await cli('plan', next, '--detailed-exitcode', '-q')).toMatchObject({ code: EXIT.ok, stdout: expect.stringMatching(/No changes\./) });
  }, 120_000);

  it('as a process: a lock held elsewhere exits 5, preflight problems exit 3 with the report on stdout', async () => {
    const input = clusterInput(aws.world, 3);
    const current = specFile('kafka.json', input);
    const missingImage = specFile('kafka-bad-image.json', { ...input, image: 'ami-0000000000000bad0' });
    await aws.driver.ensureLockTable();
    await aws.driver.lock.acquire(defineCluster(input), { holder: 'ops-laptop', session: 'elsewhere', ttlMs: 600_000 });

    const [locked, failed] = await Promise.all([spawnCli('apply', current), spawnCli('preflight', missingImage, '--json')]);
    expect(locked.code).toBe(EXIT.lockHeld);
    expect(locked.stdout).toBe('');
    // On Node 20 the AWS SDK's own NodeVersionSupportWarning may come first (docs/cli.md).
    expect(locked.stderr).toMatch(/(^|\n)error LOCK_HELD: .*ops-laptop.*\n {2}cause DRIVER_ERROR: UpdateItem failed with ConditionalCheckFailedException/);
    expect(failed.code).toBe(EXIT.checkFailed);
    expect(JSON.parse(failed.stdout)).toMatchObject({ ok: false, problems: [{ check: 'images', path: 'image' }] });
    expect(failed.stderr).toMatch(/(^|\n)error PREFLIGHT_FAILED: Preflight found 1 problem; nothing was changed:\n {2}- image \[images\]: image ami-0000000000000bad0 does not exist/);
    for (const r of [locked, failed]) expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  }, 60_000);
});
