// How IAM authorizes the Elastic Load Balancing (v2) operations the simulator answers
// (docs/aws-behaviour.md ELB-13):
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html
// The Describe* actions take no resource type (`Resource: "*"`). RegisterTargets,
// DeregisterTargets, ModifyTargetGroupAttributes and DeleteTargetGroup take the `targetgroup`
// resource with `aws:ResourceTag/…` and `elasticloadbalancing:ResourceTag/…`; the creates take
// the new resource with `aws:RequestTag/…` and `aws:TagKeys`. A create with tags is also
// authorised as `elasticloadbalancing:AddTags` on the new resource; that check is not made here:
// the evaluator's data (iam-data, which merges Classic ELB and ELBv2 under one prefix) knows
// only Classic ELB's AddTags, on `loadbalancer/<name>`. Berth creates no ELB resources.

import type { AuthorizationCheck, Authorizer, ServiceContext } from '../service.js';
import { check, merge, objs, regionalArn, requestTagKeys, str, tagList, type Context, type Input } from './authorize-common.js';

function resourceTags(tags: Readonly<Record<string, string>>): Context {
  const out: Context = {};
  for (const [k, v] of Object.entries(tags)) {
    out[`aws:ResourceTag/${k}`] = v;
    out[`elasticloadbalancing:ResourceTag/${k}`] = v;
  }
  return out;
}

function onTargetGroup(action: string): Authorizer {
  return (input, ctx) => {
    const arn = str(input, 'TargetGroupArn') ?? '';
    const g = ctx.sim.state.targetGroups.get(arn);
    return [check(`elasticloadbalancing:${action}`, arn === '' ? regionalArn(ctx, 'elasticloadbalancing', 'targetgroup/unknown/0000000000000000') : arn, g ? resourceTags(g.tags) : {})];
  };
}

function anyResource(action: string): Authorizer {
  return () => [check(`elasticloadbalancing:${action}`, '*', {})];
}

/** A create: the new resource (its id unknown) with the request tags. */
function created(ctx: ServiceContext, action: string, resource: string, input: Input): AuthorizationCheck[] {
  return [check(`elasticloadbalancing:${action}`, regionalArn(ctx, 'elasticloadbalancing', resource), requestTagKeys(tagList(objs(input, 'Tags'))))];
}

function loadBalancerArn(ctx: ServiceContext, arn: string): string {
  return arn === '' ? regionalArn(ctx, 'elasticloadbalancing', `loadbalancer/app/unknown/0000000000000000`) : arn;
}

export const ELBV2_AUTHORIZERS: Readonly<Record<string, Authorizer>> = {
  DescribeTargetGroups: anyResource('DescribeTargetGroups'),
  DescribeTargetGroupAttributes: anyResource('DescribeTargetGroupAttributes'),
  DescribeTargetHealth: anyResource('DescribeTargetHealth'),
  DescribeLoadBalancers: anyResource('DescribeLoadBalancers'),
  DescribeListeners: anyResource('DescribeListeners'),
  RegisterTargets: onTargetGroup('RegisterTargets'),
  DeregisterTargets: onTargetGroup('DeregisterTargets'),
  ModifyTargetGroupAttributes: onTargetGroup('ModifyTargetGroupAttributes'),
  DeleteTargetGroup: onTargetGroup('DeleteTargetGroup'),

  CreateTargetGroup(input, ctx) {
    return created(ctx, 'CreateTargetGroup', `targetgroup/${str(input, 'Name') ?? ''}/*`, input);
  },
  CreateLoadBalancer(input, ctx) {
    const kind = str(input, 'Type') === 'network' ? 'net' : 'app';
    return created(ctx, 'CreateLoadBalancer', `loadbalancer/${kind}/${str(input, 'Name') ?? ''}/*`, input);
  },
  CreateListener(input, ctx) {
    const lb = loadBalancerArn(ctx, str(input, 'LoadBalancerArn') ?? '');
    const tags = ctx.sim.state.loadBalancers.get(lb)?.tags ?? {};
    return [check('elasticloadbalancing:CreateListener', lb, merge(resourceTags(tags), requestTagKeys(tagList(objs(input, 'Tags')))))];
  },
  DeleteLoadBalancer(input, ctx) {
    const lb = loadBalancerArn(ctx, str(input, 'LoadBalancerArn') ?? '');
    return [check('elasticloadbalancing:DeleteLoadBalancer', lb, resourceTags(ctx.sim.state.loadBalancers.get(lb)?.tags ?? {}))];
  },
  DeleteListener(input, ctx) {
    const arn = str(input, 'ListenerArn') ?? regionalArn(ctx, 'elasticloadbalancing', 'listener/app/unknown/0000000000000000/0000000000000000');
    return [check('elasticloadbalancing:DeleteListener', arn, {})];
  },
};
