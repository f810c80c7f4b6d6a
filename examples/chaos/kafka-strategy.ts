/**
 * Chaos for a Kafka KRaft roll: the production cluster input of examples/aws/kafka-kraft.ts,
 * with hooks that ask the (simulated) cluster what Kafka's own tools would answer, played
 * against random failure schedules.
 *
 *   berth-chaos run examples/chaos/kafka-strategy.ts --runs 1000 --seed 1
 *   pnpm chaos run examples/chaos/kafka-strategy.ts --runs 1000 --seed 1      (in this repository)
 *
 * The simulated account creates what the spec names (subnets, security group, instance
 * profile, hosted zone, image): see docs/chaos.md, "Your own strategy". On AWS the hooks shell
 * out to kafka-metadata-quorum.sh and kafka-topics.sh; here the same questions go to the
 * simulated quorum application (`sim.app`), which plays the KRaft quorum.
 */
import type { HookContext } from '@berth/core';
import { defineStrategy } from '@berth/chaos';
import { kafkaCluster } from '../aws/kafka-kraft.js';

export default defineStrategy({
  name: 'kafka-kraft',
  // The same spec as production: only the image differs (the roll goes to targetImage).
  cluster: kafkaCluster('ami-0123456789abcdef0'),
  targetImage: 'ami-0fedcba9876543210',
  // One broker at a time, the halt-on-failure default, the 45 min replacement timeout the AWS example uses.
  roll: { maxUnavailable: 1, replacementTimeoutMs: 45 * 60_000 },
  hooks: ({ sim }) => ({
    // kafka-metadata-quorum.sh describe --status: the active controller (LeaderId) goes last.
    isLeader: (nodeId: string) => sim.app.leaderId() === nodeId,
    // kafka-topics.sh --under-replicated-partitions is empty: a leader, every broker up,
    // reachable and in the ISR (caught up). Stricter than a bare majority, as Kafka's gate is.
    clusterHealthy: (_ctx: HookContext) => {
      const status = sim.app.status();
      return sim.app.clusterHealthy() && status.members.every((m) => m.healthy);
    },
  }),
  faults: {
    kinds: ['kill-instance', 'partition', 'az-outage', 'slow-boot', 'stuck-attach', 'api-throttle', 'controller-crash', 'spot-interruption'],
    maxFaults: 3,
    // Lost brokers are what a KRaft roll must survive: draw them twice as often.
    weights: { 'kill-instance': 2, partition: 2 },
  },
  profile: 'fast',
});
