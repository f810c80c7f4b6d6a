import { checkVolumeModifications, planVolumeChanges, VOLUME_MODIFICATION_COOLDOWN_MS, type VolumeModificationRecord } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { observation, spec } from '../support/fixtures.js';

const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);

describe('planVolumeChanges', () => {
  it('lists each changed field from → to and asks nothing of fields the spec leaves unset', () => {
    const s = spec(3, { dataVolume: { sizeGiB: 150, type: 'gp3', mountPath: '/var/lib/kafka', iops: 6000 } });
    const { changes, refusals } = planVolumeChanges(observation(s), s);
    expect(refusals).toEqual([]);
    expect(changes.map((c) => c.nodeId)).toEqual(['n1', 'n2', 'n3']);
    expect(changes[0]).toEqual({
      nodeId: 'n1',
      volumeId: 'vol-n1',
      fields: [
        { field: 'sizeGiB', from: 100, to: 150 },
        { field: 'iops', from: 3000, to: 6000 },
      ],
      target: { sizeGiB: 150, type: 'gp3', iops: 6000, throughputMiBps: null },
    });
  });

  it('refuses a shrink, naming the node and the path, and plans nothing for that node', () => {
    const s = spec(3, { dataVolume: { sizeGiB: 80, type: 'gp3', mountPath: '/var/lib/kafka' } });
    const { changes, refusals } = planVolumeChanges(observation(s), s);
    expect(changes).toEqual([]);
    expect(refusals.map((r) => r.path)).toEqual(['nodes[0].dataVolume.sizeGiB', 'nodes[1].dataVolume.sizeGiB', 'nodes[2].dataVolume.sizeGiB']);
    expect(refusals[0]!.message).toMatch(/^node n1: its data volume vol-n1 is 100 GiB and EBS volumes only grow, so 80 GiB is refused/);
  });

  it('a type change counts the new type defaults (EBS-13): gp3 → io1 at 3,000 IOPS needs 60 GiB', () => {
    const s = spec(3, { dataVolume: { sizeGiB: 100, type: 'io1', iops: 5000, mountPath: '/var/lib/kafka' } });
    const { changes, refusals } = planVolumeChanges(observation(s), s);
    expect(refusals).toEqual([]);
    expect(changes[0]!.fields).toEqual([
      { field: 'type', from: 'gp3', to: 'io1' },
      { field: 'iops', from: 3000, to: 5000 },
    ]);
  });
});

describe('checkVolumeModifications', () => {
  const s = spec(3, { dataVolume: { sizeGiB: 150, type: 'gp3', mountPath: '/var/lib/kafka' } });
  const { changes } = planVolumeChanges(observation(s), s);
  const mod = (volumeId: string, over: Partial<VolumeModificationRecord>): VolumeModificationRecord => ({
    volumeId,
    state: 'completed',
    startedAtMs: T0,
    endedAtMs: T0 + 60_000,
    targetSizeGiB: 120,
    targetType: 'gp3',
    targetIops: 3000,
    targetThroughputMiBps: 125,
    ...over,
  });

  it('performs changes of volumes never modified or modified six hours ago or more', () => {
    const r = checkVolumeModifications(changes, s, [mod('vol-n2', {})], T0 + VOLUME_MODIFICATION_COOLDOWN_MS);
    expect(r.perform.map((c) => c.nodeId)).toEqual(['n1', 'n2', 'n3']);
    expect(r.refusals).toEqual([]);
  });

  it('refuses within six hours of the last start, saying when the next one is allowed', () => {
    const r = checkVolumeModifications(changes, s, [mod('vol-n2', {})], T0 + VOLUME_MODIFICATION_COOLDOWN_MS - 1);
    expect(r.perform.map((c) => c.nodeId)).toEqual(['n1', 'n3']);
    expect(r.refusals).toEqual([
      {
        path: 'nodes[1].dataVolume.sizeGiB',
        message: expect.stringContaining('node n2: ModifyVolume of vol-n2 (sizeGiB 100 → 150) is refused: its last modification started 2026-12-03T12:00:00Z; AWS asks for six hours between modifications of a volume, so the next one is allowed at 2026-12-03T18:00:00Z'),
      },
    ]);
  });

  it('refuses while the last one is still optimizing with another target, even after six hours; the same target is under way', () => {
    const later = T0 + 7 * 3600_000;
    const r = checkVolumeModifications(
      changes,
      s,
      [mod('vol-n1', { state: 'optimizing', endedAtMs: null }), mod('vol-n2', { state: 'modifying', endedAtMs: null, targetSizeGiB: 150 })],
      later,
    );
    expect(r.underWay.map((c) => c.nodeId)).toEqual(['n2']);
    expect(r.perform.map((c) => c.nodeId)).toEqual(['n3']);
    expect(r.refusals).toHaveLength(1);
    expect(r.refusals[0]!.message).toContain('node n1: ModifyVolume of vol-n1 (sizeGiB 100 → 150) is refused: its last modification (started 2026-12-03T12:00:00Z) is still optimizing');
  });
});
