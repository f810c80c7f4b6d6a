import type { InstanceDisruption } from '@berth/core';

/** Where a notice came from: an EventBridge event (kept until the instance is gone), or the instance's status (replaced at every look). */
export type NoticeSource = 'event' | 'instance-status';

interface Notice {
  readonly clusterName: string;
  readonly nodeId: string;
  readonly disruption: InstanceDisruption;
  readonly source: NoticeSource;
}

/** How many instance ids, ours or not, the driver remembers the owner of. */
const OWNERS_MAX = 10_000;

/**
 * What the driver knows of disruptions AWS announced for its instances, by instance id: spot
 * interruption warnings that came through the change queue, and scheduled events a full
 * observation found. `observe()` reports them on the instances (`InstanceObservation.disruption`).
 * Also remembers which instances are which cluster's nodes (learnt from observations and
 * launch events), because the warnings cannot be filtered by cluster: an instance known to be
 * nobody's is not looked up again. Held in memory by one driver: a new driver (a restarted
 * controller) knows only what reaches it from then on, plus what a full observation finds.
 */
export class DisruptionNotices {
  readonly #notices = new Map<string, Notice>();
  /** `<cluster>/<instance id>` → the node it is, or null when it is none of that cluster's. */
  readonly #owners = new Map<string, string | null>();

  /** The instance is this cluster's node `nodeId` (null: it is none of the cluster's nodes). */
  learn(clusterName: string, instanceId: string, nodeId: string | null): void {
    const key = `${clusterName}/${instanceId}`;
    this.#owners.delete(key);
    this.#owners.set(key, nodeId);
    if (this.#owners.size > OWNERS_MAX) this.#owners.delete(this.#owners.keys().next().value as string);
  }

  /** The cluster's node the instance is: undefined when never looked at, null when known to be none. */
  ownerOf(clusterName: string, instanceId: string): string | null | undefined {
    return this.#owners.get(`${clusterName}/${instanceId}`);
  }

  /** Records a notice; an event's is kept over a later status look's (the event says more precisely when). */
  record(instanceId: string, notice: Notice): void {
    const cur = this.#notices.get(instanceId);
    if (cur && cur.source === 'event' && notice.source !== 'event') return;
    this.#notices.set(instanceId, notice);
  }

  /** The disruption announced for the instance, if any. */
  disruptionOf(instanceId: string): InstanceDisruption | null {
    return this.#notices.get(instanceId)?.disruption ?? null;
  }

  /**
   * After a full look at the cluster's scheduled events: its status notices are exactly those
   * in `current` (an event canceled or completed since drops out).
   */
  replaceStatusNotices(clusterName: string, current: ReadonlyMap<string, { readonly nodeId: string; readonly disruption: InstanceDisruption }>): void {
    for (const [id, n] of this.#notices) if (n.clusterName === clusterName && n.source === 'instance-status' && !current.has(id)) this.#notices.delete(id);
    for (const [id, n] of current) this.record(id, { clusterName, nodeId: n.nodeId, disruption: n.disruption, source: 'instance-status' });
  }

  /** Forgets the notices of this cluster's instances that are gone (terminated, or no longer reported). */
  forgetGone(clusterName: string, live: ReadonlySet<string>): void {
    for (const [id, n] of this.#notices) if (n.clusterName === clusterName && !live.has(id)) this.#notices.delete(id);
  }
}
