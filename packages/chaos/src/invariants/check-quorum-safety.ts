import { DEFAULT_FRESHNESS_MS, quorumOf } from '@berth/core';
import { DISRUPTIVE_OPS, type DriverCall } from '../recording/driver-call.js';
import { timeIn, type ChaosEvidence, type InvariantNote, type InvariantResult, type Violation } from './evidence.js';

/** An observation that shows instances (a `groups` probe does not say who is healthy). */
const isLook = (c: DriverCall) => c.op === 'observe' && c.ok === true && c.observed !== null && c.endMs !== null && c.detail !== 'groups';

/**
 * Invariant 1: the controller never starts a disruption that could leave fewer than quorum
 * healthy members. At every disruptive call the ground truth is counted; when the target's loss
 * leaves fewer than quorum, the call is the controller's fault when
 * - it had no look at the cluster, or
 * - its latest look (its session's last completed observation) ended longer before the call than
 *   the controller's stated freshness bound (`freshnessBoundMs`, default `DEFAULT_FRESHNESS_MS`):
 *   a decision on a stale view is blamed whatever happened in the world meanwhile, or
 * - that look, less the nodes it disrupted since, already left fewer than quorum.
 * Only a dip on a fresh look, caused by a fault after that look, is a note.
 */
export function checkQuorumSafety(evidence: ChaosEvidence): InvariantResult {
  const violations: Violation[] = [];
  const notes: InvariantNote[] = [];
  for (let i = 0; i < evidence.calls.length; i++) {
    const r = quorumSafetyAt(evidence, i);
    if (r?.violation) violations.push(r.violation);
    else if (r?.note) notes.push(r.note);
  }
  return { violations, notes };
}

/**
 * Invariant 1 for one driver call (`evidence.calls[i]`): a violation, a note, or null. Looks only
 * at earlier calls, so the scenario runner checks each new call once as it is made.
 *
 * @example
 * ```ts
 * const r = quorumSafetyAt({ spec, trace: sim.trace, calls }, calls.length - 1);
 * if (r?.violation) console.log(r.violation.message);
 * ```
 */
export function quorumSafetyAt(evidence: ChaosEvidence, i: number): { readonly violation?: Violation; readonly note?: InvariantNote } | null {
  const calls = evidence.calls;
  const c = calls[i]!;
  if (!DISRUPTIVE_OPS.has(c.op) || !c.truth || !c.nodeId) return null;
  const { quorum } = quorumOf(evidence.spec.nodes.length);
  const after = c.truth.healthy.filter((n) => n !== c.nodeId);
  if (after.length >= quorum) return null;
  const boundMs = evidence.freshnessBoundMs ?? DEFAULT_FRESHNESS_MS;
  const t = timeIn(evidence);
  // The caller's latest look: its last completed observation, less what it disrupted since.
  let look: DriverCall | null = null;
  const disruptedSince = new Set<string>();
  for (let j = i - 1; j >= 0; j--) {
    const p = calls[j]!;
    if (p.session !== c.session) continue;
    if (isLook(p) && (p.endMs as number) <= c.startMs) {
      look = p;
      break;
    }
    if (DISRUPTIVE_OPS.has(p.op) && p.nodeId) disruptedSince.add(p.nodeId);
  }
  const view = new Set(look?.observed?.healthy ?? []);
  const known = [...view].filter((n) => !disruptedSince.has(n) && n !== c.nodeId);
  const what = `${c.op}(${c.nodeId}) by ${c.session} at ${t(c.startMs)}: ${after.length} healthy left (${after.join(', ') || 'none'}), quorum ${quorum}`;
  const blame = (why: string) => ({ violation: { invariant: 'quorum-safety' as const, atMs: c.startMs, nodeId: c.nodeId, message: `${what}; ${why}` } });
  if (!look) return blame("the controller's own view was missing (no observation)");
  const ageMs = c.startMs - (look.endMs as number);
  if (ageMs > boundMs) return blame(`decided on a view ${ageMs} ms old, bound ${boundMs} ms (its last look ended at ${t(look.endMs as number)}${waitedIn(evidence, c, look)})`);
  if (known.length < quorum) return blame(`the controller's own view left ${known.length} (${known.join(', ') || 'none'})`);
  const lost = [...view].filter((n) => !after.includes(n) && n !== c.nodeId);
  return { note: { invariant: 'quorum-safety', atMs: c.startMs, message: `${what}; a fault took ${lost.join(', ') || 'a member'} after the controller's look ${ageMs} ms before (within the ${boundMs} ms bound; not blamed)` } };
}

/** Where the session spent the time between its look and the call (the hooks it waited in), when known. */
function waitedIn(evidence: ChaosEvidence, c: DriverCall, look: DriverCall): string {
  const hooks = (evidence.hookCalls ?? []).filter((h) => h.session === c.session && h.startMs >= (look.endMs as number) && h.startMs <= c.startMs);
  if (hooks.length === 0) return '';
  const t = timeIn(evidence);
  // One entry per hook and node, in order of first call: `clusterHealthy ×13 +a…+b`.
  const spans = new Map<string, { count: number; fromMs: number; toMs: number | null }>();
  for (const h of hooks) {
    const key = `${h.hook}${h.nodeId ? `(${h.nodeId})` : ''}`;
    const s = spans.get(key);
    if (s) {
      s.count++;
      s.toMs = h.endMs;
    } else spans.set(key, { count: 1, fromMs: h.startMs, toMs: h.endMs });
  }
  return `; it waited in ${[...spans].map(([key, s]) => `${key}${s.count > 1 ? ` ×${s.count}` : ''} ${t(s.fromMs)}…${s.toMs === null ? 'still running' : t(s.toMs)}`).join(', ')}`;
}
