import { BerthCapabilityError, BerthConfigError } from '../errors.js';
import type { ApplyPlan } from '../plan/plan-apply.js';
import { checkVolumeModifications, type VolumeChange } from '../plan/plan-volume-changes.js';
import type { RuntimeDriver } from '../runtime/runtime-driver.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';

/**
 * Decides apply()'s volume changes before it makes any mutating call: refuses (throws
 * `BerthConfigError`, every refused node named) a shrink, a target the type does not allow, and
 * a change within the cooldown of the volume's last modification. The last modifications are
 * fetched here — only when a change is planned — never on an observation.
 */
export async function decideVolumeChanges(
  driver: RuntimeDriver,
  spec: ClusterSpec,
  plan: ApplyPlan,
  nowMs: number,
  signal: AbortSignal | undefined,
): Promise<{ perform: VolumeChange[]; underWay: VolumeChange[] }> {
  if (plan.volumeRefusals.length > 0) throw new BerthConfigError(plan.volumeRefusals, 'data volume change');
  if (plan.volumeChanges.length === 0) return { perform: [], underWay: [] };
  if (!driver.capabilities.volumeResize) {
    throw new BerthCapabilityError('volumeResize', driver.name, `Changing the data volume of ${plan.volumeChanges.map((c) => c.nodeId).join(', ')}`);
  }
  const latest = await driver.lastVolumeModifications(spec, plan.volumeChanges.map((c) => c.volumeId), { signal });
  if (latest === null) return { perform: [...plan.volumeChanges], underWay: [] };
  const decided = checkVolumeModifications(plan.volumeChanges, spec, latest, nowMs);
  if (decided.refusals.length > 0) throw new BerthConfigError(decided.refusals, 'data volume change');
  return { perform: decided.perform, underWay: decided.underWay };
}
