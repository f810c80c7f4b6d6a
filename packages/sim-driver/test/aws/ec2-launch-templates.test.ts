import {
  AutoScalingServiceException,
  CreateAutoScalingGroupCommand,
  DescribeScalingActivitiesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DeleteLaunchTemplateCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeLaunchTemplatesCommand,
  DescribeNetworkInterfacesCommand,
  EC2ServiceException,
  type Instance,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { Simulation } from '../../src/index.js';
import { AZ, createEni, createNode, expectAwsError, IMAGE, instanceIn, rulesAccount, SG, SUBNET, tags, until } from './account-fixture.js';

async function describeInstance(sim: Simulation, id: string): Promise<Instance> {
  return (await sim.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0] as Instance;
}

const tagValue = (i: Instance, key: string) => i.Tags?.find((t) => t.Key === key)?.Value;

/** Replaces the group's instance and returns the new one once it is in service. */
async function replace(sim: Simulation, group: string, instanceId: string): Promise<string> {
  await sim.aws.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: false }));
  await until(sim, () => sim.world.instance(instanceId)?.ec2State === 'terminated', 'terminated');
  return instanceIn(sim, group, 'InService');
}

describe('launch templates', () => {
  it('EC2-3: user data is limited to 16 KB before base64 encoding', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const eni = await createEni(sim, SUBNET.a);
      const data = (bytes: number) => ({ ImageId: IMAGE, UserData: Buffer.alloc(bytes, 'x').toString('base64'), NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: eni.id }] });
      await sim.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'fits', LaunchTemplateData: data(16 * 1024) }));
      await expectAwsError(sim.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'too-big', LaunchTemplateData: data(16 * 1024 + 1) })), 'InvalidParameterValue', 400, EC2ServiceException, /16384 bytes/);
    });
  });

  it('LT-1: tag specifications name only resources a launch creates; an existing interface is not tagged by the launch', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const eni = await createEni(sim, SUBNET.a, undefined, { own: 'yes' });
      const template = (name: string, resourceType: string) =>
        sim.aws.ec2.send(
          new CreateLaunchTemplateCommand({
            LaunchTemplateName: name,
            LaunchTemplateData: { ImageId: IMAGE, NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: eni.id }], TagSpecifications: [{ ResourceType: resourceType as 'instance', Tags: tags({ k: 'v' }) }] },
          }),
        );
      await expectAwsError(template('bad', 'snapshot'), 'InvalidParameterValue', 400, EC2ServiceException, /^'snapshot' is not a valid taggable resource type for this operation\.$/);
      // The template itself is tagged with resource type launch-template, nothing else.
      await expectAwsError(
        sim.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'bad2', LaunchTemplateData: { ImageId: IMAGE }, TagSpecifications: [{ ResourceType: 'instance', Tags: tags({ k: 'v' }) }] })),
        'InvalidParameterValue',
        400,
        EC2ServiceException,
        /must be 'launch-template'/,
      );
      for (const type of ['instance', 'volume']) await template(`ok-${type}`, type);

      await sim.aws.ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: 'lt-n1',
          LaunchTemplateData: {
            ImageId: IMAGE,
            NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: eni.id }],
            TagSpecifications: [
              { ResourceType: 'instance', Tags: tags({ k: 'instance' }) },
              { ResourceType: 'volume', Tags: tags({ k: 'volume' }) },
            ],
          },
        }),
      );
      await sim.aws.autoScaling.send(new CreateAutoScalingGroupCommand({ AutoScalingGroupName: 'n1', LaunchTemplate: { LaunchTemplateName: 'lt-n1', Version: '$Latest' }, MinSize: 1, MaxSize: 1, AvailabilityZones: [AZ.a] }));
      const inst = await instanceIn(sim, 'n1', 'InService');
      expect(tagValue(await describeInstance(sim, inst), 'k')).toBe('instance');
      const nic = (await sim.aws.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni.id] }))).NetworkInterfaces?.[0];
      expect(nic?.Attachment?.InstanceId).toBe(inst);
      expect(nic?.TagSet).toEqual([{ Key: 'own', Value: 'yes' }]);
    });
  });

  it('LT-2: a template is not checked for what only a launch can find out: a version naming a missing image fails the launches, not its creation', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const node = await createNode(sim, 'n1');
      const first = await instanceIn(sim, 'n1', 'InService');
      const v = await sim.aws.ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateName: node.template, SourceVersion: '1', LaunchTemplateData: { ImageId: 'ami-0000000000000dead' } }));
      expect(v.LaunchTemplateVersion?.VersionNumber).toBe(2);
      await sim.aws.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: first, ShouldDecrementDesiredCapacity: false }));
      await until(sim, () => sim.world.instance(first)?.ec2State === 'terminated', 'terminated');
      await sim.clock.sleep(10_000);
      const acts = (await sim.aws.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'n1' }))).Activities ?? [];
      expect(acts[0]).toMatchObject({ StatusCode: 'Failed', StatusMessage: "The image id '[ami-0000000000000dead]' does not exist. Launching EC2 instance failed." });
    });
  });

  it('LT-3: a group refuses a template with an interface and template-level security groups (InvalidQueryParameter), at create and update', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const eni = await createEni(sim, SUBNET.a);
      const data = { ImageId: IMAGE, NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: eni.id }] };
      await sim.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'both', LaunchTemplateData: { ...data, SecurityGroupIds: [SG] } }));
      const message = /^Invalid launch template: When a network interface is provided, the security groups must be a part of it\.$/;
      await expectAwsError(
        sim.aws.autoScaling.send(new CreateAutoScalingGroupCommand({ AutoScalingGroupName: 'g', LaunchTemplate: { LaunchTemplateName: 'both', Version: '1' }, MinSize: 1, MaxSize: 1, AvailabilityZones: [AZ.a] })),
        'InvalidQueryParameter',
        400,
        AutoScalingServiceException,
        message,
      );
      await sim.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'fine', LaunchTemplateData: data }));
      await sim.aws.autoScaling.send(new CreateAutoScalingGroupCommand({ AutoScalingGroupName: 'g', LaunchTemplate: { LaunchTemplateName: 'fine', Version: '1' }, MinSize: 0, MaxSize: 1, DesiredCapacity: 0, AvailabilityZones: [AZ.a] }));
      await expectAwsError(
        sim.aws.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'g', LaunchTemplate: { LaunchTemplateName: 'both', Version: '1' } })),
        'InvalidQueryParameter',
        400,
        AutoScalingServiceException,
        message,
      );
    });
  });

  it('LT-4: $Latest and $Default are resolved at each launch; a group naming a fixed version keeps it', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const fixed = await createNode(sim, 'fixed', { version: '1' });
      const latest = await createNode(sim, 'latest', { version: '$Latest', subnet: 'b' });
      const byDefault = await createNode(sim, 'default', { version: '$Default', subnet: 'c' });
      const ids = { fixed: await instanceIn(sim, 'fixed', 'InService'), latest: await instanceIn(sim, 'latest', 'InService'), default: await instanceIn(sim, 'default', 'InService') };
      for (const t of [fixed.template, latest.template, byDefault.template]) {
        await sim.aws.ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateName: t, SourceVersion: '1', LaunchTemplateData: { InstanceType: 'm6i.xlarge' } }));
      }
      const versions = await sim.aws.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: latest.template }));
      expect(versions.LaunchTemplateVersions?.map((v) => [v.VersionNumber, v.DefaultVersion, v.LaunchTemplateData?.InstanceType])).toEqual([
        [1, true, 'm6i.large'],
        [2, false, 'm6i.xlarge'],
      ]);
      const after = {
        fixed: await describeInstance(sim, await replace(sim, 'fixed', ids.fixed)),
        latest: await describeInstance(sim, await replace(sim, 'latest', ids.latest)),
        default: await describeInstance(sim, await replace(sim, 'default', ids.default)),
      };
      expect([after.fixed.InstanceType, tagValue(after.fixed, 'aws:ec2launchtemplate:version')]).toEqual(['m6i.large', '1']);
      expect([after.latest.InstanceType, tagValue(after.latest, 'aws:ec2launchtemplate:version')]).toEqual(['m6i.xlarge', '2']);
      expect([after.default.InstanceType, tagValue(after.default, 'aws:ec2launchtemplate:version')]).toEqual(['m6i.large', '1']);
    });
  });

  it('LT-5: the template\'s instance tags and the group\'s propagated tags merge, the group\'s value winning; the launch adds the aws: tags', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const node = await createNode(sim, 'n1', {
        tags: { env: 'from-group', owner: 'team-a' },
        template: { TagSpecifications: [{ ResourceType: 'instance', Tags: tags({ env: 'from-template', app: 'kafka' }) }] },
      });
      const inst = await describeInstance(sim, await instanceIn(sim, 'n1', 'InService'));
      const t = Object.fromEntries((inst.Tags ?? []).map((x) => [x.Key, x.Value]));
      const ltId = sim.world.launchTemplates.find((l) => l.name === node.template)?.id;
      expect(t).toEqual({
        env: 'from-group',
        owner: 'team-a',
        app: 'kafka',
        'aws:autoscaling:groupName': 'n1',
        'aws:ec2launchtemplate:id': ltId,
        'aws:ec2launchtemplate:version': '1',
      });
    });
  });

  it('LT-6: a template name is unique in the region; CreateLaunchTemplate honours a ClientToken', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const input = { LaunchTemplateName: 'lt-a', LaunchTemplateData: { ImageId: IMAGE }, ClientToken: 'lt-a-1' };
      const first = await sim.aws.ec2.send(new CreateLaunchTemplateCommand(input));
      expect((await sim.aws.ec2.send(new CreateLaunchTemplateCommand(input))).LaunchTemplate?.LaunchTemplateId).toBe(first.LaunchTemplate?.LaunchTemplateId);
      await expectAwsError(sim.aws.ec2.send(new CreateLaunchTemplateCommand({ ...input, LaunchTemplateData: { ImageId: 'ami-0000000000000beef' } })), 'IdempotentParameterMismatch', 400, EC2ServiceException);
      await expectAwsError(
        sim.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'lt-a', LaunchTemplateData: { ImageId: IMAGE } })),
        'InvalidLaunchTemplateName.AlreadyExistsException',
        400,
        EC2ServiceException,
        /^Launch template name already in use\.$/,
      );
      await sim.aws.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateName: 'lt-a' }));
      const again = await sim.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'lt-a', LaunchTemplateData: { ImageId: IMAGE } }));
      expect(again.LaunchTemplate?.LaunchTemplateId).not.toBe(first.LaunchTemplate?.LaunchTemplateId);
    });
  });

  it('LT-7: DescribeLaunchTemplates by id fails the whole call with InvalidLaunchTemplateId.NotFound for a template that does not exist or was deleted', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const a = (await sim.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'lt-a', LaunchTemplateData: { ImageId: IMAGE } }))).LaunchTemplate?.LaunchTemplateId as string;
      const found = await sim.aws.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [a] }));
      expect(found.LaunchTemplates?.map((t) => [t.LaunchTemplateId, t.LaunchTemplateName, t.LatestVersionNumber])).toEqual([[a, 'lt-a', 1]]);
      expect(found.LaunchTemplates?.[0]?.CreateTime).toBeInstanceOf(Date);
      await expectAwsError(sim.aws.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [a, 'lt-0123456789abcdef0'] })), 'InvalidLaunchTemplateId.NotFound', 400, EC2ServiceException);
      await sim.aws.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: a }));
      await expectAwsError(sim.aws.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [a] })), 'InvalidLaunchTemplateId.NotFound', 400, EC2ServiceException);
    });
  });

  it('QUOTA-2: a region holds at most 5,000 launch templates', async () => {
    const { sim } = rulesAccount({ limits: { ec2Mutate: { capacity: 100_000, refillPerSec: 10_000 } } });
    await sim.run(async () => {
      const create = (i: number) => sim.aws.ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: `lt-${i}`, LaunchTemplateData: { ImageId: IMAGE } }));
      await Promise.all(Array.from({ length: 5000 }, (_, i) => create(i)));
      // The error code is not documented; the refusal is.
      const e = await expectAwsError(create(5000), 'LaunchTemplateLimitExceeded', 400, EC2ServiceException, /5000/);
      expect((e as { $fault?: string }).$fault).toBe('client');
      await sim.aws.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateName: 'lt-0' }));
      await create(5000);
    });
  });
});
