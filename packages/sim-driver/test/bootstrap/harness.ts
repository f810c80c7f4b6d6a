// Runs the real node bootstrap — the user data that ensureNode put in node n1's launch
// template — under bash, as node n1's instance in a simulated account: the simulated AWS CLI and
// instance metadata service of startAwsBridge on PATH (IAM evaluated with the node policy),
// virtual sleeps, and real mkfs/blkid/resize2fs/xfs tools on image files. Mounting is faked
// (fixtures/fake-mount) unless a test asks for real mounts.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { createController } from '@berth/core';
import type { ClusterInput, ClusterSpec } from '@berth/core';
import { createSimulation, startAwsBridge } from '../../src/index.js';
import type { AwsBridge, BridgeCall, SimAwsClients, SimClock, Simulation } from '../../src/index.js';

import { makeSpec } from '../../../aws-driver/test/bootstrap/harness.js';

// The cluster spec is the one the user-data tests use.
export { AZ, makeSpec } from '../../../aws-driver/test/bootstrap/harness.js';
export const ADMIN_ROLE = 'admin';
/** Virtual time the harness lets pass after a run, so the group acts on the lifecycle action (InService, or terminated). */
const SETTLE_MS = 5_000;
/** A run that takes longer (wall clock) is killed with its process group. */
const RUN_TIMEOUT_MS = 40_000;

/** The text of an instance's user data (base64, gzipped when it would not fit plain). */
export function decodeUserData(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  return (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
}

/** Sets `KEY='value'` assignments of the user data's data block (values as renderUserData writes them). */
export function withData(text: string, values: Readonly<Record<string, string>>): string {
  let out = text;
  for (const [key, value] of Object.entries(values)) {
    if (value.includes("'")) throw new Error(`withData: ${key}: quotes are not supported`);
    const line = new RegExp(`^${key}='[^'\\n]*'$`, 'm');
    if (!line.test(out)) throw new Error(`withData: no ${key}='...' line in the user data`);
    out = out.replace(line, `${key}='${value}'`);
  }
  return out;
}

/** A bridge call, with the virtual time it was answered at. */
export interface TimedCall extends BridgeCall {
  readonly atMs: number;
}

export interface RunOptions {
  /** Data block values to change first (e.g. `{ BERTH_VOLUME_ID: '' }`: hand-rendered user data, the tag lookup). */
  readonly data?: Readonly<Record<string, string>>;
  /** Any other change to the user data text (after `data`), e.g. an older version of the script. */
  readonly edit?: (text: string) => string;
}

export interface RunResult {
  readonly code: number;
  readonly stderr: string;
  /** The AWS calls of this run, as the simulated account answered them. */
  readonly calls: readonly TimedCall[];
  /** The `berth:phase` values tagged on the instance during this run (from the simulation's trace). */
  readonly phases: readonly string[];
  /** The instance's Auto Scaling lifecycle state and EC2 state once the group has acted (virtual time after the run). */
  readonly lifecycleState: string;
  readonly ec2State: string;
  /** fake-mount calls of this run. */
  readonly localCalls: readonly string[];
}

export interface BootWorld {
  readonly sim: Simulation;
  readonly spec: ClusterSpec;
  readonly bridge: AwsBridge;
  /** n1's instance (running, Pending:Wait) and its data volume. */
  readonly instanceId: string;
  readonly volumeId: string;
  /** The decoded user data ensureNode gave n1. */
  readonly userData: string;
  readonly dir: string;
  readonly fstab: string;
  readonly stateDir: string;
  readonly byIdDir: string;
  readonly devDir: string;
  readonly sysBlockDir: string;
  /** Extra environment for the next runs. */
  env: Record<string, string>;
  run(options?: RunOptions): Promise<RunResult>;
  /** Every berth:phase tagged on the instance so far (for tests that act while a run waits). */
  phases(): string[];
  /** Makes `target` the device of `volumeId` (default: n1's data volume) via its NVMe by-id link. */
  linkById(target: string, volumeId?: string): void;
  /** Called with each AWS call as the account answers it, before the script sees the answer. */
  onCall(fn: (call: TimedCall) => void): void;
  /** Calls `fn` when `ms` of virtual time have passed (while a run's calls and sleeps move the clock). */
  timer(ms: number, fn: () => void): void;
  /** Clients of an `admin` role allowed everything: only to set up situations. */
  admin(): SimAwsClients;
  /** Runs `fn` in virtual time (between script runs, never during one). */
  simulate<T>(fn: () => Promise<T>): Promise<T>;
  cleanup(): Promise<void>;
}

export interface WorldOptions {
  /** Spec input overrides; a function gets the world's temporary directory (for file paths). */
  readonly input?: Partial<ClusterInput> | ((dir: string) => Partial<ClusterInput>);
  readonly dataVolume?: Record<string, unknown>;
  /** Mount for real (loop devices) instead of fixtures/fake-mount. */
  readonly realMount?: boolean;
  /** A simulated account that launches spot where the templates ask (specs with capacity.spot). */
  readonly spot?: boolean;
}

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const open = new Set<BootWorld>();

/** Closes every world made so far (call from afterAll: tests of a file share and run worlds concurrently). */
export async function closeWorlds(): Promise<void> {
  const worlds = [...open];
  open.clear();
  await Promise.all(worlds.map((w) => w.cleanup()));
}

/** Memoises an async setup, so that several tests can observe the same boot. */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | null = null;
  return () => (p ??= fn());
}

/**
 * A simulated account (fast profile, IAM evaluated, no simulated agent on instances) where the
 * spec's cluster was applied; node n1's instance is running and waits in Pending:Wait for its
 * bootstrap, which `run()` is.
 */
export async function makeWorld(options: WorldOptions = {}): Promise<BootWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-boot-'));
  const [binDir, byIdDir, devDir, sysBlockDir, stateDir] = ['bin', 'by-id', 'dev', 'sys-block', 'state'].map((d) => join(dir, d)) as [string, string, string, string, string];
  for (const d of [binDir, byIdDir, devDir, sysBlockDir]) mkdirSync(d, { recursive: true });
  for (const name of ['fake-mount', 'fake-mountpoint', 'fake-systemctl']) {
    copyFileSync(join(FIXTURES, name), join(binDir, name));
    chmodSync(join(binDir, name), 0o755);
  }
  const fstab = join(dir, 'fstab');
  writeFileSync(fstab, '# /etc/fstab\nLABEL=cloudimg-rootfs / ext4 defaults 0 1\n');

  const sim = createSimulation({ seed: 1, profile: 'fast', nodeAgent: 'none', region: 'us-east-1', iam: 'evaluate', ...(options.spot && { spot: 'templates' as const }) });
  const spec = makeSpec(dir, typeof options.input === 'function' ? options.input(dir) : options.input, options.dataVolume);
  await sim.run(async () => {
    await createController({ spec, driver: sim.driver, clock: sim.clock }).apply();
    for (let i = 0; i < 600; i++) {
      const inst = sim.world.currentInstance('n1');
      if (inst?.ec2State === 'running' && inst.lifecycleState === 'Pending:Wait') return;
      await sim.clock.sleep(500);
    }
    throw new Error('node n1 never reached running / Pending:Wait');
  });
  const inst = sim.world.currentInstance('n1');
  const volume = sim.world.volumeOf('n1');
  if (!inst?.userData || !volume) throw new Error('n1 has no instance with user data, or no data volume');
  const instanceId = inst.id;
  const userData = decodeUserData(inst.userData);

  const bridge = await startAwsBridge(sim, { instanceId });
  const calls = bridge.calls as BridgeCall[];
  const timed: TimedCall[] = [];
  const listeners: ((c: TimedCall) => void)[] = [];
  // The bridge records each call after the account answered it and before it replies: stamp it
  // with the virtual time and let tests act at that exact point (a race with another instance).
  const push = calls.push.bind(calls);
  calls.push = (...items: BridgeCall[]) => {
    for (const c of items) {
      const t = { ...c, atMs: sim.world.nowMs };
      timed.push(t);
      for (const l of listeners) l(t);
    }
    return push(...items);
  };

  const phaseLog = (): string[] => sim.trace.filter((e) => e.kind === 'instance.phase' && e.instanceId === instanceId).map((e) => String(e['phase']));
  const localLog = (): string[] => {
    const p = join(dir, 'local-calls.log');
    return existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter(Boolean) : [];
  };
  let admin: SimAwsClients | null = null;
  let script = 0;

  const world: BootWorld = {
    sim,
    spec,
    bridge,
    instanceId,
    volumeId: volume.id,
    userData,
    dir,
    fstab,
    stateDir,
    byIdDir,
    devDir,
    sysBlockDir,
    env: {},
    phases: phaseLog,
    linkById(target, volumeId = volume.id) {
      symlinkSync(target, join(byIdDir, `nvme-Amazon_Elastic_Block_Store_${volumeId.replace('-', '')}`));
    },
    onCall(fn) {
      listeners.push(fn);
    },
    timer(ms, fn) {
      (sim.clock as SimClock).setTimer(ms, fn);
    },
    admin() {
      if (admin === null) {
        sim.account.setRolePolicies(ADMIN_ROLE, { all: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } });
        admin = sim.awsAs(ADMIN_ROLE);
      }
      return admin;
    },
    simulate: (fn) => sim.run(fn),
    async run(runOptions = {}) {
      let text = runOptions.data ? withData(userData, runOptions.data) : userData;
      if (runOptions.edit) text = runOptions.edit(text);
      const path = join(dir, `user-data-${++script}.sh`);
      writeFileSync(path, text);
      const env: Record<string, string> = {
        PATH: `${bridge.binDir}:${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        HOME: dir,
        LANG: 'C',
        ...bridge.env,
        BERTH_TEST_DIR: dir,
        BERTH_BY_ID_DIR: byIdDir,
        BERTH_DEV_DIR: devDir,
        BERTH_SYS_BLOCK_DIR: sysBlockDir,
        BERTH_FSTAB: fstab,
        BERTH_STATE_DIR: stateDir,
        BERTH_LIB_DIR: join(dir, 'lib'),
        BERTH_SYSTEMD_DIR: join(dir, 'systemd'),
        BERTH_SYSTEMCTL_CMD: 'fake-systemctl',
        BERTH_HEALTH_INTERVAL_SEC: '0',
        BERTH_DEVICE_WAIT_SEC: '1',
        BERTH_WAIT_POLL_SEC: '1',
        ...(options.realMount ? {} : { BERTH_MOUNT_CMD: 'fake-mount', BERTH_MOUNTPOINT_CMD: 'fake-mountpoint' }),
        ...world.env,
      };
      const [callsBefore, phasesBefore, localBefore] = [timed.length, phaseLog().length, localLog().length];
      const { code, stderr } = await runBash(path, env);
      await sim.run(() => sim.clock.sleep(SETTLE_MS));
      const now = sim.world.instance(instanceId);
      return {
        code,
        stderr,
        calls: timed.slice(callsBefore),
        phases: phaseLog().slice(phasesBefore),
        lifecycleState: now?.lifecycleState ?? 'gone',
        ec2State: now?.ec2State ?? 'gone',
        localCalls: localLog().slice(localBefore),
      };
    },
    async cleanup() {
      await bridge.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  open.add(world);
  return world;
}

/** bash `path` in its own process group (killed whole on timeout); stdin closed. */
function runBash(path: string, env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path], { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stderr });
    });
  });
}

/** The operations of the calls (`AttachVolume`...), in order. */
export const ops = (calls: readonly BridgeCall[]): string[] => calls.map((c) => c.operation);

/** The results of the CompleteLifecycleAction calls, in order. */
export const lifecycleResults = (calls: readonly BridgeCall[]): unknown[] =>
  calls.filter((c) => c.operation === 'CompleteLifecycleAction').map((c) => c.input['LifecycleActionResult']);

// ---- The grow watcher ----------------------------------------------------------------------------

/** The watcher units the bootstrap installed (in the world's BERTH_SYSTEMD_DIR), or null. */
export function watcherUnits(w: BootWorld): { service: string; timer: string } | null {
  const dir = join(w.dir, 'systemd');
  const [service, timer] = ['berth-grow-fs.service', 'berth-grow-fs.timer'].map((f) => join(dir, f)) as [string, string];
  if (!existsSync(service) || !existsSync(timer)) return null;
  return { service: readFileSync(service, 'utf8'), timer: readFileSync(timer, 'utf8') };
}

/**
 * Runs the installed watcher once, as systemd's timer would: the service's ExecStart, with the
 * machine's own tools and no bootstrap environment (no systemd in the test sandbox).
 */
export function runWatcher(w: BootWorld): { code: number; stderr: string } {
  const units = watcherUnits(w);
  const exec = units && /^ExecStart=(.+)$/m.exec(units.service)?.[1];
  if (!exec) throw new Error('the bootstrap installed no berth-grow-fs.service with an ExecStart');
  const [cmd, ...args] = exec.split(' ') as [string, ...string[]];
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' } });
  return { code: r.status ?? -1, stderr: r.stderr };
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
