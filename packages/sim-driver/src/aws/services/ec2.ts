import { fault } from '../aws-error.js';
import type { OperationHandler, ServiceContext, SimService } from '../service.js';
import type { SimContext } from '../../sim-context.js';
import type { SimEni, SimImage, SimInstance, SimLaunchTemplate, SimSecurityGroup, SimSnapshot, SimSubnet, SimVolume, Tags } from '../../world/entities.js';
import { networkOperations } from './ec2-network.js';
import { applyFilters, filterSpec, noTags, page, tagList, tagsFromList, type FilterInput, type FilterSpec } from './filters.js';

type In = Record<string, unknown>;
type TagSpec = { ResourceType?: string; Tags?: { Key?: string; Value?: string }[] };

const STATE_CODE: Record<string, number> = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 };

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const filtersOf = (input: In): FilterInput[] | undefined => (Array.isArray(input['Filters']) ? (input['Filters'] as FilterInput[]) : undefined);

function required(input: In, name: string): string {
  const v = str(input[name]);
  if (v === null) throw fault('MissingParameter', `The request must contain the parameter ${name}`);
  return v;
}

/** `DryRun: true`: authorization passed on arrival, so EC2 answers that the request would have succeeded. */
function dryRun(input: In): void {
  if (input['DryRun'] === true) throw fault('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
}

/**
 * The tags a create request's TagSpecifications give the resource it creates (several entries of
 * the type merge). Tag-on-create names the created resource's type only: any other type is
 * refused, as EC2 does.
 */
export function specTags(input: In, resourceType: string): Tags {
  const specs = Array.isArray(input['TagSpecifications']) ? (input['TagSpecifications'] as TagSpec[]) : [];
  const out: Tags = {};
  for (const s of specs) {
    if (s.ResourceType === undefined || s.ResourceType === '') throw fault('InvalidTagSpecification.Malformed', 'The resource type cannot be null or empty.');
    if (s.ResourceType !== resourceType) {
      if (resourceType === 'launch-template') {
        throw fault('InvalidParameterValue', "The value for the ResourceType member of the TagSpecification request parameter must be 'launch-template'. Verify the ResourceType and try again.");
      }
      throw fault('InvalidParameterValue', `'${s.ResourceType}' is not a valid taggable resource type for this operation.`);
    }
    Object.assign(out, tagsFromList(s.Tags));
  }
  return out;
}

/** LT-1: the resource types a launch template's TagSpecifications may name. */
const LAUNCH_TAGGABLE = new Set(['instance', 'volume', 'network-interface', 'spot-instances-request']);

/**
 * Idempotent creates: a repeated ClientToken with the same parameters returns the first
 * result; with other parameters, `IdempotentParameterMismatch`.
 */
function idempotent<T>(ctx: ServiceContext, input: In, make: () => { id: string; out: T }, again: (id: string) => T): T {
  const token = str(input['ClientToken']);
  if (token === null) return make().out;
  const { state } = ctx.sim;
  const key = `${ctx.operation}:${token}`;
  const { ClientToken: _t, DryRun: _d, ...params } = input;
  const fingerprint = JSON.stringify(params);
  const prior = state.clientTokens.get(key);
  if (prior) {
    if (prior.fingerprint !== fingerprint) {
      throw fault('IdempotentParameterMismatch', 'Arguments on this idempotent request are inconsistent with arguments used in previous request(s).');
    }
    return again(prior.resourceId);
  }
  const made = make();
  state.clientTokens.set(key, { resourceId: made.id, fingerprint, atMs: ctx.sim.scheduler.nowMs });
  return made.out;
}

// ---- output shapes (as the SDK deserializes EC2's answers) --------------------------------------

/**
 * The instances a DescribeInstances without ids looks at: with a `tag:<key>` filter of literal
 * values, those the world's tag index holds (what the answer can hold at most); else every
 * instance. Either way in launch order, and every filter is still applied to them.
 */
function instanceCandidates(sim: SimContext, filters: readonly FilterInput[] | undefined): SimInstance[] {
  const tagFilter = filters?.find((f) => (f.Name ?? '').startsWith('tag:') && (f.Values ?? []).length > 0 && (f.Values ?? []).every((v) => !/[*?\\]/.test(v)));
  if (!tagFilter) return [...sim.state.instances.values()];
  return sim.state.instancesTagged((tagFilter.Name as string).slice(4), tagFilter.Values ?? []).flatMap((id) => sim.state.instances.get(id) ?? []);
}

/** Attached volumes by instance id, for `instances` (one pass over the volumes per describe, not one per instance). */
function volumesByInstance(sim: SimContext, instances: readonly SimInstance[]): Map<string, SimVolume[]> {
  const out = new Map<string, SimVolume[]>();
  if (instances.length === 0) return out;
  const wanted = new Set(instances.map((i) => i.id));
  for (const v of sim.state.volumes.values()) {
    const id = v.attachment?.instanceId;
    if (id === undefined || !wanted.has(id)) continue;
    const list = out.get(id);
    if (list) list.push(v);
    else out.set(id, [v]);
  }
  return out;
}

function instanceOut(sim: SimContext, i: SimInstance, attached: ReadonlyMap<string, readonly SimVolume[]>): Record<string, unknown> {
  const eni = i.eniId ? sim.state.enis.get(i.eniId) : undefined;
  const volumes = attached.get(i.id) ?? [];
  const a = sim.account;
  const profile = i.iamInstanceProfile ? sim.iam.instanceProfiles.get(i.iamInstanceProfile) : undefined;
  const groups = (eni?.securityGroupIds ?? []).map((g) => ({ GroupId: g, GroupName: sim.state.securityGroups.get(g)?.name ?? g }));
  return {
    InstanceId: i.id,
    ImageId: i.imageId,
    InstanceType: i.instanceType,
    ...(i.keyName !== null && { KeyName: i.keyName }),
    LaunchTime: new Date(i.launchedAtMs),
    Placement: { AvailabilityZone: i.az, Tenancy: 'default' },
    ...(i.ec2State !== 'terminated' && { PrivateIpAddress: i.privateIp ?? undefined, SubnetId: i.subnetId, VpcId: i.vpcId }),
    State: { Code: STATE_CODE[i.ec2State] ?? 0, Name: i.ec2State },
    ...(i.stateReason !== null && { StateReason: { Code: i.stateReason.split(':')[0], Message: i.stateReason }, StateTransitionReason: i.stateReason }),
    Tags: tagList(i.tags),
    ...(i.spot && { InstanceLifecycle: 'spot' }),
    ...(profile && { IamInstanceProfile: { Arn: profile.arn, Id: `AIPA${profile.name.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 17)}` } }),
    RootDeviceName: i.rootDeviceName,
    RootDeviceType: 'ebs',
    BlockDeviceMappings: volumes.map((v) => ({
      DeviceName: v.attachment?.device,
      Ebs: { VolumeId: v.id, Status: v.attachment?.state, AttachTime: new Date(v.attachment?.attachedAtMs ?? 0), DeleteOnTermination: v.attachment?.deleteOnTermination },
    })),
    NetworkInterfaces:
      eni && eni.attachedInstanceId === i.id
        ? [
            {
              NetworkInterfaceId: eni.id,
              SubnetId: eni.subnetId,
              VpcId: eni.vpcId,
              PrivateIpAddress: eni.ip,
              PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: eni.ip }],
              Status: 'in-use',
              Attachment: { AttachmentId: `eni-attach-${eni.id.slice(4)}`, DeviceIndex: eni.deviceIndex ?? 0, Status: 'attached', DeleteOnTermination: eni.deleteOnTermination ?? false, AttachTime: new Date(i.launchedAtMs) },
              Groups: groups,
              OwnerId: a.accountId,
            },
          ]
        : [],
    SecurityGroups: groups,
    MetadataOptions: { State: 'applied', HttpTokens: i.metadataOptions.httpTokens, HttpPutResponseHopLimit: i.metadataOptions.httpPutResponseHopLimit, HttpEndpoint: i.metadataOptions.httpEndpoint },
    Architecture: 'x86_64',
    Hypervisor: 'xen',
    VirtualizationType: 'hvm',
    AmiLaunchIndex: 0,
    EbsOptimized: false,
    SourceDestCheck: true,
  };
}

function volumeOut(v: SimVolume): Record<string, unknown> {
  return {
    VolumeId: v.id,
    Size: v.sizeGiB,
    ...(v.snapshotId !== null && { SnapshotId: v.snapshotId }),
    AvailabilityZone: v.az,
    State: v.state,
    CreateTime: new Date(v.createdAtMs),
    Attachments: v.attachment
      ? [{ AttachTime: new Date(v.attachment.attachedAtMs), Device: v.attachment.device, InstanceId: v.attachment.instanceId, State: v.attachment.state, VolumeId: v.id, DeleteOnTermination: v.attachment.deleteOnTermination }]
      : [],
    Encrypted: v.encrypted,
    ...(v.kmsKeyArn !== null && { KmsKeyId: v.kmsKeyArn }),
    VolumeType: v.type,
    ...(v.iops !== null && { Iops: v.iops }),
    ...(v.throughputMiBps !== null && { Throughput: v.throughputMiBps }),
    ...(Object.keys(v.tags).length > 0 && { Tags: tagList(v.tags) }),
    MultiAttachEnabled: false,
  };
}

function eniOut(sim: SimContext, e: SimEni): Record<string, unknown> {
  return {
    NetworkInterfaceId: e.id,
    SubnetId: e.subnetId,
    VpcId: e.vpcId,
    AvailabilityZone: e.az,
    Description: e.description,
    Groups: e.securityGroupIds.map((g) => ({ GroupId: g, GroupName: sim.state.securityGroups.get(g)?.name ?? g })),
    InterfaceType: 'interface',
    OwnerId: sim.account.accountId,
    PrivateIpAddress: e.ip,
    PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: e.ip }],
    RequesterManaged: false,
    SourceDestCheck: true,
    Status: e.status,
    TagSet: tagList(e.tags),
    ...(e.attachedInstanceId !== null && {
      Attachment: { AttachmentId: `eni-attach-${e.id.slice(4)}`, InstanceId: e.attachedInstanceId, InstanceOwnerId: sim.account.accountId, DeviceIndex: e.deviceIndex ?? 0, Status: 'attached', DeleteOnTermination: e.deleteOnTermination ?? false },
    }),
  };
}

function snapshotOut(sim: SimContext, s: SimSnapshot): Record<string, unknown> {
  return {
    SnapshotId: s.id,
    VolumeId: s.volumeId,
    VolumeSize: s.sizeGiB,
    State: s.state,
    Progress: s.state === 'completed' ? '100%' : '0%',
    StartTime: new Date(s.startedAtMs),
    Description: s.description,
    OwnerId: sim.account.accountId,
    Encrypted: s.encrypted,
    Tags: tagList(s.tags),
  };
}

function launchTemplateOut(lt: SimLaunchTemplate): Record<string, unknown> {
  return {
    LaunchTemplateId: lt.id,
    LaunchTemplateName: lt.name,
    CreateTime: new Date(lt.createdAtMs),
    CreatedBy: 'arn:aws:sts::simulated',
    DefaultVersionNumber: lt.defaultVersion,
    LatestVersionNumber: lt.versions.length,
    ...(Object.keys(lt.tags).length > 0 && { Tags: tagList(lt.tags) }),
  };
}

// ---- filters per resource type ---------------------------------------------------------------

const instanceFilters = (sim: SimContext): FilterSpec<SimInstance> =>
  filterSpec(
    'DescribeInstances',
    {
      'instance-id': (i) => [i.id],
      'instance-state-name': (i) => [i.ec2State],
      'instance-state-code': (i) => [String(STATE_CODE[i.ec2State] ?? 0)],
      'availability-zone': (i) => [i.az],
      'subnet-id': (i) => [i.subnetId],
      'vpc-id': (i) => [i.vpcId],
      'private-ip-address': (i) => (i.privateIp ? [i.privateIp] : []),
      'network-interface.network-interface-id': (i) => (i.eniId ? [i.eniId] : []),
      'instance-lifecycle': (i) => (i.spot ? ['spot'] : []),
      'image-id': (i) => [i.imageId],
      'instance-type': (i) => [i.instanceType],
      'iam-instance-profile.arn': (i) => {
        const p = i.iamInstanceProfile ? sim.iam.instanceProfiles.get(i.iamInstanceProfile) : undefined;
        return p ? [p.arn] : [];
      },
      'key-name': (i) => (i.keyName ? [i.keyName] : []),
      'launch-time': (i) => [new Date(i.launchedAtMs).toISOString()],
    },
    (i) => i.tags,
  );

const INSTANCE_STATUS_FILTERS: FilterSpec<SimInstance> = filterSpec('DescribeInstanceStatus', {
  'availability-zone': (i) => [i.az],
  'event.code': (i) => i.scheduledEvents.map((e) => e.code),
  'event.description': (i) => i.scheduledEvents.map((e) => e.description),
  'event.instance-event-id': (i) => i.scheduledEvents.map((e) => e.id),
  'event.not-before': (i) => i.scheduledEvents.map((e) => new Date(e.notBeforeMs).toISOString()),
  'event.not-after': (i) => i.scheduledEvents.flatMap((e) => (e.notAfterMs === null ? [] : [new Date(e.notAfterMs).toISOString()])),
  'instance-state-name': (i) => [i.ec2State],
  'instance-state-code': (i) => [String(STATE_CODE[i.ec2State] ?? 0)],
  'instance-status.status': (i) => [statusOf(i)],
  'instance-status.reachability': (i) => [reachabilityOf(i)],
  'system-status.status': (i) => [statusOf(i)],
  'system-status.reachability': (i) => [reachabilityOf(i)],
});

/** Status checks: passed once running (the simulator has no impaired instances), initializing while pending. */
function statusOf(i: SimInstance): string {
  return i.ec2State === 'running' ? 'ok' : i.ec2State === 'pending' ? 'initializing' : 'not-applicable';
}
function reachabilityOf(i: SimInstance): string {
  return i.ec2State === 'running' ? 'passed' : 'initializing';
}

function instanceStatusOut(i: SimInstance): Record<string, unknown> {
  const check = i.ec2State === 'running' || i.ec2State === 'pending' ? { Status: statusOf(i), Details: [{ Name: 'reachability', Status: reachabilityOf(i) }] } : { Status: 'not-applicable' };
  return {
    AvailabilityZone: i.az,
    InstanceId: i.id,
    InstanceState: { Code: STATE_CODE[i.ec2State] ?? 0, Name: i.ec2State },
    ...(i.scheduledEvents.length > 0 && {
      Events: i.scheduledEvents.map((e) => ({
        InstanceEventId: e.id,
        Code: e.code,
        Description: e.description,
        NotBefore: new Date(e.notBeforeMs),
        ...(e.notAfterMs !== null && { NotAfter: new Date(e.notAfterMs) }),
      })),
    }),
    InstanceStatus: check,
    SystemStatus: check,
  };
}

const VOLUME_FILTERS: FilterSpec<SimVolume> = filterSpec(
  'DescribeVolumes',
  {
    'volume-id': (v) => [v.id],
    status: (v) => [v.state],
    'availability-zone': (v) => [v.az],
    'attachment.instance-id': (v) => (v.attachment ? [v.attachment.instanceId] : []),
    'attachment.status': (v) => (v.attachment ? [v.attachment.state] : []),
    'attachment.device': (v) => (v.attachment ? [v.attachment.device] : []),
    'attachment.delete-on-termination': (v) => (v.attachment ? [String(v.attachment.deleteOnTermination)] : []),
    'volume-type': (v) => [v.type],
    encrypted: (v) => [String(v.encrypted)],
    size: (v) => [String(v.sizeGiB)],
    'snapshot-id': (v) => (v.snapshotId ? [v.snapshotId] : []),
    'create-time': (v) => [new Date(v.createdAtMs).toISOString()],
    'multi-attach-enabled': () => ['false'],
  },
  (v) => v.tags,
);

const eniIp = (e: SimEni): readonly string[] => [e.ip];

const ENI_FILTERS: FilterSpec<SimEni> = filterSpec(
  'DescribeNetworkInterfaces',
  {
    'network-interface-id': (e) => [e.id],
    'subnet-id': (e) => [e.subnetId],
    'vpc-id': (e) => [e.vpcId],
    'availability-zone': (e) => [e.az],
    'private-ip-address': eniIp,
    'addresses.private-ip-address': eniIp,
    status: (e) => [e.status],
    'attachment.instance-id': (e) => (e.attachedInstanceId ? [e.attachedInstanceId] : []),
    'attachment.status': (e) => (e.attachedInstanceId ? ['attached'] : []),
    'attachment.device-index': (e) => (e.attachedInstanceId ? ['0'] : []),
    'group-id': (e) => e.securityGroupIds,
    description: (e) => [e.description],
    'interface-type': () => ['interface'],
  },
  (e) => e.tags,
);

const SNAPSHOT_FILTERS: FilterSpec<SimSnapshot> = filterSpec(
  'DescribeSnapshots',
  {
    'snapshot-id': (s) => [s.id],
    'volume-id': (s) => [s.volumeId],
    status: (s) => [s.state],
    description: (s) => [s.description],
    'volume-size': (s) => [String(s.sizeGiB)],
    encrypted: (s) => [String(s.encrypted)],
  },
  (s) => s.tags,
);

const subnetCidr = (s: SimSubnet): readonly string[] => [s.cidr];

const SUBNET_FILTERS: FilterSpec<SimSubnet> = filterSpec(
  'DescribeSubnets',
  { 'subnet-id': (s) => [s.id], 'vpc-id': (s) => [s.vpcId], 'availability-zone': (s) => [s.az], 'cidr-block': subnetCidr, cidr: subnetCidr },
  noTags,
);

const IMAGE_FILTERS: FilterSpec<SimImage> = filterSpec(
  'DescribeImages',
  { 'image-id': (im) => [im.id], name: (im) => [im.name], state: (im) => [im.state], 'root-device-name': (im) => [im.rootDeviceName] },
  noTags,
);

/** Items by id (each must exist and be visible: a missing one fails the whole call, as EC2 does). */
function byIds<T>(ids: readonly string[], get: (id: string) => T): T[] {
  return ids.map(get);
}

// ---- the operations ----------------------------------------------------------------------------

function operations(): Record<string, OperationHandler> {
  return {
    DescribeInstances(input, ctx) {
      const { sim } = ctx;
      const ids = strs(input['InstanceIds']);
      if (ids.length > 0 && input['MaxResults'] !== undefined) throw fault('InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
      const filters = filtersOf(input);
      const all = ids.length > 0 ? byIds(ids, (id) => sim.ec2.instance(id, true)) : instanceCandidates(sim, filters).filter((i) => sim.ec2.isVisible(i));
      const matched = applyFilters(all, filters, instanceFilters(sim));
      const p = page(matched, input as { MaxResults?: number; NextToken?: string }, { min: 5, max: 1000, defaultAll: true }, 'DescribeInstances');
      const attached = volumesByInstance(sim, p.items);
      return {
        Reservations: p.items.map((i) => ({ ReservationId: `r-${i.id.slice(2)}`, OwnerId: sim.account.accountId, Groups: [], Instances: [instanceOut(sim, i, attached)] })),
        ...(p.nextToken !== undefined && { NextToken: p.nextToken }),
      };
    },

    // Scheduled events: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceStatus.html
    // (running instances only unless IncludeAllInstances; no tag filters; InstanceIds and MaxResults exclusive).
    DescribeInstanceStatus(input, ctx) {
      const { sim } = ctx;
      const ids = strs(input['InstanceIds']);
      if (ids.length > 0 && input['MaxResults'] !== undefined) throw fault('InvalidParameterCombination', 'The parameter instancesSet cannot be used with the parameter maxResults');
      if (ids.length > 100) throw fault('InvalidParameterValue', 'The maximum number of instance IDs is 100.');
      const all = ids.length > 0 ? byIds(ids, (id) => sim.ec2.instance(id, true)) : [...sim.state.instances.values()].filter((i) => sim.ec2.isVisible(i));
      const shown = input['IncludeAllInstances'] === true ? all : all.filter((i) => i.ec2State === 'running');
      const matched = applyFilters(shown, filtersOf(input), INSTANCE_STATUS_FILTERS);
      const p = page(matched, input as { MaxResults?: number; NextToken?: string }, { min: 5, max: 1000, defaultAll: true }, 'DescribeInstanceStatus');
      return { InstanceStatuses: p.items.map(instanceStatusOut), ...(p.nextToken !== undefined && { NextToken: p.nextToken }) };
    },

    DescribeVolumes(input, ctx) {
      const { sim } = ctx;
      const ids = strs(input['VolumeIds']);
      if (ids.length > 0 && input['MaxResults'] !== undefined) throw fault('InvalidParameterCombination', 'The parameter volumeSet cannot be used with the parameter maxResults');
      const all = ids.length > 0 ? byIds(ids, (id) => sim.ec2.volume(id, true)) : [...sim.state.volumes.values()].filter((v) => sim.ec2.isVisible(v));
      const matched = applyFilters(all, filtersOf(input), VOLUME_FILTERS);
      // API-7: pages of up to 1000 (the AWS CLI asks for 1000 by default).
      const p = page(matched, input as { MaxResults?: number; NextToken?: string }, { min: 5, max: 1000, defaultAll: true }, 'DescribeVolumes');
      return { Volumes: p.items.map(volumeOut), ...(p.nextToken !== undefined && { NextToken: p.nextToken }) };
    },

    DescribeVolumesModifications(input, ctx) {
      const { sim } = ctx;
      const ids = strs(input['VolumeIds']);
      for (const id of ids) {
        const v = sim.ec2.volume(id, true);
        if (!v.modification) throw fault('InvalidVolumeModification.NotFound', `Modification for volume '${id}' does not exist.`);
      }
      const all = [...sim.state.volumes.values()].filter((v) => v.modification !== null && (ids.length === 0 || ids.includes(v.id)));
      const modified = (f: (v: SimVolume, m: NonNullable<SimVolume['modification']>) => string) => (v: SimVolume) => (v.modification ? [f(v, v.modification)] : []);
      const matched = applyFilters(
        all,
        filtersOf(input),
        filterSpec('DescribeVolumesModifications', {
          'volume-id': modified((v) => v.id),
          'modification-state': modified((_, m) => m.state),
          'target-size': modified((_, m) => String(m.targetSizeGiB)),
          'original-size': modified((_, m) => String(m.originalSizeGiB)),
          'target-volume-type': modified((_, m) => m.targetType),
          'original-volume-type': modified((_, m) => m.originalType),
          'target-iops': (v) => (v.modification && v.modification.targetIops !== null ? [String(v.modification.targetIops)] : []),
          'original-iops': (v) => (v.modification && v.modification.originalIops !== null ? [String(v.modification.originalIops)] : []),
          'start-time': modified((_, m) => new Date(m.startedAtMs).toISOString()),
        }),
      );
      const p = page(matched, input as { MaxResults?: number; NextToken?: string }, { min: 1, max: 500, defaultAll: true }, 'DescribeVolumesModifications');
      return {
        VolumesModifications: p.items.map((v) => {
          const m = v.modification as NonNullable<SimVolume['modification']>;
          return {
            VolumeId: v.id,
            ModificationState: m.state,
            OriginalSize: m.originalSizeGiB,
            TargetSize: m.targetSizeGiB,
            OriginalVolumeType: m.originalType,
            TargetVolumeType: m.targetType,
            ...(m.originalIops !== null && { OriginalIops: m.originalIops }),
            ...(m.targetIops !== null && { TargetIops: m.targetIops }),
            ...(m.originalThroughputMiBps !== null && { OriginalThroughput: m.originalThroughputMiBps }),
            ...(m.targetThroughputMiBps !== null && { TargetThroughput: m.targetThroughputMiBps }),
            Progress: m.state === 'completed' ? 100 : m.state === 'optimizing' ? 50 : 0,
            StartTime: new Date(m.startedAtMs),
            ...(m.endedAtMs !== null && { EndTime: new Date(m.endedAtMs) }),
          };
        }),
        ...(p.nextToken !== undefined && { NextToken: p.nextToken }),
      };
    },

    DescribeNetworkInterfaces(input, ctx) {
      const { sim } = ctx;
      const ids = strs(input['NetworkInterfaceIds']);
      if (ids.length > 0 && input['MaxResults'] !== undefined) throw fault('InvalidParameterCombination', 'The parameter NetworkInterfaceIds cannot be used with the parameter maxResults');
      const all = ids.length > 0 ? byIds(ids, (id) => sim.ec2.eni(id, true)) : [...sim.state.enis.values()].filter((e) => !e.deleted && sim.ec2.isVisible(e));
      const matched = applyFilters(all, filtersOf(input), ENI_FILTERS);
      const p = page(matched, input as { MaxResults?: number; NextToken?: string }, { min: 5, max: 1000, defaultAll: true }, 'DescribeNetworkInterfaces');
      return { NetworkInterfaces: p.items.map((e) => eniOut(sim, e)), ...(p.nextToken !== undefined && { NextToken: p.nextToken }) };
    },

    DescribeSnapshots(input, ctx) {
      const { sim } = ctx;
      const ids = strs(input['SnapshotIds']);
      const owners = strs(input['OwnerIds']);
      if (owners.some((o) => o !== 'self' && o !== sim.account.accountId)) return { Snapshots: [] };
      const all = ids.length > 0
        ? byIds(ids, (id) => {
            const s = sim.state.snapshots.get(id);
            if (!s || !sim.ec2.isVisible(s)) throw fault('InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
            return s;
          })
        : [...sim.state.snapshots.values()].filter((s) => sim.ec2.isVisible(s));
      const matched = applyFilters(all, filtersOf(input), SNAPSHOT_FILTERS);
      const p = page(matched, input as { MaxResults?: number; NextToken?: string }, { min: 5, max: 1000, defaultAll: true }, 'DescribeSnapshots');
      return { Snapshots: p.items.map((s) => snapshotOut(sim, s)), ...(p.nextToken !== undefined && { NextToken: p.nextToken }) };
    },

    DescribeSubnets(input, ctx) {
      const { sim } = ctx;
      const ids = strs(input['SubnetIds']);
      const all = ids.length > 0
        ? byIds(ids, (id) => {
            const s = sim.state.subnets.get(id);
            if (!s) throw fault('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);
            return s;
          })
        : [...sim.state.subnets.values()];
      const matched = applyFilters(all, filtersOf(input), SUBNET_FILTERS);
      return {
        Subnets: matched.map((s) => ({ SubnetId: s.id, VpcId: s.vpcId, AvailabilityZone: s.az, CidrBlock: s.cidr, State: 'available', OwnerId: sim.account.accountId, MapPublicIpOnLaunch: false })),
      };
    },

    DescribeSecurityGroups(input, ctx) {
      const { sim } = ctx;
      const ids = strs(input['GroupIds']);
      const all = ids.length > 0
        ? byIds(ids, (id) => {
            const g = sim.state.securityGroups.get(id);
            if (!g) throw fault('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
            return g;
          })
        : [...sim.state.securityGroups.values()];
      const groupName = (g: SimSecurityGroup) => [g.name];
      const matched = applyFilters(all, filtersOf(input), filterSpec('DescribeSecurityGroups', { 'group-id': (g) => [g.id], 'vpc-id': (g) => [g.vpcId], 'group-name': groupName, description: groupName }, noTags));
      return { SecurityGroups: matched.map((g) => ({ GroupId: g.id, GroupName: g.name, VpcId: g.vpcId, OwnerId: sim.account.accountId, Description: g.name })) };
    },

    DescribeImages(input, ctx) {
      const { sim } = ctx;
      const ids = strs(input['ImageIds']);
      const all = ids.length > 0
        ? byIds(ids, (id) => {
            const im = sim.state.images.get(id);
            if (!im) throw fault('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
            return im;
          })
        : [...sim.state.images.values()];
      const matched = applyFilters(all, filtersOf(input), IMAGE_FILTERS);
      return {
        Images: matched.map((im) => ({
          ImageId: im.id,
          Name: im.name,
          State: im.state,
          RootDeviceName: im.rootDeviceName,
          RootDeviceType: 'ebs',
          Architecture: 'x86_64',
          VirtualizationType: 'hvm',
          OwnerId: sim.account.accountId,
          BlockDeviceMappings: [{ DeviceName: im.rootDeviceName, Ebs: { VolumeSize: 8, VolumeType: 'gp3', DeleteOnTermination: true, Encrypted: false } }],
        })),
      };
    },

    DescribeKeyPairs(input, ctx) {
      const { sim } = ctx;
      const names = strs(input['KeyNames']);
      for (const n of names) if (!sim.state.keyPairs.has(n)) throw fault('InvalidKeyPair.NotFound', `The key pair '${n}' does not exist`);
      const all = [...sim.state.keyPairs.values()].filter((k) => names.length === 0 || names.includes(k.name));
      // Key pairs carry no tags in the simulated account: tag filters are valid and match none.
      const matched = applyFilters(all, filtersOf(input), filterSpec('DescribeKeyPairs', { 'key-name': (k) => [k.name], 'key-pair-id': (k) => [`key-${k.name}`] }, noTags));
      return { KeyPairs: matched.map((k) => ({ KeyName: k.name, KeyPairId: `key-${k.name}`, KeyType: 'ed25519' })) };
    },

    DescribeInstanceTypes(input) {
      const types = [...strs(input['InstanceTypes']), ...(filtersOf(input) ?? []).filter((f) => f.Name === 'instance-type').flatMap((f) => f.Values ?? [])];
      for (const f of filtersOf(input) ?? []) if (f.Name !== 'instance-type') throw fault('InvalidParameterValue', `The filter '${f.Name ?? ''}' is invalid`);
      const valid = types.filter((t) => INSTANCE_TYPE.test(t));
      if (strs(input['InstanceTypes']).some((t) => !INSTANCE_TYPE.test(t))) throw fault('InvalidInstanceType', `The following supplied instance types do not exist: [${types.filter((t) => !INSTANCE_TYPE.test(t)).join(', ')}]`);
      return {
        InstanceTypes: valid.map((t) => ({
          InstanceType: t,
          NetworkInfo: { MaximumNetworkInterfaces: 4 },
          EbsInfo: { EncryptionSupport: 'supported', NvmeSupport: 'required' },
          CurrentGeneration: true,
        })),
      };
    },

    DescribeInstanceTypeOfferings(input, ctx) {
      const region = ctx.region;
      const locationType = str(input['LocationType']) ?? 'region';
      if (locationType !== 'region' && locationType !== 'availability-zone' && locationType !== 'availability-zone-id') {
        throw fault('InvalidParameterValue', `Value (${locationType}) for parameter locationType is invalid.`);
      }
      // Every well-formed type is offered in every AZ of the region (an instance type filter is needed to list any).
      const types = (filtersOf(input) ?? []).filter((f) => f.Name === 'instance-type').flatMap((f) => f.Values ?? []).filter((t) => INSTANCE_TYPE.test(t));
      const letters = ['a', 'b', 'c', 'd', 'e', 'f'];
      const parts = region.split('-');
      const zoneIdPrefix = `${parts[0] ?? ''}${parts.slice(1, -1).map((x) => x[0] ?? '').join('')}${parts.at(-1) ?? ''}`; // eu-west-1 → euw1
      const locations = locationType === 'region' ? [region] : locationType === 'availability-zone' ? letters.map((l) => `${region}${l}`) : letters.map((_, i) => `${zoneIdPrefix}-az${i + 1}`);
      const offerings = types.flatMap((t) => locations.map((location) => ({ InstanceType: t, LocationType: locationType, Location: location })));
      const matched = applyFilters(offerings, filtersOf(input), filterSpec('DescribeInstanceTypeOfferings', { 'instance-type': (o) => [o.InstanceType], location: (o) => [o.Location] }));
      return { InstanceTypeOfferings: matched };
    },

    DescribeTags(input, ctx) {
      const { sim } = ctx;
      const rows: { ResourceId: string; ResourceType: string; Key: string; Value: string }[] = [];
      const add = (id: string, type: string, tags: Tags) => {
        for (const [Key, Value] of Object.entries(tags)) rows.push({ ResourceId: id, ResourceType: type, Key, Value });
      };
      for (const i of sim.state.instances.values()) if (sim.ec2.isVisible(i)) add(i.id, 'instance', i.tags);
      for (const v of sim.state.volumes.values()) if (sim.ec2.isVisible(v)) add(v.id, 'volume', v.tags);
      for (const e of sim.state.enis.values()) if (!e.deleted && sim.ec2.isVisible(e)) add(e.id, 'network-interface', e.tags);
      for (const s of sim.state.snapshots.values()) if (sim.ec2.isVisible(s)) add(s.id, 'snapshot', s.tags);
      for (const lt of sim.state.launchTemplates.values()) add(lt.id, 'launch-template', lt.tags);
      const matched = applyFilters(rows, filtersOf(input), filterSpec('DescribeTags', { 'resource-id': (r) => [r.ResourceId], 'resource-type': (r) => [r.ResourceType], key: (r) => [r.Key], value: (r) => [r.Value] }));
      const p = page(matched, input as { MaxResults?: number; NextToken?: string }, { min: 5, max: 1000, defaultAll: true }, 'DescribeTags');
      return { Tags: p.items, ...(p.nextToken !== undefined && { NextToken: p.nextToken }) };
    },

    CreateTags(input, ctx) {
      dryRun(input);
      const ids = strs(input['Resources']);
      if (ids.length === 0) throw fault('MissingParameter', 'The request must contain the parameter resourceIdSet');
      ctx.sim.ec2.createTags(ids, tagsFromList(input['Tags'] as { Key?: string; Value?: string }[]));
      return {};
    },

    DeleteTags(input, ctx) {
      dryRun(input);
      const ids = strs(input['Resources']);
      const keys = ((input['Tags'] as { Key?: string }[] | undefined) ?? []).map((t) => t.Key ?? '');
      ctx.sim.ec2.deleteTags(ids, keys);
      return {};
    },

    CreateNetworkInterface(input, ctx) {
      dryRun(input);
      const { sim } = ctx;
      return idempotent(
        ctx,
        input,
        () => {
          const eni = sim.ec2.createNetworkInterface({
            subnetId: required(input, 'SubnetId'),
            ip: str(input['PrivateIpAddress']),
            securityGroupIds: strs(input['Groups']),
            description: str(input['Description']) ?? '',
            tags: specTags(input, 'network-interface'),
          });
          return { id: eni.id, out: { NetworkInterface: eniOut(sim, eni), ...(str(input['ClientToken']) && { ClientToken: input['ClientToken'] }) } };
        },
        (id) => {
          const e = sim.state.enis.get(id);
          return { NetworkInterface: e ? eniOut(sim, e) : { NetworkInterfaceId: id, Status: 'deleted' }, ClientToken: input['ClientToken'] };
        },
      );
    },

    ModifyNetworkInterfaceAttribute(input, ctx) {
      dryRun(input);
      const id = required(input, 'NetworkInterfaceId');
      const groups = strs(input['Groups']);
      const attachment = input['Attachment'] as { AttachmentId?: unknown; DeleteOnTermination?: unknown } | undefined;
      if (groups.length === 0 && attachment === undefined) throw fault('MissingParameter', 'The request must contain one attribute to modify (e.g. Groups)');
      if (groups.length > 0) ctx.sim.ec2.modifyNetworkInterfaceGroups(id, groups);
      if (attachment !== undefined) {
        const attachmentId = str(attachment.AttachmentId);
        if (attachmentId === null) throw fault('MissingParameter', 'The request must contain the parameter attachment.attachmentId');
        ctx.sim.ec2.modifyEniAttachment(id, attachmentId, attachment.DeleteOnTermination === true);
      }
      return {};
    },

    DetachNetworkInterface(input, ctx) {
      dryRun(input);
      ctx.sim.ec2.detachNetworkInterface(required(input, 'AttachmentId'));
      return {};
    },

    ModifyInstanceAttribute(input, ctx) {
      dryRun(input);
      const id = required(input, 'InstanceId');
      const mappings = Array.isArray(input['BlockDeviceMappings']) ? (input['BlockDeviceMappings'] as { DeviceName?: unknown; Ebs?: { VolumeId?: unknown; DeleteOnTermination?: unknown } }[]) : [];
      if (mappings.length === 0) throw fault('UnsupportedOperation', "The simulated ModifyInstanceAttribute supports BlockDeviceMappings only (DeleteOnTermination of attached volumes).");
      ctx.sim.ec2.modifyBlockDevices(
        id,
        mappings.map((m) => ({
          deviceName: required(m as In, 'DeviceName'),
          volumeId: str(m.Ebs?.VolumeId),
          // EBS-20: a mapping without DeleteOnTermination sets it to true.
          deleteOnTermination: m.Ebs?.DeleteOnTermination !== false,
        })),
      );
      return {};
    },

    DeleteNetworkInterface(input, ctx) {
      dryRun(input);
      ctx.sim.ec2.deleteNetworkInterface(required(input, 'NetworkInterfaceId'));
      return {};
    },

    CreateVolume(input, ctx) {
      dryRun(input);
      const { sim } = ctx;
      return idempotent(
        ctx,
        input,
        () => {
          const vol = sim.ec2.createVolume({
            az: required(input, 'AvailabilityZone'),
            sizeGiB: num(input['Size']),
            type: str(input['VolumeType']) ?? 'gp2',
            iops: num(input['Iops']),
            throughputMiBps: num(input['Throughput']),
            encrypted: input['Encrypted'] === true,
            kmsKeyId: str(input['KmsKeyId']),
            snapshotId: str(input['SnapshotId']),
            tags: specTags(input, 'volume'),
          });
          return { id: vol.id, out: volumeOut(vol) };
        },
        (id) => {
          const v = sim.state.volumes.get(id);
          return v ? volumeOut(v) : { VolumeId: id, State: 'deleted' };
        },
      );
    },

    DeleteVolume(input, ctx) {
      dryRun(input);
      ctx.sim.ec2.deleteVolume(required(input, 'VolumeId'));
      return {};
    },

    ModifyVolume(input, ctx) {
      dryRun(input);
      const v = ctx.sim.ec2.modifyVolume(required(input, 'VolumeId'), {
        sizeGiB: num(input['Size']),
        iops: num(input['Iops']),
        throughputMiBps: num(input['Throughput']),
        type: str(input['VolumeType']),
      });
      const m = v.modification as NonNullable<SimVolume['modification']>;
      return {
        VolumeModification: {
          VolumeId: v.id,
          ModificationState: m.state,
          OriginalSize: m.originalSizeGiB,
          TargetSize: m.targetSizeGiB,
          OriginalVolumeType: m.originalType,
          TargetVolumeType: m.targetType,
          ...(m.originalIops !== null && { OriginalIops: m.originalIops }),
          ...(m.targetIops !== null && { TargetIops: m.targetIops }),
          ...(m.originalThroughputMiBps !== null && { OriginalThroughput: m.originalThroughputMiBps }),
          ...(m.targetThroughputMiBps !== null && { TargetThroughput: m.targetThroughputMiBps }),
          Progress: 0,
          StartTime: new Date(m.startedAtMs),
        },
      };
    },

    AttachVolume(input, ctx) {
      dryRun(input);
      const vol = ctx.sim.ec2.attachVolume(required(input, 'VolumeId'), required(input, 'InstanceId'), required(input, 'Device'));
      const a = vol.attachment as NonNullable<SimVolume['attachment']>;
      return { AttachTime: new Date(a.attachedAtMs), Device: a.device, InstanceId: a.instanceId, State: a.state, VolumeId: vol.id };
    },

    DetachVolume(input, ctx) {
      dryRun(input);
      const vol = ctx.sim.ec2.detachVolume(required(input, 'VolumeId'), str(input['InstanceId']));
      const a = vol.attachment;
      return { ...(a && { AttachTime: new Date(a.attachedAtMs), Device: a.device, InstanceId: a.instanceId, State: a.state }), VolumeId: vol.id };
    },

    CreateSnapshot(input, ctx) {
      dryRun(input);
      const s = ctx.sim.ec2.createSnapshot(required(input, 'VolumeId'), str(input['Description']) ?? '', specTags(input, 'snapshot'));
      return snapshotOut(ctx.sim, s);
    },

    DeleteSnapshot(input, ctx) {
      dryRun(input);
      ctx.sim.ec2.deleteSnapshot(required(input, 'SnapshotId'));
      return {};
    },

    CreateLaunchTemplate(input, ctx) {
      dryRun(input);
      const { sim } = ctx;
      const data = input['LaunchTemplateData'];
      if (!data || typeof data !== 'object') throw fault('MissingParameter', 'The request must contain the parameter LaunchTemplateData');
      validateTemplateData(sim, data as Record<string, unknown>);
      return idempotent(
        ctx,
        input,
        () => {
          const lt = sim.launchTemplates.create(required(input, 'LaunchTemplateName'), data as Record<string, unknown>, str(input['VersionDescription']), specTags(input, 'launch-template'));
          return { id: lt.id, out: { LaunchTemplate: launchTemplateOut(lt) } };
        },
        (id) => {
          const lt = sim.state.launchTemplates.get(id);
          return { LaunchTemplate: lt ? launchTemplateOut(lt) : { LaunchTemplateId: id } };
        },
      );
    },

    CreateLaunchTemplateVersion(input, ctx) {
      dryRun(input);
      const { sim } = ctx;
      const lt = sim.launchTemplates.get(str(input['LaunchTemplateId']), str(input['LaunchTemplateName']));
      const data = (input['LaunchTemplateData'] ?? {}) as Record<string, unknown>;
      validateTemplateData(sim, data);
      const v = sim.launchTemplates.createVersion(lt, data, str(input['SourceVersion']), str(input['VersionDescription']));
      return { LaunchTemplateVersion: { LaunchTemplateId: lt.id, LaunchTemplateName: lt.name, VersionNumber: v.versionNumber, DefaultVersion: v.versionNumber === lt.defaultVersion, CreateTime: new Date(v.createdAtMs), LaunchTemplateData: structuredClone(v.data) } };
    },

    DeleteLaunchTemplate(input, ctx) {
      dryRun(input);
      const { sim } = ctx;
      const lt = sim.launchTemplates.get(str(input['LaunchTemplateId']), str(input['LaunchTemplateName']));
      sim.launchTemplates.delete(lt);
      return { LaunchTemplate: launchTemplateOut(lt) };
    },

    DescribeLaunchTemplates(input, ctx) {
      const { sim } = ctx;
      const ids = strs(input['LaunchTemplateIds']);
      const names = strs(input['LaunchTemplateNames']);
      const all = [
        ...ids.map((id) => sim.launchTemplates.get(id, null)),
        ...names.map((n) => sim.launchTemplates.get(null, n)),
      ];
      const pool = ids.length + names.length > 0 ? all : [...sim.state.launchTemplates.values()].filter((lt) => !lt.deleted);
      const matched = applyFilters(pool, filtersOf(input), filterSpec('DescribeLaunchTemplates', { 'launch-template-name': (lt) => [lt.name], 'create-time': (lt) => [new Date(lt.createdAtMs).toISOString()] }, (lt) => lt.tags));
      const p = page(matched, input as { MaxResults?: number; NextToken?: string }, { min: 1, max: 200, defaultAll: true }, 'DescribeLaunchTemplates');
      return { LaunchTemplates: p.items.map(launchTemplateOut), ...(p.nextToken !== undefined && { NextToken: p.nextToken }) };
    },

    DescribeLaunchTemplateVersions(input, ctx) {
      const { sim } = ctx;
      const lt = sim.launchTemplates.get(str(input['LaunchTemplateId']), str(input['LaunchTemplateName']));
      const wanted = strs(input['Versions']);
      const versions = wanted.length > 0
        ? wanted.map((w) => {
            const v = sim.launchTemplates.resolve(lt, w);
            if (!v) throw fault('InvalidLaunchTemplateId.VersionNotFound', `Could not find launch template version ${w} for ${lt.id}`);
            return v;
          })
        : [...lt.versions];
      return {
        LaunchTemplateVersions: versions.map((v) => ({
          LaunchTemplateId: lt.id,
          LaunchTemplateName: lt.name,
          VersionNumber: v.versionNumber,
          DefaultVersion: v.versionNumber === lt.defaultVersion,
          CreateTime: new Date(v.createdAtMs),
          ...(v.description !== null && { VersionDescription: v.description }),
          LaunchTemplateData: structuredClone(v.data),
        })),
      };
    },

    RunInstances(input) {
      dryRun(input);
      throw fault('UnsupportedOperation', "Berth's simulated account launches instances only through Auto Scaling groups; RunInstances is answered for DryRun requests only.");
    },

    TerminateInstances(input, ctx) {
      dryRun(input);
      const { sim } = ctx;
      const ids = strs(input['InstanceIds']);
      const before = ids.map((id) => sim.ec2.instance(id, true)).map((i) => ({ id: i.id, state: i.ec2State }));
      for (const id of ids) sim.ec2.lose(id, 'Client.UserInitiatedShutdown: User initiated shutdown');
      return {
        TerminatingInstances: before.map((b) => ({
          InstanceId: b.id,
          PreviousState: { Code: STATE_CODE[b.state], Name: b.state },
          CurrentState: { Code: STATE_CODE[sim.state.instances.get(b.id)?.ec2State ?? 'terminated'], Name: sim.state.instances.get(b.id)?.ec2State ?? 'terminated' },
        })),
      };
    },
  };
}

const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|xlarge|\d+xlarge|metal(-\d+xl)?)$/;

/** What EC2 checks in LaunchTemplateData when the template is created (not at launch). */
function validateTemplateData(sim: SimContext, data: Record<string, unknown>): void {
  const userData = data['UserData'];
  if (typeof userData === 'string' && Buffer.from(userData, 'base64').length > 16 * 1024) {
    throw fault('InvalidParameterValue', 'User data is limited to 16384 bytes');
  }
  const type = data['InstanceType'];
  if (typeof type === 'string' && !INSTANCE_TYPE.test(type)) throw fault('InvalidParameterValue', `Invalid instance type: ${type}`);
  for (const t of Array.isArray(data['TagSpecifications']) ? (data['TagSpecifications'] as TagSpec[]) : []) {
    if (t.ResourceType === undefined || t.ResourceType === '') throw fault('InvalidTagSpecification.Malformed', 'The resource type cannot be null or empty.');
    if (!LAUNCH_TAGGABLE.has(t.ResourceType)) throw fault('InvalidParameterValue', `'${t.ResourceType}' is not a valid taggable resource type for this operation.`);
  }
  void sim;
}

/** The simulated EC2 API. */
export function createEc2Service(): SimService {
  return { name: 'ec2', operations: { ...operations(), ...networkOperations() } };
}

export { instanceOut, volumeOut, eniOut };
