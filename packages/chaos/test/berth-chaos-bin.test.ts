// The berth-chaos bin end to end, in a child process as a user runs it (one module load, ~4 s):
// a strategy module written in TypeScript, imported through tsx's tsImport.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ChaosSummaryFile } from '../src/index.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

describe('berth-chaos run', () => {
  it('explores the Kafka KRaft example strategy: 6 seeds, no failure, a summary naming the strategy', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-chaos-bin-'));
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'packages/chaos/bin/berth-chaos.ts', 'run', 'examples/chaos/kafka-strategy.ts', '--runs', '6', '--seed', '300', '--report', dir], {
      cwd: REPO,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out).toMatch(/^berth-chaos: 6 scenarios from seed 300: strategy kafka-kraft \(examples\/chaos\/kafka-strategy\.ts\)$/m);
    expect(out).toMatch(/^runs: 6 {3}failures: 0 /m);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as ChaosSummaryFile & { scenariosPerSecond: number };
    expect(summary).toMatchObject({ format: 'berth-chaos-summary/1', seed: 300, runs: 6, ran: 6, shard: null, sizes: [3], maxFaults: 3, failures: [], strategy: { name: 'kafka-kraft', module: 'examples/chaos/kafka-strategy.ts' } });
    expect(summary.faultsInjected).toBeGreaterThan(0);
  }, 60_000);
});
