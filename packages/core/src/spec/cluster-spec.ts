import type { VolumeType } from './volume-limits.js';

/** A validated, resolved and frozen cluster spec, as returned by `defineCluster`. */
export interface ClusterSpec {
  readonly name: string;
  readonly region: string;
  readonly subnets: readonly SubnetSpec[];
  /** Nodes with per-node overrides already applied (`image`, `dataVolume`) and their AZ. */
  readonly nodes: readonly NodeSpec[];
  readonly image: string;
  readonly instanceType: string;
  readonly securityGroupIds: readonly string[];
  readonly keyName: string | null;
  /** The instance profile every instance runs with; its role needs `iamPolicyFor(spec).node`. */
  readonly iamInstanceProfile: string;
  readonly rootVolume: RootVolumeSpec;
  readonly dataVolume: DataVolumeSpec;
  readonly dns: DnsSpec | null;
  /**
   * ELBv2 target groups the nodes serve behind. A roll deregisters a node's instance and waits
   * out the draining before replacing it, and registers the new one and waits for `healthy`
   * before its batch counts as done. Null: no load balancer.
   */
  readonly loadBalancer: LoadBalancerSpec | null;
  readonly lifecycle: LifecycleSpec;
  readonly bootstrap: BootstrapSpec;
  readonly tags: Readonly<Record<string, string>>;
  readonly quorum: { readonly allowUnsafeSize: boolean };
}

export interface LoadBalancerSpec {
  readonly targetGroupArns: readonly string[];
}

export interface SubnetSpec {
  readonly id: string;
  readonly az: string;
  readonly cidr: string;
}

export interface NodeSpec {
  readonly id: string;
  readonly ip: string;
  readonly subnetId: string;
  readonly az: string;
  /** The image this node runs (the node's override, else the cluster's). */
  readonly image: string;
  /** The cluster's data volume with this node's overrides applied. */
  readonly dataVolume: DataVolumeSpec;
}

export interface RootVolumeSpec {
  readonly sizeGiB: number;
  readonly type: VolumeType;
  readonly encrypted: boolean;
}

export type DeletionPolicy = 'retain' | 'snapshot' | 'delete';

export interface DataVolumeSpec {
  readonly sizeGiB: number;
  readonly type: VolumeType;
  readonly iops: number | null;
  readonly throughputMiBps: number | null;
  readonly deviceName: string;
  readonly fileSystem: 'xfs' | 'ext4';
  readonly mountPath: string;
  readonly mountOptions: string;
  readonly owner: string;
  readonly group: string;
  readonly encrypted: boolean;
  readonly kmsKeyId: string | null;
  readonly snapshotId: string | null;
  readonly deletionPolicy: DeletionPolicy;
}

export interface DnsSpec {
  readonly hostedZoneId: string;
  readonly clusterRecord: string;
  /** e.g. `{node}.kafka.internal.example.com` */
  readonly nodeRecordTemplate: string;
  readonly ttl: number;
}

export interface LifecycleSpec {
  readonly heartbeatTimeoutSec: number;
  readonly defaultResult: 'CONTINUE' | 'ABANDON';
  /** On a failed boot: `abandon` (terminate, the group retries) or `wait` for manual repair. */
  readonly onFailure: 'abandon' | 'wait';
}

export interface BootstrapFileSpec {
  readonly path: string;
  readonly content: string;
  readonly mode: string;
  readonly owner: string;
}

export interface BootstrapSpec {
  readonly configureScript: string;
  readonly healthScript: string;
  readonly files: readonly BootstrapFileSpec[];
  readonly configureTimeoutSec: number;
  readonly healthTimeoutSec: number;
  readonly attachTimeoutSec: number;
}

/** The DNS name of one node, from the spec's template. */
export function nodeRecordName(dns: DnsSpec, nodeId: string): string {
  return dns.nodeRecordTemplate.replaceAll('{node}', nodeId);
}
