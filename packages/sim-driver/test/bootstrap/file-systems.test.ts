// The node bootstrap's file system steps on the device of node n1's data volume: real
// mkfs/blkid/resize2fs/xfs tools on image files (mounting faked), the AWS side being the
// simulated account. The normal ext4 boot and the second run are in boot.test.ts.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { blkid, closeWorlds, ext4Bytes, lifecycleResults, makeImage, makeWorld, once, runWatcher, sh, watcherUnits, xfsBytes } from './harness.js';

afterAll(closeWorlds);

const fstabEntries = (fstab: string) =>
  readFileSync(fstab, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('UUID='));

// An xfs file system filling its device, where the spec asks for ext4.
const xfsFound = once(async () => {
  const w = await makeWorld();
  const img = makeImage(join(w.dir, 'vol.img'), 320);
  sh('mkfs.xfs', ['-q', img]);
  const before = { uuid: blkid(img, 'UUID'), bytes: xfsBytes(img) };
  w.linkById(img);
  return { w, img, before, r: await w.run() };
});

describe.concurrent('node bootstrap: file systems (real mkfs/blkid on image files)', () => {
  it('formats a blank device as xfs (fsck pass 0 in fstab)', async ({ expect }) => {
    const w = await makeWorld({ dataVolume: { fileSystem: 'xfs', mountOptions: 'defaults,noatime,nofail' } });
    const img = makeImage(join(w.dir, 'vol.img'), 320);
    w.linkById(img);
    const r = await w.run();
    expect(r.code, r.stderr).toBe(0);
    expect(blkid(img, 'TYPE')).toBe('xfs');
    expect(fstabEntries(w.fstab)).toEqual([`UUID=${blkid(img, 'UUID')} ${w.spec.dataVolume.mountPath} xfs defaults,noatime,nofail 0 0`]);
    expect(r.lifecycleState).toBe('InService');
  });

  it('never formats a device that holds a file system: data and UUID are kept', async ({ expect }) => {
    const w = await makeWorld();
    const img = makeImage(join(w.dir, 'vol.img'), 64);
    const content = join(w.dir, 'content');
    mkdirSync(content);
    writeFileSync(join(content, 'hello.txt'), 'precious data\n');
    sh('mkfs.ext4', ['-q', '-d', content, img]);
    const uuid = blkid(img, 'UUID');
    w.linkById(img);
    const r = await w.run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('not formatting');
    expect(blkid(img, 'UUID')).toBe(uuid);
    expect(sh('debugfs', ['-R', 'cat /hello.txt', img])).toBe('precious data\n');
    expect(r.lifecycleState).toBe('InService');
  });

  it('keeps an existing file system of another type than the spec says (xfs found, ext4 asked)', async ({ expect }) => {
    const { w, img, before, r } = await xfsFound();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('holds xfs, the spec says ext4; keeping xfs');
    expect(blkid(img, 'TYPE')).toBe('xfs');
    expect(blkid(img, 'UUID')).toBe(before.uuid);
    expect(fstabEntries(w.fstab)[0]).toContain(' xfs ');
  });

  it('installs the grow watcher (a 30 s timer running the grow script) and enables it; run on a grown device it grows ext4 without a second boot', async ({ expect }) => {
    const w = await makeWorld();
    const img = makeImage(join(w.dir, 'vol.img'), 64);
    w.linkById(img);
    const r = await w.run();
    expect(r.code, r.stderr).toBe(0);
    const units = watcherUnits(w);
    expect(units?.timer).toContain('OnUnitActiveSec=30s');
    expect(units?.service).toContain(`ExecStart=${join(w.dir, 'lib', 'grow-filesystem')} ${img} ${w.spec.dataVolume.mountPath} ext4`);
    expect(r.localCalls).toEqual(expect.arrayContaining(['systemctl daemon-reload', 'systemctl enable --now berth-grow-fs.timer']));
    // Nothing to do while the file system fills the device.
    const idle = runWatcher(w);
    expect(idle.code, idle.stderr).toBe(0);
    expect(idle.stderr).toContain('file system fills the device');
    // ModifyVolume: the device grows (offline here: the image is not mounted); the watcher grows ext4.
    sh('truncate', ['-s', '128M', img]);
    const grown = runWatcher(w);
    expect(grown.code, grown.stderr).toBe(0);
    expect(grown.stderr).toContain('growing');
    expect(ext4Bytes(img)).toBe(128 * 1024 * 1024);
  });

  it('does not try to grow an xfs file system that fills its device', async ({ expect }) => {
    const { img, before, r } = await xfsFound();
    expect(r.stderr).toContain('file system fills the device');
    expect(xfsBytes(img)).toBe(before.bytes);
  });

  it('refuses to format a device with unknown content (no signature, not zeros): ABANDON, and the group terminates the instance', async ({ expect }) => {
    const w = await makeWorld();
    const img = makeImage(join(w.dir, 'vol.img'), 16);
    writeFileSync(img, Buffer.alloc(4096, 0x5a), { flag: 'r+' });
    w.linkById(img);
    const r = await w.run();
    expect(r.code).toBe(1);
    expect(blkid(img, 'TYPE')).toBe('');
    expect(r.phases).toEqual(['attaching', 'mounting', 'failed:mounting:device-not-blank']);
    expect(lifecycleResults(r.calls)).toEqual(['ABANDON']);
    expect(r.ec2State).toBe('terminated');
  });

  it('grows an ext4 file system when the device is larger (volume created bigger than its snapshot)', async ({ expect }) => {
    const w = await makeWorld();
    const img = makeImage(join(w.dir, 'vol.img'), 128);
    sh('mkfs.ext4', ['-q', img, '48M']);
    expect(ext4Bytes(img)).toBe(48 * 1024 * 1024);
    w.linkById(img);
    const r = await w.run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('growing');
    expect(ext4Bytes(img)).toBe(128 * 1024 * 1024);
  });
});
