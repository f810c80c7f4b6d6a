import { fault } from '../aws-error.js';
import type { OperationHandler } from '../service.js';
import type { SimContext } from '../../sim-context.js';
import type { SimNatGateway, SimRoute, SimRouteTable, SimVpcEndpoint } from '../../world/network-entities.js';
import { applyFilters, filterSpec, noTags, page, type FilterInput } from './filters.js';

// The routing describes preflight reads (VPC-1 … VPC-5): route tables, NAT and internet
// gateways, VPC endpoints. Filters are honoured as EC2 documents them (an unknown one is
// refused), ids that do not exist fail the call, pages as the API reference bounds them.

type In = Record<string, unknown>;

const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const filtersOf = (input: In, name = 'Filters'): FilterInput[] | undefined => (Array.isArray(input[name]) ? (input[name] as FilterInput[]) : undefined);
type Paging = { MaxResults?: number; NextToken?: string };

/** VPC-1: a route whose target is gone is a `blackhole`. */
function routeState(sim: SimContext, r: SimRoute): 'active' | 'blackhole' {
  if (r.natGatewayId !== null) {
    const nat = sim.state.natGateways.get(r.natGatewayId);
    return nat && nat.state !== 'deleted' && nat.state !== 'deleting' && nat.state !== 'failed' ? 'active' : 'blackhole';
  }
  if (r.gatewayId?.startsWith('vpce-')) {
    const e = sim.state.vpcEndpoints.get(r.gatewayId);
    return e && e.state !== 'deleted' ? 'active' : 'blackhole';
  }
  if (r.gatewayId?.startsWith('igw-')) return sim.state.internetGateways.has(r.gatewayId) ? 'active' : 'blackhole';
  return 'active';
}

function associationId(t: SimRouteTable, subnetId: string | null): string {
  return `rtbassoc-${(subnetId ?? t.id).replace(/^[a-z]+-/, '').padStart(17, '0').slice(-17)}`;
}

const values = (f: (r: SimRoute) => string | null) => (t: SimRouteTable) => t.routes.map(f).filter((v): v is string => v !== null);

const ROUTE_TABLE_FILTERS = filterSpec<SimRouteTable>(
  'DescribeRouteTables',
  {
    'route-table-id': (t) => [t.id],
    'vpc-id': (t) => [t.vpcId],
    'association.main': (t) => (t.main ? ['true'] : []).concat(t.subnetIds.length > 0 ? ['false'] : []),
    'association.subnet-id': (t) => t.subnetIds,
    'association.route-table-id': (t) => (t.main || t.subnetIds.length > 0 ? [t.id] : []),
    'association.route-table-association-id': (t) => [...(t.main ? [associationId(t, null)] : []), ...t.subnetIds.map((s) => associationId(t, s))],
    'route.destination-cidr-block': values((r) => r.destinationCidrBlock),
    'route.destination-prefix-list-id': values((r) => r.destinationPrefixListId),
    'route.gateway-id': values((r) => r.gatewayId),
    'route.nat-gateway-id': values((r) => r.natGatewayId),
  },
  noTags,
);

const NAT_FILTERS = filterSpec<SimNatGateway>(
  'DescribeNatGateways',
  { 'nat-gateway-id': (n) => [n.id], state: (n) => [n.state], 'subnet-id': (n) => [n.subnetId], 'vpc-id': (n) => [n.vpcId] },
  noTags,
);

const ENDPOINT_FILTERS = filterSpec<SimVpcEndpoint>(
  'DescribeVpcEndpoints',
  {
    'vpc-endpoint-id': (e) => [e.id],
    'vpc-id': (e) => [e.vpcId],
    'service-name': (e) => [e.serviceName],
    'vpc-endpoint-state': (e) => [e.state],
    'vpc-endpoint-type': (e) => [e.type],
    'ip-address-type': () => ['ipv4'],
    'service-region': (e) => [e.serviceName.split('.')[2] ?? ''],
  },
  noTags,
);

export function networkOperations(): Record<string, OperationHandler> {
  return {
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeRouteTables.html
    DescribeRouteTables(input, ctx) {
      const { sim } = ctx;
      const ids = strs(input['RouteTableIds']);
      const all = ids.length > 0
        ? ids.map((id) => {
            const t = sim.state.routeTables.get(id);
            if (!t) throw fault('InvalidRouteTableID.NotFound', `The routeTable ID '${id}' does not exist`);
            return t;
          })
        : [...sim.state.routeTables.values()];
      const matched = applyFilters(all, filtersOf(input), ROUTE_TABLE_FILTERS);
      const p = page(matched, input as Paging, { min: 5, max: 100, defaultAll: true }, 'DescribeRouteTables');
      return {
        RouteTables: p.items.map((t) => ({
          RouteTableId: t.id,
          VpcId: t.vpcId,
          OwnerId: sim.account.accountId,
          // VPC-1: the main table's association names no subnet; explicit ones do.
          Associations: [
            ...(t.main ? [{ Main: true, RouteTableAssociationId: associationId(t, null), RouteTableId: t.id, AssociationState: { State: 'associated' } }] : []),
            ...t.subnetIds.map((s) => ({ Main: false, RouteTableAssociationId: associationId(t, s), RouteTableId: t.id, SubnetId: s, AssociationState: { State: 'associated' } })),
          ],
          Routes: t.routes.map((r) => ({
            ...(r.destinationCidrBlock !== null && { DestinationCidrBlock: r.destinationCidrBlock }),
            ...(r.destinationPrefixListId !== null && { DestinationPrefixListId: r.destinationPrefixListId }),
            ...(r.gatewayId !== null && { GatewayId: r.gatewayId }),
            ...(r.natGatewayId !== null && { NatGatewayId: r.natGatewayId }),
            Origin: r.gatewayId === 'local' ? 'CreateRouteTable' : 'CreateRoute',
            State: routeState(sim, r),
          })),
          PropagatingVgws: [],
          Tags: [],
        })),
        ...(p.nextToken !== undefined && { NextToken: p.nextToken }),
      };
    },

    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeNatGateways.html (its filters travel in `Filter`, not `Filters`)
    DescribeNatGateways(input, ctx) {
      const { sim } = ctx;
      const ids = strs(input['NatGatewayIds']);
      for (const id of ids) if (!sim.state.natGateways.has(id)) throw fault('NatGatewayNotFound', `The Nat Gateway ${id} was not found`);
      const all = [...sim.state.natGateways.values()].filter((n) => ids.length === 0 || ids.includes(n.id));
      const matched = applyFilters(all, filtersOf(input, 'Filter'), NAT_FILTERS);
      const p = page(matched, input as Paging, { min: 5, max: 1000, defaultAll: true }, 'DescribeNatGateways');
      return {
        NatGateways: p.items.map((n) => ({
          NatGatewayId: n.id,
          VpcId: n.vpcId,
          SubnetId: n.subnetId,
          State: n.state,
          ConnectivityType: n.connectivityType,
          NatGatewayAddresses: n.connectivityType === 'public' ? [{ AllocationId: `eipalloc-${n.id.slice(4)}`, IsPrimary: true }] : [],
          Tags: [],
        })),
        ...(p.nextToken !== undefined && { NextToken: p.nextToken }),
      };
    },

    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInternetGateways.html
    DescribeInternetGateways(input, ctx) {
      const { sim } = ctx;
      const ids = strs(input['InternetGatewayIds']);
      for (const id of ids) if (!sim.state.internetGateways.has(id)) throw fault('InvalidInternetGatewayID.NotFound', `The internetGateway ID '${id}' does not exist`);
      const all = [...sim.state.internetGateways.values()].filter((g) => ids.length === 0 || ids.includes(g.id));
      const matched = applyFilters(all, filtersOf(input), filterSpec('DescribeInternetGateways', { 'internet-gateway-id': (g) => [g.id], 'attachment.vpc-id': (g) => [g.vpcId], 'attachment.state': () => ['available'] }, noTags));
      const p = page(matched, input as Paging, { min: 5, max: 1000, defaultAll: true }, 'DescribeInternetGateways');
      return {
        InternetGateways: p.items.map((g) => ({ InternetGatewayId: g.id, OwnerId: sim.account.accountId, Attachments: [{ VpcId: g.vpcId, State: 'available' }], Tags: [] })),
        ...(p.nextToken !== undefined && { NextToken: p.nextToken }),
      };
    },

    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeVpcEndpoints.html
    DescribeVpcEndpoints(input, ctx) {
      const { sim } = ctx;
      const ids = strs(input['VpcEndpointIds']);
      for (const id of ids) if (!sim.state.vpcEndpoints.has(id)) throw fault('InvalidVpcEndpointId.NotFound', `The Vpc Endpoint Id '${id}' does not exist`);
      const all = [...sim.state.vpcEndpoints.values()].filter((e) => (ids.length === 0 || ids.includes(e.id)) && e.state !== 'deleted');
      const matched = applyFilters(all, filtersOf(input), ENDPOINT_FILTERS);
      const p = page(matched, input as Paging, { min: 5, max: 1000, defaultAll: true }, 'DescribeVpcEndpoints');
      return {
        VpcEndpoints: p.items.map((e) => ({
          VpcEndpointId: e.id,
          VpcEndpointType: e.type,
          VpcId: e.vpcId,
          ServiceName: e.serviceName,
          State: e.state,
          RouteTableIds: [...e.routeTableIds],
          SubnetIds: [...e.subnetIds],
          Groups: e.securityGroupIds.map((g) => ({ GroupId: g, GroupName: sim.state.securityGroups.get(g)?.name ?? g })),
          PrivateDnsEnabled: e.privateDnsEnabled,
          RequesterManaged: false,
          OwnerId: sim.account.accountId,
          Tags: [],
        })),
        ...(p.nextToken !== undefined && { NextToken: p.nextToken }),
      };
    },
  };
}
