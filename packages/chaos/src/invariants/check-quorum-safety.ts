import { quorumOf } from '@berth/core';
import { DISRUPTIVE_OPS } from '../recording/driver-call.js';
import type { ChaosEvidence, InvariantNote, InvariantResult, Violation } from './evidence.js';

/**
 * Invariant 1: the controller never starts a disruption that could leave fewer than quorum
 * healthy members. At every disruptive call the ground truth is counted; when the target's
 * loss leaves fewer than quorum, the call is blamed on the controller only if its own latest
 * observation (less the nodes it disrupted since) already said so. Otherwise the dip came from
 * faults the controller could not see yet: it is recorded as a note.
 */
export function checkQuorumSafety(evidence: ChaosEvidence): InvariantResult {
  const { quorum } = quorumOf(evidence.spec.nodes.length);
  const violations: Violation[] = [];
  const notes: InvariantNote[] = [];
  const calls = evidence.calls;
  for (let i = 0; i < calls.length; i++) {
    const c = calls[i]!;
    if (!DISRUPTIVE_OPS.has(c.op) || !c.truth || !c.nodeId) continue;
    const after = c.truth.healthy.filter((n) => n !== c.nodeId);
    if (after.length >= quorum) continue;
    // The caller's latest view: its last completed observation, less what it disrupted since.
    let view: Set<string> | null = null;
    const disruptedSince = new Set<string>();
    for (let j = i - 1; j >= 0; j--) {
      const p = calls[j]!;
      if (p.session !== c.session) continue;
      if (p.op === 'observe' && p.observed && p.endMs !== null && p.endMs <= c.startMs) {
        view = new Set(p.observed.healthy);
        break;
      }
      if (DISRUPTIVE_OPS.has(p.op) && p.nodeId) disruptedSince.add(p.nodeId);
    }
    const known = view ? [...view].filter((n) => !disruptedSince.has(n) && n !== c.nodeId) : [];
    const what = `${c.op}(${c.nodeId}) by ${c.session} at +${c.startMs}: ${after.length} healthy left (${after.join(', ') || 'none'}), quorum ${quorum}`;
    if (!view || known.length < quorum) {
      violations.push({
        invariant: 'quorum-safety',
        atMs: c.startMs,
        nodeId: c.nodeId,
        message: `${what}; the controller's own view ${view ? `left ${known.length} (${known.join(', ') || 'none'})` : 'was missing (no observation)'}`,
      });
    } else {
      notes.push({ invariant: 'quorum-safety', atMs: c.startMs, message: `${what}; a fault took ${[...view].filter((n) => !after.includes(n) && n !== c.nodeId).join(', ')} after the controller last looked (not blamed)` });
    }
  }
  return { violations, notes };
}
