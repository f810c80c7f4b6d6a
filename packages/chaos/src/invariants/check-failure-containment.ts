import { DISRUPTIVE_OPS, type DriverCall } from '../recording/driver-call.js';
import { timeIn, type ChaosEvidence, type InvariantResult, type Violation } from './evidence.js';

/**
 * Calls that touch a node. `restoreLaunchTemplate` is left out: sending a group back to its last
 * good revision after a failure is containment, not spreading.
 */
const TOUCH = new Set(['ensureNode', 'replaceInstance', 'completeLifecycle', 'modifyVolume', 'deleteNode', 'snapshotVolume']);

interface SeenFailure {
  readonly nodeId: string;
  readonly atMs: number;
  readonly what: string;
}

/**
 * Invariant 6: after a failed replacement, no other node is touched. A session has seen a failure
 * once one of its observations shows
 * - an instance on the desired revision that reported `failed` (one its roll does not ignore:
 *   launched after `ignoreFailuresBeforeMs`), on any node, or
 * - a node it replaced itself still not healthy on the desired revision longer than the
 *   replacement timeout after it started the replacement (`replacementTimeoutMs`, when given):
 *   a bootstrap that never runs (a bad image failing in `launching`) reports no failure, it
 *   times out;
 * from then on it must not touch any other node (rolling the failed group back is allowed).
 */
export function checkFailureContainment(evidence: ChaosEvidence): InvariantResult {
  const violations: Violation[] = [];
  const timeoutMs = evidence.replacementTimeoutMs;
  const t = timeIn(evidence);
  const failedSeen = new Map<string, SeenFailure>();
  /** Per session: node → when it started replacing it (until it sees the node updated). */
  const replacing = new Map<string, Map<string, number>>();
  for (const c of evidence.calls) {
    const seen = failedSeen.get(c.session);
    if (seen && TOUCH.has(c.op) && c.nodeId && c.nodeId !== seen.nodeId) {
      violations.push({ invariant: 'failure-containment', atMs: c.startMs, nodeId: c.nodeId, message: `${c.session} called ${c.op}(${c.nodeId}) after it saw ${seen.what} at ${t(seen.atMs)}` });
    }
    if (DISRUPTIVE_OPS.has(c.op) && c.nodeId && c.ok !== false) {
      const mine = replacing.get(c.session) ?? new Map<string, number>();
      replacing.set(c.session, mine);
      mine.set(c.nodeId, c.startMs);
    }
    if (!seen && c.op === 'observe' && c.ok && c.observed && c.detail !== 'groups') {
      const f = failureIn(c, replacing.get(c.session), timeoutMs);
      if (f) failedSeen.set(c.session, f);
    }
  }
  return { violations, notes: [] };
}

function failureIn(c: DriverCall, replacing: Map<string, number> | undefined, timeoutMs: number | undefined): SeenFailure | null {
  const observed = c.observed!;
  const atMs = c.endMs ?? c.startMs;
  const f = observed.failures.find((x) => x.launchedAtMs >= c.ignoreFailuresBeforeMs);
  if (f) return { nodeId: f.nodeId, atMs, what: `${f.nodeId} fail (instance ${f.instanceId})` };
  if (!replacing || timeoutMs === undefined) return null;
  for (const n of observed.updated) replacing.delete(n);
  for (const [nodeId, since] of replacing) {
    if (atMs - since > timeoutMs) return { nodeId, atMs, what: `${nodeId} not back ${atMs - since} ms after its replacement started (timeout ${timeoutMs} ms)` };
  }
  return null;
}
