import { iamPolicyFor } from '@berth/aws-driver';
import { defineCluster, type ClusterSpec } from '@berth/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUTHORIZERS } from '../../src/aws/iam/authorizers.js';
import type { IamDecision, IamDenial, IamEvaluator } from '../../src/aws/iam/iam-decision.js';
import { iamSimulateMissingError, loadIamSimulateEvaluator } from '../../src/aws/iam/iam-simulate-evaluator.js';
import { CONTROLLER_ROLE } from '../../src/aws/iam/sim-iam.js';
import type { Caller } from '../../src/aws/service.js';
import type { ServiceName } from '../../src/aws/aws-error.js';
import { simulatedClusterInput } from '../../src/simulated-cluster-input.js';
import type { SimEni, SimGroup, SimInstance, SimVolume } from '../../src/world/entities.js';
import { ACCOUNT, TestWorld } from './fixtures.js';

// The evaluator over the policies Berth generates, on requests built by the authorizers from a
// hand-built world. iam-policy.ts is being tightened concurrently: the expectations are what AWS
// documents, not what the policy file says today.

let evaluator: IamEvaluator;
beforeAll(async () => {
  evaluator = await loadIamSimulateEvaluator();
}, 60_000);

interface Node {
  readonly id: string;
  readonly ip: string;
  readonly eni: SimEni;
  readonly volume: SimVolume;
  readonly group: SimGroup;
  readonly instance: SimInstance;
}

const KEY_ID = '1234abcd-0000-4000-8000-000000000000';
const KEY = `arn:aws:kms:${ACCOUNT.region}:${ACCOUNT.accountId}:key/${KEY_ID}`;

/** A 3-node cluster as ensureNode leaves it, with one running instance per node, and the generated policies attached. */
function clusterWorld(options: { kms?: boolean } = {}): { w: TestWorld; spec: ClusterSpec; nodes: Node[] } {
  const input = simulatedClusterInput({ nodes: 3 });
  const spec = defineCluster(options.kms ? { ...input, dataVolume: { ...input.dataVolume, encrypted: true, kmsKeyId: KEY } } : input);
  const w = new TestWorld();
  if (options.kms) w.state.kmsKeys.set(KEY_ID, { id: KEY_ID, arn: KEY, aliases: [] });
  w.prepare(spec);
  w.iam.evaluator = evaluator;
  const { controller, node } = iamPolicyFor(spec, { accountId: ACCOUNT.accountId });
  w.iam.putRolePolicy(CONTROLLER_ROLE, `berth-${spec.name}`, controller);
  w.iam.putRolePolicy(spec.iamInstanceProfile, `berth-${spec.name}-node`, node);
  const nodes = spec.nodes.map((n) => {
    const tags = { 'berth:cluster': spec.name, 'berth:node': n.id };
    const eni = w.addEni({ subnetId: n.subnetId, ip: n.ip, tags, securityGroupIds: [...spec.securityGroupIds] });
    const volume = w.addVolume({ az: n.az, tags: { ...tags, 'berth:volume': 'data', 'berth:node-ip': n.ip }, kmsKeyArn: options.kms ? KEY : null });
    const lt = w.addLaunchTemplate({ name: `berth-${spec.name}-${n.id}-r-0000000000000000`, tags, data: { ImageId: spec.image, NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: eni.id }] } });
    const group = w.addGroup({ name: `berth-${spec.name}-${n.id}`, tags: { ...tags, 'berth:launch-hook': 'berth-launch', 'berth:node-ip': n.ip }, launchTemplate: lt, az: n.az });
    const instance = w.addInstance({ eni, tags: { ...tags, 'berth:revision': 'r-0000000000000000' }, profile: spec.iamInstanceProfile, groupName: group.name });
    return { id: n.id, ip: n.ip, eni, volume, group, instance };
  });
  return { w, spec, nodes };
}

/** Authorizes one request as the gateway does: the operation's authorizer, then SimIam. */
async function authorize(w: TestWorld, caller: Caller, service: ServiceName, operation: string, input: Record<string, unknown>): Promise<IamDenial | null> {
  const authorizer = AUTHORIZERS[service][operation];
  if (!authorizer) throw new Error(`no authorizer for ${service}:${operation}`);
  return await w.iam.authorize(caller, authorizer(input, w.ctx(service, operation, caller)));
}

describe('loadIamSimulateEvaluator over the generated policies', () => {
  it('allows the controller to describe (Resource "*", no resource-level permissions)', async () => {
    const { w } = clusterWorld();
    expect(await authorize(w, w.iam.controllerCaller(), 'ec2', 'DescribeInstances', {})).toBeNull();
    expect(await authorize(w, w.iam.controllerCaller(), 'autoscaling', 'DescribeAutoScalingGroups', {})).toBeNull();
  });

  it('allows CreateVolume tagged with the cluster, and denies it without the cluster request tag', async () => {
    const { w, spec } = clusterWorld();
    const n = spec.nodes[0]!;
    const request = (tags: { Key: string; Value: string }[]) => ({ AvailabilityZone: n.az, Size: 100, VolumeType: 'gp3', Encrypted: false, TagSpecifications: [{ ResourceType: 'volume', Tags: tags }] });
    const tagged = [
      { Key: 'berth:cluster', Value: spec.name },
      { Key: 'berth:node', Value: n.id },
      { Key: 'berth:volume', Value: 'data' },
      { Key: 'berth:node-ip', Value: n.ip },
    ];
    expect(await authorize(w, w.iam.controllerCaller(), 'ec2', 'CreateVolume', request(tagged))).toBeNull();
    const denied = await authorize(w, w.iam.controllerCaller(), 'ec2', 'CreateVolume', request([{ Key: 'berth:node', Value: n.id }]));
    expect(denied).toMatchObject({ action: 'ec2:CreateVolume', explicit: false });
    // A dry run is judged by the same request (EC2 API Reference, DryRun).
    expect(await authorize(w, w.iam.controllerCaller(), 'ec2', 'CreateVolume', { ...request([]), DryRun: true })).toMatchObject({ action: 'ec2:CreateVolume' });
  });

  it('lets a node attach the volume whose berth:node-ip is its own source IP, to itself only', async () => {
    const { w, nodes } = clusterWorld();
    const [a, b] = nodes as [Node, Node];
    const asA = w.instanceCaller(a.instance);
    expect(await authorize(w, asA, 'ec2', 'AttachVolume', { VolumeId: a.volume.id, InstanceId: a.instance.id, Device: '/dev/sdf' })).toBeNull();
    // Another node's volume (same cluster, other berth:node-ip).
    expect(await authorize(w, asA, 'ec2', 'AttachVolume', { VolumeId: b.volume.id, InstanceId: a.instance.id, Device: '/dev/sdf' })).toMatchObject({
      action: 'ec2:AttachVolume',
      resource: `arn:aws:ec2:${ACCOUNT.region}:${ACCOUNT.accountId}:volume/${b.volume.id}`,
    });
    // Its own volume, to another instance.
    expect(await authorize(w, asA, 'ec2', 'AttachVolume', { VolumeId: a.volume.id, InstanceId: b.instance.id, Device: '/dev/sdf' })).toMatchObject({
      action: 'ec2:AttachVolume',
      resource: `arn:aws:ec2:${ACCOUNT.region}:${ACCOUNT.accountId}:instance/${b.instance.id}`,
    });
  });

  it('authorizes the KMS calls EC2 makes for a volume under the spec\'s key: creating it as the controller, attaching it as its node', async () => {
    const { w, spec, nodes } = clusterWorld({ kms: true });
    const n = spec.nodes[0]!;
    const create = { AvailabilityZone: n.az, Size: 100, VolumeType: 'gp3', Encrypted: true, KmsKeyId: KEY, TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'berth:cluster', Value: spec.name }, { Key: 'berth:node', Value: n.id }] }] };
    const checks = AUTHORIZERS.ec2.CreateVolume!(create, w.ctx('ec2', 'CreateVolume'));
    expect(checks.filter((c) => c.onBehalfOf === 'kms').map((c) => c.action)).toEqual(['kms:DescribeKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:CreateGrant']);
    expect(await authorize(w, w.iam.controllerCaller(), 'ec2', 'CreateVolume', create)).toBeNull();
    const a = nodes[0]!;
    expect(await authorize(w, w.instanceCaller(a.instance), 'ec2', 'AttachVolume', { VolumeId: a.volume.id, InstanceId: a.instance.id, Device: '/dev/sdf' })).toBeNull();
    // Without the key's statements, the attach fails on KMS, not on EC2.
    const nodePolicy = iamPolicyFor(spec, { accountId: ACCOUNT.accountId }).node;
    w.iam.putRolePolicy(spec.iamInstanceProfile, 'berth-demo-node', { ...nodePolicy, Statement: nodePolicy.Statement.filter((st) => !st.Action.some((x) => x.startsWith('kms:'))) });
    expect(await authorize(w, w.instanceCaller(a.instance), 'ec2', 'AttachVolume', { VolumeId: a.volume.id, InstanceId: a.instance.id, Device: '/dev/sdf' })).toMatchObject({ action: 'kms:CreateGrant', resource: KEY });
  });

  it('lets a node report its phase on itself only, and no other tag', async () => {
    const { w, nodes } = clusterWorld();
    const [a, b] = nodes as [Node, Node];
    const asA = w.instanceCaller(a.instance);
    const phase = (id: string, key = 'berth:phase') => ({ Resources: [id], Tags: [{ Key: key, Value: 'mounting' }] });
    expect(await authorize(w, asA, 'ec2', 'CreateTags', phase(a.instance.id))).toBeNull();
    expect(await authorize(w, asA, 'ec2', 'CreateTags', phase(b.instance.id))).toMatchObject({ action: 'ec2:CreateTags' });
    expect(await authorize(w, asA, 'ec2', 'CreateTags', phase(a.instance.id, 'berth:revision'))).toMatchObject({ action: 'ec2:CreateTags' });
  });

  it("lets a node complete its own group's lifecycle action, not another node's", async () => {
    const { w, nodes } = clusterWorld();
    const [a, b] = nodes as [Node, Node];
    const asA = w.instanceCaller(a.instance);
    const complete = (g: SimGroup) => ({ AutoScalingGroupName: g.name, LifecycleHookName: 'berth-launch', InstanceId: a.instance.id, LifecycleActionResult: 'CONTINUE' });
    expect(await authorize(w, asA, 'autoscaling', 'CompleteLifecycleAction', complete(a.group))).toBeNull();
    expect(await authorize(w, asA, 'autoscaling', 'CompleteLifecycleAction', complete(b.group))).toMatchObject({ action: 'autoscaling:CompleteLifecycleAction' });
  });

  it('denies the node what only the controller may do', async () => {
    const { w, nodes } = clusterWorld();
    const a = nodes[0]!;
    const asA = w.instanceCaller(a.instance);
    expect(await authorize(w, asA, 'autoscaling', 'TerminateInstanceInAutoScalingGroup', { InstanceId: a.instance.id, ShouldDecrementDesiredCapacity: false })).toMatchObject({
      action: 'autoscaling:TerminateInstanceInAutoScalingGroup',
    });
    expect(await authorize(w, asA, 'ec2', 'DeleteVolume', { VolumeId: a.volume.id })).toMatchObject({ action: 'ec2:DeleteVolume' });
  });

  it("creates the cluster's groups (with the service-linked role, the launch and the role passed) and not a group outside its names", async () => {
    const { w, spec, nodes } = clusterWorld();
    const a = nodes[0]!;
    const lt = w.addLaunchTemplate({
      name: `berth-${spec.name}-${a.id}-r-1111111111111111`,
      tags: { 'berth:cluster': spec.name, 'berth:node': a.id },
      data: {
        ImageId: spec.image,
        InstanceType: spec.instanceType,
        IamInstanceProfile: { Name: spec.iamInstanceProfile },
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' },
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 20, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } }],
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [{ Key: 'berth:cluster', Value: spec.name }, { Key: 'berth:node', Value: a.id }] },
          { ResourceType: 'volume', Tags: [{ Key: 'berth:cluster', Value: spec.name }, { Key: 'berth:volume', Value: 'root' }] },
        ],
        NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: a.eni.id, DeleteOnTermination: false }],
      },
    });
    w.state.groups.delete(a.group.name);
    const create = (name: string) => ({
      AutoScalingGroupName: name,
      LaunchTemplate: { LaunchTemplateId: lt.id, Version: '1' },
      MinSize: 1,
      MaxSize: 1,
      DesiredCapacity: 1,
      AvailabilityZones: [a.eni.az],
      Tags: [
        { ResourceId: name, ResourceType: 'auto-scaling-group', Key: 'berth:cluster', Value: spec.name, PropagateAtLaunch: false },
        { ResourceId: name, ResourceType: 'auto-scaling-group', Key: 'berth:node', Value: a.id, PropagateAtLaunch: false },
      ],
    });
    const checks = AUTHORIZERS.autoscaling.CreateAutoScalingGroup!(create(a.group.name), w.ctx('autoscaling', 'CreateAutoScalingGroup'));
    expect(checks.map((c) => c.action)).toEqual(expect.arrayContaining(['autoscaling:CreateAutoScalingGroup', 'iam:CreateServiceLinkedRole', 'ec2:RunInstances', 'ec2:CreateTags', 'iam:PassRole']));
    expect(await authorize(w, w.iam.controllerCaller(), 'autoscaling', 'CreateAutoScalingGroup', create(a.group.name))).toBeNull();
    // The policy allows groups named berth-<cluster>-*: a `*` in the new group's ARN is literal.
    expect(await authorize(w, w.iam.controllerCaller(), 'autoscaling', 'CreateAutoScalingGroup', create('other-demo-1'))).toMatchObject({ action: 'autoscaling:CreateAutoScalingGroup' });
  });

  it('evaluates KMS calls EC2 makes on the caller\'s behalf against the key\'s default key policy and kms:ViaService', async () => {
    const w = new TestWorld();
    w.iam.evaluator = evaluator;
    const key = `arn:aws:kms:${ACCOUNT.region}:${ACCOUNT.accountId}:key/1234abcd-0000-4000-8000-000000000000`;
    w.iam.putRolePolicy(CONTROLLER_ROLE, 'kms', {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'kms:CreateGrant', Resource: key, Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' }, StringEquals: { 'kms:ViaService': `ec2.${ACCOUNT.region}.amazonaws.com` } } },
      ],
    });
    const caller = w.iam.controllerCaller();
    const grant = (context: Record<string, string>) => w.iam.authorize(caller, [{ action: 'kms:CreateGrant', resource: key, context, onBehalfOf: 'kms' }]);
    expect(await grant({ 'kms:GrantIsForAWSResource': 'true', 'kms:ViaService': `ec2.${ACCOUNT.region}.amazonaws.com` })).toBeNull();
    expect(await grant({ 'kms:GrantIsForAWSResource': 'true' })).toMatchObject({ action: 'kms:CreateGrant' });
  });

  it('lets events.amazonaws.com send to a queue whose policy allows its rule, and no other rule', async () => {
    const queue = `arn:aws:sqs:${ACCOUNT.region}:${ACCOUNT.accountId}:berth-demo-changes`;
    const rule = `arn:aws:events:${ACCOUNT.region}:${ACCOUNT.accountId}:rule/berth-demo-changes`;
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: queue, Condition: { ArnEquals: { 'aws:SourceArn': rule } } }],
    };
    const w = new TestWorld();
    w.iam.evaluator = evaluator;
    const send = (sourceArn: string): Promise<IamDecision> => Promise.resolve(w.iam.authorizeServicePrincipal('events.amazonaws.com', 'sqs:SendMessage', queue, policy, { 'aws:SourceArn': sourceArn }));
    expect(await send(rule)).toBe('Allowed');
    expect(await send(`${rule}-other`)).toBe('ImplicitlyDenied');
  });

  it('throws with the library reason rather than allow what it cannot evaluate', async () => {
    const policies = { key: 'bad', documents: [{ name: 'p', document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] } }] };
    const request = { principalArn: `arn:aws:sts::${ACCOUNT.accountId}:assumed-role/r/s`, accountId: ACCOUNT.accountId, context: {}, policies };
    await expect(Promise.resolve(evaluator.evaluate({ ...request, action: 'ec2:NoSuchAction', resource: '*' }))).rejects.toThrow(/invalid\.action/);
    // A resource that is not of the action's types.
    await expect(Promise.resolve(evaluator.evaluate({ ...request, action: 'ec2:AttachVolume', resource: 'arn:aws:s3:::bucket' }))).rejects.toThrow(/no\.resource\.types/);
    // An invalid policy.
    const invalid = { key: 'invalid', documents: [{ name: 'p', document: { Version: '2012-10-17', Statement: [{ Effect: 'Maybe', Action: '*', Resource: '*' }] } }] };
    await expect(Promise.resolve(evaluator.evaluate({ ...request, policies: invalid, action: 'ec2:DescribeInstances', resource: '*' }))).rejects.toThrow(/policy\.errors/);
  });

  it('says how to install the library or turn IAM off when it is missing', () => {
    const e = iamSimulateMissingError(new Error('Cannot find package'));
    expect(e.message).toContain('@cloud-copilot/iam-simulate@0.1.173');
    expect(e.message).toContain('AGPL-3.0-or-later');
    expect(e.message).toContain("iam: 'off'");
  });
});
