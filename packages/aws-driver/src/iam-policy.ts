import { nodeRecordName, type ClusterSpec } from '@berth/core';
import { changeQueueName, changeRuleName, normalizeDnsName, TAG } from './names.js';

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
  /** Default `aws` (`aws-cn`, `aws-us-gov`). */
  readonly partition?: string;
  /** The lock table; default `berth-locks`. */
  readonly lockTable?: string;
  /** The role the instance profile carries, for `iam:PassRole`. Default: any role, passed to EC2 only. */
  readonly instanceRoleName?: string;
  /**
   * The change feed (the driver's `changeQueue` option): SQS on the cluster's queue and
   * EventBridge on its rule. Default false.
   */
  readonly changeQueue?: boolean | { readonly queueName?: string };
}

/**
 * Least-privilege IAM policies for one cluster: `controller` for whoever runs Berth (apply,
 * roll, delete, lock) and `node` for the instance profile the bootstrap runs under. Resources
 * are scoped by the `berth:cluster` tag wherever the service supports tag conditions, and by
 * ARN (subnets, security groups, images, hosted zone, lock table, group names) elsewhere.
 * Describe/List calls cannot be scoped by AWS and use `*`.
 *
 * @example
 * ```ts
 * const { controller, node } = iamPolicyFor(spec, { accountId: '123456789012' });
 * fs.writeFileSync('berth-controller.json', JSON.stringify(controller, null, 2));
 * ```
 */
export function iamPolicyFor(spec: ClusterSpec, options: IamPolicyOptions = {}): { readonly controller: IamPolicyDocument; readonly node: IamPolicyDocument } {
  const part = options.partition ?? 'aws';
  const acct = options.accountId ?? '*';
  const region = spec.region;
  const ec2 = (type: string, id = '*') => `arn:${part}:ec2:${region}:${acct}:${type}/${id}`;
  const onCluster = (prefix: 'aws:ResourceTag' | 'aws:RequestTag' | 'autoscaling:ResourceTag') => ({ StringEquals: { [`${prefix}/${TAG.cluster}`]: spec.name } });
  const groupArn = `arn:${part}:autoscaling:${region}:${acct}:autoScalingGroup:*:autoScalingGroupName/berth-${spec.name}-*`;
  const kms = spec.nodes.map((n) => n.dataVolume.kmsKeyId).filter((k): k is string => k !== null);
  const images = [...new Set([spec.image, ...spec.nodes.map((n) => n.image)])];

  const controller: IamStatement[] = [
    {
      Sid: 'Describe',
      Effect: 'Allow',
      Action: [
        'ec2:DescribeInstances',
        'ec2:DescribeVolumes',
        'ec2:DescribeVolumesModifications',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeLaunchTemplates',
        'ec2:DescribeLaunchTemplateVersions',
        'ec2:DescribeSnapshots',
        'ec2:DescribeImages',
        'ec2:DescribeSubnets',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeInstanceTypes',
        'ec2:DescribeInstanceTypeOfferings',
        'ec2:DescribeKeyPairs',
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:DescribeAutoScalingInstances',
        'autoscaling:DescribeLifecycleHooks',
        'autoscaling:DescribeScalingActivities',
        'autoscaling:DescribeAccountLimits',
      ],
      Resource: '*',
    },
    {
      Sid: 'CreateTaggedResources',
      Effect: 'Allow',
      Action: ['ec2:CreateNetworkInterface', 'ec2:CreateVolume', 'ec2:CreateLaunchTemplate', 'ec2:CreateSnapshot'],
      Resource: [ec2('network-interface'), ec2('volume'), ec2('launch-template'), `arn:${part}:ec2:${region}::snapshot/*`],
      Condition: onCluster('aws:RequestTag'),
    },
    {
      Sid: 'CreateInTheClusterSubnetsAndGroups',
      Effect: 'Allow',
      Action: ['ec2:CreateNetworkInterface'],
      Resource: [...spec.subnets.map((s) => ec2('subnet', s.id)), ...spec.securityGroupIds.map((g) => ec2('security-group', g))],
    },
    {
      Sid: 'SnapshotClusterVolumes',
      Effect: 'Allow',
      Action: ['ec2:CreateSnapshot'],
      Resource: ec2('volume'),
      Condition: onCluster('aws:ResourceTag'),
    },
    {
      Sid: 'TagOnCreate',
      Effect: 'Allow',
      Action: ['ec2:CreateTags'],
      Resource: [ec2('network-interface'), ec2('volume'), ec2('launch-template'), `arn:${part}:ec2:${region}::snapshot/*`, ec2('instance')],
      Condition: { StringEquals: { 'ec2:CreateAction': ['CreateNetworkInterface', 'CreateVolume', 'CreateLaunchTemplate', 'CreateSnapshot', 'RunInstances'] } },
    },
    {
      Sid: 'ChangeClusterResources',
      Effect: 'Allow',
      Action: ['ec2:DeleteNetworkInterface', 'ec2:ModifyNetworkInterfaceAttribute', 'ec2:DeleteVolume', 'ec2:ModifyVolume', 'ec2:DeleteLaunchTemplate'],
      Resource: [ec2('network-interface'), ec2('volume'), ec2('launch-template')],
      Condition: onCluster('aws:ResourceTag'),
    },
    {
      Sid: 'ModifyEniSecurityGroups',
      Effect: 'Allow',
      Action: ['ec2:ModifyNetworkInterfaceAttribute'],
      Resource: spec.securityGroupIds.map((g) => ec2('security-group', g)),
    },
    {
      // Creating or updating a group with a template needs the caller's right to launch it.
      Sid: 'LaunchFromClusterTemplates',
      Effect: 'Allow',
      Action: ['ec2:RunInstances'],
      Resource: [ec2('launch-template')],
      Condition: onCluster('aws:ResourceTag'),
    },
    {
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
      Sid: 'CreateClusterGroups',
      Effect: 'Allow',
      Action: ['autoscaling:CreateAutoScalingGroup', 'autoscaling:CreateOrUpdateTags'],
      Resource: groupArn,
      Condition: onCluster('aws:RequestTag'),
    },
    {
      Sid: 'ManageClusterGroups',
      Effect: 'Allow',
      Action: [
        'autoscaling:UpdateAutoScalingGroup',
        'autoscaling:DeleteAutoScalingGroup',
        'autoscaling:PutLifecycleHook',
        'autoscaling:DeleteLifecycleHook',
        'autoscaling:CompleteLifecycleAction',
        'autoscaling:TerminateInstanceInAutoScalingGroup',
        'autoscaling:CreateOrUpdateTags',
        'autoscaling:SuspendProcesses',
        'autoscaling:ResumeProcesses',
      ],
      Resource: groupArn,
      Condition: onCluster('autoscaling:ResourceTag'),
    },
  ];
  if (spec.iamInstanceProfile !== null) {
    controller.push({
      Sid: 'PassInstanceRole',
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: `arn:${part}:iam::${acct}:role/${options.instanceRoleName ?? '*'}`,
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    });
  }
  if (spec.dns) {
    const names = [spec.dns.clusterRecord, ...spec.nodes.map((n) => nodeRecordName(spec.dns!, n.id))].map(normalizeDnsName);
    controller.push(
      {
        Sid: 'ClusterRecords',
        Effect: 'Allow',
        Action: ['route53:ChangeResourceRecordSets'],
        Resource: `arn:${part}:route53:::hostedzone/${spec.dns.hostedZoneId}`,
        Condition: {
          'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': names, 'route53:ChangeResourceRecordSetsRecordTypes': ['A'] },
        },
      },
      {
        Sid: 'ReadZone',
        Effect: 'Allow',
        Action: ['route53:ListResourceRecordSets', 'route53:GetHostedZone'],
        Resource: `arn:${part}:route53:::hostedzone/${spec.dns.hostedZoneId}`,
      },
      { Sid: 'ReadChanges', Effect: 'Allow', Action: ['route53:GetChange'], Resource: `arn:${part}:route53:::change/*` },
    );
  }
  controller.push({
    Sid: 'ClusterLease',
    Effect: 'Allow',
    Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DescribeTable', 'dynamodb:CreateTable'],
    Resource: `arn:${part}:dynamodb:${region}:${acct}:table/${options.lockTable ?? 'berth-locks'}`,
    Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [`berth#${spec.name}`] } },
  });
  if (options.changeQueue !== undefined && options.changeQueue !== false) {
    const queueName = (options.changeQueue === true ? undefined : options.changeQueue.queueName) ?? changeQueueName(spec.name);
    controller.push(
      {
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
        Sid: 'ChangeRule',
        Effect: 'Allow',
        Action: ['events:DescribeRule', 'events:PutRule', 'events:ListTargetsByRule', 'events:PutTargets', 'events:RemoveTargets', 'events:DeleteRule'],
        Resource: `arn:${part}:events:${region}:${acct}:rule/${changeRuleName(spec.name)}`,
      },
    );
  }
  if (kms.length > 0) {
    controller.push({
      Sid: 'EncryptWithClusterKey',
      Effect: 'Allow',
      Action: ['kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
      Resource: [...new Set(kms)],
      Condition: { StringEquals: { 'kms:ViaService': `ec2.${region}.amazonaws.com` } },
    });
  }

  const node: IamStatement[] = [
    { Sid: 'SeeItself', Effect: 'Allow', Action: ['ec2:DescribeInstances', 'ec2:DescribeVolumes', 'ec2:DescribeTags'], Resource: '*' },
    {
      // The instance and its volume both carry the cluster tag; AWS cannot compare the node
      // tags of two resources, so a node could attach another node's volume of the same cluster.
      Sid: 'AttachClusterVolume',
      Effect: 'Allow',
      Action: ['ec2:AttachVolume'],
      Resource: [ec2('volume'), ec2('instance')],
      Condition: onCluster('aws:ResourceTag'),
    },
    {
      Sid: 'ReportPhase',
      Effect: 'Allow',
      Action: ['ec2:CreateTags'],
      Resource: ec2('instance'),
      Condition: {
        StringEquals: { [`aws:ResourceTag/${TAG.cluster}`]: spec.name },
        'ForAllValues:StringEquals': { 'aws:TagKeys': [TAG.phase] },
      },
    },
    {
      Sid: 'CompleteOwnLaunch',
      Effect: 'Allow',
      Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
      Resource: groupArn,
      Condition: onCluster('autoscaling:ResourceTag'),
    },
  ];
  return Object.freeze({
    controller: Object.freeze({ Version: '2012-10-17' as const, Statement: Object.freeze(controller) }),
    node: Object.freeze({ Version: '2012-10-17' as const, Statement: Object.freeze(node) }),
  });
}
