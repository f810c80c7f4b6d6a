// What the old fake `aws` (it ignored filters and answered from files) could not show: the
// simulated account holds every volume a real one would (root volumes tagged with the node,
// the other nodes' data volumes in the same AZ), attachments that other instances hold, and
// IAM evaluated with the node policy on every call.
import { AttachVolumeCommand, DetachVolumeCommand } from '@aws-sdk/client-ec2';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { closeWorlds, lifecycleResults, makeImage, makeWorld, once, ops } from './harness.js';
import type { BootWorld } from './harness.js';

afterAll(closeWorlds);

const FULL_PHASES = ['attaching', 'mounting', 'configuring', 'joining', 'healthy', 'in-service'];
const DATA_FILTER = ' "Name=tag:berth:volume,Values=data"';
const NODE_FILTER = ' "Name=tag:berth:node,Values=$BERTH_NODE_ID"';

/** The user data with one filter of the fallback lookup taken out (how the script was, or could become). */
function without(filter: string): (text: string) => string {
  return (text) => {
    if (!text.includes(filter)) throw new Error(`the script has no ${filter} any more: update this test`);
    return text.replace(filter, '');
  };
}

async function bootable(): Promise<BootWorld> {
  const w = await makeWorld();
  w.linkById(makeImage(join(w.dir, 'vol.img'), 64));
  return w;
}

/** n1 boots from a hand-rendered user data (no volume id): the tag lookup. */
const fallback = once(async () => {
  const w = await bootable();
  const root = w.sim.world.volumes.filter((v) => v.tags['berth:node'] === 'n1' && v.tags['berth:volume'] === 'root');
  const others = ['n2', 'n3'].map((n) => w.sim.world.volumeOf(n));
  const before = others.map((v) => ({ az: v?.az, state: v?.state }));
  return { w, root, others, before, r: await w.run({ data: { BERTH_VOLUME_ID: '' } }) };
});

interface Statement {
  readonly Action?: string | readonly string[];
}

describe.concurrent('node bootstrap regressions (simulated account, IAM evaluated)', () => {
  // Regression: the launch template tags root volumes with the node's tags too (berth:volume=root),
  // so the fallback lookup by berth:cluster and berth:node alone found the data volume and the
  // root volume, and failed volume-ambiguous on every hand-rendered user data.
  it('root volumes carry the node tags: the fallback lookup (no volume id in the user data) still picks the data volume', async ({ expect }) => {
    const { w, root, r } = await fallback();
    expect(root.map((v) => v.attachment?.instanceId)).toEqual([w.instanceId]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls.find((c) => c.operation === 'DescribeVolumes')?.input).toEqual({
      Filters: [
        { Name: 'tag:berth:cluster', Values: ['kafka'] },
        { Name: 'tag:berth:node', Values: ['n1'] },
        { Name: 'tag:berth:volume', Values: ['data'] },
      ],
    });
    expect(r.calls.filter((c) => c.operation === 'AttachVolume').map((c) => c.input['VolumeId'])).toEqual([w.volumeId]);
    expect(r.phases).toEqual(FULL_PHASES);
    expect(r.lifecycleState).toBe('InService');
  });

  it('...and the lookup before the fix (without berth:volume=data) fails volume-ambiguous on the same account', async ({ expect }) => {
    const w = await bootable();
    const root = w.sim.world.volumes.find((v) => v.tags['berth:node'] === 'n1' && v.tags['berth:volume'] === 'root');
    const r = await w.run({ data: { BERTH_VOLUME_ID: '' }, edit: without(DATA_FILTER) });
    expect(r.code).toBe(1);
    expect(r.phases).toEqual(['attaching', 'failed:attaching:volume-ambiguous']);
    expect(r.stderr).toContain(w.volumeId);
    expect(r.stderr).toContain(root?.id);
    expect(lifecycleResults(r.calls)).toEqual(['ABANDON']);
  });

  it("another node's data volume in the same AZ is never attached: the fallback lookup filters by node", async ({ expect }) => {
    const { w, others, before, r } = await fallback();
    expect(before).toEqual([
      { az: 'us-east-1a', state: 'available' },
      { az: 'us-east-1a', state: 'available' },
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(others.map((v) => w.sim.world.volumeOf(v?.tags['berth:node'] as string)?.attachment)).toEqual([null, null]);
    // Without the node filter the lookup would see every data volume of the cluster; the
    // script then stops (volume-ambiguous) rather than take one of them.
    const v = await bootable();
    const mutant = await v.run({ data: { BERTH_VOLUME_ID: '' }, edit: without(NODE_FILTER) });
    expect(mutant.phases).toEqual(['attaching', 'failed:attaching:volume-ambiguous']);
    for (const n of ['n1', 'n2', 'n3']) expect(mutant.stderr).toContain(v.sim.world.volumeOf(n)?.id);
    expect(ops(mutant.calls)).not.toContain('AttachVolume');
  });

  it('the volume is still attached to another instance: the script waits until it is detached, then attaches', async ({ expect }) => {
    const w = await bootable();
    const n2 = w.sim.world.currentInstance('n2')?.id as string;
    const admin = w.admin();
    await w.simulate(async () => {
      await admin.ec2.send(new AttachVolumeCommand({ VolumeId: w.volumeId, InstanceId: n2, Device: '/dev/sdf' }));
      await w.sim.clock.sleep(1_000);
    });
    expect(w.sim.world.volumeOf('n1')?.attachment).toMatchObject({ instanceId: n2, state: 'attached' });
    const startMs = w.sim.world.nowMs;
    w.timer(30_000, () => void admin.ec2.send(new DetachVolumeCommand({ VolumeId: w.volumeId, InstanceId: n2 })));
    const r = await w.run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`volume is in-use (attached to ${n2}, attached); waiting for it to become available`);
    // One attach, once the volume was free: never an attach while it was in use.
    const attaches = r.calls.filter((c) => c.operation === 'AttachVolume');
    expect(attaches.map((c) => c.error)).toEqual([null]);
    expect((attaches[0]?.atMs ?? 0) - startMs).toBeGreaterThan(30_000);
    expect(r.calls.filter((c) => c.operation === 'DescribeVolumes' && c.atMs < (attaches[0]?.atMs ?? 0)).length).toBeGreaterThanOrEqual(3);
    expect(r.phases).toEqual(FULL_PHASES);
    expect(w.sim.world.volumeOf('n1')?.attachment).toMatchObject({ instanceId: w.instanceId, state: 'attached' });
    expect(r.lifecycleState).toBe('InService');
  });

  it('a node role without ec2:AttachVolume: attach-error naming the action; the role may still tag and abandon, so the group terminates the instance', async ({ expect }) => {
    const w = await bootable();
    const role = w.spec.iamInstanceProfile;
    const generated = Object.values(w.sim.account.rolePolicies(role)) as { Version: string; Statement: Statement[] }[];
    expect(generated).toHaveLength(1);
    const policy = generated[0] as { Version: string; Statement: Statement[] };
    const statements = policy.Statement.filter((s) => !([] as string[]).concat(s.Action ?? []).includes('ec2:AttachVolume'));
    expect(statements.length).toBe(policy.Statement.length - 2); // AttachToItself, AttachOwnVolume
    w.sim.account.setRolePolicies(role, { node: { ...policy, Statement: statements } });
    const r = await w.run();
    expect(r.code).toBe(1);
    expect(r.calls.find((c) => c.operation === 'AttachVolume')?.error).toBe('UnauthorizedOperation');
    expect(r.stderr).toMatch(/FAILED \(attach-error\): .*UnauthorizedOperation.*ec2:AttachVolume/);
    // Only the attach is refused: the failure tag (ec2:CreateTags) and the ABANDON
    // (autoscaling:CompleteLifecycleAction) are other statements of the node policy.
    expect(r.phases).toEqual(['attaching', 'failed:attaching:attach-error']);
    expect(lifecycleResults(r.calls)).toEqual(['ABANDON']);
    expect(r.calls.filter((c) => c.error !== null).map((c) => c.operation)).toEqual(['AttachVolume']);
    expect(r.ec2State).toBe('terminated');
    expect(w.sim.account.iamDenials().map((d) => d.action)).toEqual(['ec2:AttachVolume']);
  });

  it("the node policy refuses to attach another node's volume (n1's credentials, n2's volume id in the user data)", async ({ expect }) => {
    const w = await bootable();
    const n2Volume = w.sim.world.volumeOf('n2');
    const r = await w.run({ data: { BERTH_VOLUME_ID: n2Volume?.id as string } });
    expect(r.code).toBe(1);
    expect(r.calls.find((c) => c.operation === 'AttachVolume')).toMatchObject({ input: { VolumeId: n2Volume?.id, InstanceId: w.instanceId }, error: 'UnauthorizedOperation' });
    expect(r.stderr).toMatch(/FAILED \(attach-error\): .*ec2:AttachVolume on resource: arn:aws:ec2:us-east-1:\d+:volume\/vol-/);
    expect(r.phases).toEqual(['attaching', 'failed:attaching:attach-error']);
    expect(w.sim.world.volumeOf('n2')?.attachment).toBeNull();
    expect(w.sim.account.iamDenials()).toMatchObject([{ action: 'ec2:AttachVolume', resource: expect.stringContaining(`volume/${n2Volume?.id}`) }]);
    expect(r.ec2State).toBe('terminated');
  });

  it('IMDSv2: without a token the script reads no metadata and makes no AWS call', async ({ expect }) => {
    const w = await bootable();
    w.bridge.imds.failTokenPuts = 1_000;
    const r = await w.run();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('FAILED: no IMDSv2 token');
    expect(w.bridge.imds.tokenPuts).toBe(8);
    expect(w.bridge.imds.rejectedGets).toBe(0);
    expect(r.calls).toEqual([]);
    expect(r.lifecycleState).toBe('Pending:Wait');
    // Not vacuous: this instance's metadata service refuses a read without the token.
    expect(w.sim.world.instance(w.instanceId)?.metadataOptions.httpTokens).toBe('required');
    expect((await fetch(`${w.bridge.url}/latest/meta-data/instance-id`)).status).toBe(401);
    expect(w.bridge.imds.rejectedGets).toBe(1);
  });
});
