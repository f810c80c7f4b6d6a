import { awsError } from '../aws-api.js';
import { draw, type SimContext } from '../sim-context.js';
import type { SimDnsChange, SimDnsRecord } from './entities.js';

export interface DnsChangeRequest {
  readonly action: 'CREATE' | 'DELETE' | 'UPSERT';
  readonly record: SimDnsRecord;
}

const norm = (name: string): string => (name.endsWith('.') ? name : `${name}.`);

function sameRecord(a: SimDnsRecord, b: SimDnsRecord): boolean {
  if (a.ttl !== b.ttl || a.type !== b.type || a.values.length !== b.values.length) return false;
  const sa = [...a.values].sort();
  const sb = [...b.values].sort();
  return sa.every((v, i) => v === sb[i]);
}

/** Route 53: atomic change batches with CREATE/DELETE/UPSERT rules, PENDING → INSYNC propagation. */
export class Route53 {
  readonly #ctx: SimContext;
  constructor(ctx: SimContext) {
    this.#ctx = ctx;
  }

  changeRecordSets(zoneId: string, changes: readonly DnsChangeRequest[]): SimDnsChange {
    const op = 'ChangeResourceRecordSets';
    const zone = this.#ctx.state.zone(zoneId);
    if (changes.length === 0) throw awsError(op, 'InvalidInput', 'The change batch is empty.');
    // Validate the whole batch against the state as it would be after each change: all or nothing.
    const after = new Map(zone.records);
    const problems: string[] = [];
    for (const c of changes) {
      const name = norm(c.record.name);
      const rec: SimDnsRecord = { ...c.record, name };
      const cur = after.get(name);
      if (c.action === 'CREATE') {
        if (cur) problems.push(`Tried to create resource record set [name='${name}', type='A'] but it already exists`);
        else after.set(name, rec);
      } else if (c.action === 'DELETE') {
        if (!cur) problems.push(`Tried to delete resource record set [name='${name}', type='A'] but it was not found`);
        else if (!sameRecord(cur, rec)) problems.push(`Tried to delete resource record set [name='${name}', type='A'] but the values provided do not match the current values`);
        else after.delete(name);
      } else {
        after.set(name, rec);
      }
    }
    if (problems.length > 0) throw awsError(op, 'InvalidChangeBatch', `[${problems.join(', ')}]`);
    zone.records.clear();
    for (const [k, v] of after) zone.records.set(k, v);
    const change: SimDnsChange = { id: `/change/${this.#ctx.state.nextId('C', 13).slice(2).toUpperCase()}`, zoneId, status: 'PENDING', submittedAtMs: this.#ctx.scheduler.nowMs };
    this.#ctx.state.dnsChanges.set(change.id, change);
    this.#ctx.trace.record('dns.change', {
      changeId: change.id,
      zoneId,
      changes: changes.map((c) => ({ action: c.action, name: norm(c.record.name), values: [...c.record.values], ttl: c.record.ttl })),
    });
    const snapshot = changes.map((c) => ({ action: c.action, rec: { ...c.record, name: norm(c.record.name) } }));
    this.#ctx.scheduler.after(draw(this.#ctx.rng.route53, this.#ctx.options.timings.dnsPropagationMs), `dns ${change.id} insync`, () => {
      for (const { action, rec } of snapshot) {
        if (action === 'DELETE') zone.propagated.delete(rec.name);
        else zone.propagated.set(rec.name, rec);
      }
      change.status = 'INSYNC';
      this.#ctx.trace.record('dns.insync', { changeId: change.id, zoneId });
    });
    return change;
  }

  listRecordSets(zoneId: string): SimDnsRecord[] {
    return [...this.#ctx.state.zone(zoneId).records.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  getChange(changeId: string): SimDnsChange {
    const c = this.#ctx.state.dnsChanges.get(changeId);
    if (!c) throw awsError('GetChange', 'NoSuchChange', `A change with the specified change ID does not exist: ${changeId}`);
    return c;
  }

  /** What a resolver answers now (changes count once INSYNC). */
  resolve(zoneId: string, name: string): readonly string[] | null {
    return this.#ctx.state.zone(zoneId).propagated.get(norm(name))?.values ?? null;
  }
}
