// bootstrap.files[].source (docs/secrets.md): the real bootstrap fetches a file from SSM
// Parameter Store with the instance role (the generated node policy: IAM evaluated), writes it
// with its mode, never logs its value, and fails the configuring phase with a clear reason when
// the parameter is missing or the role may not read it.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { closeWorlds, lifecycleResults, makeImage, makeWorld } from './harness.js';
import type { BootWorld } from './harness.js';

afterAll(closeWorlds);

const SECRET = 'KafkaServer { password="s3cr3t-value"; };';

async function world(name: string, version?: number): Promise<BootWorld> {
  const w = await makeWorld({
    input: (dir) => ({ bootstrap: { files: [{ path: join(dir, 'etc', 'jaas.conf'), source: { ssm: { name, ...(version !== undefined && { version }) } }, mode: '0600' }] } }),
  });
  w.linkById(makeImage(join(w.dir, 'vol.img'), 64));
  return w;
}

async function failureTagged(w: BootWorld): Promise<string> {
  const r = await w.run();
  return r.phases.at(-1) ?? '';
}

describe.concurrent('node bootstrap: files from SSM Parameter Store', () => {
  it('SSM-2, IAM-14: fetches a SecureString with --with-decryption under the node role, writes it with its mode, and never logs it', async ({ expect }) => {
    const w = await world('/kafka/prod/jaas.conf');
    w.sim.account.putParameter('/kafka/prod/jaas.conf', 'old');
    w.sim.account.putParameter('/kafka/prod/jaas.conf', SECRET);
    expect(w.userData).not.toContain('s3cr3t');
    expect(w.userData).toContain("BERTH_FILE_SOURCES=('ssm')");
    const r = await w.run();
    expect(r.code, r.stderr).toBe(0);
    const file = join(w.dir, 'etc', 'jaas.conf');
    expect(readFileSync(file, 'utf8')).toBe(`${SECRET}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(r.calls.filter((c) => c.operation === 'GetParameter').map((c) => [c.input, c.error])).toEqual([[{ Name: '/kafka/prod/jaas.conf', WithDecryption: true }, null]]);
    expect(r.stderr).not.toContain('s3cr3t');
    expect(w.sim.account.iamDenials()).toEqual([]);
  });

  it('SSM-2: a pinned version is fetched with the name:version selector', async ({ expect }) => {
    const w = await world('/kafka/prod/jaas.conf', 1);
    w.sim.account.putParameter('/kafka/prod/jaas.conf', 'version one');
    w.sim.account.putParameter('/kafka/prod/jaas.conf', 'version two');
    const r = await w.run();
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(w.dir, 'etc', 'jaas.conf'), 'utf8')).toBe('version one\n');
  });

  it('SSM-2: a missing parameter fails configuring with file-source-not-found, naming the file and the parameter', async ({ expect }) => {
    const w = await world('/kafka/prod/missing');
    const r = await w.run();
    expect(r.phases.at(-1)).toBe('failed:configuring:file-source-not-found');
    expect(r.stderr).toMatch(/jaas\.conf: SSM parameter \/kafka\/prod\/missing does not exist: .*ParameterNotFound/);
    expect(lifecycleResults(r.calls)).toEqual(['ABANDON']);
  });

  it('SSM-2: a pinned version that does not exist fails with file-source-not-found (ParameterVersionNotFound)', async ({ expect }) => {
    const w = await world('/kafka/prod/jaas.conf', 5);
    w.sim.account.putParameter('/kafka/prod/jaas.conf', SECRET);
    expect(await failureTagged(w)).toBe('failed:configuring:file-source-not-found');
  });

  it('IAM-14: without the generated ReadFileParameters statement the fetch is denied, and the phase says so', async ({ expect }) => {
    const w = await world('/kafka/prod/jaas.conf');
    w.sim.account.putParameter('/kafka/prod/jaas.conf', SECRET);
    const role = w.spec.iamInstanceProfile;
    const policies = w.sim.account.rolePolicies(role) as Record<string, { Statement: { Sid: string }[] }>;
    const stripped = Object.fromEntries(Object.entries(policies).map(([k, d]) => [k, { ...d, Statement: d.Statement.filter((s) => s.Sid !== 'ReadFileParameters') }]));
    expect(JSON.stringify(policies)).toContain('ReadFileParameters');
    w.sim.account.setRolePolicies(role, stripped);
    const r = await w.run();
    expect(r.phases.at(-1)).toBe('failed:configuring:file-source-denied');
    expect(r.stderr).toMatch(/may not read SSM parameter \/kafka\/prod\/jaas\.conf/);
    expect(w.sim.account.iamDenials().map((d) => [d.action, d.resource])).toEqual([['ssm:GetParameter', 'arn:aws:ssm:us-east-1:123456789012:parameter/kafka/prod/jaas.conf']]);
    expect(r.stderr).not.toContain('s3cr3t');
  });
});
