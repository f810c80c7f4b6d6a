import type { EC2Client } from '@aws-sdk/client-ec2';
import type { Route53Client } from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import { createAwsContext } from '../src/aws-context.js';
import { resolveAwsDriverConfig } from '../src/aws-driver-options.js';
import { createSystemClock, iamPolicyFor } from '../src/index.js';
import { partitionOf, route53SigningRegion } from '../src/partition.js';
import { fakeSpec } from './support/recording-client.js';

describe('partitions', () => {
  it('signs Route 53 in the partition of the driver region', () => {
    expect(route53SigningRegion('eu-west-1')).toBe('us-east-1');
    expect(route53SigningRegion('us-east-1')).toBe('us-east-1');
    expect(route53SigningRegion('cn-north-1')).toBe('cn-northwest-1');
    expect(route53SigningRegion('cn-northwest-1')).toBe('cn-northwest-1');
    expect(route53SigningRegion('us-gov-east-1')).toBe('us-gov-west-1');
    expect(route53SigningRegion('us-gov-west-1')).toBe('us-gov-west-1');
    expect(partitionOf('ap-southeast-2')).toBe('aws');
    expect(partitionOf('cn-north-1')).toBe('aws-cn');
    expect(partitionOf('us-gov-west-1')).toBe('aws-us-gov');
  });

  // Regression: the driver's own Route 53 client was fixed to us-east-1, which no aws-cn or
  // aws-us-gov endpoint accepts.
  it("the driver's own Route 53 client is signed for the partition's region", async () => {
    for (const [region, want] of [['cn-north-1', 'cn-northwest-1'], ['us-gov-east-1', 'us-gov-west-1'], ['eu-central-1', 'us-east-1']] as const) {
      const options = { region, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
      const ctx = createAwsContext(options, resolveAwsDriverConfig(options), createSystemClock());
      expect(await (ctx.r53 as Route53Client).config.region()).toBe(want);
      expect(await (ctx.ec2 as EC2Client).config.region()).toBe(region);
      for (const c of [ctx.ec2, ctx.asg, ctx.r53, ctx.ddb, ctx.sqs, ctx.events]) c.destroy?.();
    }
  });

  it('iamPolicyFor takes the partition from the spec region unless told', () => {
    const cn = fakeSpec({ region: 'cn-north-1', subnets: [{ id: 'subnet-0a1b2c3d', az: 'cn-north-1a', cidr: '10.0.1.0/24' }], nodes: [{ id: 'n1', ip: '10.0.1.10', subnetId: 'subnet-0a1b2c3d' }], quorum: { allowUnsafeSize: true } });
    const { controller } = iamPolicyFor(cn, { accountId: '123456789012' });
    const resources = controller.Statement.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource])).filter((r) => r.startsWith('arn:'));
    expect(resources.length).toBeGreaterThan(5);
    expect(resources.every((r) => r.startsWith('arn:aws-cn:')), resources.join('\n')).toBe(true);
    expect(iamPolicyFor(cn, { partition: 'aws' }).controller.Statement.find((st) => st.Sid === 'CreateTaggedResources')!.Resource).toContain('arn:aws:ec2:cn-north-1:*:volume/*');
  });
});
