import { CreateAutoScalingGroupCommand, type LifecycleHookSpecification, type Tag as AsgTag } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, CreateNetworkInterfaceCommand, type RequestLaunchTemplateData, type Tag } from '@aws-sdk/client-ec2';
import { defineCluster, type ClusterInput, type ClusterSpec } from '@berth/core';
import { expect } from 'vitest';
import { createSimulation, simulatedClusterInput, type SimulatedClusterOptions, type Simulation, type SimulationOptions } from '../../src/index.js';

/**
 * A simulated account for the AWS-rule tests, set up and driven only through the public API:
 * `sim.account.prepare(spec)` makes the VPC, subnets (`10.0.{1,2,3}.0/24` in eu-west-1a/b/c),
 * security group, image and instance profile; everything else is created with `sim.aws`.
 * IAM is off unless asked for: these tests are about EC2/Auto Scaling/Route 53 rules.
 */
export function rulesAccount(
  options: SimulationOptions = {},
  cluster: SimulatedClusterOptions = {},
  tweak: (input: ClusterInput) => ClusterInput = (i) => i,
): { sim: Simulation; spec: ClusterSpec } {
  const sim = createSimulation({ seed: 1, profile: 'fast', iam: 'off', account: 'manual', changeQueue: false, ...options });
  const spec = defineCluster(tweak(simulatedClusterInput({ nodes: 3, ...cluster })));
  sim.account.prepare(spec);
  return { sim, spec };
}

export const IMAGE = 'ami-0123456789abcdef0';
export const SG = 'sg-0123456789abcdef0';
/** The three subnets `simulatedClusterInput` gives a spec (and `prepare` creates). */
export const SUBNET = { a: 'subnet-000a0000', b: 'subnet-000a0001', c: 'subnet-000a0002' } as const;
export const AZ = { a: 'eu-west-1a', b: 'eu-west-1b', c: 'eu-west-1c' } as const;

export const tags = (t: Record<string, string>): Tag[] => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));

/** The error a call rejects with (fails the test when it resolves). */
export async function failure(p: Promise<unknown>): Promise<Error & { name: string; Code?: string; $metadata: { httpStatusCode?: number }; $fault?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { name: string; Code?: string; $metadata: { httpStatusCode?: number }; $fault?: string };
  }
  throw new Error('expected the call to fail');
}

/**
 * Asserts the SDK error as AWS gives it: the error code as `name` (and `Code` on Query/XML
 * protocols), the HTTP status, and the client's exception class.
 */
export async function expectAwsError(p: Promise<unknown>, code: string, status: number, cls: abstract new (...args: never[]) => Error, message?: RegExp): Promise<Error> {
  const e = await failure(p);
  expect({ name: e.name, status: e.$metadata?.httpStatusCode }).toEqual({ name: code, status });
  expect(e).toBeInstanceOf(cls);
  if (message) expect(e.message).toMatch(message);
  return e;
}

/** Waits in virtual time until `cond` holds (checked every `stepMs`). */
export async function until(sim: Simulation, cond: () => boolean | Promise<boolean>, what: string, stepMs = 50, maxMs = 3 * 3600_000): Promise<void> {
  const start = sim.clock.now();
  while (!(await cond())) {
    if (sim.clock.now() - start > maxMs) throw new Error(`timed out after ${maxMs} ms (virtual) waiting for ${what}`);
    await sim.clock.sleep(stepMs);
  }
}

/** CreateNetworkInterface in a subnet (the next free IP unless given). */
export async function createEni(sim: Simulation, subnetId: string, ip?: string, t: Record<string, string> = {}): Promise<{ id: string; ip: string }> {
  const r = await sim.aws.ec2.send(
    new CreateNetworkInterfaceCommand({
      SubnetId: subnetId,
      ...(ip !== undefined && { PrivateIpAddress: ip }),
      Groups: [SG],
      ...(Object.keys(t).length > 0 && { TagSpecifications: [{ ResourceType: 'network-interface', Tags: tags(t) }] }),
    }),
  );
  return { id: r.NetworkInterface?.NetworkInterfaceId as string, ip: r.NetworkInterface?.PrivateIpAddress as string };
}

/** A launch template whose device index 0 is an existing ENI (as Berth's are); no user data (nothing runs on the instance). */
export async function createTemplate(sim: Simulation, name: string, eniId: string, extra: Partial<RequestLaunchTemplateData> = {}): Promise<string> {
  const r = await sim.aws.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: name,
      LaunchTemplateData: {
        ImageId: IMAGE,
        InstanceType: 'm6i.large',
        NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: eniId, DeleteOnTermination: false }],
        ...extra,
      },
    }),
  );
  return r.LaunchTemplate?.LaunchTemplateId as string;
}

export interface GroupOptions {
  readonly azs?: readonly string[];
  readonly vpcZoneIdentifier?: string;
  readonly hook?: { readonly heartbeatTimeoutSec: number; readonly defaultResult: 'CONTINUE' | 'ABANDON' };
  readonly tags?: Record<string, string>;
  readonly version?: string;
}

export const HOOK = 'launch-hook';

/** A group of one (min = max = desired = 1) launching from the template, placed by AZ (the ENI's) unless told otherwise. */
export async function createGroup(sim: Simulation, name: string, templateName: string, o: GroupOptions = {}): Promise<void> {
  const hooks: LifecycleHookSpecification[] = o.hook
    ? [{ LifecycleHookName: HOOK, LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: o.hook.heartbeatTimeoutSec, DefaultResult: o.hook.defaultResult }]
    : [];
  const groupTags: AsgTag[] = Object.entries(o.tags ?? {}).map(([Key, Value]) => ({ Key, Value, ResourceId: name, ResourceType: 'auto-scaling-group', PropagateAtLaunch: true }));
  await sim.aws.autoScaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: name,
      LaunchTemplate: { LaunchTemplateName: templateName, Version: o.version ?? '$Latest' },
      MinSize: 1,
      MaxSize: 1,
      DesiredCapacity: 1,
      ...(o.vpcZoneIdentifier !== undefined ? { VPCZoneIdentifier: o.vpcZoneIdentifier } : { AvailabilityZones: [...(o.azs ?? [AZ.a])] }),
      ...(hooks.length > 0 && { LifecycleHookSpecificationList: hooks }),
      ...(groupTags.length > 0 && { Tags: groupTags }),
    }),
  );
}

/** An ENI in `subnet`, a template naming it, and a group of one in its AZ: a Berth node without Berth. */
export async function createNode(
  sim: Simulation,
  name: string,
  o: GroupOptions & { readonly subnet?: keyof typeof SUBNET; readonly template?: Partial<RequestLaunchTemplateData> } = {},
): Promise<{ eniId: string; ip: string; group: string; template: string }> {
  const subnet = o.subnet ?? 'a';
  const eni = await createEni(sim, SUBNET[subnet], undefined, { node: name });
  await createTemplate(sim, `lt-${name}`, eni.id, o.template);
  await createGroup(sim, name, `lt-${name}`, { azs: [AZ[subnet]], ...o });
  return { eniId: eni.id, ip: eni.ip, group: name, template: `lt-${name}` };
}

/** The group's instances that are not terminating, as the world holds them (inspection only). */
export function liveInstancesOf(sim: Simulation, group: string): readonly string[] {
  return sim.world.instances.filter((i) => i.groupName === group && (i.ec2State === 'pending' || i.ec2State === 'running')).map((i) => i.id);
}

/** Waits until the group has a live instance in `state` (a lifecycle state) and returns its id. */
export async function instanceIn(sim: Simulation, group: string, lifecycleState: string): Promise<string> {
  let id: string | undefined;
  await until(
    sim,
    () => {
      id = sim.world.instances.find((i) => i.groupName === group && i.lifecycleState === lifecycleState && (i.ec2State === 'pending' || i.ec2State === 'running'))?.id;
      return id !== undefined;
    },
    `an instance of ${group} in ${lifecycleState}`,
  );
  return id as string;
}
