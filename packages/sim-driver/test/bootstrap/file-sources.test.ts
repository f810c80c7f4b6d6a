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

describe.concurrent('node bootstrap: files from S3', () => {
  async function s3World(uri: string, versionId?: string): Promise<BootWorld> {
    const w = await makeWorld({
      input: (dir) => ({ bootstrap: { files: [{ path: join(dir, 'etc', 'server.properties'), source: { s3: { uri, ...(versionId !== undefined && { versionId }) } }, mode: '0640' }] } }),
    });
    w.linkById(makeImage(join(w.dir, 'vol.img'), 64));
    return w;
  }

  it('S3-2, IAM-15: fetches the object byte for byte with s3api get-object into the file, with its mode', async ({ expect }) => {
    const w = await s3World('s3://berth-config/kafka/server.properties');
    const body = new Uint8Array([0x61, 0x3d, 0x31, 0x0a, 0x00, 0xff, 0x62]); // no final newline, a NUL and a 0xff byte
    w.sim.account.putObject('s3://berth-config/kafka/server.properties', body);
    const r = await w.run();
    expect(r.code, r.stderr).toBe(0);
    const file = join(w.dir, 'etc', 'server.properties');
    expect(new Uint8Array(readFileSync(file))).toEqual(body);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(r.calls.filter((c) => c.operation === 'GetObject').map((c) => c.input)).toEqual([{ Bucket: 'berth-config', Key: 'kafka/server.properties' }]);
    expect(w.sim.account.iamDenials()).toEqual([]);
  });

  it('S3-2, IAM-15: a pinned version id is fetched with --version-id (s3:GetObjectVersion), not the latest', async ({ expect }) => {
    // The simulated account's version ids are deterministic: the first one it makes is this.
    const firstVersion = `${'0'.repeat(31)}1`;
    const w = await s3World('s3://versioned-config/kafka/server.properties', firstVersion);
    expect(w.sim.account.putObject('s3://versioned-config/kafka/server.properties', 'v1\n', { versioned: true })).toBe(firstVersion);
    w.sim.account.putObject('s3://versioned-config/kafka/server.properties', 'v2\n', { versioned: true });
    expect(JSON.stringify(w.sim.account.rolePolicies(w.spec.iamInstanceProfile))).toContain('s3:GetObjectVersion');
    const r = await w.run();
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(w.dir, 'etc', 'server.properties'), 'utf8')).toBe('v1\n');
    expect(r.calls.filter((c) => c.operation === 'GetObject').map((c) => c.input)).toEqual([{ Bucket: 'versioned-config', Key: 'kafka/server.properties', VersionId: firstVersion }]);
  });

  it('S3-2: a missing key fails configuring with file-source-not-found, naming the file and the object', async ({ expect }) => {
    const w = await s3World('s3://berth-config/kafka/missing');
    w.sim.account.putObject('s3://berth-config/kafka/other', 'x');
    const r = await w.run();
    expect(r.phases.at(-1)).toBe('failed:configuring:file-source-not-found');
    expect(r.stderr).toMatch(/server\.properties: s3:\/\/berth-config\/kafka\/missing does not exist: .*NoSuchKey/);
  });

  it('IAM-15: without the generated ReadFileObjects statement the fetch is denied', async ({ expect }) => {
    const w = await s3World('s3://berth-config/kafka/server.properties');
    w.sim.account.putObject('s3://berth-config/kafka/server.properties', 'a=1\n');
    const role = w.spec.iamInstanceProfile;
    const policies = w.sim.account.rolePolicies(role) as Record<string, { Statement: { Sid: string }[] }>;
    w.sim.account.setRolePolicies(role, Object.fromEntries(Object.entries(policies).map(([k, d]) => [k, { ...d, Statement: d.Statement.filter((s) => s.Sid !== 'ReadFileObjects') }])));
    const r = await w.run();
    expect(r.phases.at(-1)).toBe('failed:configuring:file-source-denied');
    expect(w.sim.account.iamDenials().map((d) => [d.action, d.resource])).toEqual([['s3:GetObject', 'arn:aws:s3:::berth-config/kafka/server.properties']]);
  });
});

describe('node bootstrap: configure and health scripts from a source', () => {
  it('SSM-2, S3-2: the configure script comes from SSM Parameter Store, the health script from S3; neither is in the user data', async ({ expect }) => {
    const w = await makeWorld({
      input: () => ({ bootstrap: { configureScriptSource: { ssm: { name: '/kafka/configure.sh' } }, healthScriptSource: { s3: { uri: 's3://berth-config/kafka/health.sh' } } } }),
    });
    w.linkById(makeImage(join(w.dir, 'vol.img'), 64));
    const marker = join(w.dir, 'configured-by-ssm-script');
    w.sim.account.putParameter('/kafka/configure.sh', `echo "node $BERTH_NODE_ID" > ${marker}`);
    w.sim.account.putObject('s3://berth-config/kafka/health.sh', `test -s ${marker}\n`);
    expect(w.userData).not.toContain('configured-by-ssm-script');
    const r = await w.run();
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(marker, 'utf8')).toBe(`node ${w.spec.nodes[0]!.id}\n`);
    expect(r.calls.filter((c) => c.operation === 'GetParameter' || c.operation === 'GetObject').map((c) => c.operation)).toEqual(['GetParameter', 'GetObject']);
    expect(lifecycleResults(r.calls)).toEqual(['CONTINUE']);
    expect(w.sim.account.iamDenials()).toEqual([]);
  });

  it('a missing configure script fails configuring with file-source-not-found, naming it', async ({ expect }) => {
    const w = await makeWorld({ input: () => ({ bootstrap: { configureScriptSource: { ssm: { name: '/kafka/missing.sh' } } } }) });
    w.linkById(makeImage(join(w.dir, 'vol.img'), 64));
    const r = await w.run();
    expect(r.phases.at(-1)).toBe('failed:configuring:file-source-not-found');
    expect(r.stderr).toMatch(/@configure: SSM parameter \/kafka\/missing\.sh does not exist/);
  });
});
