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

export async function findNodeTemplates(ctx: AwsContext, spec: ClusterSpec, nodeId: string, signal?: AbortSignal): Promise<LaunchTemplate[]> {
  const out: LaunchTemplate[] = [];
  let NextToken: string | undefined;
  do {
    // MaxResults explicitly: moto truncates at its default of 15 without returning a NextToken.
    const page = await ctx.call('DescribeLaunchTemplates', (abortSignal) =>
      ctx.ec2.send(new DescribeLaunchTemplatesCommand({ Filters: nodeFilters(spec, nodeId), NextToken, MaxResults: 200 }), { abortSignal }),
    { signal });
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
