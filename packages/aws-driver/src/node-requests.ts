import type {
  CreateNetworkInterfaceCommandInput,
  CreateVolumeCommandInput,
  RequestLaunchTemplateData,
  RunInstancesCommandInput,
  VolumeType,
  _InstanceType,
} from '@aws-sdk/client-ec2';
import { METADATA_OPTIONS, type ClusterSpec, type NodeSpec } from '@berth/core';
import { nodeTags, TAG, type Tag } from './names.js';

// The requests ensureNode sends, built in one place so that preflight's DryRun checks send the
// very same requests: a policy conditioned on aws:RequestTag (or a missing security group)
// judges a dry run by what it carries.

/** When a node's AMI does not say (DescribeImages found nothing): the usual root device name. */
export const DEFAULT_ROOT_DEVICE_NAME = '/dev/xvda';

/**
 * CreateNetworkInterface for the node's ENI: its fixed IP in its subnet, the spec's security
 * groups, the node's tags. No ClientToken: the IP is the idempotency key (a second create of
 * the same IP fails with `InvalidIPAddress.InUse`, and ensureNode adopts the holder if it is ours).
 */
export function networkInterfaceRequest(spec: ClusterSpec, node: NodeSpec): CreateNetworkInterfaceCommandInput {
  return {
    SubnetId: node.subnetId,
    PrivateIpAddress: node.ip,
    Groups: [...spec.securityGroupIds],
    Description: `berth ${spec.name}/${node.id}: primary interface (fixed IP)`,
    TagSpecifications: [{ ResourceType: 'network-interface', Tags: nodeTags(spec, node.id) }],
  };
}

/** The data volume's tags: the node's, `berth:volume=data`, and the node's IP (which the node policy matches). */
export function dataVolumeTags(spec: ClusterSpec, node: NodeSpec): Tag[] {
  return nodeTags(spec, node.id, { [TAG.volume]: 'data', [TAG.nodeIp]: node.ip });
}

/** CreateVolume for the node's data volume, without its ClientToken (ensureNode adds it). */
export function dataVolumeRequest(spec: ClusterSpec, node: NodeSpec): CreateVolumeCommandInput {
  const dv = node.dataVolume;
  const takesIops = dv.type === 'gp3' || dv.type === 'io1' || dv.type === 'io2';
  return {
    AvailabilityZone: node.az,
    Size: dv.sizeGiB,
    VolumeType: dv.type as VolumeType,
    ...(takesIops && dv.iops !== null && { Iops: dv.iops }),
    ...(dv.type === 'gp3' && dv.throughputMiBps !== null && { Throughput: dv.throughputMiBps }),
    Encrypted: dv.encrypted,
    ...(dv.encrypted && dv.kmsKeyId !== null && { KmsKeyId: dv.kmsKeyId }),
    ...(dv.snapshotId !== null && { SnapshotId: dv.snapshotId }),
    TagSpecifications: [{ ResourceType: 'volume', Tags: dataVolumeTags(spec, node) }],
  };
}

/** What a launch template and RunInstances share (the fields both request shapes accept as they are). */
interface InstanceLaunchFields {
  readonly ImageId: string;
  readonly InstanceType: _InstanceType;
  readonly KeyName?: string;
  readonly IamInstanceProfile?: { Name: string };
  readonly MetadataOptions: { HttpTokens: 'required' | 'optional'; HttpPutResponseHopLimit: number; HttpEndpoint: 'enabled' | 'disabled' };
  readonly BlockDeviceMappings: { DeviceName: string; Ebs: { VolumeSize: number; VolumeType: VolumeType; Encrypted: boolean; DeleteOnTermination: boolean } }[];
  readonly TagSpecifications: { ResourceType: 'instance' | 'volume'; Tags: Tag[] }[];
}

/**
 * Everything of the node's instance but its network and user data: image, type, key, instance
 * profile, IMDSv2, the root volume, and the tags of the instance (with the revision) and of the
 * volumes the launch creates (`berth:volume=root`, so they never pass for the data volume).
 */
function instanceLaunchFields(spec: ClusterSpec, node: NodeSpec, revision: string, rootDeviceName: string): InstanceLaunchFields {
  return {
    ImageId: node.image,
    InstanceType: spec.instanceType as _InstanceType,
    ...(spec.keyName !== null && { KeyName: spec.keyName }),
    ...(spec.iamInstanceProfile !== null && { IamInstanceProfile: { Name: spec.iamInstanceProfile } }),
    MetadataOptions: {
      HttpTokens: METADATA_OPTIONS.httpTokens as 'required',
      HttpPutResponseHopLimit: METADATA_OPTIONS.httpPutResponseHopLimit,
      HttpEndpoint: METADATA_OPTIONS.httpEndpoint as 'enabled',
    },
    BlockDeviceMappings: [
      {
        DeviceName: rootDeviceName,
        Ebs: { VolumeSize: spec.rootVolume.sizeGiB, VolumeType: spec.rootVolume.type as VolumeType, Encrypted: spec.rootVolume.encrypted, DeleteOnTermination: true },
      },
    ],
    TagSpecifications: [
      { ResourceType: 'instance', Tags: nodeTags(spec, node.id, { [TAG.revision]: revision }) },
      { ResourceType: 'volume', Tags: nodeTags(spec, node.id, { [TAG.volume]: 'root', [TAG.revision]: revision }) },
    ],
  };
}

/**
 * The node's launch template data: {@link instanceLaunchFields}, the user data, and the node's
 * own ENI as device index 0 — the instance gets the fixed IP, and its security groups come from
 * the ENI (AWS rejects groups on the template then).
 */
export function launchTemplateData(
  spec: ClusterSpec,
  node: NodeSpec,
  revision: string,
  launch: { readonly rootDeviceName: string; readonly userData: string; readonly networkInterfaceId: string; readonly onDemand?: boolean },
): RequestLaunchTemplateData {
  return {
    ...instanceLaunchFields(spec, node, revision, launch.rootDeviceName),
    UserData: launch.userData,
    NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: launch.networkInterfaceId, DeleteOnTermination: false }],
    // SPOT-1: a spot node's group launches spot through its template (one-time, terminate: Auto
    // Scaling launches the next one). The on-demand fallback template leaves it out.
    ...(node.capacity.spot && !launch.onDemand && { InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' } } }),
  };
}

/**
 * The RunInstances that a launch from the node's template amounts to, for a DryRun before the
 * ENI exists: the same fields, with a device-index-0 interface in the node's subnet carrying
 * the spec's security groups in place of the ENI (no IP: the node's own ENI may already hold
 * it). No user data: it plays no part in authorisation.
 */
export function runInstancesRequest(spec: ClusterSpec, node: NodeSpec, revision: string, rootDeviceName: string): RunInstancesCommandInput {
  return {
    ...instanceLaunchFields(spec, node, revision, rootDeviceName),
    MinCount: 1,
    MaxCount: 1,
    NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: node.subnetId, Groups: [...spec.securityGroupIds] }],
  };
}
