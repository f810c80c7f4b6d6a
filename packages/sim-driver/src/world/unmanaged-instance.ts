import { fault } from '../aws/aws-error.js';
import type { SimContext } from '../sim-context.js';
import type { SimEni, SimInstance, SimVolume, Tags } from './entities.js';

/** An instance Berth did not launch (`sim.account.createUnmanagedInstance`), as RunInstances makes one. */
export interface UnmanagedInstanceOptions {
  /** The subnet it runs in (the account's, e.g. one `prepare(spec)` made). */
  readonly subnetId: string;
  /** The private IP of its primary network interface, which the launch creates (EC2-9). */
  readonly ip: string;
  /** Security groups of that interface. Default: none. */
  readonly securityGroupIds?: readonly string[];
  /** Default `ami-00000000000000000`, registered when missing. */
  readonly imageId?: string;
  readonly instanceType?: string;
  /** The data volume the launch creates from its block-device mapping. */
  readonly dataVolume?: {
    readonly sizeGiB?: number;
    readonly type?: string;
    readonly encrypted?: boolean;
    /** Default `/dev/sdf`. */
    readonly device?: string;
    /** EBS-4: true by default for a volume created at launch. */
    readonly deleteOnTermination?: boolean;
    /** What it holds: a file system with this many application log entries (null: blank). Default xfs with 0 entries. */
    readonly data?: { readonly fileSystem: 'xfs' | 'ext4'; readonly appIndex: number } | null;
    /** Default: the subnet's AZ (give another to test the AZ check). */
    readonly az?: string;
    readonly tags?: Tags;
  };
  /** EC2-9: DeleteOnTermination of the primary interface the launch creates. Default true. */
  readonly eniDeleteOnTermination?: boolean;
  /** Tags of the instance, its interface and its volumes. */
  readonly tags?: Tags;
  /** The application member it runs: the node id of the quorum app (null: none). Default null. */
  readonly member?: string | null;
}

/** What `createUnmanagedInstance` made. */
export interface UnmanagedInstance {
  readonly instanceId: string;
  readonly eniId: string;
  readonly rootVolumeId: string;
  readonly volumeId: string;
}

/**
 * EC2-9: RunInstances outside Berth, already `running`: a primary network interface the launch
 * creates (device index 0, DeleteOnTermination true unless told), a root volume and a data volume
 * from its block-device mapping (DeleteOnTermination true, EBS-4), and optionally the
 * application member it runs with its data on that volume. No bootstrap runs on it.
 */
export function createUnmanagedInstance(ctx: SimContext, o: UnmanagedInstanceOptions): UnmanagedInstance {
  const { state } = ctx;
  const subnet = state.subnets.get(o.subnetId);
  if (!subnet) throw fault('InvalidSubnetID.NotFound', `The subnet ID '${o.subnetId}' does not exist`);
  const imageId = o.imageId ?? 'ami-00000000000000000';
  if (!state.images.has(imageId)) state.images.set(imageId, { id: imageId, name: `image ${imageId}`, rootDeviceName: '/dev/xvda', state: 'available' });
  const image = state.images.get(imageId) as NonNullable<ReturnType<typeof state.images.get>>;
  const tags = { ...o.tags };
  // The interface: made as CreateNetworkInterface would (its IP checks), then attached at index 0.
  const eni: SimEni = ctx.ec2.createNetworkInterface({ subnetId: subnet.id, ip: o.ip, securityGroupIds: o.securityGroupIds ?? [], description: 'Primary network interface', tags });
  const now = ctx.scheduler.nowMs;
  const id = state.nextId('i');
  const inst: SimInstance = {
    id,
    clusterName: null,
    nodeId: o.member ?? null,
    groupName: null,
    az: subnet.az,
    subnetId: subnet.id,
    vpcId: subnet.vpcId,
    eniId: eni.id,
    privateIp: eni.ip,
    imageId,
    instanceType: o.instanceType ?? 'm5.large',
    keyName: null,
    launchTemplate: null,
    userData: null,
    agentConfig: null,
    iamInstanceProfile: null,
    rootVolumeId: null,
    rootDeviceName: image.rootDeviceName,
    metadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 1, httpEndpoint: 'enabled' },
    ec2State: 'running',
    lifecycleState: 'InService',
    healthStatus: 'Healthy',
    tags,
    launchedAtMs: now,
    visibleAtMs: now,
    terminatedAtMs: null,
    stateReason: null,
    spot: false,
    spotNoticeAtMs: null,
    scheduledEvents: [],
    generation: 0,
    hookTimeoutEv: null,
    hookGlobalDeadlineMs: null,
  };
  state.instances.set(id, inst);
  state.indexInstanceTags(id, inst.tags, true);
  eni.status = 'in-use';
  eni.attachedInstanceId = id;
  eni.deviceIndex = 0;
  eni.deleteOnTermination = o.eniDeleteOnTermination ?? true;
  const root = volume(ctx, { az: subnet.az, sizeGiB: 8, type: 'gp3', encrypted: false, tags });
  root.attachment = { instanceId: id, device: image.rootDeviceName, state: 'attached', deleteOnTermination: true, attachedAtMs: now };
  (inst as { rootVolumeId: string | null }).rootVolumeId = root.id;
  const dv = o.dataVolume ?? {};
  const data = volume(ctx, { az: dv.az ?? subnet.az, sizeGiB: dv.sizeGiB ?? 100, type: dv.type ?? 'gp3', encrypted: dv.encrypted ?? false, tags: { ...tags, ...dv.tags } });
  const content = dv.data === undefined ? { fileSystem: 'xfs' as const, appIndex: 0 } : dv.data;
  data.data = content === null ? null : { fileSystem: content.fileSystem, fsSizeGiB: data.sizeGiB, appIndex: content.appIndex };
  if (data.az === subnet.az) data.attachment = { instanceId: id, device: dv.device ?? '/dev/sdf', state: 'attached', deleteOnTermination: dv.deleteOnTermination ?? true, attachedAtMs: now };
  else data.state = 'available';
  ctx.trace.record('instance.launched', { instanceId: id, unmanaged: true, az: subnet.az, eniId: eni.id, ip: eni.ip, volumeId: data.id });
  if (o.member !== undefined && o.member !== null && data.attachment) ctx.app.startMember(o.member, id, data);
  return { instanceId: id, eniId: eni.id, rootVolumeId: root.id, volumeId: data.id };
}

function volume(ctx: SimContext, p: { az: string; sizeGiB: number; type: string; encrypted: boolean; tags: Tags }): SimVolume {
  const now = ctx.scheduler.nowMs;
  const vol: SimVolume = {
    id: ctx.state.nextId('vol'),
    az: p.az,
    sizeGiB: p.sizeGiB,
    type: p.type,
    iops: p.type === 'gp3' ? 3000 : null,
    throughputMiBps: p.type === 'gp3' ? 125 : null,
    encrypted: p.encrypted,
    kmsKeyArn: null,
    state: 'in-use',
    attachment: null,
    tags: { ...p.tags },
    snapshotId: null,
    launchedWith: null,
    data: null,
    createdAtMs: now,
    visibleAtMs: now,
    modification: null,
    modificationStarts: [],
    attachEv: null,
  };
  ctx.state.volumes.set(vol.id, vol);
  return vol;
}
