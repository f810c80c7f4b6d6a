import { defineCluster } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createAwsDriver, createSystemClock, iamPolicyFor, MOTO_CAPABILITIES } from '../src/index.js';

const spec = defineCluster({
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
  dataVolume: { sizeGiB: 100, kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/k' },
  dns: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', clusterRecord: 'kafka.internal.example.com', nodeRecordTemplate: '{node}.kafka.internal.example.com' },
});

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
    expect(byId(controller, 'ClusterLease').Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['berth#kafka'] } });
    expect(byId(controller, 'EncryptWithClusterKey').Resource).toEqual(['arn:aws:kms:eu-west-1:123456789012:key/k']);
    expect(byId(controller, 'PassInstanceRole').Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
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
      Resource: 'arn:aws:events:eu-west-1:123456789012:rule/berth-kafka-changes',
    });
    const named = iamPolicyFor(spec, { changeQueue: { queueName: 'kafka-feed' } }).controller;
    expect(byId(named, 'ChangeQueue').Resource).toBe('arn:aws:sqs:eu-west-1:*:kafka-feed');
    // The driver's method follows its own option.
    const driver = createAwsDriver({ region: 'eu-west-1', changeQueue: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    expect(sids(driver.iamPolicyFor(spec).controller)).toContain('ChangeRule');
    expect(sids(driver.iamPolicyFor(spec, { changeQueue: false }).controller)).not.toContain('ChangeRule');
    driver.destroy();
  });

  it('lets nodes tag only their phase, attach cluster volumes and complete their own launch', () => {
    expect(node.Statement.map((s) => s.Sid)).toEqual(['SeeItself', 'AttachClusterVolume', 'ReportPhase', 'CompleteOwnLaunch']);
    expect(byId(node, 'ReportPhase').Condition).toMatchObject({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['berth:phase'] } });
    expect(JSON.parse(JSON.stringify(node))).toEqual(node);
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
    const real = createAwsDriver({ region: 'eu-west-1', capabilities: { spot: true }, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    expect(real.capabilities).toMatchObject({ lifecycleHooks: true, attachmentRules: true, spot: true });
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
