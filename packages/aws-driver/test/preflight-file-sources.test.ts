// Preflight's file-source check on moto (moto implements SSM Parameter Store and S3): the
// parameters and objects the spec's files name must exist; the check describes and lists, and
// never reads a value. Also the generated statements for them.
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { iamPolicyFor } from '../src/index.js';
import { clientConfig, clusterSpec, useMotoWorld } from './support/aws-fixture.js';

const aws = useMotoWorld();

describe('preflight: file sources (moto)', () => {
  it('reports a missing parameter, a version beyond the latest, a missing object and a missing object version; passes once they exist', async () => {
    const ssm = new SSMClient(clientConfig(aws.moto.endpoint));
    const s3 = new S3Client({ ...clientConfig(aws.moto.endpoint), forcePathStyle: true });
    try {
      await ssm.send(new PutParameterCommand({ Name: '/kafka/jaas.conf', Value: 'secret', Type: 'SecureString' }));
      await s3.send(new CreateBucketCommand({ Bucket: 'berth-config' }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: 'berth-config', VersioningConfiguration: { Status: 'Enabled' } }));
      const put = await s3.send(new PutObjectCommand({ Bucket: 'berth-config', Key: 'kafka/server.properties', Body: 'a=1\n' }));
      const spec = (files: unknown[]) => clusterSpec(aws.world, 3, { bootstrap: { files } as never });
      const bad = spec([
        { path: '/etc/kafka/jaas.conf', source: { ssm: { name: '/kafka/jaas.conf' } } },
        { path: '/etc/kafka/missing', source: { ssm: { name: '/kafka/missing' } } },
        { path: '/etc/kafka/future', source: { ssm: { name: '/kafka/jaas.conf', version: 3 } } },
        { path: '/etc/kafka/server.properties', source: { s3: { uri: 's3://berth-config/kafka/server.properties' } } },
        { path: '/etc/kafka/absent', source: { s3: { uri: 's3://berth-config/kafka/absent' } } },
        { path: '/etc/kafka/old', source: { s3: { uri: 's3://berth-config/kafka/server.properties', versionId: 'nosuchversion' } } },
      ]);
      const report = await aws.driver.preflight(bad);
      expect(report.checked).toContain('file-sources');
      expect(report.problems.filter((p) => p.check === 'file-sources').map((p) => p.path)).toEqual([
        'bootstrap.files[1].source.ssm.name',
        'bootstrap.files[2].source.ssm.version',
        'bootstrap.files[4].source.s3.uri',
        'bootstrap.files[5].source.s3.versionId',
      ]);
      expect(report.problems.find((p) => p.path === 'bootstrap.files[4].source.s3.uri')?.message).toBe('/etc/kafka/absent: s3://berth-config/kafka/absent does not exist; upload it before the nodes boot');
      const good = spec([
        { path: '/etc/kafka/jaas.conf', source: { ssm: { name: '/kafka/jaas.conf', version: 1 } } },
        { path: '/etc/kafka/server.properties', source: { s3: { uri: 's3://berth-config/kafka/server.properties', versionId: put.VersionId! } } },
      ]);
      expect((await aws.driver.preflight(good)).problems.filter((p) => p.check === 'file-sources')).toEqual([]);
      // The calls: describe and list only.
      const counts = aws.driver.apiCallCounts();
      expect(Object.keys(counts)).toEqual(expect.arrayContaining(['DescribeParameters', 'ListObjectsV2', 'ListObjectVersions']));
      expect(Object.keys(counts)).not.toContain('GetParameter');
    } finally {
      ssm.destroy();
      s3.destroy();
    }
  });

  it('the node policy reads exactly the sources; the controller policy only describes and lists them', () => {
    const spec = clusterSpec(aws.world, 3, {
      region: 'us-east-1',
      bootstrap: {
        files: [
          { path: '/a', source: { ssm: { name: '/kafka/a' } } },
          { path: '/b', source: { ssm: { name: 'arn:aws:ssm:us-east-1:123456789012:parameter/kafka/b', kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' } } },
          { path: '/c', source: { s3: { uri: 's3://cfg/c' } } },
          { path: '/d', source: { s3: { uri: 's3://cfg/d', versionId: 'v1' } } },
        ],
      } as never,
    });
    const { node, controller } = iamPolicyFor(spec, { accountId: '123456789012' });
    const sid = (doc: typeof node, id: string) => doc.Statement.find((s) => s.Sid === id);
    expect(sid(node, 'ReadFileParameters')).toEqual({ Sid: 'ReadFileParameters', Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: ['arn:aws:ssm:us-east-1:123456789012:parameter/kafka/a', 'arn:aws:ssm:us-east-1:123456789012:parameter/kafka/b'] });
    expect(sid(node, 'DecryptFileParameters')?.Condition).toEqual({ StringEquals: { 'kms:ViaService': 'ssm.us-east-1.amazonaws.com' } });
    expect(sid(node, 'ReadFileObjects')?.Resource).toEqual(['arn:aws:s3:::cfg/c']);
    expect(sid(node, 'ReadFileObjectVersions')).toMatchObject({ Action: ['s3:GetObjectVersion'], Resource: ['arn:aws:s3:::cfg/d'] });
    expect(sid(controller, 'CheckFileParameters')).toMatchObject({ Action: ['ssm:DescribeParameters'], Resource: '*' });
    expect(sid(controller, 'CheckFileObjects')).toMatchObject({ Action: ['s3:ListBucket'], Resource: ['arn:aws:s3:::cfg'], Condition: { StringEquals: { 's3:prefix': ['c'] } } });
    expect(JSON.stringify(controller)).not.toMatch(/ssm:GetParameter|s3:GetObject/);
  });
});
