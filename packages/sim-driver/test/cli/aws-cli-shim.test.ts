// bin/aws-cli-shim.mjs as a real child process (on PATH as `aws`, called from bash the way
// node-bootstrap.sh calls the CLI) against an in-test HTTP server on 127.0.0.1.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handleCliRequest } from '../../src/cli/index.js';
import { FakeAws } from './fake-aws.js';

const SHIM = fileURLToPath(new URL('../../bin/aws-cli-shim.mjs', import.meta.url));

let server: Server;
let endpoint: string;
let binDir: string;
let aws: FakeAws;
let requests = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/cli') {
        res.writeHead(404).end('not found');
        return;
      }
      void handleCliRequest(JSON.parse(Buffer.concat(chunks).toString('utf8')), aws.invoke).then((answer) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  binDir = mkdtempSync(join(tmpdir(), 'berth-aws-shim-'));
  symlinkSync(SHIM, join(binDir, 'aws'));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(binDir, { recursive: true, force: true });
});

beforeEach(() => {
  aws = new FakeAws();
  aws.addVolume({ VolumeId: 'vol-1', Tags: [{ Key: 'berth:cluster', Value: 'kafka' }] });
  requests = 0;
});

// stdin from /dev/null: bash reads ~/.bashrc when its stdin is a socket, as Node's pipes are.
function sh(script: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], {
      env: { PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('aws-cli-shim', () => {
  it('runs a bootstrap-style call through PATH and passes stdout and the exit code on', async () => {
    const r = await sh(
      `out=$(aws --region us-east-1 --output text ec2 describe-volumes --filters "Name=tag:berth:cluster,Values=kafka" --query "Volumes[?State!='deleting'].VolumeId"); echo "rc=$? out=$out"`,
      { BERTH_SIM_AWS_ENDPOINT: endpoint },
    );
    expect(r.stdout).toBe('rc=0 out=vol-1\n');
    expect(aws.calls[0]?.input).toEqual({ Filters: [{ Name: 'tag:berth:cluster', Values: ['kafka'] }] });
  });

  it('passes stderr and a service error exit code, and the region from the environment', async () => {
    const r = await sh('aws ec2 attach-volume --volume-id vol-x --instance-id i-1 --device /dev/sdf', { BERTH_SIM_AWS_ENDPOINT: endpoint, AWS_DEFAULT_REGION: 'eu-west-1' });
    expect(r.code).toBe(254);
    expect(r.stderr).toBe("\naws: [ERROR]: An error occurred (InvalidVolume.NotFound) when calling the AttachVolume operation: The volume 'vol-x' does not exist.\n");
    expect(aws.calls[0]?.region).toBe('eu-west-1');
  });

  it('behaves like the CLI facing an unreachable endpoint (255, "Could not connect")', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await sh('aws --region us-east-1 sts get-caller-identity', { BERTH_SIM_AWS_ENDPOINT: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(255);
    expect(r.stderr).toBe(`\naws: [ERROR]: Could not connect to the endpoint URL: "http://127.0.0.1:${port}/cli"\n`);
  });

  it('refuses a non-loopback endpoint without sending anything, and needs the endpoint set', async () => {
    const r = await sh('aws --region us-east-1 sts get-caller-identity', { BERTH_SIM_AWS_ENDPOINT: 'http://example.com:80' });
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('refusing http://example.com:80');
    const unset = await sh('aws --region us-east-1 sts get-caller-identity', {});
    expect(unset.code).toBe(255);
    expect(unset.stderr).toContain('BERTH_SIM_AWS_ENDPOINT is not set');
    expect(requests).toBe(0);
  });
});
