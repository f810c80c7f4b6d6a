import type { Fault } from '../faults/fault.js';

/** A crash of the first controller at an exact driver call. */
export interface CrashPoint {
  /** 0-based index of the driver call (of that controller) at which it dies. */
  readonly index: number;
  /** `before`: the call is never made; `after`: it is made, but the controller dies before it sees the result. */
  readonly when: 'before' | 'after';
  readonly restart: 'same-holder' | 'new-holder';
}

/** One chaos run: everything needed to replay it bit for bit. */
export interface Scenario {
  readonly seed: number;
  /** Odd, ≥ 3. */
  readonly nodes: number;
  readonly profile: 'fast' | 'realistic';
  readonly maxUnavailable: number;
  readonly faults: readonly Fault[];
  readonly crashPoint?: CrashPoint | null;
}
