import type {
  SimDnsChange,
  SimEni,
  SimGroup,
  SimHostedZone,
  SimImage,
  SimInstance,
  SimKeyPair,
  SimKmsKey,
  SimLaunchTemplate,
  SimSecurityGroup,
  SimSnapshot,
  SimSubnet,
  SimVolume,
  SimVpc,
  Tags,
} from './entities.js';
import type { SimListener, SimLoadBalancer, SimTargetGroup } from './elbv2-entities.js';
import type { SimBucket, SimParameter } from './secret-entities.js';
import type { SimInternetGateway, SimNatGateway, SimRouteTable, SimVpcEndpoint } from './network-entities.js';

/** An idempotency token's first use: the resource it made and a fingerprint of the request's parameters. */
export interface ClientTokenUse {
  readonly resourceId: string;
  readonly fingerprint: string;
  readonly atMs: number;
}

/** Every EC2, Auto Scaling, Route 53 and ELBv2 entity of the simulated account, keyed by id (Maps keep insertion order: deterministic). */
export class WorldState {
  readonly instances = new Map<string, SimInstance>();
  readonly groups = new Map<string, SimGroup>();
  readonly launchTemplates = new Map<string, SimLaunchTemplate>();
  readonly enis = new Map<string, SimEni>();
  readonly volumes = new Map<string, SimVolume>();
  readonly snapshots = new Map<string, SimSnapshot>();
  readonly zones = new Map<string, SimHostedZone>();
  readonly dnsChanges = new Map<string, SimDnsChange>();
  readonly vpcs = new Map<string, SimVpc>();
  readonly subnets = new Map<string, SimSubnet>();
  readonly securityGroups = new Map<string, SimSecurityGroup>();
  readonly images = new Map<string, SimImage>();
  readonly keyPairs = new Map<string, SimKeyPair>();
  readonly kmsKeys = new Map<string, SimKmsKey>();
  /** ELBv2, by ARN. */
  readonly targetGroups = new Map<string, SimTargetGroup>();
  readonly loadBalancers = new Map<string, SimLoadBalancer>();
  readonly listeners = new Map<string, SimListener>();
  /** Routing (VPC-1 … VPC-5), by id. */
  readonly routeTables = new Map<string, SimRouteTable>();
  readonly natGateways = new Map<string, SimNatGateway>();
  readonly internetGateways = new Map<string, SimInternetGateway>();
  readonly vpcEndpoints = new Map<string, SimVpcEndpoint>();
  /** SSM parameters by name (a leading `/` for hierarchies) and S3 buckets by name (SSM-2, S3-2). */
  readonly parameters = new Map<string, SimParameter>();
  readonly buckets = new Map<string, SimBucket>();
  /** Idempotency: `<operation>:<ClientToken>` → its first use. */
  readonly clientTokens = new Map<string, ClientTokenUse>();
  /**
   * Instance ids by tag (`key`, NUL, `value`), kept by world/ec2.ts on launch, tag changes and
   * when EC2 forgets an instance: a describe filtered by a tag reads only the instances that
   * have it, not every instance of the account (many clusters in one world).
   */
  readonly instancesByTag = new Map<string, Set<string>>();
  /** Auto Scaling groups the region may hold (the default quota, or a granted increase: `SimAccount.setGroupQuota`). */
  groupQuota = 500; // QUOTA-1: the default (world/autoscaling.ts GROUP_QUOTA)
  readonly #counters = new Map<string, number>();

  /** Adds (or removes) the instance under each of `tags` in {@link instancesByTag}. */
  indexInstanceTags(instanceId: string, tags: Readonly<Record<string, string>>, add: boolean): void {
    for (const k in tags) {
      const key = `${k}\u0000${tags[k] as string}`;
      let ids = this.instancesByTag.get(key);
      if (add) {
        if (!ids) this.instancesByTag.set(key, (ids = new Set()));
        ids.add(instanceId);
      } else if (ids) {
        ids.delete(instanceId);
        if (ids.size === 0) this.instancesByTag.delete(key);
      }
    }
  }

  /** The instances that have tag `key` with one of `values` (ids in launch order), from {@link instancesByTag}. */
  instancesTagged(key: string, values: readonly string[]): string[] {
    const out = new Set<string>();
    for (const v of values) for (const id of this.instancesByTag.get(`${key}\u0000${v}`) ?? []) out.add(id);
    // Ids are `i-` and a fixed-width counter: their order is the launch order, as `instances` holds them.
    return [...out].sort();
  }

  /** A deterministic AWS-shaped id: `prefix-` + 17 hex digits. */
  nextId(prefix: string, digits = 17): string {
    const n = (this.#counters.get(prefix) ?? 0) + 1;
    this.#counters.set(prefix, n);
    return `${prefix}-${n.toString(16).padStart(digits, '0')}`;
  }

  /** The KMS key a key id, ARN or alias names, if the account has it. */
  kmsKey(idOrArnOrAlias: string): SimKmsKey | null {
    for (const k of this.kmsKeys.values()) if (k.id === idOrArnOrAlias || k.arn === idOrArnOrAlias || k.aliases.includes(idOrArnOrAlias)) return k;
    return null;
  }
}

export function matchesTags(tags: Tags, filter: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(filter)) if (tags[k] !== v) return false;
  return true;
}
