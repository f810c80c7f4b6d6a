import { DISRUPTIVE_OPS } from '../recording/driver-call.js';
import { timeIn, type ChaosEvidence, type HaltRecord, type InvariantNote, type InvariantResult, type Violation } from './evidence.js';

/**
 * Invariant 5: once faults heal, the roll converges (every node on the target revision and
 * InService) within the stated bound, or halts naming a node — in the halt's fields (`nodeId`,
 * `nodeIds`), not only in its message. And every halt tells the truth about what it did: a node it
 * calls `untouched` was not disrupted by its session, a node it says it `rolledBack` had its group
 * restored by its session.
 */
export function checkLiveness(evidence: ChaosEvidence): InvariantResult {
  const violations: Violation[] = [];
  const notes: InvariantNote[] = [];
  for (const h of evidence.halts ?? []) violations.push(...haltClaims(evidence, h));
  const l = evidence.liveness;
  if (!l) return { violations, notes };
  const v = (message: string): Violation => ({ invariant: 'liveness', atMs: l.durationMs, nodeId: l.pending[0]?.nodeId ?? null, message });
  const pending = l.pending.map((p) => `${p.nodeId}: ${p.reason}`).join('; ');
  switch (l.outcome) {
    case 'completed':
      if (l.pending.length > 0) violations.push(v(`the roll reported completed but has not converged: ${pending}`));
      break;
    case 'halted': {
      const named = l.haltNodeId ?? l.halt?.nodeId ?? l.halt?.nodeIds[0] ?? null;
      if (named) notes.push({ invariant: 'liveness', atMs: l.durationMs, message: `halted naming ${named}${describeHalt(l.halt)}: ${l.message ?? ''}` });
      else violations.push(v(`the roll halted without naming a node in its fields (nodeId, nodeIds)${describeHalt(l.halt)}: ${l.message ?? 'no reason'}`));
      break;
    }
    case 'timeout':
      violations.push(v(`the roll neither converged nor halted within ${l.boundMs} ms after the faults healed; pending: ${pending || 'nothing'}`));
      break;
    case 'error':
      violations.push(v(`the roll failed without naming a node after the faults healed: ${l.message ?? 'unknown error'}; pending: ${pending || 'nothing'}`));
      break;
  }
  return { violations, notes };
}

function describeHalt(h: HaltRecord | null | undefined): string {
  if (!h) return '';
  const parts = [h.phase && `phase ${h.phase}`, h.hook && `hook ${h.hook}`, h.lastError && `last error ${h.lastError}`].filter(Boolean);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/** What a halt says it did, against the calls its session made. */
function haltClaims(evidence: ChaosEvidence, h: HaltRecord): Violation[] {
  const out: Violation[] = [];
  const mine = evidence.calls.filter((c) => c.session === h.session && c.startMs <= h.atMs);
  for (const nodeId of h.untouched) {
    const hit = mine.find((c) => DISRUPTIVE_OPS.has(c.op) && c.nodeId === nodeId && c.ok !== false);
    if (hit) out.push({ invariant: 'liveness', atMs: h.atMs, nodeId, message: `${h.session}'s halt says ${nodeId} was untouched, but it called ${hit.op}(${nodeId}) at ${timeIn(evidence)(hit.startMs)}` });
  }
  for (const nodeId of h.rolledBack) {
    if (!mine.some((c) => c.op === 'restoreLaunchTemplate' && c.nodeId === nodeId && c.ok === true)) {
      out.push({ invariant: 'liveness', atMs: h.atMs, nodeId, message: `${h.session}'s halt says ${nodeId} was rolled back, but it restored no launch template of ${nodeId}` });
    }
  }
  return out;
}
