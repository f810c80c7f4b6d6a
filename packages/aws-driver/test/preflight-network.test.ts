// Preflight's network check on moto (VPC-1 … VPC-5 of docs/aws-behaviour.md): every node subnet
// must reach the EC2 and Auto Scaling APIs through a public NAT gateway or VPC endpoints.
import { AssociateRouteTableCommand, CreateRouteCommand, CreateRouteTableCommand, CreateVpcEndpointCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { useMotoWorld } from './support/aws-fixture.js';

const aws = useMotoWorld({ nodes: 3 });

/** Gives subnet `i` of the world a route table of its own (local route only), returning its id. */
async function ownTable(i: number): Promise<string> {
  const { ec2, vpcId, subnets } = aws.world;
  const t = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
  await ec2.send(new AssociateRouteTableCommand({ RouteTableId: t, SubnetId: subnets[i]!.id }));
  return t;
}

const network = async () => (await aws.driver.preflight(aws.spec)).problems.filter((p) => p.check === 'network');

describe('preflight: node subnets reach the AWS APIs (moto)', () => {
  it('passes when the main route table sends 0.0.0.0/0 to a public NAT gateway', async () => {
    const report = await aws.driver.preflight(aws.spec);
    expect(report.checked).toContain('network');
    expect(report.problems.filter((p) => p.check === 'network')).toEqual([]);
  });

  it('reports a subnet whose own route table has no default route: which subnet, which nodes, which APIs, how to fix it', async () => {
    const t = await ownTable(0);
    const problems = await network();
    expect(problems.map((p) => p.path)).toEqual(['subnets[0]']);
    const m = problems[0]!.message;
    expect(m).toContain(aws.world.subnets[0]!.id);
    expect(m).toContain('node n1');
    expect(m).toContain('EC2, Auto Scaling APIs');
    expect(m).toContain(`its route table (${t}) has no active default route`);
    expect(m).toMatch(/public NAT gateway.*com\.amazonaws\.us-east-1\.ec2, com\.amazonaws\.us-east-1\.autoscaling with private DNS enabled/);
  });

  it('does not count a default route to an internet gateway: a node has no public IP', async () => {
    const t = await ownTable(1);
    await aws.world.ec2.send(new CreateRouteCommand({ RouteTableId: t, DestinationCidrBlock: '0.0.0.0/0', GatewayId: aws.world.internetGatewayId }));
    const problems = await network();
    expect(problems.map((p) => p.path)).toEqual(['subnets[1]']);
    expect(problems[0]!.message).toContain(`internet gateway ${aws.world.internetGatewayId}, but a node's instance has no public IP`);
  });

  it('accepts interface endpoints with private DNS instead of a NAT route, and names one whose private DNS is off', async () => {
    const { ec2, vpcId, subnets } = aws.world;
    await ownTable(2);
    await ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.ec2', SubnetIds: subnets.map((s) => s.id), PrivateDnsEnabled: true }));
    const noDns = await ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.autoscaling', SubnetIds: subnets.map((s) => s.id), PrivateDnsEnabled: false }));
    const problems = await network();
    expect(problems.map((p) => p.path)).toEqual(['subnets[2]']);
    expect(problems[0]!.message).toContain('cannot reach the Auto Scaling API ');
    expect(problems[0]!.message).toContain(`${noDns.VpcEndpoint!.VpcEndpointId} has private DNS disabled`);
    await ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.autoscaling', SubnetIds: [subnets[0]!.id], PrivateDnsEnabled: true }));
    expect(await network()).toEqual([]);
  });
});
