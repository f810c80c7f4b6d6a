import { AutoScalingServiceException, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CreateTagsCommand, CreateVolumeCommand, DescribeInstancesCommand, DescribeVolumesCommand, EC2ServiceException } from '@aws-sdk/client-ec2';
import { ListResourceRecordSetsCommand, Route53ServiceException } from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import { AZ, expectAwsError, rulesAccount } from './account-fixture.js';

/** Sends `n` calls at once; returns the error names in order (null for a success). */
async function burst(n: number, call: () => Promise<unknown>): Promise<(string | null)[]> {
  const results = await Promise.allSettled(Array.from({ length: n }, call));
  return results.map((r) => (r.status === 'fulfilled' ? null : (r.reason as Error).name));
}

const count = (xs: readonly (string | null)[], what: string | null) => xs.filter((x) => x === what).length;

describe('API limits', () => {
  it('API-1: EC2 Describe* calls share a bucket of 100 refilled at 20/s; past it, RequestLimitExceeded (HTTP 503); mutating calls have their own', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const describeVolumes = () => sim.aws.ec2.send(new DescribeVolumesCommand({}));
      const first = await burst(110, describeVolumes);
      expect(count(first, null)).toBe(100);
      expect(count(first, 'RequestLimitExceeded')).toBe(10);
      const e = await expectAwsError(sim.aws.ec2.send(new DescribeInstancesCommand({})), 'RequestLimitExceeded', 503, EC2ServiceException, /^Request limit exceeded\./);
      expect((e as { $fault?: string }).$fault).toBe('server');
      // The mutating bucket is untouched.
      const vol = await sim.aws.ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ.a, Size: 1, VolumeType: 'gp3' }));
      await sim.aws.ec2.send(new CreateTagsCommand({ Resources: [vol.VolumeId as string], Tags: [{ Key: 'k', Value: 'v' }] }));
      await sim.clock.sleep(1_000);
      const refilled = await burst(25, describeVolumes);
      expect(count(refilled, null)).toBeGreaterThanOrEqual(19);
      expect(count(refilled, null)).toBeLessThanOrEqual(21);
      await sim.clock.sleep(5_000);
      expect(count(await burst(100, describeVolumes), null)).toBe(100);
    });
  });

  it('API-1: Auto Scaling throttles with Throttling "Rate exceeded" (HTTP 400)', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const results = await burst(60, () => sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({})));
      expect(count(results, 'Throttling')).toBeGreaterThan(0);
      expect(count(results, null) + count(results, 'Throttling')).toBe(60);
      await expectAwsError(sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({})), 'Throttling', 400, AutoScalingServiceException, /^Rate exceeded/);
      await sim.clock.sleep(10_000);
      await sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({}));
    });
  });

  it('R53-6: Route 53 allows a burst of 50 requests, refilled at 10 per second; past it, Throttling "Rate exceeded" (HTTP 400)', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const list = () => sim.aws.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'Z0123456789ABCDEFGHIJ' }));
      const first = await burst(55, list);
      expect(count(first, null)).toBe(50);
      expect(count(first, 'Throttling')).toBe(5);
      await expectAwsError(list(), 'Throttling', 400, Route53ServiceException, /^Rate exceeded/);
      await sim.clock.sleep(1_000);
      const next = await burst(15, list);
      expect(count(next, null)).toBeGreaterThanOrEqual(9);
      expect(count(next, null)).toBeLessThanOrEqual(11);
    });
  });

  it('API-1: injected API errors hit only the operations named, for as long as asked; every refused call is counted', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      sim.faults.apiErrors({ operations: ['DescribeInstances'], code: '5xx', rate: 1, durationMs: 60_000 });
      sim.faults.apiErrors({ operations: ['DescribeAutoScalingGroups'], code: 'throttle', rate: 1, durationMs: 60_000 });
      const before = (sim.world.controllerApiCalls as Record<string, number>)['DescribeInstances'] ?? 0;
      for (let i = 0; i < 3; i++) {
        const e = await expectAwsError(sim.aws.ec2.send(new DescribeInstancesCommand({})), 'InternalError', 500, EC2ServiceException);
        expect((e as { $fault?: string }).$fault).toBe('server');
      }
      await expectAwsError(sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({})), 'Throttling', 400, AutoScalingServiceException);
      // Other operations of the same services are untouched.
      await sim.aws.ec2.send(new DescribeVolumesCommand({}));
      await sim.aws.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'Z0123456789ABCDEFGHIJ' }));
      expect((sim.world.controllerApiCalls as Record<string, number>)['DescribeInstances']).toBe(before + 3);
      expect(sim.trace.filter((t) => t.kind === 'fault.api-error').map((t) => `${String(t.operation)}:${String(t.code)}`)).toEqual([
        'DescribeInstances:5xx',
        'DescribeInstances:5xx',
        'DescribeInstances:5xx',
        'DescribeAutoScalingGroups:throttle',
      ]);
      await sim.clock.sleep(60_000);
      await sim.aws.ec2.send(new DescribeInstancesCommand({}));
      await sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({}));
    });
  });

  it('API-1: an injected fault with a rate fails only that share of calls, drawn from the seed', async () => {
    const names = async (seed: number) => {
      const { sim } = rulesAccount({ seed });
      return sim.run(async () => {
        sim.faults.apiErrors({ operations: ['DescribeVolumes'], code: '5xx', rate: 0.5, durationMs: 60_000 });
        const out: (string | null)[] = [];
        for (let i = 0; i < 40; i++) out.push(...(await burst(1, () => sim.aws.ec2.send(new DescribeVolumesCommand({})))));
        return out;
      });
    };
    const a = await names(7);
    expect(count(a, 'InternalError')).toBeGreaterThan(8);
    expect(count(a, null)).toBeGreaterThan(8);
    expect(await names(7)).toEqual(a);
  });
});
