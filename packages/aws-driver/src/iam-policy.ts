import { nodeRecordName, type ClusterSpec } from '@berth/core';
import { changeQueueName, changeRuleName, normalizeDnsName, noticeRuleName, phaseRuleName, TAG } from './names.js';
import { partitionOf } from './partition.js';
import { fileSourceCheckStatements, fileSourceStatements } from './file-source-policy.js';

export interface IamStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export interface IamPolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly IamStatement[];
}

export interface IamPolicyOptions {
  /** Default `*` (any account): set it to pin every ARN. */
  readonly accountId?: string;
  /** Default: the partition of `spec.region` (`aws`, `aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`). */
  readonly partition?: string;
  /** The lock table; default `berth-locks`. */
  readonly lockTable?: string;
  /** The role the instance profile carries, for `iam:PassRole`. Default: any role, passed to EC2 only. */
  readonly instanceRoleName?: string;
  /**
   * The cluster's VPC. With it, the node statements that match the caller's private IP also
   * require `aws:Ec2InstanceSourceVpc` to be this VPC, as AWS advises: a private IP is unique
   * only within its VPC. Default: not checked (the cluster tag and the node role scope them).
   */
  readonly vpcId?: string;
  /**
   * The change feed (the driver's `changeQueue` option): SQS on the cluster's queue and
   * EventBridge on its rule. Default false.
   */
  readonly changeQueue?: boolean | { readonly queueName?: string };
  /**
   * Images of revisions the cluster may go back to (restoreLaunchTemplate after a failed
   * replacement): pointing a group at a template is authorised as a launch of it, image
   * included (docs/aws-behaviour.md IAM-4), so a policy that names only the new spec's images
   * denies the way back. When you regenerate the policy for a roll to a new image, pass the
   * images the cluster runs now. Default: none.
   */
  readonly rollbackImages?: readonly string[];
  /**
   * Nodes the cluster still has in AWS that the spec no longer lists, until
   * `apply({ removeNodes })` has removed them: their DNS records stay in the policy, so
   * deleteNode may delete them (the record names are otherwise the spec's nodes only). Default: none.
   */
  readonly formerNodes?: readonly string[];
}

/** Resolved by IAM for each request from the caller's instance role credentials (see the node policy). */
const CALLER_PRIMARY_IP = '${aws:EC2InstanceSourcePrivateIPv4}';

/**
 * Least-privilege IAM policies for one cluster: `controller` for whoever runs Berth (apply,
 * roll, delete, lock, preflight) and `node` for the instance profile the bootstrap runs under.
 * The controller gets exactly the actions the driver calls, plus what AWS checks on its behalf
 * (RunInstances, CreateTags and PassRole when a group is created or updated from a template;
 * the Auto Scaling service-linked role in a fresh account; KMS when EBS uses the spec's keys).
 * Resources are scoped by the `berth:cluster` tag wherever the service supports tag conditions,
 * and by ARN (subnets, security groups, images, hosted zone, lock table, group names)
 * elsewhere. Describe/List calls cannot be scoped by AWS and use `*`.
 *
 * The node policy lets an instance act only on itself and on its own node. Requests made with
 * an instance role's credentials carry `ec2:SourceInstanceARN` (the calling instance) and
 * `aws:EC2InstanceSourcePrivateIPv4` (the private IPv4 of the primary network interface the
 * credentials were delivered to). The instance side of a call is pinned to the caller with
 * `ArnEquals ec2:SourceInstanceARN = …:instance/${ec2:InstanceID}` — the pattern of AWS's own
 * VSS snapshot policy; `${ec2:SourceInstanceARN}` may not be used as a variable in `Resource`
 * (docs/aws-behaviour.md, IAM-9). Every Berth instance's primary interface
 * (device index 0) is its node's own ENI, whose fixed IP is the node's identity and never
 * moves; the node's data volume and group carry that IP as the tag `berth:node-ip`. So an
 * instance can attach a volume only to itself and only when the volume's `berth:node-ip` is
 * its own IP (and its `berth:cluster` this cluster), tag only itself (the phase tag), and
 * complete or heartbeat only the lifecycle action of its own node's group.
 *
 * @example
 * ```ts
 * const { controller, node } = iamPolicyFor(spec, { accountId: '123456789012' });
 * fs.writeFileSync('berth-controller.json', JSON.stringify(controller, null, 2));
 * ```
 */
export function iamPolicyFor(spec: ClusterSpec, options: IamPolicyOptions = {}): { readonly controller: IamPolicyDocument; readonly node: IamPolicyDocument } {
  const part = options.partition ?? partitionOf(spec.region);
  const acct = options.accountId ?? '*';
  const region = spec.region;
  const ec2 = (type: string, id = '*') => `arn:${part}:ec2:${region}:${acct}:${type}/${id}`;
  const onCluster = (prefix: 'aws:ResourceTag' | 'aws:RequestTag' | 'autoscaling:ResourceTag') => ({ StringEquals: { [`${prefix}/${TAG.cluster}`]: spec.name } });
  const groupArn = `arn:${part}:autoscaling:${region}:${acct}:autoScalingGroup:*:autoScalingGroupName/berth-${spec.name}-*`;
  const keyArn = (id: string) => (id.startsWith('arn:') ? id : `arn:${part}:kms:${region}:${acct}:${id.startsWith('alias/') ? id : `key/${id}`}`);
  const kms = [...new Set(spec.nodes.map((n) => n.dataVolume.kmsKeyId).filter((k): k is string => k !== null).map(keyArn))];
  const viaEc2 = { 'kms:ViaService': `ec2.${region}.amazonaws.com` };
  const images = [...new Set([spec.image, ...spec.nodes.map((n) => n.image), ...(options.rollbackImages ?? [])])];
  const snapshots = [...new Set(spec.nodes.map((n) => n.dataVolume.snapshotId).filter((s): s is string => s !== null))];

  const controller: IamStatement[] = [
    {
      // observe (the first six, and DescribeInstanceStatus for scheduled events), ensureNode/
      // deleteNode lookups (templates, hooks, images, snapshots), restoreLaunchTemplate
      // (templates, the group), waitForChange (DescribeInstances: whose instance a spot warning
      // names), replaceInstance (DescribeAutoScalingInstances), preflight (subnets, security
      // groups, instance types and offerings, key pairs, account limits).
      Sid: 'Describe',
      Effect: 'Allow',
      Action: [
        'ec2:DescribeInstances',
        'ec2:DescribeInstanceStatus',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeVolumes',
        'ec2:DescribeVolumesModifications',
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:DescribeScalingActivities',
        'ec2:DescribeLaunchTemplates',
        'autoscaling:DescribeLifecycleHooks',
        'ec2:DescribeImages',
        'ec2:DescribeSnapshots',
        'autoscaling:DescribeAutoScalingInstances',
        'ec2:DescribeSubnets',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeInstanceTypes',
        'ec2:DescribeInstanceTypeOfferings',
        // preflight's key-pair check runs only when the spec names a key pair.
        ...(spec.keyName !== null ? ['ec2:DescribeKeyPairs'] : []),
        'autoscaling:DescribeAccountLimits',
      ],
      Resource: '*',
    },
    {
      // preflight's network check (subnet-reachability.ts): route tables, NAT gateways, VPC endpoints.
      Sid: 'DescribeNetwork',
      Effect: 'Allow',
      Action: ['ec2:DescribeRouteTables', 'ec2:DescribeNatGateways', 'ec2:DescribeVpcEndpoints'],
      Resource: '*',
    },
    {
      // ensureNode (ENI, data volume, template): only resources created with the cluster tag;
      // preflight's DryRun sends the same requests.
      Sid: 'CreateTaggedResources',
      Effect: 'Allow',
      Action: ['ec2:CreateNetworkInterface', 'ec2:CreateVolume', 'ec2:CreateLaunchTemplate'],
      Resource: [ec2('network-interface'), ec2('volume'), ec2('launch-template')],
      Condition: onCluster('aws:RequestTag'),
    },
    {
      // deleteNode/snapshotVolume: snapshots created with the cluster tag.
      Sid: 'CreateTaggedSnapshots',
      Effect: 'Allow',
      Action: ['ec2:CreateSnapshot'],
      Resource: `arn:${part}:ec2:${region}::snapshot/*`,
      Condition: onCluster('aws:RequestTag'),
    },
    // A volume made from a snapshot: CreateVolume also authorises the snapshot (docs/aws-behaviour.md IAM-2), and only
    // the snapshots the spec names.
    ...(snapshots.length > 0
      ? [{ Sid: 'CreateVolumesFromSpecSnapshots', Effect: 'Allow' as const, Action: ['ec2:CreateVolume'], Resource: snapshots.map((id) => `arn:${part}:ec2:${region}::snapshot/${id}`) }]
      : []),
    {
      // ensureNode's CreateNetworkInterface also authorises the subnet and security groups it names.
      Sid: 'CreateInTheClusterSubnetsAndGroups',
      Effect: 'Allow',
      Action: ['ec2:CreateNetworkInterface'],
      Resource: [...spec.subnets.map((s) => ec2('subnet', s.id)), ...spec.securityGroupIds.map((g) => ec2('security-group', g))],
    },
    {
      // snapshotVolume and deleteNode's final snapshot: CreateSnapshot also authorises the source volume.
      Sid: 'SnapshotClusterVolumes',
      Effect: 'Allow',
      Action: ['ec2:CreateSnapshot'],
      Resource: ec2('volume'),
      Condition: onCluster('aws:ResourceTag'),
    },
    {
      // The TagSpecifications of the creates above, and of the launches a group makes from a
      // template (CreateAutoScalingGroup/UpdateAutoScalingGroup check it as RunInstances).
      Sid: 'TagOnCreate',
      Effect: 'Allow',
      Action: ['ec2:CreateTags'],
      Resource: [ec2('network-interface'), ec2('volume'), ec2('launch-template'), `arn:${part}:ec2:${region}::snapshot/*`, ec2('instance')],
      Condition: { StringEquals: { 'ec2:CreateAction': ['CreateNetworkInterface', 'CreateVolume', 'CreateLaunchTemplate', 'CreateSnapshot', 'RunInstances'] } },
    },
    {
      // ensureNode tags a data volume made before berth:node-ip existed (the node policy needs it);
      // deleteNode copies a removed node's deletion policy onto its volume before its group goes.
      Sid: 'TagClusterVolumesWithNodeIp',
      Effect: 'Allow',
      Action: ['ec2:CreateTags'],
      Resource: ec2('volume'),
      Condition: { ...onCluster('aws:ResourceTag'), 'ForAllValues:StringEquals': { 'aws:TagKeys': [TAG.nodeIp, TAG.deletionPolicy] } },
    },
    {
      // deleteNode (DeleteNetworkInterface, DeleteVolume, DeleteLaunchTemplate), ensureNode
      // (ModifyNetworkInterfaceAttribute for security groups, DeleteLaunchTemplate for
      // superseded revisions), modifyVolume (ModifyVolume).
      Sid: 'ChangeClusterResources',
      Effect: 'Allow',
      Action: ['ec2:DeleteNetworkInterface', 'ec2:ModifyNetworkInterfaceAttribute', 'ec2:DeleteVolume', 'ec2:ModifyVolume', 'ec2:DeleteLaunchTemplate'],
      Resource: [ec2('network-interface'), ec2('volume'), ec2('launch-template')],
      Condition: onCluster('aws:ResourceTag'),
    },
    {
      // ensureNode's ModifyNetworkInterfaceAttribute also authorises the groups it sets.
      Sid: 'ModifyEniSecurityGroups',
      Effect: 'Allow',
      Action: ['ec2:ModifyNetworkInterfaceAttribute'],
      Resource: spec.securityGroupIds.map((g) => ec2('security-group', g)),
    },
    {
      // CreateAutoScalingGroup/UpdateAutoScalingGroup with a template check the caller's right to launch it.
      Sid: 'LaunchFromClusterTemplates',
      Effect: 'Allow',
      Action: ['ec2:RunInstances'],
      Resource: [ec2('launch-template')],
      Condition: onCluster('aws:ResourceTag'),
    },
    {
      // ...and to the resources the launch uses; preflight's RunInstances DryRun needs the same.
      // Images: the spec's, and those restoreLaunchTemplate may go back to (rollbackImages).
      Sid: 'LaunchResources',
      Effect: 'Allow',
      Action: ['ec2:RunInstances'],
      Resource: [
        ec2('instance'),
        ec2('volume'),
        ec2('network-interface'),
        ...spec.subnets.map((s) => ec2('subnet', s.id)),
        ...spec.securityGroupIds.map((g) => ec2('security-group', g)),
        ...images.map((i) => `arn:${part}:ec2:${region}::image/${i}`),
        ...(spec.keyName !== null ? [ec2('key-pair', spec.keyName)] : []),
      ],
    },
    {
      // ensureNode's CreateAutoScalingGroup, whose Tags are also authorised as CreateOrUpdateTags.
      Sid: 'CreateClusterGroups',
      Effect: 'Allow',
      Action: ['autoscaling:CreateAutoScalingGroup', 'autoscaling:CreateOrUpdateTags'],
      Resource: groupArn,
      Condition: onCluster('aws:RequestTag'),
    },
    {
      // ensureNode (UpdateAutoScalingGroup, PutLifecycleHook, CreateOrUpdateTags, and
      // DeleteAutoScalingGroup for a group that names subnets), restoreLaunchTemplate
      // (UpdateAutoScalingGroup back to an earlier template of the node), deleteNode
      // (DeleteAutoScalingGroup), replaceInstance (TerminateInstanceInAutoScalingGroup),
      // completeLifecycle (CompleteLifecycleAction), setNodePaused (UpdateAutoScalingGroup and
      // CreateOrUpdateTags of the berth:paused mark; its removal: RemoveGroupMarks).
      Sid: 'ManageClusterGroups',
      Effect: 'Allow',
      Action: [
        'autoscaling:UpdateAutoScalingGroup',
        'autoscaling:PutLifecycleHook',
        'autoscaling:CreateOrUpdateTags',
        'autoscaling:DeleteAutoScalingGroup',
        'autoscaling:TerminateInstanceInAutoScalingGroup',
        'autoscaling:CompleteLifecycleAction',
      ],
      Resource: groupArn,
      Condition: onCluster('autoscaling:ResourceTag'),
    },
    {
      // Berth removes only its own marks from a group (IAM-18): resumeNode the berth:paused mark
      // and, for spot nodes, watch() the end of an on-demand fallback (berth:on-demand-since).
      Sid: 'RemoveGroupMarks',
      Effect: 'Allow',
      Action: ['autoscaling:DeleteTags'],
      Resource: groupArn,
      Condition: { ...onCluster('autoscaling:ResourceTag'), 'ForAllValues:StringEquals': { 'aws:TagKeys': [TAG.paused, ...(spec.nodes.some((n) => n.capacity.spot) ? [TAG.onDemandSince] : [])] } },
    },
    {
      // The first CreateAutoScalingGroup in an account creates Auto Scaling's service-linked role.
      Sid: 'AutoScalingServiceLinkedRole',
      Effect: 'Allow',
      Action: ['iam:CreateServiceLinkedRole'],
      Resource: `arn:${part}:iam::${acct}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
      Condition: { StringLike: { 'iam:AWSServiceName': 'autoscaling.amazonaws.com' } },
    },
  ];
  if (spec.iamInstanceProfile !== null) {
    controller.push({
      // CreateAutoScalingGroup/UpdateAutoScalingGroup with a template that names an instance
      // profile, and preflight's RunInstances DryRun, pass its role to EC2.
      Sid: 'PassInstanceRole',
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: `arn:${part}:iam::${acct}:role/${options.instanceRoleName ?? '*'}`,
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    });
  }
  if (spec.dns) {
    const names = [spec.dns.clusterRecord, ...spec.nodes.map((n) => nodeRecordName(spec.dns!, n.id)), ...(options.formerNodes ?? []).map((id) => nodeRecordName(spec.dns!, id))].map(normalizeDnsName);
    controller.push(
      {
        // ensureNode, setDns, deleteNode.
        Sid: 'ClusterRecords',
        Effect: 'Allow',
        Action: ['route53:ChangeResourceRecordSets'],
        Resource: `arn:${part}:route53:::hostedzone/${spec.dns.hostedZoneId}`,
        Condition: {
          'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': names, 'route53:ChangeResourceRecordSetsRecordTypes': ['A'] },
        },
      },
      {
        // ListResourceRecordSets: observe, ensureNode, deleteNode; GetHostedZone: preflight.
        Sid: 'ReadZone',
        Effect: 'Allow',
        Action: ['route53:ListResourceRecordSets', 'route53:GetHostedZone'],
        Resource: `arn:${part}:route53:::hostedzone/${spec.dns.hostedZoneId}`,
      },
    );
  }
  controller.push({
    // The lock (GetItem, UpdateItem) and ensureLockTable (DescribeTable, CreateTable): the
    // cluster's lease and a fleet member's watch lease on it (createFleet({ share })).
    Sid: 'ClusterLease',
    Effect: 'Allow',
    Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DescribeTable', 'dynamodb:CreateTable'],
    Resource: `arn:${part}:dynamodb:${region}:${acct}:table/${options.lockTable ?? 'berth-locks'}`,
    Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [`berth#${spec.name}`, `berth#${spec.name}#watch`] } },
  });
  if (options.changeQueue !== undefined && options.changeQueue !== false) {
    const queueName = (options.changeQueue === true ? undefined : options.changeQueue.queueName) ?? changeQueueName(spec.name);
    controller.push(
      {
        // ensureChangeQueue (GetQueueUrl, CreateQueue with tags, Get/SetQueueAttributes),
        // waitForChange (ReceiveMessage, DeleteMessageBatch, authorised as DeleteMessage),
        // deleteChangeQueue (DeleteQueue).
        Sid: 'ChangeQueue',
        Effect: 'Allow',
        Action: [
          'sqs:GetQueueUrl',
          'sqs:CreateQueue',
          'sqs:TagQueue',
          'sqs:GetQueueAttributes',
          'sqs:SetQueueAttributes',
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:DeleteQueue',
        ],
        Resource: `arn:${part}:sqs:${region}:${acct}:${queueName}`,
      },
      {
        // ensureChangeQueue (DescribeRule, PutRule, ListTargetsByRule, PutTargets), deleteChangeQueue
        // (RemoveTargets, DeleteRule): the change rule, the phase rule, and the spot-warning rule (capabilities.spot).
        Sid: 'ChangeRule',
        Effect: 'Allow',
        Action: ['events:DescribeRule', 'events:PutRule', 'events:ListTargetsByRule', 'events:PutTargets', 'events:RemoveTargets', 'events:DeleteRule'],
        Resource: [changeRuleName(spec.name), phaseRuleName(spec.name), noticeRuleName(spec.name)].map((r) => `arn:${part}:events:${region}:${acct}:rule/${r}`),
      },
    );
  }
  if (spec.loadBalancer) {
    controller.push(
      {
        // describeTargetGroups. ELBv2's Describe* actions take no resource type (docs/aws-behaviour.md ELB-13).
        Sid: 'DescribeTargetGroups',
        Effect: 'Allow',
        Action: ['elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetGroupAttributes', 'elasticloadbalancing:DescribeTargetHealth'],
        Resource: '*',
      },
      {
        // registerTargets, deregisterTargets: only in the spec's target groups.
        Sid: 'ClusterTargets',
        Effect: 'Allow',
        Action: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
        Resource: [...new Set(spec.loadBalancer.targetGroupArns)],
      },
    );
  }
  if (kms.length > 0) controller.push(...controllerKmsStatements(spec, kms, viaEc2));
  controller.push(...adoptionStatements(spec, ec2));

  const node: IamStatement[] = [
    {
      // The bootstrap's attach loop (describe-volumes by id; by tags only when the user data
      // carries no volume id) and its InService check when a lifecycle action is already completed.
      Sid: 'Describe',
      Effect: 'Allow',
      Action: ['ec2:DescribeVolumes', 'autoscaling:DescribeAutoScalingInstances'],
      Resource: '*',
    },
    {
      // attach-volume: the instance side is only the calling instance itself...
      Sid: 'AttachToItself',
      Effect: 'Allow',
      Action: ['ec2:AttachVolume'],
      Resource: ec2('instance'),
      Condition: { ArnEquals: { 'ec2:SourceInstanceARN': ec2('instance', '${ec2:InstanceID}') } },
    },
    {
      // ...and the volume side only this cluster's volume of the caller's node: its
      // berth:node-ip is the caller's primary (device index 0) IP, i.e. the node's fixed IP.
      Sid: 'AttachOwnVolume',
      Effect: 'Allow',
      Action: ['ec2:AttachVolume'],
      Resource: ec2('volume'),
      Condition: {
        StringEquals: {
          [`aws:ResourceTag/${TAG.cluster}`]: spec.name,
          [`aws:ResourceTag/${TAG.nodeIp}`]: CALLER_PRIMARY_IP,
          ...(options.vpcId !== undefined && { 'aws:Ec2InstanceSourceVpc': options.vpcId }),
        },
      },
    },
    {
      // set_phase: the berth:phase tag, on the calling instance only.
      Sid: 'ReportPhase',
      Effect: 'Allow',
      Action: ['ec2:CreateTags'],
      Resource: ec2('instance'),
      Condition: {
        ArnEquals: { 'ec2:SourceInstanceARN': ec2('instance', '${ec2:InstanceID}') },
        'ForAllValues:StringEquals': { 'aws:TagKeys': [TAG.phase] },
      },
    },
    {
      // complete-lifecycle-action and record-lifecycle-action-heartbeat: only on the caller's node's group.
      Sid: 'CompleteOwnLaunch',
      Effect: 'Allow',
      Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
      Resource: groupArn,
      Condition: {
        StringEquals: {
          [`autoscaling:ResourceTag/${TAG.cluster}`]: spec.name,
          [`autoscaling:ResourceTag/${TAG.nodeIp}`]: CALLER_PRIMARY_IP,
          ...(options.vpcId !== undefined && { 'aws:Ec2InstanceSourceVpc': options.vpcId }),
        },
      },
    },
  ];
  if (kms.length > 0) {
    // attach-volume of an encrypted volume: EC2 creates a grant and decrypts the volume's data
    // key with the caller's (the node's) permissions.
    node.push(
      {
        Sid: 'AttachEncryptedVolumeGrant',
        Effect: 'Allow',
        Action: ['kms:CreateGrant'],
        Resource: kms,
        Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' }, StringEquals: viaEc2 },
      },
      { Sid: 'AttachEncryptedVolume', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: kms, Condition: { StringEquals: viaEc2 } },
    );
  }
  // bootstrap.files[].source: the node reads exactly its files' parameters and objects.
  node.push(...fileSourceStatements(spec, part, acct));
  controller.push(...fileSourceCheckStatements(spec, part));
  return Object.freeze({
    controller: Object.freeze({ Version: '2012-10-17' as const, Statement: Object.freeze(controller) }),
    node: Object.freeze({ Version: '2012-10-17' as const, Statement: Object.freeze(node) }),
  });
}

/**
 * ensureNode's CreateVolume with the spec's keys: EBS generates the volume's data key
 * (GenerateDataKeyWithoutPlaintext), checks the key (DescribeKey) and creates a grant for
 * itself, all with the caller's permissions and only via EC2. Decrypt and ReEncrypt* only when
 * a node's volume comes from a snapshot: EBS re-encrypts the snapshot's data key under the
 * volume's key then (a snapshot under a key the spec does not name also needs them on that key,
 * which this policy cannot know).
 */
function controllerKmsStatements(spec: ClusterSpec, kms: readonly string[], viaEc2: Record<string, string>): IamStatement[] {
  const statements: IamStatement[] = [
    {
      Sid: 'CreateVolumeKeyGrant',
      Effect: 'Allow',
      Action: ['kms:CreateGrant'],
      Resource: kms,
      Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' }, StringEquals: viaEc2 },
    },
    { Sid: 'CreateVolumeWithKey', Effect: 'Allow', Action: ['kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'], Resource: kms, Condition: { StringEquals: viaEc2 } },
  ];
  if (spec.nodes.some((n) => n.dataVolume.kmsKeyId !== null && n.dataVolume.snapshotId !== null)) {
    statements.push({ Sid: 'RestoreSnapshotWithKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'], Resource: kms, Condition: { StringEquals: viaEc2 } });
  }
  return statements;
}

/**
 * adopt() (docs/adopt.md), only while a node's spec names resources to adopt, and only those:
 * DeleteOnTermination=false on the ENI's attachment (ModifyNetworkInterfaceAttribute, which also
 * authorises the instance it is attached to) and on the volume's (ModifyInstanceAttribute), and
 * tagging both with this cluster's tag. The unmanaged instance carries no Berth tag, so its side
 * is scoped to the region and account only; regenerate the policy without `adopt` afterwards.
 */
function adoptionStatements(spec: ClusterSpec, ec2: (type: string, id?: string) => string): IamStatement[] {
  const adopting = spec.nodes.flatMap((n) => (n.adopt ? [n.adopt] : []));
  if (adopting.length === 0) return [];
  const enis = adopting.map((a) => ec2('network-interface', a.eniId));
  const volumes = adopting.map((a) => ec2('volume', a.volumeId));
  return [
    { Sid: 'AdoptKeepOnTermination', Effect: 'Allow', Action: ['ec2:ModifyNetworkInterfaceAttribute', 'ec2:ModifyInstanceAttribute'], Resource: [...enis, ec2('instance')] },
    { Sid: 'AdoptTag', Effect: 'Allow', Action: ['ec2:CreateTags'], Resource: [...enis, ...volumes], Condition: { StringEquals: { [`aws:RequestTag/${TAG.cluster}`]: spec.name } } },
  ];
}
