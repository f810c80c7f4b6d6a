// How IAM authorizes the EC2 operations the simulator answers: actions, resource ARNs and
// condition keys from the Service Authorization Reference,
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
// Tag-on-create: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html
// ("Grant permission to tag Amazon EC2 resources during creation": a create with
// TagSpecifications also needs ec2:CreateTags on the new resource, with ec2:CreateAction).
// Dry runs are authorized exactly like real requests (EC2 API Reference, "DryRun").

import type { SimEni, SimImage, SimInstance, SimLaunchTemplate, SimSecurityGroup, SimSnapshot, SimSubnet, SimVolume } from '../../world/entities.js';
import type { AuthorizationCheck, Authorizer, ServiceContext } from '../service.js';
import {
  bool,
  check,
  kmsOnBehalfOfEc2,
  merge,
  num,
  obj,
  objs,
  passInstanceRole,
  regionalArn,
  requestTagKeys,
  resourceTagKeys,
  str,
  strs,
  tagList,
  type Context,
  type Input,
} from './authorize-common.js';

// ---- ARNs and the condition keys of each resource type -------------------------------------

export function ec2Arn(ctx: ServiceContext, type: string, id: string): string {
  // Images and snapshots have no account in their ARN (resource types `image`, `snapshot`).
  if (type === 'image' || type === 'snapshot') return `arn:${ctx.partition}:ec2:${ctx.region}::${type}/${id}`;
  return regionalArn(ctx, 'ec2', `${type}/${id}`);
}

/** `ec2:Region`, which every EC2 action lists. */
function base(ctx: ServiceContext): Context {
  return { 'ec2:Region': ctx.region };
}

function vpcArn(ctx: ServiceContext, vpcId: string): string {
  return ec2Arn(ctx, 'vpc', vpcId);
}

function instanceContext(ctx: ServiceContext, i: SimInstance): Context {
  const profile = i.iamInstanceProfile === null ? undefined : ctx.sim.iam.instanceProfiles.get(i.iamInstanceProfile);
  const out = resourceTagKeys(i.tags, 'ec2');
  out['ec2:Region'] = ctx.region;
  out['ec2:InstanceID'] = i.id;
  out['ec2:InstanceType'] = i.instanceType;
  out['ec2:AvailabilityZone'] = i.az;
  out['ec2:RootDeviceType'] = 'ebs';
  out['ec2:Tenancy'] = 'default';
  out['ec2:InstanceMarketType'] = i.spot ? 'spot' : 'on-demand';
  out['ec2:MetadataHttpTokens'] = i.metadataOptions.httpTokens;
  out['ec2:MetadataHttpPutResponseHopLimit'] = String(i.metadataOptions.httpPutResponseHopLimit);
  out['ec2:MetadataHttpEndpoint'] = i.metadataOptions.httpEndpoint;
  if (profile) out['ec2:InstanceProfile'] = profile.arn;
  return out;
}

function volumeContext(ctx: ServiceContext, v: SimVolume): Context {
  return merge(
    base(ctx),
    resourceTagKeys(v.tags, 'ec2'),
    {
      'ec2:VolumeID': v.id,
      'ec2:AvailabilityZone': v.az,
      'ec2:Encrypted': String(v.encrypted),
      'ec2:VolumeSize': String(v.sizeGiB),
      'ec2:VolumeType': v.type,
    },
    v.iops !== null && { 'ec2:VolumeIops': String(v.iops) },
    v.throughputMiBps !== null && { 'ec2:VolumeThroughput': String(v.throughputMiBps) },
    v.snapshotId !== null && { 'ec2:ParentSnapshot': ec2Arn(ctx, 'snapshot', v.snapshotId) },
  );
}

function eniContext(ctx: ServiceContext, e: SimEni): Context {
  return merge(
    base(ctx),
    resourceTagKeys(e.tags, 'ec2'),
    { 'ec2:NetworkInterfaceID': e.id, 'ec2:AvailabilityZone': e.az, 'ec2:Subnet': ec2Arn(ctx, 'subnet', e.subnetId), 'ec2:Vpc': vpcArn(ctx, e.vpcId) },
  );
}

function subnetContext(ctx: ServiceContext, id: string, s: SimSubnet | undefined): Context {
  return merge(base(ctx), { 'ec2:SubnetID': id }, s && { 'ec2:AvailabilityZone': s.az, 'ec2:Vpc': vpcArn(ctx, s.vpcId) });
}

function securityGroupContext(ctx: ServiceContext, id: string, g: SimSecurityGroup | undefined): Context {
  return merge(base(ctx), { 'ec2:SecurityGroupID': id }, g && { 'ec2:Vpc': vpcArn(ctx, g.vpcId) });
}

function snapshotContext(ctx: ServiceContext, s: SimSnapshot): Context {
  return merge(
    base(ctx),
    resourceTagKeys(s.tags, 'ec2'),
    {
      'ec2:SnapshotID': s.id,
      'ec2:VolumeSize': String(s.sizeGiB),
      'ec2:Encrypted': String(s.encrypted),
      'ec2:ParentVolume': ec2Arn(ctx, 'volume', s.volumeId),
      'ec2:Owner': ctx.accountId,
    },
  );
}

function imageContext(ctx: ServiceContext, id: string, _i: SimImage | undefined): Context {
  return merge(base(ctx), { 'ec2:ImageID': id, 'ec2:ImageType': 'machine', 'ec2:RootDeviceType': 'ebs', 'ec2:Public': 'false' });
}

function launchTemplateContext(ctx: ServiceContext, lt: SimLaunchTemplate | undefined): Context {
  return merge(base(ctx), lt && resourceTagKeys(lt.tags, 'ec2'));
}

/** An existing resource named by its id (CreateTags, DeleteTags): its ARN and its current keys. */
function resourceById(ctx: ServiceContext, id: string): { arn: string; context: Context } {
  const { state } = ctx.sim;
  const prefix = id.slice(0, id.indexOf('-'));
  switch (prefix) {
    case 'i': {
      const i = state.instances.get(id);
      return { arn: ec2Arn(ctx, 'instance', id), context: i ? instanceContext(ctx, i) : base(ctx) };
    }
    case 'vol': {
      const v = state.volumes.get(id);
      return { arn: ec2Arn(ctx, 'volume', id), context: v ? volumeContext(ctx, v) : base(ctx) };
    }
    case 'eni': {
      const e = state.enis.get(id);
      return { arn: ec2Arn(ctx, 'network-interface', id), context: e ? eniContext(ctx, e) : base(ctx) };
    }
    case 'snap': {
      const s = state.snapshots.get(id);
      return { arn: ec2Arn(ctx, 'snapshot', id), context: s ? snapshotContext(ctx, s) : base(ctx) };
    }
    case 'lt':
      return { arn: ec2Arn(ctx, 'launch-template', id), context: launchTemplateContext(ctx, state.launchTemplates.get(id)) };
    case 'ami':
      return { arn: ec2Arn(ctx, 'image', id), context: imageContext(ctx, id, state.images.get(id)) };
    case 'subnet':
      return { arn: ec2Arn(ctx, 'subnet', id), context: subnetContext(ctx, id, state.subnets.get(id)) };
    case 'sg':
      return { arn: ec2Arn(ctx, 'security-group', id), context: securityGroupContext(ctx, id, state.securityGroups.get(id)) };
    case 'vpc':
      return { arn: vpcArn(ctx, id), context: base(ctx) };
    default:
      // Unknown to the simulated account: authorized as an instance would be named, without tags.
      return { arn: ec2Arn(ctx, 'instance', id), context: base(ctx) };
  }
}

// ---- request pieces -------------------------------------------------------------------------

/** The tags TagSpecifications give one resource type (entries of one type merge). */
function specTags(input: Input, resourceType: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of objs(input, 'TagSpecifications')) if (str(s, 'ResourceType') === resourceType) Object.assign(out, tagList(objs(s, 'Tags')));
  return out;
}

/** The implicit `ec2:CreateTags` of a create that carries tags for `resourceType`. */
function tagOnCreate(ctx: ServiceContext, createAction: string, type: string, tags: Readonly<Record<string, string>>): AuthorizationCheck[] {
  if (Object.keys(tags).length === 0) return [];
  return [check('ec2:CreateTags', ec2Arn(ctx, type, '*'), merge(base(ctx), { 'ec2:CreateAction': createAction }, requestTagKeys(tags)))];
}

function describe(action: string): Authorizer {
  return (_input, ctx) => [check(`ec2:${action}`, '*', base(ctx))];
}

function one(action: string, field: string, type: 'network-interface' | 'volume' | 'launch-template' | 'snapshot'): Authorizer {
  return (input, ctx) => {
    const id = str(input, field);
    if (id === null) return [check(`ec2:${action}`, ec2Arn(ctx, type, '*'), base(ctx))];
    const r = resourceById(ctx, id);
    return [check(`ec2:${action}`, ec2Arn(ctx, type, id), r.context)];
  };
}

// ---- launch templates and RunInstances --------------------------------------------------------

/** A launch template by `LaunchTemplateId` or `LaunchTemplateName`, as EC2 and Auto Scaling name it. */
export function findLaunchTemplate(ctx: ServiceContext, ref: Input): SimLaunchTemplate | undefined {
  const id = str(ref, 'LaunchTemplateId');
  const name = str(ref, 'LaunchTemplateName');
  const { launchTemplates } = ctx.sim.state;
  if (id !== null) {
    const lt = launchTemplates.get(id);
    return lt && !lt.deleted ? lt : undefined;
  }
  if (name !== null) for (const lt of launchTemplates.values()) if (lt.name === name && !lt.deleted) return lt;
  return undefined;
}

/** A version's data: a number, `$Latest` or `$Default` (default). */
export function launchTemplateData(lt: SimLaunchTemplate, version: string | null): Input | undefined {
  const v = version ?? '$Default';
  const n = v === '$Latest' ? lt.versions.length : v === '$Default' ? lt.defaultVersion : /^\d+$/.test(v) ? Number(v) : NaN;
  const found = lt.versions[n - 1];
  return found ? (found.data as Input) : undefined;
}

export interface RunInstancesContextOptions {
  /** The launch template the parameters come from (RunInstances with LaunchTemplate, or an Auto Scaling group). */
  readonly launchTemplate?: SimLaunchTemplate;
  /** The template's data: the request's own fields override it. */
  readonly templateData?: Input;
  /** An Auto Scaling group's subnets (VPCZoneIdentifier): the launch may use any of them. */
  readonly groupSubnets?: readonly string[];
  /** The group's Availability Zones (a template with an existing interface: the interface's AZ). */
  readonly groupAzs?: readonly string[];
}

/**
 * The authorizations of a RunInstances (EC2 User Guide, "Launch instances (RunInstances)" IAM
 * examples; SAR `RunInstances`): ec2:RunInstances on the new instance (`instance/*`, with its
 * request tags and launch parameters), the image, every network interface (an existing one by
 * its ARN, a new one as `network-interface/*` with its subnet and security groups), the
 * volumes it creates (`volume/*`), the key pair, snapshots the block devices name, and the
 * launch template; ec2:CreateTags with `ec2:CreateAction=RunInstances` for the tags it puts on
 * each resource type; iam:PassRole for the instance profile. Resources the template names
 * carry `ec2:IsLaunchTemplateResource=true` and every check `ec2:LaunchTemplate`.
 *
 * Stricter reading (noted): with an existing interface, the interface's own subnet and security
 * groups are authorized too, and a group's launch is checked against each of its subnets.
 */
export function runInstancesChecks(ctx: ServiceContext, request: Input, options: RunInstancesContextOptions = {}): AuthorizationCheck[] {
  const { state } = ctx.sim;
  const t = options.templateData ?? {};
  const lt = options.launchTemplate;
  const field = <T>(name: string, read: (i: Input, f: string) => T | null): { value: T | null; fromTemplate: boolean } => {
    const own = read(request, name);
    if (own !== null) return { value: own, fromTemplate: false };
    const fromT = read(t, name);
    return { value: fromT, fromTemplate: fromT !== null };
  };
  const ltKeys = (fromTemplate: boolean): Context =>
    lt ? { 'ec2:LaunchTemplate': ec2Arn(ctx, 'launch-template', lt.id), 'ec2:IsLaunchTemplateResource': String(fromTemplate) } : {};
  const listField = (name: string): { value: Input[]; fromTemplate: boolean } => {
    const own = objs(request, name);
    if (own.length > 0) return { value: own, fromTemplate: false };
    const fromT = objs(t, name);
    return { value: fromT, fromTemplate: fromT.length > 0 };
  };
  const tagSpecs = objs(request, 'TagSpecifications').length > 0 ? request : t;
  const tagsFor = (type: string) => specTags(tagSpecs, type);
  const out: AuthorizationCheck[] = [];

  // The network: device index 0 (an existing interface, or a new one in a subnet).
  const nics = listField('NetworkInterfaces');
  const primary = nics.value.find((n) => (num(n, 'DeviceIndex') ?? 0) === 0);
  const existingEniId = primary ? str(primary, 'NetworkInterfaceId') : null;
  const existingEni = existingEniId !== null ? state.enis.get(existingEniId) : undefined;
  const subnetField = field('SubnetId', str);
  let subnets: { id: string; fromTemplate: boolean }[] = [];
  const nicSubnet = primary ? str(primary, 'SubnetId') : null;
  if (existingEni) subnets = [{ id: existingEni.subnetId, fromTemplate: nics.fromTemplate }];
  else if (nicSubnet !== null) subnets = [{ id: nicSubnet, fromTemplate: nics.fromTemplate }];
  else if (subnetField.value !== null) subnets = [{ id: subnetField.value, fromTemplate: subnetField.fromTemplate }];
  else if (options.groupSubnets && options.groupSubnets.length > 0) subnets = options.groupSubnets.map((id) => ({ id, fromTemplate: false }));
  const firstSubnet = subnets[0] ? state.subnets.get(subnets[0].id) : undefined;
  const az = existingEni?.az ?? firstSubnet?.az ?? str(obj(request, 'Placement') ?? obj(t, 'Placement') ?? {}, 'AvailabilityZone') ?? options.groupAzs?.[0] ?? null;

  let groups: { ids: string[]; fromTemplate: boolean };
  if (existingEni) groups = { ids: [...existingEni.securityGroupIds], fromTemplate: nics.fromTemplate };
  else if (primary && strs(primary, 'Groups').length > 0) groups = { ids: strs(primary, 'Groups'), fromTemplate: nics.fromTemplate };
  else {
    const sg = field('SecurityGroupIds', (i, f) => (strs(i, f).length > 0 ? strs(i, f) : null));
    groups = { ids: sg.value ?? [], fromTemplate: sg.fromTemplate };
  }
  if (groups.ids.length === 0) {
    // No group named: the VPC's default group (EC2 User Guide, "Default security groups").
    const vpcId = firstSubnet?.vpcId;
    const dflt = vpcId === undefined ? undefined : [...state.securityGroups.values()].find((g) => g.vpcId === vpcId && g.name === 'default');
    if (dflt) groups = { ids: [dflt.id], fromTemplate: false };
  }

  // The instance.
  const instanceType = field('InstanceType', str);
  const metadata = obj(request, 'MetadataOptions') ?? obj(t, 'MetadataOptions') ?? {};
  const profileField = obj(request, 'IamInstanceProfile') ?? obj(t, 'IamInstanceProfile');
  const profileArn = profileField === null ? null : (str(profileField, 'Arn') ?? ctx.sim.iam.instanceProfiles.get(str(profileField, 'Name') ?? '')?.arn ?? null);
  const market = str(obj(request, 'InstanceMarketOptions') ?? obj(t, 'InstanceMarketOptions') ?? {}, 'MarketType');
  const placement = obj(request, 'Placement') ?? obj(t, 'Placement') ?? {};
  out.push(
    check('ec2:RunInstances', ec2Arn(ctx, 'instance', '*'), merge(
      base(ctx),
      ltKeys(false),
      requestTagKeys(tagsFor('instance')),
      instanceType.value !== null && { 'ec2:InstanceType': instanceType.value },
      az !== null && { 'ec2:AvailabilityZone': az },
      profileArn !== null && { 'ec2:InstanceProfile': profileArn },
      {
        'ec2:MetadataHttpTokens': str(metadata, 'HttpTokens') ?? 'optional',
        'ec2:MetadataHttpPutResponseHopLimit': String(num(metadata, 'HttpPutResponseHopLimit') ?? 1),
        'ec2:MetadataHttpEndpoint': str(metadata, 'HttpEndpoint') ?? 'enabled',
        'ec2:RootDeviceType': 'ebs',
        'ec2:Tenancy': str(placement, 'Tenancy') ?? 'default',
        'ec2:InstanceMarketType': market === 'spot' ? 'spot' : 'on-demand',
      },
    )),
  );

  // The image.
  const image = field('ImageId', str);
  if (image.value !== null) out.push(check('ec2:RunInstances', ec2Arn(ctx, 'image', image.value), merge(
    imageContext(ctx, image.value, state.images.get(image.value)),
    ltKeys(image.fromTemplate),
  )));

  // The primary interface, its subnet(s) and groups.
  if (existingEniId !== null) {
    out.push(check('ec2:RunInstances', ec2Arn(ctx, 'network-interface', existingEniId), merge(
      (existingEni ? eniContext(ctx, existingEni) : base(ctx)),
      ltKeys(nics.fromTemplate),
    )));
  } else {
    for (const s of subnets.length > 0 ? subnets : [null]) {
      const sub = s ? state.subnets.get(s.id) : undefined;
      out.push(
        check('ec2:RunInstances', ec2Arn(ctx, 'network-interface', '*'), merge(
          base(ctx),
          ltKeys(false),
          requestTagKeys(tagsFor('network-interface')),
          s && { 'ec2:Subnet': ec2Arn(ctx, 'subnet', s.id) },
          sub && { 'ec2:Vpc': vpcArn(ctx, sub.vpcId), 'ec2:AvailabilityZone': sub.az },
          { 'ec2:AssociatePublicIpAddress': String((primary && bool(primary, 'AssociatePublicIpAddress')) ?? false) },
        )),
      );
    }
  }
  for (const s of subnets) out.push(check('ec2:RunInstances', ec2Arn(ctx, 'subnet', s.id), merge(
    subnetContext(ctx, s.id, state.subnets.get(s.id)),
    ltKeys(s.fromTemplate),
  )));
  for (const g of groups.ids) out.push(check('ec2:RunInstances', ec2Arn(ctx, 'security-group', g), merge(
    securityGroupContext(ctx, g, state.securityGroups.get(g)),
    ltKeys(groups.fromTemplate),
  )));

  // The volumes the launch creates (the image's root volume is created even when not mapped).
  const mappings = listField('BlockDeviceMappings');
  const volumeTags = tagsFor('volume');
  const rootDevice = image.value !== null ? (state.images.get(image.value)?.rootDeviceName ?? null) : null;
  const ebs = mappings.value.map((m) => ({ device: str(m, 'DeviceName'), ebs: obj(m, 'Ebs') })).filter((m): m is { device: string | null; ebs: Input } => m.ebs !== null);
  const volumeChecks = ebs.map((m) =>
    check('ec2:RunInstances', ec2Arn(ctx, 'volume', '*'), merge(
      base(ctx),
      ltKeys(mappings.fromTemplate),
      requestTagKeys(volumeTags),
      az !== null && { 'ec2:AvailabilityZone': az },
      { 'ec2:Encrypted': String(bool(m.ebs, 'Encrypted') ?? false) },
      num(m.ebs, 'VolumeSize') !== null && { 'ec2:VolumeSize': String(num(m.ebs, 'VolumeSize')) },
      { 'ec2:VolumeType': str(m.ebs, 'VolumeType') ?? 'gp3' },
      num(m.ebs, 'Iops') !== null && { 'ec2:VolumeIops': String(num(m.ebs, 'Iops')) },
      num(m.ebs, 'Throughput') !== null && { 'ec2:VolumeThroughput': String(num(m.ebs, 'Throughput')) },
      str(m.ebs, 'SnapshotId') !== null && { 'ec2:ParentSnapshot': ec2Arn(ctx, 'snapshot', str(m.ebs, 'SnapshotId') as string) },
    )),
  );
  if (rootDevice === null || !ebs.some((m) => m.device === rootDevice)) {
    volumeChecks.unshift(check('ec2:RunInstances', ec2Arn(ctx, 'volume', '*'), merge(
      base(ctx),
      ltKeys(false),
      requestTagKeys(volumeTags),
      az !== null && { 'ec2:AvailabilityZone': az },
    )));
  }
  out.push(...volumeChecks);
  for (const m of ebs) {
    const snap = str(m.ebs, 'SnapshotId');
    if (snap === null) continue;
    const s = state.snapshots.get(snap);
    out.push(check('ec2:RunInstances', ec2Arn(ctx, 'snapshot', snap), merge((s ? snapshotContext(ctx, s) : base(ctx)), ltKeys(mappings.fromTemplate))));
  }

  // Key pair and launch template.
  const key = field('KeyName', str);
  if (key.value !== null) out.push(check('ec2:RunInstances', ec2Arn(ctx, 'key-pair', key.value), merge(
    base(ctx),
    { 'ec2:KeyPairName': key.value },
    ltKeys(key.fromTemplate),
  )));
  if (lt) out.push(check('ec2:RunInstances', ec2Arn(ctx, 'launch-template', lt.id), merge(launchTemplateContext(ctx, lt), ltKeys(true))));

  // Tags put on the new resources, and the role passed to the instance.
  out.push(...tagOnCreate(ctx, 'RunInstances', 'instance', tagsFor('instance')));
  out.push(...tagOnCreate(ctx, 'RunInstances', 'volume', volumeTags));
  if (existingEniId === null) out.push(...tagOnCreate(ctx, 'RunInstances', 'network-interface', tagsFor('network-interface')));
  const pass = passInstanceRole(ctx, profileField);
  if (pass) out.push(pass);
  return out;
}

// ---- the operations ---------------------------------------------------------------------------

export const EC2_AUTHORIZERS: Readonly<Record<string, Authorizer>> = {
  DescribeInstances: describe('DescribeInstances'),
  DescribeInstanceStatus: describe('DescribeInstanceStatus'),
  DescribeVolumes: describe('DescribeVolumes'),
  DescribeVolumesModifications: describe('DescribeVolumesModifications'),
  DescribeNetworkInterfaces: describe('DescribeNetworkInterfaces'),
  DescribeLaunchTemplates: describe('DescribeLaunchTemplates'),
  DescribeLaunchTemplateVersions: describe('DescribeLaunchTemplateVersions'),
  DescribeImages: describe('DescribeImages'),
  DescribeSnapshots: describe('DescribeSnapshots'),
  DescribeSubnets: describe('DescribeSubnets'),
  DescribeSecurityGroups: describe('DescribeSecurityGroups'),
  DescribeInstanceTypes: describe('DescribeInstanceTypes'),
  DescribeInstanceTypeOfferings: describe('DescribeInstanceTypeOfferings'),
  DescribeKeyPairs: describe('DescribeKeyPairs'),
  DescribeTags: describe('DescribeTags'),
  DescribeRouteTables: describe('DescribeRouteTables'),
  DescribeNatGateways: describe('DescribeNatGateways'),
  DescribeInternetGateways: describe('DescribeInternetGateways'),
  DescribeVpcEndpoints: describe('DescribeVpcEndpoints'),

  CreateNetworkInterface(input, ctx) {
    const tags = specTags(input, 'network-interface');
    const subnetId = str(input, 'SubnetId');
    const subnet = subnetId === null ? undefined : ctx.sim.state.subnets.get(subnetId);
    const out: AuthorizationCheck[] = [
      check('ec2:CreateNetworkInterface', ec2Arn(ctx, 'network-interface', '*'), merge(
        base(ctx),
        requestTagKeys(tags),
        subnetId !== null && { 'ec2:Subnet': ec2Arn(ctx, 'subnet', subnetId) },
        subnet && { 'ec2:Vpc': vpcArn(ctx, subnet.vpcId), 'ec2:AvailabilityZone': subnet.az },
      )),
    ];
    if (subnetId !== null) out.push(check('ec2:CreateNetworkInterface', ec2Arn(ctx, 'subnet', subnetId), subnetContext(ctx, subnetId, subnet)));
    for (const g of strs(input, 'Groups')) out.push(check('ec2:CreateNetworkInterface', ec2Arn(ctx, 'security-group', g), securityGroupContext(ctx, g, ctx.sim.state.securityGroups.get(g))));
    out.push(...tagOnCreate(ctx, 'CreateNetworkInterface', 'network-interface', tags));
    return out;
  },

  ModifyNetworkInterfaceAttribute(input, ctx) {
    const id = str(input, 'NetworkInterfaceId') ?? '*';
    const eni = ctx.sim.state.enis.get(id);
    const out = [check('ec2:ModifyNetworkInterfaceAttribute', ec2Arn(ctx, 'network-interface', id), eni ? eniContext(ctx, eni) : base(ctx))];
    // Setting groups authorizes each group (resource type `security-group`, optional).
    for (const g of strs(input, 'Groups')) out.push(check('ec2:ModifyNetworkInterfaceAttribute', ec2Arn(ctx, 'security-group', g), securityGroupContext(ctx, g, ctx.sim.state.securityGroups.get(g))));
    // Changing the attachment authorizes the instance it is attached to (resource type `instance`, optional).
    if (obj(input, 'Attachment') !== null && eni?.attachedInstanceId) {
      const i = ctx.sim.state.instances.get(eni.attachedInstanceId);
      if (i) out.push(check('ec2:ModifyNetworkInterfaceAttribute', ec2Arn(ctx, 'instance', i.id), instanceContext(ctx, i)));
    }
    return out;
  },

  DeleteNetworkInterface: one('DeleteNetworkInterface', 'NetworkInterfaceId', 'network-interface'),

  DetachNetworkInterface(input, ctx) {
    const attachmentId = str(input, 'AttachmentId');
    const eni = [...ctx.sim.state.enis.values()].find((e) => e.attachedInstanceId !== null && `eni-attach-${e.id.slice(4)}` === attachmentId);
    const out = [check('ec2:DetachNetworkInterface', ec2Arn(ctx, 'network-interface', eni?.id ?? '*'), eni ? eniContext(ctx, eni) : base(ctx))];
    const i = eni?.attachedInstanceId ? ctx.sim.state.instances.get(eni.attachedInstanceId) : undefined;
    if (i) out.push(check('ec2:DetachNetworkInterface', ec2Arn(ctx, 'instance', i.id), instanceContext(ctx, i)));
    return out;
  },

  ModifyInstanceAttribute(input, ctx) {
    const id = str(input, 'InstanceId') ?? '*';
    const i = ctx.sim.state.instances.get(id);
    return [check('ec2:ModifyInstanceAttribute', ec2Arn(ctx, 'instance', id), i ? instanceContext(ctx, i) : base(ctx))];
  },

  CreateVolume(input, ctx) {
    const tags = specTags(input, 'volume');
    const encrypted = bool(input, 'Encrypted') ?? false;
    const keyRef = str(input, 'KmsKeyId');
    const key = keyRef === null ? null : ctx.sim.state.kmsKey(keyRef);
    const snapshotId = str(input, 'SnapshotId');
    const snapshot = snapshotId === null ? undefined : ctx.sim.state.snapshots.get(snapshotId);
    const size = num(input, 'Size') ?? snapshot?.sizeGiB ?? null;
    const az = str(input, 'AvailabilityZone');
    const out: AuthorizationCheck[] = [
      check('ec2:CreateVolume', ec2Arn(ctx, 'volume', '*'), merge(
        base(ctx),
        requestTagKeys(tags),
        az !== null && { 'ec2:AvailabilityZone': az },
        { 'ec2:Encrypted': String(encrypted || (snapshot?.encrypted ?? false)) },
        size !== null && { 'ec2:VolumeSize': String(size) },
        { 'ec2:VolumeType': str(input, 'VolumeType') ?? 'gp2' },
        num(input, 'Iops') !== null && { 'ec2:VolumeIops': String(num(input, 'Iops')) },
        num(input, 'Throughput') !== null && { 'ec2:VolumeThroughput': String(num(input, 'Throughput')) },
        keyRef !== null && { 'ec2:KmsKeyId': key?.arn ?? keyRef },
        snapshotId !== null && { 'ec2:ParentSnapshot': ec2Arn(ctx, 'snapshot', snapshotId) },
      )),
    ];
    if (snapshotId !== null) out.push(check('ec2:CreateVolume', ec2Arn(ctx, 'snapshot', snapshotId), snapshot ? snapshotContext(ctx, snapshot) : base(ctx)));
    out.push(...tagOnCreate(ctx, 'CreateVolume', 'volume', tags));
    // Stricter reading (noted): the EBS guide lists CreateGrant among what a user needs to use
    // encryption, without saying which call makes it; creating under a customer managed key
    // asks for it here as well as on attach.
    if (key) out.push(...kmsOnBehalfOfEc2(ctx, key.arn, ['kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:CreateGrant']));
    return out;
  },

  DeleteVolume: one('DeleteVolume', 'VolumeId', 'volume'),
  ModifyVolume: one('ModifyVolume', 'VolumeId', 'volume'),

  AttachVolume(input, ctx) {
    const volumeId = str(input, 'VolumeId') ?? '*';
    const instanceId = str(input, 'InstanceId') ?? '*';
    const v = ctx.sim.state.volumes.get(volumeId);
    const i = ctx.sim.state.instances.get(instanceId);
    const out = [
      check('ec2:AttachVolume', ec2Arn(ctx, 'instance', instanceId), i ? instanceContext(ctx, i) : base(ctx)),
      check('ec2:AttachVolume', ec2Arn(ctx, 'volume', volumeId), v ? volumeContext(ctx, v) : base(ctx)),
    ];
    if (v?.kmsKeyArn) out.push(...kmsOnBehalfOfEc2(ctx, v.kmsKeyArn, ['kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey']));
    return out;
  },

  DetachVolume(input, ctx) {
    const volumeId = str(input, 'VolumeId') ?? '*';
    const v = ctx.sim.state.volumes.get(volumeId);
    const out = [check('ec2:DetachVolume', ec2Arn(ctx, 'volume', volumeId), v ? volumeContext(ctx, v) : base(ctx))];
    // The instance (optional resource type): the one named, else the one the volume is attached to (stricter reading, noted).
    const instanceId = str(input, 'InstanceId') ?? v?.attachment?.instanceId ?? null;
    if (instanceId !== null) {
      const i = ctx.sim.state.instances.get(instanceId);
      out.push(check('ec2:DetachVolume', ec2Arn(ctx, 'instance', instanceId), i ? instanceContext(ctx, i) : base(ctx)));
    }
    return out;
  },

  CreateSnapshot(input, ctx) {
    const tags = specTags(input, 'snapshot');
    const volumeId = str(input, 'VolumeId') ?? '*';
    const v = ctx.sim.state.volumes.get(volumeId);
    return [
      check('ec2:CreateSnapshot', ec2Arn(ctx, 'snapshot', '*'), merge(
        base(ctx),
        requestTagKeys(tags),
        { 'ec2:ParentVolume': ec2Arn(ctx, 'volume', volumeId) },
        v && { 'ec2:VolumeSize': String(v.sizeGiB), 'ec2:SourceAvailabilityZone': v.az },
      )),
      check('ec2:CreateSnapshot', ec2Arn(ctx, 'volume', volumeId), v ? volumeContext(ctx, v) : base(ctx)),
      ...tagOnCreate(ctx, 'CreateSnapshot', 'snapshot', tags),
    ];
  },

  DeleteSnapshot: one('DeleteSnapshot', 'SnapshotId', 'snapshot'),

  CreateTags(input, ctx) {
    const tags = tagList(objs(input, 'Tags'));
    return strs(input, 'Resources').map((id) => {
      const r = resourceById(ctx, id);
      return check('ec2:CreateTags', r.arn, merge(r.context, requestTagKeys(tags)));
    });
  },

  DeleteTags(input, ctx) {
    const list = objs(input, 'Tags');
    const keys = list.map((t) => str(t, 'Key')).filter((k): k is string => k !== null);
    // Tags given with a value are request tags; keys alone are only `aws:TagKeys`.
    const valued: Record<string, string> = {};
    for (const t of list) {
      const k = str(t, 'Key');
      if (k !== null && typeof t['Value'] === 'string') valued[k] = t['Value'];
    }
    return strs(input, 'Resources').map((id) => {
      const r = resourceById(ctx, id);
      const context: Context = merge(r.context, requestTagKeys(valued));
      if (keys.length > 0) context['aws:TagKeys'] = keys;
      return check('ec2:DeleteTags', r.arn, context);
    });
  },

  CreateLaunchTemplate(input, ctx) {
    const tags = specTags(input, 'launch-template');
    return [check('ec2:CreateLaunchTemplate', ec2Arn(ctx, 'launch-template', '*'), merge(
      base(ctx),
      requestTagKeys(tags),
    )), ...tagOnCreate(ctx, 'CreateLaunchTemplate', 'launch-template', tags)];
  },

  CreateLaunchTemplateVersion(input, ctx) {
    const lt = findLaunchTemplate(ctx, input);
    const id = lt?.id ?? str(input, 'LaunchTemplateId') ?? '*';
    return [check('ec2:CreateLaunchTemplateVersion', ec2Arn(ctx, 'launch-template', id), launchTemplateContext(ctx, lt))];
  },

  DeleteLaunchTemplate(input, ctx) {
    const lt = findLaunchTemplate(ctx, input);
    const id = lt?.id ?? str(input, 'LaunchTemplateId') ?? '*';
    return [check('ec2:DeleteLaunchTemplate', ec2Arn(ctx, 'launch-template', id), launchTemplateContext(ctx, lt))];
  },

  RunInstances(input, ctx) {
    const ref = obj(input, 'LaunchTemplate');
    const lt = ref === null ? undefined : findLaunchTemplate(ctx, ref);
    const data = lt && ref ? launchTemplateData(lt, str(ref, 'Version')) : undefined;
    return runInstancesChecks(ctx, input, { ...(lt && { launchTemplate: lt }), ...(data && { templateData: data }) });
  },

  TerminateInstances(input, ctx) {
    return strs(input, 'InstanceIds').map((id) => {
      const i = ctx.sim.state.instances.get(id);
      return check('ec2:TerminateInstances', ec2Arn(ctx, 'instance', id), i ? instanceContext(ctx, i) : base(ctx));
    });
  },
};
