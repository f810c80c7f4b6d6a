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
  /**
   * A valid cluster input for this backend (its subnets, image and zone exist) with `nodes`
   * nodes. The suite reads node ids and IPs from the spec (it assumes no naming scheme) and
   * may take a prefix of `nodes` as a smaller cluster of the same name.
   */
  clusterInput(nodes: number): ClusterInput;
  /** Runs `fn` the way this backend needs (the simulator advances virtual time inside). */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Another image id the backend accepts, for rolls. */
  readonly otherImage: string;
  /**
   * How often to poll this backend while waiting, in ms of `clock` time: the suite's waits and
   * the controllers it creates (`pollIntervalMs`). Default 5 000 for the suite, the controller's
   * own default for it. An emulator that answers at once (moto) wants a few ms.
   */
  readonly pollIntervalMs?: number;
  teardown?(): Promise<void>;
}

export interface ConformanceHarness {
  readonly name: string;
  setup(): Promise<ConformanceContext>;
  /** Per-test timeout in wall ms (the emulator is slower than the simulator). Default 30 000. */
  readonly timeoutMs?: number;
}

/**
 * What the suite uses of the runner's per-test context: vitest's `skip(note)` marks a test
 * skipped at run time (the suite only learns the capabilities once `setup()` has run).
 * Runners without it just see the test pass without doing anything.
 */
export interface TestRunContext {
  skip?(note?: string): void;
}

/** The subset of vitest (or jest, or mocha+chai) the suite needs: pass your runner's. */
export interface TestApi {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: (context: TestRunContext) => Promise<void>, timeoutMs?: number): void;
  expect: (value: unknown, message?: string) => {
    toBe(v: unknown): void;
    toEqual(v: unknown): void;
    toBeGreaterThan(v: number): void;
    toBeGreaterThanOrEqual(v: number): void;
    toBeInstanceOf(c: abstract new (...args: never[]) => unknown): void;
    toContain(v: unknown): void;
    not: { toBe(v: unknown): void; toEqual(v: unknown): void; toContain(v: unknown): void };
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
  const everyMs = options.everyMs ?? ctx.pollIntervalMs ?? 5_000;
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

const live = (o: ClusterObservation, nodeId: string) => {
  const node = o.nodes[nodeId];
  return node ? liveInstances(node) : [];
};

function controllerOptions(ctx: ConformanceContext, spec: ClusterSpec) {
  return {
    spec,
    driver: ctx.driver,
    clock: ctx.clock,
    holderId: 'conformance',
    ...(ctx.pollIntervalMs !== undefined && { pollIntervalMs: ctx.pollIntervalMs }),
  };
}

/** The spec's `i`th node (the suite never assumes node ids such as `n1`). */
function nodeAt(spec: ClusterSpec, i: number): ClusterSpec['nodes'][number] {
  const node = spec.nodes[i];
  if (!node) throw new Error(`conformance: cluster '${spec.name}' has no node #${i + 1}`);
  return node;
}

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
  const test = (
    name: string,
    fn: (ctx: ConformanceContext) => Promise<void>,
    requires?: { readonly flag: keyof DriverCapabilities; readonly value?: boolean },
  ) =>
    it(
      name,
      async (run) => {
        const ctx = await harness.setup();
        try {
          // Not applicable to this backend: decided by a capability flag, never by the driver's name.
          if (requires && ctx.driver.capabilities[requires.flag] !== (requires.value ?? true)) {
            run.skip?.(`capabilities.${requires.flag} is ${String(ctx.driver.capabilities[requires.flag])}`);
            return;
          }
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
      const node = nodeAt(spec, 0);
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
      const controller = createController(controllerOptions(ctx, spec));
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
      const counts = ctx.driver.apiCallCounts?.bind(ctx.driver);
      if (!counts) throw new Error(`${ctx.driver.name} has no apiCallCounts(): the observation cost cannot be measured`);
      const count = async (spec: ClusterSpec) => {
        const before = total(counts());
        await ctx.driver.observe(spec, { scope: 'full' });
        return total(counts()) - before;
      };
      // One cluster, first 3 then 9 nodes: the same names and IPs (no second cluster
      // competing for the subnets' addresses), three times the resources.
      const input = ctx.clusterInput(9);
      const small = defineCluster({ ...input, nodes: input.nodes.slice(0, 3) });
      const large = defineCluster(input);
      for (const n of small.nodes) await ctx.driver.ensureNode(small, n.id);
      const smallCost = await count(small);
      for (const n of large.nodes.slice(3)) await ctx.driver.ensureNode(large, n.id);
      const largeCost = await count(large);
      expect(smallCost).toBeGreaterThan(0);
      expect(largeCost).toBe(smallCost);
      const o = await ctx.driver.observe(large, { scope: 'full' });
      expect(large.nodes.filter((n) => o.nodes[n.id]?.group).length).toBe(9);
    });

    test('replaceInstance makes the group launch a new instance for the same node', async (ctx) => {
      const spec = defineCluster(ctx.clusterInput(3));
      const node = nodeAt(spec, 0);
      await createController(controllerOptions(ctx, spec)).apply();
      const before = await waitForObservation(ctx, spec, allInService(spec), { what: 'every node InService' });
      const old = live(before, node.id)[0]?.instanceId;
      if (!old) throw new Error(`no live instance on ${node.id}`);
      await ctx.driver.replaceInstance(spec, node.id, old);
      const after = await waitForObservation(
        ctx,
        spec,
        (o) => live(o, node.id).some((i) => i.instanceId !== old && i.lifecycleState === 'InService'),
        { what: `a new instance on ${node.id}` },
      );
      expect(after.nodes[node.id]?.eni?.ip).toBe(node.ip);
      expect(live(after, node.id).map((i) => i.instanceId)).not.toContain(old);
      expect(live(after, node.id).length).toBe(1);
      const replacement = live(after, node.id)[0]?.instanceId;

      // Idempotent: a retry after success (the old instance is gone) changes nothing.
      await ctx.driver.replaceInstance(spec, node.id, old);
      // Never another node's instance: refused with a driver error, and that instance lives on.
      const other = nodeAt(spec, 1);
      const otherInstance = live(after, other.id)[0]?.instanceId;
      let refused: unknown = null;
      try {
        await ctx.driver.replaceInstance(spec, node.id, otherInstance as string);
      } catch (e) {
        refused = e;
      }
      expect(refused).toBeInstanceOf(BerthDriverError);
      const settled = await ctx.driver.observe(spec);
      expect(live(settled, node.id).map((i) => i.instanceId)).toEqual([replacement]);
      expect(live(settled, other.id).map((i) => i.instanceId)).toEqual([otherInstance]);
    });

    test('a roll replaces every node with the new revision', async (ctx) => {
      const spec = defineCluster(ctx.clusterInput(3));
      await createController(controllerOptions(ctx, spec)).apply();
      const before = await waitForObservation(ctx, spec, allInService(spec), { what: 'every node InService' });
      const next = defineCluster({ ...ctx.clusterInput(3), image: ctx.otherImage });
      for (const n of next.nodes) expect(computeRevision(next, n.id)).not.toBe(computeRevision(spec, n.id));
      const report = await createController(controllerOptions(ctx, next)).roll({ maxUnavailable: 1 });
      expect(report.outcome).toBe('completed');
      expect(report.replacedCount).toBe(3);
      const o = await ctx.driver.observe(next);
      for (const n of next.nodes) {
        const instances = live(o, n.id);
        expect(instances.length, `live instances of ${n.id}`).toBe(1);
        expect(instances[0]?.revision, `revision of ${n.id}`).toBe(computeRevision(next, n.id));
        expect(instances[0]?.lifecycleState, `lifecycle state of ${n.id}`).toBe('InService');
        expect(live(before, n.id).map((i) => i.instanceId), `${n.id} got a new instance`).not.toContain(instances[0]?.instanceId);
        expect(o.nodes[n.id]?.group?.revision).toBe(computeRevision(next, n.id));
      }
    });

    test('the lock admits one holder at a time, fences with a growing token, and is released', async (ctx) => {
      const spec = defineCluster(ctx.clusterInput(3));
      const a = await ctx.driver.lock.acquire(spec, { holder: 'a', session: 'a-1', ttlMs: 60_000 });
      expect(a.session).toBe('a-1');
      let err: unknown = null;
      try {
        await ctx.driver.lock.acquire(spec, { holder: 'b', session: 'b-1', ttlMs: 60_000 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BerthLockError);
      expect((err as BerthLockError).code).toBe('LOCK_HELD');
      expect((err as BerthLockError).holder).toBe('a');
      const renewed = await ctx.driver.lock.renew(spec, a, { ttlMs: 60_000 });
      expect(renewed.expiresAtMs).toBeGreaterThanOrEqual(a.expiresAtMs);
      await ctx.driver.lock.release(spec, renewed);
      const b = await ctx.driver.lock.acquire(spec, { holder: 'b', session: 'b-1', ttlMs: 60_000 });
      expect(b.token).toBeGreaterThan(a.token);
      let lost: unknown = null;
      try {
        await ctx.driver.lock.renew(spec, a, { ttlMs: 60_000 });
      } catch (e) {
        lost = e;
      }
      expect((lost as BerthLockError).code).toBe('LOCK_LOST');
    });

    test('restoreLaunchTemplate (when implemented) points a group back at the template it used before, idempotently, and refuses another node\'s', async (ctx) => {
      const restore = ctx.driver.restoreLaunchTemplate?.bind(ctx.driver);
      if (!restore) return; // optional method: nothing to check
      const spec = defineCluster(ctx.clusterInput(3));
      const next = defineCluster({ ...ctx.clusterInput(3), image: ctx.otherImage });
      const [first, second] = [nodeAt(spec, 0).id, nodeAt(spec, 1).id];
      await ctx.driver.ensureNode(spec, first);
      await ctx.driver.ensureNode(spec, second);
      const templateOf = async (s: ClusterSpec, nodeId: string) => {
        const g = (await ctx.driver.observe(s)).nodes[nodeId]?.group;
        return { launchTemplateId: g?.launchTemplateId ?? '', launchTemplateVersion: g?.launchTemplateVersion ?? '' };
      };
      const before = await templateOf(spec, first);
      const other = await templateOf(spec, second);
      await ctx.driver.ensureNode(next, first);
      expect((await templateOf(next, first)).launchTemplateId, 'the roll moved the group').not.toBe(before.launchTemplateId);
      const changes = await restore(next, first, before);
      expect(changes.map((c) => `${c.resource}:${c.action}`)).toEqual(['auto-scaling-group:updated']);
      expect(await templateOf(next, first)).toEqual(before);
      expect((await restore(next, first, before)).map((c) => c.action)).toEqual(['unchanged']);
      let err: unknown = null;
      try {
        await restore(next, first, other);
      } catch (e) {
        err = e;
      }
      expect(err, "restoring another node's template").toBeInstanceOf(BerthDriverError);
      expect(await templateOf(next, first)).toEqual(before);
    });

    test('setNodePaused (with capabilities.pauseNodes) marks the group paused at 0, ensureNode keeps it there, resuming brings it back to 1; idempotent both ways', async (ctx) => {
      const setPaused = ctx.driver.setNodePaused?.bind(ctx.driver);
      if (!setPaused || ctx.driver.capabilities.pauseNodes !== true) return; // optional: nothing to check
      const spec = defineCluster(ctx.clusterInput(3));
      const id = nodeAt(spec, 0).id;
      await ctx.driver.ensureNode(spec, id);
      const group = async () => {
        const g = (await ctx.driver.observe(spec, { scope: 'instances' })).nodes[id]?.group;
        return { minSize: g?.minSize, maxSize: g?.maxSize, desiredCapacity: g?.desiredCapacity, pausedAtMs: g?.pausedAtMs ?? null };
      };
      await setPaused(spec, id, true, { atMs: 1_700_000_000_000 });
      expect(await group()).toEqual({ minSize: 0, maxSize: 1, desiredCapacity: 0, pausedAtMs: 1_700_000_000_000 });
      expect((await setPaused(spec, id, true, { atMs: 1 })).map((c) => `${c.resource}:${c.action}`)).toEqual(['auto-scaling-group:unchanged']);
      await ctx.driver.ensureNode(spec, id);
      expect(await group(), 'ensureNode keeps a paused group at 0').toEqual({ minSize: 0, maxSize: 1, desiredCapacity: 0, pausedAtMs: 1_700_000_000_000 });
      await setPaused(spec, id, false);
      expect(await group()).toEqual({ minSize: 1, maxSize: 1, desiredCapacity: 1, pausedAtMs: null });
      expect((await setPaused(spec, id, false)).map((c) => `${c.resource}:${c.action}`)).toEqual(['auto-scaling-group:unchanged']);
    });

    test('the lock tells two controllers with one holder id apart by their session', async (ctx) => {
      const spec = defineCluster(ctx.clusterInput(3));
      const first = await ctx.driver.lock.acquire(spec, { holder: 'ci', session: 'run-1', ttlMs: 60_000 });
      // Another controller instance started with the same holder id: it does not own the lease.
      let err: unknown = null;
      try {
        await ctx.driver.lock.acquire(spec, { holder: 'ci', session: 'run-2', ttlMs: 60_000 });
      } catch (e) {
        err = e;
      }
      expect(err, 'an acquire by the same holder in another session').toBeInstanceOf(BerthLockError);
      expect((err as BerthLockError).code).toBe('LOCK_HELD');
      expect((err as BerthLockError).holder).toBe('ci');
      // A retry of our own acquire (same holder, same session) succeeds and moves the token on.
      const again = await ctx.driver.lock.acquire(spec, { holder: 'ci', session: 'run-1', ttlMs: 60_000 });
      expect(again.session).toBe('run-1');
      expect(again.token).toBeGreaterThan(first.token);
      // Renew and release need the session too: the other instance can do neither.
      let lost: unknown = null;
      try {
        await ctx.driver.lock.renew(spec, { ...again, session: 'run-2' }, { ttlMs: 60_000 });
      } catch (e) {
        lost = e;
      }
      expect((lost as BerthLockError).code).toBe('LOCK_LOST');
      await ctx.driver.lock.release(spec, { ...again, session: 'run-2' });
      expect((await ctx.driver.lock.inspect(spec))?.expiresAtMs).toBe(again.expiresAtMs);
      await ctx.driver.lock.release(spec, again);
      const next = await ctx.driver.lock.acquire(spec, { holder: 'ci', session: 'run-2', ttlMs: 60_000 });
      expect(next.session).toBe('run-2');
      expect(next.token).toBeGreaterThan(again.token);
    });

    test('deleteNode under retain keeps the data volume; under delete removes it', async (ctx) => {
      const spec = defineCluster(ctx.clusterInput(3));
      const kept = nodeAt(spec, 0).id;
      const gone = nodeAt(spec, 1).id;
      await ctx.driver.ensureNode(spec, kept);
      await ctx.driver.ensureNode(spec, gone);
      const before = await ctx.driver.observe(spec);
      const keptVolume = before.nodes[kept]?.volume?.volumeId;
      expect(typeof keptVolume).toBe('string');
      const retained = await ctx.driver.deleteNode(spec, kept, { policy: 'retain' });
      expect(retained.changes.some((c) => c.resource === 'volume' && c.action === 'retained')).toBe(true);
      const deleted = await ctx.driver.deleteNode(spec, gone, { policy: 'delete' });
      expect(deleted.changes.some((c) => c.resource === 'volume' && c.action === 'deleted')).toBe(true);
      const after = await waitForObservation(
        ctx,
        spec,
        (o) => !o.nodes[kept]?.group && !o.nodes[gone]?.group && !o.nodes[gone]?.volume,
        { what: 'groups and the deleted volume gone' },
      );
      expect(after.nodes[kept]?.volume?.volumeId).toBe(keptVolume);
      expect(after.nodes[gone]?.volume ?? null).toBe(null);
    });

    test(
      'deleteNode under snapshot snapshots the volume before deleting it',
      async (ctx) => {
        const spec = defineCluster(ctx.clusterInput(3));
        const node = nodeAt(spec, 2);
        await ctx.driver.ensureNode(spec, node.id);
        const result = await ctx.driver.deleteNode(spec, node.id, { policy: 'snapshot' });
        expect(typeof result.snapshotId).toBe('string');
        expect(result.changes.some((c) => c.resource === 'volume' && c.action === 'snapshotted')).toBe(true);
        const after = await waitForObservation(ctx, spec, (o) => !o.nodes[node.id]?.group && !o.nodes[node.id]?.volume, {
          what: 'the snapshotted volume gone',
        });
        expect(after.nodes[node.id]?.volume ?? null).toBe(null);
      },
      { flag: 'snapshots' },
    );

    test(
      'modifyVolume changes the size, type and IOPS of a data volume in place; volumeModifications reports it',
      async (ctx) => {
        const spec = defineCluster(ctx.clusterInput(3));
        const node = nodeAt(spec, 0);
        await ctx.driver.ensureNode(spec, node.id);
        const before = await ctx.driver.observe(spec);
        const volumeId = before.nodes[node.id]?.volume?.volumeId as string;
        const sizeGiB = node.dataVolume.sizeGiB + 10;
        await ctx.driver.modifyVolume(spec, node.id, { sizeGiB, type: 'io2', iops: 4000, throughputMiBps: null });
        const after = await waitForObservation(ctx, spec, (o) => o.nodes[node.id]?.volume?.sizeGiB === sizeGiB && o.nodes[node.id]?.volume?.type === 'io2', {
          what: 'the volume modified',
        });
        expect(after.nodes[node.id]?.volume?.volumeId).toBe(volumeId);
        expect(after.nodes[node.id]?.volume?.iops).toBe(4000);
        if (ctx.driver.volumeModifications) {
          const mods = await ctx.driver.volumeModifications(spec, [volumeId]);
          expect(mods.map((m) => m.volumeId)).toEqual([volumeId]);
          expect(mods[0]?.targetSizeGiB).toBe(sizeGiB);
        }
      },
      { flag: 'volumeResize' },
    );

    test('an unknown instance is a BerthDriverError, not a crash nor a silent success', async (ctx) => {
      const spec = defineCluster(ctx.clusterInput(3));
      const node = nodeAt(spec, 0);
      await ctx.driver.ensureNode(spec, node.id);
      let err: unknown = null;
      try {
        await ctx.driver.replaceInstance(spec, node.id, 'i-0000000000000dead');
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
