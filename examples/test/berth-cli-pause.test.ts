// berth-cli pause-node / resume-node with --sim.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulatedClusterInput } from '@berth/sim-driver';
import { describe, expect, it } from 'vitest';
import { EXIT, main, type CliIo } from '../berth-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-cli-pause-'));
const CURRENT = join(dir, 'kafka.json');
writeFileSync(CURRENT, JSON.stringify(simulatedClusterInput({ nodes: 3, name: 'kafka' })));

async function cli(argv: string[], extra: Partial<CliIo> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { env: {}, ...extra, stdout: { write: (s: string) => (out.push(s), true) }, stderr: { write: (s: string) => (err.push(s), true) } });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('berth-cli pause-node / resume-node', () => {
  it('pause-node stops the node keeping its identity; --json is the result; status shows it paused', async () => {
    const r = await cli(['pause-node', CURRENT, 'kafka-2', '--sim', '-q']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/^kafka-2 paused: instance i-\w+ stopped; its ENI, IP, volume and DNS records stay\. resume-node brings it back\.\n$/);
    const j = await cli(['pause-node', CURRENT, 'kafka-2', '--sim', '--json', '-q']);
    expect(JSON.parse(j.stdout)).toMatchObject({ nodeId: 'kafka-2', unchanged: false });
    const s = await cli(['status', CURRENT, '--sim', '-q'], {
      onSimulation: async (sim, spec) => {
        const { createController } = await import('@berth/core');
        await createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'ops' }).pauseNode('kafka-3');
      },
    });
    expect(s.stdout).toMatch(/kafka-3 +eu-west-1\w +paused +down/);
    expect(s.stdout).toMatch(/\npaused: kafka-3 \(resume-node brings it back\)\n/);
  });

  it('a node the spec lacks is a usage error before any call; a refused pause names the node and exits 1', async () => {
    const bad = await cli(['pause-node', CURRENT, 'kafka-9', '--sim', '-q']);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toMatch(/pause-node kafka-9: no such node in cluster kafka \(its nodes: kafka-1, kafka-2, kafka-3\)/);
    const refused = await cli(['pause-node', CURRENT, 'kafka-2', '--sim', '-q'], {
      onSimulation: async (sim, spec) => {
        const { createController } = await import('@berth/core');
        await createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'ops' }).pauseNode('kafka-1');
      },
    });
    expect(refused.code).toBe(EXIT.error);
    expect(refused.stderr).toMatch(/error NODE_OP_REFUSED: pauseNode\(kafka-2\) refused: without kafka-2, 1 of 3 nodes would be healthy/);
  });

  it('resume-node --wait brings a paused node back in service', async () => {
    const r = await cli(['resume-node', CURRENT, 'kafka-2', '--sim', '--wait', '-q'], {
      onSimulation: async (sim, spec) => {
        const { createController } = await import('@berth/core');
        await createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'ops' }).pauseNode('kafka-2');
      },
    });
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/^kafka-2 resumed: i-\w+ in service\n$/);
    expect((await cli(['resume-node', CURRENT, 'kafka-2', '--sim', '-q'])).stdout).toBe('kafka-2 is not paused\n');
  });
});
