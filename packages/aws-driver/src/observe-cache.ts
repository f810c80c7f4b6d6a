import type { AutoScalingClient, AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import type { ClientLike } from './aws-driver-options.js';

/**
 * How long a group the driver described stays good enough for a cheap look at a node that is
 * not in flight (clock ms): past it, the next look describes every group of the cluster again.
 * Bounds how late a cheap look sees a change to a settled node's group that this driver did not
 * make (another process, the console). docs/aws-driver.md "What a cheap look knows".
 */
export const GROUP_REFRESH_MS = 5 * 60_000;

/** One cluster's groups as last described, and when every group was last described. */
export interface ClusterGroups {
  /** By group name: the group as the last describe that named it returned it. */
  readonly groups: Map<string, AutoScalingGroup>;
  /** Clock ms of the last describe of every group of the cluster (by tag); null: never. */
  describedAllAtMs: number | null;
  /** Groups whose node was in flight at the last look (the `groups` probe describes these). */
  inFlight: Set<string>;
  /** By group name: clock ms of the describe that last returned it (a look re-describes the oldest). */
  readonly describedAt: Map<string, number>;
  /** How many instances (terminated ones included) the cluster's last look returned; 0 before the first. */
  instancesSeen: number;
}

/**
 * What the AWS driver remembers between observations (observe.ts): each cluster's groups as last
 * described, and the groups this driver changed since (any Auto Scaling call other than a
 * describe that names a group, or an instance of one), which the next look describes again.
 * One per driver; a new driver starts empty, so its first look describes every group.
 */
export class ObservationCache {
  readonly #clusters = new Map<string, ClusterGroups>();
  /** Group names changed by this driver since the looks that took them. */
  readonly #changed = new Set<string>();
  /** Instance id → its group, from the groups described (TerminateInstanceInAutoScalingGroup names only the instance). */
  readonly #groupOfInstance = new Map<string, string>();

  /** The cluster's remembered groups (made empty on first use). */
  cluster(key: string): ClusterGroups {
    let c = this.#clusters.get(key);
    if (!c) this.#clusters.set(key, (c = { groups: new Map(), describedAllAtMs: null, inFlight: new Set(), describedAt: new Map(), instancesSeen: 0 }));
    return c;
  }

  /**
   * Others may have changed the cluster's groups while this driver did not hold its lease: the
   * next look describes every group again (what it remembers is kept until then).
   */
  stale(key: string): void {
    const c = this.#clusters.get(key);
    if (c) c.describedAllAtMs = null;
  }

  /** Records a group as described (and which instances are its). */
  described(c: ClusterGroups, g: AutoScalingGroup): void {
    const name = g.AutoScalingGroupName;
    if (!name) return;
    c.groups.set(name, g);
    for (const i of g.Instances ?? []) if (i.InstanceId) this.#groupOfInstance.set(i.InstanceId, name);
  }

  /** Takes the groups whose name starts with `prefix` changed since they were last taken (a look describes them; see {@link unchanged} on failure). */
  takeChanged(prefix: string): Set<string> {
    const out = new Set<string>();
    for (const n of this.#changed) {
      if (!n.startsWith(prefix)) continue;
      out.add(n);
      this.#changed.delete(n);
    }
    return out;
  }

  /** Puts back groups a failed look took but did not describe. */
  unchanged(names: Iterable<string>): void {
    for (const n of names) this.#changed.add(n);
  }

  /** Whether the group was changed since the last look took the changes (without taking them). */
  isChanged(name: string): boolean {
    return this.#changed.has(name);
  }

  /** Notes the groups an Auto Scaling request changes: its group name(s), its tags' groups, its instance's group. */
  noteRequest(commandName: string, input: unknown): void {
    if (commandName.startsWith('Describe')) return;
    const i = (input ?? {}) as { AutoScalingGroupName?: unknown; Tags?: readonly { ResourceId?: unknown }[]; InstanceId?: unknown; InstanceIds?: unknown };
    if (typeof i.AutoScalingGroupName === 'string') this.#changed.add(i.AutoScalingGroupName);
    for (const t of Array.isArray(i.Tags) ? i.Tags : []) if (typeof t.ResourceId === 'string') this.#changed.add(t.ResourceId);
    const ids = [...(typeof i.InstanceId === 'string' ? [i.InstanceId] : []), ...(Array.isArray(i.InstanceIds) ? (i.InstanceIds as unknown[]) : [])];
    for (const id of ids) {
      const g = typeof id === 'string' ? this.#groupOfInstance.get(id) : undefined;
      if (g) this.#changed.add(g);
    }
  }

  /**
   * The Auto Scaling client the driver's operations use: the given one, with every request it
   * sends noted first ({@link noteRequest}), whether or not it then succeeds.
   */
  watch(client: ClientLike<AutoScalingClient>): ClientLike<AutoScalingClient> {
    const send = (client.send as (command: unknown, ...rest: unknown[]) => unknown).bind(client);
    const watched = Object.create(client) as ClientLike<AutoScalingClient>;
    Object.defineProperty(watched, 'send', {
      value: (command: { constructor?: { name?: string }; input?: unknown }, ...rest: unknown[]) => {
        this.noteRequest(command?.constructor?.name ?? '', command?.input);
        return send(command, ...rest);
      },
    });
    return watched;
  }
}
