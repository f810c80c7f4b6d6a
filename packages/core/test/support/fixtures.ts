import type { ClusterInput, ClusterObservation, ClusterSpec, InstanceObservation, NodeObservation } from '@berth/core';
import { BerthConfigError, computeRevision, defineCluster } from '@berth/core';
import { expect } from 'vitest';

export function clusterInput(nodes = 5, overrides: Partial<ClusterInput> = {}): ClusterInput {
  const subnets = [
    { id: 'subnet-0000000a', az: 'eu-west-1a', cidr: '10.0.1.0/24' },
    { id: 'subnet-0000000b', az: 'eu-west-1b', cidr: '10.0.2.0/24' },
    { id: 'subnet-0000000c', az: 'eu-west-1c', cidr: '10.0.3.0/24' },
  ];
  return {
    name: 'kafka',
    region: 'eu-west-1',
    subnets,
    nodes: Array.from({ length: nodes }, (_, i) => ({
      id: `n${i + 1}`,
      ip: `10.0.${(i % 3) + 1}.${10 + i}`,
      subnetId: subnets[i % 3]!.id,
    })),
    image: 'ami-0123456789abcdef0',
    instanceType: 'm6i.large',
    securityGroupIds: ['sg-0123456789abcdef0'],
    iamInstanceProfile: 'kafka-node',
    dataVolume: { sizeGiB: 100, type: 'gp3', mountPath: '/var/lib/kafka' },
    ...overrides,
  };
}

export function spec(nodes = 5, overrides: Partial<ClusterInput> = {}): ClusterSpec {
  return defineCluster(clusterInput(nodes, overrides));
}

export interface NodeShape {
  revision?: 'current' | 'old';
  lifecycle?: InstanceObservation['lifecycleState'];
  ec2?: InstanceObservation['ec2State'];
  phase?: InstanceObservation['phase'];
  phaseReason?: string;
  /** No instance at all (terminated and not yet replaced). */
  noInstance?: boolean;
  /** An old instance still shutting down next to the current one. */
  leaving?: boolean;
  noGroup?: boolean;
  groupRevision?: 'current' | 'old';
  launchedAtMs?: number;
  extra?: InstanceObservation[];
  /** A spot interruption warning on the current instance. */
  disruption?: boolean;
}

/** A hand-made observation: every node healthy on the old revision unless shaped otherwise. */
export function observation(s: ClusterSpec, shapes: Record<string, NodeShape> = {}, observedAtMs = 1_000_000): ClusterObservation {
  const nodes: Record<string, NodeObservation> = {};
  for (const n of s.nodes) {
    const shape = shapes[n.id] ?? {};
    const desired = computeRevision(s, n.id);
    const rev = (r: 'current' | 'old' | undefined) => (r === 'current' ? desired : 'r-old');
    const instances: InstanceObservation[] = [];
    if (!shape.noInstance) {
      instances.push({
        instanceId: `i-${n.id}-${shape.revision === 'current' ? 'new' : 'old'}`,
        lifecycleState: shape.lifecycle ?? 'InService',
        ec2State: shape.ec2 ?? (shape.lifecycle && shape.lifecycle.startsWith('Pending') ? 'running' : 'running'),
        revision: rev(shape.revision ?? 'old'),
        phase: shape.phase ?? (shape.lifecycle === undefined || shape.lifecycle === 'InService' ? 'in-service' : 'configuring'),
        phaseReason: shape.phaseReason ?? null,
        az: n.az,
        launchedAtMs: shape.launchedAtMs ?? 500_000,
        healthStatus: 'Healthy',
        spot: !!shape.disruption,
        ...(shape.disruption && { disruption: { kind: 'spot-interruption' as const, noticedAtMs: 990_000, deadlineMs: 1_110_000, detail: 'instance-action: terminate' } }),
      });
    }
    if (shape.leaving) {
      instances.push({
        instanceId: `i-${n.id}-leaving`,
        lifecycleState: 'Terminating',
        ec2State: 'shutting-down',
        revision: 'r-old',
        phase: 'in-service',
        phaseReason: null,
        az: n.az,
        launchedAtMs: 100_000,
        healthStatus: 'Healthy',
        spot: false,
      });
    }
    // An extra instance with revision 'current' gets the node's desired revision.
    instances.push(...(shape.extra ?? []).map((x) => (x.revision === 'current' ? { ...x, revision: desired } : x)));
    nodes[n.id] = {
      nodeId: n.id,
      group: shape.noGroup
        ? null
        : {
            name: `${s.name}-${n.id}`,
            minSize: 1,
            maxSize: 1,
            desiredCapacity: 1,
            launchTemplateId: `lt-${n.id}`,
            launchTemplateVersion: '2',
            revision: rev(shape.groupRevision ?? 'current'),
            suspendedProcesses: [],
            hasLaunchHook: true,
            lastActivityError: null,
          },
      instances,
      eni: { eniId: `eni-${n.id}`, ip: n.ip, subnetId: n.subnetId, status: 'in-use', attachedInstanceId: instances[0]?.instanceId ?? null },
      volume: { volumeId: `vol-${n.id}`, az: n.az, sizeGiB: 100, type: 'gp3', state: 'in-use', attachments: [], iops: 3000, throughputMiBps: 125 },
    };
  }
  return { clusterName: s.name, observedAtMs, scope: 'full', nodes, dnsRecords: null };
}

/** The issues `defineCluster` reports for a raw input (none: `[]`); anything else thrown fails the test. */
export function configProblems(input: unknown): { path: string; message: string }[] {
  try {
    defineCluster(input as ClusterInput);
  } catch (err) {
    expect(err).toBeInstanceOf(BerthConfigError);
    return [...(err as BerthConfigError).issues];
  }
  return [];
}
