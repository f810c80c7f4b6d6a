import { CreateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateNetworkInterfaceCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  DescribeKeyPairsCommand,
  DescribeLaunchTemplatesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  DescribeVolumesModificationsCommand,
  EC2ServiceException,
  ModifyVolumeCommand,
  RunInstancesCommand,
  type Filter,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { Simulation } from '../../src/index.js';
import { AZ, expectAwsError, IMAGE, instanceIn, rulesAccount, SG, SUBNET, tags, until } from './account-fixture.js';

/** Ids an EC2 describe returns for some filters. */
type Lister = (sim: Simulation, filters: Filter[]) => Promise<string[]>;

const LIST: Record<string, Lister> = {
  DescribeInstances: async (sim, Filters) => ((await sim.aws.ec2.send(new DescribeInstancesCommand({ Filters }))).Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId as string),
  DescribeVolumes: async (sim, Filters) => ((await sim.aws.ec2.send(new DescribeVolumesCommand({ Filters }))).Volumes ?? []).map((v) => v.VolumeId as string),
  DescribeNetworkInterfaces: async (sim, Filters) => ((await sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ Filters }))).NetworkInterfaces ?? []).map((e) => e.NetworkInterfaceId as string),
  DescribeLaunchTemplates: async (sim, Filters) => ((await sim.aws.ec2.send(new DescribeLaunchTemplatesCommand({ Filters }))).LaunchTemplates ?? []).map((t) => t.LaunchTemplateName as string),
  DescribeSnapshots: async (sim, Filters) => ((await sim.aws.ec2.send(new DescribeSnapshotsCommand({ Filters, OwnerIds: ['self'] }))).Snapshots ?? []).map((s) => s.SnapshotId as string),
  DescribeSubnets: async (sim, Filters) => ((await sim.aws.ec2.send(new DescribeSubnetsCommand({ Filters }))).Subnets ?? []).map((s) => s.SubnetId as string),
  DescribeSecurityGroups: async (sim, Filters) => ((await sim.aws.ec2.send(new DescribeSecurityGroupsCommand({ Filters }))).SecurityGroups ?? []).map((g) => g.GroupId as string),
  DescribeImages: async (sim, Filters) => ((await sim.aws.ec2.send(new DescribeImagesCommand({ Filters }))).Images ?? []).map((i) => i.ImageId as string),
  DescribeKeyPairs: async (sim, Filters) => ((await sim.aws.ec2.send(new DescribeKeyPairsCommand({ Filters }))).KeyPairs ?? []).map((k) => k.KeyName as string),
  DescribeInstanceTypes: async (sim, Filters) => ((await sim.aws.ec2.send(new DescribeInstanceTypesCommand({ Filters }))).InstanceTypes ?? []).map((t) => t.InstanceType as string),
  DescribeInstanceTypeOfferings: async (sim, Filters) =>
    ((await sim.aws.ec2.send(new DescribeInstanceTypeOfferingsCommand({ LocationType: 'availability-zone', Filters }))).InstanceTypeOfferings ?? []).map((o) => `${o.InstanceType}@${o.Location}`),
  DescribeVolumesModifications: async (sim, Filters) => ((await sim.aws.ec2.send(new DescribeVolumesModificationsCommand({ Filters }))).VolumesModifications ?? []).map((m) => m.VolumeId as string),
};

const f = (Name: string, ...Values: string[]): Filter => ({ Name, Values });

/**
 * Two nodes (n1 in eu-west-1a, n2 in eu-west-1b) tagged like Berth's, each with an instance, a
 * data volume (berth:volume=data), a snapshot of n1's volume, a pending modification of n2's.
 */
async function world(sim: Simulation) {
  const out: Record<string, { eni: string; ip: string; instance: string; data: string; root: string }> = {};
  for (const [node, subnet] of [['n1', 'a'], ['n2', 'b']] as const) {
    const nodeTags = { 'berth:cluster': 'demo', 'berth:node': node };
    const eni = await sim.aws.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: SUBNET[subnet], Groups: [SG], TagSpecifications: [{ ResourceType: 'network-interface', Tags: tags(nodeTags) }] }));
    const eniId = eni.NetworkInterface?.NetworkInterfaceId as string;
    await createTemplateFor(sim, node, eniId, nodeTags);
    await sim.aws.autoScaling.send(
      new CreateAutoScalingGroupCommand({ AutoScalingGroupName: node, LaunchTemplate: { LaunchTemplateName: `lt-${node}`, Version: '$Latest' }, MinSize: 1, MaxSize: 1, AvailabilityZones: [AZ[subnet]] }),
    );
    const data = await sim.aws.ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ[subnet], Size: 10, VolumeType: 'gp3', TagSpecifications: [{ ResourceType: 'volume', Tags: tags({ ...nodeTags, 'berth:volume': 'data' }) }] }));
    const instance = await instanceIn(sim, node, 'InService');
    const root = sim.world.volumes.find((v) => v.attachment?.instanceId === instance)?.id as string;
    out[node] = { eni: eniId, ip: eni.NetworkInterface?.PrivateIpAddress as string, instance, data: data.VolumeId as string, root };
  }
  await until(sim, () => sim.world.volumes.every((v) => v.state !== 'creating'), 'volumes available', 10);
  const snap = await sim.aws.ec2.send(new CreateSnapshotCommand({ VolumeId: out['n1']!.data, TagSpecifications: [{ ResourceType: 'snapshot', Tags: tags({ 'berth:final-snapshot-of': out['n1']!.data }) }] }));
  await sim.aws.ec2.send(new ModifyVolumeCommand({ VolumeId: out['n2']!.data, Size: 20 }));
  await sim.clock.sleep(1_000);
  return { ...out, snapshot: snap.SnapshotId as string } as Record<'n1' | 'n2', { eni: string; ip: string; instance: string; data: string; root: string }> & { snapshot: string };
}

async function createTemplateFor(sim: Simulation, node: string, eniId: string, nodeTags: Record<string, string>): Promise<void> {
  await sim.aws.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: `lt-${node}`,
      LaunchTemplateData: {
        ImageId: IMAGE,
        InstanceType: 'm6i.large',
        NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: eniId }],
        TagSpecifications: [
          { ResourceType: 'instance', Tags: tags(nodeTags) },
          { ResourceType: 'volume', Tags: tags({ ...nodeTags, 'berth:volume': 'root' }) },
        ],
      },
      TagSpecifications: [{ ResourceType: 'launch-template', Tags: tags(nodeTags) }],
    }),
  );
}

describe('EC2 describe filters and pages', () => {
  it('API-6: every filter the driver, preflight and the bootstrap send is honoured (values ORed, filters ANDed)', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const w = await world(sim);
      const { n1, n2 } = w;
      const cases: [string, Filter[], string[]][] = [
        // observe / discover-node / bootstrap
        ['DescribeInstances', [f('tag:berth:cluster', 'demo')], [n1.instance, n2.instance]],
        ['DescribeInstances', [f('tag:berth:cluster', 'demo'), f('tag:berth:node', 'n2')], [n2.instance]],
        ['DescribeInstances', [f('instance-state-name', 'pending', 'running', 'shutting-down', 'stopping', 'stopped'), f('tag:berth:node', 'n1')], [n1.instance]],
        ['DescribeInstances', [f('instance-state-name', 'terminated')], []],
        ['DescribeInstances', [f('subnet-id', SUBNET.b)], [n2.instance]],
        ['DescribeInstances', [f('private-ip-address', n1.ip)], [n1.instance]],
        ['DescribeInstances', [f('network-interface.network-interface-id', n2.eni)], [n2.instance]],
        ['DescribeInstances', [f('availability-zone', AZ.a)], [n1.instance]],
        ['DescribeVolumes', [f('tag:berth:cluster', 'demo'), f('tag:berth:volume', 'data')], [n1.data, n2.data]],
        ['DescribeVolumes', [f('tag:berth:cluster', 'demo'), f('tag:berth:node', 'n1'), f('tag:berth:volume', 'data')], [n1.data]],
        ['DescribeVolumes', [f('tag:berth:node', 'n1')], [n1.root, n1.data]],
        ['DescribeVolumes', [f('attachment.instance-id', n2.instance)], [n2.root]],
        ['DescribeVolumes', [f('status', 'available'), f('availability-zone', AZ.b)], [n2.data]],
        ['DescribeVolumes', [f('tag-key', 'berth:volume'), f('status', 'in-use')], [n1.root, n2.root]],
        ['DescribeNetworkInterfaces', [f('tag:berth:cluster', 'demo')], [n1.eni, n2.eni]],
        ['DescribeNetworkInterfaces', [f('tag:berth:cluster', 'demo'), f('tag:berth:node', 'n2')], [n2.eni]],
        ['DescribeNetworkInterfaces', [f('subnet-id', SUBNET.a), f('addresses.private-ip-address', n1.ip, n2.ip)], [n1.eni]],
        ['DescribeNetworkInterfaces', [f('private-ip-address', n2.ip)], [n2.eni]],
        ['DescribeNetworkInterfaces', [f('attachment.instance-id', n1.instance), f('status', 'in-use')], [n1.eni]],
        ['DescribeNetworkInterfaces', [f('availability-zone', AZ.b), f('vpc-id', sim.world.enis[0]!.vpcId)], [n2.eni]],
        ['DescribeLaunchTemplates', [f('tag:berth:cluster', 'demo'), f('tag:berth:node', 'n1')], ['lt-n1']],
        ['DescribeSnapshots', [f('tag:berth:final-snapshot-of', n1.data)], [w.snapshot]],
        ['DescribeSnapshots', [f('snapshot-id', w.snapshot)], [w.snapshot]],
        ['DescribeVolumesModifications', [f('volume-id', n1.data, n2.data)], [n2.data]],
        // preflight
        ['DescribeSubnets', [f('subnet-id', SUBNET.a, SUBNET.c)], [SUBNET.a, SUBNET.c]],
        ['DescribeSecurityGroups', [f('group-id', SG)], [SG]],
        ['DescribeImages', [f('image-id', IMAGE, 'ami-00000000000000000')], [IMAGE]],
        ['DescribeInstanceTypes', [f('instance-type', 'm6i.large')], ['m6i.large']],
        ['DescribeInstanceTypeOfferings', [f('instance-type', 'm6i.large'), f('location', AZ.a)], [`m6i.large@${AZ.a}`]],
        ['DescribeKeyPairs', [f('key-name', 'no-such-key')], []],
      ];
      for (const [op, filters, want] of cases) {
        expect({ op, filters, got: (await LIST[op]!(sim, filters)).sort() }).toEqual({ op, filters, got: [...want].sort() });
        await sim.clock.sleep(100); // keep inside the Describe* bucket
      }
    });
  });

  it('API-6: an unknown filter name is refused (InvalidParameterValue), never ignored', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      for (const op of Object.keys(LIST)) {
        const values = op === 'DescribeInstanceTypeOfferings' || op === 'DescribeInstanceTypes' ? [f('instance-type', 'm6i.large'), f('no-such-filter', 'x')] : [f('no-such-filter', 'x')];
        await expectAwsError(LIST[op]!(sim, values), 'InvalidParameterValue', 400, EC2ServiceException, /no-such-filter/);
      }
      // Filters valid for one operation are refused by another.
      await expectAwsError(LIST['DescribeVolumes']!(sim, [f('instance-state-name', 'running')]), 'InvalidParameterValue', 400, EC2ServiceException, /^The filter 'instance-state-name' is invalid$/);
    });
  });

  it('API-6: filter values take * and ? wildcards (\\ escapes them); tag keys and values are case-sensitive', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const ids: Record<string, string> = {};
      for (const name of ['node-1', 'node-2', 'node-10', 'Node-3', 'n*de']) {
        const r = await sim.aws.ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ.a, Size: 1, VolumeType: 'gp3', TagSpecifications: [{ ResourceType: 'volume', Tags: tags({ name }) }] }));
        ids[name] = r.VolumeId as string;
      }
      await sim.clock.sleep(1_000);
      const names = async (...filters: Filter[]) => {
        const got = await LIST['DescribeVolumes']!(sim, filters);
        return Object.entries(ids).filter(([, id]) => got.includes(id)).map(([n]) => n).sort();
      };
      expect(await names(f('tag:name', 'node-*'))).toEqual(['node-1', 'node-10', 'node-2']);
      expect(await names(f('tag:name', 'node-?'))).toEqual(['node-1', 'node-2']);
      expect(await names(f('tag:name', '*-3'))).toEqual(['Node-3']);
      expect(await names(f('tag:name', 'n\\*de'))).toEqual(['n*de']);
      expect(await names(f('tag:name', 'node-3'))).toEqual([]);
      expect(await names(f('tag:Name', 'node-1'))).toEqual([]);
      expect(await names(f('tag:name', 'node-1', 'node-2'), f('tag-value', '*1*'))).toEqual(['node-1']);
      expect(await names(f('tag-key', 'name'), f('tag:name', 'N*'))).toEqual(['Node-3']);
      await sim.aws.ec2.send(new CreateTagsCommand({ Resources: [ids['node-1']!], Tags: tags({ extra: 'yes' }) }));
      expect(await names(f('tag-key', 'extra'))).toEqual(['node-1']);
    });
  });

  it('API-7: MaxResults is bounded per operation, pages continue with NextToken, and MaxResults with ids is refused', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const enis: string[] = [];
      for (let i = 0; i < 7; i++) enis.push((await sim.aws.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: SUBNET.a, Groups: [SG] }))).NetworkInterface?.NetworkInterfaceId as string);
      await sim.clock.sleep(1_000);
      const p1 = await sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 5 }));
      expect(p1.NetworkInterfaces).toHaveLength(5);
      expect(p1.NextToken).toBeDefined();
      const p2 = await sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 5, NextToken: p1.NextToken }));
      expect(p2.NextToken).toBeUndefined();
      expect([...(p1.NetworkInterfaces ?? []), ...(p2.NetworkInterfaces ?? [])].map((e) => e.NetworkInterfaceId)).toEqual(enis);

      const bounds = /^Value \( \d+ \) for parameter maxResults is invalid\. Parameter must be between \d+ and \d+\.$/;
      await expectAwsError(sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 4 })), 'InvalidParameterValue', 400, EC2ServiceException, bounds);
      await expectAwsError(sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ MaxResults: 1001 })), 'InvalidParameterValue', 400, EC2ServiceException, bounds);
      await expectAwsError(sim.aws.ec2.send(new DescribeInstancesCommand({ MaxResults: 1001 })), 'InvalidParameterValue', 400, EC2ServiceException, bounds);
      await expectAwsError(sim.aws.ec2.send(new DescribeLaunchTemplatesCommand({ MaxResults: 201 })), 'InvalidParameterValue', 400, EC2ServiceException, bounds);
      await expectAwsError(sim.aws.ec2.send(new DescribeVolumesModificationsCommand({ MaxResults: 501 })), 'InvalidParameterValue', 400, EC2ServiceException, bounds);
      // The AWS CLI asks for pages of 1000 volumes.
      expect((await sim.aws.ec2.send(new DescribeVolumesCommand({ MaxResults: 1000 }))).Volumes).toEqual([]);
      expect((await sim.aws.ec2.send(new DescribeLaunchTemplatesCommand({ MaxResults: 200 }))).LaunchTemplates).toEqual([]);

      await expectAwsError(sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [enis[0]!], MaxResults: 5 })), 'InvalidParameterCombination', 400, EC2ServiceException);
      await expectAwsError(sim.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-00000000000000001'], MaxResults: 5 })), 'InvalidParameterCombination', 400, EC2ServiceException);
      await expectAwsError(sim.aws.ec2.send(new DescribeVolumesCommand({ VolumeIds: ['vol-00000000000000001'], MaxResults: 5 })), 'InvalidParameterCombination', 400, EC2ServiceException);
    });
  });

  it('IAM-1: Describe* actions take no resource: only a statement on Resource "*" allows them', async () => {
    const { sim } = rulesAccount({ iam: 'evaluate' });
    sim.account.setControllerPolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:DescribeVolumes', Resource: 'arn:aws:ec2:eu-west-1:123456789012:volume/*' }] });
    await sim.run(async () => {
      await expectAwsError(sim.aws.ec2.send(new DescribeVolumesCommand({})), 'UnauthorizedOperation', 403, EC2ServiceException, /ec2:DescribeVolumes/);
      sim.account.setControllerPolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:DescribeVolumes', Resource: '*' }] });
      expect((await sim.aws.ec2.send(new DescribeVolumesCommand({}))).Volumes).toEqual([]);
    });
  });

  it('IAM-12: a denied action without resource-level permissions is reported without an "on resource" part', async () => {
    const { sim } = rulesAccount({ iam: 'evaluate' });
    sim.account.setControllerPolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:CreateVolume', Resource: '*' }] });
    await sim.run(async () => {
      await expectAwsError(
        sim.aws.ec2.send(new DescribeVolumesCommand({})),
        'UnauthorizedOperation',
        403,
        EC2ServiceException,
        /^You are not authorized to perform this operation\. User: arn:aws:sts::123456789012:assumed-role\/berth-controller\/berth is not authorized to perform: ec2:DescribeVolumes because no identity-based policy allows the ec2:DescribeVolumes action\./,
      );
    });
  });

  it('IAM-2, IAM-7: CreateVolume is judged on its request tags (aws:RequestTag), and tagging is allowed only as part of the create (ec2:CreateAction)', async () => {
    const { sim } = rulesAccount({ iam: 'evaluate' });
    sim.account.setControllerPolicy({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'ec2:CreateVolume', Resource: 'arn:aws:ec2:eu-west-1:123456789012:volume/*', Condition: { StringEquals: { 'aws:RequestTag/berth:cluster': 'demo' } } },
        { Effect: 'Allow', Action: 'ec2:CreateTags', Resource: 'arn:aws:ec2:eu-west-1:123456789012:volume/*', Condition: { StringEquals: { 'ec2:CreateAction': 'CreateVolume' } } },
        { Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' },
      ],
    });
    await sim.run(async () => {
      const create = (cluster?: string) =>
        sim.aws.ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ.a, Size: 10, VolumeType: 'gp3', ...(cluster !== undefined && { TagSpecifications: [{ ResourceType: 'volume', Tags: tags({ 'berth:cluster': cluster }) }] }) }));
      const vol = await create('demo');
      await expectAwsError(create('other'), 'UnauthorizedOperation', 403, EC2ServiceException, /ec2:CreateVolume/);
      await expectAwsError(create(), 'UnauthorizedOperation', 403, EC2ServiceException, /ec2:CreateVolume/);
      await expectAwsError(sim.aws.ec2.send(new CreateTagsCommand({ Resources: [vol.VolumeId as string], Tags: tags({ k: 'v' }) })), 'UnauthorizedOperation', 403, EC2ServiceException, /ec2:CreateTags/);
    });
  });

  it('API-5: a dry run answers DryRunOperation (HTTP 412) and changes nothing', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const e = await expectAwsError(
        sim.aws.ec2.send(new CreateVolumeCommand({ DryRun: true, AvailabilityZone: AZ.a, Size: 10, VolumeType: 'gp3' })),
        'DryRunOperation',
        412,
        EC2ServiceException,
        /^Request would have succeeded, but DryRun flag is set\.$/,
      );
      expect((e as { $fault?: string }).$fault).toBe('client');
      await expectAwsError(
        sim.aws.ec2.send(new RunInstancesCommand({ DryRun: true, ImageId: IMAGE, InstanceType: 'm6i.large', MinCount: 1, MaxCount: 1, NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: SUBNET.a, Groups: [SG] }] })),
        'DryRunOperation',
        412,
        EC2ServiceException,
      );
      await expectAwsError(sim.aws.ec2.send(new CreateNetworkInterfaceCommand({ DryRun: true, SubnetId: SUBNET.a, Groups: [SG] })), 'DryRunOperation', 412, EC2ServiceException);
      await sim.clock.sleep(1_000);
      expect(await LIST['DescribeVolumes']!(sim, [])).toEqual([]);
      expect(await LIST['DescribeNetworkInterfaces']!(sim, [])).toEqual([]);
    });
  });

  it('API-5, IAM-7, IAM-13: with IAM evaluated, a dry run the policy denies answers UnauthorizedOperation (HTTP 403), judging the request as sent', async () => {
    const { sim } = rulesAccount({ iam: 'evaluate' });
    sim.account.setControllerPolicy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ec2:CreateVolume', 'ec2:Describe*'], Resource: '*' }] });
    await sim.run(async () => {
      const volume = { DryRun: true, AvailabilityZone: AZ.a, Size: 10, VolumeType: 'gp3' as const };
      await expectAwsError(sim.aws.ec2.send(new CreateVolumeCommand(volume)), 'DryRunOperation', 412, EC2ServiceException);
      // With tags, the request also needs ec2:CreateTags on the new volume (tag on create).
      const denied = await expectAwsError(
        sim.aws.ec2.send(new CreateVolumeCommand({ ...volume, TagSpecifications: [{ ResourceType: 'volume', Tags: tags({ k: 'v' }) }] })),
        'UnauthorizedOperation',
        403,
        EC2ServiceException,
        /^You are not authorized to perform this operation\. User: arn:aws:sts::123456789012:assumed-role\/berth-controller\/berth is not authorized to perform: ec2:CreateTags on resource: arn:aws:ec2:eu-west-1:123456789012:volume\/\* because no identity-based policy allows the ec2:CreateTags action\. Encoded authorization failure message: /,
      );
      expect((denied as { $fault?: string }).$fault).toBe('client');
      await expectAwsError(sim.aws.ec2.send(new CreateNetworkInterfaceCommand({ DryRun: true, SubnetId: SUBNET.a, Groups: [SG] })), 'UnauthorizedOperation', 403, EC2ServiceException, /ec2:CreateNetworkInterface/);
    });
  });
});
