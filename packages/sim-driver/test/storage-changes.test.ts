// Storage changes online (docs/storage-changes.md): size, type, IOPS and throughput changes of a
// node's data volume are plan items that apply() makes with ModifyVolume; the file system grows
// on the running node through the bootstrap's watcher; refusals come before any call.
import { DescribeVolumesModificationsCommand, ModifyVolumeCommand } from '@aws-sdk/client-ec2';
import { BerthConfigError, createController, defineCluster, formatPlan, type ClusterSpec } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { simulatedClusterInput, type Simulation } from '../src/index.js';
import { provision, setup, until } from './helpers.js';

const HOUR = 3600_000;

function specWith(dataVolume: Record<string, unknown>, overrides: Record<string, unknown>[] = []): ClusterSpec {
  const input = simulatedClusterInput({ nodes: 3 });
  return defineCluster({
    ...input,
    dataVolume: { ...input.dataVolume, ...dataVolume },
    nodes: input.nodes.map((n, i) => ({ ...n, ...(overrides[i] && { dataVolume: overrides[i] }) })),
  });
}

const controllerFor = (sim: Simulation, spec: ClusterSpec) => createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'storage' });
const calls = (sim: Simulation, op: string) => sim.driver.apiCallCounts()[op] ?? 0;

describe('storage changes online', () => {
  it('EBS-14: apply() grows a volume and changes its type and IOPS online: the plan says from → to, status waits for it, the file system grows on the same instance', async () => {
    const { sim, spec } = setup();
    // demo-2 alone: a per-node override of size, type and IOPS.
    const next = specWith({}, [{}, { sizeGiB: 200, type: 'io2', iops: 6000 }]);
    await sim.run(async () => {
      await provision(sim, spec);
      const before = sim.world.currentInstance('demo-2')!.id;
      const launches = sim.trace.filter((e) => e.kind === 'instance.launched').length;
      const ctl = controllerFor(sim, next);
      const plan = await ctl.plan();
      expect(plan.volumeChanges).toHaveLength(1);
      expect(plan.volumeChanges[0]).toMatchObject({
        nodeId: 'demo-2',
        fields: [
          { field: 'sizeGiB', from: 100, to: 200 },
          { field: 'type', from: 'gp3', to: 'io2' },
          { field: 'iops', from: 3000, to: 6000 },
        ],
      });
      const text = formatPlan(plan);
      expect(text).toContain('~ demo-2 (eu-west-1b) will be updated in place');
      expect(text).toMatch(/dataVolume\.type\s+gp3 → io2/);
      expect(text).toMatch(/dataVolume\.iops\s+3000 → 6000/);
      expect(text).toContain('1 volume to modify (online, by apply())');

      const applied = await ctl.apply();
      expect(applied.volumesModified.map((c) => c.nodeId)).toEqual(['demo-2']);
      expect(applied.resized).toEqual([{ nodeId: 'demo-2', fromGiB: 100, toGiB: 200 }]);
      // Modifying: not converged, the change still pending.
      const during = await ctl.status();
      expect(during.converged).toBe(false);
      expect(during.pendingVolumeChanges.map((c) => c.nodeId)).toEqual(['demo-2']);
      // A second apply() while it is modifying sends nothing: the modification under way asks the same.
      const again = await ctl.apply();
      expect(again.volumesModified).toEqual([]);
      expect(again.volumesUnderWay.map((c) => c.nodeId)).toEqual(['demo-2']);
      expect(sim.trace.filter((e) => e.kind === 'volume.modification' && e['state'] === 'modifying')).toHaveLength(1);

      await until(sim, () => sim.world.volumeOf('demo-2')!.data?.fsSizeGiB === 200, 'file system grown online');
      const vol = sim.world.volumeOf('demo-2')!;
      expect(vol).toMatchObject({ sizeGiB: 200, type: 'io2', iops: 6000 });
      expect(sim.world.currentInstance('demo-2')!.id).toBe(before);
      expect(sim.trace.filter((e) => e.kind === 'instance.launched')).toHaveLength(launches);
      await until(sim, async () => (await ctl.status()).converged, 'converged');
      expect(sim.app.status().dataLoss).toEqual([]);
    });
  });

  it('a second change within six hours of the last is refused before ModifyVolume, naming the node and the time it is allowed', async () => {
    const { sim, spec } = setup({ startTimeMs: Date.UTC(2026, 0, 5, 9, 0, 0) });
    const bigger = specWith({ sizeGiB: 150 });
    const biggest = specWith({ sizeGiB: 180 });
    await sim.run(async () => {
      await provision(sim, spec);
      await controllerFor(sim, bigger).apply();
      const startedAtMs = sim.world.volumeOf('demo-1')!.modification!.startedAtMs;
      await until(sim, () => spec.nodes.every((n) => sim.world.volumeOf(n.id)!.modification?.state === 'completed'), 'completed', 10_000);
      expect(sim.clock.now()).toBeLessThan(startedAtMs + 6 * HOUR);

      const modifies = calls(sim, 'ModifyVolume');
      const ensures = sim.trace.filter((e) => e.kind === 'launch-template.version').length;
      const err = await controllerFor(sim, biggest).apply().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BerthConfigError);
      const message = (err as BerthConfigError).message;
      const nextAt = new Date(startedAtMs + 6 * HOUR).toISOString().replace(/\.\d{3}Z$/, 'Z');
      for (const n of spec.nodes) expect(message).toContain(`node ${n.id}: ModifyVolume of`);
      expect(message).toContain('sizeGiB 150 → 180');
      expect(message).toContain(`node demo-1: ModifyVolume of ${sim.world.volumeOf('demo-1')!.id} (sizeGiB 150 → 180) is refused: its last modification started`);
      expect(message).toContain(`the next one is allowed at ${nextAt}`);
      expect(calls(sim, 'ModifyVolume')).toBe(modifies);
      expect(sim.trace.filter((e) => e.kind === 'launch-template.version').length).toBe(ensures);

      // Six hours after the last one started, the same apply() goes through.
      const lastStart = Math.max(...spec.nodes.map((n) => sim.world.volumeOf(n.id)!.modification!.startedAtMs));
      await sim.clock.sleep(lastStart + 6 * HOUR - sim.clock.now());
      const ok = await controllerFor(sim, biggest).apply();
      expect(ok.volumesModified.map((c) => c.nodeId).sort()).toEqual(['demo-1', 'demo-2', 'demo-3']);
    });
  });

  it('a shrink is refused before any call of the change — not even DescribeVolumesModifications — naming the node', async () => {
    const { sim, spec } = setup();
    const smaller = specWith({}, [{}, {}, { sizeGiB: 80 }]);
    await sim.run(async () => {
      await provision(sim, spec);
      const [modifies, describes] = [calls(sim, 'ModifyVolume'), calls(sim, 'DescribeVolumesModifications')];
      const ctl = controllerFor(sim, smaller);
      const plan = await ctl.plan();
      expect(plan.volumeRefusals).toHaveLength(1);
      expect(plan.noChanges).toBe(false);
      expect(formatPlan(plan)).toContain('Refused (apply() stops before any call): node demo-3: its data volume');
      const err = await ctl.apply().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BerthConfigError);
      expect((err as BerthConfigError).issues).toEqual([
        { path: 'nodes[2].dataVolume.sizeGiB', message: expect.stringMatching(/^node demo-3: its data volume vol-\w+ is 100 GiB and EBS volumes only grow, so 80 GiB is refused/) },
      ]);
      expect([calls(sim, 'ModifyVolume'), calls(sim, 'DescribeVolumesModifications')]).toEqual([modifies, describes]);
      const status = await ctl.status();
      expect(status.converged).toBe(false);
      expect(status.volumeRefusals).toHaveLength(1);
      expect(sim.world.volumeOf('demo-3')!.sizeGiB).toBe(100);
    });
  });

  it('a target the volume type does not allow once the kept values count is refused before any call (gp3: 0.25 MiB/s per IOPS)', async () => {
    const { sim } = setup();
    const fast = specWith({ iops: 4000, throughputMiBps: 1000 });
    // The spec lowers iops and sets no throughput: the volume would keep 1000 MiB/s on 3000 IOPS.
    const lower = specWith({ iops: 3000 });
    await sim.run(async () => {
      await provision(sim, fast);
      expect(sim.world.volumeOf('demo-1')).toMatchObject({ iops: 4000, throughputMiBps: 1000 });
      const [modifies, describes] = [calls(sim, 'ModifyVolume'), calls(sim, 'DescribeVolumesModifications')];
      const err = await controllerFor(sim, lower).apply().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BerthConfigError);
      const issues = (err as BerthConfigError).issues;
      expect(issues.map((i) => i.path)).toEqual(['nodes[0].dataVolume.throughputMiBps', 'nodes[1].dataVolume.throughputMiBps', 'nodes[2].dataVolume.throughputMiBps']);
      expect(issues[0]!.message).toContain('node demo-1: ModifyVolume of');
      expect(issues[0]!.message).toContain('keeps its 1000 MiB/s');
      expect(issues[0]!.message).toContain('0.25 MiB/s per provisioned IOPS');
      expect([calls(sim, 'ModifyVolume'), calls(sim, 'DescribeVolumesModifications')]).toEqual([modifies, describes]);
    });
  });

  it('a driver without the volumeResize capability gets a capability error before any call of the change', async () => {
    const { sim, spec } = setup();
    const bigger = specWith({ sizeGiB: 120 });
    await sim.run(async () => {
      await provision(sim, spec);
      const driver = Object.create(sim.driver) as typeof sim.driver;
      Object.defineProperty(driver, 'capabilities', { value: { ...sim.driver.capabilities, volumeResize: false } });
      const modifies = calls(sim, 'ModifyVolume');
      const err = await createController({ spec: bigger, driver, clock: sim.clock, holderId: 'storage' }).apply().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'CAPABILITY_MISSING', capability: 'volumeResize' });
      expect(calls(sim, 'ModifyVolume')).toBe(modifies);
    });
  });

  it('a planned change asks DescribeVolumesModifications once; observations and status never do', async () => {
    const { sim, spec } = setup();
    const bigger = specWith({ sizeGiB: 120 });
    await sim.run(async () => {
      await provision(sim, spec);
      const d0 = calls(sim, 'DescribeVolumesModifications');
      await controllerFor(sim, spec).status();
      await controllerFor(sim, spec).apply();
      await controllerFor(sim, bigger).status();
      expect(calls(sim, 'DescribeVolumesModifications')).toBe(d0);
      await controllerFor(sim, bigger).apply();
      expect(calls(sim, 'DescribeVolumesModifications')).toBe(d0 + 1);
    });
  });
});

describe('ModifyVolume rules in the simulator', () => {
  it('EBS-12: with the six-hour rule, a modification within six hours of the previous one fails with VolumeModificationRateExceeded, saying when', async () => {
    for (const rule of ['six-hours', 'four-per-day'] as const) {
      const { sim, spec } = setup({ volumeModificationRule: rule });
      await sim.run(async () => {
        await provision(sim, spec);
        const VolumeId = sim.world.volumeOf('demo-1')!.id;
        await sim.aws.ec2.send(new ModifyVolumeCommand({ VolumeId, Size: 110 }));
        const started = sim.clock.now();
        await until(sim, () => sim.world.volumeOf('demo-1')!.modification?.state === 'completed', 'completed', 10_000);
        const second = sim.aws.ec2.send(new ModifyVolumeCommand({ VolumeId, Size: 120 }));
        if (rule === 'four-per-day') {
          await expect(second).resolves.toBeDefined();
          return;
        }
        await expect(second).rejects.toMatchObject({ name: 'VolumeModificationRateExceeded', message: expect.stringContaining(new Date(started + 6 * HOUR).toISOString()) });
        await sim.clock.sleep(started + 6 * HOUR - sim.clock.now());
        await expect(sim.aws.ec2.send(new ModifyVolumeCommand({ VolumeId, Size: 120 }))).resolves.toBeDefined();
      });
    }
  });

  it('EBS-13: IOPS and throughput not given stay while the type stays; a new type takes 3,000 IOPS and 125 MiB/s; the ratios are checked on the result', async () => {
    const { sim } = setup();
    const fast = specWith({ iops: 4000, throughputMiBps: 1000 });
    await sim.run(async () => {
      await provision(sim, fast);
      const id = (n: string) => sim.world.volumeOf(n)!.id;
      // gp3 → gp3, size only: IOPS and throughput stay.
      await sim.aws.ec2.send(new ModifyVolumeCommand({ VolumeId: id('demo-1'), Size: 110 }));
      // gp3 → io2 without Iops: 3,000 IOPS, no throughput.
      await sim.aws.ec2.send(new ModifyVolumeCommand({ VolumeId: id('demo-2'), VolumeType: 'io2' }));
      // Lowering IOPS under the kept throughput breaks gp3's 0.25 MiB/s per IOPS.
      await expect(sim.aws.ec2.send(new ModifyVolumeCommand({ VolumeId: id('demo-3'), Iops: 3000 }))).rejects.toMatchObject({ name: 'InvalidParameterValue', message: expect.stringContaining('0.25 MiBps per iops') });
      await until(sim, () => ['demo-1', 'demo-2'].every((n) => sim.world.volumeOf(n)!.modification?.state === 'completed'), 'completed', 10_000);
      expect(sim.world.volumeOf('demo-1')).toMatchObject({ sizeGiB: 110, type: 'gp3', iops: 4000, throughputMiBps: 1000 });
      expect(sim.world.volumeOf('demo-2')).toMatchObject({ type: 'io2', iops: 3000, throughputMiBps: null });
      const mods = (await sim.aws.ec2.send(new DescribeVolumesModificationsCommand({ Filters: [{ Name: 'target-volume-type', Values: ['io2'] }] }))).VolumesModifications ?? [];
      expect(mods.map((m) => [m.VolumeId, m.OriginalVolumeType, m.TargetVolumeType, m.TargetIops])).toEqual([[id('demo-2'), 'gp3', 'io2', 3000]]);
      const byIops = (await sim.aws.ec2.send(new DescribeVolumesModificationsCommand({ Filters: [{ Name: 'original-iops', Values: ['4000'] }, { Name: 'modification-state', Values: ['completed'] }] }))).VolumesModifications ?? [];
      expect(byIops.map((m) => m.VolumeId).sort()).toEqual([id('demo-1'), id('demo-2')].sort());
    });
  });
});
