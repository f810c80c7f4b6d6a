import { canonicalJson, computeRevision, defineCluster } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { clusterInput } from './support/fixtures.js';

describe('computeRevision', () => {
  it('is stable, and independent of key order and of the node identity', () => {
    const a = defineCluster(clusterInput(3));
    const b = defineCluster(JSON.parse(JSON.stringify(clusterInput(3))));
    expect(computeRevision(a, 'n1')).toMatch(/^r-[0-9a-f]{16}$/);
    expect(computeRevision(a, 'n1')).toBe(computeRevision(b, 'n1'));
    expect(computeRevision(a, 'n1')).toBe(computeRevision(a, 'n2'));
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
  });

  it.each([
    ['image', { image: 'ami-0fedcba9876543210' }],
    ['instance type', { instanceType: 'm7i.large' }],
    ['security groups', { securityGroupIds: ['sg-0fedcba9876543210'] }],
    ['IAM profile', { iamInstanceProfile: 'kafka-node-v2' }],
    ['root volume', { rootVolume: { sizeGiB: 40 } }],
    ['bootstrap', { bootstrap: { configureScript: 'echo hi' } }],
    ['mount options', { dataVolume: { sizeGiB: 100, mountPath: '/var/lib/kafka', mountOptions: 'defaults' } }],
  ])('changes when the %s changes', (_what, override) => {
    const base = defineCluster(clusterInput(3));
    const changed = defineCluster({ ...clusterInput(3), ...override } as never);
    expect(computeRevision(changed, 'n1')).not.toBe(computeRevision(base, 'n1'));
  });

  it('does not change with the data volume size (resized in place, not by replacement)', () => {
    const base = defineCluster(clusterInput(3));
    const bigger = defineCluster({ ...clusterInput(3), dataVolume: { sizeGiB: 500, type: 'gp3', mountPath: '/var/lib/kafka' } });
    expect(computeRevision(bigger, 'n1')).toBe(computeRevision(base, 'n1'));
  });

  it('follows a per-node image override for that node only', () => {
    const input = clusterInput(3);
    input.nodes[0] = { ...input.nodes[0]!, image: 'ami-0fedcba9876543210' };
    const s = defineCluster(input);
    expect(computeRevision(s, 'n1')).not.toBe(computeRevision(s, 'n2'));
  });
});
