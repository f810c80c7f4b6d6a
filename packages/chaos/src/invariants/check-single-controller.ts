import { MUTATING_OPS } from '../recording/driver-call.js';
import type { ChaosEvidence, InvariantResult, Violation } from './evidence.js';

interface LeaseState {
  readonly holder: string;
  readonly expiresAtMs: number;
}

/**
 * Invariant 7: never two controllers mutating one cluster at once. Every mutating call must
 * start while its holder holds an unexpired lease (from the lock's trace), and no two holders'
 * mutating calls may overlap in time.
 */
export function checkSingleController(evidence: ChaosEvidence): InvariantResult {
  const violations: Violation[] = [];
  const leaseEvents = evidence.trace.filter((e) => e.kind === 'lock.acquired' || e.kind === 'lock.renewed' || e.kind === 'lock.released');
  const leaseAt = (t: number): LeaseState | null => {
    let cur: LeaseState | null = null;
    for (const e of leaseEvents) {
      if (e.atMs > t) break;
      cur = e.kind === 'lock.released' ? { holder: String(e['holder']), expiresAtMs: e.atMs } : { holder: String(e['holder']), expiresAtMs: Number(e['expiresAtMs']) };
    }
    return cur;
  };
  const mutating = evidence.calls.filter((c) => MUTATING_OPS.has(c.op));
  for (const c of mutating) {
    const lease = leaseAt(c.startMs);
    if (!lease || lease.holder !== c.holder || lease.expiresAtMs <= c.startMs) {
      violations.push({
        invariant: 'single-controller',
        atMs: c.startMs,
        nodeId: c.nodeId,
        message: `${c.holder} called ${c.op}${c.nodeId ? `(${c.nodeId})` : ''} at +${c.startMs} without the lease (${lease ? `held by ${lease.holder} until +${lease.expiresAtMs}` : 'nobody holds it'})`,
      });
    }
  }
  for (let i = 0; i < mutating.length; i++) {
    const a = mutating[i]!;
    const aEnd = a.endMs ?? Infinity;
    for (let j = i + 1; j < mutating.length; j++) {
      const b = mutating[j]!;
      if (b.startMs >= aEnd) continue;
      if (b.holder !== a.holder) {
        violations.push({ invariant: 'single-controller', atMs: b.startMs, nodeId: b.nodeId, message: `${a.holder} (${a.op}) and ${b.holder} (${b.op}) mutated the cluster at the same time (+${b.startMs})` });
      }
    }
  }
  return { violations, notes: [] };
}
