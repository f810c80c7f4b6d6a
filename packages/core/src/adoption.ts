import type { ResourceChange } from './driver.js';

/**
 * Where a node's ENI and volume come from when it adopts an unmanaged instance: the ids (a
 * node's `adopt` in the spec), or the instance, whose interface carrying the node's IP and
 * whose data volume (at `device`, or its only non-root volume) are taken over.
 */
export interface AdoptionSource {
  readonly eniId?: string;
  readonly volumeId?: string;
  readonly instanceId?: string;
  /** The data volume's device name on that instance (e.g. `/dev/sdf`), when it has several non-root volumes. */
  readonly device?: string;
}

/** What a driver found (and, for `takeOverAdoption`, did) about an adoption. */
export interface AdoptionCheck {
  readonly nodeId: string;
  readonly eniId: string;
  readonly volumeId: string;
  /** The unmanaged instance the ENI or volume is (or was last) attached to; null when both are free. */
  readonly instanceId: string | null;
  /** That instance's EC2 state (`running`, `stopped`, `terminated`...), null when none. */
  readonly instanceState: string | null;
  /** The ENI's device index on that instance (0: its primary interface, which cannot be detached). */
  readonly eniDeviceIndex: number | null;
  /** Both already carry this node's tags (a take-over that ran before). */
  readonly adopted: boolean;
  /** Differences the spec will converge after adoption (e.g. a volume smaller than the spec: apply() grows it). */
  readonly notes: readonly string[];
  readonly changes: readonly ResourceChange[];
}
