// The retries a bootstrap's AWS call gets: the AWS CLI's own (standard mode: 3 attempts), then
// node-bootstrap.sh's aws_call (BERTH_AWS_ATTEMPTS on what it calls transient). The simulated
// `aws` of the bridge and the simulator's node agent must both do what the real ones do.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createController, defineCluster } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { SCRIPT_TRANSIENT_PATTERNS } from '../../src/agent.js';
import { CLI_MAX_ATTEMPTS } from '../../src/aws-cli-retry.js';
import { createSimulation, simulatedClusterInput, startAwsBridge } from '../../src/index.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../../aws-driver/bootstrap/node-bootstrap.sh', import.meta.url));

/** The glob patterns of aws_call's `case $AWS_ERR in` retry branch, without `*` and quotes. */
function scriptTransientPatterns(): string[] {
  const text = readFileSync(SCRIPT, 'utf8');
  const body = /aws_call\(\) \{[\s\S]*?case \$AWS_ERR in\s*([\s\S]*?)\)\s*\n\s*log /.exec(text)?.[1];
  if (!body) throw new Error('node-bootstrap.sh: no case $AWS_ERR in aws_call');
  return body
    .replace(/\\\n/g, ' ')
    .split('|')
    .map((p) => p.trim().replace(/^\*/, '').replace(/\*$/, '').replace(/^'(.*)'$/, '$1'));
}

describe('AWS call retries of the bootstrap', () => {
  it("the simulated agent retries what node-bootstrap.sh's aws_call retries (the connection errors aside, which the simulator has none of)", () => {
    const connection = ['Could not connect', 'Connect timeout', 'Read timeout'];
    expect(scriptTransientPatterns().filter((p) => !connection.includes(p)).sort()).toEqual([...SCRIPT_TRANSIENT_PATTERNS].sort());
  });

  it('the simulated aws CLI makes 3 attempts on throttling before it fails, as the AWS CLI does in its standard retry mode', async () => {
    const sim = createSimulation({ seed: 3, profile: 'fast', nodeAgent: 'none' });
    const spec = defineCluster(simulatedClusterInput({ nodes: 3 }));
    await sim.run(async () => {
      await createController({ spec, driver: sim.driver, clock: sim.clock }).apply();
      while (!sim.world.currentInstance('demo-1')) await sim.clock.sleep(1_000);
    });
    const instanceId = sim.world.currentInstance('demo-1')!.id;
    const bridge = await startAwsBridge(sim, { instanceId });
    try {
      const env = { ...process.env, ...bridge.env, PATH: `${bridge.binDir}:${process.env.PATH ?? ''}` };
      const describe = ['ec2', 'describe-volumes', '--region', 'eu-west-1', '--output', 'text', '--query', 'Volumes[].VolumeId'];
      await sim.run(() => sim.faults.apiErrors({ operations: ['DescribeVolumes'], code: 'throttle', rate: 1, durationMs: 60_000 }));
      const failed = await run('aws', describe, { env }).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      );
      expect(failed?.code).toBe(254);
      expect(failed?.stderr).toMatch(/RequestLimitExceeded/);
      expect(bridge.calls.map((c) => c.error)).toEqual(Array(CLI_MAX_ATTEMPTS).fill('RequestLimitExceeded'));
      expect(failed?.stderr).toMatch(/reached max retries: 2/);
      // After the fault: one attempt, answered.
      await sim.run(() => sim.clock.sleep(61_000));
      const ok = await run('aws', describe, { env });
      expect(ok.stdout).toMatch(/vol-/);
      expect(bridge.calls.slice(CLI_MAX_ATTEMPTS).map((c) => c.error)).toEqual([null]);
    } finally {
      await bridge.close();
    }
  }, 60_000);

  it('the simulated agent makes 3 CLI attempts per aws_call attempt, and 5 aws_call attempts, before it logs a phase tag as failed', async () => {
    const sim = createSimulation({ seed: 4, profile: 'fast' });
    const spec = defineCluster(simulatedClusterInput({ nodes: 3 }));
    const attempts: { at: number; error: string | null }[] = [];
    sim.onApiCall((c) => {
      if (c.callerKind === 'instance' && c.operation === 'CreateTags' && c.instanceId === sim.world.currentInstance('demo-1')?.id) attempts.push({ at: c.sentAtMs, error: c.errorCode });
    });
    await sim.run(async () => {
      sim.faults.apiErrors({ operations: ['CreateTags'], code: 'throttle', rate: 1, durationMs: 10 * 60_000 });
      await sim.driver.ensureNode(spec, 'demo-1');
      while (!sim.trace.some((e) => e.kind === 'agent.tag-failed' && e.nodeId === 'demo-1')) await sim.clock.sleep(1_000);
    });
    const firstTag = attempts.slice(0, 15);
    expect(firstTag.map((a) => a.error)).toEqual(Array(15).fill('RequestLimitExceeded'));
    // Within one aws_call attempt the CLI waits at most 1 s, then 2 s (plus latency); between
    // aws_call attempts the script's backoff (≥ 1 s, growing) comes on top.
    const gaps = firstTag.slice(1).map((a, i) => a.at - firstTag[i]!.at);
    for (const [i, gap] of gaps.entries()) {
      if (i % 3 !== 2) expect(gap, `gap ${i} (CLI backoff)`).toBeLessThan(2_100);
      else expect(gap, `gap ${i} (the script's backoff_sleep)`).toBeGreaterThanOrEqual(1_000);
    }
  });
});
