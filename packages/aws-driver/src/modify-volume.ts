import { DescribeVolumesModificationsCommand, ModifyVolumeCommand, type VolumeModification } from '@aws-sdk/client-ec2';
import { BerthDriverError, type ClusterSpec, type VolumeModificationRecord, type VolumeTarget } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { requireNodeVolume } from './volume-operations.js';

/**
 * One `ModifyVolume` of the node's data volume towards `target` (size, type, IOPS, throughput;
 * fields already as asked are not sent). Core refuses shrinks, invalid targets and the cooldown
 * before calling; a shrink is refused here too, before the call (moto accepts one).
 */
export async function modifyVolume(ctx: AwsContext, spec: ClusterSpec, nodeId: string, target: VolumeTarget, signal?: AbortSignal): Promise<void> {
  const vol = await requireNodeVolume(ctx, spec, nodeId, 'ModifyVolume', signal);
  const current = vol.Size ?? 0;
  if (!Number.isInteger(target.sizeGiB) || target.sizeGiB < current) {
    throw new BerthDriverError('ModifyVolume', 'VolumeShrinkNotAllowed', `node ${nodeId}'s volume ${vol.VolumeId} is ${current} GiB; EBS volumes only grow, so ${target.sizeGiB} GiB is not possible`);
  }
  const input = {
    VolumeId: vol.VolumeId,
    ...(target.sizeGiB !== current && { Size: target.sizeGiB }),
    ...(target.type !== vol.VolumeType && { VolumeType: target.type }),
    ...(target.iops !== null && target.iops !== vol.Iops && { Iops: target.iops }),
    ...(target.throughputMiBps !== null && target.throughputMiBps !== vol.Throughput && { Throughput: target.throughputMiBps }),
  };
  if (Object.keys(input).length === 1) return;
  await ctx.call('ModifyVolume', (abortSignal) => ctx.ec2.send(new ModifyVolumeCommand(input), { abortSignal }), { signal });
}

/**
 * The latest modification of each volume that has one. A `volume-id` filter, not `VolumeIds`:
 * AWS fails the whole call when one of the ids was never modified.
 */
export async function volumeModifications(ctx: AwsContext, volumeIds: readonly string[], signal?: AbortSignal): Promise<VolumeModificationRecord[]> {
  if (volumeIds.length === 0) return [];
  const out: VolumeModification[] = [];
  let NextToken: string | undefined;
  do {
    const r = await ctx.call('DescribeVolumesModifications', (abortSignal) =>
      ctx.ec2.send(new DescribeVolumesModificationsCommand({ Filters: [{ Name: 'volume-id', Values: [...volumeIds] }], MaxResults: 500, NextToken }), { abortSignal }),
    { signal });
    out.push(...(r.VolumesModifications ?? []));
    NextToken = r.NextToken;
  } while (NextToken);
  // The newest per volume, should a backend list more than one.
  const latest = new Map<string, VolumeModification>();
  for (const m of out) {
    const id = m.VolumeId ?? '';
    const seen = latest.get(id);
    if (!seen || (m.StartTime?.getTime() ?? 0) >= (seen.StartTime?.getTime() ?? 0)) latest.set(id, m);
  }
  return [...latest.values()]
    .filter((m) => m.VolumeId && m.StartTime)
    .map((m) => ({
      volumeId: m.VolumeId as string,
      state: (m.ModificationState ?? 'completed') as VolumeModificationRecord['state'],
      startedAtMs: (m.StartTime as Date).getTime(),
      endedAtMs: m.EndTime ? m.EndTime.getTime() : null,
      targetSizeGiB: m.TargetSize ?? null,
      targetType: m.TargetVolumeType ?? null,
      targetIops: m.TargetIops ?? null,
      targetThroughputMiBps: m.TargetThroughput ?? null,
    }));
}
