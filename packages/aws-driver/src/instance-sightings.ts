import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';

/** Where and in which lifecycle state the driver last saw an instance in a group, and when. */
export interface InstanceSighting {
  readonly groupName: string;
  readonly lifecycleState: string;
  /** When the describe that showed it was sent (the state held at some moment after this). */
  readonly atMs: number;
}

/** Above this many remembered instances, those older than the bound are dropped. */
const PRUNE_ABOVE = 4096;

/**
 * What the driver's own `DescribeAutoScalingGroups` answers showed of each instance's group. A
 * controller's fresh look has just seen the instance it is about to replace in the node's group;
 * `replaceInstance` takes that sighting (no older than `groupSightingMaxAgeMs`) instead of a
 * `DescribeAutoScalingInstances` of its own. A sighting serves once: it is taken out before the
 * terminate, so a retry (after a timeout, or of a call that went through) describes again.
 */
export class InstanceSightings {
  readonly #byInstance = new Map<string, InstanceSighting>();
  readonly #maxAgeMs: number;

  /** `maxAgeMs`: the oldest sighting `take` returns (`groupSightingMaxAgeMs`). */
  constructor(maxAgeMs: number) {
    this.#maxAgeMs = maxAgeMs;
  }

  /** Records every instance listed in these groups, as seen by a describe sent at `atMs`. */
  learn(groups: readonly AutoScalingGroup[] | undefined, atMs: number): void {
    for (const g of groups ?? []) {
      const groupName = g.AutoScalingGroupName;
      if (!groupName) continue;
      for (const i of g.Instances ?? []) {
        if (i.InstanceId) this.#byInstance.set(i.InstanceId, { groupName, lifecycleState: i.LifecycleState ?? 'Pending', atMs });
      }
    }
    if (this.#byInstance.size > PRUNE_ABOVE) {
      for (const [id, s] of this.#byInstance) if (atMs - s.atMs > this.#maxAgeMs) this.#byInstance.delete(id);
    }
  }

  /**
   * Records one instance an observation placed in a group: a look that did not describe a
   * settled group (observe.ts) still saw its instance running in EC2 with the group's
   * `aws:autoscaling:groupName` tag (ASG-37), which is what the controller decided on.
   */
  saw(instanceId: string, groupName: string, lifecycleState: string, atMs: number): void {
    this.#byInstance.set(instanceId, { groupName, lifecycleState, atMs });
  }

  /**
   * Takes (and forgets) the instance's sighting when it is no older than `maxAgeMs` at `nowMs`;
   * null otherwise (none, or too old — forgotten too).
   */
  take(instanceId: string, nowMs: number): InstanceSighting | null {
    const s = this.#byInstance.get(instanceId);
    if (!s) return null;
    this.#byInstance.delete(instanceId);
    return this.#maxAgeMs > 0 && nowMs - s.atMs <= this.#maxAgeMs ? s : null;
  }
}
