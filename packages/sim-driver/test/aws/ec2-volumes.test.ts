import { SuspendProcessesCommand, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import {
  AttachVolumeCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DeleteVolumeCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  DescribeVolumesModificationsCommand,
  DetachVolumeCommand,
  EC2ServiceException,
  ModifyVolumeCommand,
  type Volume,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { Simulation } from '../../src/index.js';
import { AZ, createNode, expectAwsError, instanceIn, rulesAccount, tags, until } from './account-fixture.js';

async function volume(sim: Simulation, id: string): Promise<Volume> {
  return (await sim.aws.ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes?.[0] as Volume;
}

/** A data volume, once it is available. */
async function dataVolume(sim: Simulation, az: string, sizeGiB = 10, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await sim.aws.ec2.send(new CreateVolumeCommand({ AvailabilityZone: az, Size: sizeGiB, VolumeType: 'gp3', ...extra }));
  const id = r.VolumeId as string;
  await until(sim, () => sim.world.volumes.some((v) => v.id === id && v.state === 'available'), `${id} available`, 10);
  return id;
}

const attach = (sim: Simulation, volumeId: string, instanceId: string, device = '/dev/sdf') => sim.aws.ec2.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId, Device: device }));

async function attached(sim: Simulation, volumeId: string): Promise<void> {
  await until(sim, async () => (await volume(sim, volumeId)).Attachments?.[0]?.State === 'attached', `${volumeId} attached`, 100);
}

describe('EBS volumes', () => {
  it('EBS-1: AttachVolume to an instance in another AZ fails with InvalidVolume.ZoneMismatch', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1', { subnet: 'a' });
      const inst = await instanceIn(sim, 'n1', 'InService');
      const vol = await dataVolume(sim, AZ.b);
      await expectAwsError(attach(sim, vol, inst), 'InvalidVolume.ZoneMismatch', 400, EC2ServiceException, new RegExp(`^The volume '${vol}' is not in the same availability zone as instance '${inst}'$`));
      expect((await volume(sim, vol)).State).toBe('available');
    });
  });

  it('EBS-2: a volume goes creating → available → in-use; attaching it again while attached or detaching fails with VolumeInUse', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1', { subnet: 'a' });
      await createNode(sim, 'n2', { subnet: 'a' });
      const i1 = await instanceIn(sim, 'n1', 'InService');
      const i2 = await instanceIn(sim, 'n2', 'InService');
      const created = await sim.aws.ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ.a, Size: 10, VolumeType: 'gp3' }));
      expect(created.State).toBe('creating');
      const vol = created.VolumeId as string;
      await until(sim, () => sim.world.volumes.some((v) => v.id === vol && v.state === 'available'), 'available', 10);
      expect((await volume(sim, vol)).State).toBe('available');

      const a = await attach(sim, vol, i1);
      expect(a).toMatchObject({ VolumeId: vol, InstanceId: i1, Device: '/dev/sdf', State: 'attaching' });
      expect(await volume(sim, vol)).toMatchObject({ State: 'in-use', Attachments: [{ InstanceId: i1, State: 'attaching' }] });
      await expectAwsError(attach(sim, vol, i2), 'VolumeInUse', 400, EC2ServiceException, new RegExp(vol));
      await attached(sim, vol);
      await expectAwsError(attach(sim, vol, i2), 'VolumeInUse', 400, EC2ServiceException);
      await expectAwsError(attach(sim, vol, i1, '/dev/sdg'), 'VolumeInUse', 400, EC2ServiceException);

      const d = await sim.aws.ec2.send(new DetachVolumeCommand({ VolumeId: vol, InstanceId: i1 }));
      expect(d.State).toBe('detaching');
      await expectAwsError(attach(sim, vol, i2), 'VolumeInUse', 400, EC2ServiceException);
      await until(sim, async () => (await volume(sim, vol)).State === 'available', 'detached', 10);
      expect((await volume(sim, vol)).Attachments).toEqual([]);
      await attach(sim, vol, i2);
      await attached(sim, vol);
      expect((await volume(sim, vol)).Attachments?.[0]?.InstanceId).toBe(i2);
    });
  });

  it('EBS-3: a launch template\'s volume TagSpecifications tag every volume the launch creates, the root volume too; instance tags tag the instance', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1', {
        template: {
          TagSpecifications: [
            { ResourceType: 'instance', Tags: tags({ node: 'n1', role: 'broker' }) },
            { ResourceType: 'volume', Tags: tags({ node: 'n1', 'berth:volume': 'root' }) },
          ],
        },
      });
      const inst = await instanceIn(sim, 'n1', 'InService');
      const i = (await sim.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [inst] }))).Reservations?.[0]?.Instances?.[0];
      expect(i?.Tags).toEqual(expect.arrayContaining([{ Key: 'node', Value: 'n1' }, { Key: 'role', Value: 'broker' }]));
      const byNode = await sim.aws.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:node', Values: ['n1'] }] }));
      expect(byNode.Volumes?.map((v) => [v.Attachments?.[0]?.InstanceId, v.Attachments?.[0]?.Device])).toEqual([[inst, '/dev/xvda']]);
      expect(byNode.Volumes?.[0]?.Tags).toEqual(expect.arrayContaining([{ Key: 'node', Value: 'n1' }, { Key: 'berth:volume', Value: 'root' }]));
      expect(byNode.Volumes?.[0]?.Tags?.some((t) => t.Key === 'role')).toBe(false);
    });
  });

  it('EBS-4, EBS-5: at termination the root volume (DeleteOnTermination) is deleted and an attached data volume detaches during shutting-down and stays', async () => {
    const { sim } = rulesAccount({ timings: { shuttingDownMs: [30_000, 30_000], volumeDetachStartMs: [1_000, 2_000], volumeDetachMs: [2_000, 3_000] } });
    await sim.run(async () => {
      await createNode(sim, 'n1');
      const inst = await instanceIn(sim, 'n1', 'InService');
      const root = (await sim.aws.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [inst] }] }))).Volumes?.[0] as Volume;
      expect(root.Attachments?.[0]).toMatchObject({ Device: '/dev/xvda', DeleteOnTermination: true });
      const data = await dataVolume(sim, AZ.a);
      await attach(sim, data, inst);
      await attached(sim, data);
      expect((await volume(sim, data)).Attachments?.[0]?.DeleteOnTermination).toBe(false);

      await sim.aws.autoScaling.send(new SuspendProcessesCommand({ AutoScalingGroupName: 'n1', ScalingProcesses: ['Launch'] }));
      await sim.aws.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: inst, ShouldDecrementDesiredCapacity: false }));
      await until(sim, async () => (await volume(sim, data)).Attachments?.[0]?.State === 'detaching', 'data volume detaching', 100);
      expect(sim.world.instance(inst)?.ec2State).toBe('shutting-down');
      await until(sim, async () => (await volume(sim, data)).State === 'available', 'data volume detached', 100);
      expect(sim.world.instance(inst)?.ec2State).toBe('shutting-down');
      expect((await volume(sim, root.VolumeId as string)).State).toBe('in-use');
      await until(sim, () => sim.world.instance(inst)?.ec2State === 'terminated', 'terminated', 10);
      await expectAwsError(sim.aws.ec2.send(new DescribeVolumesCommand({ VolumeIds: [root.VolumeId as string] })), 'InvalidVolume.NotFound', 400, EC2ServiceException);
      expect((await volume(sim, data)).State).toBe('available');
    });
  });

  it('EBS-7: ModifyVolume goes modifying → optimizing (new size usable) → completed; one at a time; never smaller', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const vol = await dataVolume(sim, AZ.a, 100);
      await expectAwsError(sim.aws.ec2.send(new ModifyVolumeCommand({ VolumeId: vol, Size: 50 })), 'InvalidParameterValue', 400, EC2ServiceException, /New size cannot be smaller than existing size/);
      const m = await sim.aws.ec2.send(new ModifyVolumeCommand({ VolumeId: vol, Size: 200 }));
      expect(m.VolumeModification).toMatchObject({ VolumeId: vol, ModificationState: 'modifying', OriginalSize: 100, TargetSize: 200 });
      await expectAwsError(sim.aws.ec2.send(new ModifyVolumeCommand({ VolumeId: vol, Size: 300 })), 'IncorrectModificationState', 400, EC2ServiceException);
      const state = async () => (await sim.aws.ec2.send(new DescribeVolumesModificationsCommand({ VolumeIds: [vol] }))).VolumesModifications?.[0]?.ModificationState;
      await until(sim, async () => (await state()) === 'optimizing', 'optimizing', 10);
      expect((await volume(sim, vol)).Size).toBe(200);
      await expectAwsError(sim.aws.ec2.send(new ModifyVolumeCommand({ VolumeId: vol, Size: 300 })), 'IncorrectModificationState', 400, EC2ServiceException);
      await until(sim, async () => (await state()) === 'completed', 'completed', 100);
      await sim.aws.ec2.send(new ModifyVolumeCommand({ VolumeId: vol, Size: 300 }));
    });
  });

  it('EBS-7: at most four modifications per volume in a rolling 24 hours', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const vol = await dataVolume(sim, AZ.a, 10);
      const firstAt = sim.clock.now();
      const done = async () => (await sim.aws.ec2.send(new DescribeVolumesModificationsCommand({ VolumeIds: [vol] }))).VolumesModifications?.[0]?.ModificationState === 'completed';
      for (const size of [11, 12, 13, 14]) {
        await sim.aws.ec2.send(new ModifyVolumeCommand({ VolumeId: vol, Size: size }));
        await until(sim, done, 'completed', 1_000);
      }
      await expectAwsError(sim.aws.ec2.send(new ModifyVolumeCommand({ VolumeId: vol, Size: 15 })), 'VolumeModificationRateExceeded', 400, EC2ServiceException);
      await sim.clock.sleep(firstAt + 24 * 3600_000 - sim.clock.now() - 1_000);
      await expectAwsError(sim.aws.ec2.send(new ModifyVolumeCommand({ VolumeId: vol, Size: 15 })), 'VolumeModificationRateExceeded', 400, EC2ServiceException);
      await sim.clock.sleep(1_000);
      const m = await sim.aws.ec2.send(new ModifyVolumeCommand({ VolumeId: vol, Size: 15 }));
      expect(m.VolumeModification?.TargetSize).toBe(15);
    });
  });

  it('EBS-8: gp3 takes 1–65,536 GiB, 3,000–80,000 IOPS and 125–2,000 MiB/s, at creation and modification', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const create = (extra: Record<string, number>) => sim.aws.ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ.a, VolumeType: 'gp3', Size: 100, ...extra }));
      expect((await create({ Size: 65_536, Iops: 80_000, Throughput: 2_000 })).Size).toBe(65_536);
      const bads: Record<string, number>[] = [{ Size: 0 }, { Size: 65_537 }, { Iops: 2_999 }, { Iops: 80_001 }, { Throughput: 124 }, { Throughput: 2_001 }];
      for (const bad of bads) {
        await expectAwsError(create(bad), 'InvalidParameterValue', 400, EC2ServiceException);
      }
      const fresh = await create({});
      expect(fresh).toMatchObject({ Iops: 3_000, Throughput: 125 });
      const vol = fresh.VolumeId as string;
      await until(sim, () => sim.world.volumes.some((v) => v.id === vol && v.state === 'available'), 'available', 10);
      await expectAwsError(sim.aws.ec2.send(new ModifyVolumeCommand({ VolumeId: vol, Size: 65_537 })), 'InvalidParameterValue', 400, EC2ServiceException);
      await expectAwsError(sim.aws.ec2.send(new ModifyVolumeCommand({ VolumeId: vol, Iops: 80_001 })), 'InvalidParameterValue', 400, EC2ServiceException);
      await sim.aws.ec2.send(new ModifyVolumeCommand({ VolumeId: vol, Iops: 16_000, Throughput: 1_000 }));
      await until(sim, async () => (await volume(sim, vol)).Iops === 16_000, 'new IOPS', 100);
      expect((await volume(sim, vol)).Throughput).toBe(1_000);
    });
  });

  it('EBS-9: a snapshot goes pending → completed; a volume from it defaults to its size and may be larger, never smaller', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const vol = await dataVolume(sim, AZ.a, 100);
      const snap = await sim.aws.ec2.send(new CreateSnapshotCommand({ VolumeId: vol, Description: 'before resize', TagSpecifications: [{ ResourceType: 'snapshot', Tags: tags({ k: 'v' }) }] }));
      expect(snap).toMatchObject({ VolumeId: vol, VolumeSize: 100, State: 'pending' });
      const id = snap.SnapshotId as string;
      await expectAwsError(sim.aws.ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ.a, SnapshotId: id })), 'IncorrectState', 400, EC2ServiceException, /pending/);
      await until(sim, async () => (await sim.aws.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }))).Snapshots?.[0]?.State === 'completed', 'completed', 1_000);
      expect((await sim.aws.ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'tag:k', Values: ['v'] }] }))).Snapshots?.map((s) => [s.SnapshotId, s.Progress])).toEqual([[id, '100%']]);
      await expectAwsError(
        sim.aws.ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ.a, SnapshotId: id, Size: 50 })),
        'InvalidParameterValue',
        400,
        EC2ServiceException,
        /^Volume of 50GiB is too small; minimum is 100GiB\.$/,
      );
      expect((await sim.aws.ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ.a, SnapshotId: id }))).Size).toBe(100);
      const bigger = await sim.aws.ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ.b, SnapshotId: id, Size: 150 }));
      expect(bigger).toMatchObject({ Size: 150, SnapshotId: id, AvailabilityZone: AZ.b });
    });
  });

  it('EBS-10: DeleteVolume of an attached volume fails with VolumeInUse; once detached it is deleted', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1');
      const inst = await instanceIn(sim, 'n1', 'InService');
      const vol = await dataVolume(sim, AZ.a);
      await attach(sim, vol, inst);
      await expectAwsError(sim.aws.ec2.send(new DeleteVolumeCommand({ VolumeId: vol })), 'VolumeInUse', 400, EC2ServiceException, new RegExp(vol));
      await attached(sim, vol);
      await expectAwsError(sim.aws.ec2.send(new DeleteVolumeCommand({ VolumeId: vol })), 'VolumeInUse', 400, EC2ServiceException);
      await sim.aws.ec2.send(new DetachVolumeCommand({ VolumeId: vol, InstanceId: inst }));
      await expectAwsError(sim.aws.ec2.send(new DeleteVolumeCommand({ VolumeId: vol })), 'VolumeInUse', 400, EC2ServiceException);
      await until(sim, async () => (await volume(sim, vol)).State === 'available', 'detached', 10);
      await sim.aws.ec2.send(new DeleteVolumeCommand({ VolumeId: vol }));
      await expectAwsError(sim.aws.ec2.send(new DescribeVolumesCommand({ VolumeIds: [vol] })), 'InvalidVolume.NotFound', 400, EC2ServiceException);
    });
  });

  it('API-2: CreateVolume with a ClientToken: the same token and parameters return the first volume, other parameters fail with IdempotentParameterMismatch', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const input = { AvailabilityZone: AZ.a, Size: 10, VolumeType: 'gp3' as const, ClientToken: 'node-1-data-gen-1', TagSpecifications: [{ ResourceType: 'volume' as const, Tags: tags({ node: 'n1' }) }] };
      const first = await sim.aws.ec2.send(new CreateVolumeCommand(input));
      const again = await sim.aws.ec2.send(new CreateVolumeCommand(input));
      expect(again.VolumeId).toBe(first.VolumeId);
      await sim.clock.sleep(1_000);
      expect((await sim.aws.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:node', Values: ['n1'] }] }))).Volumes).toHaveLength(1);
      await expectAwsError(
        sim.aws.ec2.send(new CreateVolumeCommand({ ...input, Size: 20 })),
        'IdempotentParameterMismatch',
        400,
        EC2ServiceException,
        /^Arguments on this idempotent request are inconsistent with arguments used in previous request\(s\)\.$/,
      );
      // Tokens are case-sensitive: another token is another request.
      const other = await sim.aws.ec2.send(new CreateVolumeCommand({ ...input, ClientToken: 'NODE-1-data-gen-1' }));
      expect(other.VolumeId).not.toBe(first.VolumeId);
    });
  });
});
