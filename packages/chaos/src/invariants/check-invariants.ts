import { checkDataRetained } from './check-data-retained.js';
import { checkFailureContainment } from './check-failure-containment.js';
import { checkIamAllowed } from './check-iam-allowed.js';
import { checkLiveness } from './check-liveness.js';
import { checkNoDoubleReplace } from './check-no-double-replace.js';
import { checkOwnership } from './check-ownership.js';
import { checkQuorumSafety } from './check-quorum-safety.js';
import { checkSingleAttach } from './check-single-attach.js';
import { checkSingleController } from './check-single-controller.js';
import type { ChaosEvidence, InvariantChecker, InvariantId, InvariantNote, Violation } from './evidence.js';

/** Every checker, by invariant. */
export const INVARIANTS: Readonly<Record<InvariantId, InvariantChecker>> = Object.freeze({
  'quorum-safety': checkQuorumSafety,
  'single-attach': checkSingleAttach,
  ownership: checkOwnership,
  'data-retained': checkDataRetained,
  liveness: checkLiveness,
  'failure-containment': checkFailureContainment,
  'single-controller': checkSingleController,
  'no-double-replace': checkNoDoubleReplace,
  'iam-allowed': checkIamAllowed,
});

export interface InvariantReport {
  readonly violations: readonly Violation[];
  readonly notes: readonly InvariantNote[];
  /** Which invariants were checked. */
  readonly checked: readonly InvariantId[];
}

/**
 * Runs the given invariants (default: all) over the evidence. Pure.
 *
 * @example
 * ```ts
 * const { violations } = checkInvariants({ spec, trace: sim.trace, calls });
 * expect(violations).toEqual([]);
 * ```
 */
export function checkInvariants(evidence: ChaosEvidence, only?: readonly InvariantId[]): InvariantReport {
  const ids = only ?? (Object.keys(INVARIANTS) as InvariantId[]);
  const violations: Violation[] = [];
  const notes: InvariantNote[] = [];
  for (const id of ids) {
    const r = INVARIANTS[id](evidence);
    violations.push(...r.violations);
    notes.push(...r.notes);
  }
  return { violations, notes, checked: ids };
}
