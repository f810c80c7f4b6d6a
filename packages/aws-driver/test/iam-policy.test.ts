import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineCluster } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createAwsDriver, createSystemClock, iamPolicyFor, MOTO_CAPABILITIES } from '../src/index.js';
import { NODE_BOOTSTRAP_SCRIPT } from '../src/bootstrap-script.generated.js';

const input = () => ({
  name: 'kafka',
  region: 'eu-west-1',
  subnets: [
    { id: 'subnet-0a1b2c3d', az: 'eu-west-1a', cidr: '10.0.1.0/24' },
    { id: 'subnet-0a1b2c3e', az: 'eu-west-1b', cidr: '10.0.2.0/24' },
    { id: 'subnet-0a1b2c3f', az: 'eu-west-1c', cidr: '10.0.3.0/24' },
  ],
  nodes: [
    { id: 'k1', ip: '10.0.1.10', subnetId: 'subnet-0a1b2c3d' },
    { id: 'k2', ip: '10.0.2.10', subnetId: 'subnet-0a1b2c3e' },
    { id: 'k3', ip: '10.0.3.10', subnetId: 'subnet-0a1b2c3f' },
  ],
  image: 'ami-0123456789abcdef0',
  instanceType: 'm6i.large',
  securityGroupIds: ['sg-0123456789abcdef0'],
  iamInstanceProfile: 'kafka-node',
  dataVolume: { sizeGiB: 100, kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
  dns: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', clusterRecord: 'kafka.internal.example.com', nodeRecordTemplate: '{node}.kafka.internal.example.com' },
});
const spec = defineCluster(input());
const TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/kafka/0123456789abcdef';

/** Every operation the driver sends (`ctx.call('Op', …)` and preflight's `dry('Op', …)`), read from its source. */
function driverOperations(): Set<string> {
  const dir = fileURLToPath(new URL('../src/', import.meta.url));
  const ops = new Set<string>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    for (const m of readFileSync(dir + f, 'utf8').matchAll(/(?:\bcall|\bdry)\(\s*'([A-Z][A-Za-z0-9]+)'/g)) ops.add(m[1]!);
  }
  return ops;
}

const ADOPT = { eniId: 'eni-0123456789abcdef0', volumeId: 'vol-0123456789abcdef0' };

describe('iamPolicyFor', () => {
  const { controller, node } = iamPolicyFor(spec, { accountId: '123456789012' });
  const byId = (doc: typeof controller, sid: string) => doc.Statement.find((s) => s.Sid === sid)!;

  it('scopes every mutating controller action by the cluster tag or by ARN', () => {
    for (const s of controller.Statement) {
      const mutating = s.Action.some((a) => !/:(Describe|List|Get)/.test(a));
      if (!mutating) continue;
      const scoped = s.Condition !== undefined || (Array.isArray(s.Resource) ? !s.Resource.includes('*') : s.Resource !== '*');
      expect(scoped, s.Sid).toBe(true);
    }
    expect(byId(controller, 'ManageClusterGroups').Condition).toEqual({ StringEquals: { 'autoscaling:ResourceTag/berth:cluster': 'kafka' } });
    expect(byId(controller, 'CreateClusterGroups').Resource).toBe('arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/berth-kafka-*');
    expect(byId(controller, 'ClusterRecords').Condition!['ForAllValues:StringEquals']!['route53:ChangeResourceRecordSetsNormalizedRecordNames']).toEqual([
      'kafka.internal.example.com',
      'k1.kafka.internal.example.com',
      'k2.kafka.internal.example.com',
      'k3.kafka.internal.example.com',
    ]);
    expect(byId(controller, 'ClusterLease').Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['berth#kafka', 'berth#kafka#watch'] } });
    expect(byId(controller, 'PassInstanceRole').Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
  });

  // Regression: the first group in a fresh account creates Auto Scaling's service-linked role,
  // which the policy did not allow.
  it('lets the controller create the Auto Scaling service-linked role, and only that role', () => {
    expect(byId(controller, 'AutoScalingServiceLinkedRole')).toEqual({
      Sid: 'AutoScalingServiceLinkedRole',
      Effect: 'Allow',
      Action: ['iam:CreateServiceLinkedRole'],
      Resource: 'arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling',
      Condition: { StringLike: { 'iam:AWSServiceName': 'autoscaling.amazonaws.com' } },
    });
  });

  it('adoption: DeleteOnTermination and tagging only on the ENIs and volumes the spec adopts, and only while one does', () => {
    const none = iamPolicyFor(defineCluster(input()), { accountId: '123456789012' }).controller;
    expect(none.Statement.filter((s) => s.Sid.startsWith('Adopt'))).toEqual([]);
    const spec = defineCluster({ ...input(), nodes: input().nodes.map((n, k) => (k === 0 ? { ...n, adopt: ADOPT } : n)) });
    const adopt = iamPolicyFor(spec, { accountId: '123456789012' }).controller.Statement.filter((s) => s.Sid.startsWith('Adopt'));
    const eni = `arn:aws:ec2:${spec.region}:123456789012:network-interface/${ADOPT.eniId}`;
    const vol = `arn:aws:ec2:${spec.region}:123456789012:volume/${ADOPT.volumeId}`;
    expect(adopt).toEqual([
      { Sid: 'AdoptKeepOnTermination', Effect: 'Allow', Action: ['ec2:ModifyNetworkInterfaceAttribute', 'ec2:ModifyInstanceAttribute'], Resource: [eni, `arn:aws:ec2:${spec.region}:123456789012:instance/*`] },
      { Sid: 'AdoptTag', Effect: 'Allow', Action: ['ec2:CreateTags'], Resource: [eni, vol], Condition: { StringEquals: { 'aws:RequestTag/berth:cluster': spec.name } } },
    ]);
  });

  it('grants the controller exactly the actions the driver calls, plus those AWS checks on its behalf', () => {
    // With a key pair: preflight's DescribeKeyPairs is granted only when the spec names one.
    // With a load balancer: the target-group calls are granted only when the spec names groups.
    // With file sources: preflight's DescribeParameters and listings are granted only when files have sources.
    const files = [
      { path: '/a', source: { ssm: { name: '/app/a' } } },
      { path: '/b', source: { s3: { uri: 's3://cfg/b' } } },
      { path: '/c', source: { s3: { uri: 's3://cfg/c', versionId: 'v1' } } },
    ];
    // With a node to adopt and spot nodes: adoption's calls are granted only while a node names
    // resources to adopt, DeleteTags (the end of an on-demand fallback) only with spot nodes.
    const adopting = (i: ReturnType<typeof input>) => ({ ...i, nodes: i.nodes.map((n, k) => (k === 0 ? { ...n, adopt: ADOPT } : n)) });
    const all = iamPolicyFor(defineCluster({ ...adopting(input()), keyName: 'ops', loadBalancer: { targetGroupArns: [TG] }, capacity: { spot: true }, bootstrap: { files } }), { accountId: '123456789012', changeQueue: true }).controller;
    const granted = new Set(all.Statement.flatMap((s) => s.Action));
    const called = driverOperations();
    // What AWS authorises as another action than the call's name, or checks on the caller's behalf.
    const authorisedAs: Record<string, string> = { DeleteMessageBatch: 'DeleteMessage', ListObjectsV2: 'ListBucket', ListObjectVersions: 'ListBucketVersions' };
    const onBehalf = new Set([
      'ec2:CreateTags', // TagSpecifications on create, and a group's launches
      'ec2:RunInstances', // CreateAutoScalingGroup/UpdateAutoScalingGroup from a template (also preflight's DryRun)
      'iam:PassRole', // a template that names an instance profile
      'iam:CreateServiceLinkedRole', // the first group of an account
      'sqs:TagQueue', // CreateQueue with tags
      'autoscaling:CreateOrUpdateTags', // CreateAutoScalingGroup with tags (and called directly)
      'kms:CreateGrant',
      'kms:GenerateDataKeyWithoutPlaintext',
      'kms:DescribeKey', // CreateVolume with the spec's key
    ]);
    const names = new Set([...called].map((op) => authorisedAs[op] ?? op));
    for (const action of granted) {
      expect(names.has(action.split(':')[1]!) || onBehalf.has(action), `${action} is granted but the driver never needs it`).toBe(true);
    }
    for (const op of names) expect([...granted].some((a) => a.endsWith(`:${op}`)), `the driver calls ${op} but the policy does not grant it`).toBe(true);
    for (const gone of ['route53:GetChange', 'autoscaling:DeleteLifecycleHook', 'autoscaling:SuspendProcesses', 'autoscaling:ResumeProcesses', 'ec2:DescribeLaunchTemplateVersions']) {
      expect(granted.has(gone), gone).toBe(false);
    }
  });

  it('a volume restored from a snapshot: CreateVolume on exactly the snapshots the spec names, none without one', () => {
    expect(iamPolicyFor(spec, { accountId: '123456789012' }).controller.Statement.find((s) => s.Sid === 'CreateVolumesFromSpecSnapshots')).toBeUndefined();
    const restored = defineCluster({ ...input(), dataVolume: { sizeGiB: 100, snapshotId: 'snap-0123456789abcdef0' } });
    const st = iamPolicyFor(restored, { accountId: '123456789012' }).controller.Statement.find((s) => s.Sid === 'CreateVolumesFromSpecSnapshots');
    expect(st).toMatchObject({ Effect: 'Allow', Action: ['ec2:CreateVolume'], Resource: ['arn:aws:ec2:eu-west-1::snapshot/snap-0123456789abcdef0'] });
  });

  it('KMS: the controller may create volumes with the spec keys (via EC2 only); Decrypt and ReEncrypt only to restore a snapshot', () => {
    const key = ['arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'];
    const via = { 'kms:ViaService': 'ec2.eu-west-1.amazonaws.com' };
    expect(byId(controller, 'CreateVolumeKeyGrant')).toMatchObject({ Action: ['kms:CreateGrant'], Resource: key, Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' }, StringEquals: via } });
    expect(byId(controller, 'CreateVolumeWithKey')).toMatchObject({ Action: ['kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'], Resource: key, Condition: { StringEquals: via } });
    expect(controller.Statement.map((s) => s.Sid)).not.toContain('RestoreSnapshotWithKey');
    const restored = defineCluster({ ...input(), dataVolume: { sizeGiB: 100, kmsKeyId: '0123abcd-12ab-34cd-56ef-1234567890ab', snapshotId: 'snap-0123456789abcdef0' } });
    const doc = iamPolicyFor(restored, { accountId: '123456789012' }).controller;
    expect(doc.Statement.find((s) => s.Sid === 'RestoreSnapshotWithKey')).toMatchObject({ Action: ['kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'], Resource: ['arn:aws:kms:eu-west-1:123456789012:key/0123abcd-12ab-34cd-56ef-1234567890ab'] });
    // No key in the spec: no KMS at all.
    const plain = defineCluster({ ...input(), dataVolume: { sizeGiB: 100 } });
    const plainPolicies = iamPolicyFor(plain);
    expect([...plainPolicies.controller.Statement, ...plainPolicies.node.Statement].flatMap((s) => s.Action).filter((a) => a.startsWith('kms:'))).toEqual([]);
  });

  it('adds the change feed (queue and rule ARNs) only when asked', () => {
    const sids = (doc: typeof controller) => doc.Statement.map((s) => s.Sid);
    expect(sids(controller)).not.toContain('ChangeQueue');
    const withFeed = iamPolicyFor(spec, { accountId: '123456789012', changeQueue: true }).controller;
    expect(byId(withFeed, 'ChangeQueue')).toEqual({
      Sid: 'ChangeQueue',
      Effect: 'Allow',
      Action: ['sqs:GetQueueUrl', 'sqs:CreateQueue', 'sqs:TagQueue', 'sqs:GetQueueAttributes', 'sqs:SetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:DeleteQueue'],
      Resource: 'arn:aws:sqs:eu-west-1:123456789012:berth-kafka-changes',
    });
    expect(byId(withFeed, 'ChangeRule')).toEqual({
      Sid: 'ChangeRule',
      Effect: 'Allow',
      Action: ['events:DescribeRule', 'events:PutRule', 'events:ListTargetsByRule', 'events:PutTargets', 'events:RemoveTargets', 'events:DeleteRule'],
      Resource: [
        'arn:aws:events:eu-west-1:123456789012:rule/berth-kafka-changes',
        'arn:aws:events:eu-west-1:123456789012:rule/berth-kafka-phases',
        'arn:aws:events:eu-west-1:123456789012:rule/berth-kafka-notices',
      ],
    });
    const named = iamPolicyFor(spec, { changeQueue: { queueName: 'kafka-feed' } }).controller;
    expect(byId(named, 'ChangeQueue').Resource).toBe('arn:aws:sqs:eu-west-1:*:kafka-feed');
    // The driver's method follows its own option.
    const driver = createAwsDriver({ region: 'eu-west-1', changeQueue: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    expect(sids(driver.iamPolicyFor(spec).controller)).toContain('ChangeRule');
    expect(sids(driver.iamPolicyFor(spec, { changeQueue: false }).controller)).not.toContain('ChangeRule');
    driver.destroy();
  });

  // Regression: a policy generated for a roll's new image denied restoreLaunchTemplate going back to the old one.
  it('ELB: registers and deregisters targets only in the spec target groups, describes them on * (ELB-13); nothing without loadBalancer', () => {
    const other = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/kafka-tls/fedcba9876543210';
    const doc = iamPolicyFor(defineCluster({ ...input(), loadBalancer: { targetGroupArns: [TG, other] } }), { accountId: '123456789012' }).controller;
    expect(byId(doc, 'ClusterTargets')).toEqual({ Sid: 'ClusterTargets', Effect: 'Allow', Action: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'], Resource: [TG, other] });
    expect(byId(doc, 'DescribeTargetGroups')).toEqual({
      Sid: 'DescribeTargetGroups',
      Effect: 'Allow',
      Action: ['elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetGroupAttributes', 'elasticloadbalancing:DescribeTargetHealth'],
      Resource: '*',
    });
    expect(controller.Statement.flatMap((s) => s.Action).filter((a) => a.startsWith('elasticloadbalancing:'))).toEqual([]);
  });

  it('launches from the spec images and, with rollbackImages, from the images a rollback may go back to', () => {
    const images = (doc: typeof controller) => ([byId(doc, 'LaunchResources').Resource].flat() as string[]).filter((r) => r.includes(':image/'));
    expect(images(controller)).toEqual(['arn:aws:ec2:eu-west-1::image/ami-0123456789abcdef0']);
    const rollback = iamPolicyFor(spec, { accountId: '123456789012', rollbackImages: ['ami-0aaaaaaaaaaaaaaa1', 'ami-0123456789abcdef0'] }).controller;
    expect(images(rollback)).toEqual(['arn:aws:ec2:eu-west-1::image/ami-0123456789abcdef0', 'arn:aws:ec2:eu-west-1::image/ami-0aaaaaaaaaaaaaaa1']);
  });

  // Regression: any node could attach any volume of its cluster, to any instance of it, and the
  // bootstrap's own lookups (DescribeAutoScalingInstances) were not granted.
  it('lets a node attach only its own volume to itself, tag only itself, and complete only its own launch', () => {
    expect(node.Statement.map((s) => s.Sid)).toEqual(['Describe', 'AttachToItself', 'AttachOwnVolume', 'ReportPhase', 'CompleteOwnLaunch', 'AttachEncryptedVolumeGrant', 'AttachEncryptedVolume']);
    expect(byId(node, 'Describe')).toMatchObject({ Action: ['ec2:DescribeVolumes', 'autoscaling:DescribeAutoScalingInstances'], Resource: '*' });
    // The caller pinned by a condition, not a policy variable in Resource (which AWS does not allow there).
    const self = { ArnEquals: { 'ec2:SourceInstanceARN': 'arn:aws:ec2:eu-west-1:123456789012:instance/${ec2:InstanceID}' } };
    expect(byId(node, 'AttachToItself')).toMatchObject({ Action: ['ec2:AttachVolume'], Resource: 'arn:aws:ec2:eu-west-1:123456789012:instance/*', Condition: self });
    expect(byId(node, 'AttachOwnVolume')).toMatchObject({
      Action: ['ec2:AttachVolume'],
      Resource: 'arn:aws:ec2:eu-west-1:123456789012:volume/*',
      Condition: { StringEquals: { 'aws:ResourceTag/berth:cluster': 'kafka', 'aws:ResourceTag/berth:node-ip': '${aws:EC2InstanceSourcePrivateIPv4}' } },
    });
    expect(byId(node, 'ReportPhase')).toMatchObject({
      Action: ['ec2:CreateTags'],
      Resource: 'arn:aws:ec2:eu-west-1:123456789012:instance/*',
      Condition: { ...self, 'ForAllValues:StringEquals': { 'aws:TagKeys': ['berth:phase'] } },
    });
    expect(byId(node, 'CompleteOwnLaunch')).toMatchObject({
      Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
      Resource: 'arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/berth-kafka-*',
      Condition: { StringEquals: { 'autoscaling:ResourceTag/berth:cluster': 'kafka', 'autoscaling:ResourceTag/berth:node-ip': '${aws:EC2InstanceSourcePrivateIPv4}' } },
    });
    expect(JSON.parse(JSON.stringify(node))).toEqual(node);
    // With the VPC given, the IP match is pinned to it (private IPs are unique per VPC only).
    const pinned = iamPolicyFor(spec, { vpcId: 'vpc-0123' }).node.Statement.find((s) => s.Sid === 'AttachOwnVolume')!;
    expect(pinned.Condition!.StringEquals).toMatchObject({ 'aws:Ec2InstanceSourceVpc': 'vpc-0123' });
  });

  it('grants the node exactly the AWS CLI calls the bootstrap makes', () => {
    const cli = new Set([...NODE_BOOTSTRAP_SCRIPT.matchAll(/aws_call (ec2|autoscaling) ([a-z-]+)/g)].map(([, svc, op]) => `${svc}:${op!.split('-').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')}`));
    expect([...cli].sort()).toEqual(['autoscaling:CompleteLifecycleAction', 'autoscaling:DescribeAutoScalingInstances', 'autoscaling:RecordLifecycleActionHeartbeat', 'ec2:AttachVolume', 'ec2:CreateTags', 'ec2:DescribeVolumes']);
    const granted = new Set(node.Statement.flatMap((s) => s.Action).filter((a) => !a.startsWith('kms:')));
    expect([...granted].sort()).toEqual([...cli].sort());
  });

  it('KMS: a node may use the spec keys via EC2 only, to attach its encrypted volume', () => {
    const key = ['arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'];
    const via = { 'kms:ViaService': 'ec2.eu-west-1.amazonaws.com' };
    expect(byId(node, 'AttachEncryptedVolumeGrant')).toMatchObject({ Action: ['kms:CreateGrant'], Resource: key, Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' }, StringEquals: via } });
    expect(byId(node, 'AttachEncryptedVolume')).toMatchObject({ Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: key, Condition: { StringEquals: via } });
  });
});

describe('createAwsDriver options and the system clock', () => {
  it('resolves capabilities from the emulator flag and overrides, and validates options', () => {
    const moto = createAwsDriver({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1', emulator: 'moto', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    expect(moto.capabilities).toEqual(MOTO_CAPABILITIES);
    expect(moto.capabilities).toMatchObject({ lifecycleHooks: false, attachmentRules: false, phaseReporting: false, changeNotifications: false });
    expect(moto.config).toMatchObject({ maxAttempts: 1, lockTable: 'berth-locks' });
    expect('waitForChange' in moto).toBe(false);
    moto.destroy();
    expect(moto.capabilities.loadBalancers).toBe(true); // moto implements ELBv2 target groups
    const real = createAwsDriver({ region: 'eu-west-1', capabilities: { spot: true }, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    expect(real.capabilities).toMatchObject({ lifecycleHooks: true, attachmentRules: true, spot: true, loadBalancers: true });
    real.destroy();
    expect(() => createAwsDriver({ region: 'mars', maxAttempts: 0, endpoint: 'localhost' })).toThrow(/3 problems/);
  });

  it('turns change notifications on with changeQueue, except on moto unless forced', () => {
    const creds = () => ({ accessKeyId: 'a', secretAccessKey: 'b' });
    const real = createAwsDriver({ region: 'eu-west-1', changeQueue: true, credentials: creds() });
    expect(real.capabilities.changeNotifications).toBe(true);
    expect(typeof real.waitForChange).toBe('function');
    expect(real.config.changeQueue).toEqual({ queueName: null });
    real.destroy();
    const moto = createAwsDriver({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1', emulator: 'moto', changeQueue: { queueName: 'q' }, credentials: creds() });
    expect(moto.capabilities.changeNotifications).toBe(false);
    expect(typeof moto.waitForChange).toBe('function');
    moto.destroy();
    const forced = createAwsDriver({ region: 'us-east-1', endpoint: 'http://127.0.0.1:1', emulator: 'moto', changeQueue: true, capabilities: { changeNotifications: true }, credentials: creds() });
    expect(forced.capabilities.changeNotifications).toBe(true);
    forced.destroy();
    expect(() => createAwsDriver({ region: 'eu-west-1', capabilities: { changeNotifications: true } })).toThrow(/changeQueue/);
    expect(() => createAwsDriver({ region: 'eu-west-1', changeQueue: { queueName: 'no.dots' } })).toThrow(/queueName/);
  });

  it('createSystemClock sleeps and aborts', async () => {
    const clock = createSystemClock();
    const t = clock.now();
    await clock.sleep(20);
    expect(clock.now() - t).toBeGreaterThanOrEqual(15);
    const ac = new AbortController();
    const p = clock.sleep(10_000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
