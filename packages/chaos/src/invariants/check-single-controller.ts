import type { TraceEntry } from '@berth/sim-driver';
import { MUTATING_OPS, type DriverCall, type HeldLease } from '../recording/driver-call.js';
import { timeIn, type ChaosEvidence, type InvariantResult, type Violation } from './evidence.js';

interface LeaseState {
  readonly holder: string;
  /** Null when the lock's trace does not name sessions. */
  readonly session: string | null;
  readonly token: number;
  readonly expiresAtMs: number;
}

const LEASE_EVENTS = new Set(['lock.acquired', 'lock.renewed', 'lock.released']);

function leaseOf(e: TraceEntry): LeaseState {
  const session = typeof e['session'] === 'string' && e['session'] !== '' ? e['session'] : null;
  return { holder: String(e['holder']), session, token: Number(e['token'] ?? 0), expiresAtMs: e.kind === 'lock.released' ? e.atMs : Number(e['expiresAtMs']) };
}

/**
 * The call was made under the lease the lock's trace shows: the same session (two controllers
 * with one holder id are two owners). A trace without sessions is compared by holder and fencing
 * token, which tells two acquisitions apart just as well.
 */
function sameOwner(lease: LeaseState, mine: HeldLease): boolean {
  if (lease.session !== null) return lease.session === mine.session;
  return lease.holder === mine.holder && lease.token === mine.token;
}

const who = (l: LeaseState) => `${l.holder}${l.session !== null ? ` (session ${l.session})` : ''}, token ${l.token}`;

/**
 * Invariant 7: never two controllers mutating one cluster at once. Every mutating call must start
 * while the lease its session holds (as the lock answered it: `DriverCall.lease`) is the lease the
 * lock's trace shows, unexpired; and no two sessions' mutating calls may overlap in time. Sessions,
 * not holder ids, are owners: a second controller started with the same holder id is a second
 * owner. Calls recorded without lease information fall back to comparing holder ids.
 */
export function checkSingleController(evidence: ChaosEvidence): InvariantResult {
  const violations: Violation[] = [];
  const leaseEvents = evidence.trace.filter((e) => LEASE_EVENTS.has(e.kind));
  const leaseAt = (t: number): LeaseState | null => {
    let cur: LeaseState | null = null;
    for (const e of leaseEvents) {
      if (e.atMs > t) break;
      cur = leaseOf(e);
    }
    return cur;
  };
  const t = timeIn(evidence);
  const mutating = evidence.calls.filter((c) => MUTATING_OPS.has(c.op));
  for (const c of mutating) {
    const lease = leaseAt(c.startMs);
    const problem = leaseProblem(c, lease, t);
    if (problem) {
      violations.push({
        invariant: 'single-controller',
        atMs: c.startMs,
        nodeId: c.nodeId,
        message: `${c.session} (holder ${c.holder}) called ${c.op}${c.nodeId ? `(${c.nodeId})` : ''} at ${t(c.startMs)} ${problem}`,
      });
    }
  }
  for (let i = 0; i < mutating.length; i++) {
    const a = mutating[i]!;
    const aEnd = a.endMs ?? Infinity;
    for (let j = i + 1; j < mutating.length; j++) {
      const b = mutating[j]!;
      if (b.startMs >= aEnd) continue;
      if (b.session !== a.session) {
        const sameHolder = a.holder === b.holder ? ` (one holder id, ${a.holder}, two sessions)` : '';
        violations.push({ invariant: 'single-controller', atMs: b.startMs, nodeId: b.nodeId, message: `${a.session} (${a.op}) and ${b.session} (${b.op}) mutated the cluster at the same time (${t(b.startMs)})${sameHolder}` });
      }
    }
  }
  return { violations, notes: [] };
}

function leaseProblem(c: DriverCall, lease: LeaseState | null, t: (atMs: number) => string): string | null {
  const now = lease ? `the lease is ${who(lease)}, until ${t(lease.expiresAtMs)}` : 'nobody holds the lease';
  if (c.lease === undefined) {
    // Evidence recorded without leases: holder ids are all there is to compare.
    if (!lease || lease.holder !== c.holder || lease.expiresAtMs <= c.startMs) return `without the lease (${now})`;
    return null;
  }
  if (c.lease === null) return `holding no lease of its own (${now})`;
  if (!lease || lease.expiresAtMs <= c.startMs) return `under an expired lease (its own: session ${c.lease.session}, token ${c.lease.token}; ${now})`;
  if (!sameOwner(lease, c.lease)) return `under session ${c.lease.session} (token ${c.lease.token}), but ${now}`;
  return null;
}
