import type { TargetGroupObservation, TargetHealthObservation } from '../driver.js';
import { SIDES, type Side, type TrafficStatus } from './blue-green-types.js';

const sortedUnique = (xs: Iterable<string>) => [...new Set(xs)].sort();

/** Draining, or on its way out of the group: it takes no new connections. */
export function isDraining(t: TargetHealthObservation): boolean {
  return t.state === 'draining' || t.state === 'unhealthy.draining';
}

/** Registered and not draining (a dead target included: it is still registered). */
export function isRegistered(t: TargetHealthObservation): boolean {
  return !isDraining(t) && t.reason !== 'Target.NotRegistered';
}

/** Registered, but its instance is stopped or terminated (`unused`, `Target.InvalidState`, ELB-12): it takes no traffic. */
export function isDead(t: TargetHealthObservation): boolean {
  return isRegistered(t) && t.reason === 'Target.InvalidState';
}

/** Where a DNS record sends clients, given each side's node IPs. Pure. */
export function dnsTrafficStatus(record: TrafficStatus['record'], ips: Readonly<Record<Side, readonly string[]>>): TrafficStatus {
  const registered: Record<Side, string[]> = { blue: [], green: [] };
  const foreign: string[] = [];
  for (const v of record?.values ?? []) {
    const side = SIDES.find((s) => ips[s].includes(v));
    if (side) registered[side].push(v);
    else foreign.push(v);
  }
  return classify('dns', record, null, registered, { blue: [], green: [] }, foreign, [], record ? `${record.name} A ${record.values.join(', ') || '(no values)'} (TTL ${record.ttl} s)` : 'no record');
}

/**
 * Where target groups send requests, given every instance each side has (current and past,
 * so a deregistered old instance is still attributed). Pure.
 */
export function targetTrafficStatus(groups: readonly TargetGroupObservation[], instances: Readonly<Record<Side, readonly string[]>>): TrafficStatus {
  const registered: Record<Side, string[]> = { blue: [], green: [] };
  const draining: Record<Side, string[]> = { blue: [], green: [] };
  const foreign: string[] = [];
  const dead: string[] = [];
  for (const g of groups) {
    for (const t of g.targets) {
      const side = SIDES.find((s) => instances[s].includes(t.instanceId));
      if (isDead(t)) dead.push(t.instanceId);
      else if (isRegistered(t)) {
        if (side) registered[side].push(t.instanceId);
        else foreign.push(t.instanceId);
      } else if (isDraining(t) && side) draining[side].push(t.instanceId);
    }
  }
  const parts = SIDES.map((s) => `${s}: ${sortedUnique(registered[s]).length} registered${draining[s].length > 0 ? `, ${sortedUnique(draining[s]).length} draining` : ''}`);
  if (foreign.length > 0) parts.push(`other: ${sortedUnique(foreign).length} registered`);
  if (dead.length > 0) parts.push(`${sortedUnique(dead).length} of stopped or terminated instances`);
  return classify('target-groups', null, groups, registered, draining, foreign, dead, `${groups.length} target group${groups.length === 1 ? '' : 's'} (${parts.join('; ')})`);
}

function classify(
  kind: TrafficStatus['kind'],
  record: TrafficStatus['record'],
  groups: readonly TargetGroupObservation[] | null,
  registered: Record<Side, string[]>,
  draining: Record<Side, string[]>,
  foreign: string[],
  dead: string[],
  detail: string,
): TrafficStatus {
  const withTraffic = SIDES.filter((s) => registered[s].length > 0);
  const state: TrafficStatus['state'] = withTraffic.length === 2 ? 'mixed' : withTraffic.length === 1 ? (withTraffic[0] as Side) : foreign.length > 0 ? 'foreign' : 'none';
  const live = state === 'blue' || state === 'green' ? state : null;
  const head =
    state === 'mixed'
      ? 'traffic is split between blue and green'
      : live
        ? `traffic goes to ${live}`
        : state === 'foreign'
          ? 'traffic goes to neither side'
          : 'no traffic goes to either side';
  return Object.freeze({
    kind,
    state,
    live,
    record,
    targetGroups: groups,
    registered: Object.freeze({ blue: sortedUnique(registered.blue), green: sortedUnique(registered.green) }),
    draining: Object.freeze({ blue: sortedUnique(draining.blue), green: sortedUnique(draining.green) }),
    foreign: sortedUnique(foreign),
    dead: sortedUnique(dead),
    summary: `${head}: ${detail}`,
  });
}
