import type { ChaosEvidence, InvariantResult, Violation } from './evidence.js';

const TOUCH = new Set(['ensureNode', 'replaceInstance', 'completeLifecycle', 'resizeVolume', 'deleteNode', 'snapshotVolume']);

/**
 * Invariant 6: after a failed replacement, no other node is touched. Once a controller session
 * has observed a failure on the desired revision (one its roll does not ignore), it must not
 * touch any other node.
 */
export function checkFailureContainment(evidence: ChaosEvidence): InvariantResult {
  const violations: Violation[] = [];
  const failedSeen = new Map<string, { nodeId: string; atMs: number }>();
  for (const c of evidence.calls) {
    const seen = failedSeen.get(c.session);
    if (seen && TOUCH.has(c.op) && c.nodeId && c.nodeId !== seen.nodeId) {
      violations.push({ invariant: 'failure-containment', atMs: c.startMs, nodeId: c.nodeId, message: `${c.session} called ${c.op}(${c.nodeId}) after it saw ${seen.nodeId} fail at +${seen.atMs}` });
    }
    if (!seen && c.op === 'observe' && c.ok && c.observed) {
      const f = c.observed.failures.find((x) => x.launchedAtMs >= c.ignoreFailuresBeforeMs);
      if (f) failedSeen.set(c.session, { nodeId: f.nodeId, atMs: c.endMs ?? c.startMs });
    }
  }
  return { violations, notes: [] };
}
