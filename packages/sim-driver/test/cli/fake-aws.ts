// A small in-memory AWS for the CLI tests. It honours its inputs (ids, filters, page sizes,
// tokens) so that a CLI that sent the wrong request gets the wrong answer, and it records every
// call so tests can check what the CLI sent. It is deliberately simpler than the simulator.
import type { AwsCliInvokeRequest } from '../../src/cli/index.js';

export interface FakeVolume {
  VolumeId: string;
  State: string;
  AvailabilityZone: string;
  Size: number;
  CreateTime: Date;
  Tags: { Key: string; Value: string }[];
  Attachments: { InstanceId: string; State: string; Device: string; AttachTime: Date }[];
}

export class AwsServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number };
  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = code;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status };
  }
}

export class FakeAws {
  readonly calls: AwsCliInvokeRequest[] = [];
  readonly volumes: FakeVolume[] = [];
  readonly asgInstances: { InstanceId: string; AutoScalingGroupName: string; LifecycleState: string; AvailabilityZone: string; HealthStatus: string }[] = [];
  readonly hooks: { AutoScalingGroupName: string; LifecycleHookName: string; LifecycleTransition: string; HeartbeatTimeout: number }[] = [];
  readonly instanceTags = new Map<string, Map<string, string>>();
  /** EC2 returns all volumes at once unless MaxResults is given; the fake caps pages at this. */
  pageSizeCap = 1000;
  /** The next N calls fail with this error before reaching the service logic. */
  failNext: { count: number; error: () => unknown } = { count: 0, error: () => new Error('none') };

  readonly invoke = async (req: AwsCliInvokeRequest): Promise<Record<string, unknown>> => {
    this.calls.push(structuredClone(req));
    if (this.failNext.count > 0) {
      this.failNext.count--;
      throw this.failNext.error();
    }
    const handler = (this as unknown as Record<string, (input: Record<string, unknown>) => Record<string, unknown>>)[`${req.service}:${req.operation}`];
    if (handler === undefined) throw new AwsServiceError('InvalidAction', `The action ${req.operation} is not valid for this web service.`);
    return { ...handler.call(this, req.input), $metadata: { httpStatusCode: 200, requestId: 'req-1' } };
  };

  addVolume(v: Partial<FakeVolume> & { VolumeId: string }): FakeVolume {
    const volume: FakeVolume = {
      State: 'available',
      AvailabilityZone: 'us-east-1a',
      Size: 10,
      CreateTime: new Date('2024-01-01T00:00:00Z'),
      Tags: [],
      Attachments: [],
      ...v,
    };
    this.volumes.push(volume);
    return volume;
  }

  'ec2:DescribeVolumes'(input: Record<string, unknown>): Record<string, unknown> {
    const ids = input.VolumeIds as string[] | undefined;
    if (ids !== undefined && ids.length > 0 && input.MaxResults !== undefined) {
      throw new AwsServiceError('InvalidParameterCombination', 'The parameter volumeSet cannot be used with the parameter maxResults');
    }
    for (const id of ids ?? []) {
      if (!this.volumes.some((v) => v.VolumeId === id)) throw new AwsServiceError('InvalidVolume.NotFound', `The volume '${id}' does not exist.`);
    }
    const filters = (input.Filters as { Name: string; Values: string[] }[] | undefined) ?? [];
    const matches = this.volumes.filter(
      (v) => (ids === undefined || ids.length === 0 || ids.includes(v.VolumeId)) && filters.every((f) => f.Values.some((want) => volumeField(v, f.Name).includes(want))),
    );
    const start = input.NextToken === undefined ? 0 : Number(String(input.NextToken).replace('page-', ''));
    const size = Math.min(this.pageSizeCap, (input.MaxResults as number | undefined) ?? Number.POSITIVE_INFINITY);
    const page = matches.slice(start, start + size);
    const next = start + size < matches.length ? `page-${start + size}` : undefined;
    return { Volumes: structuredClone(page), ...(next === undefined ? {} : { NextToken: next }) };
  }

  'ec2:AttachVolume'(input: Record<string, unknown>): Record<string, unknown> {
    const v = this.volumes.find((x) => x.VolumeId === input.VolumeId);
    if (v === undefined) throw new AwsServiceError('InvalidVolume.NotFound', `The volume '${String(input.VolumeId)}' does not exist.`);
    if (v.Attachments.length > 0) throw new AwsServiceError('VolumeInUse', `${v.VolumeId} is already attached to an instance`);
    const attachment = { InstanceId: input.InstanceId as string, State: 'attaching', Device: input.Device as string, AttachTime: new Date('2024-01-01T00:00:05.250Z') };
    v.Attachments.push(attachment);
    v.State = 'in-use';
    return { ...attachment, VolumeId: v.VolumeId };
  }

  'ec2:CreateTags'(input: Record<string, unknown>): Record<string, unknown> {
    for (const id of input.Resources as string[]) {
      const tags = this.instanceTags.get(id) ?? new Map<string, string>();
      for (const t of input.Tags as { Key: string; Value?: string }[]) tags.set(t.Key, t.Value ?? '');
      this.instanceTags.set(id, tags);
    }
    return {};
  }

  'autoscaling:DescribeAutoScalingInstances'(input: Record<string, unknown>): Record<string, unknown> {
    const ids = input.InstanceIds as string[] | undefined;
    return { AutoScalingInstances: structuredClone(this.asgInstances.filter((i) => ids === undefined || ids.includes(i.InstanceId))) };
  }

  'autoscaling:DescribeLifecycleHooks'(input: Record<string, unknown>): Record<string, unknown> {
    const group = input.AutoScalingGroupName as string;
    if (!this.asgInstances.some((i) => i.AutoScalingGroupName === group)) throw new AwsServiceError('ValidationError', `Group ${group} not found`);
    return { LifecycleHooks: structuredClone(this.hooks.filter((h) => h.AutoScalingGroupName === group)) };
  }

  'autoscaling:CompleteLifecycleAction'(input: Record<string, unknown>): Record<string, unknown> {
    const group = input.AutoScalingGroupName as string;
    if (!this.hooks.some((h) => h.AutoScalingGroupName === group && h.LifecycleHookName === input.LifecycleHookName)) {
      throw new AwsServiceError('ValidationError', `No Lifecycle Hook found for the given AutoScalingGroup ${group}`);
    }
    const inst = this.asgInstances.find((i) => i.InstanceId === input.InstanceId && i.AutoScalingGroupName === group && i.LifecycleState === 'Pending:Wait');
    if (inst === undefined) throw new AwsServiceError('ValidationError', `No active Lifecycle Action found with instance ID ${String(input.InstanceId)}`);
    inst.LifecycleState = input.LifecycleActionResult === 'CONTINUE' ? 'InService' : 'Terminating';
    return {};
  }

  'sts:GetCallerIdentity'(): Record<string, unknown> {
    return { UserId: 'AIDAEXAMPLE', Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/sim' };
  }
}

function volumeField(v: FakeVolume, name: string): string[] {
  if (name.startsWith('tag:')) return v.Tags.filter((t) => t.Key === name.slice(4)).map((t) => t.Value);
  if (name === 'status') return [v.State];
  if (name === 'availability-zone') return [v.AvailabilityZone];
  if (name === 'attachment.instance-id') return v.Attachments.map((a) => a.InstanceId);
  throw new AwsServiceError('InvalidParameterValue', `The filter '${name}' is invalid`);
}
