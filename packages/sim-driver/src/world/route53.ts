import { fault } from '../aws/aws-error.js';
import { draw, type SimContext } from '../sim-context.js';
import type { SimDnsChange, SimDnsRecord, SimHostedZone } from './entities.js';

export interface DnsChangeRequest {
  readonly action: 'CREATE' | 'DELETE' | 'UPSERT';
  readonly record: SimDnsRecord;
}

/** Route 53 names end with a dot and compare case-insensitively. */
export const fqdn = (name: string): string => (name.endsWith('.') ? name : `${name}.`).toLowerCase();

function sameRecord(a: SimDnsRecord, b: SimDnsRecord): boolean {
  if (a.ttl !== b.ttl || a.type !== b.type || a.values.length !== b.values.length) return false;
  const sa = [...a.values].sort();
  const sb = [...b.values].sort();
  return sa.every((v, i) => v === sb[i]);
}

/** Route 53 orders records by name with its labels reversed (`com.example.a`), then by type. */
export function recordOrder(a: SimDnsRecord, b: SimDnsRecord): number {
  const ka = fqdn(a.name).split('.').reverse().join('.');
  const kb = fqdn(b.name).split('.').reverse().join('.');
  return ka < kb ? -1 : ka > kb ? 1 : a.type < b.type ? -1 : a.type > b.type ? 1 : 0;
}

/** Route 53: hosted zones, atomic change batches with CREATE/DELETE/UPSERT rules, PENDING → INSYNC propagation. */
export class Route53 {
  readonly #ctx: SimContext;
  constructor(ctx: SimContext) {
    this.#ctx = ctx;
  }

  /** Creates a hosted zone with a given id (the account's existing zone). */
  ensureZone(zoneId: string, name: string): SimHostedZone {
    const id = bareZoneId(zoneId);
    let z = this.#ctx.state.zones.get(id);
    if (!z) {
      z = { id, name: fqdn(name), records: new Map(), propagated: new Map() };
      this.#ctx.state.zones.set(id, z);
    }
    return z;
  }

  zone(zoneId: string): SimHostedZone {
    const z = this.#ctx.state.zones.get(bareZoneId(zoneId));
    if (!z) throw fault('NoSuchHostedZone', `No hosted zone found with ID: ${bareZoneId(zoneId)}`);
    return z;
  }

  changeRecordSets(zoneId: string, changes: readonly DnsChangeRequest[], comment: string | null): SimDnsChange {
    const zone = this.zone(zoneId);
    if (changes.length === 0) throw fault('InvalidInput', 'Invalid request: Expected at least one change in ChangeBatch');
    // R53-5: at most 1,000 ResourceRecord elements and 32,000 characters of values per request; an UPSERT counts twice.
    let records = 0;
    let chars = 0;
    for (const c of changes) {
      const weight = c.action === 'UPSERT' ? 2 : 1;
      records += weight * c.record.values.length;
      chars += weight * c.record.values.reduce((n, v) => n + v.length, 0);
    }
    if (records > 1000) throw fault('InvalidChangeBatch', '[Number of records limit of 1000 exceeded.]');
    if (chars > 32000) throw fault('InvalidChangeBatch', '[RDATA character limit of 32000 exceeded.]');
    // Validate the whole batch against the state as it would be after each change: all or nothing.
    const after = new Map(zone.records);
    const problems: string[] = [];
    for (const c of changes) {
      const name = fqdn(c.record.name);
      if (name !== zone.name && !name.endsWith(`.${zone.name}`)) {
        problems.push(`RRSet with DNS name ${name} is not permitted in zone ${zone.name}`);
        continue;
      }
      const rec: SimDnsRecord = { ...c.record, name, values: [...c.record.values] };
      const key = `${name} ${rec.type}`;
      const cur = after.get(key);
      if (c.action === 'CREATE') {
        if (cur) problems.push(`Tried to create resource record set [name='${name}', type='${rec.type}'] but it already exists`);
        else after.set(key, rec);
      } else if (c.action === 'DELETE') {
        if (!cur) problems.push(`Tried to delete resource record set [name='${name}', type='${rec.type}'] but it was not found`);
        else if (!sameRecord(cur, rec)) problems.push(`Tried to delete resource record set [name='${name}', type='${rec.type}'] but the values provided do not match the current values`);
        else after.delete(key);
      } else {
        after.set(key, rec);
      }
    }
    if (problems.length > 0) throw fault('InvalidChangeBatch', `[${problems.join(', ')}]`);
    zone.records.clear();
    for (const [k, v] of after) zone.records.set(k, v);
    const change: SimDnsChange = { id: `C${this.#ctx.state.nextId('C', 20).slice(2).toUpperCase()}`, zoneId: zone.id, status: 'PENDING', submittedAtMs: this.#ctx.scheduler.nowMs, comment };
    this.#ctx.state.dnsChanges.set(change.id, change);
    this.#ctx.trace.record('dns.change', {
      changeId: change.id,
      zoneId: zone.id,
      changes: changes.map((c) => ({ action: c.action, name: fqdn(c.record.name), values: [...c.record.values], ttl: c.record.ttl })),
    });
    const snapshot = changes.map((c) => ({ action: c.action, rec: { ...c.record, name: fqdn(c.record.name) } }));
    this.#ctx.scheduler.after(draw(this.#ctx.rng.route53, this.#ctx.options.timings.dnsPropagationMs), `dns ${change.id} insync`, () => {
      for (const { action, rec } of snapshot) {
        const key = `${rec.name} ${rec.type}`;
        if (action === 'DELETE') zone.propagated.delete(key);
        else zone.propagated.set(key, rec);
      }
      change.status = 'INSYNC';
      this.#ctx.trace.record('dns.insync', { changeId: change.id, zoneId: zone.id });
    });
    return change;
  }

  /** The zone's records in Route 53's order. */
  listRecordSets(zoneId: string): SimDnsRecord[] {
    return [...this.zone(zoneId).records.values()].sort(recordOrder);
  }

  getChange(changeId: string): SimDnsChange {
    const id = changeId.replace(/^\/?change\//, '');
    const c = this.#ctx.state.dnsChanges.get(id);
    if (!c) throw fault('NoSuchChange', `A change with the specified change ID does not exist: ${id}`);
    return c;
  }

  /** What a resolver answers now (changes count once INSYNC). */
  resolve(zoneId: string, name: string): readonly string[] | null {
    return this.#ctx.state.zones.get(bareZoneId(zoneId))?.propagated.get(`${fqdn(name)} A`)?.values ?? null;
  }
}

/** `/hostedzone/Z123` → `Z123`. */
export function bareZoneId(zoneId: string): string {
  return zoneId.replace(/^\/?hostedzone\//, '');
}
