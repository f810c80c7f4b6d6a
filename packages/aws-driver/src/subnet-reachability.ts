import { DescribeNatGatewaysCommand, DescribeRouteTablesCommand, DescribeSubnetsCommand, DescribeVpcEndpointsCommand, type RouteTable, type VpcEndpoint } from '@aws-sdk/client-ec2';
import type { ClusterSpec } from '@berth/core';
import type { AwsContext } from './aws-context.js';

/** An AWS API a node calls from its subnet: its short name in VPC endpoint service names (`com.amazonaws.<region>.<name>`). */
export type NodeApi = 'ec2' | 'autoscaling' | 'ssm' | 's3';

const API_TITLE: Readonly<Record<NodeApi, string>> = { ec2: 'EC2', autoscaling: 'Auto Scaling', ssm: 'SSM Parameter Store', s3: 'S3' };

/** One subnet whose nodes cannot reach some API they call. */
export interface UnreachableApis {
  /** `subnets[i]` of the spec. */
  readonly path: string;
  readonly message: string;
}

/**
 * Checks that every node subnet can reach the APIs the node bootstrap calls (VPC-1 … VPC-5 of
 * docs/aws-behaviour.md): its route table — the explicit association, else the VPC's main
 * table — has an active default route (0.0.0.0/0) to an available *public* NAT gateway, or the
 * VPC has, per API, an available interface endpoint with private DNS (S3 also: a gateway
 * endpoint in the subnet's route table). A default route to an internet gateway does not count:
 * a node's instance uses its node's existing network interface, which gets no public IP
 * (VPC-3). A default route to another target (transit gateway, virtual private gateway, a NAT
 * instance's interface, a peering connection) is accepted unchecked: where it leads is outside
 * the VPC. Three to four describe calls, whatever the number of nodes.
 */
export async function unreachableApis(ctx: AwsContext, spec: ClusterSpec, apis: readonly NodeApi[], signal?: AbortSignal): Promise<UnreachableApis[]> {
  const used = new Set(spec.nodes.map((n) => n.subnetId));
  const subnets = spec.subnets.map((s, i) => ({ ...s, path: `subnets[${i}]` })).filter((s) => used.has(s.id));
  if (subnets.length === 0 || apis.length === 0) return [];
  const described = await ctx.call('DescribeSubnets', (abortSignal) =>
    ctx.ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'subnet-id', Values: subnets.map((s) => s.id) }] }), { abortSignal }),
  { signal });
  const vpcOf = new Map((described.Subnets ?? []).map((s) => [s.SubnetId ?? '', s.VpcId ?? '']));
  const vpcs = [...new Set(vpcOf.values())];
  if (vpcs.length === 0) return []; // the 'subnets' check reports subnets that do not exist

  const tables: RouteTable[] = [];
  let token: string | undefined;
  do {
    const page = await ctx.call('DescribeRouteTables', (abortSignal) =>
      ctx.ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: vpcs }], NextToken: token }), { abortSignal }),
    { signal });
    tables.push(...(page.RouteTables ?? []));
    token = page.NextToken;
  } while (token);

  const endpoints: VpcEndpoint[] = [];
  token = undefined;
  do {
    const page = await ctx.call('DescribeVpcEndpoints', (abortSignal) =>
      ctx.ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-id', Values: vpcs }], NextToken: token }), { abortSignal }),
    { signal });
    endpoints.push(...(page.VpcEndpoints ?? []));
    token = page.NextToken;
  } while (token);

  const defaultRoute = (t: RouteTable) => (t.Routes ?? []).find((r) => r.DestinationCidrBlock === '0.0.0.0/0' && r.State !== 'blackhole');
  const natIds = [...new Set(tables.map((t) => defaultRoute(t)?.NatGatewayId).filter((id): id is string => id !== undefined))];
  const nats = new Map<string, { state: string; connectivity: string }>();
  if (natIds.length > 0) {
    const r = await ctx.call('DescribeNatGateways', (abortSignal) =>
      ctx.ec2.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: 'nat-gateway-id', Values: natIds }] }), { abortSignal }),
    { signal });
    for (const n of r.NatGateways ?? []) nats.set(n.NatGatewayId ?? '', { state: String(n.State ?? ''), connectivity: String(n.ConnectivityType ?? 'public') });
  }

  const region = spec.region;
  const serviceOf = (e: VpcEndpoint): NodeApi | null => {
    const m = /(?:^|\.)com\.amazonaws\.([a-z0-9-]+)\.([a-z0-9-]+)$/.exec(e.ServiceName ?? '');
    return m && m[1] === region && (API_TITLE as Record<string, string>)[m[2] as string] !== undefined ? (m[2] as NodeApi) : null;
  };
  const available = (e: VpcEndpoint) => String(e.State ?? '').toLowerCase() === 'available';

  const out: UnreachableApis[] = [];
  for (const s of subnets) {
    const vpcId = vpcOf.get(s.id);
    if (vpcId === undefined) continue;
    const explicit = tables.find((t) => (t.Associations ?? []).some((a) => a.SubnetId === s.id));
    const table = explicit ?? tables.find((t) => t.VpcId === vpcId && (t.Associations ?? []).some((a) => a.Main === true));
    const nodes = spec.nodes.filter((n) => n.subnetId === s.id).map((n) => n.id);
    const tableName = table ? `${table.RouteTableId}${explicit ? '' : ', the VPC main route table'}` : 'none';
    const route = table ? defaultRoute(table) : undefined;
    let internet = false;
    let why: string;
    if (!table) why = `no route table is associated with it and ${vpcId} has no main route table`;
    else if (!route) why = `its route table (${tableName}) has no active default route (0.0.0.0/0)`;
    else if (route.NatGatewayId) {
      const nat = nats.get(route.NatGatewayId);
      if (!nat) why = `its route table (${tableName}) sends 0.0.0.0/0 to NAT gateway ${route.NatGatewayId}, which does not exist`;
      else if (nat.state !== 'available') why = `its route table (${tableName}) sends 0.0.0.0/0 to NAT gateway ${route.NatGatewayId}, which is ${nat.state}`;
      else if (nat.connectivity === 'private') why = `its route table (${tableName}) sends 0.0.0.0/0 to NAT gateway ${route.NatGatewayId}, a private NAT gateway, which does not reach the internet`;
      else {
        internet = true;
        why = '';
      }
    } else if (route.GatewayId?.startsWith('igw-')) {
      why = `its route table (${tableName}) sends 0.0.0.0/0 to internet gateway ${route.GatewayId}, but a node's instance has no public IP (it uses the node's own network interface)`;
    } else {
      internet = true; // a transit gateway, VPN gateway, NAT instance or peering: not checkable from here
      why = '';
    }
    if (internet) continue;
    const missing = apis.filter((api) =>
      !endpoints.some((e) => {
        if (e.VpcId !== vpcId || !available(e) || serviceOf(e) !== api) return false;
        if (String(e.VpcEndpointType ?? '').toLowerCase() === 'gateway') return table !== undefined && (e.RouteTableIds ?? []).includes(table.RouteTableId ?? '');
        return e.PrivateDnsEnabled === true && (e.SubnetIds ?? []).length > 0;
      }),
    );
    if (missing.length === 0) continue;
    const withoutDns = endpoints.filter((e) => e.VpcId === vpcId && available(e) && missing.includes(serviceOf(e) as NodeApi) && String(e.VpcEndpointType ?? '').toLowerCase() === 'interface' && e.PrivateDnsEnabled !== true);
    out.push({
      path: s.path,
      message:
        `subnet ${s.id} (node${nodes.length > 1 ? 's' : ''} ${nodes.join(', ')}) cannot reach the ${missing.map((a) => API_TITLE[a]).join(', ')} API${missing.length > 1 ? 's' : ''} ` +
        `that the node bootstrap calls: ${why}, and ${vpcId} has no usable VPC endpoint for ${missing.length > 1 ? 'them' : 'it'}` +
        (withoutDns.length > 0 ? ` (${withoutDns.map((e) => e.VpcEndpointId).join(', ')} ${withoutDns.length > 1 ? 'have' : 'has'} private DNS disabled)` : '') +
        `. Fix: add a route 0.0.0.0/0 to a public NAT gateway in the subnet's route table, or create ${fixes(missing, region, table?.RouteTableId).join(' and ')}.`,
    });
  }
  return out;
}

function fixes(missing: readonly NodeApi[], region: string, tableId: string | undefined): string[] {
  const out: string[] = [];
  const iface = missing.filter((a) => a !== 's3').map((a) => `com.amazonaws.${region}.${a}`);
  if (iface.length > 0) out.push(`interface VPC endpoint${iface.length > 1 ? 's' : ''} ${iface.join(', ')} with private DNS enabled (the VPC needs enableDnsSupport and enableDnsHostnames)`);
  if (missing.includes('s3')) out.push(`an S3 gateway endpoint (com.amazonaws.${region}.s3) on route table ${tableId ?? 'of the subnet'}`);
  return out;
}
