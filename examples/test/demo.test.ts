import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { formatRollTime } from '@berth/core';
import { describe, expect, it } from 'vitest';
import type { ReportData } from '@berth/chaos';
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
    // The same batches, numbered from 1, with the same times as the report beside it.
    const data = JSON.parse(readFileSync(join(dir, 'demo-seed-3.json'), 'utf8')) as ReportData;
    expect(summary.batches.map((b: { batch: number }) => b.batch)).toEqual(data.batches.map((b) => b.index + 1));
    expect(summary.batches.map((b: { started: string }) => b.started)).toEqual(data.batches.map((b) => formatRollTime(b.startMs)));
    expect(summary.replacements).toBe(data.replacements.finished);
  }, 60_000);

  it('the summary and the HTML report agree: replaced count, batches numbered from 1, one time format, invariant count, units on the axes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-demo-'));
    const { stdout } = await run(tsx, ['examples/demo-roll.ts', '--profile', 'fast', '--seed', '42', '--report', dir], { cwd: root });
    const html = readFileSync(join(dir, 'demo-seed-42.html'), 'utf8');
    const data = JSON.parse(/<script type="application\/json" id="report-data">(.*)<\/script>/s.exec(html)![1]!) as ReportData;
    const TIME = /^(\+0s|\+\d+(ms|s)|\+\d+m(\d\ds)?|\+\d+h(\d\dm)?(\d\ds)?)$/;

    // Replaced count and batches.
    const [, replaced, nodes, batchCount] = /(\d+) of (\d+) nodes replaced in (\d+) batches/.exec(stdout)!;
    expect(html).toContain(`<p id="replacements">${replaced} of ${nodes} nodes replaced`);
    expect(data.replacements.finished).toBe(Number(replaced));
    expect(data.batches).toHaveLength(Number(batchCount));
    // The live log's batches (numbered from 1, times since the roll started) are the report's rows.
    const logged = [...stdout.matchAll(/^(\S+) batch (\d+): (.+)$/gm)].map((m) => ({ at: m[1], batch: m[2], nodes: m[3] }));
    const done = new Map([...stdout.matchAll(/^\S+ batch (\d+) done in (\S+)$/gm)].map((m) => [m[1], m[2]]));
    const section = (title: string) => html.slice(html.indexOf(`<h2>${title}</h2>`)).split('</table>')[0]!;
    const rows = [...section('Batches').matchAll(/<tr><td>demo-roll<\/td><td>(\d+)<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td><\/tr>/g)].map((m) => ({
      batch: m[1],
      nodes: m[2],
      at: m[3],
      took: m[5],
    }));
    expect(rows.map((r) => r.batch)).toEqual(logged.map((l) => l.batch));
    expect(rows.map((r) => r.batch)).toEqual(Array.from({ length: Number(batchCount) }, (_, i) => String(i + 1)));
    expect(rows.map((r) => ({ batch: r.batch, nodes: r.nodes, at: r.at }))).toEqual(logged);
    expect(rows.map((r) => r.took)).toEqual(rows.map((r) => done.get(r.batch)));

    // The fault: the same node, the same time, in the same format.
    const [, victim, , killedAt] = /instance killed mid-roll (\S+) \((i-\w+)\) at (\S+)/.exec(stdout)!;
    expect(section('Faults injected')).toContain(`<td>${killedAt}</td><td>kill-instance</td>`);
    expect(stdout).toMatch(new RegExp(`^\\${killedAt} FAULT injected: killed ${victim}'s instance`, 'm'));

    // Every time printed, in the log, the summary and the report, has the one format.
    const times = [
      ...logged.map((l) => l.at),
      killedAt!,
      ...rows.flatMap((r) => [r.at]),
      ...[...html.matchAll(/<text class="time-tick"[^>]*>([^<]+)<\/text>/g)].map((m) => m[1]!),
    ];
    for (const t of times) expect(t, t).toMatch(TIME);

    // The invariant count.
    const [, checked] = /safety invariants\s+(\d+) checked, all held/.exec(stdout)!;
    expect(html).toContain(`<h2>Invariants: ${checked} checked`);
    expect(html).toContain(`All ${checked} invariants held`);
    expect(data.invariants).toHaveLength(Number(checked));

    // Units on the chart's axes: time since the roll started, the margin in members (signed).
    expect(html).toContain('time since the roll started (ticks every ');
    expect(html).toContain('>(members)</text>');
    const marginTicks = [...html.matchAll(/<text class="margin-tick"[^>]*>([^<]+)<\/text>/g)].map((m) => m[1]);
    expect(marginTicks).toContain('0');
    expect(marginTicks.every((t) => /^([+−]\d+|0)$/.test(t!))).toBe(true);
  }, 120_000);

  it('its live view uses only the controller: no simulator internals', () => {
    const source = (f: string) => readFileSync(join(root, f), 'utf8');
    const view = source('examples/demo/live-view.ts');
    expect(view).not.toMatch(/sim-driver|Simulation|\.world\b|\.app\b|onTrace|\btrace\b/);
    // The demo hands the simulator to the scenario and builds the view's driver from its clients, nothing else.
    const demo = source('examples/demo-roll.ts');
    expect(demo).not.toMatch(/\.world\b|\.app\.|onTrace|currentInstance|tags\[/);
  });

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
