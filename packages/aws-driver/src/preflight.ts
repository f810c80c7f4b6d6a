import { DescribeAccountLimitsCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateNetworkInterfaceCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  DescribeKeyPairsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeSubnetsCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { GetHostedZoneCommand } from '@aws-sdk/client-route-53';
import { BerthConfigError, BerthDriverError, computeRevision, nodeRecordName, type ClusterSpec } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { isAwsCode } from './map-aws-error.js';
import { groupName, normalizeDnsName, TAG, tagsToRecord } from './names.js';
import { DEFAULT_ROOT_DEVICE_NAME, dataVolumeRequest, networkInterfaceRequest, runInstancesRequest } from './node-requests.js';
import { checkUserDataFits } from './user-data.js';
import { nodeApis } from './node-apis.js';
import { unreachableApis } from './subnet-reachability.js';
import { missingFileSources } from './file-source-check.js';

/** One thing that would make provisioning or a roll fail. */
export interface PreflightProblem {
  /** Which check found it, e.g. `subnets`, `ips`, `permissions`. */
  readonly check: string;
  /** The spec path concerned, e.g. `nodes[2].ip`, or '' for the account. */
  readonly path: string;
  readonly message: string;
}

export interface PreflightReport {
  readonly ok: boolean;
  readonly problems: readonly PreflightProblem[];
  /** Checks that ran. */
  readonly checked: readonly string[];
  /** Checks that could not run here, with why (e.g. the endpoint does not implement the API). */
  readonly skipped: readonly { readonly check: string; readonly reason: string }[];
}


/**
 * Checks the account against the spec and reports every problem at once: subnets exist with
 * the spec's AZ and CIDR, the nodes' IPs are free (or held by this node's own ENI), security
 * groups, images, key pair, snapshots and the instance type exist, each node subnet reaches the
 * APIs the node bootstrap calls (a NAT route or VPC endpoints; see `unreachableApis`), (and the type is offered in
 * each node's AZ), user data fits in 16 KB, the hosted zone exists, the Auto Scaling group
 * quota has room for the nodes not yet provisioned, and EC2 permissions (DryRun of the first
 * node's CreateNetworkInterface, CreateVolume and launch, built by the same functions as
 * ensureNode's requests, tags and security groups included, since IAM judges a dry run by what
 * it carries). Makes no change. Auto Scaling, Route 53, IAM (instance profile) and KMS
 * permissions cannot be checked with DryRun and are listed under `skipped`.
 */
export async function preflight(ctx: AwsContext, spec: ClusterSpec, signal?: AbortSignal): Promise<PreflightReport> {
  const problems: PreflightProblem[] = [];
  const checked: string[] = [];
  const skipped: { check: string; reason: string }[] = [];
  const add = (check: string, path: string, message: string) => problems.push({ check, path, message });
  const run = async (check: string, fn: () => Promise<void>) => {
    try {
      await fn();
      checked.push(check);
    } catch (err) {
      if (err instanceof BerthDriverError && (err.awsCode === 'NotImplemented' || /^Http5\d\d$/.test(err.awsCode) || err.awsCode === 'InternalFailure' || err.awsCode === 'InternalError')) {
        skipped.push({ check, reason: `${err.operation} is not available on this endpoint (${err.awsCode})` });
      } else if (err instanceof BerthDriverError && (err.awsCode === 'UnauthorizedOperation' || err.awsCode === 'AccessDenied' || err.awsCode === 'AccessDeniedException')) {
        add(check, '', `not allowed to call ${err.operation}: ${err.message}`);
      } else {
        throw err;
      }
    }
  };

  if (spec.region !== ctx.config.region) add('region', 'region', `the spec is for ${spec.region} but the driver was created for ${ctx.config.region}`);

  await run('subnets', async () => {
    const r = await ctx.call('DescribeSubnets', (abortSignal) =>
      ctx.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'subnet-id', Values: spec.subnets.map((s) => s.id) }] }), { abortSignal }),
    { signal });
    const found = new Map((r.Subnets ?? []).map((s) => [s.SubnetId ?? '', s]));
    spec.subnets.forEach((s, i) => {
      const real = found.get(s.id);
      if (!real) return void add('subnets', `subnets[${i}].id`, `subnet ${s.id} does not exist in ${ctx.config.region} (or is not visible to these credentials)`);
      if (real.AvailabilityZone !== s.az) add('subnets', `subnets[${i}].az`, `subnet ${s.id} is in ${real.AvailabilityZone}, not ${s.az}; fix the spec`);
      if (real.CidrBlock !== s.cidr) add('subnets', `subnets[${i}].cidr`, `subnet ${s.id} has CIDR ${real.CidrBlock}, not ${s.cidr}; fix the spec`);
    });
  });

  await run('ips', async () => {
    const r = await ctx.call('DescribeNetworkInterfaces', (abortSignal) =>
      ctx.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'addresses.private-ip-address', Values: spec.nodes.map((n) => n.ip) }] }), { abortSignal }),
    { signal });
    spec.nodes.forEach((n, i) => {
      for (const eni of r.NetworkInterfaces ?? []) {
        const ips = (eni.PrivateIpAddresses ?? []).map((a) => a.PrivateIpAddress);
        if (!ips.includes(n.ip) && eni.PrivateIpAddress !== n.ip) continue;
        if (eni.SubnetId !== n.subnetId) continue;
        const tags = tagsToRecord(eni.TagSet);
        if (tags[TAG.cluster] === spec.name && tags[TAG.node] === n.id) continue; // its own ENI
        add('ips', `nodes[${i}].ip`, `IP ${n.ip} of node ${n.id} is already used by ${eni.NetworkInterfaceId} (${eni.Description || eni.InterfaceType || 'no description'}); pick a free address`);
      }
    });
  });

  await run('security-groups', async () => {
    const r = await ctx.call('DescribeSecurityGroups', (abortSignal) =>
      ctx.ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-id', Values: [...spec.securityGroupIds] }] }), { abortSignal }),
    { signal });
    const found = new Map((r.SecurityGroups ?? []).map((g) => [g.GroupId ?? '', g]));
    const vpcs = new Set((r.SecurityGroups ?? []).map((g) => g.VpcId));
    spec.securityGroupIds.forEach((id, i) => {
      if (!found.has(id)) add('security-groups', `securityGroupIds[${i}]`, `security group ${id} does not exist in ${ctx.config.region}`);
    });
    if (vpcs.size > 1) add('security-groups', 'securityGroupIds', `the security groups are in different VPCs (${[...vpcs].join(', ')}); an ENI takes groups of its own VPC only`);
  });

  // VPC-1 … VPC-5: every node subnet reaches the APIs its bootstrap calls (a NAT route or VPC endpoints).
  await run('network', async () => {
    for (const u of await unreachableApis(ctx, spec, nodeApis(spec), signal)) add('network', u.path, u.message);
  });

  // bootstrap.files[].source: every parameter and object is there (no value is read).
  if (spec.bootstrap.files.some((f) => f.source !== undefined)) {
    await run('file-sources', async () => {
      try {
        for (const m of await missingFileSources(ctx, spec, signal)) add('file-sources', m.path, m.message);
      } catch (err) {
        if (isAwsCode(err, 'NoSuchBucket')) add('file-sources', 'bootstrap.files', `a file's S3 bucket does not exist: ${(err as Error).message}`);
        else throw err;
      }
    });
  }

  const images = [...new Set(spec.nodes.map((n) => n.image).concat(spec.image))];
  const rootDeviceNames = new Map<string, string>();
  await run('images', async () => {
    const r = await ctx.call('DescribeImages', (abortSignal) => ctx.ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'image-id', Values: images }] }), { abortSignal }), { signal });
    const found = new Map((r.Images ?? []).map((im) => [im.ImageId ?? '', im]));
    for (const im of found.values()) if (im.ImageId && im.RootDeviceName) rootDeviceNames.set(im.ImageId, im.RootDeviceName);
    for (const id of images) {
      const im = found.get(id);
      const where = id === spec.image ? 'image' : `nodes[${spec.nodes.findIndex((n) => n.image === id)}].image`;
      if (!im) add('images', where, `image ${id} does not exist in ${ctx.config.region} or is not shared with this account`);
      else if (im.State && im.State !== 'available') add('images', where, `image ${id} is ${im.State}, not available`);
    }
  });

  await run('instance-type', async () => {
    const r = await ctx.call('DescribeInstanceTypes', (abortSignal) =>
      ctx.ec2.send(new DescribeInstanceTypesCommand({ Filters: [{ Name: 'instance-type', Values: [spec.instanceType] }] }), { abortSignal }),
    { signal });
    const it = r.InstanceTypes?.[0];
    if (!it) {
      add('instance-type', 'instanceType', `instance type ${spec.instanceType} does not exist in ${ctx.config.region}`);
      return;
    }
    if ((it.NetworkInfo?.MaximumNetworkInterfaces ?? 1) < 1) add('instance-type', 'instanceType', `${spec.instanceType} takes no network interface`);
    const encrypted = spec.rootVolume.encrypted || spec.nodes.some((n) => n.dataVolume.encrypted);
    if (encrypted && it.EbsInfo?.EncryptionSupport === 'unsupported') add('instance-type', 'instanceType', `${spec.instanceType} does not support encrypted EBS volumes`);
    const offers = await ctx.call('DescribeInstanceTypeOfferings', (abortSignal) =>
      ctx.ec2.send(
        new DescribeInstanceTypeOfferingsCommand({ LocationType: 'availability-zone', Filters: [{ Name: 'instance-type', Values: [spec.instanceType] }] }),
        { abortSignal },
      ),
    { signal });
    const azs = new Set((offers.InstanceTypeOfferings ?? []).map((o) => o.Location));
    if (azs.size > 0) {
      for (const az of new Set(spec.nodes.map((n) => n.az))) {
        if (!azs.has(az)) add('instance-type', 'instanceType', `${spec.instanceType} is not offered in ${az}`);
      }
    }
  });

  if (spec.keyName !== null) {
    const keyName = spec.keyName;
    await run('key-pair', async () => {
      const r = await ctx.call('DescribeKeyPairs', (abortSignal) => ctx.ec2.send(new DescribeKeyPairsCommand({ Filters: [{ Name: 'key-name', Values: [keyName] }] }), { abortSignal }), { signal });
      if ((r.KeyPairs ?? []).length === 0) add('key-pair', 'keyName', `key pair ${keyName} does not exist in ${ctx.config.region}`);
    });
  }

  const snapshots = [...new Set(spec.nodes.map((n) => n.dataVolume.snapshotId).filter((s): s is string => s !== null))];
  if (snapshots.length > 0) {
    await run('snapshots', async () => {
      const r = await ctx.call('DescribeSnapshots', (abortSignal) => ctx.ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'snapshot-id', Values: snapshots }] }), { abortSignal }), { signal });
      const found = new Map((r.Snapshots ?? []).map((s) => [s.SnapshotId ?? '', s]));
      spec.nodes.forEach((n, i) => {
        const id = n.dataVolume.snapshotId;
        if (id === null) return;
        const s = found.get(id);
        if (!s) add('snapshots', `nodes[${i}].dataVolume.snapshotId`, `snapshot ${id} does not exist or is not shared with this account`);
        else if ((s.VolumeSize ?? 0) > n.dataVolume.sizeGiB) add('snapshots', `nodes[${i}].dataVolume.sizeGiB`, `snapshot ${id} is ${s.VolumeSize} GiB; the volume must be at least that`);
      });
    });
  }

  checked.push('user-data');
  try {
    // Once per spec: the longest node id with a worst-case revision, gzip margin included.
    checkUserDataFits(spec);
  } catch (err) {
    if (err instanceof BerthConfigError) for (const issue of err.issues) add('user-data', issue.path, issue.message);
    else throw err;
  }

  if (spec.dns) {
    const dns = spec.dns;
    await run('hosted-zone', async () => {
      try {
        const r = await ctx.call('GetHostedZone', (abortSignal) => ctx.r53.send(new GetHostedZoneCommand({ Id: dns.hostedZoneId }), { abortSignal }), { signal });
        const zone = normalizeDnsName(r.HostedZone?.Name ?? '');
        const names = [dns.clusterRecord, ...spec.nodes.map((n) => nodeRecordName(dns, n.id))].map(normalizeDnsName);
        for (const name of names) {
          if (name !== zone && !name.endsWith(`.${zone}`)) add('hosted-zone', 'dns', `record ${name} is not inside hosted zone ${zone} (${dns.hostedZoneId})`);
        }
      } catch (err) {
        if (isAwsCode(err, 'NoSuchHostedZone')) add('hosted-zone', 'dns.hostedZoneId', `hosted zone ${dns.hostedZoneId} does not exist`);
        else throw err;
      }
    });
  }

  await run('auto-scaling-quota', async () => {
    const limits = await ctx.call('DescribeAccountLimits', (abortSignal) => ctx.asg.send(new DescribeAccountLimitsCommand({}), { abortSignal }), { signal });
    const ours = new Set<string>();
    let NextToken: string | undefined;
    do {
      const page = await ctx.call('DescribeAutoScalingGroups', (abortSignal) =>
        ctx.asg.send(new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: `tag:${TAG.cluster}`, Values: [spec.name] }], MaxRecords: 100, NextToken }), { abortSignal }),
      { signal });
      for (const g of page.AutoScalingGroups ?? []) ours.add(g.AutoScalingGroupName ?? '');
      NextToken = page.NextToken;
    } while (NextToken);
    const missing = spec.nodes.filter((n) => !ours.has(groupName(spec.name, n.id))).length;
    const room = (limits.MaxNumberOfAutoScalingGroups ?? Infinity) - (limits.NumberOfAutoScalingGroups ?? 0);
    if (missing > room) {
      add('auto-scaling-quota', 'nodes', `${missing} nodes need a new Auto Scaling group but the account has room for ${room} (quota ${limits.MaxNumberOfAutoScalingGroups}); request a quota increase`);
    }
  });

  await run('permissions', async () => {
    const n = spec.nodes[0];
    if (!n) return;
    const dry = async (operation: string, send: (abortSignal: AbortSignal | undefined) => Promise<unknown>) => {
      try {
        await ctx.call(operation, send, { signal });
        add('permissions', '', `${operation} with DryRun succeeded without the DryRunOperation answer; the endpoint may not honour DryRun`);
      } catch (err) {
        if (isAwsCode(err, 'DryRunOperation')) return;
        // Authorised; the 'ips' check reports whose interface holds the address.
        if (operation === 'CreateNetworkInterface' && isAwsCode(err, 'InvalidIPAddress.InUse')) return;
        if (isAwsCode(err, 'UnauthorizedOperation')) add('permissions', '', `not allowed to ${operation} (DryRun answered UnauthorizedOperation); see iamPolicyFor(spec).controller`);
        else if (err instanceof BerthDriverError && err.awsCode !== 'NotImplemented') add('permissions', '', `${operation} (DryRun) failed: ${err.message}`);
        else throw err;
      }
    };
    // The requests ensureNode sends (same builders), so that the policy's aws:RequestTag and
    // resource conditions judge them as they will judge the real ones.
    await dry('CreateNetworkInterface', (abortSignal) =>
      ctx.ec2.send(new CreateNetworkInterfaceCommand({ ...networkInterfaceRequest(spec, n), DryRun: true }), { abortSignal }),
    );
    await dry('CreateVolume', (abortSignal) => ctx.ec2.send(new CreateVolumeCommand({ ...dataVolumeRequest(spec, n), DryRun: true }), { abortSignal }));
    // What the group does with the node's template, on the caller's permissions.
    const rootDeviceName = rootDeviceNames.get(n.image) ?? DEFAULT_ROOT_DEVICE_NAME;
    await dry('RunInstances', (abortSignal) =>
      ctx.ec2.send(new RunInstancesCommand({ ...runInstancesRequest(spec, n, computeRevision(spec, n.id), rootDeviceName), DryRun: true }), { abortSignal }),
    );
  });
  skipped.push(
    { check: 'auto-scaling-permissions', reason: 'Auto Scaling has no DryRun; use IAM policy simulation with iamPolicyFor(spec).controller' },
    { check: 'route53-permissions', reason: 'Route 53 has no DryRun' },
    { check: 'instance-profile', reason: "its role's policy needs IAM, which this driver does not call (a missing profile fails the RunInstances DryRun)" },
    { check: 'kms-key', reason: 'needs KMS (kms:DescribeKey), which this driver does not call' },
    { check: 'endpoint-security-groups', reason: "a VPC endpoint's security groups must allow HTTPS (443) from the nodes; their rules are not read" },
    { check: 'launch-template-quota', reason: 'EC2 exposes no API for it (Service Quotas does)' },
  );
  return Object.freeze({ ok: problems.length === 0, problems: Object.freeze(problems), checked: Object.freeze(checked), skipped: Object.freeze(skipped) });
}

/** Throws a BerthConfigError listing every problem of the report (for scripts that want to stop). */
export function assertPreflight(report: PreflightReport): void {
  if (!report.ok) throw new BerthConfigError(report.problems.map((p) => ({ path: p.path || p.check, message: `[${p.check}] ${p.message}` })), 'AWS account state (preflight)');
}
