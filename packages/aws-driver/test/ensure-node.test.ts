import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DeleteTagsCommand as DeleteGroupTagsCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeLifecycleHooksCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DeleteTagsCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeLaunchTemplatesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeVolumesCommand,
} from '@aws-sdk/client-ec2';
import { gunzipSync } from 'node:zlib';
import { ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { computeRevision } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { groupName, launchTemplateName, TAG } from '../src/index.js';
import { clientConfig, clusterSpec, motoDriver, useMotoWorld } from './support/aws-fixture.js';

const aws = useMotoWorld({ nodes: 3 });

const tagsOf = (tags: { Key?: string; Value?: string }[] | undefined) => Object.fromEntries((tags ?? []).map((t) => [t.Key, t.Value]));

describe('ensureNode on moto', () => {
  it('creates exactly the ENI, volume, template, group with hook and DNS records, with their tags', async () => {
    const r = await aws.driver.ensureNode(aws.spec, 'n1');
    const rev = computeRevision(aws.spec, 'n1');
    expect(r.revision).toBe(rev);
    expect(r.changes.map((c) => `${c.resource}:${c.action}`)).toEqual([
      'network-interface:created',
      'volume:created',
      'launch-template:created',
      'auto-scaling-group:created',
      'lifecycle-hook:created',
      'dns-record:created',
      'dns-record:created',
    ]);

    const ec2 = aws.world.ec2;
    const enis = (await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: `tag:${TAG.cluster}`, Values: ['kafka'] }] }))).NetworkInterfaces!;
    expect(enis).toHaveLength(1);
    expect(enis[0]!.PrivateIpAddress).toBe('10.0.1.10');
    expect(enis[0]!.SubnetId).toBe(aws.world.subnets[0]!.id);
    expect(enis[0]!.Groups!.map((g) => g.GroupId)).toEqual([aws.world.securityGroupId]);
    expect(tagsOf(enis[0]!.TagSet)).toEqual({ [TAG.cluster]: 'kafka', [TAG.node]: 'n1', Name: 'kafka-n1', team: 'data' });

    const vols = (await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: `tag:${TAG.cluster}`, Values: ['kafka'] }] }))).Volumes!;
    expect(vols).toHaveLength(1);
    expect(vols[0]).toMatchObject({ Size: 50, VolumeType: 'gp3', Encrypted: true, AvailabilityZone: 'us-east-1a' });
    expect(tagsOf(vols[0]!.Tags)).toEqual({ [TAG.cluster]: 'kafka', [TAG.node]: 'n1', [TAG.volume]: 'data', [TAG.nodeIp]: '10.0.1.10', Name: 'kafka-n1', team: 'data' });

    const lts = (await ec2.send(new DescribeLaunchTemplatesCommand({ MaxResults: 200 }))).LaunchTemplates!;
    expect(lts.map((t) => t.LaunchTemplateName)).toEqual([launchTemplateName('kafka', 'n1', rev)]);
    expect(tagsOf(lts[0]!.Tags)).toMatchObject({ [TAG.cluster]: 'kafka', [TAG.node]: 'n1', [TAG.revision]: rev });
    const data = (await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: lts[0]!.LaunchTemplateId }))).LaunchTemplateVersions![0]!.LaunchTemplateData!;
    expect(data.NetworkInterfaces).toEqual([expect.objectContaining({ DeviceIndex: 0, NetworkInterfaceId: enis[0]!.NetworkInterfaceId, DeleteOnTermination: false })]);
    expect(data.MetadataOptions).toMatchObject({ HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' });
    expect(data.SecurityGroupIds ?? []).toEqual([]);
    expect(data.InstanceType).toBe('t3.medium');
    // The bootstrap is told its volume, group and hook (it looks none of them up).
    const userData = gunzipSync(Buffer.from(data.UserData!, 'base64')).toString('utf8');
    expect(userData).toContain(`BERTH_VOLUME_ID='${vols[0]!.VolumeId}'\n`);
    expect(userData).toContain(`BERTH_ASG_NAME='${groupName('kafka', 'n1')}'\n`);
    expect(userData).toContain("BERTH_LIFECYCLE_HOOK_NAME='berth-launch'\n");
    expect(data.BlockDeviceMappings![0]!.Ebs).toMatchObject({ VolumeSize: 20, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true });
    const instanceTags = tagsOf(data.TagSpecifications!.find((t) => t.ResourceType === 'instance')!.Tags);
    expect(instanceTags).toMatchObject({ [TAG.cluster]: 'kafka', [TAG.node]: 'n1', [TAG.revision]: rev });

    const asg = new AutoScalingClient(clientConfig(aws.moto.endpoint));
    const g = (await asg.send(new DescribeAutoScalingGroupsCommand({}))).AutoScalingGroups!;
    expect(g).toHaveLength(1);
    // An existing-ENI template: the group names the ENI's AZ, never a subnet.
    expect(g[0]).toMatchObject({ AutoScalingGroupName: groupName('kafka', 'n1'), MinSize: 1, MaxSize: 1, DesiredCapacity: 1, AvailabilityZones: ['us-east-1a'] });
    expect(g[0]!.VPCZoneIdentifier ?? '').toBe('');
    expect(tagsOf(g[0]!.Tags)).toMatchObject({ [TAG.cluster]: 'kafka', [TAG.node]: 'n1', [TAG.nodeIp]: '10.0.1.10', [TAG.launchHook]: 'berth-launch' });
    expect(g[0]!.LaunchTemplate).toMatchObject({ LaunchTemplateId: lts[0]!.LaunchTemplateId, Version: '1' });
    const hooks = (await asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: groupName('kafka', 'n1') }))).LifecycleHooks!;
    expect(hooks).toEqual([
      expect.objectContaining({ LifecycleHookName: 'berth-launch', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 600, DefaultResult: 'ABANDON' }),
    ]);
    asg.destroy();

    // The group's instance (moto launches it at once) carries the revision from the template.
    const inst = (await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: `tag:${TAG.node}`, Values: ['n1'] }] }))).Reservations!.flatMap((x) => x.Instances!);
    expect(inst).toHaveLength(1);
    expect(tagsOf(inst[0]!.Tags)).toMatchObject({ [TAG.cluster]: 'kafka', [TAG.revision]: rev });

    const r53 = new Route53Client(clientConfig(aws.moto.endpoint));
    const rrs = (await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: aws.world.hostedZoneId }))).ResourceRecordSets!.filter((x) => x.Type === 'A');
    r53.destroy();
    expect(rrs.map((x) => [x.Name, x.TTL, x.ResourceRecords!.map((v) => v.Value)])).toEqual(
      expect.arrayContaining([
        ['n1.kafka.internal.', 30, ['10.0.1.10']],
        ['kafka.kafka.internal.', 30, ['10.0.1.10', '10.0.2.10', '10.0.3.10']],
      ]),
    );
    expect(rrs).toHaveLength(2);
  });

  it('changes nothing on a second run', async () => {
    for (const n of aws.spec.nodes) await aws.driver.ensureNode(aws.spec, n.id);
    aws.driver.resetApiCallCounts();
    for (const n of aws.spec.nodes) {
      const r = await aws.driver.ensureNode(aws.spec, n.id);
      expect(r.changes.every((c) => c.action === 'unchanged'), JSON.stringify(r.changes)).toBe(true);
      expect(r.changes).toHaveLength(7);
    }
    const mutating = Object.keys(aws.driver.apiCallCounts()).filter((op) => !/^(Describe|List|Get)/.test(op));
    expect(mutating).toEqual([]);
  });

  it('a new revision gets its own template, the group switches to it; the two templates it used before stay, older ones go', async () => {
    const names = async () => (await aws.world.ec2.send(new DescribeLaunchTemplatesCommand({ MaxResults: 200 }))).LaunchTemplates!.map((t) => t.LaunchTemplateName).sort();
    const r1 = await aws.driver.ensureNode(aws.spec, 'n1');
    const v2 = { ...aws.spec, instanceType: 't3.large' };
    const r2 = await aws.driver.ensureNode(v2, 'n1');
    expect(r2.revision).not.toBe(computeRevision(aws.spec, 'n1'));
    expect(r2.changes.filter((c) => c.action !== 'unchanged').map((c) => `${c.resource}:${c.action}`)).toEqual(['launch-template:created', 'auto-scaling-group:updated']);
    // Roll to r3 while r2 (say) failed: r2's template (the group's until now) and r1's (the one
    // before, the last that worked) both stay, so a rollback has somewhere to go.
    const v3 = { ...aws.spec, instanceType: 't3.xlarge' };
    const r3 = await aws.driver.ensureNode(v3, 'n1');
    expect(r3.changes.filter((c) => c.action !== 'unchanged').map((c) => `${c.resource}:${c.action}`)).toEqual(['launch-template:created', 'auto-scaling-group:updated']);
    expect(await names()).toEqual([r1, r2, r3].map((r) => launchTemplateName('kafka', 'n1', r.revision)).sort());
    // A re-run (the group is on r3 already) deletes nothing: r2's template is still the one before.
    const again = await aws.driver.ensureNode(v3, 'n1');
    expect(again.changes.filter((c) => c.action !== 'unchanged')).toEqual([]);
    // r4: r3's template (the group's until now) and r2's (the one before) stay; r1's goes.
    const v4 = { ...aws.spec, instanceType: 'm5.large' };
    const r4 = await aws.driver.ensureNode(v4, 'n1');
    expect(r4.changes.filter((c) => c.action !== 'unchanged').map((c) => `${c.resource}:${c.action} ${c.detail ?? ''}`)).toEqual([
      expect.stringMatching(/^launch-template:created /),
      expect.stringMatching(/^auto-scaling-group:updated /),
      `launch-template:deleted ${launchTemplateName('kafka', 'n1', r1.revision)} (superseded)`,
    ]);
    const obs = await aws.driver.observe(v4);
    expect(obs.nodes.n1!.group!.revision).toBe(r4.revision);
    expect(await names()).toEqual([r2, r3, r4].map((r) => launchTemplateName('kafka', 'n1', r.revision)).sort());
  });

  it('keepTemplate converges the node but leaves its group on its bound template (the roll moves it); without it the group moves', async () => {
    const r1 = await aws.driver.ensureNode(aws.spec, 'n1');
    const v2 = { ...aws.spec, instanceType: 't3.large' };
    const kept = await aws.driver.ensureNode(v2, 'n1', { keepTemplate: true });
    expect(kept.revision).toBe(r1.revision);
    expect(kept.changes.find((c) => c.resource === 'launch-template')).toMatchObject({ action: 'unchanged', detail: `${launchTemplateName('kafka', 'n1', r1.revision)} (kept: the roll moves it)` });
    expect(kept.changes.filter((c) => c.action !== 'unchanged')).toEqual([]);
    expect((await aws.driver.observe(v2)).nodes.n1!.group!.revision).toBe(r1.revision);
    // Without it, the same call moves the group.
    const moved = await aws.driver.ensureNode(v2, 'n1');
    expect(moved.revision).toBe(computeRevision(v2, 'n1'));
    expect((await aws.driver.observe(v2)).nodes.n1!.group!.revision).toBe(moved.revision);
  });

  it("with the caller's observation (a roll), a new revision costs a template and the group's update; a stale or insufficient hint falls back to the full run", async () => {
    await aws.driver.ensureNode(aws.spec, 'n1');
    const observed = async (s: typeof aws.spec) => (await aws.driver.observe(s, { scope: 'instances' })).nodes.n1!;
    const v2 = { ...aws.spec, instanceType: 't3.large' };
    aws.driver.resetApiCallCounts();
    const r2 = await aws.driver.ensureNode(v2, 'n1', { observed: await observed(aws.spec) });
    const observeCalls = 3; // the observation above: groups, instances, scaling activities
    const calls = Object.values(aws.driver.apiCallCounts()).reduce((a, b) => a + b, 0) - observeCalls;
    expect(r2.changes.map((c) => `${c.resource}:${c.action}`)).toEqual(['launch-template:created', 'auto-scaling-group:updated']);
    // DescribeLaunchTemplates, DescribeImages (once per image and driver), CreateLaunchTemplate, UpdateAutoScalingGroup.
    expect(calls).toBeLessThanOrEqual(4);
    expect((await aws.driver.observe(v2)).nodes.n1!.group!.revision).toBe(r2.revision);
    // The new template records the ENI, volume and security groups, so the next roll can do the same.
    const v3 = { ...aws.spec, instanceType: 't3.xlarge' };
    const r3 = await aws.driver.ensureNode(v3, 'n1', { observed: await observed(v2) });
    // The templates of r2 (the group's until now) and of the first revision (the one before) stay.
    expect(r3.changes.map((c) => `${c.resource}:${c.action}`)).toEqual(['launch-template:created', 'auto-scaling-group:updated']);
    // New security groups change the ENI: the hint is not enough, the full run does it.
    const v4 = { ...v3, securityGroupIds: [aws.world.securityGroupId, aws.world.securityGroupId2] };
    const r4 = await aws.driver.ensureNode(v4, 'n1', { observed: await observed(v3) });
    expect(r4.changes.map((c) => `${c.resource}:${c.action}`)).toContain('network-interface:updated');
    // A stale hint (the template it names is gone) also falls back.
    const stale = await observed(aws.spec);
    const r5 = await aws.driver.ensureNode(v4, 'n1', { observed: { ...stale, group: { ...stale.group!, launchTemplateId: 'lt-0000000000000dead' } } });
    // Nothing to create, update or delete: the full run found everything in place, and the
    // group's history (r4 ← r3 ← r2, from the templates' berth:previous-template tags) is kept.
    expect(r5.changes.filter((c) => c.action !== 'unchanged').map((c) => `${c.resource}:${c.action}`)).toEqual([]);
    expect(r5.revision).toBe(r4.revision);
  });

  describe('groups made by an older Berth (with the node\'s subnet)', () => {
    /** Replaces n1's group with one like older versions made: VPCZoneIdentifier, no berth:node-ip tag. */
    async function legacyGroup(capacity: number): Promise<AutoScalingClient> {
      await aws.driver.ensureNode(aws.spec, 'n1');
      const asg = new AutoScalingClient(clientConfig(aws.moto.endpoint));
      const name = groupName('kafka', 'n1');
      const old = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))).AutoScalingGroups![0]!;
      await asg.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true }));
      await asg.send(
        new CreateAutoScalingGroupCommand({
          AutoScalingGroupName: name,
          LaunchTemplate: { LaunchTemplateId: old.LaunchTemplate!.LaunchTemplateId, Version: '1' },
          MinSize: capacity,
          MaxSize: capacity,
          DesiredCapacity: capacity,
          VPCZoneIdentifier: aws.world.subnets[0]!.id,
          Tags: [TAG.cluster, TAG.node, TAG.launchHook].map((Key) => ({ Key, Value: { [TAG.cluster]: 'kafka', [TAG.node]: 'n1', [TAG.launchHook]: 'berth-launch' }[Key]!, ResourceId: name, ResourceType: 'auto-scaling-group', PropagateAtLaunch: false })),
        }),
      );
      return asg;
    }

    it('without an instance: deleted (ForceDelete false) and created again with AvailabilityZones', async () => {
      const asg = await legacyGroup(0);
      const r = await aws.driver.ensureNode(aws.spec, 'n1');
      expect(r.changes.filter((c) => c.resource === 'auto-scaling-group').map((c) => `${c.action} ${c.detail ?? ''}`)).toEqual([
        `deleted it named subnets (${aws.world.subnets[0]!.id}); created again with AvailabilityZones us-east-1a`,
        expect.stringMatching(/^created .* in us-east-1a$/),
      ]);
      const g = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName('kafka', 'n1')] }))).AutoScalingGroups![0]!;
      expect(g).toMatchObject({ AvailabilityZones: ['us-east-1a'], MinSize: 1, MaxSize: 1, DesiredCapacity: 1 });
      expect(g.VPCZoneIdentifier ?? '').toBe('');
      expect(tagsOf(g.Tags)[TAG.nodeIp]).toBe('10.0.1.10');
      const again = await aws.driver.ensureNode(aws.spec, 'n1');
      expect(again.changes.every((c) => c.action === 'unchanged'), JSON.stringify(again.changes)).toBe(true);
      asg.destroy();
    });

    it('with an instance: stops, names the node and the group, and says how to empty it', async () => {
      const asg = await legacyGroup(1);
      const err = await aws.driver.ensureNode(aws.spec, 'n1').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'DRIVER_ERROR', awsCode: 'GroupHasSubnets', retryable: false });
      expect((err as Error).message).toContain(`node n1's Auto Scaling group ${groupName('kafka', 'n1')} names subnets (${aws.world.subnets[0]!.id})`);
      expect((err as Error).message).toContain('--min-size 0 --desired-capacity 0');
      // Nothing was deleted.
      expect((await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName('kafka', 'n1')] }))).AutoScalingGroups).toHaveLength(1);
      asg.destroy();
    });
  });

  it("moves a group back to the node's AZ", async () => {
    await aws.driver.ensureNode(aws.spec, 'n1');
    const asg = new AutoScalingClient(clientConfig(aws.moto.endpoint));
    await asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: groupName('kafka', 'n1'), AvailabilityZones: ['us-east-1b'] }));
    const r = await aws.driver.ensureNode(aws.spec, 'n1');
    expect(r.changes.find((c) => c.resource === 'auto-scaling-group')).toMatchObject({ action: 'updated', detail: 'availability zones us-east-1b → us-east-1a' });
    asg.destroy();
  });

  it('tags a data volume and a group made before berth:node-ip (the node policy needs it)', async () => {
    const first = await aws.driver.ensureNode(aws.spec, 'n1');
    const volumeId = first.changes.find((c) => c.resource === 'volume')!.id;
    await aws.world.ec2.send(new DeleteTagsCommand({ Resources: [volumeId], Tags: [{ Key: TAG.nodeIp }] }));
    const asg = new AutoScalingClient(clientConfig(aws.moto.endpoint));
    const name = groupName('kafka', 'n1');
    await asg.send(new DeleteGroupTagsCommand({ Tags: [{ ResourceId: name, ResourceType: 'auto-scaling-group', Key: TAG.nodeIp }] }));
    const r = await aws.driver.ensureNode(aws.spec, 'n1');
    expect(r.changes.find((c) => c.resource === 'volume')).toMatchObject({ action: 'updated', id: volumeId, detail: `tagged ${TAG.nodeIp}=10.0.1.10` });
    const vol = (await aws.world.ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes![0]!;
    expect(tagsOf(vol.Tags)[TAG.nodeIp]).toBe('10.0.1.10');
    const g = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))).AutoScalingGroups![0]!;
    expect(tagsOf(g.Tags)[TAG.nodeIp]).toBe('10.0.1.10');
    expect((await aws.driver.ensureNode(aws.spec, 'n1')).changes.every((c) => c.action === 'unchanged')).toBe(true);
    asg.destroy();
  });

  it('replaceInstance terminates in the group without decrementing; the group launches a new instance', async () => {
    await aws.driver.ensureNode(aws.spec, 'n1');
    const before = await aws.driver.observe(aws.spec, { scope: 'instances' });
    const old = before.nodes.n1!.instances[0]!;
    expect(old.lifecycleState).toBe('InService');
    await aws.driver.replaceInstance(aws.spec, 'n1', old.instanceId);
    const after = await aws.driver.observe(aws.spec, { scope: 'instances' });
    const n1 = after.nodes.n1!;
    expect(n1.group!.desiredCapacity).toBe(1);
    const live = n1.instances.filter((i) => i.ec2State === 'running');
    expect(live).toHaveLength(1);
    expect(live[0]!.instanceId).not.toBe(old.instanceId);
    // The old one is gone from the look (terminated and not failed: docs/aws-driver.md, EC2-13/EC2-14), or still shutting down.
    const oldSeen = n1.instances.find((i) => i.instanceId === old.instanceId);
    if (oldSeen) expect(oldSeen.ec2State).toBe('shutting-down');
    // Retrying after success is a no-op.
    await aws.driver.replaceInstance(aws.spec, 'n1', old.instanceId);
  });

  it('replaceInstance refuses an instance of another node', async () => {
    await aws.driver.ensureNode(aws.spec, 'n1');
    await aws.driver.ensureNode(aws.spec, 'n2');
    const obs = await aws.driver.observe(aws.spec, { scope: 'instances' });
    await expect(aws.driver.replaceInstance(aws.spec, 'n1', obs.nodes.n2!.instances[0]!.instanceId)).rejects.toMatchObject({ awsCode: 'InstanceNotInNodeGroup', retryable: false });
  });

  it('completeLifecycle is a no-op without lifecycle hooks (moto); with the capability forced on, the HTTP 500 moto answers maps to a retryable error', async () => {
    await aws.driver.ensureNode(aws.spec, 'n1');
    const id = (await aws.driver.observe(aws.spec, { scope: 'instances' })).nodes.n1!.instances[0]!.instanceId;
    await aws.driver.completeLifecycle(aws.spec, 'n1', id, 'CONTINUE');
    const forced = motoDriver(aws.moto.endpoint, { capabilities: { lifecycleHooks: true } });
    await expect(forced.completeLifecycle(aws.spec, 'n1', id, 'CONTINUE')).rejects.toMatchObject({ code: 'DRIVER_ERROR', operation: 'CompleteLifecycleAction', awsCode: 'Http500', retryable: true });
    forced.destroy();
  });

  it('setDns upserts a batch; snapshotVolume waits; modifyVolume only grows; volumeModifications reports it', async () => {
    await aws.driver.ensureNode(aws.spec, 'n1');
    await aws.driver.setDns(aws.spec, [{ name: 'kafka.kafka.internal', values: ['10.0.1.10'] }, { name: 'extra.kafka.internal', values: ['10.0.2.10'] }]);
    const obs = await aws.driver.observe(aws.spec);
    expect(obs.dnsRecords!.find((r) => r.name === 'kafka.kafka.internal')!.values).toEqual(['10.0.1.10']);

    const { snapshotId } = await aws.driver.snapshotVolume(aws.spec, 'n1', { wait: true });
    expect(snapshotId).toMatch(/^snap-/);
    const target = { sizeGiB: 80, type: 'gp3' as const, iops: null, throughputMiBps: null };
    await aws.driver.modifyVolume(aws.spec, 'n1', target);
    const vol = (await aws.driver.observe(aws.spec)).nodes.n1!.volume!;
    expect(vol).toMatchObject({ sizeGiB: 80 });
    expect(await aws.driver.volumeModifications(aws.spec, [vol.volumeId])).toMatchObject([{ volumeId: vol.volumeId, state: 'completed', targetSizeGiB: 80 }]);
    // moto accepts a shrink (docs/aws-behaviour.md, "What moto does not do"): the driver refuses it first.
    const before = aws.driver.apiCallCounts()['ModifyVolume'] ?? 0;
    await expect(aws.driver.modifyVolume(aws.spec, 'n1', { ...target, sizeGiB: 60 })).rejects.toMatchObject({ awsCode: 'VolumeShrinkNotAllowed' });
    expect(aws.driver.apiCallCounts()['ModifyVolume'] ?? 0).toBe(before);
  });

  it('creates the volume from a snapshot with the KMS key when asked', async () => {
    await aws.driver.ensureNode(aws.spec, 'n1');
    const { snapshotId } = await aws.driver.snapshotVolume(aws.spec, 'n1', { wait: true });
    const restored = clusterSpec(aws.world, 3, {
      name: 'restored',
      dataVolume: { sizeGiB: 60, type: 'gp3', snapshotId, kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab', deletionPolicy: 'retain' },
    });
    const r = await aws.driver.ensureNode(restored, 'n2');
    const volId = r.changes.find((c) => c.resource === 'volume')!.id;
    const vol = (await aws.world.ec2.send(new DescribeVolumesCommand({ VolumeIds: [volId] }))).Volumes![0]!;
    expect(vol).toMatchObject({ SnapshotId: snapshotId, Size: 60, Encrypted: true, KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab', AvailabilityZone: 'us-east-1b' });
  });
});
