import type { SimContext } from './sim-context.js';
import type { SimRoute, SimRouteTable } from './world/network-entities.js';

/** Where a subnet's default route (0.0.0.0/0) goes (`SimAccount.setSubnetRoute`). */
export type SimDefaultRoute = 'nat' | 'private-nat' | 'internet-gateway' | 'none';

/** A VPC endpoint of the simulated account (`SimAccount.addVpcEndpoint`). */
export interface SimVpcEndpointOptions {
  /** The service's short name: `ec2`, `autoscaling`, `ssm`, `s3`... (`com.amazonaws.<region>.` is prefixed). */
  readonly service: string;
  /** Default `Interface` (`Gateway` for S3 and DynamoDB only). */
  readonly type?: 'Interface' | 'Gateway';
  /** Interface endpoints: the subnets it has a network interface in. Default: every subnet of the VPC. */
  readonly subnetIds?: readonly string[];
  /** Interface endpoints: default true (the service's DNS name resolves to the endpoint, VPC-4). */
  readonly privateDns?: boolean;
  /** Gateway endpoints: the route tables that get its route. Default: every route table of the VPC. */
  readonly routeTableIds?: readonly string[];
  readonly securityGroupIds?: readonly string[];
  /** Default `available`. */
  readonly state?: 'available' | 'pending' | 'deleted';
  /** Default: the VPC of the account's first subnet. */
  readonly vpcId?: string;
}

const local = (cidr: string): SimRoute => ({ destinationCidrBlock: cidr, destinationPrefixListId: null, gatewayId: 'local', natGatewayId: null });
const defaultRoute = (target: { gatewayId?: string; natGatewayId?: string }): SimRoute => ({
  destinationCidrBlock: '0.0.0.0/0',
  destinationPrefixListId: null,
  gatewayId: target.gatewayId ?? null,
  natGatewayId: target.natGatewayId ?? null,
});

/**
 * The routing every VPC of a prepared account has, as a typical private-subnet setup: an
 * internet gateway, a public NAT gateway (in a public subnet the simulated account does not
 * model) and a main route table with the local route and `0.0.0.0/0` to the NAT gateway, so
 * nodes reach the EC2 and Auto Scaling APIs. Idempotent: a VPC that has a main table is left alone.
 */
export function ensureVpcRouting(ctx: SimContext, vpcId: string): void {
  const { state } = ctx;
  if ([...state.routeTables.values()].some((t) => t.vpcId === vpcId && t.main)) return;
  const cidr = state.vpcs.get(vpcId)?.cidr ?? '10.0.0.0/8';
  const igw = state.nextId('igw');
  state.internetGateways.set(igw, { id: igw, vpcId });
  const nat = natGateway(ctx, vpcId, 'public');
  const id = state.nextId('rtb');
  state.routeTables.set(id, { id, vpcId, main: true, subnetIds: [], routes: [local(cidr), defaultRoute({ natGatewayId: nat })] });
}

function natGateway(ctx: SimContext, vpcId: string, connectivityType: 'public' | 'private'): string {
  const { state } = ctx;
  const existing = [...state.natGateways.values()].find((n) => n.vpcId === vpcId && n.connectivityType === connectivityType && n.state === 'available');
  if (existing) return existing.id;
  const id = state.nextId('nat');
  state.natGateways.set(id, { id, vpcId, subnetId: `subnet-public-${id.slice(-8)}`, connectivityType, state: 'available' });
  return id;
}

/** The route table a subnet uses: its explicit association, else its VPC's main table (VPC-1). */
export function subnetRouteTable(ctx: SimContext, subnetId: string): SimRouteTable | null {
  const tables = [...ctx.state.routeTables.values()];
  const explicit = tables.find((t) => t.subnetIds.includes(subnetId));
  if (explicit) return explicit;
  const vpcId = ctx.state.subnets.get(subnetId)?.vpcId;
  return tables.find((t) => t.vpcId === vpcId && t.main) ?? null;
}

/** Gives the subnet a route table of its own whose default route goes to `target` (`none`: only the local route). */
export function setSubnetRoute(ctx: SimContext, subnetId: string, target: SimDefaultRoute): string {
  const { state } = ctx;
  const subnet = state.subnets.get(subnetId);
  if (!subnet) throw new Error(`setSubnetRoute: no subnet ${subnetId} in the simulated account (prepare the spec first)`);
  ensureVpcRouting(ctx, subnet.vpcId);
  for (const t of state.routeTables.values()) {
    const i = t.subnetIds.indexOf(subnetId);
    if (i >= 0) t.subnetIds.splice(i, 1);
  }
  const cidr = state.vpcs.get(subnet.vpcId)?.cidr ?? '10.0.0.0/8';
  const routes = [local(cidr)];
  if (target === 'nat' || target === 'private-nat') routes.push(defaultRoute({ natGatewayId: natGateway(ctx, subnet.vpcId, target === 'nat' ? 'public' : 'private') }));
  if (target === 'internet-gateway') {
    const igw = [...state.internetGateways.values()].find((g) => g.vpcId === subnet.vpcId);
    if (igw) routes.push(defaultRoute({ gatewayId: igw.id }));
  }
  const id = state.nextId('rtb');
  state.routeTables.set(id, { id, vpcId: subnet.vpcId, main: false, subnetIds: [subnetId], routes });
  return id;
}

/** Makes a VPC endpoint; a gateway endpoint adds its prefix-list route to its route tables (VPC-5). Returns its id. */
export function addVpcEndpoint(ctx: SimContext, options: SimVpcEndpointOptions): string {
  const { state } = ctx;
  const vpcId = options.vpcId ?? state.subnets.values().next().value?.vpcId;
  if (vpcId === undefined) throw new Error('addVpcEndpoint: the simulated account has no VPC yet (prepare a spec first, or pass vpcId)');
  ensureVpcRouting(ctx, vpcId);
  const type = options.type ?? 'Interface';
  const id = state.nextId('vpce');
  const routeTableIds = type === 'Gateway' ? [...(options.routeTableIds ?? [...state.routeTables.values()].filter((t) => t.vpcId === vpcId).map((t) => t.id))] : [];
  state.vpcEndpoints.set(id, {
    id,
    vpcId,
    serviceName: `com.amazonaws.${ctx.account.region}.${options.service}`,
    type,
    subnetIds: type === 'Interface' ? [...(options.subnetIds ?? [...state.subnets.values()].filter((s) => s.vpcId === vpcId).map((s) => s.id))] : [],
    privateDnsEnabled: type === 'Interface' && options.privateDns !== false,
    routeTableIds,
    securityGroupIds: [...(options.securityGroupIds ?? [])],
    state: options.state ?? 'available',
  });
  for (const t of routeTableIds) state.routeTables.get(t)?.routes.push({ destinationCidrBlock: null, destinationPrefixListId: `pl-${options.service}`, gatewayId: id, natGatewayId: null });
  return id;
}
