import type { ClusterInput } from '@berth/core';

export interface SimulatedClusterOptions {
  /** Number of nodes. Default 5. */
  readonly nodes?: number;
  /** Cluster name. Default `demo`. */
  readonly name?: string;
  readonly region?: string;
  /** Image of every node. Default `ami-0123456789abcdef0`. */
  readonly image?: string;
  readonly instanceType?: string;
  readonly dataVolumeSizeGiB?: number;
  /** Give the cluster a hosted zone and per-node records. Default true. */
  readonly dns?: boolean;
  /** Number of AZs (and subnets) the nodes are spread over, round robin. Default 3. */
  readonly azs?: number;
  readonly heartbeatTimeoutSec?: number;
  readonly defaultResult?: 'CONTINUE' | 'ABANDON';
  readonly onFailure?: 'abandon' | 'wait';
  readonly deletionPolicy?: 'retain' | 'snapshot' | 'delete';
  /** Allow even sizes or fewer than 3 nodes. */
  readonly allowUnsafeSize?: boolean;
  /** The nodes' instance profile (its role gets `iamPolicyFor(spec).node` in the simulated account). Default `<name>-node`. */
  readonly iamInstanceProfile?: string;
  /**
   * Subnet size: `24` (`10.0.<az+1>.0/24`, ~240 nodes per AZ) or `20` (`10.0.<az×16>.0/20`, for
   * clusters of hundreds to a thousand nodes). Default 24.
   */
  readonly subnetPrefix?: 20 | 24;
  /**
   * Address slots taken by other clusters in the same subnets: node i gets slot
   * `addressOffset + i` (its AZ and IP), so several clusters share the subnets without sharing
   * an address (a fleet). Default 0.
   */
  readonly addressOffset?: number;
}

/**
 * A valid {@link ClusterInput} for `defineCluster`, for tests and demos: subnets across
 * AZs (`10.0.<az>.0/24`), node IPs inside them from `.10` up, one image, a gp3 data volume,
 * DNS records under `<name>.internal.example.com`.
 *
 * @example
 * ```ts
 * const spec = defineCluster(simulatedClusterInput({ nodes: 5 }));
 * ```
 */
export function simulatedClusterInput(options: SimulatedClusterOptions = {}): ClusterInput {
  const count = options.nodes ?? 5;
  const name = options.name ?? 'demo';
  const region = options.region ?? 'eu-west-1';
  const azCount = Math.max(1, Math.min(6, options.azs ?? 3));
  const letters = 'abcdef';
  const wide = options.subnetPrefix === 20;
  const subnets = Array.from({ length: azCount }, (_, i) => ({
    id: `subnet-${(0xa0000 + i).toString(16).padStart(8, '0')}`,
    az: `${region}${letters[i]}`,
    cidr: wide ? `10.0.${i * 16}.0/20` : `10.0.${i + 1}.0/24`,
  }));
  const offset = options.addressOffset ?? 0;
  const nodes = Array.from({ length: count }, (_, i) => {
    const slot = offset + i;
    const az = slot % azCount;
    const subnet = subnets[az] as (typeof subnets)[number];
    const host = 10 + Math.floor(slot / azCount);
    const ip = wide ? `10.0.${az * 16 + Math.floor(host / 256)}.${host % 256}` : `10.0.${az + 1}.${host}`;
    return { id: `${name}-${i + 1}`.slice(0, 32), ip, subnetId: subnet.id };
  });
  return {
    name,
    region,
    subnets,
    nodes,
    image: options.image ?? 'ami-0123456789abcdef0',
    instanceType: options.instanceType ?? 'm6i.large',
    securityGroupIds: ['sg-0123456789abcdef0'],
    iamInstanceProfile: options.iamInstanceProfile ?? `${name}-node`,
    dataVolume: {
      sizeGiB: options.dataVolumeSizeGiB ?? 100,
      type: 'gp3',
      mountPath: '/var/lib/app',
      deletionPolicy: options.deletionPolicy ?? 'retain',
    },
    ...(options.dns !== false && {
      dns: {
        hostedZoneId: 'Z0123456789ABCDEFGHIJ',
        clusterRecord: `${name}.internal.example.com`,
        nodeRecordTemplate: `{node}.${name}.internal.example.com`,
        ttl: 60,
      },
    }),
    lifecycle: {
      heartbeatTimeoutSec: options.heartbeatTimeoutSec ?? 600,
      defaultResult: options.defaultResult ?? 'ABANDON',
      onFailure: options.onFailure ?? 'abandon',
    },
    ...(options.allowUnsafeSize && { quorum: { allowUnsafeSize: true } }),
  };
}
