import { beforeAll, describe, expect, it } from 'vitest';
import type { ServiceName } from '../../src/aws/aws-error.js';
import { AUTHORIZERS } from '../../src/aws/iam/authorizers.js';
import { normalizeRecordName } from '../../src/aws/iam/authorize-route53.js';
import type { IamEvaluator } from '../../src/aws/iam/iam-decision.js';
import { loadIamSimulateEvaluator } from '../../src/aws/iam/iam-simulate-evaluator.js';
import type { AuthorizationCheck } from '../../src/aws/service.js';
import type { SimEni, SimGroup, SimInstance, SimVolume } from '../../src/world/entities.js';
import { ACCOUNT, TestWorld } from './fixtures.js';

const { accountId: ACCT, region: REGION } = ACCOUNT;
const ec2 = (type: string, id: string) => `arn:aws:ec2:${REGION}:${ACCT}:${type}/${id}`;
const KEY = `arn:aws:kms:${REGION}:${ACCT}:key/1234abcd-0000-4000-8000-000000000000`;
const TG = `arn:aws:elasticloadbalancing:${REGION}:${ACCT}:targetgroup/kafka/0123456789abcdef`;
const LB = `arn:aws:elasticloadbalancing:${REGION}:${ACCT}:loadbalancer/net/kafka/0123456789abcdef`;

/** The operations Berth's AWS driver and node bootstrap send (and the rest the simulated services answer). */
const OPERATIONS: Record<ServiceName, readonly string[]> = {
  ec2: [
    'DescribeInstances',
    'DescribeInstanceStatus',
    'DescribeVolumes',
    'DescribeVolumesModifications',
    'DescribeNetworkInterfaces',
    'DescribeLaunchTemplates',
    'DescribeLaunchTemplateVersions',
    'DescribeImages',
    'DescribeSnapshots',
    'DescribeSubnets',
    'DescribeSecurityGroups',
    'DescribeInstanceTypes',
    'DescribeInstanceTypeOfferings',
    'DescribeKeyPairs',
    'DescribeTags',
    'DescribeRouteTables',
    'DescribeNatGateways',
    'DescribeInternetGateways',
    'DescribeVpcEndpoints',
    'CreateNetworkInterface',
    'ModifyNetworkInterfaceAttribute',
    'DeleteNetworkInterface',
    'CreateVolume',
    'DeleteVolume',
    'ModifyVolume',
    'AttachVolume',
    'DetachVolume',
    'CreateSnapshot',
    'DeleteSnapshot',
    'CreateTags',
    'DeleteTags',
    'CreateLaunchTemplate',
    'CreateLaunchTemplateVersion',
    'DeleteLaunchTemplate',
    'RunInstances',
    'TerminateInstances',
  ],
  autoscaling: [
    'DescribeAutoScalingGroups',
    'DescribeAutoScalingInstances',
    'DescribeLifecycleHooks',
    'DescribeScalingActivities',
    'DescribeAccountLimits',
    'CreateAutoScalingGroup',
    'UpdateAutoScalingGroup',
    'DeleteAutoScalingGroup',
    'PutLifecycleHook',
    'DeleteLifecycleHook',
    'CreateOrUpdateTags',
    'DeleteTags',
    'TerminateInstanceInAutoScalingGroup',
    'CompleteLifecycleAction',
    'RecordLifecycleActionHeartbeat',
    'SuspendProcesses',
    'ResumeProcesses',
    'SetInstanceHealth',
  ],
  route53: ['ListResourceRecordSets', 'ChangeResourceRecordSets', 'GetHostedZone', 'GetChange'],
  dynamodb: ['CreateTable', 'DescribeTable', 'DeleteTable', 'GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
  sqs: [
    'CreateQueue',
    'GetQueueUrl',
    'GetQueueAttributes',
    'SetQueueAttributes',
    'TagQueue',
    'UntagQueue',
    'ListQueueTags',
    'ListQueues',
    'SendMessage',
    'ReceiveMessage',
    'ChangeMessageVisibility',
    'DeleteMessage',
    'DeleteMessageBatch',
    'DeleteQueue',
  ],
  events: ['PutRule', 'DescribeRule', 'DeleteRule', 'EnableRule', 'DisableRule', 'ListRules', 'PutTargets', 'RemoveTargets', 'ListTargetsByRule', 'PutEvents'],
  elasticloadbalancing: [
    'DescribeTargetGroups',
    'DescribeTargetGroupAttributes',
    'DescribeTargetHealth',
    'RegisterTargets',
    'DeregisterTargets',
    'CreateTargetGroup',
    'ModifyTargetGroupAttributes',
    'DeleteTargetGroup',
    'CreateLoadBalancer',
    'DescribeLoadBalancers',
    'DeleteLoadBalancer',
    'CreateListener',
    'DescribeListeners',
    'DeleteListener',
  ],
  ssm: ['GetParameter', 'GetParameters', 'PutParameter', 'DescribeParameters'],
  s3: ['GetObject', 'HeadObject', 'PutObject', 'ListObjectsV2', 'ListObjectVersions'],
  fis: ['CreateExperimentTemplate', 'GetExperimentTemplate', 'DeleteExperimentTemplate', 'StartExperiment', 'GetExperiment', 'StopExperiment', 'ListExperiments'],
  cloudwatch: ['PutMetricAlarm', 'DescribeAlarms', 'SetAlarmState', 'DeleteAlarms'],
};

interface World {
  w: TestWorld;
  eni: SimEni;
  volume: SimVolume;
  encrypted: SimVolume;
  instance: SimInstance;
  group: SimGroup;
}

function world(): World {
  const w = new TestWorld();
  w.state.vpcs.set(w.vpcId, { id: w.vpcId, cidr: '10.0.0.0/8' });
  w.state.subnets.set('subnet-000a0000', { id: 'subnet-000a0000', az: `${REGION}a`, cidr: '10.0.1.0/24', vpcId: w.vpcId });
  w.state.securityGroups.set('sg-0123456789abcdef0', { id: 'sg-0123456789abcdef0', vpcId: w.vpcId, name: 'app' });
  w.state.images.set('ami-0123456789abcdef0', { id: 'ami-0123456789abcdef0', name: 'img', rootDeviceName: '/dev/xvda', state: 'available' });
  w.state.kmsKeys.set('1234abcd-0000-4000-8000-000000000000', { id: '1234abcd-0000-4000-8000-000000000000', arn: KEY, aliases: ['alias/berth'] });
  w.iam.ensureInstanceProfile('demo-node', 'demo-node-role');
  const tags = { 'berth:cluster': 'demo', 'berth:node': 'demo-1' };
  const eni = w.addEni({ subnetId: 'subnet-000a0000', ip: '10.0.1.10', tags, securityGroupIds: ['sg-0123456789abcdef0'] });
  const volume = w.addVolume({ az: `${REGION}a`, tags: { ...tags, 'berth:volume': 'data', 'berth:node-ip': '10.0.1.10' } });
  const encrypted = w.addVolume({ az: `${REGION}a`, tags, kmsKeyArn: KEY });
  const lt = w.addLaunchTemplate({
    name: 'berth-demo-demo-1-r-0',
    tags,
    data: {
      ImageId: 'ami-0123456789abcdef0',
      InstanceType: 'm6i.large',
      IamInstanceProfile: { Name: 'demo-node' },
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 20, VolumeType: 'gp3', Encrypted: true } }],
      TagSpecifications: [
        { ResourceType: 'instance', Tags: [{ Key: 'berth:cluster', Value: 'demo' }] },
        { ResourceType: 'volume', Tags: [{ Key: 'berth:volume', Value: 'root' }] },
      ],
      NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: eni.id }],
    },
  });
  const group = w.addGroup({ name: 'berth-demo-demo-1', tags: { ...tags, 'berth:node-ip': '10.0.1.10' }, launchTemplate: lt, az: `${REGION}a` });
  const instance = w.addInstance({ eni, tags, profile: 'demo-node', groupName: group.name });
  return { w, eni, volume, encrypted, instance, group };
}

function checks(w: TestWorld, service: ServiceName, operation: string, input: Record<string, unknown>): readonly AuthorizationCheck[] {
  const a = AUTHORIZERS[service][operation];
  if (!a) throw new Error(`no authorizer for ${service}:${operation}`);
  return a(input, w.ctx(service, operation));
}

/** Representative inputs for every operation, as the driver and the bootstrap send them. */
function inputs(x: World): Record<ServiceName, Record<string, Record<string, unknown>>> {
  const lt = [...x.w.state.launchTemplates.values()][0]!;
  const queueUrl = `https://sqs.${REGION}.amazonaws.com/${ACCT}/berth-demo-changes`;
  return {
    ec2: {
      CreateNetworkInterface: { SubnetId: 'subnet-000a0000', PrivateIpAddress: '10.0.1.11', Groups: ['sg-0123456789abcdef0'], TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'berth:cluster', Value: 'demo' }] }] },
      ModifyNetworkInterfaceAttribute: { NetworkInterfaceId: x.eni.id, Groups: ['sg-0123456789abcdef0'] },
      DeleteNetworkInterface: { NetworkInterfaceId: x.eni.id },
      CreateVolume: { AvailabilityZone: `${REGION}a`, Size: 100, VolumeType: 'gp3', Iops: 3000, Encrypted: true, KmsKeyId: 'alias/berth', TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'berth:cluster', Value: 'demo' }] }] },
      DeleteVolume: { VolumeId: x.volume.id },
      ModifyVolume: { VolumeId: x.volume.id, Size: 200 },
      AttachVolume: { VolumeId: x.encrypted.id, InstanceId: x.instance.id, Device: '/dev/sdf' },
      DetachVolume: { VolumeId: x.volume.id },
      CreateSnapshot: { VolumeId: x.volume.id, TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'berth:cluster', Value: 'demo' }] }] },
      DeleteSnapshot: { SnapshotId: 'snap-00000000000000001' },
      CreateTags: { Resources: [x.instance.id, x.volume.id, x.eni.id, lt.id, 'snap-00000000000000001', 'ami-0123456789abcdef0'], Tags: [{ Key: 'berth:phase', Value: 'mounting' }] },
      DeleteTags: { Resources: [x.instance.id], Tags: [{ Key: 'berth:phase' }] },
      CreateLaunchTemplate: { LaunchTemplateName: 'berth-demo-demo-1-r-1', LaunchTemplateData: lt.versions[0]!.data, TagSpecifications: [{ ResourceType: 'launch-template', Tags: [{ Key: 'berth:cluster', Value: 'demo' }] }] },
      CreateLaunchTemplateVersion: { LaunchTemplateName: lt.name, LaunchTemplateData: {} },
      DeleteLaunchTemplate: { LaunchTemplateId: lt.id },
      RunInstances: {
        DryRun: true,
        MinCount: 1,
        MaxCount: 1,
        ImageId: 'ami-0123456789abcdef0',
        InstanceType: 'm6i.large',
        KeyName: 'ops',
        IamInstanceProfile: { Name: 'demo-node' },
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' },
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 20, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } }],
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [{ Key: 'berth:cluster', Value: 'demo' }] },
          { ResourceType: 'volume', Tags: [{ Key: 'berth:cluster', Value: 'demo' }] },
        ],
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: 'subnet-000a0000', Groups: ['sg-0123456789abcdef0'] }],
      },
      TerminateInstances: { InstanceIds: [x.instance.id] },
    },
    autoscaling: {
      CreateAutoScalingGroup: {
        AutoScalingGroupName: 'berth-demo-demo-2',
        LaunchTemplate: { LaunchTemplateId: lt.id, Version: '1' },
        MinSize: 1,
        MaxSize: 1,
        AvailabilityZones: [`${REGION}a`],
        Tags: [{ ResourceId: 'berth-demo-demo-2', Key: 'berth:cluster', Value: 'demo', PropagateAtLaunch: false }],
      },
      UpdateAutoScalingGroup: { AutoScalingGroupName: x.group.name, LaunchTemplate: { LaunchTemplateId: lt.id, Version: '1' } },
      DeleteAutoScalingGroup: { AutoScalingGroupName: x.group.name, ForceDelete: true },
      PutLifecycleHook: { AutoScalingGroupName: x.group.name, LifecycleHookName: 'berth-launch', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING' },
      DeleteLifecycleHook: { AutoScalingGroupName: x.group.name, LifecycleHookName: 'berth-launch' },
      CreateOrUpdateTags: { Tags: [{ ResourceId: x.group.name, ResourceType: 'auto-scaling-group', Key: 'berth:launch-hook', Value: 'berth-launch', PropagateAtLaunch: false }] },
      DeleteTags: { Tags: [{ ResourceId: x.group.name, ResourceType: 'auto-scaling-group', Key: 'berth:launch-hook' }] },
      TerminateInstanceInAutoScalingGroup: { InstanceId: x.instance.id, ShouldDecrementDesiredCapacity: false },
      CompleteLifecycleAction: { AutoScalingGroupName: x.group.name, LifecycleHookName: 'berth-launch', InstanceId: x.instance.id, LifecycleActionResult: 'CONTINUE' },
      RecordLifecycleActionHeartbeat: { AutoScalingGroupName: x.group.name, LifecycleHookName: 'berth-launch', InstanceId: x.instance.id },
      SuspendProcesses: { AutoScalingGroupName: x.group.name, ScalingProcesses: ['Launch'] },
      ResumeProcesses: { AutoScalingGroupName: x.group.name },
      SetInstanceHealth: { InstanceId: x.instance.id, HealthStatus: 'Unhealthy' },
    },
    route53: {
      ListResourceRecordSets: { HostedZoneId: 'Z0123456789ABCDEFGHIJ' },
      ChangeResourceRecordSets: {
        HostedZoneId: '/hostedzone/Z0123456789ABCDEFGHIJ',
        ChangeBatch: {
          Changes: [
            { Action: 'UPSERT', ResourceRecordSet: { Name: 'Demo-1.demo.internal.example.com.', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '10.0.1.10' }] } },
            { Action: 'DELETE', ResourceRecordSet: { Name: 'demo.internal.example.com', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '10.0.1.10' }] } },
          ],
        },
      },
      GetHostedZone: { Id: 'Z0123456789ABCDEFGHIJ' },
      GetChange: { Id: '/change/C0000000000001' },
    },
    dynamodb: {
      CreateTable: { TableName: 'berth-locks', KeySchema: [{ AttributeName: 'lockKey', KeyType: 'HASH' }], Tags: [{ Key: 'berth:purpose', Value: 'cluster leases' }] },
      DescribeTable: { TableName: 'berth-locks' },
      DeleteTable: { TableName: 'berth-locks' },
      GetItem: { TableName: 'berth-locks', Key: { lockKey: { S: 'berth#demo' } }, ConsistentRead: true },
      PutItem: { TableName: 'berth-locks', Item: { lockKey: { S: 'berth#demo' }, holder: { S: 'me' } } },
      UpdateItem: { TableName: 'berth-locks', Key: { lockKey: { S: 'berth#demo' } }, ReturnValues: 'ALL_NEW' },
      DeleteItem: { TableName: `arn:aws:dynamodb:${REGION}:${ACCT}:table/berth-locks`, Key: { lockKey: { S: 'berth#demo' } } },
    },
    sqs: {
      CreateQueue: { QueueName: 'berth-demo-changes', tags: { 'berth:cluster': 'demo' } },
      GetQueueUrl: { QueueName: 'berth-demo-changes' },
      GetQueueAttributes: { QueueUrl: queueUrl, AttributeNames: ['QueueArn', 'Policy'] },
      SetQueueAttributes: { QueueUrl: queueUrl, Attributes: { Policy: '{}' } },
      TagQueue: { QueueUrl: queueUrl, Tags: { 'berth:cluster': 'demo' } },
      UntagQueue: { QueueUrl: queueUrl, TagKeys: ['berth:cluster'] },
      ListQueueTags: { QueueUrl: queueUrl },
      ChangeMessageVisibility: { QueueUrl: queueUrl, ReceiptHandle: 'r', VisibilityTimeout: 0 },
      ListQueues: {},
      SendMessage: { QueueUrl: queueUrl, MessageBody: 'x' },
      ReceiveMessage: { QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 20 },
      DeleteMessage: { QueueUrl: queueUrl, ReceiptHandle: 'r' },
      DeleteMessageBatch: { QueueUrl: queueUrl, Entries: [{ Id: '1', ReceiptHandle: 'r' }] },
      DeleteQueue: { QueueUrl: queueUrl },
    },
    events: {
      PutRule: { Name: 'berth-demo-changes', EventPattern: JSON.stringify({ source: ['aws.autoscaling'], 'detail-type': ['EC2 Instance Launch Successful'] }), State: 'ENABLED' },
      DescribeRule: { Name: 'berth-demo-changes' },
      DeleteRule: { Name: 'berth-demo-changes' },
      EnableRule: { Name: 'berth-demo-changes' },
      DisableRule: { Name: 'berth-demo-changes' },
      ListRules: {},
      PutTargets: { Rule: 'berth-demo-changes', Targets: [{ Id: 'berth', Arn: `arn:aws:sqs:${REGION}:${ACCT}:berth-demo-changes` }] },
      RemoveTargets: { Rule: 'berth-demo-changes', Ids: ['berth'] },
      ListTargetsByRule: { Rule: 'berth-demo-changes' },
      PutEvents: { Entries: [{ Source: 'berth.test', DetailType: 'test', Detail: '{}' }] },
    },
    elasticloadbalancing: {
      DescribeTargetGroups: { TargetGroupArns: [TG] },
      DescribeTargetGroupAttributes: { TargetGroupArn: TG },
      DescribeTargetHealth: { TargetGroupArn: TG },
      RegisterTargets: { TargetGroupArn: TG, Targets: [{ Id: x.instance.id }] },
      DeregisterTargets: { TargetGroupArn: TG, Targets: [{ Id: x.instance.id }] },
      CreateTargetGroup: { Name: 'kafka', Protocol: 'TCP', Port: 9092, VpcId: x.w.vpcId, Tags: [{ Key: 'berth:cluster', Value: 'demo' }] },
      ModifyTargetGroupAttributes: { TargetGroupArn: TG, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '60' }] },
      DeleteTargetGroup: { TargetGroupArn: TG },
      CreateLoadBalancer: { Name: 'kafka', Type: 'network', Subnets: ['subnet-000a0000'] },
      DescribeLoadBalancers: {},
      DeleteLoadBalancer: { LoadBalancerArn: LB },
      CreateListener: { LoadBalancerArn: LB, Protocol: 'TCP', Port: 9092, DefaultActions: [{ Type: 'forward', TargetGroupArn: TG }] },
      DescribeListeners: { LoadBalancerArn: LB },
      DeleteListener: { ListenerArn: `${LB.replace(':loadbalancer/', ':listener/')}/00000000000000aa` },
    },
    ssm: {
      GetParameter: { Name: '/kafka/server.properties', WithDecryption: true },
      GetParameters: { Names: ['/kafka/server.properties'], WithDecryption: true },
      PutParameter: { Name: '/kafka/server.properties', Value: 'x', Type: 'SecureString' },
      DescribeParameters: { ParameterFilters: [{ Key: 'Name', Values: ['/kafka/server.properties'] }] },
    },
    s3: {
      GetObject: { Bucket: 'config-bucket', Key: 'kafka/jaas.conf' },
      HeadObject: { Bucket: 'config-bucket', Key: 'kafka/jaas.conf', VersionId: 'v1' },
      PutObject: { Bucket: 'config-bucket', Key: 'kafka/jaas.conf', Body: 'x' },
      ListObjectsV2: { Bucket: 'config-bucket', Prefix: 'kafka/jaas.conf', MaxKeys: 1 },
      ListObjectVersions: { Bucket: 'config-bucket', Prefix: 'kafka/jaas.conf' },
    },
    fis: {
      CreateExperimentTemplate: { roleArn: `arn:aws:iam::${ACCT}:role/berth-fis`, actions: { a: { actionId: 'aws:ec2:terminate-instances', targets: { Instances: 't' } } }, targets: { t: { resourceType: 'aws:ec2:instance', resourceTags: { 'berth:cluster': 'demo' }, selectionMode: 'ALL' } }, stopConditions: [{ source: 'none' }], tags: { 'berth:cluster': 'demo' } },
      GetExperimentTemplate: { id: 'EXT0123456789abcd' },
      DeleteExperimentTemplate: { id: 'EXT0123456789abcd' },
      StartExperiment: { experimentTemplateId: 'EXT0123456789abcd', tags: { 'berth:cluster': 'demo' } },
      GetExperiment: { id: 'EXP0123456789abcd' },
      StopExperiment: { id: 'EXP0123456789abcd' },
    },
    cloudwatch: {
      PutMetricAlarm: { AlarmName: 'demo-errors', Tags: [{ Key: 'berth:cluster', Value: 'demo' }] },
      SetAlarmState: { AlarmName: 'demo-errors', StateValue: 'ALARM', StateReason: 'test' },
      DeleteAlarms: { AlarmNames: ['demo-errors'] },
    },
  };
}

let evaluator: IamEvaluator;
beforeAll(async () => {
  evaluator = await loadIamSimulateEvaluator();
}, 60_000);

describe('AUTHORIZERS', () => {
  it('has an authorizer for every operation the simulated services answer', async () => {
    const { createSimulation } = await import('../../src/index.js');
    const { simContext } = await import('../../src/internal.js');
    const { createEc2Service } = await import('../../src/aws/services/ec2.js');
    const { createAutoScalingService } = await import('../../src/aws/services/autoscaling.js');
    const { createRoute53Service } = await import('../../src/aws/services/route53.js');
    const { createElbv2Service } = await import('../../src/aws/services/elbv2.js');
    const c = simContext(createSimulation({ seed: 1, iam: 'off' }));
    const services = {
      ec2: createEc2Service(),
      autoscaling: createAutoScalingService(),
      route53: createRoute53Service(),
      dynamodb: c.dynamodb.service,
      sqs: c.sqs.service,
      events: c.events.service,
      elasticloadbalancing: createElbv2Service(),
      ssm: (await import('../../src/aws/services/ssm.js')).createSsmService(),
      s3: (await import('../../src/aws/services/s3.js')).createS3Service(),
    };
    for (const [name, service] of Object.entries(services) as [ServiceName, { operations: Record<string, unknown> }][]) {
      for (const op of Object.keys(service.operations)) expect(AUTHORIZERS[name][op], `${name}:${op}`).toBeTypeOf('function');
    }
  });

  it('has an authorizer for every operation Berth sends', () => {
    for (const [service, ops] of Object.entries(OPERATIONS) as [ServiceName, readonly string[]][]) {
      for (const op of ops) expect(AUTHORIZERS[service][op], `${service}:${op}`).toBeTypeOf('function');
    }
  });

  it('builds only checks IAM can evaluate: known actions, resources of the action\'s types, `*` only for actions without resource-level permissions', async () => {
    const x = world();
    x.w.dynamodb['keySchema'] = (t: string) => (t === 'berth-locks' ? [{ AttributeName: 'lockKey', KeyType: 'HASH' }] : null);
    const all = inputs(x);
    const allowAll = { key: 'allow-all', documents: [{ name: 'all', document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }] };
    let n = 0;
    for (const [service, ops] of Object.entries(OPERATIONS) as [ServiceName, readonly string[]][]) {
      for (const op of ops) {
        const input = all[service][op] ?? {};
        for (const c of checks(x.w, service, op, input)) {
          n++;
          const decision = await evaluator.evaluate({ principalArn: `arn:aws:sts::${ACCT}:assumed-role/r/s`, accountId: ACCT, action: c.action, resource: c.resource, context: c.context, policies: allowAll });
          expect(decision, `${service}:${op} → ${c.action} on ${c.resource}`).toBe('Allowed');
          if (c.resource === '*') {
            // Only an action without resource-level permissions is denied by a policy naming ARNs alone.
            const arnsOnly = { key: 'arns-only', documents: [{ name: 'arns', document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: 'arn:*' }] } }] };
            const d = await evaluator.evaluate({ principalArn: `arn:aws:sts::${ACCT}:assumed-role/r/s`, accountId: ACCT, action: c.action, resource: '*', context: c.context, policies: arnsOnly });
            expect(d, `${c.action} takes resource-level permissions: it needs an ARN, not *`).toBe('ImplicitlyDenied');
          }
        }
      }
    }
    expect(n).toBeGreaterThan(80);
  }, 60_000);

  it('CreateVolume: the new volume with its request tags and keys, the tags it puts on, and the KMS calls EC2 makes', () => {
    const x = world();
    const out = checks(x.w, 'ec2', 'CreateVolume', inputs(x).ec2.CreateVolume!);
    expect(out[0]).toEqual({
      action: 'ec2:CreateVolume',
      resource: ec2('volume', '*'),
      context: {
        'ec2:Region': REGION,
        'aws:TagKeys': ['berth:cluster'],
        'aws:RequestTag/berth:cluster': 'demo',
        'ec2:AvailabilityZone': `${REGION}a`,
        'ec2:Encrypted': 'true',
        'ec2:VolumeSize': '100',
        'ec2:VolumeType': 'gp3',
        'ec2:VolumeIops': '3000',
        'ec2:KmsKeyId': KEY,
      },
    });
    expect(out[1]).toEqual({
      action: 'ec2:CreateTags',
      resource: ec2('volume', '*'),
      context: { 'ec2:Region': REGION, 'ec2:CreateAction': 'CreateVolume', 'aws:TagKeys': ['berth:cluster'], 'aws:RequestTag/berth:cluster': 'demo' },
    });
    const kms = out.slice(2);
    expect(kms.map((c) => c.action)).toEqual(['kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:CreateGrant']);
    for (const c of kms) {
      expect(c).toMatchObject({ resource: KEY, onBehalfOf: 'kms', context: { 'kms:ViaService': `ec2.${REGION}.amazonaws.com`, 'kms:CallerAccount': ACCT } });
    }
    expect(kms[2]!.context['kms:GrantIsForAWSResource']).toBe('true');
  });

  it('AttachVolume: the instance and the volume with their current tags; CreateGrant and Decrypt for an encrypted one', () => {
    const x = world();
    const plain = checks(x.w, 'ec2', 'AttachVolume', { VolumeId: x.volume.id, InstanceId: x.instance.id, Device: '/dev/sdf' });
    expect(plain).toHaveLength(2);
    expect(plain[0]).toMatchObject({ action: 'ec2:AttachVolume', resource: ec2('instance', x.instance.id), context: { 'aws:ResourceTag/berth:node': 'demo-1', 'ec2:ResourceTag/berth:node': 'demo-1', 'ec2:InstanceProfile': `arn:aws:iam::${ACCT}:instance-profile/demo-node` } });
    expect(plain[1]).toMatchObject({ action: 'ec2:AttachVolume', resource: ec2('volume', x.volume.id), context: { 'aws:ResourceTag/berth:node-ip': '10.0.1.10', 'ec2:Encrypted': 'false', 'ec2:VolumeSize': '100' } });
    const enc = checks(x.w, 'ec2', 'AttachVolume', { VolumeId: x.encrypted.id, InstanceId: x.instance.id, Device: '/dev/sdf' });
    expect(enc.slice(2).map((c) => [c.action, c.resource, c.onBehalfOf])).toEqual([
      ['kms:CreateGrant', KEY, 'kms'],
      ['kms:Decrypt', KEY, 'kms'],
      ['kms:DescribeKey', KEY, 'kms'],
    ]);
  });

  it('CreateTags: each resource by its ARN (snapshots and images without account), with its tags and the request tags', () => {
    const x = world();
    const out = checks(x.w, 'ec2', 'CreateTags', inputs(x).ec2.CreateTags!);
    expect(out.map((c) => c.resource)).toEqual([
      ec2('instance', x.instance.id),
      ec2('volume', x.volume.id),
      ec2('network-interface', x.eni.id),
      ec2('launch-template', [...x.w.state.launchTemplates.keys()][0]!),
      `arn:aws:ec2:${REGION}::snapshot/snap-00000000000000001`,
      `arn:aws:ec2:${REGION}::image/ami-0123456789abcdef0`,
    ]);
    for (const c of out) expect(c.context).toMatchObject({ 'aws:RequestTag/berth:phase': 'mounting', 'aws:TagKeys': ['berth:phase'] });
    expect(out[0]!.context['ec2:CreateAction']).toBeUndefined();
  });

  it('RunInstances (a dry run): every resource the launch uses or creates, the tags it puts on, the role it passes', () => {
    const x = world();
    const out = checks(x.w, 'ec2', 'RunInstances', inputs(x).ec2.RunInstances!);
    const run = out.filter((c) => c.action === 'ec2:RunInstances').map((c) => c.resource);
    expect(run).toEqual([
      ec2('instance', '*'),
      `arn:aws:ec2:${REGION}::image/ami-0123456789abcdef0`,
      ec2('network-interface', '*'),
      ec2('subnet', 'subnet-000a0000'),
      ec2('security-group', 'sg-0123456789abcdef0'),
      ec2('volume', '*'),
      ec2('key-pair', 'ops'),
    ]);
    expect(out[0]!.context).toMatchObject({ 'aws:RequestTag/berth:cluster': 'demo', 'ec2:InstanceType': 'm6i.large', 'ec2:MetadataHttpTokens': 'required', 'ec2:AvailabilityZone': `${REGION}a`, 'ec2:InstanceProfile': `arn:aws:iam::${ACCT}:instance-profile/demo-node` });
    expect(out.filter((c) => c.action === 'ec2:CreateTags').map((c) => [c.resource, c.context['ec2:CreateAction']])).toEqual([
      [ec2('instance', '*'), 'RunInstances'],
      [ec2('volume', '*'), 'RunInstances'],
    ]);
    expect(out.find((c) => c.action === 'iam:PassRole')).toEqual({
      action: 'iam:PassRole',
      resource: `arn:aws:iam::${ACCT}:role/demo-node-role`,
      context: { 'iam:PassedToService': 'ec2.amazonaws.com', 'iam:AssociatedResourceArn': ec2('instance', '*') },
    });
  });

  it('RunInstances without security groups is judged against the VPC default group', () => {
    const x = world();
    x.w.state.securityGroups.set('sg-0000000000000dflt', { id: 'sg-0000000000000dflt', vpcId: x.w.vpcId, name: 'default' });
    const out = checks(x.w, 'ec2', 'RunInstances', { ImageId: 'ami-0123456789abcdef0', SubnetId: 'subnet-000a0000', MinCount: 1, MaxCount: 1 });
    expect(out.map((c) => c.resource)).toContain(ec2('security-group', 'sg-0000000000000dflt'));
  });

  it('CreateAutoScalingGroup: the new group (its id unknown), the service-linked role once per account, and the launch with the template', () => {
    const x = world();
    const lt = [...x.w.state.launchTemplates.values()][0]!;
    const input = inputs(x).autoscaling.CreateAutoScalingGroup!;
    const out = checks(x.w, 'autoscaling', 'CreateAutoScalingGroup', input);
    expect(out[0]).toEqual({
      action: 'autoscaling:CreateAutoScalingGroup',
      resource: `arn:aws:autoscaling:${REGION}:${ACCT}:autoScalingGroup:*:autoScalingGroupName/berth-demo-demo-2`,
      context: { 'aws:TagKeys': ['berth:cluster'], 'aws:RequestTag/berth:cluster': 'demo', 'autoscaling:MinSize': '1', 'autoscaling:MaxSize': '1', 'autoscaling:LaunchTemplateVersionSpecified': 'true' },
    });
    // The tags given at creation, authorized as CreateOrUpdateTags too.
    expect(out[1]).toEqual({
      action: 'autoscaling:CreateOrUpdateTags',
      resource: `arn:aws:autoscaling:${REGION}:${ACCT}:autoScalingGroup:*:autoScalingGroupName/berth-demo-demo-2`,
      context: { 'aws:TagKeys': ['berth:cluster'], 'aws:RequestTag/berth:cluster': 'demo' },
    });
    expect(out[2]).toEqual({
      action: 'iam:CreateServiceLinkedRole',
      resource: `arn:aws:iam::${ACCT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
      context: { 'iam:AWSServiceName': 'autoscaling.amazonaws.com' },
    });
    const run = out.filter((c) => c.action === 'ec2:RunInstances');
    expect(run.map((c) => c.resource)).toEqual(
      expect.arrayContaining([ec2('launch-template', lt.id), ec2('network-interface', x.eni.id), ec2('subnet', 'subnet-000a0000'), ec2('security-group', 'sg-0123456789abcdef0'), `arn:aws:ec2:${REGION}::image/ami-0123456789abcdef0`]),
    );
    const onTemplate = run.find((c) => c.resource === ec2('launch-template', lt.id))!;
    expect(onTemplate.context).toMatchObject({ 'aws:ResourceTag/berth:cluster': 'demo', 'ec2:LaunchTemplate': ec2('launch-template', lt.id), 'ec2:IsLaunchTemplateResource': 'true' });
    expect(out.find((c) => c.action === 'iam:PassRole')).toMatchObject({ resource: `arn:aws:iam::${ACCT}:role/demo-node-role`, context: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
    expect(out.filter((c) => c.action === 'ec2:CreateTags').map((c) => c.context['ec2:CreateAction'])).toEqual(['RunInstances', 'RunInstances']);
    // Once the role exists, no more CreateServiceLinkedRole.
    x.w.iam.serviceLinkedRoles.add('autoscaling.amazonaws.com');
    expect(checks(x.w, 'autoscaling', 'CreateAutoScalingGroup', input).map((c) => c.action)).not.toContain('iam:CreateServiceLinkedRole');
  });

  it("group operations: the group's ARN with aws: and autoscaling:ResourceTag keys; an instance's operations on its group", () => {
    const x = world();
    const complete = checks(x.w, 'autoscaling', 'CompleteLifecycleAction', inputs(x).autoscaling.CompleteLifecycleAction!);
    expect(complete).toEqual([
      {
        action: 'autoscaling:CompleteLifecycleAction',
        resource: x.group.arn,
        context: {
          'aws:ResourceTag/berth:cluster': 'demo',
          'autoscaling:ResourceTag/berth:cluster': 'demo',
          'aws:ResourceTag/berth:node': 'demo-1',
          'autoscaling:ResourceTag/berth:node': 'demo-1',
          'aws:ResourceTag/berth:node-ip': '10.0.1.10',
          'autoscaling:ResourceTag/berth:node-ip': '10.0.1.10',
        },
      },
    ]);
    const terminate = checks(x.w, 'autoscaling', 'TerminateInstanceInAutoScalingGroup', inputs(x).autoscaling.TerminateInstanceInAutoScalingGroup!);
    expect(terminate[0]).toMatchObject({ action: 'autoscaling:TerminateInstanceInAutoScalingGroup', resource: x.group.arn });
    const update = checks(x.w, 'autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: x.group.name, MinSize: 0, MaxSize: 0, DesiredCapacity: 0 });
    expect(update).toEqual([expect.objectContaining({ action: 'autoscaling:UpdateAutoScalingGroup', context: expect.objectContaining({ 'autoscaling:MinSize': '0', 'autoscaling:MaxSize': '0' }) })]);
  });

  it('ChangeResourceRecordSets: the zone, with the normalized record names, types and actions', () => {
    const x = world();
    expect(checks(x.w, 'route53', 'ChangeResourceRecordSets', inputs(x).route53.ChangeResourceRecordSets!)).toEqual([
      {
        action: 'route53:ChangeResourceRecordSets',
        resource: 'arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ',
        context: {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['demo-1.demo.internal.example.com', 'demo.internal.example.com'],
          'route53:ChangeResourceRecordSetsRecordTypes': ['A'],
          'route53:ChangeResourceRecordSetsActions': ['UPSERT', 'DELETE'],
        },
      },
    ]);
    expect(checks(x.w, 'route53', 'GetChange', { Id: '/change/C1' })[0]!.resource).toBe('arn:aws:route53:::change/C1');
    expect(normalizeRecordName('*.Example.COM.')).toBe('\\052.example.com');
    expect(normalizeRecordName('\\052.example.com')).toBe('\\052.example.com');
  });

  it('DDB-6: DynamoDB item operations: the table, with the partition key value as dynamodb:LeadingKeys', () => {
    const x = world();
    x.w.dynamodb['keySchema'] = () => [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ];
    expect(checks(x.w, 'dynamodb', 'PutItem', { TableName: 't1', Item: { sk: { S: 'b' }, pk: { S: 'a' }, v: { N: '1' } } })).toEqual([
      { action: 'dynamodb:PutItem', resource: `arn:aws:dynamodb:${REGION}:${ACCT}:table/t1`, context: { 'dynamodb:LeadingKeys': ['a'] } },
    ]);
    delete x.w.dynamodb['keySchema'];
    expect(checks(x.w, 'dynamodb', 'UpdateItem', inputs(x).dynamodb.UpdateItem!)[0]!.context).toEqual({ 'dynamodb:LeadingKeys': ['berth#demo'], 'dynamodb:ReturnValues': 'ALL_NEW' });
    expect(() => checks(x.w, 'dynamodb', 'PutItem', { TableName: 't1', Item: { pk: { S: 'a' }, v: { N: '1' } } })).toThrow(/keySchema/);
  });

  it('DDB-6: ForAllValues:StringEquals on dynamodb:LeadingKeys, with a policy variable, limits the partition keys a principal may read and write', async () => {
    const x = world();
    x.w.iam.evaluator = evaluator;
    x.w.dynamodb['keySchema'] = () => [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ];
    const table = `arn:aws:dynamodb:${REGION}:${ACCT}:table/t1`;
    // A node may touch only the items whose partition key is its own IP.
    x.w.iam.putRolePolicy('demo-node-role', 'own-items', {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
          Resource: table,
          Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['node#${aws:EC2InstanceSourcePrivateIPv4}'] } },
        },
      ],
    });
    const caller = x.w.iam.instanceCaller(x.instance)!;
    const requests = (pk: string): [string, Record<string, unknown>][] => {
      const key = { pk: { S: pk }, sk: { S: 'a' } };
      return [
        ['GetItem', { Key: key, ConsistentRead: true }],
        ['PutItem', { Item: { ...key, v: { N: '1' } } }],
        ['UpdateItem', { Key: key, UpdateExpression: 'SET v = :v', ExpressionAttributeValues: { ':v': { N: '2' } }, ReturnValues: 'ALL_NEW' }],
        ['DeleteItem', { Key: key }],
      ];
    };
    for (const [op, input] of requests('node#10.0.1.10')) {
      expect(await x.w.iam.authorize(caller, checks(x.w, 'dynamodb', op, { TableName: 't1', ...input })), op).toBeNull();
    }
    for (const [op, input] of requests('node#10.0.1.11')) {
      expect(await x.w.iam.authorize(caller, checks(x.w, 'dynamodb', op, { TableName: 't1', ...input })), op).toEqual({ action: `dynamodb:${op}`, resource: table, explicit: false });
    }
  });

  // The UpdateItem authorizer gives no dynamodb:Attributes (src/aws/iam/authorize-dynamodb.ts:
  // "Not given"), so a ForAllValues condition on it holds vacuously and the simulator allows
  // updates of attributes the policy does not list, which AWS denies.
  it.fails('DDB-6: dynamodb:Attributes on UpdateItem limits the attributes a principal may write', async () => {
    const x = world();
    x.w.iam.evaluator = evaluator;
    const table = `arn:aws:dynamodb:${REGION}:${ACCT}:table/berth-locks`;
    x.w.iam.putRolePolicy('demo-node-role', 'holder-only', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'dynamodb:UpdateItem', Resource: table, Condition: { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['lockKey', 'holder'] } } }],
    });
    const caller = x.w.iam.instanceCaller(x.instance)!;
    const update = (attribute: string) => ({ TableName: 'berth-locks', Key: { lockKey: { S: 'berth#demo' } }, UpdateExpression: `SET ${attribute} = :v`, ExpressionAttributeValues: { ':v': { S: 'x' } } });
    expect(await x.w.iam.authorize(caller, checks(x.w, 'dynamodb', 'UpdateItem', update('holder')))).toBeNull();
    expect(await x.w.iam.authorize(caller, checks(x.w, 'dynamodb', 'UpdateItem', update('secret')))).toMatchObject({ action: 'dynamodb:UpdateItem', resource: table });
  });

  it('SQS: the queue from its URL, DeleteMessageBatch as sqs:DeleteMessage, TagQueue with CreateQueue tags, the queue policy when known', () => {
    const x = world();
    const queue = `arn:aws:sqs:${REGION}:${ACCT}:berth-demo-changes`;
    const all = inputs(x).sqs;
    expect(checks(x.w, 'sqs', 'DeleteMessageBatch', all.DeleteMessageBatch!)).toEqual([{ action: 'sqs:DeleteMessage', resource: queue, context: {} }]);
    expect(checks(x.w, 'sqs', 'CreateQueue', all.CreateQueue!).map((c) => [c.action, c.resource, c.context['aws:RequestTag/berth:cluster']])).toEqual([
      ['sqs:CreateQueue', queue, 'demo'],
      ['sqs:TagQueue', queue, 'demo'],
    ]);
    const policy = { Version: '2012-10-17', Statement: [] };
    x.w.sqs['queuePolicy'] = (name: string) => (name === 'berth-demo-changes' ? policy : undefined);
    expect(checks(x.w, 'sqs', 'ReceiveMessage', all.ReceiveMessage!)[0]).toEqual({ action: 'sqs:ReceiveMessage', resource: queue, context: {}, resourcePolicy: policy });
  });

  it("EventBridge: the rule on the default bus, the pattern's source and detail-type, the targets' ARNs", () => {
    const x = world();
    const all = inputs(x).events;
    const rule = `arn:aws:events:${REGION}:${ACCT}:rule/berth-demo-changes`;
    expect(checks(x.w, 'events', 'PutRule', all.PutRule!)).toEqual([
      { action: 'events:PutRule', resource: rule, context: { 'events:creatorAccount': ACCT, 'events:source': ['aws.autoscaling'], 'events:detail-type': ['EC2 Instance Launch Successful'] } },
    ]);
    expect(checks(x.w, 'events', 'PutTargets', all.PutTargets!)[0]!.context['events:TargetArn']).toEqual([`arn:aws:sqs:${REGION}:${ACCT}:berth-demo-changes`]);
    expect(checks(x.w, 'events', 'PutEvents', all.PutEvents!)[0]!.resource).toBe(`arn:aws:events:${REGION}:${ACCT}:event-bus/default`);
  });
});
