import { readFileSync } from 'node:fs';
import type { ClusterInput } from '@berth/core';
import { describeDriverConformance } from '@berth/core/testing';
import { describe, expect, it } from 'vitest';
import { createAwsDriver, createSystemClock } from '../src/index.js';

// The core conformance suite against a real AWS account — only where a user asks for it, with
// credentials in the environment (the SDK's default chain) and a description of an account
// prepared for it in BERTH_CONFORMANCE_AWS (docs/aws-driver.md, "Conformance on a real
// account"). It launches and deletes instances, volumes and DNS records: never run in CI.
// Everywhere else it is skipped, and says why.

interface RealAccount {
  readonly region: string;
  readonly subnets: readonly { readonly id: string; readonly az: string; readonly cidr: string }[];
  readonly securityGroupIds: readonly string[];
  readonly image: string;
  readonly otherImage: string;
  readonly instanceType?: string;
  readonly iamInstanceProfile: string;
  readonly hostedZoneId: string;
  readonly zoneName: string;
  readonly lockTable: string;
  /** The first host number used in each subnet for node IPs (default 200). */
  readonly firstHost?: number;
}

const file = process.env['BERTH_CONFORMANCE_AWS'];

if (file === undefined || file === '') {
  describe('AWS driver conformance on a real AWS account', () => {
    it.skip('skipped: set BERTH_CONFORMANCE_AWS=<account.json> and AWS credentials to run the conformance suite against a real account (it creates and deletes instances; never in CI)', () => undefined);
  });
} else {
  const account = JSON.parse(readFileSync(file, 'utf8')) as RealAccount;
  const clusterInput = (nodes: number): ClusterInput => ({
    name: 'berth-conformance',
    region: account.region,
    subnets: account.subnets.map((s) => ({ ...s })),
    nodes: Array.from({ length: nodes }, (_, i) => {
      const s = account.subnets[i % account.subnets.length]!;
      const base = s.cidr.split('.').slice(0, 3).join('.');
      return { id: `n${i + 1}`, ip: `${base}.${(account.firstHost ?? 200) + Math.floor(i / account.subnets.length)}`, subnetId: s.id };
    }),
    image: account.image,
    instanceType: account.instanceType ?? 't3.small',
    securityGroupIds: [...account.securityGroupIds],
    iamInstanceProfile: account.iamInstanceProfile,
    dataVolume: { sizeGiB: 10, type: 'gp3', mountPath: '/var/lib/berth-conformance', deletionPolicy: 'delete' },
    dns: { hostedZoneId: account.hostedZoneId, clusterRecord: `berth-conformance.${account.zoneName}`, nodeRecordTemplate: `{node}.berth-conformance.${account.zoneName}`, ttl: 30 },
    quorum: { allowUnsafeSize: nodes % 2 === 0 || nodes < 3 },
  });
  describeDriverConformance(
    {
      name: `aws-driver on AWS (${account.region})`,
      timeoutMs: 45 * 60_000,
      async setup() {
        const driver = createAwsDriver({ region: account.region, lockTable: account.lockTable });
        return {
          driver,
          clock: createSystemClock(),
          clusterInput,
          run: (fn) => fn(),
          otherImage: account.otherImage,
          async teardown() {
            driver.destroy();
          },
        };
      },
    },
    { describe, it, expect },
  );
}
