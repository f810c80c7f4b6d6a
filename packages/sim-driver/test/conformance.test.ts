import { describeDriverConformance } from '@berth/core/testing';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput } from '../src/index.js';

let seed = 0;

// The conformance suite calls the driver directly, without core's RuntimeDriver (which would
// retry throttling). The simulated API limits are raised so direct calls are not throttled;
// the rate limits themselves are covered by route53-and-limits.test.ts.
const relaxed = { capacity: 10_000, refillPerSec: 1_000 };

describeDriverConformance(
  {
    name: 'simulator (fast profile)',
    timeoutMs: 60_000,
    async setup() {
      const sim = createSimulation({
        seed: ++seed,
        profile: 'fast',
        limits: { ec2Describe: relaxed, ec2Mutate: relaxed, autoscaling: relaxed, route53: relaxed },
      });
      return {
        driver: sim.driver,
        clock: sim.clock,
        clusterInput: (nodes: number) => simulatedClusterInput({ nodes, allowUnsafeSize: nodes % 2 === 0 || nodes < 3 }),
        run: (fn) => sim.run(fn),
        otherImage: 'ami-0fedcba9876543210',
      };
    },
  },
  { describe, it, expect },
);
