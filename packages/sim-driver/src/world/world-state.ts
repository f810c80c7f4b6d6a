import type {
  SimDnsChange,
  SimEni,
  SimGroup,
  SimHostedZone,
  SimInstance,
  SimLaunchTemplate,
  SimLease,
  SimSnapshot,
  SimSubnet,
  SimVolume,
  Tags,
} from './entities.js';

/** Every entity of the simulated account, keyed by id (Maps keep insertion order: deterministic). */
export class WorldState {
  readonly instances = new Map<string, SimInstance>();
  readonly groups = new Map<string, SimGroup>();
  readonly launchTemplates = new Map<string, SimLaunchTemplate>();
  readonly enis = new Map<string, SimEni>();
  readonly volumes = new Map<string, SimVolume>();
  readonly snapshots = new Map<string, SimSnapshot>();
  readonly zones = new Map<string, SimHostedZone>();
  readonly dnsChanges = new Map<string, SimDnsChange>();
  readonly subnets = new Map<string, SimSubnet>();
  readonly locks = new Map<string, SimLease>();
  /** Idempotency: ClientToken → resource id, per operation. */
  readonly clientTokens = new Map<string, string>();
  readonly #counters = new Map<string, number>();

  /** A deterministic AWS-shaped id: `prefix-` + 17 hex digits. */
  nextId(prefix: string, digits = 17): string {
    const n = (this.#counters.get(prefix) ?? 0) + 1;
    this.#counters.set(prefix, n);
    return `${prefix}-${n.toString(16).padStart(digits, '0')}`;
  }

  zone(zoneId: string): SimHostedZone {
    let z = this.zones.get(zoneId);
    if (!z) {
      // Any hosted zone id a spec names exists.
      z = { id: zoneId, records: new Map(), propagated: new Map() };
      this.zones.set(zoneId, z);
    }
    return z;
  }
}

export function matchesTags(tags: Tags, filter: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(filter)) if (tags[k] !== v) return false;
  return true;
}
