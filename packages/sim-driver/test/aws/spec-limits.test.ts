// The simulated EC2 enforces the limits that defineCluster also checks offline (docs/aws-behaviour.md
// KMS-6, TAG-1): a spec that slipped past the checks fails here as it would on AWS.
import { CreateTagsCommand, CreateVolumeCommand, EC2ServiceException } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { AZ, expectAwsError, rulesAccount, tags } from './account-fixture.js';

const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const many = (n: number, prefix: string) => tags(Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, 'v'])));

describe('limits defineCluster checks too', () => {
  it('KMS-6: CreateVolume with a KmsKeyId and without Encrypted fails with InvalidParameterDependency', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await expectAwsError(sim.aws.ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ.a, Size: 10, VolumeType: 'gp3', KmsKeyId: KEY })), 'InvalidParameterDependency', 400, EC2ServiceException, /KmsKeyId requires the parameter Encrypted/);
    });
  });

  it('TAG-1: CreateTags that would leave more than 50 tags on a resource fails with TagLimitExceeded, and changes nothing', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const vol = await sim.aws.ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ.a, Size: 10, VolumeType: 'gp3', TagSpecifications: [{ ResourceType: 'volume', Tags: many(45, 'a') }] }));
      const id = vol.VolumeId as string;
      await expectAwsError(sim.aws.ec2.send(new CreateTagsCommand({ Resources: [id], Tags: many(6, 'b') })), 'TagLimitExceeded', 400, EC2ServiceException, /maximum number of Tags for a resource is 50/);
      expect(Object.keys(sim.world.volumes.find((v) => v.id === id)?.tags ?? {})).toHaveLength(45);
      // Overwriting a key adds no tag; 5 new ones make exactly 50.
      await sim.aws.ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [...many(5, 'b'), ...many(3, 'a')] }));
      expect(Object.keys(sim.world.volumes.find((v) => v.id === id)?.tags ?? {})).toHaveLength(50);
    });
  });
});
