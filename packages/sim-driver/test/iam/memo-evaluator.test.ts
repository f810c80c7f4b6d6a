import { iamPolicyFor } from '@berth/aws-driver';
import { createPrng, defineCluster, type Prng } from '@berth/core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IamDecision, IamEvaluationRequest, IamEvaluator } from '../../src/aws/iam/iam-decision.js';
import { loadIamSimulateEvaluator } from '../../src/aws/iam/iam-simulate-evaluator.js';
import { evaluatorMemoStats, memoizeEvaluator, memoKey, resetEvaluatorMemo, resourceShape } from '../../src/aws/iam/memo-evaluator.js';
import { simulatedClusterInput } from '../../src/simulated-cluster-input.js';

// The memo must never answer differently from a fresh evaluation. Requests are generated from
// small pools (so that many share a memo key while differing in what the key leaves out) and
// every one is checked against a fresh evaluation (verify mode throws on a difference).

const ACCT = '123456789012';
const OTHER = '210987654321';
const REGION = 'eu-west-1';

let fresh: IamEvaluator;
beforeAll(async () => {
  fresh = await loadIamSimulateEvaluator();
}, 60_000);

const spec = defineCluster(simulatedClusterInput({ nodes: 3 }));
const generated = iamPolicyFor(spec, { accountId: ACCT });

/** Policy features the generated policies do not use: variables with defaults, NotResource, Deny, IfExists, Null, `?`, short ARNs, case. */
const tricky = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'ec2:AttachVolume', Resource: `arn:aws:ec2:${REGION}:${ACCT}:volume/\${aws:PrincipalTag/team, 'vol-00000000000000001'}` },
    { Effect: 'Allow', Action: 'ec2:CreateTags', NotResource: [`arn:aws:ec2:${REGION}:${ACCT}:volume/vol-0000000000000000?`, 'arn:aws:ec2:*:*:snapshot'] },
    { Effect: 'Deny', Action: 'ec2:CreateTags', Resource: '*', Condition: { StringEqualsIgnoreCase: { 'AWS:RequestTag/Owner': 'MALLORY' } } },
    { Effect: 'Allow', Action: ['ec2:DeleteVolume', 'ec2:AttachVolume'], Resource: 'arn:aws:ec2', Condition: { StringEqualsIfExists: { 'aws:ResourceTag/berth:cluster': 'demo' }, Null: { 'aws:ResourceTag/keep': 'true' } } },
    { Effect: 'Allow', Action: 'autoscaling:CompleteLifecycleAction', Resource: `arn:aws:autoscaling:${REGION}:${ACCT}:autoScalingGroup:*:autoScalingGroupName/\${aws:PrincipalTag/group}` },
    // ec2:Region is not a key of Auto Scaling actions: the library drops it, so the variable never resolves.
    { Effect: 'Allow', Action: 'autoscaling:UpdateAutoScalingGroup', Resource: 'arn:aws:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/${ec2:Region}-1' },
    { Effect: 'Allow', Action: 'ec2:TerminateInstances', Resource: '*', Condition: { 'ForAnyValue:StringLike': { 'aws:TagKeys': ['berth:*'] }, IpAddressIfExists: { 'aws:EC2InstanceSourcePrivateIPv4': '10.0.1.0/24' } } },
  ],
};

const POLICY_SETS = [
  { key: 'test-controller', documents: [{ name: 'controller', document: generated.controller }] },
  { key: 'test-node', documents: [{ name: 'node', document: generated.node }] },
  { key: 'test-tricky', documents: [{ name: 'tricky', document: tricky }] },
];

const VOLUMES = ['vol-00000000000000001', 'vol-00000000000000002', 'vol-0000000000000000a', '*'];
const INSTANCES = ['i-00000000000000001', 'i-00000000000000002', '*'];
const GROUPS = ['berth-demo-demo-1', 'berth-demo-demo-2', 'other-1'];
const IPS = ['10.0.1.10', '10.0.2.10', '10.0.3.10'];

function arnFor(p: Prng, type: 'volume' | 'instance' | 'group' | 'snapshot'): string {
  const account = p.chance(0.1) ? OTHER : ACCT;
  const region = p.chance(0.1) ? 'us-east-1' : REGION;
  switch (type) {
    case 'volume':
      return `arn:aws:ec2:${region}:${account}:volume/${p.pick(VOLUMES)}`;
    case 'instance':
      return `arn:aws:ec2:${region}:${account}:instance/${p.pick(INSTANCES)}`;
    case 'snapshot':
      return `arn:aws:ec2:${region}::snapshot/snap-0000000000000000${p.int(1, 3)}`;
    case 'group':
      return `arn:aws:autoscaling:${region}:${account}:autoScalingGroup:${p.pick(['*', 'a1b2', 'c3d4'])}:autoScalingGroupName/${p.pick(GROUPS)}`;
  }
}

function tags(p: Prng, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (p.chance(0.8)) out[`${prefix}/berth:cluster`] = p.pick(['demo', 'other']);
  if (p.chance(0.6)) out[`${prefix}/berth:node-ip`] = p.pick(IPS);
  if (p.chance(0.3)) out[`${prefix}/keep`] = 'yes';
  if (p.chance(0.2)) out[`${prefix}/Owner`] = p.pick(['mallory', 'alice']);
  return out;
}

function request(p: Prng): IamEvaluationRequest {
  const policies = p.pick(POLICY_SETS);
  const ip = p.pick(IPS);
  const principalAccount = p.chance(0.1) ? OTHER : ACCT;
  const context: Record<string, string | string[]> = {
    'aws:PrincipalArn': `arn:aws:iam::${principalAccount}:role/r`,
    'ec2:Region': p.chance(0.8) ? REGION : 'other',
    ...(p.chance(0.7) && { 'aws:EC2InstanceSourcePrivateIPv4': ip }),
    ...(p.chance(0.7) && { 'ec2:SourceInstanceARN': `arn:aws:ec2:${REGION}:${ACCT}:instance/${p.pick(INSTANCES.slice(0, 2))}` }),
    ...(p.chance(0.5) && { 'aws:PrincipalTag/team': p.chance(0.8) ? p.pick(VOLUMES) : [p.pick(VOLUMES), p.pick(VOLUMES)] }),
    ...(p.chance(0.5) && { 'aws:PrincipalTag/group': p.pick(GROUPS) }),
  };
  const kind = p.int(0, 7);
  let action: string;
  let resource: string;
  switch (kind) {
    case 0:
      action = 'ec2:AttachVolume';
      resource = arnFor(p, p.chance(0.5) ? 'volume' : 'instance');
      Object.assign(context, tags(p, 'aws:ResourceTag'));
      break;
    case 1: {
      action = 'ec2:CreateTags';
      resource = arnFor(p, p.pick(['volume', 'instance', 'snapshot'] as const));
      const request = tags(p, 'aws:RequestTag');
      if (p.chance(0.5)) request['aws:RequestTag/berth:phase'] = 'mounting';
      Object.assign(context, request, tags(p, 'aws:ResourceTag'));
      context['aws:TagKeys'] = Object.keys(request).map((k) => k.slice('aws:RequestTag/'.length));
      if (p.chance(0.3)) context['ec2:CreateAction'] = p.pick(['CreateVolume', 'RunInstances']);
      break;
    }
    case 2:
      action = 'ec2:CreateVolume';
      resource = `arn:aws:ec2:${REGION}:${ACCT}:volume/*`;
      Object.assign(context, tags(p, 'aws:RequestTag'));
      break;
    case 3:
      action = 'ec2:DeleteVolume';
      resource = arnFor(p, 'volume');
      Object.assign(context, tags(p, 'aws:ResourceTag'));
      break;
    case 4:
      action = p.pick(['autoscaling:CompleteLifecycleAction', 'autoscaling:CreateAutoScalingGroup', 'autoscaling:UpdateAutoScalingGroup']);
      resource = arnFor(p, 'group');
      Object.assign(context, tags(p, 'autoscaling:ResourceTag'), tags(p, 'aws:RequestTag'));
      break;
    case 5:
      action = 'ec2:TerminateInstances';
      resource = arnFor(p, 'instance');
      if (p.chance(0.5)) context['aws:TagKeys'] = p.pick([['berth:phase'], ['Name'], []]);
      break;
    case 6:
      action = p.pick(['ec2:DescribeInstances', 'ec2:DescribeVolumes', 'autoscaling:DescribeAutoScalingInstances']);
      resource = '*';
      break;
    default:
      action = 'dynamodb:UpdateItem';
      resource = `arn:aws:dynamodb:${REGION}:${ACCT}:table/${p.pick(['berth-locks', 'other'])}`;
      if (p.chance(0.8)) context['dynamodb:LeadingKeys'] = [p.pick(['berth#demo', 'berth#other'])];
  }
  return { principalArn: `arn:aws:sts::${principalAccount}:assumed-role/r/s`, accountId: ACCT, action, resource, context, policies };
}

describe('memoizeEvaluator', () => {
  it('answers as a fresh evaluation does, over generated requests that share memo keys', async () => {
    resetEvaluatorMemo();
    const memo = memoizeEvaluator(fresh, { verify: true });
    const p = createPrng(20261203);
    const seen: Record<IamDecision, number> = { Allowed: 0, ImplicitlyDenied: 0, ExplicitlyDenied: 0 };
    for (let i = 0; i < 1500; i++) seen[await memo.evaluate(request(p))]++;
    const stats = evaluatorMemoStats();
    // Enough hits to have tested the key, and every kind of answer.
    expect(stats.hits).toBeGreaterThan(500);
    expect(stats.uncacheable).toBe(0);
    expect(seen.Allowed).toBeGreaterThan(50);
    expect(seen.ImplicitlyDenied).toBeGreaterThan(50);
    expect(seen.ExplicitlyDenied).toBeGreaterThan(2);
  }, 120_000);

  it('answers a request it has decided synchronously, in every simulation of the process', async () => {
    resetEvaluatorMemo();
    const r = request(createPrng(7));
    const first = memoizeEvaluator(fresh);
    const decided = await first.evaluate(r);
    const other = memoizeEvaluator(fresh); // another simulation's wrapper: same process-wide memo
    expect(other.evaluate({ ...r, context: { ...r.context } })).toBe(decided);
  });

  it('shares one evaluation between identical requests in flight', async () => {
    resetEvaluatorMemo();
    let calls = 0;
    const counting: IamEvaluator = {
      evaluate: (req) => {
        calls++;
        return fresh.evaluate(req);
      },
    };
    const memo = memoizeEvaluator(counting);
    const r = request(createPrng(11));
    const [a, b] = await Promise.all([memo.evaluate(r), memo.evaluate(r)]);
    expect(a).toBe(b);
    expect(calls).toBe(1);
  });

  it('does not remember an evaluation error', async () => {
    resetEvaluatorMemo();
    const memo = memoizeEvaluator(fresh);
    const bad: IamEvaluationRequest = { ...request(createPrng(3)), action: 'ec2:NoSuchAction', resource: '*' };
    await expect(Promise.resolve(memo.evaluate(bad))).rejects.toThrow(/invalid\.action/);
    await expect(Promise.resolve(memo.evaluate(bad))).rejects.toThrow(/invalid\.action/);
  });
});

describe('memoKey', () => {
  const base: IamEvaluationRequest = {
    principalArn: `arn:aws:sts::${ACCT}:assumed-role/node/i-1`,
    accountId: ACCT,
    action: 'ec2:AttachVolume',
    resource: `arn:aws:ec2:${REGION}:${ACCT}:volume/vol-00000000000000001`,
    context: { 'aws:ResourceTag/berth:cluster': 'demo', 'aws:ResourceTag/berth:node-ip': '10.0.1.10', 'aws:EC2InstanceSourcePrivateIPv4': '10.0.1.10', 'aws:ResourceTag/Name': 'x' },
    policies: POLICY_SETS[1]!,
  };

  it('leaves out what the policies cannot see: the volume id, tags they do not read, the session', () => {
    const k = memoKey(base);
    expect(memoKey({ ...base, resource: `arn:aws:ec2:${REGION}:${ACCT}:volume/vol-00000000000000002` })).toBe(k);
    expect(memoKey({ ...base, context: { ...base.context, 'aws:ResourceTag/Name': 'y' } })).toBe(k);
    expect(memoKey({ ...base, principalArn: `arn:aws:sts::${ACCT}:assumed-role/node/i-2` })).toBe(k);
  });

  it('keeps what they read: the caller IP their variable names, the tags in their conditions (any case), the resource type', () => {
    const k = memoKey(base);
    expect(memoKey({ ...base, context: { ...base.context, 'aws:EC2InstanceSourcePrivateIPv4': '10.0.2.10' } })).not.toBe(k);
    const { 'aws:ResourceTag/berth:node-ip': _ip, ...others } = base.context;
    expect(memoKey({ ...base, context: { ...others, 'AWS:RESOURCETAG/berth:node-ip': '10.0.1.10' } })).toBe(k);
    expect(memoKey({ ...base, context: { ...others, 'AWS:RESOURCETAG/berth:node-ip': '10.0.2.10' } })).not.toBe(k);
    expect(memoKey({ ...base, resource: `arn:aws:ec2:${REGION}:${ACCT}:instance/i-00000000000000001` })).not.toBe(k);
    expect(memoKey({ ...base, accountId: OTHER })).not.toBe(k);
  });

  it('reduces a resource to its type', () => {
    expect(resourceShape(`arn:aws:ec2:${REGION}:${ACCT}:volume/vol-1`)).toBe(`arn:aws:ec2:${REGION}:${ACCT}:volume/#`);
    expect(resourceShape(`arn:aws:autoscaling:${REGION}:${ACCT}:autoScalingGroup:a1b2:autoScalingGroupName/berth-demo-1`)).toBe(`arn:aws:autoscaling:${REGION}:${ACCT}:autoScalingGroup:#:autoScalingGroupName/#`);
    expect(resourceShape(`arn:aws:iam::${ACCT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`)).toBe(`arn:aws:iam::${ACCT}:role/aws-service-role/autoscaling.amazonaws.com/#`);
    expect(resourceShape(`arn:aws:sqs:${REGION}:${ACCT}:berth-demo-changes`)).toBe(`arn:aws:sqs:${REGION}:${ACCT}:#`);
    expect(resourceShape('*')).toBe('*');
  });
});
