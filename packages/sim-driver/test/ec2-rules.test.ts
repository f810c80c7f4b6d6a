import { BerthDriverError } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { simContext } from '../src/internal.js';
import { currentInstance, provision, setup, until } from './helpers.js';

describe('EC2 and EBS rules', () => {
  it('a launch naming the primary ENI fails with InvalidNetworkInterface.InUse while the old instance shuts down, and is retried', async () => {
    const { sim, spec } = setup({ profile: 'realistic' });
    await sim.run(async () => {
      await provision(sim, spec);
      const old = sim.world.currentInstance('demo-1');
      await sim.driver.replaceInstance(spec, 'demo-1', old!.id);
      await until(sim, () => sim.world.instance(old!.id)?.ec2State === 'terminated', 'old terminated');
      await until(sim, () => sim.world.currentInstance('demo-1')?.lifecycleState === 'InService', 'replacement in service');
    });
    const failures = sim.trace.filter((e) => e.kind === 'group.launch-failed' && e.nodeId === 'demo-1');
    expect(failures.length).toBeGreaterThan(0);
    expect(String(failures[0]!.error)).toContain('InvalidNetworkInterface.InUse');
    const terminated = sim.trace.find((e) => e.kind === 'instance.state' && e.to === 'terminated' && e.nodeId === 'demo-1')!;
    const launched = sim.trace.filter((e) => e.kind === 'instance.launched' && e.nodeId === 'demo-1');
    expect(launched).toHaveLength(2);
    expect(launched[1]!.atMs).toBeGreaterThanOrEqual(terminated.atMs);
    expect(failures.every((f) => f.atMs < launched[1]!.atMs)).toBe(true);
    expect(sim.world.group(spec.name, 'demo-1')?.lastActivityError).toBeNull();
  });

  it('single attach: attaching a volume that is attached or still detaching fails with VolumeInUse', async () => {
    const { sim, spec } = setup({}, { nodes: 4, allowUnsafeSize: true });
    await sim.run(async () => {
      await provision(sim, spec);
      const ctx = simContext(sim);
      const vol = sim.world.volumeOf('demo-1')!;
      const neighbour = sim.world.currentInstance('demo-4')!; // same AZ as demo-1
      expect(neighbour.az).toBe(vol.az);
      const code = (): string | null => {
        try {
          ctx.ec2.attachVolume(vol.id, neighbour.id, '/dev/sdg');
          return null;
        } catch (e) {
          return (e as BerthDriverError).awsCode;
        }
      };
      expect(code()).toBe('VolumeInUse');
      ctx.ec2.lose(sim.world.currentInstance('demo-1')!.id, 'test');
      await until(sim, () => vol.attachment?.state === 'detaching', 'detaching', 1);
      expect(code()).toBe('VolumeInUse');
      await until(sim, () => vol.attachment === null, 'detached', 1);
      expect(code()).toBeNull();
      expect(vol.attachment?.instanceId).toBe(neighbour.id);
    });
  });

  it('a volume attaches only to an instance in its AZ (InvalidVolume.ZoneMismatch)', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      const ctx = simContext(sim);
      const vol = sim.world.volumeOf('demo-1')!;
      const foreign = sim.world.currentInstance('demo-2')!;
      expect(foreign.az).not.toBe(vol.az);
      // Free the volume first so only the zone rule can refuse.
      ctx.ec2.lose(sim.world.currentInstance('demo-1')!.id, 'test');
      await until(sim, () => sim.world.volumeOf('demo-1')!.attachment === null, 'detached', 10);
      let err: unknown;
      try {
        ctx.ec2.attachVolume(vol.id, foreign.id, '/dev/sdg');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BerthDriverError);
      expect((err as BerthDriverError).awsCode).toBe('InvalidVolume.ZoneMismatch');
    });
  });

  it('a terminating instance detaches its data volume during shutting-down, then releases its ENI', async () => {
    const { sim, spec } = setup({ profile: 'realistic' });
    await sim.run(async () => {
      await provision(sim, spec);
      const inst = sim.world.currentInstance('demo-2')!;
      await sim.driver.replaceInstance(spec, 'demo-2', inst.id);
      await until(sim, () => sim.world.instance(inst.id)?.ec2State === 'terminated', 'terminated', 500);
    });
    const inst = sim.trace.find((e) => e.kind === 'fault.kill-instance' || (e.kind === 'instance.state' && e.to === 'shutting-down' && e.nodeId === 'demo-2'))!;
    const detached = sim.trace.find((e) => e.kind === 'volume.attachment' && e.state === 'detached' && e.instanceId === inst.instanceId)!;
    const terminated = sim.trace.find((e) => e.kind === 'instance.state' && e.to === 'terminated' && e.instanceId === inst.instanceId)!;
    const released = sim.trace.find((e) => e.kind === 'eni.released' && e.instanceId === inst.instanceId)!;
    expect(detached.atMs).toBeGreaterThan(inst.atMs);
    expect(detached.atMs).toBeLessThanOrEqual(terminated.atMs);
    expect(released.atMs).toBe(terminated.atMs);
  });

  it('terminated instances stay visible in DescribeInstances with their tags for about an hour, then are gone', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      const inst = sim.world.currentInstance('demo-3')!;
      await sim.driver.replaceInstance(spec, 'demo-3', inst.id);
      await until(sim, () => sim.world.instance(inst.id)?.ec2State === 'terminated', 'terminated', 100);
      let obs = await sim.driver.observe(spec, { scope: 'instances' });
      const seen = obs.nodes['demo-3']!.instances.find((i) => i.instanceId === inst.id);
      expect(seen?.ec2State).toBe('terminated');
      expect(seen?.lifecycleState).toBe('Terminated');
      expect(seen?.phase).toBe('in-service');
      expect(seen?.revision).toMatch(/^r-/);
      await sim.clock.sleep(sim.options.timings.terminatedVisibleMs + 1000);
      obs = await sim.driver.observe(spec, { scope: 'instances' });
      expect(obs.nodes['demo-3']!.instances.some((i) => i.instanceId === inst.id)).toBe(false);
    });
  });

  it('eventual consistency: a just-created volume is missing from describes until the lag passes', async () => {
    const { sim, spec } = setup();
    sim.faults.consistencyLag(30_000, 60_000);
    await sim.run(async () => {
      const r1 = await sim.driver.ensureNode(spec, 'demo-1');
      expect(r1.changes.find((c) => c.resource === 'volume')?.action).toBe('created');
      let obs = await sim.driver.observe(spec);
      // The group lists its instance before EC2 shows it; the volume is not visible yet.
      expect(obs.nodes['demo-1']?.volume ?? null).toBeNull();
      expect(obs.nodes['demo-1']?.eni ?? null).toBeNull();
      // ensureNode meanwhile stays idempotent thanks to client tokens.
      const r2 = await sim.driver.ensureNode(spec, 'demo-1');
      expect(sim.world.volumes.filter((v) => v.tags['berth:node'] === 'demo-1')).toHaveLength(1);
      expect(r2.changes.find((c) => c.resource === 'auto-scaling-group')?.action).toBe('unchanged');
      await sim.clock.sleep(31_000);
      obs = await sim.driver.observe(spec);
      expect(obs.nodes['demo-1']?.volume?.volumeId).toBe(r1.changes.find((c) => c.resource === 'volume')?.id);
      expect(await currentInstance(sim, spec, 'demo-1')).not.toBeNull();
    });
  });
});
