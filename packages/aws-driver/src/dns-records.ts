import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, type Change } from '@aws-sdk/client-route-53';
import { BerthConfigError, nodeRecordName, type ClusterSpec, type DnsSpec } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { normalizeDnsName } from './names.js';

export interface ARecord {
  readonly name: string;
  readonly ttl: number;
  readonly values: readonly string[];
}

export function requireDns(spec: ClusterSpec, what: string): DnsSpec {
  if (!spec.dns) throw new BerthConfigError([{ path: 'dns', message: `${what} needs dns (hostedZoneId, clusterRecord, nodeRecordTemplate) in the cluster spec` }], 'driver call');
  return spec.dns;
}

/** The names Berth manages in the zone for this cluster: the cluster record and every node's record. */
export function clusterRecordNames(spec: ClusterSpec, extraNodeIds: Iterable<string> = []): Set<string> {
  const names = new Set<string>();
  if (!spec.dns) return names;
  names.add(normalizeDnsName(spec.dns.clusterRecord));
  for (const n of spec.nodes) names.add(normalizeDnsName(nodeRecordName(spec.dns, n.id)));
  for (const id of extraNodeIds) names.add(normalizeDnsName(nodeRecordName(spec.dns, id)));
  return names;
}

/** The current A record of one name, or null. One call. */
export async function readARecord(ctx: AwsContext, zoneId: string, name: string, signal?: AbortSignal): Promise<ARecord | null> {
  const want = normalizeDnsName(name);
  const page = await ctx.call('ListResourceRecordSets', (abortSignal) =>
    ctx.r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, StartRecordName: want, StartRecordType: 'A', MaxItems: 1 }), { abortSignal }),
  { signal });
  const rr = page.ResourceRecordSets?.[0];
  if (!rr || rr.Type !== 'A' || normalizeDnsName(rr.Name ?? '') !== want) return null;
  return { name: want, ttl: rr.TTL ?? 0, values: (rr.ResourceRecords ?? []).map((r) => r.Value ?? '').sort() };
}

/** Every A record in the zone among `names`; pages through the zone (its size, not the cluster's, sets the count). */
export async function listARecords(ctx: AwsContext, zoneId: string, names: Set<string>, pageSize: number, signal?: AbortSignal): Promise<ARecord[]> {
  const out: ARecord[] = [];
  let start: { StartRecordName?: string; StartRecordType?: 'A'; StartRecordIdentifier?: string } = {};
  for (;;) {
    const page = await ctx.call('ListResourceRecordSets', (abortSignal) =>
      ctx.r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, MaxItems: pageSize, ...start }), { abortSignal }),
    { signal });
    for (const rr of page.ResourceRecordSets ?? []) {
      const name = normalizeDnsName(rr.Name ?? '');
      if (rr.Type === 'A' && names.has(name)) out.push({ name, ttl: rr.TTL ?? 0, values: (rr.ResourceRecords ?? []).map((r) => r.Value ?? '').sort() });
    }
    if (!page.IsTruncated || !page.NextRecordName) break;
    start = {
      StartRecordName: page.NextRecordName,
      ...(page.NextRecordType && { StartRecordType: page.NextRecordType as 'A' }),
      ...(page.NextRecordIdentifier && { StartRecordIdentifier: page.NextRecordIdentifier }),
    };
  }
  // moto can list a record twice across pages; keep the first.
  const seen = new Set<string>();
  return out.filter((r) => (seen.has(r.name) ? false : (seen.add(r.name), true)));
}

export function upsert(name: string, ttl: number, values: readonly string[]): Change {
  return { Action: 'UPSERT', ResourceRecordSet: { Name: name, Type: 'A', TTL: ttl, ResourceRecords: values.map((Value) => ({ Value })) } };
}

/** DELETE must carry the current values and TTL exactly, so it takes the record as read. */
export function deletion(record: ARecord): Change {
  return { Action: 'DELETE', ResourceRecordSet: { Name: record.name, Type: 'A', TTL: record.ttl, ResourceRecords: record.values.map((Value) => ({ Value })) } };
}

export async function changeRecords(ctx: AwsContext, zoneId: string, changes: Change[], comment: string, signal?: AbortSignal): Promise<void> {
  if (changes.length === 0) return;
  await ctx.call('ChangeResourceRecordSets', (abortSignal) =>
    ctx.r53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zoneId, ChangeBatch: { Comment: comment, Changes: changes } }), { abortSignal }),
  { signal });
}

export function sameValues(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}
