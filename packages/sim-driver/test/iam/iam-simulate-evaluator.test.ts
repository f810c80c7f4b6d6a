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

/** Replaces the generated policies of the controller's role and of the nodes' role with one document of these statements. */
function usePolicy(w: TestWorld, spec: ClusterSpec, statements: readonly Record<string, unknown>[]): void {
  const document = { Version: '2012-10-17', Statement: statements };
  w.iam.putRolePolicy(CONTROLLER_ROLE, `berth-${spec.name}`, document);
  w.iam.putRolePolicy(spec.iamInstanceProfile, `berth-${spec.name}-node`, document);
}

/** How IAM answers the same request from each caller: 'allowed', 'denied' (implicitly) or 'denied explicitly'. */
async function answers(w: TestWorld, callers: readonly Caller[], service: ServiceName, operation: string, input: Record<string, unknown>): Promise<string[]> {
  const out: string[] = [];
  for (const c of callers) {
    const d = await authorize(w, c, service, operation, input);
    out.push(d === null ? 'allowed' : d.explicit ? 'denied explicitly' : 'denied');
  }
  return out;
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

  it('IAM-9, IAM-10: lets a node attach the volume whose berth:node-ip is its own source IP, to itself only', async () => {
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

  it('IAM-10: authorizes the KMS calls EC2 makes for a volume under the spec\'s key: creating it as the controller, attaching it as its node', async () => {
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

  it('IAM-9: lets a node report its phase on itself only, and no other tag', async () => {
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

  it("IAM-8: instance-role credentials carry aws:Ec2InstanceSourceVpc, aws:Ec2InstanceSourcePrivateIPv4 and ec2:SourceInstanceARN; the controller's do not", async () => {
    const { w, spec, nodes } = clusterWorld();
    const [a, b] = nodes as [Node, Node];
    const callers = [w.instanceCaller(a.instance)!, w.instanceCaller(b.instance)!, w.iam.controllerCaller()];
    const instanceArn = (n: Node) => `arn:aws:ec2:${ACCOUNT.region}:${ACCOUNT.accountId}:instance/${n.instance.id}`;
    const describeVolumes = (Condition: Record<string, unknown>) => {
      usePolicy(w, spec, [{ Effect: 'Allow', Action: 'ec2:DescribeVolumes', Resource: '*', Condition }]);
      return answers(w, callers, 'ec2', 'DescribeVolumes', {});
    };
    // Both nodes are in the cluster's VPC; only a has a's primary IP and a's ARN; the controller has none of the keys.
    expect(await describeVolumes({ StringEquals: { 'aws:Ec2InstanceSourceVpc': w.vpcId } })).toEqual(['allowed', 'allowed', 'denied']);
    expect(await describeVolumes({ StringEquals: { 'aws:Ec2InstanceSourcePrivateIPv4': a.ip } })).toEqual(['allowed', 'denied', 'denied']);
    expect(await describeVolumes({ IpAddress: { 'aws:Ec2InstanceSourcePrivateIPv4': `${a.ip}/32` } })).toEqual(['allowed', 'denied', 'denied']);
    expect(await describeVolumes({ ArnEquals: { 'ec2:SourceInstanceARN': instanceArn(a) } })).toEqual(['allowed', 'denied', 'denied']);
    expect(await describeVolumes({ Null: { 'ec2:SourceInstanceARN': 'false' } })).toEqual(['allowed', 'allowed', 'denied']);
    // A deny of instance credentials used outside a VPC, scoped to instance roles with Null ec2:SourceInstanceARN = false.
    const outside = (vpcId: string) => {
      usePolicy(w, spec, [
        { Effect: 'Allow', Action: 'ec2:DescribeVolumes', Resource: '*' },
        { Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringNotEquals: { 'aws:Ec2InstanceSourceVpc': vpcId }, Null: { 'ec2:SourceInstanceARN': 'false' } } },
      ]);
      return answers(w, callers, 'ec2', 'DescribeVolumes', {});
    };
    expect(await outside(w.vpcId)).toEqual(['allowed', 'allowed', 'allowed']);
    expect(await outside('vpc-0fffffffffffffff0')).toEqual(['denied explicitly', 'denied explicitly', 'allowed']);
  });

  it('IAM-9: variables work in string and ARN conditions and after the fifth colon of a Resource; not with IpAddress, not earlier in the ARN, and ${ec2:SourceInstanceARN} builds no Resource', async () => {
    const { w, spec, nodes } = clusterWorld();
    const [a, b] = nodes as [Node, Node];
    const callers = [w.instanceCaller(a.instance)!, w.instanceCaller(b.instance)!, w.iam.controllerCaller()];
    const tag = (id: string) => ({ Resources: [id], Tags: [{ Key: 'k', Value: 'v' }] });
    const tagAs = (statement: Record<string, unknown>, id: string) => {
      usePolicy(w, spec, [{ Effect: 'Allow', Action: 'ec2:CreateTags', ...statement }]);
      return answers(w, callers, 'ec2', 'CreateTags', tag(id));
    };
    // ArnEquals ec2:SourceInstanceARN = …:instance/${ec2:InstanceId} (AWSEC2VssSnapshotPolicy's pattern): an instance acting on itself.
    const itself = { Resource: 'arn:aws:ec2:*:*:instance/*', Condition: { ArnEquals: { 'ec2:SourceInstanceARN': 'arn:aws:ec2:*:*:instance/${ec2:InstanceId}' } } };
    expect(await tagAs(itself, a.instance.id)).toEqual(['allowed', 'denied', 'denied']);
    expect(await tagAs(itself, b.instance.id)).toEqual(['denied', 'allowed', 'denied']);
    // ${ec2:SourceInstanceARN} as the Resource: no instance may act on itself with it.
    expect(await tagAs({ Resource: '${ec2:SourceInstanceARN}' }, a.instance.id)).toEqual(['denied', 'denied', 'denied']);
    // A single-valued key as a variable in a string condition: the volume tagged with the caller's IP.
    const ownIp = { Resource: 'arn:aws:ec2:*:*:volume/*', Condition: { StringEquals: { 'aws:ResourceTag/berth:node-ip': '${aws:EC2InstanceSourcePrivateIPv4}' } } };
    expect(await tagAs(ownIp, a.volume.id)).toEqual(['allowed', 'denied', 'denied']);
    // Not with an IP-address operator.
    usePolicy(w, spec, [{ Effect: 'Allow', Action: 'ec2:DescribeVolumes', Resource: '*', Condition: { IpAddress: { 'aws:Ec2InstanceSourcePrivateIPv4': '${aws:Ec2InstanceSourcePrivateIPv4}' } } }]);
    expect(await answers(w, callers, 'ec2', 'DescribeVolumes', {})).toEqual(['denied', 'denied', 'denied']);
    // In a Resource ARN, in the resource part (after the fifth colon) only.
    const getItem = (resource: string, ip: string) => {
      usePolicy(w, spec, [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: resource }]);
      return answers(w, callers, 'dynamodb', 'GetItem', { TableName: `node-${ip}`, Key: { pk: { S: 'x' } } });
    };
    const { region, accountId } = ACCOUNT;
    expect(await getItem(`arn:aws:dynamodb:${region}:${accountId}:table/node-\${aws:EC2InstanceSourcePrivateIPv4}`, a.ip)).toEqual(['allowed', 'denied', 'denied']);
    expect(await getItem(`arn:aws:dynamodb:${region}:${accountId}:table/node-\${aws:EC2InstanceSourcePrivateIPv4}`, b.ip)).toEqual(['denied', 'allowed', 'denied']);
    expect(await getItem(`arn:aws:dynamodb:${region}:${accountId}:table/node-${a.ip}`, a.ip)).toEqual(['allowed', 'allowed', 'allowed']);
    expect(await getItem(`arn:aws:dynamodb:\${aws:RequestedRegion}:${accountId}:table/node-${a.ip}`, a.ip)).toEqual(['denied', 'denied', 'denied']);
  });

  it('IAM-10: "a node attaches only its own data volume, to itself": the instance is the caller, the volume is of the cluster and carries the caller\'s IP, the caller is in the cluster\'s VPC', async () => {
    const { w, spec, nodes } = clusterWorld();
    const [a, b] = nodes as [Node, Node];
    const ec2 = (type: string, id: string) => `arn:aws:ec2:${ACCOUNT.region}:${ACCOUNT.accountId}:${type}/${id}`;
    const pattern = (vpcId: string) =>
      usePolicy(w, spec, [
        { Effect: 'Allow', Action: 'ec2:AttachVolume', Resource: ec2('instance', '*'), Condition: { ArnEquals: { 'ec2:SourceInstanceARN': ec2('instance', '${ec2:InstanceId}') } } },
        {
          Effect: 'Allow',
          Action: 'ec2:AttachVolume',
          Resource: ec2('volume', '*'),
          Condition: { StringEquals: { 'aws:ResourceTag/berth:cluster': spec.name, 'aws:ResourceTag/berth:node-ip': '${aws:EC2InstanceSourcePrivateIPv4}', 'aws:Ec2InstanceSourceVpc': vpcId } },
        },
      ]);
    const asA = w.instanceCaller(a.instance)!;
    const attach = (volumeId: string, instanceId: string) => authorize(w, asA, 'ec2', 'AttachVolume', { VolumeId: volumeId, InstanceId: instanceId, Device: '/dev/sdf' });
    // A volume of another cluster that carries a's IP.
    const foreign = w.addVolume({ az: a.eni.az, tags: { 'berth:cluster': 'other', 'berth:node-ip': a.ip } });
    pattern(w.vpcId);
    expect(await attach(a.volume.id, a.instance.id)).toBeNull();
    expect(await attach(b.volume.id, a.instance.id)).toMatchObject({ action: 'ec2:AttachVolume', resource: ec2('volume', b.volume.id), explicit: false });
    expect(await attach(a.volume.id, b.instance.id)).toMatchObject({ action: 'ec2:AttachVolume', resource: ec2('instance', b.instance.id), explicit: false });
    expect(await attach(foreign.id, a.instance.id)).toMatchObject({ action: 'ec2:AttachVolume', resource: ec2('volume', foreign.id) });
    // The caller's IP matches, but it is not in the cluster's VPC.
    pattern('vpc-0fffffffffffffff0');
    expect(await attach(a.volume.id, a.instance.id)).toMatchObject({ action: 'ec2:AttachVolume', resource: ec2('volume', a.volume.id) });
  });
});
