import type { ChaosEvidence, InvariantResult, Violation } from './evidence.js';

/**
 * Invariant 9: every call Berth makes — the controller's and each node's bootstrap — is allowed
 * by the IAM policies Berth generates (`iamPolicyFor(spec)`, attached to the controller's role
 * and to the nodes' instance profile role). One violation per role and action, naming the first
 * resource denied and how often.
 */
export function checkIamAllowed(evidence: ChaosEvidence): InvariantResult {
  const seen = new Map<string, { first: NonNullable<ChaosEvidence['iamDenials']>[number]; count: number }>();
  for (const d of evidence.iamDenials ?? []) {
    const key = `${d.principalArn} ${d.action}`;
    const s = seen.get(key);
    if (s) s.count++;
    else seen.set(key, { first: d, count: 1 });
  }
  const violations: Violation[] = [...seen.values()].map(({ first: d, count }) => ({
    invariant: 'iam-allowed',
    atMs: d.atMs,
    nodeId: null,
    message: `IAM denied ${d.action} on ${d.resource} to ${d.principalArn}${d.explicit ? ' (explicit deny)' : ''}${count > 1 ? ` (${count} requests)` : ''}`,
  }));
  return { violations, notes: [] };
}
