import type { TraceEntry } from '@berth/sim-driver';

/**
 * Root volumes by id, with the instance whose launch created them. EC2 creates an instance's
 * root volume at launch (the trace's `volume.created` carries `launchedWith`) and deletes it at
 * termination: it holds no node data, so the data-volume invariants leave it out.
 */
export function rootVolumes(trace: readonly TraceEntry[]): ReadonlyMap<string, string> {
  const roots = new Map<string, string>();
  for (const e of trace) {
    if (e.kind === 'volume.created' && typeof e['launchedWith'] === 'string') roots.set(String(e['volumeId']), e['launchedWith']);
  }
  return roots;
}
