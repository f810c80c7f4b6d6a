// The real bootstrap script under bash: fake `aws` CLI and IMDS, real mkfs/blkid/resize2fs/xfs
// tools on image files. Mounting is faked in these tests (BERTH_MOUNT_CMD); real-mount.test.ts
// repeats the mount and grow paths with loop devices where the sandbox allows it.
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AZ,
  INSTANCE_ID,
  VOLUME_ID,
  blkid,
  ext4Bytes,
  makeImage,
  makeSpec,
  makeWorld,
  sh,
  startFakeImds,
  xfsBytes,
} from './harness.js';
import type { FakeImds, World } from './harness.js';

const FULL_PHASES = ['attaching', 'mounting', 'configuring', 'joining', 'healthy', 'in-service'];

let imds: FakeImds;
let w: World;

beforeAll(async () => {
  imds = await startFakeImds();
});
afterAll(async () => {
  await imds.close();
});
beforeEach(() => {
  imds.failTokenPuts = 0;
  w = makeWorld(imds);
});
afterEach(() => {
  w.cleanup();
});

const fstabEntries = () =>
  readFileSync(w.fstab, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('UUID='));
const lifecycleResults = (calls: string[]) =>
  calls.filter((c) => c.startsWith('aws autoscaling complete-lifecycle-action')).map((c) => /--lifecycle-action-result (\S+)/.exec(c)?.[1]);

describe('node bootstrap: file systems (real mkfs/blkid on image files)', () => {
  it('formats a blank device as ext4, writes one fstab entry by UUID with nofail, mounts and completes CONTINUE', async () => {
    const img = makeImage(join(w.dir, 'vol.img'), 64);
    w.linkById(img);
    const spec = makeSpec(w.dir);
    const r = await w.run(spec);
    expect(r.code, r.stderr).toBe(0);
    expect(blkid(img, 'TYPE')).toBe('ext4');
    const uuid = blkid(img, 'UUID');
    expect(fstabEntries()).toEqual([`UUID=${uuid} ${spec.dataVolume.mountPath} ext4 defaults,noatime,nofail 0 2`]);
    expect(readFileSync(w.fstab, 'utf8')).toContain('LABEL=cloudimg-rootfs / ext4 defaults 0 1');
    expect(r.calls).toContain(`mount -t ext4 -o defaults,noatime,nofail ${img} ${spec.dataVolume.mountPath}`);
    expect(r.phases).toEqual(FULL_PHASES);
    expect(lifecycleResults(r.calls)).toEqual(['CONTINUE']);
    expect(r.calls).toContain(
      `aws autoscaling complete-lifecycle-action --auto-scaling-group-name berth-kafka-n1 --lifecycle-hook-name berth-launch --instance-id ${INSTANCE_ID} --lifecycle-action-result CONTINUE`,
    );
  });

  it('formats a blank device as xfs (fsck pass 0 in fstab)', async () => {
    const img = makeImage(join(w.dir, 'vol.img'), 320);
    w.linkById(img);
    const spec = makeSpec(w.dir, {}, { fileSystem: 'xfs', mountOptions: 'defaults,noatime,nofail' });
    const r = await w.run(spec);
    expect(r.code, r.stderr).toBe(0);
    expect(blkid(img, 'TYPE')).toBe('xfs');
    expect(fstabEntries()).toEqual([`UUID=${blkid(img, 'UUID')} ${spec.dataVolume.mountPath} xfs defaults,noatime,nofail 0 0`]);
  });

  it('never formats a device that holds a file system: data and UUID are kept', async () => {
    const img = makeImage(join(w.dir, 'vol.img'), 64);
    const content = join(w.dir, 'content');
    mkdirSync(content);
    writeFileSync(join(content, 'hello.txt'), 'precious data\n');
    sh('mkfs.ext4', ['-q', '-d', content, img]);
    const uuid = blkid(img, 'UUID');
    w.linkById(img);
    const r = await w.run(makeSpec(w.dir));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('not formatting');
    expect(blkid(img, 'UUID')).toBe(uuid);
    expect(sh('debugfs', ['-R', 'cat /hello.txt', img])).toBe('precious data\n');
  });

  it('keeps an existing file system of another type than the spec says (xfs found, ext4 asked)', async () => {
    const img = makeImage(join(w.dir, 'vol.img'), 320);
    sh('mkfs.xfs', ['-q', img]);
    const uuid = blkid(img, 'UUID');
    w.linkById(img);
    const r = await w.run(makeSpec(w.dir));
    expect(r.code, r.stderr).toBe(0);
    expect(blkid(img, 'TYPE')).toBe('xfs');
    expect(blkid(img, 'UUID')).toBe(uuid);
    expect(fstabEntries()[0]).toContain(' xfs ');
  });

  it('refuses to format a device with unknown content (no signature, not zeros)', async () => {
    const img = makeImage(join(w.dir, 'vol.img'), 16);
    writeFileSync(img, Buffer.alloc(4096, 0x5a), { flag: 'r+' });
    w.linkById(img);
    const r = await w.run(makeSpec(w.dir));
    expect(r.code).toBe(1);
    expect(blkid(img, 'TYPE')).toBe('');
    expect(r.phases).toEqual(['attaching', 'mounting', 'failed:mounting:device-not-blank']);
    expect(lifecycleResults(r.calls)).toEqual(['ABANDON']);
  });

  it('grows an ext4 file system when the device is larger (volume created bigger than its snapshot)', async () => {
    const img = makeImage(join(w.dir, 'vol.img'), 128);
    sh('mkfs.ext4', ['-q', img, '48M']);
    expect(ext4Bytes(img)).toBe(48 * 1024 * 1024);
    w.linkById(img);
    const r = await w.run(makeSpec(w.dir));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('growing');
    expect(ext4Bytes(img)).toBe(128 * 1024 * 1024);
  });

  it('does not try to grow an xfs file system that fills its device', async () => {
    const img = makeImage(join(w.dir, 'vol.img'), 320);
    sh('mkfs.xfs', ['-q', img]);
    w.linkById(img);
    const before = xfsBytes(img);
    const r = await w.run(makeSpec(w.dir, {}, { fileSystem: 'xfs' }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('file system fills the device');
    expect(xfsBytes(img)).toBe(before);
  });

  it('a second run duplicates nothing: same fstab entry, same files, no reformat, no second mount', async () => {
    const img = makeImage(join(w.dir, 'vol.img'), 64);
    w.linkById(img);
    const conf = join(w.dir, 'etc', 'app', 'app.conf');
    const spec = makeSpec(w.dir, { bootstrap: { files: [{ path: conf, content: 'a=1\n', mode: '0640' }] } });
    const first = await w.run(spec);
    expect(first.code, first.stderr).toBe(0);
    const uuid = blkid(img, 'UUID');
    const fstab1 = readFileSync(w.fstab, 'utf8');
    const second = await w.run(spec);
    expect(second.code, second.stderr).toBe(0);
    expect(blkid(img, 'UUID')).toBe(uuid);
    expect(readFileSync(w.fstab, 'utf8')).toBe(fstab1);
    expect(fstabEntries()).toHaveLength(1);
    expect(second.calls.filter((c) => c.startsWith('mount '))).toEqual([]);
    expect(readdirSync(join(w.dir, 'etc', 'app'))).toEqual(['app.conf']);
    expect(readFileSync(conf, 'utf8')).toBe('a=1\n');
    expect(second.calls.filter((c) => c.startsWith('aws ec2 attach-volume'))).toEqual([]);
    // The lifecycle action was completed by the first run; the second sees the node InService.
    expect(second.phases).toEqual(FULL_PHASES);
  });

  it('replaces an older fstab entry for the same mount point', async () => {
    const img = makeImage(join(w.dir, 'vol.img'), 64);
    w.linkById(img);
    const spec = makeSpec(w.dir);
    writeFileSync(w.fstab, `# root\n/dev/xvda1 / ext4 defaults 0 1\nUUID=dead-beef ${spec.dataVolume.mountPath} xfs defaults 0 0\n`);
    const r = await w.run(spec);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(w.fstab, 'utf8')).toBe(
      `# root\n/dev/xvda1 / ext4 defaults 0 1\nUUID=${blkid(img, 'UUID')} ${spec.dataVolume.mountPath} ext4 defaults,noatime,nofail 0 2\n`,
    );
  });
});

describe('node bootstrap: finding the device', () => {
  it('finds a Nitro NVMe device by the serial that carries the volume id', async () => {
    const img = makeImage(join(w.dir, 'vol.img'), 64);
    mkdirSync(join(w.sysBlockDir, 'nvme0n1', 'device'), { recursive: true });
    writeFileSync(join(w.sysBlockDir, 'nvme0n1', 'device', 'serial'), 'vol0ffffffffffffffff \n');
    mkdirSync(join(w.sysBlockDir, 'nvme1n1', 'device'), { recursive: true });
    writeFileSync(join(w.sysBlockDir, 'nvme1n1', 'device', 'serial'), `${VOLUME_ID.replace('-', '')}    \n`);
    symlinkSync(img, join(w.devDir, 'nvme1n1'));
    const r = await w.run(makeSpec(w.dir));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`device ${w.devDir}/nvme1n1`);
    expect(blkid(img, 'TYPE')).toBe('ext4');
  });

  it('finds a Xen device as /dev/xvdX for the configured /dev/sdX', async () => {
    const img = makeImage(join(w.dir, 'vol.img'), 64);
    symlinkSync(img, join(w.devDir, 'xvdg'));
    const r = await w.run(makeSpec(w.dir, {}, { deviceName: '/dev/sdg' }));
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls.find((c) => c.startsWith('aws ec2 attach-volume'))).toContain('--device /dev/sdg');
    expect(blkid(img, 'TYPE')).toBe('ext4');
  });

  it('fails with device-not-found when no device shows up', async () => {
    const r = await w.run(makeSpec(w.dir));
    expect(r.code).toBe(1);
    expect(r.phases.at(-1)).toBe('failed:mounting:device-not-found');
    expect(lifecycleResults(r.calls)).toEqual(['ABANDON']);
  });
});

describe('node bootstrap: attaching', () => {
  beforeEach(() => {
    w.linkById(makeImage(join(w.dir, 'vol.img'), 64));
  });

  it('uses the volume id, group and hook it is given: no lookup at all', async () => {
    const r = await w.run(makeSpec(w.dir), { volumeId: VOLUME_ID, autoScalingGroupName: 'g', lifecycleHookName: 'h' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls.filter((c) => c.includes('--filters') || c.includes('describe-auto-scaling') || c.includes('describe-lifecycle-hooks'))).toEqual([]);
    expect(r.calls).toContain(`aws ec2 attach-volume --volume-id ${VOLUME_ID} --instance-id ${INSTANCE_ID} --device /dev/sdf`);
    expect(lifecycleResults(r.calls)).toEqual(['CONTINUE']);
    expect(r.calls.find((c) => c.includes('complete-lifecycle-action'))).toContain('--auto-scaling-group-name g --lifecycle-hook-name h');
  });

  // Regression: root volumes carry the node's tags too (the launch template tags them), so a
  // lookup by berth:cluster / berth:node alone found two volumes and failed volume-ambiguous.
  it('without a volume id, looks the data volume up by berth:cluster, berth:node and berth:volume=data', async () => {
    const r = await w.run(makeSpec(w.dir), {});
    expect(r.code, r.stderr).toBe(0);
    const lookup = r.calls.find((c) => c.includes('--filters'));
    expect(lookup).toContain('Name=tag:berth:cluster,Values=kafka Name=tag:berth:node,Values=n1 Name=tag:berth:volume,Values=data');
    expect(r.calls).toContain(`aws ec2 attach-volume --volume-id ${VOLUME_ID} --instance-id ${INSTANCE_ID} --device /dev/sdf`);
  });

  it('retries VolumeInUse with growing backoff, then attaches', async () => {
    writeFileSync(join(w.fakeDir, 'attach-failures'), '2');
    const r = await w.run(makeSpec(w.dir));
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls.filter((c) => c.startsWith('aws ec2 attach-volume'))).toHaveLength(3);
    expect(r.stderr.match(/volume in use, retrying/g)).toHaveLength(2);
    // The sleeps between the failed attaches grow: 1–2 s, then 2–4 s (jittered exponential).
    const attachIdx = r.calls.map((c, i) => (c.startsWith('aws ec2 attach-volume') ? i : -1)).filter((i) => i >= 0);
    const sleepAfter = (i: number) => Number(r.calls.slice(i).find((c) => c.startsWith('sleep '))?.split(' ')[1]);
    const [s1, s2] = [sleepAfter(attachIdx[0]!), sleepAfter(attachIdx[1]!)];
    expect(s1).toBeGreaterThanOrEqual(1);
    expect(s1).toBeLessThanOrEqual(2);
    expect(s2).toBeGreaterThanOrEqual(2);
    expect(s2).toBeLessThanOrEqual(4);
    expect(r.phases).toEqual(FULL_PHASES);
  });

  it('waits while the volume is still attached to the old instance', async () => {
    writeFileSync(join(w.fakeDir, 'busy-describes'), '3');
    const r = await w.run(makeSpec(w.dir));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/waiting for it to become available/g)).toHaveLength(3);
    expect(r.calls.filter((c) => c.startsWith('aws ec2 attach-volume'))).toHaveLength(1);
  });

  it('fails on a volume in another availability zone', async () => {
    writeFileSync(join(w.fakeDir, 'volume-az'), 'us-east-1b');
    const r = await w.run(makeSpec(w.dir));
    expect(r.code).toBe(1);
    expect(r.phases).toEqual(['attaching', 'failed:attaching:volume-az-mismatch']);
    expect(r.stderr).toContain(`is in us-east-1b, this instance in ${AZ}`);
  });

  it('without a volume id, fails when two data volumes carry the node tags', async () => {
    writeFileSync(join(w.fakeDir, 'volume-ids'), `${VOLUME_ID}\tvol-0bbbbbbbbbbbbbbbb\n`);
    const r = await w.run(makeSpec(w.dir), {});
    expect(r.phases).toEqual(['attaching', 'failed:attaching:volume-ambiguous']);
  });
});

describe('node bootstrap: phases, scripts and the lifecycle action', () => {
  beforeEach(() => {
    w.linkById(makeImage(join(w.dir, 'vol.img'), 64));
  });

  it('gets an IMDSv2 token with retries and never reads metadata without it', async () => {
    imds.failTokenPuts = 2;
    const puts = imds.tokenPuts;
    const rejected = imds.rejectedGets;
    const r = await w.run(makeSpec(w.dir));
    expect(r.code, r.stderr).toBe(0);
    expect(imds.tokenPuts - puts).toBe(3);
    expect(imds.rejectedGets - rejected).toBe(0);
    expect(r.calls.find((c) => c.startsWith('aws '))).toBe(`aws ec2 create-tags --resources ${INSTANCE_ID} --tags Key=berth:phase,Value=attaching`);
  });

  it('writes the node files with their mode, owner and exact content (quotes and $ survive)', async () => {
    const content = `it's "quoted" $HOME \`cmd\` \\n and ${'\u00e9'}\nline 2 without newline`;
    const p = join(w.dir, 'etc', 'deep', 'dir', 'node.conf');
    const r = await w.run(makeSpec(w.dir, { bootstrap: { files: [{ path: p, content, mode: '0600' }] } }));
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(p, 'utf8')).toBe(content);
    expect(statSync(p).mode & 0o777).toBe(0o600);
  });

  it('runs the configure script with the node facts in its environment', async () => {
    const out = join(w.dir, 'configured');
    const configureScript = `echo "$BERTH_CLUSTER $BERTH_NODE_ID $BERTH_INSTANCE_ID $BERTH_AZ $BERTH_DATA_DIR $BERTH_VOLUME_ID" > ${out}`;
    const spec = makeSpec(w.dir, { bootstrap: { configureScript } });
    const r = await w.run(spec);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(`kafka n1 ${INSTANCE_ID} ${AZ} ${spec.dataVolume.mountPath} ${VOLUME_ID}\n`);
  });

  it('health failure: tags the reason and ABANDONs', async () => {
    const r = await w.run(makeSpec(w.dir, { bootstrap: { healthScript: 'exit 3', healthTimeoutSec: 1 } }));
    expect(r.code).toBe(1);
    expect(r.phases).toEqual(['attaching', 'mounting', 'configuring', 'joining', 'failed:joining:health-exit-3']);
    expect(lifecycleResults(r.calls)).toEqual(['ABANDON']);
    expect(r.calls).toContain(`aws ec2 create-tags --resources ${INSTANCE_ID} --tags Key=berth:phase,Value=failed:joining:health-exit-3`);
  });

  it('retries the health script until it passes', async () => {
    const counter = join(w.dir, 'health-count');
    const healthScript = `n=$(cat ${counter} 2>/dev/null || echo 0); echo $((n + 1)) > ${counter}; [ "$n" -ge 2 ]`;
    const r = await w.run(makeSpec(w.dir, { bootstrap: { healthScript, healthTimeoutSec: 30 } }));
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(counter, 'utf8')).toBe('3\n');
    expect(r.phases).toEqual(FULL_PHASES);
  });

  it('configure timeout: killed by `timeout`, tagged configure-timeout, ABANDONed', async () => {
    const r = await w.run(makeSpec(w.dir, { bootstrap: { configureScript: 'sleep 30', configureTimeoutSec: 1 } }));
    expect(r.code).toBe(1);
    expect(r.phases).toEqual(['attaching', 'mounting', 'configuring', 'failed:configuring:configure-timeout']);
    expect(lifecycleResults(r.calls)).toEqual(['ABANDON']);
  });

  it('configure failure names the exit code', async () => {
    const r = await w.run(makeSpec(w.dir, { bootstrap: { configureScript: 'exit 7' } }));
    expect(r.phases.at(-1)).toBe('failed:configuring:configure-exit-7');
  });

  it('sends lifecycle heartbeats while it waits', async () => {
    w.env.BERTH_HEARTBEAT_INTERVAL_SEC = '1';
    const r = await w.run(makeSpec(w.dir, { bootstrap: { configureScript: 'sleep 2.5' } }));
    expect(r.code, r.stderr).toBe(0);
    const beats = r.calls.filter((c) => c.startsWith('aws autoscaling record-lifecycle-action-heartbeat'));
    expect(beats.length).toBeGreaterThanOrEqual(2);
    expect(beats[0]).toBe(
      `aws autoscaling record-lifecycle-action-heartbeat --auto-scaling-group-name berth-kafka-n1 --lifecycle-hook-name berth-launch --instance-id ${INSTANCE_ID}`,
    );
  });

  it("onFailure 'wait': keeps the instance, and a retry after repair completes CONTINUE", async () => {
    const flag = join(w.dir, 'repaired');
    const spec = makeSpec(w.dir, {
      lifecycle: { heartbeatTimeoutSec: 300, defaultResult: 'ABANDON', onFailure: 'wait' },
      bootstrap: { healthScript: `test -e ${flag}`, healthTimeoutSec: 1 },
    });
    const running = w.run(spec);
    // The operator sees the failure tag, repairs, and asks for a retry.
    for (let i = 0; i < 200 && !w.calls().some((c) => c.includes('Value=failed:')); i++) await new Promise((r) => setTimeout(r, 50));
    writeFileSync(flag, '');
    writeFileSync(join(w.stateDir, 'retry'), '');
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(r.phases).toEqual([
      'attaching', 'mounting', 'configuring', 'joining', 'failed:joining:health-exit-1',
      'attaching', 'mounting', 'configuring', 'joining', 'healthy', 'in-service',
    ]);
    expect(lifecycleResults(r.calls)).toEqual(['CONTINUE']);
  });

  it("onFailure 'wait': an operator's abandon file ABANDONs", async () => {
    const spec = makeSpec(w.dir, {
      lifecycle: { heartbeatTimeoutSec: 300, defaultResult: 'ABANDON', onFailure: 'wait' },
      bootstrap: { configureScript: 'exit 1' },
    });
    const running = w.run(spec);
    for (let i = 0; i < 200 && !w.calls().some((c) => c.includes('Value=failed:')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(lifecycleResults(w.calls())).toEqual([]);
    writeFileSync(join(w.stateDir, 'abandon'), '');
    const r = await running;
    expect(r.code).toBe(1);
    expect(lifecycleResults(r.calls)).toEqual(['ABANDON']);
  });

  it('refuses to start without the group or hook name in its data, before any call', async () => {
    for (const [options, missing] of [
      [{ volumeId: VOLUME_ID, autoScalingGroupName: '' }, 'BERTH_ASG_NAME'],
      [{ volumeId: VOLUME_ID, lifecycleHookName: '' }, 'BERTH_LIFECYCLE_HOOK_NAME'],
    ] as const) {
      const r = await w.run(makeSpec(w.dir), options);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`missing data value ${missing}`);
      expect(r.calls).toEqual([]);
    }
  });
});
