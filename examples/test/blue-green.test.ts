import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('examples/blue-green.ts', () => {
  it('DNS: v1 to blue, the plan for v2, v2 to green with blue deleted after the window, v3 shifted back on its own', async () => {
    const { stdout } = await run(`${root}/node_modules/.bin/tsx`, ['examples/blue-green.ts', '--seed', '7'], { cwd: root });
    expect(stdout).toMatch(/^v1: completed, live blue$/m);
    expect(stdout).toContain('~ shift traffic blue → green: UPSERT web.example.com A');
    expect(stdout).toContain('- delete blue (web-blue, 3 nodes: web-blue-1, web-blue-2, web-blue-3; data volumes: delete) after the rollback window');
    expect(stdout).toMatch(/^v2: completed, live green, deleted blue$/m);
    expect(stdout).toMatch(/window check failed on blue: verify said no/);
    expect(stdout).toMatch(/^v3: failed in the window, traffic went back on green, blue deleted$/m);
    expect(stdout).toMatch(/^status: live green; traffic goes to green: web\.example\.com A 10\.0\.1\.20, 10\.0\.2\.20, 10\.0\.3\.20 \(TTL 60 s\)$/m);
    expect(stdout).toMatch(/^ {2}blue \(web-blue\): absent$/m);
    // docs/blue-green.md shows this plan verbatim.
    const printed = stdout.slice(stdout.indexOf('Tier web (DNS cutover)'), stdout.indexOf('\n', stdout.indexOf('Plan: ')));
    const doc = readFileSync(`${root}/docs/blue-green.md`, 'utf8');
    const block = doc.slice(doc.indexOf('```text', doc.indexOf('<!-- plan: blue live, v2 -->')) + '```text\n'.length);
    expect(printed).toBe(block.slice(0, block.indexOf('\n```')));
  }, 120_000);

  it('target groups: the same story, registering before deregistering', async () => {
    const { stdout } = await run(`${root}/node_modules/.bin/tsx`, ['examples/blue-green.ts', '--seed', '7', '--traffic', 'target-groups'], { cwd: root });
    expect(stdout).toContain("~ shift traffic blue → green: register green's instances in every target group and wait until each is healthy, then deregister blue's");
    expect(stdout).toMatch(/green: 3 targets healthy \(150 s\)\n.*blue: 3 targets draining \(300 s\)/);
    expect(stdout).toMatch(/^v2: completed, live green, deleted blue$/m);
    expect(stdout).toMatch(/^v3: failed in the window, traffic went back on green, blue deleted$/m);
    expect(stdout).toMatch(/^status: live green; traffic goes to green: 1 target group \(blue: 0 registered; green: 3 registered\)$/m);
  }, 120_000);
});
