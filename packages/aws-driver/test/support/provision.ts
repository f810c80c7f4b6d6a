import type { ClusterSpec } from '@berth/core';
import type { AwsDriver } from '../../src/index.js';

/** ensureNode for every node, a few at a time (moto serves requests on several threads). */
export async function provisionAll(driver: AwsDriver, spec: ClusterSpec, concurrency = 6): Promise<void> {
  const queue = spec.nodes.map((n) => n.id);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) await driver.ensureNode(spec, id);
    }),
  );
}
