import { DescribeAutoScalingGroupsCommand, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import {
  DescribeLaunchTemplatesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeVolumesCommand,
  type LaunchTemplate,
  type NetworkInterface,
  type Volume,
} from '@aws-sdk/client-ec2';
import type { ClusterSpec, NodeSpec } from '@berth/core';
import { BerthConfigError } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { groupName, TAG } from './names.js';

export function nodeSpecOf(spec: ClusterSpec, nodeId: string): NodeSpec {
  const node = spec.nodes.find((n) => n.id === nodeId);
  if (!node) {
    throw new BerthConfigError([{ path: 'nodeId', message: `node '${nodeId}' is not in cluster '${spec.name}' (nodes: ${spec.nodes.map((n) => n.id).join(', ')})` }], 'driver call');
  }
  return node;
}

export function nodeFilters(spec: ClusterSpec, nodeId: string) {
  return [
    { Name: `tag:${TAG.cluster}`, Values: [spec.name] },
    { Name: `tag:${TAG.node}`, Values: [nodeId] },
  ];
}

/** The node's ENI (oldest first if, after some outside mishap, there are several). */
export async function findNodeEnis(ctx: AwsContext, spec: ClusterSpec, nodeId: string, signal?: AbortSignal): Promise<NetworkInterface[]> {
  const out: NetworkInterface[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ctx.call('DescribeNetworkInterfaces', (abortSignal) =>
      ctx.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: nodeFilters(spec, nodeId), NextToken, MaxResults: 1000 }), { abortSignal }),
    { signal });
    out.push(...(page.NetworkInterfaces ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

/** The node's data volumes that still exist (not deleting/deleted), oldest first. */
export async function findNodeVolumes(ctx: AwsContext, spec: ClusterSpec, nodeId: string, signal?: AbortSignal): Promise<Volume[]> {
  const out: Volume[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ctx.call('DescribeVolumes', (abortSignal) =>
      ctx.ec2.send(
        new DescribeVolumesCommand({
          Filters: [...nodeFilters(spec, nodeId), { Name: `tag:${TAG.volume}`, Values: ['data'] }],
          NextToken,
          MaxResults: 500,
        }),
        { abortSignal },
      ),
    { signal });
    out.push(...(page.Volumes ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return out
    .filter((v) => v.State !== 'deleting' && v.State !== 'deleted')
    .sort((a, b) => (a.CreateTime?.getTime() ?? 0) - (b.CreateTime?.getTime() ?? 0));
}

/** The node's templates as AWS lists them now (and what the driver knows of the cluster's follows it). */
export async function findNodeTemplates(ctx: AwsContext, spec: ClusterSpec, nodeId: string, signal?: AbortSignal): Promise<LaunchTemplate[]> {
  const out = await describeTemplates(ctx, nodeFilters(spec, nodeId), signal);
  ctx.templates.nodeDescribed(spec.name, nodeId, out);
  return out;
}

/**
 * The node's templates from what the driver knows of the cluster's (template-cache.ts): when it
 * knows nothing recent, one describe of the whole cluster's (its tag, LT-9) fills it.
 */
export async function knownNodeTemplates(ctx: AwsContext, spec: ClusterSpec, nodeId: string, signal?: AbortSignal): Promise<LaunchTemplate[]> {
  const maxAgeMs = ctx.config.templateCacheMaxAgeMs;
  if (maxAgeMs === 0) return findNodeTemplates(ctx, spec, nodeId, signal);
  const known = ctx.templates.nodeTemplates(spec.name, nodeId, ctx.clock.now(), maxAgeMs);
  if (known) return known;
  const atMs = ctx.clock.now();
  const all = await describeTemplates(ctx, [{ Name: `tag:${TAG.cluster}`, Values: [spec.name] }], signal);
  ctx.templates.filled(spec.name, all, atMs);
  return ctx.templates.nodeTemplates(spec.name, nodeId, atMs, maxAgeMs) ?? [];
}

async function describeTemplates(ctx: AwsContext, Filters: { Name: string; Values: string[] }[], signal?: AbortSignal): Promise<LaunchTemplate[]> {
  const out: LaunchTemplate[] = [];
  let NextToken: string | undefined;
  do {
    // MaxResults explicitly (the largest page, LT-9): moto truncates at its default of 15 without returning a NextToken.
    const page = await ctx.call('DescribeLaunchTemplates', (abortSignal) => ctx.ec2.send(new DescribeLaunchTemplatesCommand({ Filters, NextToken, MaxResults: 200 }), { abortSignal }), { signal });
    out.push(...(page.LaunchTemplates ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

export async function findNodeGroup(ctx: AwsContext, spec: ClusterSpec, nodeId: string, signal?: AbortSignal): Promise<AutoScalingGroup | null> {
  const page = await ctx.call('DescribeAutoScalingGroups', (abortSignal) =>
    ctx.asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName(spec.name, nodeId)] }), { abortSignal }),
  { signal });
  return page.AutoScalingGroups?.[0] ?? null;
}
