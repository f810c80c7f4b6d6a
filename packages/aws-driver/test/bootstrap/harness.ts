// Runs the real node bootstrap (rendered by renderUserData) under bash with a fake `aws` CLI on
// PATH, a fake IMDS on 127.0.0.1, and real block-device tools on image files.
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { defineCluster } from '@berth/core';
import type { ClusterInput, ClusterSpec } from '@berth/core';
import { groupName, LAUNCH_HOOK_NAME } from '../../src/names.js';
import { renderUserData } from '../../src/user-data.js';
import type { UserDataOptions } from '../../src/user-data.js';

export const INSTANCE_ID = 'i-0123456789abcdef0';
export const VOLUME_ID = 'vol-0abc123def4567890';
export const AZ = 'us-east-1a';

export const USER = userInfo().username;
export const GROUP = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();

export function makeSpec(dir: string, over: Partial<ClusterInput> = {}, dataVolume: Record<string, unknown> = {}): ClusterSpec {
  return defineCluster({
    name: 'kafka',
    region: 'us-east-1',
    subnets: [{ id: 'subnet-0123456789abcdef0', az: AZ, cidr: '10.0.1.0/24' }],
    nodes: ['n1', 'n2', 'n3'].map((id, i) => ({ id, ip: `10.0.1.${10 + i}`, subnetId: 'subnet-0123456789abcdef0' })),
    image: 'ami-0123456789abcdef0',
    instanceType: 'm6i.large',
    securityGroupIds: ['sg-0123456789abcdef0'],
    iamInstanceProfile: 'kafka-node',
    dataVolume: { sizeGiB: 10, fileSystem: 'ext4', mountPath: join(dir, 'data'), owner: USER, group: GROUP, ...dataVolume },
    lifecycle: { heartbeatTimeoutSec: 300, defaultResult: 'ABANDON', onFailure: 'abandon' },
    ...over,
  });
}

/** Decoded (and gunzipped) user data text. */
export function userDataText(spec: ClusterSpec, nodeId = 'n1', options: UserDataOptions = {}): string {
  const r = renderUserData(spec, nodeId, 'r-0011223344556677', options);
  const bytes = Buffer.from(r.userData, 'base64');
  return (r.gzipped ? gunzipSync(bytes) : bytes).toString('utf8');
}

// ---- Fake IMDS (IMDSv2: a token is required) -----------------------------------------------------

export interface FakeImds {
  readonly url: string;
  failTokenPuts: number;
  tokenPuts: number;
  rejectedGets: number;
  close(): Promise<void>;
}

export async function startFakeImds(): Promise<FakeImds> {
  const token = 'fake-imds-token';
  const meta: Record<string, string> = {
    '/latest/meta-data/instance-id': INSTANCE_ID,
    '/latest/meta-data/placement/availability-zone': AZ,
    '/latest/meta-data/placement/region': 'us-east-1',
  };
  const state = { failTokenPuts: 0, tokenPuts: 0, rejectedGets: 0 };
  const server = createServer((req, res) => {
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      state.tokenPuts++;
      if (state.failTokenPuts > 0 || !req.headers['x-aws-ec2-metadata-token-ttl-seconds']) {
        state.failTokenPuts = Math.max(0, state.failTokenPuts - 1);
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200).end(token);
      return;
    }
    if (req.headers['x-aws-ec2-metadata-token'] !== token) {
      state.rejectedGets++;
      res.writeHead(401).end();
      return;
    }
    const body = meta[req.url ?? ''];
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

// ---- Fake aws CLI, sleep, mount and mountpoint: PATH shims in fixtures/ that log to calls.log ------




export interface RunResult {
  readonly code: number;
  readonly stderr: string;
  /** Every fake-aws / fake-sleep / fake-mount call, in order. */
  readonly calls: string[];
  /** The berth:phase values tagged, in order. */
  readonly phases: string[];
}

export interface World {
  readonly dir: string;
  readonly fakeDir: string;
  readonly binDir: string;
  readonly fstab: string;
  readonly stateDir: string;
  readonly byIdDir: string;
  readonly devDir: string;
  readonly sysBlockDir: string;
  /** Extra environment for the script. */
  env: Record<string, string>;
  /** Runs node n1's user data; `options` default to what ensureNode renders (volume id, group and hook names). */
  run(spec: ClusterSpec, options?: UserDataOptions): Promise<RunResult>;
  calls(): string[];
  /** Makes `target` the volume's device via the NVMe by-id link. */
  linkById(target: string): void;
  cleanup(): void;
}

export function makeWorld(imds: FakeImds, opts: { realMount?: boolean } = {}): World {
  const dir = mkdtempSync(join(tmpdir(), 'berth-boot-'));
  const fakeDir = join(dir, 'fake');
  const binDir = join(dir, 'bin');
  const byIdDir = join(dir, 'by-id');
  const devDir = join(dir, 'dev');
  const sysBlockDir = join(dir, 'sys-block');
  for (const d of [fakeDir, binDir, byIdDir, devDir, sysBlockDir]) mkdirSync(d, { recursive: true });
  const shim = (name: string, text: string) => {
    writeFileSync(join(binDir, name), text);
    chmodSync(join(binDir, name), 0o755);
  };
  for (const name of ['aws', 'fake-sleep', 'fake-mount', 'fake-mountpoint']) {
    shim(name, readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8'));
  }
  writeFileSync(join(fakeDir, 'volume-ids'), `${VOLUME_ID}\n`);
  writeFileSync(join(fakeDir, 'volume-az'), AZ);
  const fstab = join(dir, 'fstab');
  writeFileSync(fstab, '# /etc/fstab\nLABEL=cloudimg-rootfs / ext4 defaults 0 1\n');
  const stateDir = join(dir, 'state');
  const readCalls = () => {
    const p = join(fakeDir, 'calls.log');
    return existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter(Boolean) : [];
  };
  const world: World = {
    dir,
    fakeDir,
    binDir,
    fstab,
    stateDir,
    byIdDir,
    devDir,
    sysBlockDir,
    env: {},
    calls: readCalls,
    linkById(target) {
      symlinkSync(target, join(byIdDir, `nvme-Amazon_Elastic_Block_Store_${VOLUME_ID.replace('-', '')}`));
    },
    async run(spec, options = { volumeId: VOLUME_ID, autoScalingGroupName: groupName(spec.name, 'n1'), lifecycleHookName: LAUNCH_HOOK_NAME }) {
      const script = join(dir, 'user-data.sh');
      writeFileSync(script, userDataText(spec, 'n1', options));
      const env: Record<string, string> = {
        PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        HOME: dir,
        LANG: 'C',
        FAKE_AWS_DIR: fakeDir,
        BERTH_IMDS_ENDPOINT: imds.url,
        BERTH_BY_ID_DIR: byIdDir,
        BERTH_DEV_DIR: devDir,
        BERTH_SYS_BLOCK_DIR: sysBlockDir,
        BERTH_FSTAB: fstab,
        BERTH_STATE_DIR: stateDir,
        BERTH_SLEEP_CMD: 'fake-sleep',
        BERTH_HEALTH_INTERVAL_SEC: '0',
        BERTH_DEVICE_WAIT_SEC: '2',
        BERTH_WAIT_POLL_SEC: '0.2',
        ...(opts.realMount ? {} : { BERTH_MOUNT_CMD: 'fake-mount', BERTH_MOUNTPOINT_CMD: 'fake-mountpoint' }),
        ...world.env,
      };
      const before = readCalls().length;
      const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
        execFile('bash', [script], { env, timeout: 50_000 }, (err, _stdout, stderr) => {
          const c = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
          resolve({ code: c, stderr });
        });
      });
      const calls = readCalls().slice(before);
      const phases = calls
        .filter((c) => c.startsWith('aws ec2 create-tags'))
        .map((c) => /Key=berth:phase,Value=(\S+)/.exec(c)?.[1] ?? '?');
      return { code, stderr, calls, phases };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

// ---- Real block-device tools ---------------------------------------------------------------------

export function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A sparse image file of `sizeMiB`. */
export function makeImage(path: string, sizeMiB: number): string {
  writeFileSync(path, '');
  sh('truncate', ['-s', `${sizeMiB}M`, path]);
  return path;
}

export function blkid(dev: string, tag: 'TYPE' | 'UUID'): string {
  try {
    return sh('blkid', ['-p', '-o', 'value', '-s', tag, dev]).trim();
  } catch {
    return '';
  }
}

export function ext4Bytes(dev: string): number {
  const out = sh('dumpe2fs', ['-h', dev]);
  const num = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(out)?.[1]);
  return num('Block count') * num('Block size');
}

export function xfsBytes(devOrMount: string): number {
  const m = /^data\s+=\s+bsize=(\d+)\s+blocks=(\d+)/m.exec(sh('xfs_info', [devOrMount]));
  return Number(m?.[1]) * Number(m?.[2]);
}

/** Whether this sandbox lets us attach loop devices and mount them (root with CAP_SYS_ADMIN). */
export function canLoopMount(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'berth-loopcheck-'));
  let loop = '';
  try {
    const img = makeImage(join(dir, 'img'), 8);
    sh('mkfs.ext4', ['-q', img]);
    loop = sh('losetup', ['-f', '--show', img]).trim();
    mkdirSync(join(dir, 'm'));
    sh('mount', [loop, join(dir, 'm')]);
    sh('umount', [join(dir, 'm')]);
    return true;
  } catch {
    return false;
  } finally {
    if (loop) {
      try {
        sh('losetup', ['-d', loop]);
      } catch {
        // already detached
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
