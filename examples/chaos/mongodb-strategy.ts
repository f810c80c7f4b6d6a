/**
 * Chaos for a MongoDB replica-set roll: the cluster input of examples/aws/mongodb-replica-set.ts
 * (us-east-1: the simulated account is made in the spec's region), with hooks that step the
 * primary down before its instance goes and wait for a healthy majority, as the mongosh hooks
 * do on AWS (rs.stepDown(), rs.status()).
 *
 *   berth-chaos run examples/chaos/mongodb-strategy.ts --runs 1000 --seed 1
 */
import type { HookContext } from '@berth/core';
import { defineStrategy } from '@berth/chaos';
import { mongoCluster } from '../aws/mongodb-replica-set.js';

/** How long a step-down may take to elect a new primary before the hook gives up (the roll then halts). */
const ELECTION_TIMEOUT_MS = 120_000;

export default defineStrategy({
  name: 'mongodb-replica-set',
  cluster: mongoCluster('ami-0b1c2d3e4f5a60001'),
  targetImage: 'ami-0b1c2d3e4f5a60002',
  roll: { maxUnavailable: 1 },
  hooks: ({ sim }) => ({
    // rs.status(): the PRIMARY goes last.
    isLeader: (nodeId: string) => sim.app.leaderId() === nodeId,
    // rs.stepDown() on the primary, then wait until another member is PRIMARY.
    beforeReplace: async (nodeId: string, ctx: HookContext) => {
      if (sim.app.leaderId() !== nodeId) return;
      sim.app.stepDown(nodeId);
      const deadline = sim.clock.now() + ELECTION_TIMEOUT_MS;
      while (sim.app.leaderId() === null || sim.app.leaderId() === nodeId) {
        if (sim.clock.now() > deadline) throw new Error(`no new primary ${ELECTION_TIMEOUT_MS} ms after ${nodeId} stepped down`);
        await sim.clock.sleep(1_000, ctx.signal);
      }
    },
    // A primary and a healthy majority of voting members (caught-up secondaries).
    clusterHealthy: () => {
      const voters = sim.app.status().members.filter((m) => m.voter);
      return sim.app.leaderId() !== null && voters.filter((m) => m.healthy).length > voters.length / 2;
    },
  }),
  faults: { kinds: ['kill-instance', 'partition', 'az-outage', 'bad-image', 'slow-attach', 'consistency-lag', 'second-controller'], maxFaults: 3 },
  profile: 'fast',
});
