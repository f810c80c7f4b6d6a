// BOOTSTRAP_CALLS (src/agent.ts) says which AWS calls the node bootstrap makes and with which
// parameters; the simulator's node agent makes the same. This keeps the three in step: the real
// script (run against the bridge), the simulated agent, and the list.
import { CompleteLifecycleActionCommand, TerminateInstanceInAutoScalingGroupCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateVersionCommand } from '@aws-sdk/client-ec2';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createController } from '@berth/core';
import { afterAll, describe, it } from 'vitest';
import { BOOTSTRAP_CALLS, createSimulation } from '../../src/index.js';
import { ADMIN_ROLE, closeWorlds, decodeUserData, makeImage, makeSpec, makeWorld, withData } from './harness.js';

afterAll(closeWorlds);

/**
 * A call as BOOTSTRAP_CALLS names it: the operation (DescribeVolumes split by its two uses)
 * with the request parameters sent, a filter counting as `Filters:<name>`.
 */
function signature(operation: string, input: Readonly<Record<string, unknown>>): string {
  const filters = Array.isArray(input['Filters']) ? (input['Filters'] as { Name: string }[]).map((f) => `Filters:${f.Name}`) : [];
  const key = operation === 'DescribeVolumes' ? `DescribeVolumes(${filters.length > 0 ? 'filters' : 'ids'})` : operation;
  const params = [...Object.keys(input).filter((k) => k !== 'Filters'), ...filters].sort();
  return `${key} ${params.join(' ')}`;
}

const signatures = (calls: readonly { operation: string; input: Readonly<Record<string, unknown>> }[]): string[] =>
  [...new Set(calls.map((c) => signature(c.operation, c.input)))].sort();

const EXPECTED = Object.entries(BOOTSTRAP_CALLS)
  .map(([key, params]) => `${key} ${[...params].sort().join(' ')}`)
  .sort();

/** Files from SSM Parameter Store and S3 (docs/secrets.md): the fetches are bootstrap calls too. */
const sourcedFiles = (dir: string) => [
  { path: join(dir, 'etc', 'jaas.conf'), source: { ssm: { name: '/berth/calls/jaas.conf' } }, mode: '0600' },
  { path: join(dir, 'etc', 'server.properties'), source: { s3: { uri: 's3://berth-calls/server.properties' } } },
];
const putSources = (sim: { account: { putParameter(n: string, v: string): number; putObject(u: string, b: string): string | null } }) => {
  sim.account.putParameter('/berth/calls/jaas.conf', 'secret');
  sim.account.putObject('s3://berth-calls/server.properties', 'a=1\n');
};

/** The real script: a normal boot that heartbeats, then a second run of a hand-rendered user data (no volume id: the tag lookup). */
async function scriptCalls(): Promise<{ operation: string; input: Readonly<Record<string, unknown>> }[]> {
  const w = await makeWorld({
    input: (dir) => ({ bootstrap: { configureScript: `[ -e ${join(dir, 'slept')} ] || { touch ${join(dir, 'slept')}; sleep 2; }`, files: sourcedFiles(dir) } }),
  });
  putSources(w.sim);
  w.linkById(makeImage(join(w.dir, 'vol.img'), 64));
  w.env.BERTH_HEARTBEAT_INTERVAL_SEC = '1';
  const normal = await w.run();
  const fallback = await w.run({ data: { BERTH_VOLUME_ID: '' } });
  if (normal.code !== 0 || fallback.code !== 0) throw new Error(`the script failed:\n${normal.stderr}\n${fallback.stderr}`);
  return [...normal.calls, ...fallback.calls];
}

/**
 * The simulated agent through the same paths: n1's attach hangs for 250 s (it heartbeats
 * meanwhile, every 100 s), an operator completes its lifecycle action by hand (so its own
 * CONTINUE finds none and it checks InService), then n1's group launches from a template
 * version whose user data has no volume id (the tag lookup).
 */
async function agentCalls(): Promise<{ calls: { operation: string; input: Readonly<Record<string, unknown>> }[]; counted: Readonly<Record<string, number>> }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-agent-'));
  try {
    const sim = createSimulation({ seed: 1, profile: 'fast', nodeAgent: 'simulated', region: 'us-east-1' });
    const spec = makeSpec(dir, { bootstrap: { files: sourcedFiles(dir) } } as never);
    putSources(sim);
    // The agent's requests: the calls made with an instance role.
    const calls: { operation: string; input: Readonly<Record<string, unknown>> }[] = [];
    sim.onApiCall((c) => {
      if (c.callerKind === 'instance') calls.push({ operation: c.operation, input: structuredClone(c.input) });
    });
    sim.account.setRolePolicies(ADMIN_ROLE, { all: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } });
    const admin = sim.awsAs(ADMIN_ROLE);
    const group = 'berth-kafka-n1';
    await sim.run(async () => {
      sim.faults.stuckAttach('n1', 250_000);
      await createController({ spec, driver: sim.driver, clock: sim.clock }).apply();
      await sim.clock.sleep(150_000);
      const first = sim.world.currentInstance('n1');
      if (first?.lifecycleState !== 'Pending:Wait') throw new Error(`n1 is ${first?.lifecycleState}, not waiting`);
      await admin.autoScaling.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: group, LifecycleHookName: 'berth-launch', InstanceId: first.id, LifecycleActionResult: 'CONTINUE' }));
      await sim.clock.sleep(300_000);
      if (first.tags['berth:phase'] !== 'in-service') throw new Error(`n1's first instance is ${first.tags['berth:phase']}`);

      const template = first.launchTemplate;
      if (!template || !first.userData) throw new Error('n1 has no launch template or user data');
      const handRendered = gzipSync(withData(decodeUserData(first.userData), { BERTH_VOLUME_ID: '' })).toString('base64');
      const version = await admin.ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: template.id, SourceVersion: String(template.version), LaunchTemplateData: { UserData: handRendered } }));
      await admin.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: group, LaunchTemplate: { LaunchTemplateId: template.id, Version: String(version.LaunchTemplateVersion?.VersionNumber) } }));
      await admin.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: first.id, ShouldDecrementDesiredCapacity: false }));
      for (let i = 0; i < 120; i++) {
        const next = sim.world.currentInstance('n1');
        if (next && next.id !== first.id && next.lifecycleState === 'InService' && next.tags['berth:phase'] === 'in-service') return;
        await sim.clock.sleep(5_000);
      }
      throw new Error('n1 was not replaced and in service');
    });
    return { calls, counted: sim.world.agentApiCalls };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('BOOTSTRAP_CALLS', () => {
  it('the real script and the simulated agent send the same calls with the same parameters and filters, and BOOTSTRAP_CALLS lists exactly those', async ({ expect }) => {
    const [script, agent] = await Promise.all([scriptCalls(), agentCalls()]);
    // The agent's paths reached every branch that the log was meant to show.
    const counted = Object.entries(agent.counted).flatMap(([op, n]) => Array.from({ length: n }, () => op)).sort();
    expect(agent.calls.map((c) => c.operation).sort()).toEqual(counted);
    expect(signatures(script)).toEqual(signatures(agent.calls));
    expect(signatures(script)).toEqual(EXPECTED);
    // The values that do not depend on the instance are the same too: the lookup's filters, the tag key.
    const lookup = (calls: typeof script) => calls.find((c) => c.operation === 'DescribeVolumes' && c.input['Filters'])?.input['Filters'];
    expect(lookup(agent.calls)).toEqual(lookup(script));
    const tagKeys = (calls: typeof script) => [...new Set(calls.filter((c) => c.operation === 'CreateTags').flatMap((c) => (c.input['Tags'] as { Key: string }[]).map((t) => t.Key)))];
    expect(tagKeys(agent.calls)).toEqual(['berth:phase']);
    expect(tagKeys(script)).toEqual(['berth:phase']);
  });
});
