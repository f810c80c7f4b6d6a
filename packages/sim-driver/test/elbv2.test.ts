import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  DuplicateTargetGroupNameException,
  InvalidTargetException,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
  ResourceInUseException,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ClusterSpec } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { simContext } from '../src/internal.js';
import type { Simulation } from '../src/index.js';
import { provision, setup } from './helpers.js';

// The simulated ELBv2 (docs/aws-behaviour.md ELB-n), through the SDK client `sim.aws.elbv2`, on
// a cluster provisioned by the production driver: its instances run the real bootstrap and the
// simulated application, whose health the load balancer's checks follow.

type Row = readonly [id: string, state: string, reason: string | null];

async function health(sim: Simulation, arn: string, ids?: readonly string[]): Promise<Row[]> {
  const r = await sim.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn, ...(ids && { Targets: ids.map((Id) => ({ Id })) }) }));
  return (r.TargetHealthDescriptions ?? []).map((d) => [d.Target?.Id ?? '', d.TargetHealth?.State ?? '', d.TargetHealth?.Reason ?? null] as const);
}

async function stateOf(sim: Simulation, arn: string, id: string): Promise<[string, string | null]> {
  const [row] = await health(sim, arn, [id]);
  return [row?.[1] ?? '', row?.[2] ?? null];
}

/** The error a call rejects with. */
async function failure(p: Promise<unknown>): Promise<Error & { name: string; Code?: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { name: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail');
}

/** A provisioned 3-node cluster (one node per AZ) and its instances by node. */
async function cluster(seed = 1): Promise<{ sim: Simulation; spec: ClusterSpec; vpcId: string; instance: (nodeId: string) => string }> {
  const { sim, spec } = setup({ seed, iam: 'off' });
  await sim.run(() => provision(sim, spec));
  const vpcId = sim.world.instances[0]?.vpcId as string;
  const instance = (nodeId: string): string => sim.world.currentInstance(nodeId)?.id as string;
  return { sim, spec, vpcId, instance };
}

const SEC = 1000;

describe('simulated ELBv2', () => {
  it('ELB-6, ELB-7: CreateTargetGroup: the defaults (30 s, 5 passes, 2 failures, 300 s delay), the ranges, idempotent for the same settings, DuplicateTargetGroupName otherwise', async () => {
    const { sim, vpcId } = await cluster();
    await sim.run(async () => {
      const create = (extra: Record<string, unknown> = {}) => sim.aws.elbv2.send(new CreateTargetGroupCommand({ Name: 'kafka', Protocol: 'TCP', Port: 9092, VpcId: vpcId, ...extra }));
      const g = (await create()).TargetGroups?.[0];
      expect(g).toMatchObject({ TargetGroupName: 'kafka', TargetType: 'instance', HealthCheckIntervalSeconds: 30, HealthyThresholdCount: 5, UnhealthyThresholdCount: 2, HealthCheckEnabled: true });
      expect(g?.TargetGroupArn).toMatch(/^arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup\/kafka\/[0-9a-f]{16}$/);
      const attrs = await sim.aws.elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: g?.TargetGroupArn }));
      expect(attrs.Attributes).toContainEqual({ Key: 'deregistration_delay.timeout_seconds', Value: '300' });
      // The same settings again: the same group.
      expect((await create()).TargetGroups?.[0]?.TargetGroupArn).toBe(g?.TargetGroupArn);
      const dup = await failure(create({ HealthyThresholdCount: 3 }));
      expect(dup).toBeInstanceOf(DuplicateTargetGroupNameException);
      expect({ code: dup.Code, status: dup.$metadata?.httpStatusCode }).toEqual({ code: 'DuplicateTargetGroupName', status: 400 });
      for (const bad of [{ HealthCheckIntervalSeconds: 4 }, { HealthCheckIntervalSeconds: 301 }, { HealthyThresholdCount: 1 }, { UnhealthyThresholdCount: 11 }, { HealthCheckIntervalSeconds: 10, HealthCheckTimeoutSeconds: 10 }]) {
        expect((await failure(sim.aws.elbv2.send(new CreateTargetGroupCommand({ Name: 'other', Protocol: 'TCP', Port: 80, VpcId: vpcId, ...bad })))).name, JSON.stringify(bad)).toBe('ValidationError');
      }
      const delay = (v: string) => sim.aws.elbv2.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: g?.TargetGroupArn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: v }] }));
      expect((await failure(delay('3601'))).name).toBe('ValidationError');
      expect((await delay('3600')).Attributes).toContainEqual({ Key: 'deregistration_delay.timeout_seconds', Value: '3600' });
    });
  });

  it('ELB-9: an unknown target group is TargetGroupNotFound (HTTP 400), also when one ARN of several is unknown', async () => {
    const { sim } = await cluster();
    await sim.run(async () => {
      const arn = sim.account.createTargetGroup({ name: 'kafka' });
      const unknown = arn.replace(/[0-9a-f]{16}$/, 'ffffffffffffffff');
      const calls = [
        new DescribeTargetGroupsCommand({ TargetGroupArns: [arn, unknown] }),
        new DescribeTargetGroupAttributesCommand({ TargetGroupArn: unknown }),
        new DescribeTargetHealthCommand({ TargetGroupArn: unknown }),
        new RegisterTargetsCommand({ TargetGroupArn: unknown, Targets: [{ Id: 'i-00000000000000001' }] }),
        new DeregisterTargetsCommand({ TargetGroupArn: unknown, Targets: [{ Id: 'i-00000000000000001' }] }),
      ];
      for (const c of calls) {
        const e = await failure(sim.aws.elbv2.send(c as never));
        expect(e, c.constructor.name).toBeInstanceOf(TargetGroupNotFoundException);
        expect({ name: e.name, code: e.Code, status: e.$metadata?.httpStatusCode }).toEqual({ name: 'TargetGroupNotFoundException', code: 'TargetGroupNotFound', status: 400 });
      }
      expect((await sim.aws.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }))).TargetGroups?.map((g) => g.TargetGroupArn)).toEqual([arn]);
    });
  });

  it('ELB-2: the targets of a group no load balancer forwards to are unused (Target.NotInUse) and not checked; a listener puts the group in use', async () => {
    const { sim, spec, vpcId, instance } = await cluster();
    await sim.run(async () => {
      const arn = sim.account.createTargetGroup({ name: 'kafka', loadBalancerSubnets: null });
      const id = instance(spec.nodes[0]!.id);
      await sim.aws.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: id }] }));
      await sim.clock.sleep(600 * SEC);
      expect(await health(sim, arn)).toEqual([[id, 'unused', 'Target.NotInUse']]);
      expect(sim.trace.filter((e) => e.kind === 'elb.target-health')).toEqual([]);
      const g = (await sim.aws.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }))).TargetGroups?.[0];
      expect(g?.LoadBalancerArns).toEqual([]);

      const lb = (await sim.aws.elbv2.send(new CreateLoadBalancerCommand({ Name: 'kafka', Type: 'network', Scheme: 'internal', Subnets: spec.subnets.map((s) => s.id) }))).LoadBalancers?.[0];
      expect(lb?.VpcId).toBe(vpcId);
      const listener = (await sim.aws.elbv2.send(new CreateListenerCommand({ LoadBalancerArn: lb?.LoadBalancerArn, Protocol: 'TCP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: arn }] }))).Listeners?.[0];
      expect(await stateOf(sim, arn, id)).toEqual(['initial', 'Elb.RegistrationInProgress']);
      expect((await sim.aws.elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb?.LoadBalancerArn }))).TargetGroups?.map((x) => x.TargetGroupArn)).toEqual([arn]);
      await sim.clock.sleep(200 * SEC);
      expect(await stateOf(sim, arn, id)).toEqual(['healthy', null]);
      // No listener forwards to it any more: unused again, until one does.
      await sim.aws.elbv2.send(new DeleteListenerCommand({ ListenerArn: listener?.ListenerArn }));
      expect(await stateOf(sim, arn, id)).toEqual(['unused', 'Target.NotInUse']);
    });
  });

  it('ELB-2: a target in an Availability Zone its load balancer is not enabled in is unused (Target.NotInUse)', async () => {
    const { sim, spec, instance } = await cluster();
    await sim.run(async () => {
      const [a, b, c] = spec.nodes.map((n) => n.id) as [string, string, string];
      const subnetOf = (nodeId: string) => spec.nodes.find((n) => n.id === nodeId)!.subnetId;
      const arn = sim.account.createTargetGroup({ name: 'kafka', loadBalancerSubnets: [subnetOf(a), subnetOf(b)] });
      await sim.aws.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [a, b, c].map((n) => ({ Id: instance(n) })) }));
      await sim.clock.sleep(200 * SEC);
      expect(await health(sim, arn)).toEqual([
        [instance(a), 'healthy', null],
        [instance(b), 'healthy', null],
        [instance(c), 'unused', 'Target.NotInUse'],
      ]);
    });
  });

  it('ELB-1, ELB-3: a registered target is initial (Elb.RegistrationInProgress, then Elb.InitialHealthChecking) until HealthyThresholdCount checks pass at HealthCheckIntervalSeconds, then healthy', async () => {
    const { sim, spec, instance } = await cluster();
    await sim.run(async () => {
      const arn = sim.account.createTargetGroup({ name: 'kafka', healthCheckIntervalSec: 10, healthyThreshold: 3 });
      const id = instance(spec.nodes[1]!.id);
      await sim.aws.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: id }] }));
      expect(await stateOf(sim, arn, id)).toEqual(['initial', 'Elb.RegistrationInProgress']);
      await sim.clock.sleep(11 * SEC);
      expect(await stateOf(sim, arn, id)).toEqual(['initial', 'Elb.InitialHealthChecking']);
      await sim.clock.sleep(15 * SEC);
      expect(await stateOf(sim, arn, id)).toEqual(['initial', 'Elb.InitialHealthChecking']);
      await sim.clock.sleep(10 * SEC);
      expect(await stateOf(sim, arn, id)).toEqual(['healthy', null]);
      const registered = sim.trace.find((e) => e.kind === 'elb.target-registered' && e.instanceId === id)!;
      const healthy = sim.trace.find((e) => e.kind === 'elb.target-health' && e.instanceId === id && e['to'] === 'healthy')!;
      expect(healthy.atMs - registered.atMs).toBe(3 * 10 * SEC);
      // Without Targets: every registered target, with the port it was registered at.
      const all = await sim.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
      expect(all.TargetHealthDescriptions).toEqual([{ Target: { Id: id, Port: 80 }, HealthCheckPort: '80', TargetHealth: { State: 'healthy' } }]);
    });
  });

  it('ELB-4: health follows the application, not the Auto Scaling group: a member cut off fails UnhealthyThresholdCount checks and is unhealthy (Target.FailedHealthChecks), healthy again after HealthyThresholdCount passes', async () => {
    const { sim, spec, instance } = await cluster();
    await sim.run(async () => {
      const arn = sim.account.createTargetGroup({ name: 'kafka' });
      const node = spec.nodes[2]!.id;
      const id = instance(node);
      await sim.aws.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: id }] }));
      await sim.clock.sleep(160 * SEC);
      expect(await stateOf(sim, arn, id)).toEqual(['healthy', null]);
      sim.faults.partition(node, 10 * 60 * SEC);
      await sim.clock.sleep(31 * SEC);
      expect(await stateOf(sim, arn, id)).toEqual(['healthy', null]); // one failure of two
      await sim.clock.sleep(30 * SEC);
      expect(await stateOf(sim, arn, id)).toEqual(['unhealthy', 'Target.FailedHealthChecks']);
      // Auto Scaling still sees a healthy instance in service.
      expect(sim.world.instance(id)).toMatchObject({ ec2State: 'running', lifecycleState: 'InService', healthStatus: 'Healthy' });
      await sim.clock.sleep(10 * 60 * SEC);
      expect(sim.app.status().members.find((m) => m.nodeId === node)?.healthy).toBe(true);
      await sim.clock.sleep(160 * SEC);
      expect(await stateOf(sim, arn, id)).toEqual(['healthy', null]);
      const changes = sim.trace.filter((e) => e.kind === 'elb.target-health' && e.instanceId === id).map((e) => `${String(e['from'])}→${String(e['to'])}`);
      expect(changes).toEqual(['initial→healthy', 'healthy→unhealthy', 'unhealthy→healthy']);
    });
  });

  it('ELB-4: a target whose application never comes up fails its initial checks and is unhealthy', async () => {
    const { sim, spec, instance } = await cluster();
    await sim.run(async () => {
      const arn = sim.account.createTargetGroup({ name: 'kafka' });
      const node = spec.nodes[0]!.id;
      sim.faults.partition(node, 3600 * SEC);
      await sim.aws.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: instance(node) }] }));
      await sim.clock.sleep(61 * SEC);
      expect(await stateOf(sim, arn, instance(node))).toEqual(['unhealthy', 'Target.FailedHealthChecks']);
    });
  });

  it('ELB-1, ELB-5: a deregistered target drains (Target.DeregistrationInProgress) for deregistration_delay.timeout_seconds, then leaves the group: named explicitly it is unused (Target.NotRegistered)', async () => {
    const { sim, spec, instance } = await cluster();
    await sim.run(async () => {
      const arn = sim.account.createTargetGroup({ name: 'kafka' });
      const [a, b] = [instance(spec.nodes[0]!.id), instance(spec.nodes[1]!.id)];
      await sim.aws.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: a }, { Id: b }] }));
      await sim.clock.sleep(160 * SEC);
      await sim.aws.elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: a }] }));
      expect(await health(sim, arn)).toEqual([
        [a, 'draining', 'Target.DeregistrationInProgress'],
        [b, 'healthy', null],
      ]);
      // Deregistering it again changes nothing: it still leaves at the first call's delay.
      await sim.clock.sleep(100 * SEC);
      await sim.aws.elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: a }] }));
      await sim.clock.sleep(195 * SEC);
      expect(await stateOf(sim, arn, a)).toEqual(['draining', 'Target.DeregistrationInProgress']);
      await sim.clock.sleep(10 * SEC);
      expect(await health(sim, arn)).toEqual([[b, 'healthy', null]]);
      expect(await health(sim, arn, [a])).toEqual([[a, 'unused', 'Target.NotRegistered']]);
      const draining = sim.trace.find((e) => e.kind === 'elb.target-draining' && e.instanceId === a)!;
      const gone = sim.trace.find((e) => e.kind === 'elb.target-deregistered' && e.instanceId === a)!;
      expect(gone.atMs - draining.atMs).toBe(300 * SEC);

      // A delay of 0: gone at once.
      await sim.aws.elbv2.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '0' }] }));
      await sim.aws.elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: b }] }));
      expect(await health(sim, arn)).toEqual([]);
    });
  });

  it('ELB-10: RegisterTargets refuses (InvalidTarget) an instance that is not running, does not exist or is in another VPC, and registers none of the batch; again is a no-op; a draining target registered again starts over', async () => {
    const { sim, spec, instance } = await cluster();
    await sim.run(async () => {
      const arn = sim.account.createTargetGroup({ name: 'kafka', healthCheckIntervalSec: 10, deregistrationDelaySec: 60 });
      const [a, b] = [instance(spec.nodes[0]!.id), instance(spec.nodes[1]!.id)];
      const register = (...ids: string[]) => sim.aws.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: ids.map((Id) => ({ Id })) }));

      const missing = await failure(register(a, 'i-0000000000000dead'));
      expect(missing).toBeInstanceOf(InvalidTargetException);
      expect({ code: missing.Code, status: missing.$metadata?.httpStatusCode }).toEqual({ code: 'InvalidTarget', status: 400 });
      expect(missing.message).toContain("'i-0000000000000dead'");
      expect(await health(sim, arn)).toEqual([]);

      sim.faults.killInstance(b);
      const stopping = await failure(register(b));
      expect(stopping).toBeInstanceOf(InvalidTargetException);
      expect(stopping.message).toBe(`The following targets are not in a running state and cannot be registered: '${b}'`);

      // An instance of another VPC (a group made in a second VPC of the account).
      simContext(sim).state.vpcs.set('vpc-0000000000000other', { id: 'vpc-0000000000000other', cidr: '172.16.0.0/16' });
      const elsewhere = sim.account.createTargetGroup({ name: 'elsewhere', vpcId: 'vpc-0000000000000other', loadBalancerSubnets: null });
      const vpc = await failure(sim.aws.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: elsewhere, Targets: [{ Id: a }] })));
      expect(vpc).toBeInstanceOf(InvalidTargetException);

      await register(a);
      await sim.clock.sleep(55 * SEC);
      await register(a); // already registered: its checks go on
      expect(await stateOf(sim, arn, a)).toEqual(['healthy', null]);
      await sim.aws.elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: a }] }));
      await sim.clock.sleep(20 * SEC);
      await register(a); // draining: registered anew
      expect(await health(sim, arn)).toEqual([[a, 'initial', 'Elb.RegistrationInProgress']]);
      await sim.clock.sleep(55 * SEC);
      expect(await health(sim, arn)).toEqual([[a, 'healthy', null]]);
    });
  });

  it('ELB-11: DeregisterTargets of a target that is not registered succeeds and changes nothing', async () => {
    const { sim, spec, instance } = await cluster();
    await sim.run(async () => {
      const arn = sim.account.createTargetGroup({ name: 'kafka' });
      const [a, b] = [instance(spec.nodes[0]!.id), instance(spec.nodes[1]!.id)];
      await sim.aws.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: a }] }));
      await sim.aws.elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: b }, { Id: 'i-0000000000000dead' }] }));
      expect(await health(sim, arn)).toEqual([[a, 'initial', 'Elb.RegistrationInProgress']]);
    });
  });

  it('ELB-12: a registered target whose instance is terminated is unused (Target.InvalidState)', async () => {
    const { sim, spec, instance } = await cluster();
    await sim.run(async () => {
      const arn = sim.account.createTargetGroup({ name: 'kafka' });
      const node = spec.nodes[0]!.id;
      const id = instance(node);
      await sim.aws.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: id }] }));
      await sim.clock.sleep(160 * SEC);
      sim.faults.killInstance(id);
      const d = await sim.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
      expect(d.TargetHealthDescriptions?.[0]?.TargetHealth).toEqual({ State: 'unused', Reason: 'Target.InvalidState', Description: 'Target is in the terminated state' });
      // Terminated, then forgotten by EC2: still registered, still unused.
      await sim.clock.sleep(3 * 3600 * SEC);
      expect(sim.trace.some((e) => e.kind === 'instance.forgotten' && e.instanceId === id)).toBe(true);
      expect(await health(sim, arn)).toEqual([[id, 'unused', 'Target.InvalidState']]);
      // The group's replacement is not registered by anyone.
      expect((await health(sim, arn)).map((r) => r[0])).not.toContain(instance(node));
    });
  });

  it('ELB-8: DeleteTargetGroup while a listener forwards to it fails with ResourceInUse; once it does not, the group is deleted', async () => {
    const { sim } = await cluster();
    await sim.run(async () => {
      const arn = sim.account.createTargetGroup({ name: 'kafka' });
      const e = await failure(sim.aws.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn })));
      expect(e).toBeInstanceOf(ResourceInUseException);
      expect({ code: e.Code, message: e.message }).toEqual({ code: 'ResourceInUse', message: `The target group '${arn}' is currently in use by a listener or a rule` });
      const unused = sim.account.createTargetGroup({ name: 'spare', loadBalancerSubnets: null });
      await sim.aws.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: unused }));
      expect((await failure(sim.aws.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [unused] })))).name).toBe('TargetGroupNotFoundException');
    });
  });

  it('the health checks run in virtual time from the seed alone: the same seed gives the same trace', async () => {
    const run = async () => {
      const { sim, spec, instance } = await cluster(7);
      await sim.run(async () => {
        const arn = sim.account.createTargetGroup({ name: 'kafka' });
        await sim.aws.elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: spec.nodes.map((n) => ({ Id: instance(n.id) })) }));
        sim.faults.partition(spec.nodes[0]!.id, 120 * SEC);
        await sim.clock.sleep(900 * SEC);
      });
      return sim.trace.filter((e) => e.kind.startsWith('elb.')).map((e) => JSON.stringify(e));
    };
    const [x, y] = [await run(), await run()];
    expect(x.length).toBeGreaterThan(5);
    expect(y).toEqual(x);
  });
});
