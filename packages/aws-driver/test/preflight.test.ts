import { createHash } from 'node:crypto';
import { CreateNetworkInterfaceCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { assertPreflight, checkUserDataFits, USER_DATA_LIMIT_BYTES, userDataIssues } from '../src/index.js';
import { clusterSpec, useMotoWorld } from './support/aws-fixture.js';

const aws = useMotoWorld();

describe('preflight on moto', () => {
  it('passes for a good spec, and says which checks moto cannot make', async () => {
    const spec = clusterSpec(aws.world, 3);
    const report = await aws.driver.preflight(spec);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checked).toEqual(expect.arrayContaining(['subnets', 'ips', 'security-groups', 'images', 'instance-type', 'user-data', 'hosted-zone', 'permissions']));
    // moto 5.2.1 does not implement DescribeAccountLimits (HTTP 500): reported, not failed.
    expect(report.skipped.map((s) => s.check)).toEqual(expect.arrayContaining(['auto-scaling-quota', 'auto-scaling-permissions', 'route53-permissions', 'instance-profile', 'kms-key']));
    expect(() => assertPreflight(report)).not.toThrow();
    // Provisioned nodes' own ENIs do not count as taken IPs.
    await aws.driver.ensureNode(spec, 'n1');
    expect((await aws.driver.preflight(spec)).problems).toEqual([]);
  });

  it('reports every problem at once', async () => {
    const good = clusterSpec(aws.world, 3);
    // An ENI outside Berth holds node n2's IP.
    await aws.world.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: aws.world.subnets[1]!.id, PrivateIpAddress: '10.0.2.10', Description: 'someone else' }));
    const bad = {
      ...good,
      subnets: good.subnets.map((s, i) => (i === 0 ? { ...s, az: 'us-east-1d', cidr: '10.0.9.0/24' } : i === 2 ? { ...s, id: 'subnet-0123456789abcdef0' } : s)),
      securityGroupIds: [...good.securityGroupIds, 'sg-0123456789abcdef0'],
      image: 'ami-0123456789abcdef0',
      nodes: good.nodes.map((n) => ({ ...n, image: 'ami-0123456789abcdef0' })),
      instanceType: 'x9.huge',
      keyName: 'no-such-key',
      iamInstanceProfile: 'no-such-profile',
      dns: { ...good.dns!, hostedZoneId: 'ZNOSUCHZONE0' },
    };
    const report = await aws.driver.preflight(bad);
    expect(report.ok).toBe(false);
    const where = report.problems.map((p) => `${p.check} ${p.path}`);
    expect(where).toEqual(
      expect.arrayContaining([
        'subnets subnets[0].az',
        'subnets subnets[0].cidr',
        'subnets subnets[2].id',
        'ips nodes[1].ip',
        'security-groups securityGroupIds[1]',
        'images image',
        'instance-type instanceType',
        'key-pair keyName',
        'hosted-zone dns.hostedZoneId',
      ]),
    );
    expect(report.problems.find((p) => p.check === 'ips')!.message).toContain('10.0.2.10');
    // The RunInstances DryRun carries the instance profile, as the node's launches will.
    expect(report.problems.filter((p) => p.check === 'permissions').map((p) => p.message)).toEqual([expect.stringMatching(/^RunInstances \(DryRun\) failed: .*no-such-profile/)]);
    expect(() => assertPreflight(report)).toThrow(/problems/);
  });

  it('reports user data over 16 KB (checked once per spec with checkUserDataFits)', async () => {
    // Incompressible content: gzip cannot bring it under 16 KB.
    let content = '';
    for (let i = 0; content.length < 40_000; i++) content += createHash('sha256').update(String(i)).digest('base64');
    const big = clusterSpec(aws.world, 3, { bootstrap: { files: [{ path: '/etc/big', content }] } });
    const report = await aws.driver.preflight(big);
    const sized = report.problems.filter((p) => p.check === 'user-data');
    expect(report.checked).toContain('user-data');
    expect(report.ok).toBe(false);
    expect(sized).toHaveLength(1);
    expect(sized[0]!.path).toBe('bootstrap.files');
    expect(sized[0]!.message).toMatch(/16384-byte limit/);
    expect(userDataIssues(big)).toEqual([{ path: sized[0]!.path, message: sized[0]!.message }]);
  });

  it('accepts the default bootstrap, whose user data fits', async () => {
    const spec = clusterSpec(aws.world, 3);
    const report = await aws.driver.preflight(spec);
    expect(report.problems.filter((p) => p.check === 'user-data')).toEqual([]);
    expect(checkUserDataFits(spec).sizeBytes).toBeLessThanOrEqual(USER_DATA_LIMIT_BYTES);
  });
});
