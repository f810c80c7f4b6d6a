import { BerthConfigError, defineCluster, type ClusterInput } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { clusterInput } from '../support/fixtures.js';

function problems(input: unknown): { path: string; message: string }[] {
  try {
    defineCluster(input as ClusterInput);
  } catch (err) {
    expect(err).toBeInstanceOf(BerthConfigError);
    expect((err as BerthConfigError).code).toBe('CONFIG_INVALID');
    return [...(err as BerthConfigError).issues];
  }
  throw new Error('expected defineCluster to reject the input');
}

function expectProblem(input: unknown, path: string, pattern: RegExp): void {
  const found = problems(input);
  const hit = found.find((p) => p.path === path && pattern.test(p.message));
  expect(hit, `no problem at ${path} matching ${pattern}; got ${JSON.stringify(found, null, 2)}`).toBeDefined();
}

describe('defineCluster', () => {
  it('accepts a valid spec, applies defaults and per-node overrides, and freezes it', () => {
    const input = clusterInput(3);
    input.nodes[1] = { ...input.nodes[1]!, image: 'ami-0fedcba9876543210', dataVolume: { sizeGiB: 200 } };
    const spec = defineCluster(input);
    expect(spec.nodes.map((n) => n.az)).toEqual(['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
    expect(spec.nodes[1]?.image).toBe('ami-0fedcba9876543210');
    expect(spec.nodes[1]?.dataVolume.sizeGiB).toBe(200);
    expect(spec.nodes[0]?.dataVolume.sizeGiB).toBe(100);
    expect(spec.dataVolume.deletionPolicy).toBe('retain');
    expect(spec.dataVolume.fileSystem).toBe('xfs');
    expect(spec.lifecycle).toEqual({ heartbeatTimeoutSec: 600, defaultResult: 'ABANDON', onFailure: 'abandon' });
    expect(Object.isFrozen(spec)).toBe(true);
    expect(Object.isFrozen(spec.nodes[0]!.dataVolume)).toBe(true);
  });

  it('lists every problem at once', () => {
    const input = clusterInput(3);
    input.nodes[1] = { ...input.nodes[1]!, id: 'n1' };
    input.nodes[2] = { ...input.nodes[2]!, ip: '10.9.9.9' };
    const found = problems({ ...input, instanceType: 'large', dataVolume: { sizeGiB: 0, mountPath: 'data' } });
    expect(found.map((p) => p.path).sort()).toEqual(
      ['dataVolume.mountPath', 'dataVolume.sizeGiB', 'instanceType', 'nodes[1].id', 'nodes[2].ip'].sort(),
    );
  });

  it('rejects duplicate node ids and IPs', () => {
    const input = clusterInput(3);
    input.nodes[2] = { ...input.nodes[2]!, id: 'n1', ip: input.nodes[0]!.ip, subnetId: input.nodes[0]!.subnetId };
    expectProblem(input, 'nodes[2].id', /already used by nodes\[0\]/);
    expectProblem(input, 'nodes[2].ip', /already used by nodes\[0\]/);
  });

  it('rejects an IP outside its subnet', () => {
    const input = clusterInput(3);
    input.nodes[0] = { ...input.nodes[0]!, ip: '10.0.2.50' };
    expectProblem(input, 'nodes[0].ip', /outside its subnet subnet-0000000a \(10\.0\.1\.0\/24\)/);
  });

  it.each([
    ['10.0.1.0', /network address/],
    ['10.0.1.1', /VPC router/],
    ['10.0.1.2', /DNS server/],
    ['10.0.1.3', /future use/],
    ['10.0.1.255', /broadcast/],
  ])('rejects the AWS-reserved address %s', (ip, pattern) => {
    const input = clusterInput(3);
    input.nodes[0] = { ...input.nodes[0]!, ip };
    expectProblem(input, 'nodes[0].ip', pattern);
  });

  it('rejects an even node count and fewer than 3 nodes unless opted out', () => {
    expectProblem(clusterInput(4), 'nodes', /even node count \(4\)/);
    expectProblem(clusterInput(1), 'nodes', /at least 3 nodes; got 1/);
    expect(() => defineCluster({ ...clusterInput(4), quorum: { allowUnsafeSize: true } })).not.toThrow();
  });

  it.each([
    [{ sizeGiB: 70000, type: 'gp3' }, 'dataVolume.sizeGiB', /gp3 volumes must be 1–65536 GiB/],
    [{ sizeGiB: 100, type: 'gp3', iops: 100 }, 'dataVolume.iops', /gp3 IOPS must be 3000–80000/],
    [{ sizeGiB: 10, type: 'gp3', iops: 6000 }, 'dataVolume.iops', /at most 500 IOPS per GiB/],
    [{ sizeGiB: 100, type: 'gp3', throughputMiBps: 2500 }, 'dataVolume.throughputMiBps', /125–2000 MiB\/s/],
    [{ sizeGiB: 100, type: 'gp3', throughputMiBps: 900 }, 'dataVolume.throughputMiBps', /0\.25 MiB\/s per provisioned IOPS/],
    [{ sizeGiB: 100, type: 'gp2', iops: 3000 }, 'dataVolume.iops', /take no provisioned IOPS/],
    [{ sizeGiB: 100, type: 'io2' }, 'dataVolume.iops', /need iops/],
    [{ sizeGiB: 100, type: 'st1' }, 'dataVolume.sizeGiB', /st1 volumes must be 125–16384 GiB/],
    [{ sizeGiB: 100, type: 'sc1', throughputMiBps: 200 }, 'dataVolume.throughputMiBps', /take no throughput setting/],
  ])('rejects volume settings outside AWS ranges: %j', (dataVolume, path, pattern) => {
    expectProblem({ ...clusterInput(3), dataVolume }, path, pattern);
  });

  it('checks per-node volume overrides against the volume type', () => {
    const input = clusterInput(3);
    input.nodes[1] = { ...input.nodes[1]!, dataVolume: { sizeGiB: 99999 } };
    expectProblem(input, 'nodes[1].dataVolume.sizeGiB', /1–65536 GiB/);
  });

  it.each([
    [{ name: 'Kafka_Prod' }, 'name', /a-z, 0-9 and "-"/],
    [{ name: 'x'.repeat(50) }, 'name', /2–40 characters/],
    [{ region: 'europe' }, 'region', /AWS region/],
    [{ image: 'ubuntu' }, 'image', /ami-0123456789abcdef0/],
    [{ securityGroupIds: [] }, 'securityGroupIds', /at least one security group/],
    [{ securityGroupIds: ['default'] }, 'securityGroupIds[0]', /sg-0123456789abcdef0/],
    [{ tags: { 'aws:owner': 'me' } }, 'tags.aws:owner', /reserved by AWS/],
    [{ tags: { 'berth:node': 'x' } }, 'tags.berth:node', /reserved by Berth/],
    [{ lifecycle: { heartbeatTimeoutSec: 10 } }, 'lifecycle.heartbeatTimeoutSec', /30–7200/],
    [{ dns: { hostedZoneId: 'Z123', clusterRecord: 'Kafka Cluster', nodeRecordTemplate: '{node}.k.internal' } }, 'dns.clusterRecord', /DNS name/],
    [{ dns: { hostedZoneId: 'Z123', clusterRecord: 'kafka.internal', nodeRecordTemplate: 'k.internal' } }, 'dns.nodeRecordTemplate', /must contain \{node\}/],
  ])('rejects names AWS would reject: %j', (override, path, pattern) => {
    expectProblem({ ...clusterInput(3), ...override }, path, pattern);
  });

  it('rejects a node id that cannot be a DNS label', () => {
    const input = clusterInput(3);
    input.nodes[0] = { ...input.nodes[0]!, id: 'Node_1' };
    expectProblem(input, 'nodes[0].id', /DNS label/);
  });

  it.each(['data', '/', '/var/../etc', '/var/lib/my data'])('rejects the mount path %j', (mountPath) => {
    expectProblem({ ...clusterInput(3), dataVolume: { sizeGiB: 100, mountPath } }, 'dataVolume.mountPath', /absolute path/);
  });

  it('rejects a node whose subnet is unknown', () => {
    const input = clusterInput(3);
    input.nodes[2] = { ...input.nodes[2]!, subnetId: 'subnet-000000ff' };
    expectProblem(input, 'nodes[2].subnetId', /subnet-000000ff, which is not in subnets/);
  });

  it('rejects unknown fields (typos) by their path, with the field meant', () => {
    expectProblem({ ...clusterInput(3), instanceTyp: 'm6i.large' }, 'instanceTyp', /^unknown field: did you mean 'instanceType'\?$/);
  });

  it('rejects a malformed subnet CIDR', () => {
    const input = clusterInput(3);
    input.subnets[0] = { ...input.subnets[0]!, cidr: '10.0.1.5/24' };
    expectProblem(input, 'subnets[0].cidr', /not an IPv4 CIDR block/);
  });

  it('names a missing required field', () => {
    const { image: _image, ...rest } = clusterInput(3);
    expectProblem(rest, 'image', /required/);
  });
});
