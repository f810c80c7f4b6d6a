/**
 * The account's routing as far as Berth's preflight reads it (VPC-1 … VPC-5 of
 * docs/aws-behaviour.md): route tables and their subnet associations, NAT and internet
 * gateways, VPC endpoints. Made by `sim.account` (prepare, setSubnetRoute, addVpcEndpoint), read
 * through DescribeRouteTables, DescribeNatGateways, DescribeInternetGateways, DescribeVpcEndpoints.
 */

/** One route: a destination CIDR (or prefix list) and its one target. */
export interface SimRoute {
  readonly destinationCidrBlock: string | null;
  readonly destinationPrefixListId: string | null;
  /** `local`, an internet gateway (`igw-`) or a gateway endpoint (`vpce-`). */
  readonly gatewayId: string | null;
  readonly natGatewayId: string | null;
}

export interface SimRouteTable {
  readonly id: string;
  readonly vpcId: string;
  /** The VPC's main route table: the table of every subnet without an explicit association (VPC-1). */
  readonly main: boolean;
  /** Subnets explicitly associated with the table. */
  readonly subnetIds: string[];
  readonly routes: SimRoute[];
}

export interface SimNatGateway {
  readonly id: string;
  readonly vpcId: string;
  /** The public subnet it lives in (the simulated account does not model that subnet). */
  readonly subnetId: string;
  /** `public` reaches the internet through the VPC's internet gateway; `private` does not (VPC-2). */
  readonly connectivityType: 'public' | 'private';
  state: 'pending' | 'available' | 'deleting' | 'deleted' | 'failed';
}

export interface SimInternetGateway {
  readonly id: string;
  readonly vpcId: string;
}

export interface SimVpcEndpoint {
  readonly id: string;
  readonly vpcId: string;
  /** `com.amazonaws.<region>.<service>`. */
  readonly serviceName: string;
  readonly type: 'Interface' | 'Gateway';
  /** Interface endpoints: their subnets (one network interface each) and whether the service's own DNS name resolves to them (VPC-4). */
  readonly subnetIds: readonly string[];
  readonly privateDnsEnabled: boolean;
  /** Gateway endpoints: the route tables that got its prefix-list route (VPC-5). */
  readonly routeTableIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  state: 'pendingAcceptance' | 'pending' | 'available' | 'deleting' | 'deleted' | 'rejected' | 'failed';
}
