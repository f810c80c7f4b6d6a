import type { TraceEntry } from '@berth/sim-driver';
import type { ChaosEvidence, InvariantResult, Violation } from './evidence.js';
import { rootVolumes } from './root-volumes.js';

/**
 * Invariant 2: no volume is ever attached, attaching or detaching on two instances at once.
 * An instance's root volume belongs to the instance whose launch created it: its attachment is
 * not a second attachment of a node's volume, but any attachment to another instance is flagged.
 */
export function checkSingleAttach(evidence: ChaosEvidence): InvariantResult {
  const tracker = singleAttachTracker(rootVolumes(evidence.trace));
  const violations: Violation[] = [];
  for (const e of evidence.trace) {
    const v = tracker.feed(e);
    if (v) violations.push(v);
  }
  return { violations, notes: [] };
}

/**
 * Invariant 2 one trace entry at a time: who holds each volume now. `checkSingleAttach` feeds it
 * the whole trace; the scenario runner feeds it each entry as it is recorded (constant work per
 * entry). Without `roots`, it learns the root volumes from the trace as it goes (EC2 creates a
 * root volume at launch, before any attachment of it).
 *
 * @example
 * ```ts
 * const tracker = singleAttachTracker();
 * sim.onTrace((e) => { const v = tracker.feed(e); if (v) console.log(v.message); });
 * ```
 */
export function singleAttachTracker(roots?: ReadonlyMap<string, string>): { feed(e: TraceEntry): Violation | null } {
  const holders = new Map<string, Set<string>>();
  const learnt = roots ? null : new Map<string, string>();
  return {
    feed(e) {
      if (learnt && e.kind === 'volume.created' && typeof e['launchedWith'] === 'string') learnt.set(String(e['volumeId']), e['launchedWith']);
      if (e.kind !== 'volume.attachment') return null;
      const volumeId = String(e['volumeId']);
      const instanceId = String(e.instanceId);
      const launchedWith = (roots ?? learnt)!.get(volumeId);
      if (launchedWith !== undefined) {
        if (instanceId !== launchedWith) return { invariant: 'single-attach', atMs: e.atMs, nodeId: e.nodeId ?? null, message: `root volume ${volumeId} of ${launchedWith} is ${String(e['state'])} on ${instanceId}` };
        return null;
      }
      const set = holders.get(volumeId) ?? new Set<string>();
      holders.set(volumeId, set);
      if (e['state'] === 'detached') {
        set.delete(instanceId);
        return null;
      }
      set.add(instanceId);
      if (set.size > 1) return { invariant: 'single-attach', atMs: e.atMs, nodeId: e.nodeId ?? null, message: `volume ${volumeId} is ${String(e['state'])} on ${[...set].join(' and ')} at once` };
      return null;
    },
  };
}
