import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReportData, renderHtmlReport, runScenario, type Scenario } from '../src/index.js';

const scenario: Scenario = {
  seed: 42,
  nodes: 5,
  profile: 'fast',
  maxUnavailable: 2,
  faults: [
    { kind: 'kill-instance', nodeId: 'chaos-4', atMs: 800, stabilityMs: 300 },
    { kind: 'partition', nodeId: 'chaos-5', durationMs: 3_000, atMs: 2_500, stabilityMs: 300 },
    { kind: 'controller-crash', restart: 'same-holder', downMs: 500, atMs: 4_000, stabilityMs: 0 },
  ],
};

const chromiumFlags = (dir: string) => ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${join(dir, 'profile')}`];

describe('HTML report', () => {
  it('holds every node, the faults, batches and invariants, as HTML and as JSON', async () => {
    const result = await runScenario(scenario, { keepEvidence: true });
    const data = buildReportData(result);
    expect(data.nodes.map((n) => n.nodeId)).toEqual(['chaos-1', 'chaos-2', 'chaos-3', 'chaos-4', 'chaos-5']);
    expect(data.faults.map((f) => f.kind)).toEqual(expect.arrayContaining(['kill-instance', 'partition', 'controller-crash']));
    expect(data.batches.length).toBeGreaterThan(0);
    expect(data.invariants).toHaveLength(9);
    expect(data.quorumMargin.some((m) => m.margin < 2)).toBe(true);
    const html = renderHtmlReport(data);
    expect(html).not.toMatch(/https?:\/\//);
    expect(JSON.parse(/<script type="application\/json" id="report-data">(.*)<\/script>/s.exec(html)![1]!)).toEqual(JSON.parse(JSON.stringify(data)));
  });

  it("shows a failed bootstrap as a 'failed' lane (the phase tag reads failed:<phase>:<reason>)", async () => {
    const bad: Scenario = { seed: 11, nodes: 3, profile: 'fast', maxUnavailable: 1, faults: [{ kind: 'bad-image', phase: 'mounting', reason: 'bad', atMs: 0, stabilityMs: 0 }] };
    const result = await runScenario(bad, { keepEvidence: true });
    expect(result.evidence!.trace.some((e) => e.kind === 'instance.phase' && String(e['phase']).startsWith('failed:mounting:'))).toBe(true);
    const states = buildReportData(result).nodes.flatMap((n) => n.segments.map((s) => s.state));
    expect(states).toContain('failed');
    expect(states.filter((s) => s.startsWith('failed:'))).toEqual([]);
  });

  it('renders in headless Chromium: every node shown, no console errors', async () => {
    const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
    if (!chromium) throw new Error('chromium is not installed: run bash scripts/system-deps.sh chromium:chromium (scripts/test.sh does)');
    const result = await runScenario(scenario, { keepEvidence: true });
    const dir = mkdtempSync(join(tmpdir(), 'berth-report-'));
    const file = join(dir, 'report.html');
    writeFileSync(file, renderHtmlReport(buildReportData(result)));
    const dump = spawnSync(chromium, [...chromiumFlags(dir), '--enable-logging=stderr', '--v=0', '--dump-dom', `file://${file}`], { encoding: 'utf8', timeout: 60_000 });
    expect(dump.status).toBe(0);
    for (const n of result.evidence!.spec.nodes) expect(dump.stdout).toContain(`>${n.id}</text>`);
    expect(dump.stdout).toContain('<svg');
    expect(dump.stderr).not.toMatch(/CONSOLE.*(Error|Uncaught)|Uncaught|Failed to load resource/);
    const png = process.env['BERTH_REPORT_SCREENSHOT'] ?? join(dir, 'report.png');
    execFileSync(chromium, [...chromiumFlags(dir), '--window-size=1100,900', `--screenshot=${png}`, `file://${file}`], { stdio: 'ignore', timeout: 60_000 });
    expect(existsSync(png)).toBe(true);
  }, 90_000);
});
