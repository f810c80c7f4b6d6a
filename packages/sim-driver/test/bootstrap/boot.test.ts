// One normal boot of node n1 (and a second run of the same user data), observed from every side:
// the devices and files on the "instance", the AWS calls the simulated account answered, the
// instance metadata service, and what the group did with the lifecycle action.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { AZ, blkid, closeWorlds, lifecycleResults, makeImage, makeWorld, once, ops } from './harness.js';

afterAll(closeWorlds);

const FULL_PHASES = ['attaching', 'mounting', 'configuring', 'joining', 'healthy', 'in-service'];
/** Quotes, `$`, backquotes, a backslash, a non-ASCII letter, no final newline: all must survive. */
const NASTY = `it's "quoted" $HOME \`cmd\` \\n and ${'\u00e9'}\nline 2 without newline`;

const boot = once(async () => {
  const w = await makeWorld({
    input: (dir) => ({
      bootstrap: {
        files: [
          { path: join(dir, 'etc', 'deep', 'dir', 'node.conf'), content: NASTY, mode: '0600' },
          { path: join(dir, 'etc', 'app', 'app.conf'), content: 'a=1\n', mode: '0640' },
        ],
        // Records the node facts, and the first time only keeps the bootstrap busy for 3 s
        // (wall clock) so that it heartbeats (every second) meanwhile.
        configureScript: [
          `echo "$BERTH_CLUSTER $BERTH_NODE_ID $BERTH_INSTANCE_ID $BERTH_AZ $BERTH_DATA_DIR $BERTH_VOLUME_ID" > ${join(dir, 'configured')}`,
          `[ -e ${join(dir, 'slept')} ] || { touch ${join(dir, 'slept')}; sleep 3; }`,
        ].join('\n'),
      },
    }),
  });
  const img = makeImage(join(w.dir, 'vol.img'), 64);
  w.linkById(img);
  const mp = w.spec.dataVolume.mountPath;
  writeFileSync(w.fstab, `# root\n/dev/xvda1 / ext4 defaults 0 1\nUUID=dead-beef ${mp} xfs defaults 0 0\n`);
  w.env.BERTH_HEARTBEAT_INTERVAL_SEC = '1';
  w.bridge.imds.failTokenPuts = 2;
  const imdsBefore = { ...w.bridge.imds };
  const first = await w.run();
  const imds = { tokenPuts: w.bridge.imds.tokenPuts - imdsBefore.tokenPuts, rejectedGets: w.bridge.imds.rejectedGets - imdsBefore.rejectedGets };
  const afterFirst = { uuid: blkid(img, 'UUID'), fstab: readFileSync(w.fstab, 'utf8') };
  const second = await w.run();
  return { w, img, mp, first, imds, afterFirst, second };
});

describe.concurrent('node bootstrap: a normal boot', () => {
  it('formats the blank device as ext4, writes one fstab entry by UUID with nofail, mounts it, and the group puts the instance InService', async ({ expect }) => {
    const { w, img, mp, first: r } = await boot();
    expect(r.code, r.stderr).toBe(0);
    expect(blkid(img, 'TYPE')).toBe('ext4');
    expect(readFileSync(w.fstab, 'utf8').split('\n').filter((l) => l.startsWith('UUID='))).toEqual([`UUID=${blkid(img, 'UUID')} ${mp} ext4 defaults,noatime,nofail 0 2`]);
    expect(r.localCalls).toContain(`mount -t ext4 -o defaults,noatime,nofail ${img} ${mp}`);
    expect(r.phases).toEqual(FULL_PHASES);
    expect(w.sim.world.instance(w.instanceId)?.tags['berth:phase']).toBe('in-service');
    expect(lifecycleResults(r.calls)).toEqual(['CONTINUE']);
    expect(r.lifecycleState).toBe('InService');
    expect(w.sim.world.volumeOf('n1')?.attachment).toMatchObject({ instanceId: w.instanceId, device: '/dev/sdf', state: 'attached' });
    expect(r.calls.filter((c) => c.error !== null)).toEqual([]);
  });

  it('replaces an older fstab entry for the same mount point and keeps the others', async ({ expect }) => {
    const { w, img, mp } = await boot();
    expect(readFileSync(w.fstab, 'utf8')).toBe(`# root\n/dev/xvda1 / ext4 defaults 0 1\nUUID=${blkid(img, 'UUID')} ${mp} ext4 defaults,noatime,nofail 0 2\n`);
  });

  it('uses the volume id, group and hook of its user data: no lookup of any of them', async ({ expect }) => {
    const { w, first: r } = await boot();
    expect(w.userData).toContain(`BERTH_VOLUME_ID='${w.volumeId}'\nBERTH_ASG_NAME='berth-kafka-n1'\nBERTH_LIFECYCLE_HOOK_NAME='berth-launch'\n`);
    expect([...new Set(ops(r.calls))].sort()).toEqual(['AttachVolume', 'CompleteLifecycleAction', 'CreateTags', 'DescribeVolumes', 'RecordLifecycleActionHeartbeat']);
    expect(r.calls.filter((c) => c.operation === 'DescribeVolumes').map((c) => c.input)).toEqual(
      r.calls.filter((c) => c.operation === 'DescribeVolumes').map(() => ({ VolumeIds: [w.volumeId] })),
    );
    expect(r.calls.filter((c) => c.operation === 'AttachVolume').map((c) => c.input)).toEqual([{ VolumeId: w.volumeId, InstanceId: w.instanceId, Device: '/dev/sdf' }]);
    expect(r.calls.find((c) => c.operation === 'CompleteLifecycleAction')?.input).toEqual({
      AutoScalingGroupName: 'berth-kafka-n1',
      LifecycleHookName: 'berth-launch',
      InstanceId: w.instanceId,
      LifecycleActionResult: 'CONTINUE',
    });
  });

  it('gets an IMDSv2 token with retries and never reads metadata without it (the instance requires tokens)', async ({ expect }) => {
    const { w, first: r, imds } = await boot();
    expect(w.sim.world.instance(w.instanceId)?.metadataOptions.httpTokens).toBe('required');
    expect(imds).toEqual({ tokenPuts: 3, rejectedGets: 0 });
    expect(r.stderr.match(/IMDSv2 token: attempt \d failed/g)).toHaveLength(2);
    expect(r.calls[0]).toMatchObject({ operation: 'CreateTags', input: { Resources: [w.instanceId], Tags: [{ Key: 'berth:phase', Value: 'attaching' }] } });
  });

  it('writes the node files with their mode, owner and exact content (quotes and $ survive)', async ({ expect }) => {
    const { w } = await boot();
    const p = join(w.dir, 'etc', 'deep', 'dir', 'node.conf');
    expect(readFileSync(p, 'utf8')).toBe(NASTY);
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(statSync(join(w.dir, 'etc', 'app', 'app.conf')).mode & 0o777).toBe(0o640);
  });

  it('runs the configure script with the node facts in its environment', async ({ expect }) => {
    const { w, mp } = await boot();
    expect(readFileSync(join(w.dir, 'configured'), 'utf8')).toBe(`kafka n1 ${w.instanceId} ${AZ} ${mp} ${w.volumeId}\n`);
  });

  it('sends lifecycle heartbeats for its own group while it waits, and the group accepts them', async ({ expect }) => {
    const { w, first: r } = await boot();
    const beats = r.calls.filter((c) => c.operation === 'RecordLifecycleActionHeartbeat');
    expect(beats.length).toBeGreaterThanOrEqual(2);
    for (const b of beats) {
      expect(b.input).toEqual({ AutoScalingGroupName: 'berth-kafka-n1', LifecycleHookName: 'berth-launch', InstanceId: w.instanceId });
      expect(b.error).toBeNull();
    }
  });

  it('a second run duplicates nothing: same fstab, same files, no reformat, no second mount or attach; it finds the instance InService', async ({ expect }) => {
    const { w, img, afterFirst, second } = await boot();
    expect(second.code, second.stderr).toBe(0);
    expect(blkid(img, 'UUID')).toBe(afterFirst.uuid);
    expect(readFileSync(w.fstab, 'utf8')).toBe(afterFirst.fstab);
    expect(second.localCalls.filter((c) => c.startsWith('mount '))).toEqual([]);
    expect(second.stderr).toContain('already mounted');
    expect(readdirSync(join(w.dir, 'etc', 'app'))).toEqual(['app.conf']);
    expect(readFileSync(join(w.dir, 'etc', 'app', 'app.conf'), 'utf8')).toBe('a=1\n');
    expect(ops(second.calls)).not.toContain('AttachVolume');
    // The first run completed the lifecycle action: the group has none left and says so; the
    // script then checks that the instance is InService.
    expect(second.calls.find((c) => c.operation === 'CompleteLifecycleAction')?.error).toBe('ValidationError');
    expect(second.stderr).toContain('No active Lifecycle Action found');
    expect(second.calls.filter((c) => c.operation === 'DescribeAutoScalingInstances')).toMatchObject([{ input: { InstanceIds: [w.instanceId] }, error: null }]);
    expect(second.phases).toEqual(FULL_PHASES);
    expect(second.lifecycleState).toBe('InService');
  });
});

describe('node bootstrap: data it cannot start without', () => {
  it('refuses to start without the group or hook name in its data, before any call (also to IMDS)', async ({ expect }) => {
    const w = await makeWorld();
    for (const [key, missing] of [
      ['BERTH_ASG_NAME', 'BERTH_ASG_NAME'],
      ['BERTH_LIFECYCLE_HOOK_NAME', 'BERTH_LIFECYCLE_HOOK_NAME'],
    ] as const) {
      const puts = w.bridge.imds.tokenPuts;
      const r = await w.run({ data: { [key]: '' } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`missing data value ${missing}`);
      expect(r.calls).toEqual([]);
      expect(w.bridge.imds.tokenPuts).toBe(puts);
      expect(r.lifecycleState).toBe('Pending:Wait');
    }
  });
});
