// Routing in the simulated account (VPC-1 … VPC-5 of docs/aws-behaviour.md) and the production
// preflight reading it: route tables (explicit and main associations), NAT and internet
// gateways, VPC endpoints, their describes' filters, and what a node subnet can reach.
import { DescribeNatGatewaysCommand, DescribeRouteTablesCommand, DescribeVpcEndpointsCommand, EC2ServiceException } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput } from '../../src/index.js';
import { defineCluster } from '@berth/core';
import { expectAwsError, rulesAccount, SUBNET } from './account-fixture.js';

const networkProblems = async (sim: ReturnType<typeof rulesAccount>['sim'], spec: ReturnType<typeof rulesAccount>['spec']) =>
  (await sim.driver.preflight(spec)).problems.filter((p) => p.check === 'network');

describe('the simulated account routing, read by preflight', () => {
  it('VPC-1: a subnet without an explicit association uses the main route table, whose association names no subnet; filters are honoured', async () => {
    const { sim, spec } = rulesAccount();
    await sim.run(async () => {
      const all = (await sim.aws.ec2.send(new DescribeRouteTablesCommand({}))).RouteTables ?? [];
      expect(all).toHaveLength(1);
      expect(all[0]!.Associations).toEqual([expect.objectContaining({ Main: true })]);
      expect(all[0]!.Associations![0]!.SubnetId).toBeUndefined();
      expect(all[0]!.Routes).toEqual([
        expect.objectContaining({ DestinationCidrBlock: '10.0.0.0/8', GatewayId: 'local', State: 'active' }),
        expect.objectContaining({ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: expect.stringMatching(/^nat-/), State: 'active' }),
      ]);
      // prepare's default: every node subnet reaches the APIs through the NAT gateway.
      expect(await networkProblems(sim, spec)).toEqual([]);

      const own = sim.account.setSubnetRoute(SUBNET.b, 'none');
      const bySubnet = await sim.aws.ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'association.subnet-id', Values: [SUBNET.b] }] }));
      expect(bySubnet.RouteTables?.map((t) => t.RouteTableId)).toEqual([own]);
      const main = await sim.aws.ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'association.main', Values: ['true'] }] }));
      expect(main.RouteTables?.map((t) => t.RouteTableId)).not.toContain(own);
      expect((await sim.aws.ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'route.nat-gateway-id', Values: ['nat-*'] }] }))).RouteTables).toHaveLength(1);
      await expectAwsError(sim.aws.ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'no-such-filter', Values: ['x'] }] })), 'InvalidParameterValue', 400, EC2ServiceException);
      await expectAwsError(sim.aws.ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: ['rtb-00000000000000bad'] })), 'InvalidRouteTableID.NotFound', 400, EC2ServiceException);

      const problems = await networkProblems(sim, spec);
      expect(problems.map((p) => p.path)).toEqual(['subnets[1]']);
      expect(problems[0]!.message).toContain(`subnet ${SUBNET.b} (node demo-2) cannot reach the EC2, Auto Scaling APIs`);
      expect(problems[0]!.message).toContain(`its route table (${own}) has no active default route (0.0.0.0/0)`);
    });
  });

  it('VPC-2: a default route to a private NAT gateway does not reach the AWS APIs; DescribeNatGateways honours its Filter', async () => {
    const { sim, spec } = rulesAccount();
    await sim.run(async () => {
      sim.account.setSubnetRoute(SUBNET.c, 'private-nat');
      const nats = await sim.aws.ec2.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: 'state', Values: ['available'] }] }));
      expect(nats.NatGateways?.map((n) => n.ConnectivityType).sort()).toEqual(['private', 'public']);
      const privateOnes = nats.NatGateways!.filter((n) => n.ConnectivityType === 'private').map((n) => n.NatGatewayId!);
      expect((await sim.aws.ec2.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: 'nat-gateway-id', Values: privateOnes }] }))).NatGateways).toHaveLength(1);
      await expectAwsError(sim.aws.ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: ['nat-0000000000000dead'] })), 'NatGatewayNotFound', 400, EC2ServiceException);
      const problems = await networkProblems(sim, spec);
      expect(problems.map((p) => p.path)).toEqual(['subnets[2]']);
      expect(problems[0]!.message).toContain('a private NAT gateway, which does not reach the internet');
    });
  });

  it('VPC-3: a default route to the internet gateway does not serve nodes, whose instances have no public IP', async () => {
    const { sim, spec } = rulesAccount();
    await sim.run(async () => {
      sim.account.setSubnetRoute(SUBNET.a, 'internet-gateway');
      const problems = await networkProblems(sim, spec);
      expect(problems.map((p) => p.path)).toEqual(['subnets[0]']);
      expect(problems[0]!.message).toMatch(/internet gateway igw-\w+, but a node's instance has no public IP/);
    });
  });

  it('VPC-4: interface endpoints with private DNS replace the NAT route; one with private DNS off does not, and is named', async () => {
    const { sim, spec } = rulesAccount();
    await sim.run(async () => {
      for (const s of Object.values(SUBNET)) sim.account.setSubnetRoute(s, 'none');
      sim.account.addVpcEndpoint({ service: 'ec2' });
      const off = sim.account.addVpcEndpoint({ service: 'autoscaling', privateDns: false });
      const eps = await sim.aws.ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'service-name', Values: ['com.amazonaws.eu-west-1.autoscaling'] }] }));
      expect(eps.VpcEndpoints?.map((e) => [e.VpcEndpointId, e.PrivateDnsEnabled])).toEqual([[off, false]]);
      let problems = await networkProblems(sim, spec);
      expect(problems.map((p) => p.path)).toEqual(['subnets[0]', 'subnets[1]', 'subnets[2]']);
      expect(problems[0]!.message).toContain('cannot reach the Auto Scaling API ');
      expect(problems[0]!.message).toContain(`${off} has private DNS disabled`);
      sim.account.addVpcEndpoint({ service: 'autoscaling', subnetIds: [SUBNET.a] });
      problems = await networkProblems(sim, spec);
      expect(problems).toEqual([]);
    });
  });

  it('VPC-5: an S3 gateway endpoint adds a prefix-list route to its route tables', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const own = sim.account.setSubnetRoute(SUBNET.a, 'none');
      const ep = sim.account.addVpcEndpoint({ service: 's3', type: 'Gateway', routeTableIds: [own] });
      const t = (await sim.aws.ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [own] }))).RouteTables![0]!;
      expect(t.Routes).toContainEqual(expect.objectContaining({ DestinationPrefixListId: 'pl-s3', GatewayId: ep, State: 'active' }));
      const gw = await sim.aws.ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-endpoint-type', Values: ['Gateway'] }] }));
      expect(gw.VpcEndpoints?.map((e) => [e.VpcEndpointId, e.RouteTableIds])).toEqual([[ep, [own]]]);
    });
  });

  it('preflight with the generated controller policy, IAM on, reads the routing without a denial', async () => {
    const sim = createSimulation({ seed: 3, profile: 'fast' });
    const spec = defineCluster(simulatedClusterInput({ nodes: 3 }));
    sim.account.prepare(spec);
    const report = await sim.run(() => sim.driver.preflight(spec));
    expect(report.checked).toContain('network');
    expect(report.problems).toEqual([]);
    expect(sim.account.iamDenials()).toEqual([]);
  });
});
