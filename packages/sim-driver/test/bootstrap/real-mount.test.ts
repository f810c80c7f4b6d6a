// The mount and grow paths with the production defaults (mount, mountpoint, blockdev,
// xfs_growfs on the mount point): image files on loop devices, really mounted, the AWS side
// being the simulated account. Needs root with loop devices; skipped (and says so) where the
// sandbox cannot mount.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, it } from 'vitest';
import { blkid, canLoopMount, closeWorlds, makeImage, makeWorld, runWatcher, sh, xfsBytes } from './harness.js';

const loopOk = canLoopMount();
if (!loopOk) console.warn('real-mount.test.ts: loop devices cannot be mounted here; the real-mount tests are skipped');

/**
 * Whether this kernel lets resize2fs grow a mounted ext4 at all. Some sandboxes (gVisor-like
 * kernels) answer the online-resize ioctl with EPERM even for root, from a shell too.
 */
function canResizeExt4Online(): boolean {
  if (!loopOk) return false;
  const dir = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim();
  const img = join(dir, 'probe.img');
  let dev = '';
  try {
    execFileSync('truncate', ['-s', '64M', img]);
    execFileSync('mkfs.ext4', ['-q', '-b', '4096', img, '32M']);
    dev = execFileSync('losetup', ['-f', '--show', img], { encoding: 'utf8' }).trim();
    execFileSync('mkdir', ['-p', join(dir, 'mp')]);
    execFileSync('mount', [dev, join(dir, 'mp')]);
    execFileSync('resize2fs', [dev], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    try {
      execFileSync('umount', [join(dir, 'mp')], { stdio: 'ignore' });
    } catch {
      // not mounted
    }
    if (dev) execFileSync('losetup', ['-d', dev], { stdio: 'ignore' });
    execFileSync('rm', ['-rf', dir]);
  }
}
const onlineExt4Ok = canResizeExt4Online();
if (loopOk && !onlineExt4Ok) {
  console.warn('real-mount.test.ts: this kernel refuses online ext4 resize (EPERM, also from a root shell); the two online ext4 tests (at boot, and through the grow watcher) are skipped here. ext4 growth, also through the watcher, is exercised offline in file-systems.test.ts.');
}

describe.skipIf(!loopOk)('node bootstrap with real mounts (loop devices)', () => {
  let loops: string[] = [];
  let mounts: string[] = [];

  // Unmount and detach before closeWorlds removes the directories.
  afterEach(() => {
    for (const m of mounts) {
      try {
        sh('umount', [m]);
      } catch {
        // not mounted
      }
    }
    for (const l of loops) {
      try {
        sh('losetup', ['-d', l]);
      } catch {
        // already detached
      }
    }
    loops = [];
    mounts = [];
  });
  afterAll(closeWorlds);

  const loop = (img: string) => {
    const dev = sh('losetup', ['-f', '--show', img]).trim();
    loops.push(dev);
    return dev;
  };
  const isMounted = (mp: string) => {
    try {
      execFileSync('mountpoint', ['-q', mp]);
      return true;
    } catch {
      return false;
    }
  };

  it('formats a blank xfs volume, mounts it, writes its fstab entry, sets the owner; a second run changes nothing', async ({ expect }) => {
    const w = await makeWorld({ realMount: true, dataVolume: { fileSystem: 'xfs' } });
    const dev = loop(makeImage(join(w.dir, 'vol.img'), 320));
    w.linkById(dev);
    const mp = w.spec.dataVolume.mountPath;
    mounts.push(mp);
    const r = await w.run();
    expect(r.code, r.stderr).toBe(0);
    expect(isMounted(mp)).toBe(true);
    expect(sh('findmnt', ['-rn', '-o', 'SOURCE,FSTYPE', mp]).trim()).toBe(`${dev} xfs`);
    const fstab = readFileSync(w.fstab, 'utf8');
    expect(fstab).toContain(`UUID=${blkid(dev, 'UUID')} ${mp} xfs defaults,noatime,nofail 0 0\n`);
    expect(r.lifecycleState).toBe('InService');
    writeFileSync(join(mp, 'data.txt'), 'kept');
    const again = await w.run();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('already mounted');
    expect(readFileSync(w.fstab, 'utf8')).toBe(fstab);
    expect(readFileSync(join(mp, 'data.txt'), 'utf8')).toBe('kept');
  });

  it('grows a mounted xfs file system with xfs_growfs when the device is larger', async ({ expect }) => {
    const w = await makeWorld({ realMount: true, dataVolume: { fileSystem: 'xfs' } });
    const img = makeImage(join(w.dir, 'vol.img'), 512);
    sh('mkfs.xfs', ['-q', '-d', 'size=320m', img]);
    const dev = loop(img);
    w.linkById(dev);
    mounts.push(w.spec.dataVolume.mountPath);
    const r = await w.run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('growing');
    expect(xfsBytes(w.spec.dataVolume.mountPath)).toBe(512 * 1024 * 1024);
  });

  it('the installed watcher grows a mounted xfs online after the device grows (losetup -c), with no second boot; the data stays', async ({ expect }) => {
    const w = await makeWorld({ realMount: true, dataVolume: { fileSystem: 'xfs' } });
    const img = makeImage(join(w.dir, 'vol.img'), 320);
    const dev = loop(img);
    w.linkById(dev);
    const mp = w.spec.dataVolume.mountPath;
    mounts.push(mp);
    const r = await w.run();
    expect(r.code, r.stderr).toBe(0);
    writeFileSync(join(mp, 'data.txt'), 'kept');
    expect(xfsBytes(mp)).toBe(320 * 1024 * 1024);
    // ModifyVolume reached optimizing: the block device is larger.
    sh('truncate', ['-s', '512M', img]);
    sh('losetup', ['-c', dev]);
    const grown = runWatcher(w);
    expect(grown.code, grown.stderr).toBe(0);
    expect(grown.stderr).toContain('growing');
    expect(xfsBytes(mp)).toBe(512 * 1024 * 1024);
    expect(isMounted(mp)).toBe(true);
    expect(readFileSync(join(mp, 'data.txt'), 'utf8')).toBe('kept');
  });

  // Runs only where the kernel allows online ext4 resize (see canResizeExt4Online).
  it.skipIf(!onlineExt4Ok)('the installed watcher grows a mounted ext4 online after the device grows (losetup -c); the data stays', async ({ expect }) => {
    const w = await makeWorld({ realMount: true });
    const img = makeImage(join(w.dir, 'vol.img'), 128);
    sh('mkfs.ext4', ['-q', '-b', '4096', img]);
    const dev = loop(img);
    w.linkById(dev);
    const mp = w.spec.dataVolume.mountPath;
    mounts.push(mp);
    const r = await w.run();
    expect(r.code, r.stderr).toBe(0);
    writeFileSync(join(mp, 'data.txt'), 'kept');
    sh('truncate', ['-s', '256M', img]);
    sh('losetup', ['-c', dev]);
    const grown = runWatcher(w);
    expect(grown.code, grown.stderr).toBe(0);
    expect(Number(sh('df', ['--output=size', '-B1', mp]).split('\n')[1])).toBeGreaterThan(200 * 1024 * 1024);
    expect(readFileSync(join(mp, 'data.txt'), 'utf8')).toBe('kept');
  });

  // Runs only where the kernel allows online ext4 resize (see canResizeExt4Online).
  it.skipIf(!onlineExt4Ok)('grows a mounted ext4 file system online with resize2fs; the data stays', async ({ expect }) => {
    const w = await makeWorld({ realMount: true });
    const img = makeImage(join(w.dir, 'vol.img'), 256);
    sh('mkfs.ext4', ['-q', '-b', '4096', img, '96M']); // 4 KiB blocks, as mkfs picks on a real-sized volume
    const dev = loop(img);
    w.linkById(dev);
    const mp = w.spec.dataVolume.mountPath;
    mounts.push(mp);
    const first = await w.run();
    expect(first.code, first.stderr).toBe(0);
    writeFileSync(join(mp, 'data.txt'), 'kept');
    expect(first.stderr).toContain('growing');
    const df = Number(sh('df', ['--output=size', '-B1', mp]).split('\n')[1]);
    expect(df).toBeGreaterThan(200 * 1024 * 1024);
    expect(readFileSync(join(mp, 'data.txt'), 'utf8')).toBe('kept');
  });
});
