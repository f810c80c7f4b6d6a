import { nodeRecordName, type ClusterSpec } from '@berth/core';
import type { SimContext } from './sim-context.js';
import { CONTROLLER_ROLE } from './aws/iam/sim-iam.js';
import { createUnmanagedInstance, type UnmanagedInstance, type UnmanagedInstanceOptions } from './world/unmanaged-instance.js';
import { putObject, putParameter, type SimPutParameterOptions } from './account-secrets.js';
import { addVpcEndpoint, ensureVpcRouting, setSubnetRoute, type SimDefaultRoute, type SimVpcEndpointOptions } from './account-network.js';

/**
 * The policies Berth generates for a cluster (`AwsDriver.iamPolicyFor`), with the images of
 * revisions it may go back to (`rollbackImages`).
 */
export type PolicySource = (spec: ClusterSpec, options: { readonly rollbackImages: readonly string[]; readonly formerNodes?: readonly string[] }) => { readonly controller: unknown; readonly node: unknown };

/** A target group of the simulated account (`SimAccount.createTargetGroup`), and the load balancer that puts it in use. */
export interface SimTargetGroupOptions {
  /** The group's name (1–32 letters, digits and hyphens). Not needed with `arn`, which names it. */
  readonly name?: string;
  /**
   * A fixed ARN, as a spec's `loadBalancer.targetGroupArns` names it (this account, region and
   * partition): the group gets that name and id.
   */
  readonly arn?: string;
  /** `TCP` (default: a network load balancer forwards to it) or `HTTP` (an application load balancer, which needs subnets in two AZs). */
  readonly protocol?: 'TCP' | 'HTTP';
  /** The traffic port. Default 80. */
  readonly port?: number;
  /** Health checks (ELB-6 defaults: 30 s, 5 passes to be healthy, 2 failures to be unhealthy). */
  readonly healthCheckIntervalSec?: number;
  readonly healthyThreshold?: number;
  readonly unhealthyThreshold?: number;
  /** `deregistration_delay.timeout_seconds` (default 300): how long a deregistered target drains. */
  readonly deregistrationDelaySec?: number;
  /**
   * The subnets of the load balancer that forwards to the group; it checks targets only in their
   * AZs (ELB-2). `null`: no load balancer, the group is not in use and its targets are `unused`
   * (`Target.NotInUse`). Default: every subnet of the group's VPC — or, when it has none yet, the
   * subnets of the first spec that names the group, once `prepare` makes them.
   */
  readonly loadBalancerSubnets?: readonly string[] | null;
  /** Default: the VPC of `loadBalancerSubnets`, else the account's VPC. */
  readonly vpcId?: string;
}

export interface PrepareOptions {
  /**
   * Attach `iamPolicyFor(spec)`'s policies to the controller's role and to the role of the
   * spec's instance profile. Default true. Pass false to set them yourself
   * (`setControllerPolicy`, `setRolePolicy`), e.g. to test a policy with an action removed.
   */
  readonly policies?: boolean;
}

/**
 * The simulated AWS account, as a user's account looks before Berth runs in it: the VPC,
 * subnets and security groups a spec names, its images, key pair, KMS keys, hosted zone,
 * the instance profile with its role, the lock table, and the IAM policies attached to the
 * controller's role and the nodes' role. `prepare(spec)` creates whatever of these is missing;
 * everything else (ENIs, volumes, templates, groups, records) is Berth's to create through the
 * API. `sim.driver` prepares each spec it sees unless the simulation was created with
 * `account: 'manual'`.
 */
export class SimAccount {
  readonly #ctx: SimContext;
  readonly #policies: PolicySource;
  readonly #lockTable: string;
  readonly #prepared = new WeakSet<ClusterSpec>();
  /** Cluster names whose policies were attached, with the documents (to detect a changed spec). */
  readonly #attached = new Map<string, string>();
  /** Every node id each cluster's prepared specs named (formerNodes). */
  readonly #nodeIds = new Map<string, Set<string>>();
  /** Every image each cluster's prepared specs named: a roll may go back to them (rollbackImages). */
  readonly #images = new Map<string, Set<string>>();
  /** Roles whose policies a test or user replaced: prepare() never attaches generated ones to them. */
  readonly #overridden = new Set<string>();
  #transform: ((role: 'controller' | 'node', document: unknown, spec: ClusterSpec) => unknown) | null = null;
  /** Target groups made before the account had subnets: the first spec naming one puts it behind a load balancer. */
  readonly #notYetInUse = new Map<string, { readonly arn: string; readonly protocol: 'TCP' | 'HTTP'; readonly port: number }>();

  constructor(ctx: SimContext, policies: PolicySource, lockTable: string) {
    this.#ctx = ctx;
    this.#policies = policies;
    this.#lockTable = lockTable;
  }

  get accountId(): string {
    return this.#ctx.account.accountId;
  }

  get region(): string {
    return this.#ctx.account.region;
  }

  /** The role the controller (and `sim.aws`) calls as. */
  get controllerRole(): string {
    return CONTROLLER_ROLE;
  }

  /** Whether `prepare` already ran for this spec object. */
  isPrepared(spec: ClusterSpec): boolean {
    return this.#prepared.has(spec);
  }

  /** Creates what the spec needs that a real account would already have. Idempotent. */
  prepare(spec: ClusterSpec, options: PrepareOptions = {}): void {
    const { state, iam } = this.#ctx;
    if (spec.region !== this.region) {
      throw new Error(`The simulated account is in ${this.region}; cluster '${spec.name}' is in ${spec.region}. Create the simulation with { region: '${spec.region}' }.`);
    }
    // One VPC holds the spec's subnets and security groups (a subnet that exists keeps its VPC).
    const vpcId = [...state.subnets.values()].find((s) => spec.subnets.some((x) => x.id === s.id))?.vpcId ?? this.#vpc();
    for (const s of spec.subnets) {
      if (!state.subnets.has(s.id)) state.subnets.set(s.id, { id: s.id, az: s.az, cidr: s.cidr, vpcId });
    }
    ensureVpcRouting(this.#ctx, vpcId);
    for (const g of spec.securityGroupIds) {
      if (!state.securityGroups.has(g)) state.securityGroups.set(g, { id: g, vpcId, name: `sg-for-${spec.name}` });
    }
    const images = new Set([spec.image, ...spec.nodes.map((n) => n.image)]);
    for (const image of images) this.registerImage(image);
    const known = this.#images.get(spec.name) ?? new Set<string>();
    this.#images.set(spec.name, known);
    // As an operator does on AWS when rolling to a new image: the images the cluster ran before
    // stay allowed, so a failed replacement can go back (restoreLaunchTemplate).
    const rollbackImages = [...known].filter((i) => !images.has(i)).sort();
    for (const image of images) known.add(image);
    // Likewise for a smaller spec: nodes earlier specs listed keep their records in the policy
    // until they are removed (formerNodes), as an operator shrinking a cluster does.
    const nodeIds = new Set(spec.nodes.map((n) => n.id));
    const knownNodes = this.#nodeIds.get(spec.name) ?? new Set<string>();
    this.#nodeIds.set(spec.name, knownNodes);
    const formerNodes = [...knownNodes].filter((id) => !nodeIds.has(id)).sort();
    for (const id of nodeIds) knownNodes.add(id);
    if (spec.keyName !== null && !state.keyPairs.has(spec.keyName)) state.keyPairs.set(spec.keyName, { name: spec.keyName });
    for (const n of spec.nodes) if (n.dataVolume.kmsKeyId !== null) this.addKmsKey(n.dataVolume.kmsKeyId);
    if (spec.dns) this.#ctx.route53.ensureZone(spec.dns.hostedZoneId, zoneNameFor(spec));
    // The target groups the spec names, in use behind a load balancer across the spec's subnets.
    // One that is not this account's (another region, account or partition) is left to AWS's answer.
    for (const arn of spec.loadBalancer?.targetGroupArns ?? []) {
      const subnetIds = spec.subnets.map((x) => x.id);
      const waiting = this.#notYetInUse.get(arn);
      if (waiting) this.#putInUse(waiting, subnetIds);
      else if (!state.targetGroups.has(arn) && this.#ownTargetGroupArn(arn)) this.createTargetGroup({ arn, loadBalancerSubnets: subnetIds });
    }
    this.#ctx.dynamodb.ensureTable({
      TableName: this.#lockTable,
      KeySchema: [{ AttributeName: 'lockKey', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'lockKey', AttributeType: 'S' }],
    });
    iam.ensureInstanceProfile(spec.iamInstanceProfile, spec.iamInstanceProfile);
    if (options.policies !== false) {
      const generated = this.#policies(spec, { rollbackImages, ...(formerNodes.length > 0 && { formerNodes }) });
      const t = this.#transform;
      const docs = t ? { controller: t('controller', generated.controller, spec), node: t('node', generated.node, spec) } : generated;
      const key = JSON.stringify(docs);
      if (this.#attached.get(spec.name) !== key) {
        this.#attached.set(spec.name, key);
        if (!this.#overridden.has(CONTROLLER_ROLE)) iam.putRolePolicy(CONTROLLER_ROLE, `berth-${spec.name}`, docs.controller);
        if (!this.#overridden.has(spec.iamInstanceProfile)) iam.putRolePolicy(spec.iamInstanceProfile, `berth-${spec.name}-node`, docs.node);
      }
    }
    // The nodes a cluster is first created with form its membership; later ones join through addMember.
    this.#ctx.app.form(spec.name, spec.nodes.map((n) => n.id));
    this.#prepared.add(spec);
  }

  #vpc(): string {
    const existing = this.#ctx.state.vpcs.values().next();
    if (!existing.done) return existing.value.id;
    const id = this.#ctx.state.nextId('vpc');
    this.#ctx.state.vpcs.set(id, { id, cidr: '10.0.0.0/8' });
    return id;
  }

  #ownTargetGroupArn(arn: string): boolean {
    const a = this.#ctx.account;
    return arn.startsWith(`arn:${a.partition}:elasticloadbalancing:${a.region}:${a.accountId}:targetgroup/`);
  }

  /**
   * An ELBv2 target group of instances, made through the simulated ELBv2 (its rules and
   * defaults apply), with a load balancer and a listener that forward to it unless
   * `loadBalancerSubnets` is null. Returns its ARN. A spec's `loadBalancer.targetGroupArns` are
   * made by `prepare` with the defaults; make one here first, with its ARN, to set its timing.
   *
   * @example
   * ```ts
   * const arn = sim.account.createTargetGroup({ name: 'kafka', port: 9092, deregistrationDelaySec: 30 });
   * const spec = defineCluster({ ...input, loadBalancer: { targetGroupArns: [arn] } });
   * ```
   */
  createTargetGroup(options: SimTargetGroupOptions): string {
    const { state, elbv2 } = this.#ctx;
    const name = options.name ?? (options.arn === undefined ? undefined : /:targetgroup\/([^/]+)\//.exec(options.arn)?.[1]);
    if (name === undefined) throw new Error('createTargetGroup needs a name or an arn');
    const lbSubnets = options.loadBalancerSubnets;
    const firstSubnet = lbSubnets?.[0] === undefined ? undefined : state.subnets.get(lbSubnets[0]);
    const vpcId = options.vpcId ?? firstSubnet?.vpcId ?? this.#vpc();
    const protocol = options.protocol ?? 'TCP';
    const port = options.port ?? 80;
    const group = elbv2.createTargetGroup({
      name,
      protocol,
      port,
      vpcId,
      ...(options.arn !== undefined && { arn: options.arn }),
      healthCheck: {
        // A health check's timeout must be shorter than its interval: a short interval shortens it.
        ...(options.healthCheckIntervalSec !== undefined && { intervalSec: options.healthCheckIntervalSec, timeoutSec: Math.min(protocol === 'HTTP' ? 5 : 10, options.healthCheckIntervalSec - 1) }),
        ...(options.healthyThreshold !== undefined && { healthyThreshold: options.healthyThreshold }),
        ...(options.unhealthyThreshold !== undefined && { unhealthyThreshold: options.unhealthyThreshold }),
      },
    });
    if (options.deregistrationDelaySec !== undefined) elbv2.modifyAttributes(group.arn, [['deregistration_delay.timeout_seconds', String(options.deregistrationDelaySec)]]);
    if (lbSubnets !== null) {
      const subnetIds = lbSubnets ?? [...state.subnets.values()].filter((x) => x.vpcId === vpcId).map((x) => x.id);
      // No subnet yet (made before the spec that names it is prepared): prepare() puts it in use.
      if (subnetIds.length === 0) this.#notYetInUse.set(group.arn, { arn: group.arn, protocol, port });
      else this.#putInUse({ arn: group.arn, protocol, port }, subnetIds);
    }
    return group.arn;
  }

  /** A load balancer across the subnets (one per AZ) whose listener forwards to the group. */
  #putInUse(group: { readonly arn: string; readonly protocol: 'TCP' | 'HTTP'; readonly port: number }, subnetIds: readonly string[]): void {
    const { state, elbv2 } = this.#ctx;
    this.#notYetInUse.delete(group.arn);
    const perAz = new Map<string, string>();
    for (const id of subnetIds) {
      const az = state.subnets.get(id)?.az;
      if (az !== undefined && !perAz.has(az)) perAz.set(az, id);
    }
    const lb = elbv2.createLoadBalancer({
      name: `sim-lb-${group.arn.slice(-12)}`,
      type: group.protocol === 'HTTP' ? 'application' : 'network',
      scheme: 'internal',
      subnetIds: [...perAz.values()],
      securityGroups: [],
    });
    elbv2.createListener({ loadBalancerArn: lb.arn, protocol: group.protocol, port: group.port, defaultActions: [{ Type: 'forward', TargetGroupArn: group.arn }] });
  }

  /**
   * An instance launched outside Berth (EC2-9), `running` at once, with the primary network
   * interface its launch created (`ip`, DeleteOnTermination true) and a data volume from its
   * block-device mapping (`/dev/sdf`, DeleteOnTermination true, holding an xfs file system), and
   * optionally the application member it runs. What a cluster to adopt looks like
   * (`controller.adopt`, docs/adopt.md).
   *
   * @example
   * ```ts
   * sim.account.prepare(spec);
   * const old = sim.account.createUnmanagedInstance({ subnetId: 'subnet-0aaa1111', ip: '10.0.1.10', member: 'zk-1' });
   * ```
   */
  createUnmanagedInstance(options: UnmanagedInstanceOptions): UnmanagedInstance {
    return createUnmanagedInstance(this.#ctx, options);
  }

  /**
   * Gives a subnet a route table of its own whose default route (0.0.0.0/0) goes to a public
   * NAT gateway (`nat`, what `prepare` gives every subnet through the VPC's main table), a
   * private NAT gateway, the internet gateway, or nowhere (`none`: a private subnet with only
   * the local route). Returns the route table's id. Preflight reads it (VPC-1 … VPC-3).
   *
   * @example
   * ```ts
   * sim.account.prepare(spec);
   * sim.account.setSubnetRoute(spec.subnets[0].id, 'none');
   * const report = await sim.driver.preflight(spec); // names the subnet and what it cannot reach
   * ```
   */
  setSubnetRoute(subnetId: string, target: SimDefaultRoute): string {
    return setSubnetRoute(this.#ctx, subnetId, target);
  }

  /**
   * Makes a VPC endpoint (`com.amazonaws.<region>.<service>`): an interface endpoint in the
   * given subnets, with private DNS unless told otherwise, or a gateway endpoint (S3) whose route
   * goes into the given route tables (VPC-4, VPC-5). Returns its id.
   *
   * @example
   * ```ts
   * for (const service of ['ec2', 'autoscaling']) sim.account.addVpcEndpoint({ service });
   * sim.account.addVpcEndpoint({ service: 's3', type: 'Gateway' });
   * ```
   */
  addVpcEndpoint(options: SimVpcEndpointOptions): string {
    return addVpcEndpoint(this.#ctx, options);
  }

  /**
   * Puts an SSM parameter (SecureString under the AWS managed key unless told otherwise; a new
   * version when it exists), as the user does before a spec names it in
   * `bootstrap.files[].source.ssm`. Returns its version.
   *
   * @example
   * ```ts
   * sim.account.putParameter('/kafka/jaas.conf', 'KafkaServer { ... };');
   * ```
   */
  putParameter(name: string, value: string, options: SimPutParameterOptions = {}): number {
    return putParameter(this.#ctx, name, value, options);
  }

  /**
   * Puts an S3 object at `s3://bucket/key` (the bucket is made, versioned when asked). Returns
   * its version id, or null in an unversioned bucket.
   *
   * @example
   * ```ts
   * const versionId = sim.account.putObject('s3://config/kafka/server.properties', text, { versioned: true });
   * ```
   */
  putObject(uri: string, body: string | Uint8Array, options: { readonly versioned?: boolean } = {}): string | null {
    return putObject(this.#ctx, uri, body, options);
  }

  /** An AMI in the account (root device `/dev/xvda` unless given). */
  registerImage(imageId: string, options: { rootDeviceName?: string; name?: string } = {}): void {
    if (this.#ctx.state.images.has(imageId)) return;
    this.#ctx.state.images.set(imageId, { id: imageId, name: options.name ?? `image ${imageId}`, rootDeviceName: options.rootDeviceName ?? '/dev/xvda', state: 'available' });
  }

  /**
   * A quota increase AWS granted the account: the most Auto Scaling groups the region holds
   * (default 500, QUOTA-1: `LimitExceeded` past it). A cluster of more than 500 nodes needs one.
   */
  setGroupQuota(groups: number): void {
    if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`setGroupQuota: groups must be a positive integer, got ${groups}`);
    this.#ctx.state.groupQuota = groups;
  }

  /** A customer managed KMS key, by key id, ARN or alias. */
  addKmsKey(idOrArnOrAlias: string): void {
    const { state } = this.#ctx;
    if (state.kmsKey(idOrArnOrAlias)) return;
    const a = this.#ctx.account;
    const arnMatch = /^arn:[^:]+:kms:[^:]+:[^:]+:key\/(.+)$/.exec(idOrArnOrAlias);
    const id = arnMatch?.[1] ?? (idOrArnOrAlias.startsWith('alias/') ? `${state.nextId('key', 8).slice(4)}-0000-4000-8000-000000000000` : idOrArnOrAlias);
    const arn = arnMatch ? idOrArnOrAlias : `arn:${a.partition}:kms:${a.region}:${a.accountId}:key/${id}`;
    state.kmsKeys.set(id, { id, arn, aliases: idOrArnOrAlias.startsWith('alias/') ? [idOrArnOrAlias] : [] });
  }

  /**
   * Changes the generated policies before `prepare` attaches them (for every spec, now and
   * later): e.g. drop one action to see what fails without it. Re-attaches for specs already
   * prepared.
   */
  transformPolicies(fn: (role: 'controller' | 'node', document: unknown, spec: ClusterSpec) => unknown): void {
    this.#transform = fn;
    this.#attached.clear();
  }

  /** Replaces every policy of the controller's role with `document` (null: no policy at all). */
  setControllerPolicy(document: unknown | null): void {
    this.setRolePolicies(CONTROLLER_ROLE, document === null ? {} : { custom: document });
  }

  /** Replaces every inline policy of a role. */
  setRolePolicies(roleName: string, policies: Readonly<Record<string, unknown>>): void {
    const role = this.#ctx.iam.ensureRole(roleName);
    for (const name of [...role.policies.keys()]) this.#ctx.iam.putRolePolicy(roleName, name, null);
    for (const [name, doc] of Object.entries(policies)) this.#ctx.iam.putRolePolicy(roleName, name, doc);
    // A later prepare() must not silently put the generated policies back.
    this.#overridden.add(roleName);
  }

  /** Every request IAM denied so far, in order: who, which action, on which resource. */
  iamDenials(): readonly { readonly atMs: number; readonly principalArn: string; readonly action: string; readonly resource: string; readonly explicit: boolean }[] {
    return [...this.#ctx.iam.denials];
  }

  /** The inline policies of a role (copies). */
  rolePolicies(roleName: string): Record<string, unknown> {
    const role = this.#ctx.iam.roles.get(roleName);
    return role ? Object.fromEntries([...role.policies].map(([k, v]) => [k, structuredClone(v)])) : {};
  }
}

/** The hosted zone a spec's records live in: the cluster record's parent domain (or the longest suffix all names share). */
export function zoneNameFor(spec: ClusterSpec): string {
  const dns = spec.dns;
  if (!dns) return '';
  const names = [dns.clusterRecord, ...spec.nodes.map((n) => nodeRecordName(dns, n.id))].map((n) => n.replace(/\.$/, '').toLowerCase().split('.').reverse());
  const first = names[0] as string[];
  let common = 0;
  while (common < first.length && names.every((n) => n[common] === first[common])) common++;
  // The zone is above every record: at most the cluster record's parent.
  const labels = first.slice(0, Math.min(common, first.length - 1));
  return labels.reverse().join('.');
}
