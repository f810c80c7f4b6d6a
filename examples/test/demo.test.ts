import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runRollScenario } from '../demo/roll-scenario.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = `${root}/node_modules/.bin/tsx`;

describe('the demo', () => {
  it('rolls every node with an instance killed mid-roll, keeping quorum and every committed entry', async () => {
    const r = await runRollScenario({ seed: 42, nodes: 5, profile: 'fast', kill: true });
    expect(r.outcome).toBe('completed');
    expect(r.killed).not.toBeNull();
    expect(r.quorumHeld).toBe(true);
    expect(r.minHealthy).toBeGreaterThanOrEqual(3);
    expect(r.lostCommitted).toBe(0);
    expect(r.dataLossEvents).toBe(0);
    expect(r.lowerBoundMs).toBeGreaterThan(0);
    expect(r.rollMs).toBeGreaterThanOrEqual(r.lowerBoundMs);
    expect(r.controlPlaneCalls).toBeGreaterThan(0);
    expect(r.invariants?.checked).toHaveLength(7);
    expect(r.invariants?.violations).toEqual([]);
    expect(r.reportData?.nodes.map((n) => n.nodeId)).toEqual(['demo-1', 'demo-2', 'demo-3', 'demo-4', 'demo-5']);
  });

  it('is deterministic: the same seed gives the same roll', async () => {
    const a = await runRollScenario({ seed: 7, nodes: 5, profile: 'realistic', kill: true });
    const b = await runRollScenario({ seed: 7, nodes: 5, profile: 'realistic', kill: true });
    const strip = (r: typeof a) => ({ ...r, rollWallMs: 0, report: { ...r.report } });
    expect(strip(a)).toEqual(strip(b));
  });

  it('the command prints a JSON summary with --json and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-demo-'));
    const { stdout } = await run(tsx, ['examples/demo-roll.ts', '--json', '--profile', 'fast', '--seed', '3', '--report', dir], { cwd: root });
    const summary = JSON.parse(stdout);
    expect(summary.reportFile).toBe(join(dir, 'demo-seed-3.html'));
    expect(readFileSync(summary.reportFile, 'utf8')).toContain('<svg');
    expect(summary).toMatchObject({ seed: 3, nodes: 5, profile: 'fast', outcome: 'completed', quorumHeld: true, lostCommitted: 0 });
    expect(summary.apiCalls.TerminateInstanceInAutoScalingGroup).toBe(5);
  }, 60_000);

  it.each([
    [['--nodes', 'four'], /--nodes must be a whole number ≥ 1; got 'four'/],
    [['--profile', 'slow'], /--profile must be realistic or fast; got 'slow'/],
    [['--nodes', '4', '--json'], /nodes: an even node count \(4\)/],
  ])('rejects bad flags %j with a message that names them', async (args, pattern) => {
    const err = (await run(tsx, ['examples/demo-roll.ts', ...args], { cwd: root }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).not.toBe(0);
    expect(err.stderr).toMatch(pattern);
  }, 60_000);
});
