import { clusterStatuses, computeRevision, createController, type Lease } from '@berth/core';
import { controllerRoll, type RollArgs, type RollFn } from '../../src/index.js';

interface MutantOptions {
  /** Replace every outdated node at once, ignoring quorum. */
  readonly batchAll?: boolean;
  /** Replace every node, whatever revision it runs (and go round twice). */
  readonly ignoreRevision?: boolean;
  /** Never take the lease. */
  readonly ignoreLock?: boolean;
  /** Carry on after a node fails. */
  readonly ignoreFailures?: boolean;
}

/** A deliberately broken controller: a bare roll loop with chosen safety checks removed. */
export function mutantRoll(m: MutantOptions): RollFn {
  return async (a: RollArgs) => {
    const { spec, driver, clock, signal } = a;
    let lease: Lease | null = null;
    if (!m.ignoreLock) lease = await driver.lock.acquire(spec, { holder: a.holderId, session: a.holderId, ttlMs: 3_600_000, signal });
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
          if (clock.now() > deadline) throw new Error('timeout');
        }
      }
    }
    if (lease) await driver.lock.release(spec, lease);
  };
}

/** The real controller, told to leave the first node alone, yet reporting a finished roll. */
export const skippingRoll: RollFn = async (a) => {
  const c = createController({ spec: a.spec, driver: a.driver, clock: a.clock, hooks: a.hooks, holderId: a.holderId });
  return c.roll({ maxUnavailable: a.maxUnavailable, skip: [a.spec.nodes[0]!.id], signal: a.signal, replacementTimeoutMs: a.replacementTimeoutMs });
};

/** The real controller, then a "cleanup" that deletes a node with its retained volume. */
export const volumeDeletingRoll: RollFn = async (a) => {
  await controllerRoll(a);
  const lease = await a.driver.lock.acquire(a.spec, { holder: a.holderId, session: a.holderId, ttlMs: 600_000, signal: a.signal });
  await a.driver.deleteNode(a.spec, a.spec.nodes[0]!.id, { policy: 'delete', signal: a.signal });
  await a.driver.lock.release(a.spec, lease);
};
