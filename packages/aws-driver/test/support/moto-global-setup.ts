import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import type { TestProject } from 'vitest/node';

/**
 * vitest globalSetup of the moto project: one moto_server per vitest worker for the whole test
 * run, each on a free 127.0.0.1 port, handed to the tests as `inject('motoEndpoints')` and stopped
 * by its PID when every file has run. (One server per file cost ~5 s of Python start-up each.)
 *
 * The tests reset moto (POST /moto-api/reset) before each test. A reset wipes every account and
 * region, so two files on one server would wipe each other's state whatever names they use: a
 * file takes the server of its worker slot (`sharedMoto()` in moto-server.ts, by VITEST_POOL_ID),
 * and vitest never runs two files in one slot at once. The moto files thus run two at a time,
 * beside the other projects' files, on servers of their own.
 *
 * Traffic never leaves 127.0.0.1: the servers listen there only, and every client in the tests
 * takes one of these endpoints (aws-fixture.ts refuses any other) and static fake credentials.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** `http://127.0.0.1:PORT` of the first moto_server (the one of worker slot 1). */
    motoEndpoint: string;
    /** `http://127.0.0.1:PORT` of each worker slot's moto_server: slot `VITEST_POOL_ID` uses entry `VITEST_POOL_ID - 1`. */
    motoEndpoints: readonly string[];
    /** Two of moto's public x86_64 AMIs (the same after every reset): the image and the roll target. */
    motoImages: readonly [string, string];
  }
}

const STARTUP_TIMEOUT_MS = 30_000;
const NOT_INSTALLED = "moto_server not found on PATH: install moto (pip install 'moto[server]==5.2.1')";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
  }, 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * moto's AMIs survive resets, and describing them takes a second or two: done once per run.
 * A plain EC2 Query request, not the SDK: loading @aws-sdk/client-ec2 into vitest's main
 * process costs ~6 s. moto does not check signatures; the credential scope names the service.
 */
async function publicImages(endpoint: string): Promise<readonly [string, string]> {
  const body = new URLSearchParams({
    Action: 'DescribeImages',
    Version: '2016-11-15',
    'Owner.1': 'amazon',
    'Filter.1.Name': 'architecture',
    'Filter.1.Value.1': 'x86_64',
  });
  const r = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      authorization: 'AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0',
    },
    body,
  });
  const xml = await r.text();
  if (!r.ok) throw new Error(`moto DescribeImages failed: HTTP ${r.status}: ${xml.slice(0, 500)}`);
  const ids = [...xml.matchAll(/<imageId>(ami-[0-9a-f]+)<\/imageId>/g)].map((m) => m[1] ?? '');
  const regular = [...new Set(ids.filter((id) => /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/.test(id)))];
  const [first, second] = regular;
  if (!first || !second) throw new Error('moto offers fewer than two AMIs with a regular id');
  return [first, second];
}

/** One moto_server on a free 127.0.0.1 port, answering; `stop` ends it. */
async function startMoto(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'false' },
  });
  let spawnError: NodeJS.ErrnoException | null = null;
  let stderr = '';
  child.on('error', (err) => (spawnError = err));
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    const failed = spawnError as NodeJS.ErrnoException | null;
    if (failed) throw new Error(failed.code === 'ENOENT' ? NOT_INSTALLED : `moto_server failed to start: ${failed.message}`);
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode} before answering on ${endpoint}:\n${stderr}`);
    try {
      const r = await fetch(`${endpoint}/moto-api/data.json`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop(child);
      throw new Error(`moto_server did not answer on ${endpoint} within ${STARTUP_TIMEOUT_MS / 1000} s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { endpoint, stop: () => stop(child) };
}

/** How many files of `project` vitest runs at once: its worker slots (vitest's own rule, `resolveMaxWorkers`). */
function workerSlots(project: TestProject): number {
  const configured = project.config.maxWorkers ?? project.vitest.config.maxWorkers;
  if (typeof configured === 'number' && configured >= 1) return Math.floor(configured);
  return Math.max(availableParallelism() - 1, 1);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = await Promise.allSettled(Array.from({ length: workerSlots(project) }, () => startMoto()));
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stopAll = async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    // moto's AMIs come from its bundled data: every server offers the same two.
    const images = await Promise.all(servers.map((s) => publicImages(s.endpoint)));
    for (const other of images.slice(1)) {
      if (other.join() !== images[0]!.join()) throw new Error(`the moto servers offer different AMIs: ${images.map((i) => i.join(' ')).join(' vs ')}`);
    }
    project.provide('motoImages', images[0]!);
  } catch (err) {
    await stopAll();
    throw err;
  }
  project.provide('motoEndpoints', servers.map((s) => s.endpoint));
  project.provide('motoEndpoint', servers[0]!.endpoint);
  return stopAll;
}
