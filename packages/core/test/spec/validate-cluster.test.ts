// The cross-field rules of issue 10: what defineCluster used to accept and AWS (or the cluster) would not.
import { readFileSync } from 'node:fs';
import { defineCluster, type ClusterInput } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { AWS_REGIONS } from '../../src/spec/aws-regions.js';
import { parseKmsKeyRef } from '../../src/spec/kms-key-ref.js';
import { USER_TAGS_MAX } from '../../src/spec/tag-limits.js';
import { clusterInput, configProblems } from '../support/fixtures.js';

const problems = configProblems;

/** Exactly one problem, at `path`, matching `pattern`. */
function expectOnly(input: unknown, path: string, pattern: RegExp): void {
  const found = problems(input);
  expect(found, JSON.stringify(found, null, 2)).toHaveLength(1);
  expect(found[0]?.path).toBe(path);
  expect(found[0]?.message).toMatch(pattern);
}

const accepted = (input: unknown) => expect(problems(input)).toEqual([]);

describe('region and availability zones', () => {
  it('rejects a Region AWS does not have, suggesting the one meant', () => {
    expectOnly({ ...clusterInput(3), region: 'eu-wset-1' }, 'region', /^'eu-wset-1' is not an AWS Region \(did you mean 'eu-west-1'\?\)\. Berth knows the commercial, China and GovCloud Regions/);
    // Equally close to eu-west-1, -2 and -3: no guess.
    expectOnly({ ...clusterInput(3), region: 'eu-west-9' }, 'region', /^'eu-west-9' is not an AWS Region\. .* add it to packages\/core\/src\/spec\/aws-regions\.ts or upgrade Berth$/);
  });

  it('accepts every commercial, China and GovCloud Region it lists', () => {
    expect(Object.keys(AWS_REGIONS)).toEqual(expect.arrayContaining(['us-east-1', 'eu-west-1', 'ap-southeast-7', 'mx-central-1', 'cn-north-1', 'cn-northwest-1', 'us-gov-east-1', 'us-gov-west-1']));
    for (const region of Object.keys(AWS_REGIONS)) {
      const input = clusterInput(3);
      accepted({ ...input, region, subnets: input.subnets.map((s, i) => ({ ...s, az: `${region}${'abc'[i]}` })) });
    }
  });

  it('rejects a subnet whose AZ is in another Region, naming the subnet', () => {
    const input = clusterInput(3);
    input.subnets[1] = { ...input.subnets[1]!, az: 'us-east-1b' };
    expectOnly(input, 'subnets[1].az', /us-east-1b is not in the spec's region eu-west-1 \(its zones are eu-west-1a, eu-west-1b\.\.\.\)/);
  });

  it('does not blame the AZs for a mistyped Region', () => {
    expect(problems({ ...clusterInput(3), region: 'eu-west-9' }).map((p) => p.path)).toEqual(['region']);
  });
});

describe('subnets and security groups', () => {
  it.each([
    ['10.0.1.0/25', 'the same addresses'],
    ['10.0.0.0/16', 'a block that holds it'],
  ])('rejects a CIDR that overlaps another subnet (%s: %s)', (cidr) => {
    const input = clusterInput(3);
    input.subnets[2] = { ...input.subnets[2]!, cidr };
    input.nodes = input.nodes.map((n) => (n.subnetId === input.subnets[2]!.id ? { ...n, ip: cidr.startsWith('10.0.1') ? '10.0.1.100' : '10.0.3.12' } : n));
    expectOnly(input, 'subnets[2].cidr', new RegExp(`^${cidr.replace(/[./]/g, '\\$&')} overlaps subnets\\[0\\] \\(10\\.0\\.1\\.0/24\\)`));
  });

  it('accepts adjacent CIDRs', () => {
    const input = clusterInput(3);
    input.subnets = input.subnets.map((s, i) => ({ ...s, cidr: `10.0.1.${i * 64}/26` }));
    input.nodes = input.nodes.map((n, i) => ({ ...n, ip: `10.0.1.${i * 64 + 10}` }));
    accepted(input);
  });

  it('rejects a security group listed twice', () => {
    expectOnly({ ...clusterInput(3), securityGroupIds: ['sg-0123456789abcdef0', 'sg-0fedcba9876543210', 'sg-0123456789abcdef0'] }, 'securityGroupIds[2]', /sg-0123456789abcdef0 is already listed at securityGroupIds\[0\]/);
  });

  it('names the usable range for a node IP outside its subnet or reserved by AWS', () => {
    const input = clusterInput(3);
    input.nodes[0] = { ...input.nodes[0]!, ip: '10.0.1.3' };
    expectOnly(input, 'nodes[0].ip', /reserved by AWS for future use .* pick one in 10\.0\.1\.4–10\.0\.1\.254/);
  });
});

describe('data volume encryption key', () => {
  const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
  const withKey = (kmsKeyId: string, extra: Record<string, unknown> = {}) => ({ ...clusterInput(3), dataVolume: { sizeGiB: 100, kmsKeyId, ...extra } });

  it.each([
    KEY_ID,
    'mrk-1234abcd12ab34cd56ef1234567890ab',
    `arn:aws:kms:eu-west-1:111122223333:key/${KEY_ID}`,
    'alias/kafka-data',
    'alias/aws/ebs',
    'arn:aws:kms:eu-west-1:111122223333:alias/kafka/data_1',
  ])('accepts the key reference %s', (key) => accepted(withKey(key)));

  it.each(['kafka-key', `key/${KEY_ID}`, 'arn:aws:kms:eu-west-1:111122223333:key/k', 'alias/', 'alias/has space', `arn:aws:s3:::bucket`])('rejects %j: not a key id, key ARN, alias name or alias ARN', (key) => {
    expectOnly(withKey(key), 'dataVolume.kmsKeyId', /is not a KMS key id, key ARN, alias name or alias ARN; use e\.g\. .*arn:aws:kms:eu-west-1:/);
  });

  it('rejects a key with encrypted: false, saying what to change', () => {
    expectOnly(withKey(KEY_ID, { encrypted: false }), 'dataVolume.kmsKeyId', /dataVolume\.encrypted is false .* set encrypted: true or remove kmsKeyId/);
  });

  it("rejects a key ARN of another Region or of the wrong partition", () => {
    expectOnly(withKey(`arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`), 'dataVolume.kmsKeyId', /the key is in us-east-1 but the cluster is in eu-west-1/);
    expectOnly(withKey(`arn:aws-cn:kms:eu-west-1:111122223333:key/${KEY_ID}`), 'dataVolume.kmsKeyId', /partition is aws-cn, but eu-west-1 is in aws; write arn:aws:kms:/);
  });

  it('parses the four forms', () => {
    expect(parseKmsKeyRef(KEY_ID)).toEqual({ kind: 'key-id', id: KEY_ID });
    expect(parseKmsKeyRef('alias/x')).toEqual({ kind: 'alias-name', alias: 'alias/x' });
    expect(parseKmsKeyRef(`arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/${KEY_ID}`)).toMatchObject({ kind: 'key-arn', partition: 'aws-us-gov', region: 'us-gov-west-1' });
    expect(parseKmsKeyRef('alias/' + 'a'.repeat(251))).toBeNull(); // 257 characters in all
  });
});

describe('DNS records', () => {
  const dns = (nodeRecordTemplate: string, clusterRecord = 'kafka.internal.example.com') => ({ ...clusterInput(3), dns: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', clusterRecord, nodeRecordTemplate } });

  it.each([
    ['{node}_kafka.internal.example.com', 'n1_kafka.internal.example.com'],
    ['{node}.Kafka.internal', 'n1.Kafka.internal'],
    ['{node}..internal', 'n1..internal'],
    ['{node}-.internal', 'n1-.internal'],
    [`{node}.${'a'.repeat(64)}.internal`, `n1.${'a'.repeat(64)}.internal`],
  ])('rejects a node record template that gives no DNS name: %s', (template, name) => {
    expectOnly(dns(template), 'dns.nodeRecordTemplate', new RegExp(`^gives '${name.replace(/[.]/g, '\\.')}' for node n1 \\(nodes\\[0\\]\\) and 2 other nodes, which is not a DNS name`));
  });

  it('accepts {node} anywhere in a label, and a final dot', () => {
    accepted(dns('kafka-{node}.internal.example.com.'));
  });

  it('rejects a cluster record equal to a node record', () => {
    expectOnly(dns('{node}.kafka.internal', 'n2.kafka.internal.'), 'dns.clusterRecord', /'n2\.kafka\.internal\.' is also the record of node n2 \(nodes\[1\], from nodeRecordTemplate\)/);
  });
});

describe('tags', () => {
  const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));

  it(`accepts ${USER_TAGS_MAX} tags and rejects one more, counting Berth's own`, () => {
    expect(USER_TAGS_MAX).toBe(41);
    accepted({ ...clusterInput(3), tags: tags(USER_TAGS_MAX) });
    expectOnly({ ...clusterInput(3), tags: tags(USER_TAGS_MAX + 1) }, 'tags', /has 42 tags, but at most 41 fit: AWS allows 50 tags per resource and Berth adds up to 9 of its own .*; remove 1$/);
  });

  it('rejects a Name tag, which Berth would overwrite', () => {
    expectOnly({ ...clusterInput(3), tags: { Name: 'kafka' } }, 'tags.Name', /Berth names every resource it creates <cluster>-<node>/);
  });
});

describe('bootstrap', () => {
  it('rejects a file written twice', () => {
    const files = [{ path: '/etc/kafka/a', content: '1' }, { path: '/etc/kafka/b', content: '2' }, { path: '/etc/kafka/a', content: '3' }];
    expectOnly({ ...clusterInput(3), bootstrap: { files } }, 'bootstrap.files[2].path', /\/etc\/kafka\/a is also written by bootstrap\.files\[0\]/);
  });

  it('rejects timeouts longer than the lifecycle hook can wait (ASG-4)', () => {
    expectOnly(
      { ...clusterInput(3), lifecycle: { heartbeatTimeoutSec: 30 }, bootstrap: { healthTimeoutSec: 3600 } },
      'bootstrap',
      /allow a boot of 4800 s, but AWS ends the launch lifecycle action after .* = 3000 s, heartbeats or not; raise lifecycle\.heartbeatTimeoutSec to at least 48/,
    );
    expectOnly({ ...clusterInput(3), bootstrap: { healthTimeoutSec: 200_000 } }, 'bootstrap', /= 60000 s.*lower the bootstrap timeouts to 172800 s in total/);
    accepted({ ...clusterInput(3), lifecycle: { heartbeatTimeoutSec: 30 }, bootstrap: { healthTimeoutSec: 1800 } });
  });
});

describe('load balancer', () => {
  it('rejects a target group listed twice', () => {
    const arn = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/kafka/0123456789abcdef';
    expectOnly({ ...clusterInput(3), loadBalancer: { targetGroupArns: [arn, arn] } }, 'loadBalancer.targetGroupArns[1]', /already listed at targetGroupArns\[0\]/);
  });
});

describe('docs/spec.md', () => {
  it('shows defineCluster\'s message for its example verbatim', () => {
    const doc = readFileSync(new URL('../../../../docs/spec.md', import.meta.url), 'utf8');
    const input = /This spec, with seven mistakes in it…\n\n```ts\n([\s\S]*?)\n```/.exec(doc)?.[1];
    const shown = /<!-- spec: seven mistakes -->\n```text\n([\s\S]*?)\n```/.exec(doc)?.[1];
    expect(input && shown).toBeTruthy();
    let message = '';
    try {
      defineCluster(new Function(`return (${input});`)() as ClusterInput);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(shown);
  });
});
