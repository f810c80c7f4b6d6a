import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ReportData } from '@berth/chaos';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('examples/game-day.ts', () => {
  it('dry-runs, then plays the schedule during a roll; the roll completes and every safety invariant holds', async () => {
    const out = mkdtempSync(join(tmpdir(), 'game-day-'));
    const { stdout } = await run(`${root}/node_modules/.bin/tsx`, ['examples/game-day.ts', '--seed', '5', '--report', out], { cwd: root });
    expect(stdout).toMatch(/dry run of 'broker loss during a roll' on staging-kafka: blast radius 1 \(tolerance 2\)/);
    expect(stdout).toMatch(/game-day: 3 of 3 faults injected/);
    expect(stdout).toMatch(/roll: completed/);
    expect(stdout).toMatch(/invariants: 7 checked, all held/);
    expect(stdout).toMatch(/app: 0 committed entries lost/);
    // The timeline recorded live from the roll's events and observations: its batches, the three faults.
    const data = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ReportData;
    expect(data).toMatchObject({ source: 'live', ok: true, sessions: [{ outcome: 'completed' }] });
    expect(data.faults.map((f) => f.kind)).toEqual(['kill-instance', 'api-throttle', 'spot-interruption']);
    expect(data.batches.length).toBeGreaterThanOrEqual(5);
    expect(data.replacements.finished).toBe(5);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain("<h1>Game-day 'broker loss during a roll' during a roll of staging-kafka</h1>");
  }, 60_000);
});
