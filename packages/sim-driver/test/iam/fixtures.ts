import type { ClusterSpec } from '@berth/core';
import { CONTROLLER_ROLE, SimIam } from '../../src/aws/iam/sim-iam.js';
import type { Caller, ServiceContext } from '../../src/aws/service.js';
import type { ServiceName } from '../../src/aws/aws-error.js';
import type { SimContext } from '../../src/sim-context.js';
import type { SimEni, SimGroup, SimInstance, SimLaunchTemplate, SimVolume, Tags } from '../../src/world/entities.js';
import { WorldState } from '../../src/world/world-state.js';

export const ACCOUNT = { accountId: '123456789012', region: 'eu-west-1', partition: 'aws' } as const;

/**
 * A hand-built simulated account: the world's entities, IAM, and a ServiceContext for the
 * authorizers (only `state` and `iam` of the SimContext are read by them; `dynamodb` may
 * expose `keySchema`, `sqs` `queuePolicy`).
 */
export class TestWorld {
  readonly state = new WorldState();
  readonly iam = new SimIam(ACCOUNT);
  readonly dynamodb: Record<string, unknown> = {};
  readonly sqs: Record<string, unknown> = {};
  readonly vpcId = 'vpc-0000000000000000a';

  get sim(): SimContext {
    return { state: this.state, iam: this.iam, account: ACCOUNT, dynamodb: this.dynamodb, sqs: this.sqs } as unknown as SimContext;
  }

  ctx(service: ServiceName, operation: string, caller: Caller = this.iam.controllerCaller()): ServiceContext {
    return { sim: this.sim, caller, service, operation, ...ACCOUNT };
  }

  /** The subnets, security groups, image and profile a spec names (as SimAccount.prepare makes them). */
  prepare(spec: ClusterSpec): void {
    this.state.vpcs.set(this.vpcId, { id: this.vpcId, cidr: '10.0.0.0/8' });
    for (const s of spec.subnets) this.state.subnets.set(s.id, { id: s.id, az: s.az, cidr: s.cidr, vpcId: this.vpcId });
    for (const g of spec.securityGroupIds) this.state.securityGroups.set(g, { id: g, vpcId: this.vpcId, name: `sg-for-${spec.name}` });
    this.state.securityGroups.set('sg-default0000000000', { id: 'sg-default0000000000', vpcId: this.vpcId, name: 'default' });
    for (const image of new Set([spec.image, ...spec.nodes.map((n) => n.image)])) this.state.images.set(image, { id: image, name: image, rootDeviceName: '/dev/xvda', state: 'available' });
    this.iam.ensureInstanceProfile(spec.iamInstanceProfile, spec.iamInstanceProfile);
  }

  addEni(p: { subnetId: string; ip: string; tags: Tags; securityGroupIds?: string[] }): SimEni {
    const subnet = this.state.subnets.get(p.subnetId);
    const eni: SimEni = {
      id: this.state.nextId('eni'),
      subnetId: p.subnetId,
      vpcId: subnet?.vpcId ?? this.vpcId,
      az: subnet?.az ?? `${ACCOUNT.region}a`,
      ip: p.ip,
      description: '',
      status: 'available',
      attachedInstanceId: null,
      tags: { ...p.tags },
      securityGroupIds: p.securityGroupIds ?? [],
      visibleAtMs: 0,
      deleted: false,
    };
    this.state.enis.set(eni.id, eni);
    return eni;
  }

  addVolume(p: { az: string; tags: Tags; sizeGiB?: number; kmsKeyArn?: string | null }): SimVolume {
    const v: SimVolume = {
      id: this.state.nextId('vol'),
      az: p.az,
      sizeGiB: p.sizeGiB ?? 100,
      type: 'gp3',
      iops: 3000,
      throughputMiBps: 125,
      encrypted: p.kmsKeyArn !== undefined && p.kmsKeyArn !== null,
      kmsKeyArn: p.kmsKeyArn ?? null,
      state: 'available',
      attachment: null,
      tags: { ...p.tags },
      snapshotId: null,
      launchedWith: null,
      data: null,
      createdAtMs: 0,
      visibleAtMs: 0,
      modification: null,
      modificationStarts: [],
      attachEv: null,
    };
    this.state.volumes.set(v.id, v);
    return v;
  }

  addInstance(p: { eni: SimEni; tags: Tags; profile: string | null; groupName?: string | null }): SimInstance {
    const i: SimInstance = {
      id: this.state.nextId('i'),
      clusterName: p.tags['berth:cluster'] ?? null,
      nodeId: p.tags['berth:node'] ?? null,
      groupName: p.groupName ?? null,
      az: p.eni.az,
      subnetId: p.eni.subnetId,
      vpcId: p.eni.vpcId,
      eniId: p.eni.id,
      privateIp: p.eni.ip,
      imageId: 'ami-0123456789abcdef0',
      instanceType: 'm6i.large',
      keyName: null,
      launchTemplate: null,
      userData: null,
      agentConfig: null,
      iamInstanceProfile: p.profile,
      rootVolumeId: null,
      rootDeviceName: '/dev/xvda',
      metadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 1, httpEndpoint: 'enabled' },
      ec2State: 'running',
      lifecycleState: 'Pending:Wait',
      healthStatus: 'Healthy',
      tags: { ...p.tags },
      launchedAtMs: 0,
      visibleAtMs: 0,
      terminatedAtMs: null,
      stateReason: null,
      spot: false,
      spotNoticeAtMs: null,
      scheduledEvents: [],
      generation: 0,
      hookTimeoutEv: null,
      hookGlobalDeadlineMs: null,
    };
    p.eni.status = 'in-use';
    p.eni.attachedInstanceId = i.id;
    this.state.instances.set(i.id, i);
    if (p.groupName) this.state.groups.get(p.groupName)?.instanceIds.push(i.id);
    return i;
  }

  addLaunchTemplate(p: { name: string; tags: Tags; data: Record<string, unknown> }): SimLaunchTemplate {
    const lt: SimLaunchTemplate = { id: this.state.nextId('lt'), name: p.name, tags: { ...p.tags }, versions: [{ versionNumber: 1, description: null, data: structuredClone(p.data), createdAtMs: 0 }], defaultVersion: 1, createdAtMs: 0, deleted: false };
    this.state.launchTemplates.set(lt.id, lt);
    return lt;
  }

  addGroup(p: { name: string; tags: Tags; launchTemplate: SimLaunchTemplate; az: string }): SimGroup {
    const g: SimGroup = {
      name: p.name,
      arn: `arn:aws:autoscaling:${ACCOUNT.region}:${ACCOUNT.accountId}:autoScalingGroup:${this.state.nextId('uuid', 8)}:autoScalingGroupName/${p.name}`,
      tags: new Map(Object.entries(p.tags).map(([k, v]) => [k, { value: v, propagateAtLaunch: true }])),
      minSize: 1,
      maxSize: 1,
      desiredCapacity: 1,
      launchTemplate: { id: p.launchTemplate.id, name: p.launchTemplate.name, version: '1' },
      availabilityZones: [p.az],
      vpcZoneIdentifier: '',
      hooks: [],
      suspended: new Set(),
      instanceIds: [],
      lastActivityError: null,
      activities: [],
      launchEv: null,
      launchFailures: 0,
      deleting: false,
      createdAtMs: 0,
    };
    this.state.groups.set(g.name, g);
    return g;
  }

  /** The caller an instance's bootstrap is. */
  instanceCaller(i: SimInstance): Caller {
    const c = this.iam.instanceCaller({ id: i.id, iamInstanceProfile: i.iamInstanceProfile, privateIp: i.privateIp, vpcId: i.vpcId });
    if (!c) throw new Error(`instance ${i.id} has no instance profile`);
    return c;
  }
}

export { CONTROLLER_ROLE };
