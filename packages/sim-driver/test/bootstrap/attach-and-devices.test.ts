// The node bootstrap's attaching step against the simulated account (volumes, attachments and
// their errors are EC2's, as simulated), and how it finds the attached volume's block device.
import { CreateVolumeCommand, DetachVolumeCommand } from '@aws-sdk/client-ec2';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { simContext } from '../../src/internal.js';
import { AZ, blkid, closeWorlds, lifecycleResults, makeImage, makeWorld, ops } from './harness.js';
import type { BootWorld } from './harness.js';

afterAll(closeWorlds);

const FULL_PHASES = ['attaching', 'mounting', 'configuring', 'joining', 'healthy', 'in-service'];

/** A volume the admin role creates next to the cluster's (available a second later). */
async function createVolume(w: BootWorld, az: string, tags: Record<string, string>): Promise<string> {
  return w.simulate(async () => {
    const out = await w.admin().ec2.send(
      new CreateVolumeCommand({
        AvailabilityZone: az,
        Size: 10,
        VolumeType: 'gp3',
        TagSpecifications: [{ ResourceType: 'volume', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
      }),
    );
    await w.sim.clock.sleep(1_000);
    return out.VolumeId as string;
  });
}

describe.concurrent('node bootstrap: finding the device', () => {
  it('finds a Nitro NVMe device by the serial that carries the volume id', async ({ expect }) => {
    const w = await makeWorld();
    const img = makeImage(join(w.dir, 'vol.img'), 64);
    mkdirSync(join(w.sysBlockDir, 'nvme0n1', 'device'), { recursive: true });
    writeFileSync(join(w.sysBlockDir, 'nvme0n1', 'device', 'serial'), 'vol0ffffffffffffffff \n');
    mkdirSync(join(w.sysBlockDir, 'nvme1n1', 'device'), { recursive: true });
    writeFileSync(join(w.sysBlockDir, 'nvme1n1', 'device', 'serial'), `${w.volumeId.replace('-', '')}    \n`);
    symlinkSync(img, join(w.devDir, 'nvme1n1'));
    const r = await w.run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`device ${w.devDir}/nvme1n1`);
    expect(blkid(img, 'TYPE')).toBe('ext4');
  });

  it('finds a Xen device as /dev/xvdX for the configured /dev/sdX', async ({ expect }) => {
    const w = await makeWorld({ dataVolume: { deviceName: '/dev/sdg' } });
    const img = makeImage(join(w.dir, 'vol.img'), 64);
    symlinkSync(img, join(w.devDir, 'xvdg'));
    const r = await w.run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls.find((c) => c.operation === 'AttachVolume')?.input['Device']).toBe('/dev/sdg');
    expect(w.sim.world.volumeOf('n1')?.attachment?.device).toBe('/dev/sdg');
    expect(blkid(img, 'TYPE')).toBe('ext4');
  });

  it('fails with device-not-found when no device shows up: ABANDON, and the group terminates the instance', async ({ expect }) => {
    const w = await makeWorld();
    const r = await w.run();
    expect(r.code).toBe(1);
    expect(r.phases.at(-1)).toBe('failed:mounting:device-not-found');
    expect(lifecycleResults(r.calls)).toEqual(['ABANDON']);
    expect(r.ec2State).toBe('terminated');
  });
});

describe.concurrent('node bootstrap: attaching', () => {
  it('retries VolumeInUse with growing backoff, then attaches (another instance took the volume between its describe and its attach, twice)', async ({ expect }) => {
    const w = await makeWorld();
    w.linkById(makeImage(join(w.dir, 'vol.img'), 64));
    const n2 = w.sim.world.currentInstance('n2')?.id as string;
    const admin = w.admin();
    let raced = 0;
    // A race no API call can place: right after EC2 answered the script's describe with
    // `available`, before the script sees it, n2's instance attaches the volume (world
    // internals); it lets go 200 ms later (an admin DetachVolume).
    w.onCall((c) => {
      if (c.operation !== 'DescribeVolumes' || raced === 2 || w.sim.world.volumeOf('n1')?.state !== 'available') return;
      raced++;
      simContext(w.sim).ec2.attachVolume(w.volumeId, n2, '/dev/sdf');
      w.timer(200, () => void admin.ec2.send(new DetachVolumeCommand({ VolumeId: w.volumeId, InstanceId: n2 })));
    });
    const r = await w.run();
    expect(r.code, r.stderr).toBe(0);
    const attaches = r.calls.filter((c) => c.operation === 'AttachVolume');
    expect(attaches.map((c) => c.error)).toEqual(['VolumeInUse', 'VolumeInUse', null]);
    expect(r.stderr.match(/volume in use, retrying/g)).toHaveLength(2);
    // The pauses after the failed attaches grow: 1–2 s, then 2–4 s (jittered exponential), in
    // virtual time: from each failed attach to the next describe (a few ms of API latency on top).
    const pause = (i: number) => {
      const at = (attaches[i] as (typeof attaches)[number]).atMs;
      return (r.calls.find((c) => c.operation === 'DescribeVolumes' && c.atMs > at)?.atMs ?? NaN) - at;
    };
    expect(pause(0)).toBeGreaterThanOrEqual(1_000);
    expect(pause(0)).toBeLessThan(2_100);
    expect(pause(1)).toBeGreaterThanOrEqual(2_000);
    expect(pause(1)).toBeLessThan(4_100);
    expect(r.phases).toEqual(FULL_PHASES);
    expect(w.sim.world.volumeOf('n1')?.attachment).toMatchObject({ instanceId: w.instanceId, state: 'attached' });
    expect(r.lifecycleState).toBe('InService');
  });

  it('fails on a volume in another availability zone, without trying to attach it', async ({ expect }) => {
    const w = await makeWorld();
    const elsewhere = await createVolume(w, 'us-east-1b', { Name: 'elsewhere' });
    const r = await w.run({ data: { BERTH_VOLUME_ID: elsewhere } });
    expect(r.code).toBe(1);
    expect(r.phases).toEqual(['attaching', 'failed:attaching:volume-az-mismatch']);
    expect(r.stderr).toContain(`${elsewhere} is in us-east-1b, this instance in ${AZ}`);
    expect(ops(r.calls)).not.toContain('AttachVolume');
    expect(r.ec2State).toBe('terminated');
  });

  it('without a volume id, fails when two data volumes carry the node tags', async ({ expect }) => {
    const w = await makeWorld();
    const extra = await createVolume(w, AZ, { 'berth:cluster': 'kafka', 'berth:node': 'n1', 'berth:volume': 'data' });
    const r = await w.run({ data: { BERTH_VOLUME_ID: '' } });
    expect(r.code).toBe(1);
    expect(r.phases).toEqual(['attaching', 'failed:attaching:volume-ambiguous']);
    expect(r.stderr).toContain(w.volumeId);
    expect(r.stderr).toContain(extra);
    expect(ops(r.calls)).not.toContain('AttachVolume');
  });
});
