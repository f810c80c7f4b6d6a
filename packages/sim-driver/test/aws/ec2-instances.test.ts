import { DescribeAutoScalingGroupsCommand, DescribeScalingActivitiesCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateNetworkInterfaceCommand,
  CreateVolumeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeVolumesCommand,
  EC2ServiceException,
  TerminateInstancesCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { AZ, createNode, expectAwsError, instanceIn, rulesAccount, SUBNET, tags, until } from './account-fixture.js';

/** DescribeInstances of one instance by id. */
async function describeInstance(sim: ReturnType<typeof rulesAccount>['sim'], id: string): Promise<Instance> {
  const r = await sim.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  return r.Reservations?.[0]?.Instances?.[0] as Instance;
}

/** DescribeInstances of a new instance, retried while EC2 does not show it yet (EC2-7). */
async function visible(sim: ReturnType<typeof rulesAccount>['sim'], id: string): Promise<Instance> {
  for (;;) {
    try {
      return await describeInstance(sim, id);
    } catch (e) {
      if ((e as Error).name !== 'InvalidInstanceID.NotFound') throw e;
      await sim.clock.sleep(1);
    }
  }
}

describe('EC2 instances', () => {
  it('EC2-1: an instance goes pending → running; TerminateInstances answers running → shutting-down; then terminated', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1');
      const id = await instanceIn(sim, 'n1', 'Pending');
      const first = await visible(sim, id);
      expect(first.State).toEqual({ Code: 0, Name: 'pending' });
      await until(sim, async () => (await describeInstance(sim, id)).State?.Name === 'running', 'running');
      expect((await describeInstance(sim, id)).State).toEqual({ Code: 16, Name: 'running' });

      const t = await sim.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      expect(t.TerminatingInstances).toEqual([{ InstanceId: id, PreviousState: { Code: 16, Name: 'running' }, CurrentState: { Code: 32, Name: 'shutting-down' } }]);
      expect((await describeInstance(sim, id)).State?.Name).toBe('shutting-down');
      await until(sim, async () => (await describeInstance(sim, id)).State?.Name === 'terminated', 'terminated');
      expect((await describeInstance(sim, id)).State).toEqual({ Code: 48, Name: 'terminated' });
    });
    const states = sim.trace.filter((e) => e.kind === 'instance.state').map((e) => `${String(e.from)}→${String(e.to)}`);
    expect(states.slice(0, 3)).toEqual(['pending→running', 'running→shutting-down', 'shutting-down→terminated']);
  });

  it('EC2-2: a terminated instance stays in DescribeInstances (state terminated, with its tags) for about an hour, then is gone', async () => {
    const { sim } = rulesAccount({ timings: { terminatedVisibleMs: 3600_000 } });
    await sim.run(async () => {
      await createNode(sim, 'n1', { template: { TagSpecifications: [{ ResourceType: 'instance', Tags: tags({ app: 'kafka' }) }] } });
      const id = await instanceIn(sim, 'n1', 'InService');
      await sim.aws.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      await until(sim, () => sim.world.instance(id)?.ec2State === 'terminated', 'terminated');
      const terminatedAt = sim.clock.now();

      await sim.clock.sleep(59 * 60_000);
      const seen = await describeInstance(sim, id);
      expect(seen.State?.Name).toBe('terminated');
      expect(seen.Tags).toContainEqual({ Key: 'app', Value: 'kafka' });
      // A filter on the state must leave terminated instances out explicitly.
      const all = await sim.aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:app', Values: ['kafka'] }] }));
      expect(all.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId)).toContain(id);
      const live = await sim.aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:app', Values: ['kafka'] }, { Name: 'instance-state-name', Values: ['pending', 'running'] }] }));
      expect(live.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId)).not.toContain(id);

      await sim.clock.sleep(terminatedAt + 61 * 60_000 - sim.clock.now());
      await expectAwsError(sim.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] })), 'InvalidInstanceID.NotFound', 400, EC2ServiceException, new RegExp(id));
      const later = await sim.aws.ec2.send(new DescribeInstancesCommand({}));
      expect(later.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId)).not.toContain(id);
    });
  });

  it('EC2-4: the instance carries the template\'s metadata options; the hop limit defaults to 1', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1', { template: { MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' } } });
      const id = await instanceIn(sim, 'n1', 'InService');
      expect((await describeInstance(sim, id)).MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' });
    });
  });

  it('EC2-5: a spot instance is marked spot, is terminated two minutes after its interruption notice, and the group replaces it', async () => {
    const { sim } = rulesAccount({ spot: true, timings: { spotNoticeMs: 120_000 } });
    await sim.run(async () => {
      await createNode(sim, 'n1', { template: { TagSpecifications: [{ ResourceType: 'instance', Tags: tags({ 'berth:node': 'n1' }) }] } });
      const id = await instanceIn(sim, 'n1', 'InService');
      const spot = await sim.aws.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-lifecycle', Values: ['spot'] }] }));
      expect(spot.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => [i.InstanceId, i.InstanceLifecycle])).toEqual([[id, 'spot']]);
      const noticeAt = sim.clock.now();
      sim.faults.spotInterrupt('n1');
      await sim.clock.sleep(119_000);
      expect((await describeInstance(sim, id)).State?.Name).toBe('running');
      await until(sim, () => sim.world.instance(id)?.ec2State !== 'running', 'interrupted', 100);
      expect(sim.clock.now() - noticeAt).toBeGreaterThanOrEqual(120_000);
      expect((await describeInstance(sim, id)).StateReason?.Code).toBe('Server.SpotInstanceTermination');
      const next = await instanceIn(sim, 'n1', 'InService');
      expect(next).not.toBe(id);
    });
  });

  it('EC2-5: with no capacity in the AZ, launches fail with InsufficientInstanceCapacity until it returns', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const outageEnds = sim.clock.now() + 60_000;
      sim.faults.azOutage(AZ.a, 60_000);
      await createNode(sim, 'n1');
      await sim.clock.sleep(30_000);
      const failed = await sim.aws.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'n1' }));
      expect(failed.Activities?.length).toBeGreaterThan(0);
      const message = 'We currently do not have sufficient m6i.large capacity in the Availability Zone you requested (eu-west-1a). Launching EC2 instance failed.';
      expect(new Set(failed.Activities?.map((a) => `${a.StatusCode} ${a.StatusMessage}`))).toEqual(new Set([`Failed ${message}`]));
      await instanceIn(sim, 'n1', 'InService');
      expect(sim.clock.now()).toBeGreaterThanOrEqual(outageEnds);
    });
  });

  it('EC2-7: a new interface, volume or instance may be missing from describes (NotFound by id, absent from tag filters) until EC2 catches up', async () => {
    const { sim } = rulesAccount();
    sim.faults.consistencyLag(5_000, 60_000);
    await sim.run(async () => {
      const eni = await sim.aws.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: SUBNET.a, Groups: ['sg-0123456789abcdef0'], TagSpecifications: [{ ResourceType: 'network-interface', Tags: tags({ k: 'v' }) }] }));
      const eniId = eni.NetworkInterface?.NetworkInterfaceId as string;
      const vol = await sim.aws.ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ.a, Size: 10, VolumeType: 'gp3', TagSpecifications: [{ ResourceType: 'volume', Tags: tags({ k: 'v' }) }] }));
      const volId = vol.VolumeId as string;

      await expectAwsError(sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] })), 'InvalidNetworkInterfaceID.NotFound', 400, EC2ServiceException);
      await expectAwsError(sim.aws.ec2.send(new DescribeVolumesCommand({ VolumeIds: [volId] })), 'InvalidVolume.NotFound', 400, EC2ServiceException);
      expect((await sim.aws.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:k', Values: ['v'] }] }))).Volumes).toEqual([]);
      expect((await sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'tag:k', Values: ['v'] }] }))).NetworkInterfaces).toEqual([]);

      // The group lists its new instance before EC2's describes show it.
      await createNode(sim, 'n1');
      await until(sim, async () => ((await sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['n1'] }))).AutoScalingGroups?.[0]?.Instances?.length ?? 0) > 0, 'the group lists an instance', 10);
      const listed = (await sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['n1'] }))).AutoScalingGroups?.[0]?.Instances?.[0]?.InstanceId as string;
      await expectAwsError(sim.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [listed] })), 'InvalidInstanceID.NotFound', 400, EC2ServiceException);

      await sim.clock.sleep(5_000);
      expect((await sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }))).NetworkInterfaces?.[0]?.NetworkInterfaceId).toBe(eniId);
      expect((await sim.aws.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:k', Values: ['v'] }] }))).Volumes?.map((v) => v.VolumeId)).toEqual([volId]);
      expect((await describeInstance(sim, listed)).InstanceId).toBe(listed);
    });
  });
});
