// The simulated SSM Parameter Store and S3 (SSM-1, SSM-2, S3-2, IAM-16 of docs/aws-behaviour.md),
// through the gateway as the bootstrap's CLI and the agent reach them, and a node whose file
// source is missing failing its boot in the full simulation.
import { createController, defineCluster } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput, type Simulation } from '../../src/index.js';
import { simContext } from '../../src/internal.js';

const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-0000-4000-8000-000000000000';

function ssm(sim: Simulation, operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const ctx = simContext(sim);
  return ctx.gateway.request(ctx.iam.controllerCaller(), 'ssm', operation, input) as Promise<Record<string, unknown>>;
}

const s3 = (sim: Simulation, operation: string, input: Record<string, unknown>) => simContext(sim).gateway.request(simContext(sim).iam.controllerCaller(), 's3', operation, input) as Promise<Record<string, unknown>>;

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { name: string }).name;
  }
  return 'no error';
}

describe('SSM Parameter Store and S3 in the simulated account', () => {
  it('SSM-1: PutParameter refuses an ARN, a name prefixed aws/ssm, a hierarchy without a leading slash, and other characters', async () => {
    const sim = createSimulation({ seed: 1, iam: 'off' });
    await sim.run(async () => {
      expect(await code(ssm(sim, 'PutParameter', { Name: 'arn:aws:ssm:eu-west-1:123456789012:parameter/x', Value: 'v' }))).toBe('ValidationException');
      expect(await code(ssm(sim, 'PutParameter', { Name: '/aws/mine', Value: 'v' }))).toBe('ValidationException');
      expect(await code(ssm(sim, 'PutParameter', { Name: 'SSMthing', Value: 'v' }))).toBe('ValidationException');
      expect(await code(ssm(sim, 'PutParameter', { Name: 'app/x', Value: 'v' }))).toBe('ValidationException');
      expect(await code(ssm(sim, 'PutParameter', { Name: '/app/x y', Value: 'v' }))).toBe('ValidationException');
      expect(await ssm(sim, 'PutParameter', { Name: '/app/x', Value: 'v', Type: 'SecureString' })).toMatchObject({ Version: 1 });
    });
  });

  it('SSM-2: versions, the name:version selector, ARNs, ParameterNotFound / ParameterVersionNotFound / ParameterAlreadyExists, and a SecureString is ciphertext without WithDecryption', async () => {
    const sim = createSimulation({ seed: 1, iam: 'off' });
    await sim.run(async () => {
      await ssm(sim, 'PutParameter', { Name: '/app/secret', Value: 'one', Type: 'SecureString' });
      expect(await code(ssm(sim, 'PutParameter', { Name: '/app/secret', Value: 'two' }))).toBe('ParameterAlreadyExists');
      expect(await ssm(sim, 'PutParameter', { Name: '/app/secret', Value: 'two', Overwrite: true })).toMatchObject({ Version: 2 });
      const latest = (await ssm(sim, 'GetParameter', { Name: '/app/secret', WithDecryption: true }))['Parameter'] as Record<string, unknown>;
      expect(latest).toMatchObject({ Name: '/app/secret', Type: 'SecureString', Value: 'two', Version: 2, ARN: 'arn:aws:ssm:eu-west-1:123456789012:parameter/app/secret' });
      expect(((await ssm(sim, 'GetParameter', { Name: '/app/secret:1', WithDecryption: true }))['Parameter'] as Record<string, unknown>)['Value']).toBe('one');
      expect(((await ssm(sim, 'GetParameter', { Name: 'arn:aws:ssm:eu-west-1:123456789012:parameter/app/secret', WithDecryption: true }))['Parameter'] as Record<string, unknown>)['Value']).toBe('two');
      expect(((await ssm(sim, 'GetParameter', { Name: '/app/secret' }))['Parameter'] as Record<string, unknown>)['Value']).not.toContain('two');
      expect(await code(ssm(sim, 'GetParameter', { Name: '/app/none' }))).toBe('ParameterNotFound');
      expect(await code(ssm(sim, 'GetParameter', { Name: '/app/secret:9' }))).toBe('ParameterVersionNotFound');
      // DescribeParameters: names and metadata, never values.
      const described = await ssm(sim, 'DescribeParameters', { ParameterFilters: [{ Key: 'Name', Values: ['/app/secret'] }] });
      expect(JSON.stringify(described)).not.toContain('two');
      expect(described['Parameters']).toEqual([expect.objectContaining({ Name: '/app/secret', Version: 2, KeyId: 'alias/aws/ssm' })]);
    });
  });

  it('S3-2: GetObject answers NoSuchBucket and NoSuchKey (404), keeps versions in a versioned bucket, and HeadObject returns no body', async () => {
    const sim = createSimulation({ seed: 1, iam: 'off' });
    await sim.run(async () => {
      const v1 = sim.account.putObject('s3://cfg/a', 'one', { versioned: true }) as string;
      sim.account.putObject('s3://cfg/a', 'two', { versioned: true });
      const text = async (input: Record<string, unknown>) => new TextDecoder().decode((await s3(sim, 'GetObject', input))['Body'] as Uint8Array);
      expect(await text({ Bucket: 'cfg', Key: 'a' })).toBe('two');
      expect(await text({ Bucket: 'cfg', Key: 'a', VersionId: v1 })).toBe('one');
      expect(await s3(sim, 'HeadObject', { Bucket: 'cfg', Key: 'a' })).not.toHaveProperty('Body');
      const err = async (input: Record<string, unknown>) => {
        try {
          await s3(sim, 'GetObject', input);
        } catch (e) {
          return [(e as { name: string }).name, (e as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode];
        }
        return null;
      };
      expect(await err({ Bucket: 'nope', Key: 'a' })).toEqual(['NoSuchBucket', 404]);
      expect(await err({ Bucket: 'cfg', Key: 'b' })).toEqual(['NoSuchKey', 404]);
      expect(await err({ Bucket: 'cfg', Key: 'a', VersionId: 'nosuchversion' })).toEqual(['NoSuchVersion', 404]);
    });
  });

  it('IAM-16: a SecureString under the aws/ssm key needs no KMS permission; under a customer key the reader needs kms:Decrypt on it via SSM (the generated node policy has it)', async () => {
    const sim = createSimulation({ seed: 1, profile: 'fast' });
    const base = simulatedClusterInput({ nodes: 3 });
    const spec = defineCluster({
      ...base,
      bootstrap: { ...base.bootstrap, files: [{ path: '/etc/a', source: { ssm: { name: '/app/default-key' } } }, { path: '/etc/b', source: { ssm: { name: '/app/customer-key', kmsKeyId: KEY } } }] },
    });
    sim.account.prepare(spec);
    sim.account.putParameter('/app/default-key', 'a');
    sim.account.putParameter('/app/customer-key', 'b', { keyId: KEY });
    const node = sim.account.rolePolicies(spec.iamInstanceProfile);
    const statements = Object.values(node).flatMap((d) => (d as { Statement: { Sid: string; Action: string[]; Resource: string[]; Condition?: unknown }[] }).Statement);
    expect(statements.find((s) => s.Sid === 'DecryptFileParameters')).toEqual({ Sid: 'DecryptFileParameters', Effect: 'Allow', Action: ['kms:Decrypt'], Resource: [KEY], Condition: { StringEquals: { 'kms:ViaService': 'ssm.eu-west-1.amazonaws.com' } } });
    // Booted nodes read both (the agent fetches them with the node role, IAM evaluated).
    await sim.run(() => createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks }).apply().then(() => sim.clock.sleep(600_000)));
    expect(sim.account.iamDenials()).toEqual([]);
    expect(sim.world.currentInstance(spec.nodes[0]!.id)?.tags['berth:phase']).toBe('in-service');
    // Without the statement, the customer key's parameter is denied on kms:Decrypt.
    const role = spec.iamInstanceProfile;
    sim.account.setRolePolicies(role, Object.fromEntries(Object.entries(node).map(([k, d]) => [k, { ...(d as object), Statement: statements.filter((s) => s.Sid !== 'DecryptFileParameters') }])));
    const ctx = simContext(sim);
    const inst = sim.world.currentInstance(spec.nodes[0]!.id)!;
    const caller = ctx.iam.instanceCaller(inst as never)!;
    const denied = await sim.run(async () => {
      try {
        await ctx.gateway.request(caller, 'ssm', 'GetParameter', { Name: '/app/customer-key', WithDecryption: true });
      } catch (e) {
        return (e as Error).name;
      }
      return 'allowed';
    });
    expect(denied).toBe('AccessDeniedException');
    expect(sim.account.iamDenials().map((d) => d.action)).toEqual(['kms:Decrypt']);
  });

  it('a node whose file source is missing fails configuring with file-source-not-found (the simulated agent, as the script)', async () => {
    const sim = createSimulation({ seed: 2, profile: 'fast' });
    const base = simulatedClusterInput({ nodes: 3 });
    const spec = defineCluster({ ...base, bootstrap: { ...base.bootstrap, files: [{ path: '/etc/a', source: { s3: { uri: 's3://cfg/missing' } } }] } });
    sim.account.prepare(spec);
    sim.account.putObject('s3://cfg/other', 'x');
    await sim.run(async () => {
      await createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks }).apply();
      await sim.clock.sleep(120_000);
    });
    const failed = sim.trace.filter((e) => e.kind === 'agent.failed').map((e) => [e['phase'], e['reason']]);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]).toEqual(['configuring', 'file-source-not-found']);
  });
});

describe('preflight: file sources exist (simulated account)', () => {
  it('SSM-2: reports a missing parameter, a version beyond the latest and a missing object, naming the file; lists and describes only (no value read), with the generated controller policy', async () => {
    const sim = createSimulation({ seed: 4, profile: 'fast' });
    const base = simulatedClusterInput({ nodes: 3 });
    const spec = defineCluster({
      ...base,
      bootstrap: {
        ...base.bootstrap,
        files: [
          { path: '/etc/ok', source: { ssm: { name: '/app/ok' } } },
          { path: '/etc/missing', source: { ssm: { name: '/app/missing' } } },
          { path: '/etc/future', source: { ssm: { name: '/app/ok', version: 7 } } },
          { path: '/etc/obj', source: { s3: { uri: 's3://cfg/present' } } },
          { path: '/etc/noobj', source: { s3: { uri: 's3://cfg/absent' } } },
        ],
      },
    });
    sim.account.prepare(spec);
    sim.account.putParameter('/app/ok', 'v');
    sim.account.putObject('s3://cfg/present', 'x');
    const ops: string[] = [];
    sim.onApiCall((c) => void ops.push(c.operation));
    const report = await sim.run(() => sim.driver.preflight(spec));
    expect(report.problems.filter((p) => p.check === 'file-sources').map((p) => p.path)).toEqual([
      'bootstrap.files[1].source.ssm.name',
      'bootstrap.files[2].source.ssm.version',
      'bootstrap.files[4].source.s3.uri',
    ]);
    expect(report.problems.find((p) => p.path === 'bootstrap.files[1].source.ssm.name')?.message).toMatch(/^\/etc\/missing: SSM parameter \/app\/missing does not exist/);
    expect(ops).not.toContain('GetParameter');
    expect(ops).not.toContain('GetObject');
    expect(sim.account.iamDenials()).toEqual([]);
  });
});

describe('secret warnings in the plan', () => {
  it('plan() warns (and does not fail) on a likely secret in an inline file, pointing to a file source', async () => {
    const sim = createSimulation({ seed: 5, profile: 'fast' });
    const base = simulatedClusterInput({ nodes: 3 });
    const spec = defineCluster({ ...base, bootstrap: { ...base.bootstrap, files: [{ path: '/etc/app.env', content: 'DB_PASSWORD=hunter2hunter2\n' }] } });
    const plan = await sim.run(() => createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks }).plan());
    const w = plan.warnings.filter((x) => x.includes('bootstrap.files[0]'));
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/\/etc\/app\.env\) looks like it holds a password, token or key assignment.*bootstrap\.files\[\]\.source/);
    expect(w[0]).not.toContain('hunter2');
  });
});
