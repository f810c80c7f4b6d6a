export type SimulationErrorCode = 'SIM_DEADLOCK' | 'SIM_TIME_LIMIT' | 'SIM_REENTRANT';

/**
 * The simulation itself could not go on: the code under `sim.run` waits for something no
 * scheduled event will ever bring (deadlock), or virtual time passed `maxVirtualMs`.
 * Defined here rather than in core because only the simulator raises it.
 */
export class SimulationError extends Error {
  readonly code: SimulationErrorCode;
  readonly atMs: number;
  constructor(code: SimulationErrorCode, atMs: number, message: string) {
    super(message);
    this.code = code;
    this.atMs = atMs;
    this.name = 'SimulationError';
  }
}
