import { CreateSnapshotCommand, DescribeSnapshotsCommand, type Snapshot, type Volume } from '@aws-sdk/client-ec2';
import { BerthDriverError, type ClusterSpec } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { findNodeVolumes, nodeSpecOf } from './discover-node.js';
import { isNotFound } from './map-aws-error.js';
import { nodeTags } from './names.js';

export async function requireNodeVolume(ctx: AwsContext, spec: ClusterSpec, nodeId: string, operation: string, signal?: AbortSignal): Promise<Volume & { VolumeId: string }> {
  nodeSpecOf(spec, nodeId);
  const vol = (await findNodeVolumes(ctx, spec, nodeId, signal))[0];
  if (!vol?.VolumeId) {
    throw new BerthDriverError(operation, 'NotProvisioned', `node ${nodeId} of cluster ${spec.name} has no data volume; run ensureNode (controller.apply()) first`);
  }
  return vol as Volume & { VolumeId: string };
}

/** Snapshots the node's data volume; with `wait`, resolves once the snapshot is `completed`. */
export async function snapshotVolume(
  ctx: AwsContext,
  spec: ClusterSpec,
  nodeId: string,
  options: { description?: string; wait?: boolean; extraTags?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<{ snapshotId: string }> {
  const vol = await requireNodeVolume(ctx, spec, nodeId, 'CreateSnapshot', options.signal);
  return snapshotOf(ctx, spec, nodeId, vol.VolumeId, options);
}

export async function snapshotOf(
  ctx: AwsContext,
  spec: ClusterSpec,
  nodeId: string,
  volumeId: string,
  options: { description?: string; wait?: boolean; extraTags?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<{ snapshotId: string }> {
  const snap = await ctx.call('CreateSnapshot', (abortSignal) =>
    ctx.ec2.send(
      new CreateSnapshotCommand({
        VolumeId: volumeId,
        Description: options.description ?? `berth ${spec.name}/${nodeId} data volume ${volumeId}`,
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: nodeTags(spec, nodeId, options.extraTags) }],
      }),
      { abortSignal },
    ),
  { signal: options.signal });
  const snapshotId = snap.SnapshotId;
  if (!snapshotId) throw new BerthDriverError('CreateSnapshot', 'EmptyResponse', `no snapshot id returned for ${volumeId}`, { retryable: true });
  ctx.created(snapshotId);
  if (options.wait) await waitForSnapshot(ctx, snapshotId, options.signal);
  return { snapshotId };
}

export async function waitForSnapshot(ctx: AwsContext, snapshotId: string, signal?: AbortSignal): Promise<Snapshot> {
  return ctx.waitFor(
    `snapshot ${snapshotId} to complete`,
    async () => {
      let r;
      try {
        r = await ctx.call('DescribeSnapshots', (abortSignal) => ctx.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }), { abortSignal }), {
          signal,
          afterCreate: true,
        });
      } catch (err) {
        // Right after CreateSnapshot, EC2 may not know the id yet (eventual consistency): keep waiting.
        if (isNotFound(err)) return undefined;
        throw err;
      }
      const s = r.Snapshots?.[0];
      if (s?.State === 'error') {
        throw new BerthDriverError('CreateSnapshot', 'SnapshotFailed', `snapshot ${snapshotId} failed: ${s.StateMessage ?? 'no reason given'}`);
      }
      return s?.State === 'completed' ? s : undefined;
    },
    signal,
  );
}
