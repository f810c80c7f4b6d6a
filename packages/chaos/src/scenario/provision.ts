import { createController, type ClusterSpec } from '@berth/core';
import type { Simulation } from '@berth/sim-driver';
import type { DriverCall } from '../recording/driver-call.js';
import { recordingDriver } from '../recording/recording-driver.js';
import { waitUntilProvisioned } from './provisioned-world.js';

/** How long provisioning may take (virtual time) before the roll starts anyway. */
export const PROVISION_DEADLINE_MS = 3_600_000;

/**
 * The world a scenario starts from: `spec0` applied by a setup controller (its calls recorded as
 * session `setup`), then waited on until the application is healthy and every node's instance
 * is InService. Runs inside `sim.run`. Returns the virtual time the roll starts at.
 *
 * @example
 * ```ts
 * const rollStartMs = await sim.run(() => provision(sim, spec0, calls));
 * ```
 */
export async function provision(sim: Simulation, spec0: ClusterSpec, calls: DriverCall[]): Promise<number> {
  const setup = createController({ spec: spec0, driver: recordingDriver(sim.driver, { holder: 'setup', clock: sim.clock, log: calls }), clock: sim.clock, holderId: 'setup', sessionId: 'setup' });
  await setup.apply();
  await waitUntilProvisioned(sim, spec0, PROVISION_DEADLINE_MS);
  return sim.clock.now();
}
