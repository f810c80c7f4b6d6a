// Storage changes through apply() on moto. moto never rate-limits ModifyVolume and accepts a
// shrink (docs/aws-behaviour.md, "What moto 5.2.1 does not do"): these tests check that Berth
// refuses both before it calls, and that what it reads back (DescribeVolumes,
// DescribeVolumesModifications) is what moto reports. Timing (modifying → optimizing) and the
// file system are the simulator's (packages/sim-driver/test/storage-changes.test.ts).
import { BerthConfigError, createController } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSystemClock } from '../src/index.js';
import { clusterSpec, useMotoWorld } from './support/aws-fixture.js';

const clock = createSystemClock();
// The fixture's data volume (50 GiB gp3).
const DV = { sizeGiB: 50, type: 'gp3', mountPath: '/var/lib/kafka', deletionPolicy: 'retain' } as const;
const aws = useMotoWorld({ lockTable: true });

describe('storage changes on moto', () => {
  it('apply() modifies size and IOPS with one ModifyVolume per volume; a second change within six hours is refused before ModifyVolume (moto would accept it)', async () => {
    const spec = clusterSpec(aws.world, 3);
    const ctl = (s: typeof spec) => createController({ spec: s, driver: aws.driver, clock, holderId: 'storage-test', pollIntervalMs: 50 });
    await ctl(spec).apply();
    const size = spec.dataVolume.sizeGiB;
    const bigger = clusterSpec(aws.world, 3, { dataVolume: { ...DV, sizeGiB: size + 10, iops: 4000 } });
    const c0 = aws.driver.apiCallCounts();
    const r = await ctl(bigger).apply();
    expect(r.volumesModified.map((c) => c.nodeId)).toEqual(['n1', 'n2', 'n3']);
    expect(r.volumesModified[0]!.fields).toEqual([
      { field: 'sizeGiB', from: size, to: size + 10 },
      { field: 'iops', from: expect.any(Number), to: 4000 },
    ]);
    const c1 = aws.driver.apiCallCounts();
    expect((c1['ModifyVolume'] ?? 0) - (c0['ModifyVolume'] ?? 0)).toBe(3);
    expect((c1['DescribeVolumesModifications'] ?? 0) - (c0['DescribeVolumesModifications'] ?? 0)).toBe(1);
    const obs = await aws.driver.observe(bigger);
    expect(obs.nodes['n1']!.volume).toMatchObject({ sizeGiB: size + 10, iops: 4000 });
    expect((await ctl(bigger).status()).pendingVolumeChanges).toEqual([]);

    const biggest = clusterSpec(aws.world, 3, { dataVolume: { ...DV, sizeGiB: size + 20, iops: 4000 } });
    const err = await ctl(biggest).apply().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthConfigError);
    expect((err as BerthConfigError).message).toMatch(/node n1: ModifyVolume of vol-\w+ \(sizeGiB \d+ → \d+\) is refused: its last modification started .*the next one is allowed at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
    expect(aws.driver.apiCallCounts()['ModifyVolume']).toBe(c1['ModifyVolume']);
  });

  it('a shrink is refused by apply() before any call of the change, naming the node', async () => {
    const spec = clusterSpec(aws.world, 3);
    const ctl = (s: typeof spec) => createController({ spec: s, driver: aws.driver, clock, holderId: 'storage-test', pollIntervalMs: 50 });
    await ctl(spec).apply();
    const smaller = clusterSpec(aws.world, 3, { dataVolume: { ...DV, sizeGiB: spec.dataVolume.sizeGiB - 10 } });
    const c0 = aws.driver.apiCallCounts();
    const err = await ctl(smaller).apply().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthConfigError);
    expect((err as BerthConfigError).issues.map((i) => i.path)).toEqual(['nodes[0].dataVolume.sizeGiB', 'nodes[1].dataVolume.sizeGiB', 'nodes[2].dataVolume.sizeGiB']);
    expect((err as BerthConfigError).message).toContain('node n2: its data volume');
    const c1 = aws.driver.apiCallCounts();
    expect([c1['ModifyVolume'] ?? 0, c1['DescribeVolumesModifications'] ?? 0]).toEqual([c0['ModifyVolume'] ?? 0, c0['DescribeVolumesModifications'] ?? 0]);
  });
});
