import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ClusterSpec } from '@berth/core';
import { parsePhase, TAG } from '../src/index.js';
import { clusterSpec, motoDriver, useMotoWorld } from './support/aws-fixture.js';
import { provisionAll } from './support/provision.js';

// Fresh state where each describe asks for it: the first provisions once for both its tests.
const aws = useMotoWorld({ fresh: 'manual' });

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

describe('observe on moto: 3 and 30 nodes', () => {
  // Provisioned once for both tests (33 nodes take a few seconds on moto).
  let bigFinal: ClusterSpec;
  let small: ClusterSpec;
  beforeAll(async () => {
    await aws.fresh();
    small = clusterSpec(aws.world, 3, { name: 'small' });
    const big = clusterSpec(aws.world, 30, { name: 'big', dns: { hostedZoneId: aws.world.hostedZoneId, clusterRecord: 'big.kafka.internal', nodeRecordTemplate: '{node}.big.kafka.internal', ttl: 30 } });
    const bigSpec = { ...big, dns: { ...big.dns!, hostedZoneId: aws.world.hostedZoneId } };
    // The two clusters share subnets: give the big one other IPs.
    const bigNodes = bigSpec.nodes.map((n) => ({ ...n, ip: n.ip.replace(/\.(\d+)$/, (_, d: string) => `.${Number(d) + 100}`) }));
    bigFinal = { ...bigSpec, nodes: bigNodes };
    await provisionAll(aws.driver, small);
    await provisionAll(aws.driver, bigFinal);
  });

  it('costs the same number of calls for 3 and for 30 nodes, in both scopes', async () => {

    const measured: Record<string, Record<string, number>> = {};
    for (const [label, spec] of [['3', small], ['30', bigFinal]] as const) {
      for (const scope of ['full', 'instances', 'groups'] as const) {
        aws.driver.resetApiCallCounts();
        const obs = await aws.driver.observe(spec, { scope });
        expect(Object.keys(obs.nodes)).toHaveLength(Number(label));
        measured[`${label}/${scope}`] = { ...aws.driver.apiCallCounts() };
      }
    }
    expect(measured['30/full']).toEqual(measured['3/full']);
    expect(measured['30/instances']).toEqual(measured['3/instances']);
    // No DescribeVolumesModifications: core asks for it only when a volume change is planned.
    expect(total(measured['3/full']!)).toBe(5);
    // The instances, terminated ones included, fit in one page: one DescribeInstances has the live
    // and the failed ones (EC2-13); every group settled since the full look, so none is described
    // again, and none is stuck, so no scaling activities (ASG-33, ASG-34).
    expect(total(measured['3/instances']!)).toBe(1);
    expect(measured['3/instances']).toEqual({ DescribeInstances: 1 });
    expect(measured['30/groups']).toEqual({ DescribeAutoScalingGroups: 1 });
    expect(measured['3/groups']).toEqual({ DescribeAutoScalingGroups: 1 });

    // What 30 nodes look like.
    const obs = await aws.driver.observe(bigFinal);
    for (const n of bigFinal.nodes) {
      const o = obs.nodes[n.id]!;
      expect(o.group).toMatchObject({ minSize: 1, maxSize: 1, desiredCapacity: 1, hasLaunchHook: true, launchTemplateVersion: '1' });
      expect(o.eni).toMatchObject({ ip: n.ip, subnetId: n.subnetId });
      expect(o.volume).toMatchObject({ az: n.az, sizeGiB: 50, state: 'available' });
      expect(o.instances[0]).toMatchObject({ lifecycleState: 'InService', ec2State: 'running', revision: o.group!.revision, phase: null });
    }
    expect(obs.dnsRecords).toHaveLength(31);
  });

  it('follows every page when pages are small (30 nodes, pages of 5)', async () => {
    const spec = bigFinal;
    const paged = motoDriver(aws.moto.endpoint, { pageSize: 5 });
    const obs = await paged.observe(spec);
    expect(Object.keys(obs.nodes)).toHaveLength(30);
    expect(Object.values(obs.nodes).every((n) => n.group && n.eni && n.volume && n.instances.length === 1)).toBe(true);
    expect(obs.dnsRecords).toHaveLength(31);
    const counts = paged.apiCallCounts();
    expect(counts.DescribeAutoScalingGroups).toBeGreaterThanOrEqual(6);
    expect(counts.DescribeInstances).toBeGreaterThanOrEqual(6);
    // moto ignores MaxResults on DescribeNetworkInterfaces and DescribeVolumes (one page, no
    // NextToken), so their paging is only exercised on AWS.
    expect(counts.ListResourceRecordSets).toBeGreaterThanOrEqual(6);
    paged.destroy();
  });

});

describe('observe on moto: mapping', () => {
  beforeEach(() => aws.fresh());

  it('reads the phase and failure reason the bootstrap tags on its instance', async () => {
    const spec = clusterSpec(aws.world, 3);
    await provisionAll(aws.driver, spec);
    let obs = await aws.driver.observe(spec, { scope: 'instances' });
    const [a, b] = [obs.nodes.n1!.instances[0]!.instanceId, obs.nodes.n2!.instances[0]!.instanceId];
    await aws.world.ec2.send(new CreateTagsCommand({ Resources: [a], Tags: [{ Key: TAG.phase, Value: 'joining' }] }));
    await aws.world.ec2.send(new CreateTagsCommand({ Resources: [b], Tags: [{ Key: TAG.phase, Value: 'failed:mount: /dev/nvme1n1 has no xfs' }] }));
    obs = await aws.driver.observe(spec, { scope: 'instances' });
    expect(obs.nodes.n1!.instances[0]).toMatchObject({ phase: 'joining', phaseReason: null });
    expect(obs.nodes.n2!.instances[0]).toMatchObject({ phase: 'failed', phaseReason: 'mount: /dev/nvme1n1 has no xfs' });
    expect(obs.nodes.n3!.instances[0]!.phase).toBeNull();
    expect(obs.dnsRecords).toBeNull();
    expect(obs.nodes.n1!.eni).toBeNull(); // not looked at in the instances scope
  });

});

describe('parsePhase', () => {
  it('parsePhase accepts every phase and failed:<reason>, nothing else', () => {
    expect(parsePhase('in-service')).toEqual({ phase: 'in-service', reason: null });
    expect(parsePhase('failed')).toEqual({ phase: 'failed', reason: null });
    expect(parsePhase('failed: health timeout')).toEqual({ phase: 'failed', reason: 'health timeout' });
    expect(parsePhase('booting')).toEqual({ phase: null, reason: null });
    expect(parsePhase(undefined)).toEqual({ phase: null, reason: null });
  });
});
