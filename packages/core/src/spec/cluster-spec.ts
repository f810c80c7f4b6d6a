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
  /** Spot or on-demand, and the fallback (each node's resolved one is `nodes[i].capacity`). */
  readonly capacity: CapacitySpec;
}

/** Spot or on-demand, and when a spot node falls back to on-demand and back (`spec.capacity`, docs/spot.md). */
export interface CapacitySpec {
  readonly spot: boolean;
  readonly onDemandFallback: boolean;
  readonly fallbackAfterSec: number;
  readonly spotRetryAfterSec: number;
}

/** ELBv2 target groups every node's instance is registered in (`spec.loadBalancer`). */
export interface LoadBalancerSpec {
  readonly targetGroupArns: readonly string[];
}

/** A subnet nodes may be placed in, with its AZ and CIDR (`spec.subnets[i]`). */
export interface SubnetSpec {
  readonly id: string;
  readonly az: string;
  readonly cidr: string;
}

/** One node, resolved: its own image and data volume after per-node overrides, and its AZ. */
export interface NodeSpec {
  readonly id: string;
  readonly ip: string;
  readonly subnetId: string;
  readonly az: string;
  /** The image this node runs (the node's override, else the cluster's). */
  readonly image: string;
  /** The cluster's data volume with this node's overrides applied. */
  readonly dataVolume: DataVolumeSpec;
  /** The cluster's capacity with this node's overrides applied. */
  readonly capacity: CapacitySpec;
  /** An existing ENI and volume this node takes over (`controller.adopt`); absent otherwise. */
  readonly adopt?: AdoptSpec;
}

/** The network interface and data volume of an unmanaged instance a node takes over (docs/adopt.md). */
export interface AdoptSpec {
  readonly eniId: string;
  readonly volumeId: string;
}

/** Each instance's root volume, deleted with the instance (`spec.rootVolume`). */
export interface RootVolumeSpec {
  readonly sizeGiB: number;
  readonly type: VolumeType;
  readonly encrypted: boolean;
}

/** What deleting a node does to its data volume: keep it, snapshot then delete it, or delete it. */
export type DeletionPolicy = 'retain' | 'snapshot' | 'delete';

/**
 * A node's data volume, resolved: the cluster's `dataVolume` with defaults and the node's
 * overrides applied. `null` fields were not set (the AWS default applies).
 */
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

/** The Route 53 records Berth keeps: one per node (its IP) and one for the cluster (every IP). */
export interface DnsSpec {
  readonly hostedZoneId: string;
  readonly clusterRecord: string;
  /** e.g. `{node}.kafka.internal.example.com` */
  readonly nodeRecordTemplate: string;
  readonly ttl: number;
}

/** The launch lifecycle hook that holds a new instance until its bootstrap is done. */
export interface LifecycleSpec {
  readonly heartbeatTimeoutSec: number;
  readonly defaultResult: 'CONTINUE' | 'ABANDON';
  /** On a failed boot: `abandon` (terminate, the group retries) or `wait` for manual repair. */
  readonly onFailure: 'abandon' | 'wait';
}

/** Where the bootstrap fetches a file's content from with the instance role (docs/secrets.md): exactly one of `ssm` or `s3`. */
export interface BootstrapFileSource {
  readonly ssm?: { readonly name: string; readonly version?: number; readonly kmsKeyId?: string };
  readonly s3?: { readonly uri: string; readonly versionId?: string };
}

/** A file the node bootstrap writes before the configure script runs. */
export interface BootstrapFileSpec {
  readonly path: string;
  /** The content carried in the user data; '' when the file has a `source`. */
  readonly content: string;
  /** Present when the bootstrap fetches the content (SSM Parameter Store or S3) instead. */
  readonly source?: BootstrapFileSource;
  readonly mode: string;
  readonly owner: string;
}

/** What the node bootstrap runs on every new instance, and how long each step may take (docs/bootstrap.md). */
export interface BootstrapSpec {
  readonly configureScript: string;
  readonly healthScript: string;
  readonly files: readonly BootstrapFileSpec[];
  readonly configureTimeoutSec: number;
  readonly healthTimeoutSec: number;
  readonly attachTimeoutSec: number;
  /** Run by a spot node's interruption watcher before it unmounts the data volume ('' for none). */
  readonly preStopScript: string;
  readonly preStopTimeoutSec: number;
}

/**
 * The DNS name of one node, from the spec's template.
 *
 * @example
 * ```ts
 * nodeRecordName(spec.dns, 'kafka-1'); // 'kafka-1.kafka.internal.example.com'
 * ```
 */
export function nodeRecordName(dns: DnsSpec, nodeId: string): string {
  return dns.nodeRecordTemplate.replaceAll('{node}', nodeId);
}
