import { describeDriverConformance } from '@berth/core/testing';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput } from '../src/index.js';

let seed = 0;

// The core conformance suite over `sim.driver`, the production AWS driver on the simulated
// account, IAM evaluated on every call (the default). The suite calls the driver directly,
// without core's RuntimeDriver (which would retry throttling), and the AWS driver does not
// retry inside a call: the simulated API limits are raised so direct calls are not throttled;
// the rate limits themselves are covered by route53-and-limits.test.ts.
const relaxed = { capacity: 10_000, refillPerSec: 1_000 };

describeDriverConformance(
  {
    name: 'AWS driver on the simulator (fast profile)',
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
        // The generated policies cover everything the suite makes the driver and the bootstraps do.
        async teardown() {
          const denied = sim.account.iamDenials();
          if (denied.length > 0) throw new Error(`IAM denied ${denied.map((d) => `${d.action} on ${d.resource} to ${d.principalArn}`).join('; ')}`);
        },
      };
    },
  },
  { describe, it, expect },
);
