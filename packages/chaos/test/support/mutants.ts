import { BerthLockError, clusterStatuses, computeRevision, createController, quorumOf, type Lease } from '@berth/core';
import { controllerRoll, type RollArgs, type RollFn } from '../../src/index.js';

interface MutantOptions {
  /** Replace every outdated node at once, ignoring quorum. */
  readonly batchAll?: boolean;
  /** Replace every node, whatever revision it runs (and go round twice). */
  readonly ignoreRevision?: boolean;
  /** Never take the lease. */
  readonly ignoreLock?: boolean;
  /** Try to take the lease, and carry on without it when another session holds it. */
  readonly ignoreLockHeld?: boolean;
  /** Carry on after a node fails: a reported failure, or a replacement that does not come back in time. */
  readonly ignoreFailures?: boolean;
}

/** A deliberately broken controller: a bare roll loop with chosen safety checks removed. */
export function mutantRoll(m: MutantOptions): RollFn {
  return async (a: RollArgs) => {
    const { spec, driver, clock, signal } = a;
    let lease: Lease | null = null;
    if (!m.ignoreLock) {
      try {
        lease = await driver.lock.acquire(spec, { holder: a.holderId, session: a.sessionId, ttlMs: 3_600_000, signal });
      } catch (err) {
        if (!(m.ignoreLockHeld && err instanceof BerthLockError)) throw err;
      }
    }
    const first = clusterStatuses(spec, await driver.observe(spec, { signal }));
    for (const s of first) if (s.templateOutdated) await driver.ensureNode(spec, s.nodeId, { signal });
    const rounds = m.ignoreRevision ? 2 : 1;
    for (let round = 0; round < rounds; round++) {
      const obs = await driver.observe(spec, { signal });
      const statuses = clusterStatuses(spec, obs);
      const todo = statuses.filter((s) => (m.ignoreRevision || s.outdated) && s.current);
      const batches = m.batchAll ? [todo] : todo.map((s) => [s]);
      for (const batch of batches) {
        for (const s of batch) await driver.replaceInstance(spec, s.nodeId, s.current!.instanceId, { signal });
        const deadline = clock.now() + a.replacementTimeoutMs;
        for (;;) {
          await clock.sleep(5_000, signal);
          const now = clusterStatuses(spec, await driver.observe(spec, { scope: 'instances', signal }));
          const mine = now.filter((x) => batch.some((b) => b.nodeId === x.nodeId));
          if (mine.every((x) => x.healthy && x.revision === computeRevision(spec, x.nodeId))) break;
          if (mine.some((x) => x.failure)) {
            if (m.ignoreFailures) break;
            throw new Error(`node ${mine.find((x) => x.failure)!.nodeId} failed`);
          }
          if (clock.now() > deadline) {
            if (m.ignoreFailures) break;
            throw new Error('timeout');
          }
        }
      }
    }
    if (lease) await driver.lock.release(spec, lease);
  };
}

/**
 * A roll that decides on stale views: it looks, plans one node (quorum-safe on that look), then
 * passes the application's gates and waits until `waitMs` have gone by since the look (a drain,
 * a slow health check) — and replaces the node without looking again. Safe while nothing
 * happens during the wait; a node lost meanwhile is replaced over.
 */
export function staleViewRoll(waitMs: number): RollFn {
  return async (a: RollArgs) => {
    const { spec, driver, clock, signal, hooks } = a;
    const { quorum } = quorumOf(spec.nodes.length);
    const lease = await driver.lock.acquire(spec, { holder: a.holderId, session: a.sessionId, ttlMs: 3_600_000, signal });
    for (const s of clusterStatuses(spec, await driver.observe(spec, { signal }))) if (s.templateOutdated) await driver.ensureNode(spec, s.nodeId, { signal });
    for (let index = 0; ; index++) {
      const observation = await driver.observe(spec, { scope: 'instances', signal });
      const lookedAt = clock.now();
      const statuses = clusterStatuses(spec, observation);
      const todo = statuses.filter((s) => s.outdated);
      if (todo.length === 0) break;
      const next = todo.find((s) => s.healthy && s.current);
      if (!next || statuses.filter((s) => s.healthy).length - 1 < quorum) {
        await clock.sleep(1_000, signal);
        continue;
      }
      const ctx = { spec, observation, signal };
      await hooks.clusterHealthy?.(ctx);
      await hooks.beforeReplace?.(next.nodeId, ctx);
      if (clock.now() < lookedAt + waitMs) await clock.sleep(lookedAt + waitMs - clock.now(), signal);
      a.onBatch({ index, nodeIds: [next.nodeId], atMs: clock.now(), phase: 'started' });
      await driver.replaceInstance(spec, next.nodeId, next.current!.instanceId, { signal });
      const deadline = clock.now() + a.replacementTimeoutMs;
      for (;;) {
        await clock.sleep(1_000, signal);
        const s = clusterStatuses(spec, await driver.observe(spec, { scope: 'instances', signal })).find((x) => x.nodeId === next.nodeId)!;
        if (s.healthy && !s.outdated) break;
        if (s.failure || clock.now() > deadline) throw new Error(`node ${next.nodeId} did not come back`);
      }
      a.onBatch({ index, nodeIds: [next.nodeId], atMs: clock.now(), phase: 'completed' });
    }
    await driver.lock.release(spec, lease);
  };
}

/** The real controller, told to leave the first node alone, yet reporting a finished roll. */
export const skippingRoll: RollFn = async (a) => {
  const c = createController({ spec: a.spec, driver: a.driver, clock: a.clock, hooks: a.hooks, holderId: a.holderId, sessionId: a.sessionId });
  return c.roll({ maxUnavailable: a.maxUnavailable, skip: [a.spec.nodes[0]!.id], signal: a.signal, replacementTimeoutMs: a.replacementTimeoutMs });
};

/** The real controller, then a "cleanup" that deletes a node with its retained volume. */
export const volumeDeletingRoll: RollFn = async (a) => {
  await controllerRoll(a);
  const lease = await a.driver.lock.acquire(a.spec, { holder: a.holderId, session: a.sessionId, ttlMs: 600_000, signal: a.signal });
  await a.driver.deleteNode(a.spec, a.spec.nodes[0]!.id, { policy: 'delete', signal: a.signal });
  await a.driver.lock.release(a.spec, lease);
};
