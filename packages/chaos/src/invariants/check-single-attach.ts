import type { ChaosEvidence, InvariantResult, Violation } from './evidence.js';
import { rootVolumes } from './root-volumes.js';

/**
 * Invariant 2: no volume is ever attached, attaching or detaching on two instances at once.
 * An instance's root volume belongs to the instance whose launch created it: its attachment is
 * not a second attachment of a node's volume, but any attachment to another instance is flagged.
 */
export function checkSingleAttach(evidence: ChaosEvidence): InvariantResult {
  const holders = new Map<string, Set<string>>();
  const roots = rootVolumes(evidence.trace);
  const violations: Violation[] = [];
  for (const e of evidence.trace) {
    if (e.kind !== 'volume.attachment') continue;
    const volumeId = String(e['volumeId']);
    const instanceId = String(e.instanceId);
    const launchedWith = roots.get(volumeId);
    if (launchedWith !== undefined) {
      if (instanceId !== launchedWith) violations.push({ invariant: 'single-attach', atMs: e.atMs, nodeId: e.nodeId ?? null, message: `root volume ${volumeId} of ${launchedWith} is ${String(e['state'])} on ${instanceId}` });
      continue;
    }
    const set = holders.get(volumeId) ?? new Set<string>();
    holders.set(volumeId, set);
    if (e['state'] === 'detached') {
      set.delete(instanceId);
      continue;
    }
    set.add(instanceId);
    if (set.size > 1) {
      violations.push({ invariant: 'single-attach', atMs: e.atMs, nodeId: e.nodeId ?? null, message: `volume ${volumeId} is ${String(e['state'])} on ${[...set].join(' and ')} at once` });
    }
  }
  return { violations, notes: [] };
}
