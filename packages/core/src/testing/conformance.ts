import type { Clock } from '../clock.js';
import { createController } from '../controller/create-controller.js';
import type { Driver, DriverCapabilities } from '../driver.js';
import { BerthDriverError, BerthLockError } from '../errors.js';
import { liveInstances, type ClusterObservation } from '../observation.js';
import { computeRevision } from '../revision.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import { defineCluster } from '../spec/define-cluster.js';
import type { ClusterInput } from '../spec/schema.js';

/** One backend under test, fresh for every test. */
export interface ConformanceContext {
  readonly driver: Driver;
  readonly clock: Clock;
  /** A valid cluster input for this backend (its subnets, image and zone exist), `nodes` nodes. */
  clusterInput(nodes: number): ClusterInput;
  /** Runs `fn` the way this backend needs (the simulator advances virtual time inside). */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Another image id the backend accepts, for rolls. */
  readonly otherImage: string;
  teardown?(): Promise<void>;
}

export interface ConformanceHarness {
  readonly name: string;
  setup(): Promise<ConformanceContext>;
  /** Per-test timeout in wall ms (the emulator is slower than the simulator). Default 30 000. */
  readonly timeoutMs?: number;
}

/** The subset of vitest (or jest, or mocha+chai) the suite needs: pass your runner's. */
export interface TestApi {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void>, timeoutMs?: number): void;
  expect: (value: unknown, message?: string) => {
    toBe(v: unknown): void;
    toEqual(v: unknown): void;
    toBeGreaterThan(v: number): void;
    toBeGreaterThanOrEqual(v: number): void;
    toBeInstanceOf(c: abstract new (...args: never[]) => unknown): void;
    toContain(v: unknown): void;
    not: { toBe(v: unknown): void; toEqual(v: unknown): void };
  };
}

const CAPABILITY_FLAGS: readonly (keyof DriverCapabilities)[] = [
  'phaseReporting',
  'lifecycleHooks',
  'changeNotifications',
  'spot',
  'snapshots',
  'volumeResize',
  'attachmentRules',
];

/** Waits (on the backend's clock) until `done(observation)` holds, observing every `everyMs`. */
export async function waitForObservation(
  ctx: ConformanceContext,
  spec: ClusterSpec,
  done: (o: ClusterObservation) => boolean,
  options: { everyMs?: number; timeoutMs?: number; what?: string } = {},
): Promise<ClusterObservation> {
  const everyMs = options.everyMs ?? 5_000;
  const deadline = ctx.clock.now() + (options.timeoutMs ?? 1_800_000);
  for (;;) {
    const o = await ctx.driver.observe(spec, { scope: 'full' });
    if (done(o)) return o;
    if (ctx.clock.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? 'a condition'} on ${ctx.driver.name}`);
    await ctx.clock.sleep(everyMs);
  }
}

const allInService = (spec: ClusterSpec) => (o: ClusterObservation) =>
  spec.nodes.every((n) => {
    const node = o.nodes[n.id];
    return !!node && liveInstances(node).some((i) => i.lifecycleState === 'InService' && i.revision === computeRevision(spec, n.id));
  });

/**
 * The behaviour every Driver must show, whatever the cloud behind it. Backend differences
 * are expressed by capability flags, never by the driver's name.
 *
 * @example
 * ```ts
 * import { describe, it, expect } from 'vitest';
 * import { describeDriverConformance } from '@berth/core/testing';
 * describeDriverConformance({ name: 'sim', setup: async () => ({ ... }) }, { describe, it, expect });
 * ```
 */
export function describeDriverConformance(harness: ConformanceHarness, t: TestApi): void {
  const { describe, it, expect } = t;
  const timeoutMs = harness.timeoutMs ?? 30_000;
  const test = (name: string, fn: (ctx: ConformanceContext) => Promise<void>, when?: (c: DriverCapabilities) => boolean) =>
    it(
      name,
      async () => {
        const ctx = await harness.setup();
        try {
          if (when && !when(ctx.driver.capabilities)) return; // not applicable to this backend's capabilities
          await ctx.run(() => fn(ctx));
        } finally {
          await ctx.teardown?.();
        }
      },
      timeoutMs,
    );

  describe(`driver conformance: ${harness.name}`, () => {
    test('declares every capability flag as a boolean', async (ctx) => {
      for (const flag of CAPABILITY_FLAGS) expect(typeof ctx.driver.capabilities[flag], flag).toBe('boolean');
    });

    test('observes an empty cluster as no nodes', async (ctx) => {
      const spec = defineCluster(ctx.clusterInput(3));
      const o = await ctx.driver.observe(spec);
      expect(o.clusterName).toBe(spec.name);
      expect(Object.keys(o.nodes)).toEqual([]);
    });

    test('ensureNode provisions the node with its IP, volume, group and revision; again changes nothing', async (ctx) => {
      const spec = defineCluster(ctx.clusterInput(3));
      const node = spec.nodes[0] as ClusterSpec['nodes'][number];
      const first = await ctx.driver.ensureNode(spec, node.id);
      expect(first.revision).toBe(computeRevision(spec, node.id));
      expect(first.changes.some((c) => c.action === 'created')).toBe(true);
      const second = await ctx.driver.ensureNode(spec, node.id);
      expect(second.changes.filter((c) => c.action !== 'unchanged')).toEqual([]);
      const o = await ctx.driver.observe(spec);
      const n = o.nodes[node.id];
      expect(n?.group?.minSize).toBe(1);
      expect(n?.group?.maxSize).toBe(1);
      expect(n?.group?.desiredCapacity).toBe(1);
      expect(n?.group?.revision).toBe(computeRevision(spec, node.id));
      expect(n?.eni?.ip).toBe(node.ip);
      expect(n?.eni?.subnetId).toBe(node.subnetId);
      expect(n?.volume?.az).toBe(node.az);
      expect(n?.volume?.sizeGiB).toBe(node.dataVolume.sizeGiB);
    });

    test('apply() brings every node InService on the desired revision; a second apply() changes nothing', async (ctx) => {
      const spec = defineCluster(ctx.clusterInput(3));
      const controller = createController({ spec, driver: ctx.driver, clock: ctx.clock, holderId: 'conformance' });
      const first = await controller.apply();
      expect(first.nodes.length).toBe(3);
      await waitForObservation(ctx, spec, allInService(spec), { what: 'every node InService' });
      const again = await controller.apply();
      expect(again.nodes.length).toBe(0);
      const status = await controller.status();
      expect(status.converged).toBe(true);
      expect(status.quorum.margin).toBe(1);
    });

    test('observe costs the same number of API calls for 3 and for 9 nodes', async (ctx) => {
      if (!ctx.driver.apiCallCounts) return;
      const count = async (spec: ClusterSpec) => {
        const before = total(ctx.driver.apiCallCounts?.() ?? {});
        await ctx.driver.observe(spec, { scope: 'full' });
        return total(ctx.driver.apiCallCounts?.() ?? {}) - before;
      };
      const small = defineCluster({ ...ctx.clusterInput(3), name: 'small' });
      const large = defineCluster({ ...ctx.clusterInput(9), name: 'large' });
      for (const n of small.nodes) await ctx.driver.ensureNode(small, n.id);
      for (const n of large.nodes) await ctx.driver.ensureNode(large, n.id);
      expect(await count(large)).toBe(await count(small));
    });

    test('replaceInstance makes the group launch a new instance for the same node', async (ctx) => {
      const spec = defineCluster(ctx.clusterInput(3));
      await createController({ spec, driver: ctx.driver, clock: ctx.clock, holderId: 'conformance' }).apply();
      const before = await waitForObservation(ctx, spec, allInService(spec), { what: 'every node InService' });
      const old = liveInstances(before.nodes['n1'] ?? { instances: [] } as never)[0]?.instanceId as string;
      await ctx.driver.replaceInstance(spec, 'n1', old);
      const after = await waitForObservation(
        ctx,
        spec,
        (o) => liveInstances(o.nodes['n1'] ?? ({ instances: [] } as never)).some((i) => i.instanceId !== old && i.lifecycleState === 'InService'),
        { what: 'a new instance on n1' },
      );
      expect(after.nodes['n1']?.eni?.ip).toBe(spec.nodes[0]?.ip);
    });

    test('a roll replaces every node with the new revision', async (ctx) => {
      const spec = defineCluster(ctx.clusterInput(3));
      await createController({ spec, driver: ctx.driver, clock: ctx.clock, holderId: 'conformance' }).apply();
      await waitForObservation(ctx, spec, allInService(spec), { what: 'every node InService' });
      const next = defineCluster({ ...ctx.clusterInput(3), image: ctx.otherImage });
      const report = await createController({ spec: next, driver: ctx.driver, clock: ctx.clock, holderId: 'conformance' }).roll({ maxUnavailable: 1 });
      expect(report.outcome).toBe('completed');
      expect(report.replacedCount).toBe(3);
      const o = await ctx.driver.observe(next);
      for (const n of next.nodes) expect(liveInstances(o.nodes[n.id] as never)[0]?.revision).toBe(computeRevision(next, n.id));
    });

    test('the lock admits one holder at a time, fences with a growing token, and is released', async (ctx) => {
      const spec = defineCluster(ctx.clusterInput(3));
      const a = await ctx.driver.lock.acquire(spec, { holder: 'a', ttlMs: 60_000 });
      let err: unknown = null;
      try {
        await ctx.driver.lock.acquire(spec, { holder: 'b', ttlMs: 60_000 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BerthLockError);
      expect((err as BerthLockError).code).toBe('LOCK_HELD');
      expect((err as BerthLockError).holder).toBe('a');
      const renewed = await ctx.driver.lock.renew(spec, a, { ttlMs: 60_000 });
      expect(renewed.expiresAtMs).toBeGreaterThanOrEqual(a.expiresAtMs);
      await ctx.driver.lock.release(spec, renewed);
      const b = await ctx.driver.lock.acquire(spec, { holder: 'b', ttlMs: 60_000 });
      expect(b.token).toBeGreaterThan(a.token);
      let lost: unknown = null;
      try {
        await ctx.driver.lock.renew(spec, a, { ttlMs: 60_000 });
      } catch (e) {
        lost = e;
      }
      expect((lost as BerthLockError).code).toBe('LOCK_LOST');
    });

    test('deleteNode under retain keeps the data volume; under delete removes it', async (ctx) => {
      const spec = defineCluster(ctx.clusterInput(3));
      await ctx.driver.ensureNode(spec, 'n1');
      await ctx.driver.ensureNode(spec, 'n2');
      const before = await ctx.driver.observe(spec);
      const keptVolume = before.nodes['n1']?.volume?.volumeId;
      const retained = await ctx.driver.deleteNode(spec, 'n1', { policy: 'retain' });
      expect(retained.changes.some((c) => c.resource === 'volume' && c.action === 'retained')).toBe(true);
      const deleted = await ctx.driver.deleteNode(spec, 'n2', { policy: 'delete' });
      expect(deleted.changes.some((c) => c.resource === 'volume' && c.action === 'deleted')).toBe(true);
      const after = await waitForObservation(ctx, spec, (o) => !o.nodes['n1']?.group && !o.nodes['n2']?.group, { what: 'groups deleted' });
      expect(after.nodes['n1']?.volume?.volumeId).toBe(keptVolume);
      expect(after.nodes['n2']?.volume ?? null).toBe(null);
    });

    test(
      'deleteNode under snapshot snapshots the volume before deleting it',
      async (ctx) => {
        const spec = defineCluster(ctx.clusterInput(3));
        await ctx.driver.ensureNode(spec, 'n3');
        const result = await ctx.driver.deleteNode(spec, 'n3', { policy: 'snapshot' });
        expect(typeof result.snapshotId).toBe('string');
        expect(result.changes.some((c) => c.resource === 'volume' && c.action === 'snapshotted')).toBe(true);
      },
      (c) => c.snapshots,
    );

    test('an unknown instance is a BerthDriverError, not a crash', async (ctx) => {
      const spec = defineCluster(ctx.clusterInput(3));
      await ctx.driver.ensureNode(spec, 'n1');
      let err: unknown = null;
      try {
        await ctx.driver.replaceInstance(spec, 'n1', 'i-0000000000000dead');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BerthDriverError);
    });
  });
}

function total(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
