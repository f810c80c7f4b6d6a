import type { ChaosEvidence, InvariantResult, Violation } from './evidence.js';

/**
 * Invariant 8: a crash at any point followed by a restart never replaces an already-updated
 * node twice: no controller ever terminates an instance that already runs the revision its
 * spec wants.
 */
export function checkNoDoubleReplace(evidence: ChaosEvidence): InvariantResult {
  const revisionOf = new Map<string, string | null>();
  for (const e of evidence.trace) {
    if (e.kind === 'instance.launched' && e.instanceId) revisionOf.set(e.instanceId, (e['revision'] as string | null) ?? null);
  }
  const violations: Violation[] = [];
  for (const c of evidence.calls) {
    if (c.op !== 'replaceInstance' || !c.instanceId || !c.desiredRevision) continue;
    if (revisionOf.get(c.instanceId) === c.desiredRevision) {
      violations.push({ invariant: 'no-double-replace', atMs: c.startMs, nodeId: c.nodeId, message: `${c.session} replaced ${c.nodeId}'s instance ${c.instanceId}, which already runs ${c.desiredRevision}` });
    }
  }
  return { violations, notes: [] };
}
