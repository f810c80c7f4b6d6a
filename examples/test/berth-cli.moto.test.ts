// The custom CLI end to end against the local AWS emulator (moto), started by the moto
// project's global setup on 127.0.0.1. Moto launches instantly and ignores lifecycle hooks
// (see packages/aws-driver/test/roll.test.ts for what it cannot check).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { clusterInput, useMotoWorld } from '../../packages/aws-driver/test/support/aws-fixture.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const aws = useMotoWorld();

function cli(...args: string[]) {
  return run(`${root}/node_modules/.bin/tsx`, ['examples/berth-cli.ts', ...args, '--endpoint', aws.moto.endpoint, '--emulator', 'moto'], {
    cwd: root,
    // Fake credentials for the emulator; never look for instance metadata.
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_EC2_METADATA_DISABLED: 'true' },
  });
}

describe('examples/berth-cli.ts on moto', () => {
  it('apply provisions, status reports, roll replaces every node; a second apply changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-cli-moto-'));
    const input = clusterInput(aws.world, 3);
    const specFile = join(dir, 'kafka.json');
    writeFileSync(specFile, JSON.stringify(input));
    expect((await cli('init', specFile, '--change-queue')).stdout).toMatch(/lock table ready\nchange queue ready/);
    const applied = await cli('apply', specFile);
    expect(applied.stdout.match(/created auto-scaling-group/g)).toHaveLength(3);
    const status = await cli('status', specFile);
    expect(status.stdout).toMatch(/quorum: 3\/3 healthy, margin 1/);
    const nextFile = join(dir, 'kafka-next.json');
    writeFileSync(nextFile, JSON.stringify({ ...input, image: aws.world.otherImage }));
    const plan = await cli('plan', nextFile);
    // The plan as terraform shows one: fields, batches (one AZ each), the summary.
    expect(plan.stdout).toMatch(new RegExp(`~ n\\d \\([a-z0-9-]+\\) instance will be replaced, batch 1\\n\\s+image\\s+ami-\\w+ → ${aws.world.otherImage}`));
    expect(plan.stdout).toMatch(/Plan: 0 to create, 3 to replace in 3 batches, 0 to update in place\./);
    const json = JSON.parse((await cli('plan', nextFile, '--json')).stdout) as { schedule: { batches: { nodeIds: string[] }[] }; noChanges: boolean };
    expect(json.schedule.batches.flatMap((b) => b.nodeIds).sort()).toEqual(['n1', 'n2', 'n3']);
    expect(json.noChanges).toBe(false);
    const rolled = await cli('roll', nextFile);
    expect(rolled.stdout).toMatch(/roll completed: 3 replaced/);
    const again = await cli('apply', nextFile);
    expect(again.stdout).toBe('');
  }, 120_000);
});
