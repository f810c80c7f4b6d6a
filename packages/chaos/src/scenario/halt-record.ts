import type { BerthRollHaltedError } from '@berth/core';
import type { HaltRecord } from '../invariants/evidence.js';

/** A halt as evidence: its fields, as the error gave them. */
export function haltRecord(session: string, atMs: number, err: BerthRollHaltedError): HaltRecord {
  return {
    session,
    atMs,
    nodeId: err.nodeId,
    nodeIds: [...err.nodeIds],
    phase: err.phase,
    hook: err.hook,
    lastError: err.lastError,
    rolledBack: [...err.rolledBack],
    untouched: [...err.untouched],
    message: err.message,
  };
}
