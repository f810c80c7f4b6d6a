import type { ChaosEvidence, InvariantResult, Violation } from './evidence.js';

/**
 * Invariant 5: once faults heal, the roll converges (every node on the target revision and
 * InService) within the stated bound, or halts with a reason that names a node.
 */
export function checkLiveness(evidence: ChaosEvidence): InvariantResult {
  const l = evidence.liveness;
  if (!l) return { violations: [], notes: [] };
  const v = (message: string): Violation => ({ invariant: 'liveness', atMs: l.durationMs, nodeId: l.pending[0]?.nodeId ?? null, message });
  const pending = l.pending.map((p) => `${p.nodeId}: ${p.reason}`).join('; ');
  const nodeIds = evidence.spec.nodes.map((n) => n.id);
  switch (l.outcome) {
    case 'completed':
      return { violations: l.pending.length > 0 ? [v(`the roll reported completed but has not converged: ${pending}`)] : [], notes: [] };
    case 'halted': {
      const named = l.haltNodeId ?? nodeIds.find((id) => l.message?.includes(id)) ?? null;
      return { violations: named ? [] : [v(`the roll halted without naming a node: ${l.message ?? 'no reason'}`)], notes: named ? [{ invariant: 'liveness', atMs: l.durationMs, message: `halted naming ${named}: ${l.message ?? ''}` }] : [] };
    }
    case 'timeout':
      return { violations: [v(`the roll neither converged nor halted within ${l.boundMs} ms after the faults healed; pending: ${pending || 'nothing'}`)], notes: [] };
    case 'error':
      return { violations: [v(`the roll failed without naming a node after the faults healed: ${l.message ?? 'unknown error'}; pending: ${pending || 'nothing'}`)], notes: [] };
  }
}
