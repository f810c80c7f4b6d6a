import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { simulatedClusterInput } from '@berth/sim-driver';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = (...args: string[]) => run(`${root}/node_modules/.bin/tsx`, ['examples/berth-cli.ts', ...args], { cwd: root });
const dir = mkdtempSync(join(tmpdir(), 'berth-cli-'));
const file = (name: string, content: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(content));
  return p;
};

describe('examples/berth-cli.ts (offline commands)', () => {
  it('validate accepts a valid spec', async () => {
    const { stdout } = await cli('validate', file('ok.json', simulatedClusterInput({ nodes: 3, name: 'kafka' })));
    expect(stdout).toMatch(/cluster kafka, 3 nodes in eu-west-1 — valid/);
  }, 30_000);

  it('validate lists every problem with its path and exits 2, before any cloud call', async () => {
    const bad = { ...simulatedClusterInput({ nodes: 3 }), instanceType: 'large', dataVolume: { sizeGiB: 0 } };
    const err = (await cli('validate', file('bad.json', bad)).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/instanceType: must be an EC2 instance type/);
    expect(err.stderr).toMatch(/dataVolume\.sizeGiB/);
  }, 30_000);

  it('iam-policy prints the controller and node policies scoped to the cluster', async () => {
    const { stdout } = await cli('iam-policy', file('ok2.json', simulatedClusterInput({ nodes: 3, name: 'kafka' })), '--account', '123456789012');
    const policy = JSON.parse(stdout);
    expect(policy.controller.Version).toBe('2012-10-17');
    expect(JSON.stringify(policy.controller)).toContain('123456789012');
    expect(JSON.stringify(policy.controller)).toContain('kafka');
    expect(policy.node.Statement.length).toBeGreaterThan(0);
  }, 30_000);

  it('a spec file that is not JSON is a clear error', async () => {
    const p = join(dir, 'broken.json');
    writeFileSync(p, '{ nope');
    const err = (await cli('validate', p).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr).toMatch(/cannot read .*broken\.json as JSON/);
  }, 30_000);
});
