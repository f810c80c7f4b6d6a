import { describeDriverConformance } from '@berth/core/testing';
import { describe, expect, it } from 'vitest';
import { createSystemClock } from '../src/index.js';
import { clusterInput, freshMotoWorld } from './support/aws-fixture.js';
import { sharedMoto } from './support/moto-server.js';

// The core conformance suite against moto. moto's capabilities (MOTO_CAPABILITIES: no phase
// reporting, no lifecycle hooks, no attachment rules) decide what the suite skips; nothing
// here depends on the driver's name. What moto cannot check is listed in roll.test.ts and
// docs/aws-driver.md.
describeDriverConformance(
  {
    name: 'aws-driver on moto',
    timeoutMs: 60_000,
    async setup() {
      // lockTable: made once per account, as the docs ask of users.
      const { world, driver } = await freshMotoWorld(sharedMoto(), { lockTable: true });
      return {
        driver,
        clock: createSystemClock(),
        clusterInput: (nodes: number) => clusterInput(world, nodes),
        run: (fn) => fn(),
        otherImage: world.otherImage,
        pollIntervalMs: 50,
        async teardown() {
          driver.destroy();
          world.ec2.destroy();
        },
      };
    },
  },
  { describe, it, expect },
);
