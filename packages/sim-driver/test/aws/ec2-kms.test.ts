import { AttachVolumeCommand, CreateVolumeCommand, DescribeInstancesCommand, DescribeVolumesCommand, EC2ServiceException } from '@aws-sdk/client-ec2';
import type { ClusterInput } from '@berth/core';
import { describe, expect, it } from 'vitest';
import type { Simulation } from '../../src/index.js';
import { AZ, createNode, expectAwsError, instanceIn, rulesAccount, until } from './account-fixture.js';

const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** The spec's data volumes encrypted with a customer managed key. */
const withKey = (input: ClusterInput): ClusterInput => ({ ...input, dataVolume: { ...input.dataVolume, encrypted: true, kmsKeyId: KEY } });

interface Statement {
  readonly Effect: string;
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: unknown;
}

const policy = (...Statement: Statement[]) => ({ Version: '2012-10-17', Statement });
const EVERYTHING_BUT_KMS: Statement = { Effect: 'Allow', Action: ['ec2:*', 'autoscaling:*', 'iam:CreateServiceLinkedRole'], Resource: '*' };
const viaEc2 = (service = 'ec2.eu-west-1.amazonaws.com') => [
  { Effect: 'Allow', Action: 'kms:CreateGrant', Resource: KEY, Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' }, StringEquals: { 'kms:ViaService': service } } },
  { Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext'], Resource: KEY, Condition: { StringEquals: { 'kms:ViaService': service } } },
];

async function encryptedVolume(sim: Simulation): Promise<string> {
  const r = await sim.aws.ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ.a, Size: 10, VolumeType: 'gp3', Encrypted: true, KmsKeyId: KEY }));
  expect(r).toMatchObject({ State: 'creating', Encrypted: true, KmsKeyId: KEY });
  return r.VolumeId as string;
}

const gone = async (sim: Simulation, id: string) => {
  try {
    await sim.aws.ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }));
    return false;
  } catch (e) {
    return (e as Error).name === 'InvalidVolume.NotFound';
  }
};

describe('KMS-encrypted volumes', () => {
  it('KMS-1, KMS-3, EBS-11: without the KMS permissions CreateVolume answers creating and the volume then vanishes; with them it becomes available', async () => {
    const { sim } = rulesAccount({ iam: 'evaluate' }, {}, withKey);
    sim.account.setControllerPolicy(policy(EVERYTHING_BUT_KMS));
    await sim.run(async () => {
      const doomed = await encryptedVolume(sim);
      await until(sim, () => gone(sim, doomed), 'the volume to vanish', 500, 600_000);
      expect(sim.trace.find((e) => e.kind === 'volume.deleted' && e.volumeId === doomed)?.why).toMatch(/^creation failed: kms:/);

      sim.account.setControllerPolicy(policy(EVERYTHING_BUT_KMS, ...viaEc2()));
      const ok = await encryptedVolume(sim);
      await until(sim, async () => !(await gone(sim, ok)) && (await sim.aws.ec2.send(new DescribeVolumesCommand({ VolumeIds: [ok] }))).Volumes?.[0]?.State === 'available', 'available', 500, 600_000);
    });
  });

  it('KMS-1, KMS-2, KMS-3: AttachVolume of an encrypted volume fails with CustomerKeyHasBeenRevoked unless the caller may use the key through EC2', async () => {
    const { sim } = rulesAccount({ iam: 'evaluate' }, {}, withKey);
    sim.account.setControllerPolicy(policy(EVERYTHING_BUT_KMS, ...viaEc2()));
    await sim.run(async () => {
      await createNode(sim, 'n1');
      const inst = await instanceIn(sim, 'n1', 'InService');
      const vol = await encryptedVolume(sim);
      await until(sim, () => sim.world.volumes.some((v) => v.id === vol && v.state === 'available'), 'available', 100);
      const attach = () => sim.aws.ec2.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: inst, Device: '/dev/sdf' }));

      sim.account.setControllerPolicy(policy(EVERYTHING_BUT_KMS));
      const message = new RegExp(`^Volume ${vol} cannot be attached\\. The encrypted volume was unable to access the KMS master key\\.`);
      await expectAwsError(attach(), 'CustomerKeyHasBeenRevoked', 400, EC2ServiceException, message);
      // KMS-2: the permissions are scoped to EC2 with kms:ViaService; another service's scope does not serve.
      sim.account.setControllerPolicy(policy(EVERYTHING_BUT_KMS, ...viaEc2('rds.eu-west-1.amazonaws.com')));
      await expectAwsError(attach(), 'CustomerKeyHasBeenRevoked', 400, EC2ServiceException, message);
      sim.account.setControllerPolicy(policy(EVERYTHING_BUT_KMS, ...viaEc2()));
      await attach();
    });
  });

  it('KMS-3: a node role without the KMS statements cannot attach its encrypted data volume: the boot fails in attaching with CustomerKeyHasBeenRevoked', async () => {
    const { sim, spec } = rulesAccount({ iam: 'evaluate' }, {}, withKey);
    const [name, nodePolicy] = Object.entries(sim.account.rolePolicies('demo-node'))[0] as [string, { Statement: Statement[] }];
    const withoutKms = { ...nodePolicy, Statement: nodePolicy.Statement.filter((s) => ![s.Action].flat().some((a) => a.startsWith('kms:'))) };
    expect(withoutKms.Statement.length).toBeLessThan(nodePolicy.Statement.length);
    sim.account.setRolePolicies('demo-node', { [name]: withoutKms });
    await sim.run(async () => {
      await sim.driver.ensureNode(spec, 'demo-1');
      await until(sim, () => sim.trace.some((e) => e.kind === 'agent.failed'), 'the boot to fail', 1_000, 3600_000);
      const failed = sim.trace.find((e) => e.kind === 'agent.failed');
      expect(failed).toMatchObject({ nodeId: 'demo-1', phase: 'attaching', reason: 'attach-error' });
      expect(String(failed?.detail)).toMatch(/^CustomerKeyHasBeenRevoked: Volume vol-[0-9a-f]+ cannot be attached\. The encrypted volume was unable to access the KMS master key\./);
      const inst = failed?.instanceId as string;
      const tags = (await sim.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [inst] }))).Reservations?.[0]?.Instances?.[0]?.Tags ?? [];
      expect(tags.find((t) => t.Key === 'berth:phase')?.Value).toBe('failed:attaching:attach-error');
      expect(sim.world.volumeOf('demo-1')?.attachment).toBeNull();
    });
  });

  it('EBS-11: a KmsKeyId that does not exist is not refused at once: the volume is creating, then gone', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const r = await sim.aws.ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ.a, Size: 10, VolumeType: 'gp3', Encrypted: true, KmsKeyId: 'alias/no-such-key' }));
      expect(r.State).toBe('creating');
      const id = r.VolumeId as string;
      await until(sim, () => gone(sim, id), 'the volume to vanish', 500, 600_000);
      await expectAwsError(sim.aws.ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] })), 'InvalidVolume.NotFound', 400, EC2ServiceException);
    });
  });
});
