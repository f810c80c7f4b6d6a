import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('examples/game-day.ts', () => {
  it('dry-runs, then plays the schedule during a roll; the roll completes and every safety invariant holds', async () => {
    const { stdout } = await run(`${root}/node_modules/.bin/tsx`, ['examples/game-day.ts', '--seed', '5'], { cwd: root });
    expect(stdout).toMatch(/dry run of 'broker loss during a roll' on staging-kafka: blast radius 1 \(tolerance 2\)/);
    expect(stdout).toMatch(/game-day: 3 of 3 faults injected/);
    expect(stdout).toMatch(/roll: completed/);
    expect(stdout).toMatch(/invariants: 7 checked, all held/);
    expect(stdout).toMatch(/app: 0 committed entries lost/);
  }, 60_000);
});
