import { DescribeAutoScalingGroupsCommand, AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DescribeLaunchTemplatesCommand, DescribeNetworkInterfacesCommand, DescribeSnapshotsCommand, DescribeVolumesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { TAG } from '../src/index.js';
import { clientConfig, clusterSpec, useMotoWorld } from './support/aws-fixture.js';

const aws = useMotoWorld({ nodes: 3, provision: 3 });

async function leftovers(nodeId: string) {
  const f = [{ Name: `tag:${TAG.node}`, Values: [nodeId] }];
  const asg = new AutoScalingClient(clientConfig(aws.moto.endpoint));
  const groups = (await asg.send(new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: `tag:${TAG.node}`, Values: [nodeId] }] }))).AutoScalingGroups!;
  asg.destroy();
  return {
    groups: groups.length,
    templates: (await aws.world.ec2.send(new DescribeLaunchTemplatesCommand({ Filters: f, MaxResults: 200 }))).LaunchTemplates!.length,
    enis: (await aws.world.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: f }))).NetworkInterfaces!.length,
    volumes: (await aws.world.ec2.send(new DescribeVolumesCommand({ Filters: [...f, { Name: `tag:${TAG.volume}`, Values: ['data'] }] }))).Volumes!,
  };
}

describe('deleteNode on moto', () => {
  it('retain: deletes group, templates, ENI and records, never the volume', async () => {
    const r = await aws.driver.deleteNode(aws.spec, 'n1', { policy: 'retain' });
    expect(r.changes.map((c) => `${c.resource}:${c.action}`)).toEqual([
      'auto-scaling-group:deleted',
      'launch-template:deleted',
      'dns-record:deleted',
      'dns-record:updated',
      'network-interface:deleted',
      'volume:retained',
    ]);
    expect(r.snapshotId).toBeNull();
    const left = await leftovers('n1');
    expect(left).toMatchObject({ groups: 0, templates: 0, enis: 0 });
    expect(left.volumes).toHaveLength(1);
    const obs = await aws.driver.observe(aws.spec);
    expect(obs.dnsRecords!.find((x) => x.name === 'n1.kafka.internal')).toBeUndefined();
    expect(obs.dnsRecords!.find((x) => x.name === 'kafka.kafka.internal')!.values).toEqual(['10.0.2.10', '10.0.3.10']);
    expect(obs.nodes.n1).toMatchObject({ group: null, eni: null, volume: { state: 'available' } });
    // Idempotent: a second run finds only the retained volume.
    const again = await aws.driver.deleteNode(aws.spec, 'n1', { policy: 'retain' });
    expect(again.changes.map((c) => `${c.resource}:${c.action}`)).toEqual(['volume:retained']);
  });

  it('snapshot: takes a final snapshot, waits for it, then deletes the volume', async () => {
    const r = await aws.driver.deleteNode(aws.spec, 'n2', { policy: 'snapshot' });
    expect(r.snapshotId).toMatch(/^snap-/);
    expect(r.changes.slice(-2).map((c) => `${c.resource}:${c.action}`)).toEqual(['volume:snapshotted', 'volume:deleted']);
    expect((await leftovers('n2')).volumes).toHaveLength(0);
    const snap = (await aws.world.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [r.snapshotId!] }))).Snapshots![0]!;
    expect(snap.State).toBe('completed');
    expect(Object.fromEntries(snap.Tags!.map((t) => [t.Key, t.Value]))).toMatchObject({ [TAG.cluster]: 'kafka', [TAG.node]: 'n2', [TAG.finalSnapshotOf]: snap.VolumeId });
  });

  it('delete: deletes the volume without a snapshot; the spec policy is the default', async () => {
    const deleting = clusterSpec(aws.world, 3, { dataVolume: { sizeGiB: 50, type: 'gp3', deletionPolicy: 'delete' } });
    const r = await aws.driver.deleteNode({ ...deleting, dns: aws.spec.dns }, 'n3');
    expect(r.snapshotId).toBeNull();
    expect(r.changes.at(-1)).toMatchObject({ resource: 'volume', action: 'deleted' });
    expect(r.changes.some((c) => c.action === 'snapshotted')).toBe(false);
    expect(await leftovers('n3')).toMatchObject({ groups: 0, templates: 0, enis: 0, volumes: [] });
    // Nothing of it is reported: EC2 still lists its terminated instance for about an hour, but a
    // look keeps only live instances and failed ones (docs/aws-driver.md, EC2-13/EC2-14).
    const obs = await aws.driver.observe(aws.spec);
    expect(obs.nodes.n3).toBeUndefined();
    expect(obs.nodes.n1!.group).not.toBeNull();
  });
});
