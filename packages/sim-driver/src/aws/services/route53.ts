import { fault } from '../aws-error.js';
import type { OperationHandler, SimService } from '../service.js';
import type { SimDnsChange, SimDnsRecord } from '../../world/entities.js';
import { bareZoneId, fqdn, recordOrder, type DnsChangeRequest } from '../../world/route53.js';

type In = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

function required(input: In, name: string): string {
  const v = str(input[name]);
  if (v === null) throw fault('InvalidInput', `Invalid request: missing ${name}`);
  return v;
}

function changeInfo(c: SimDnsChange): Record<string, unknown> {
  return { Id: `/change/${c.id}`, Status: c.status, SubmittedAt: new Date(c.submittedAtMs), ...(c.comment !== null && { Comment: c.comment }) };
}

function recordOut(r: SimDnsRecord): Record<string, unknown> {
  return { Name: fqdn(r.name), Type: r.type, TTL: r.ttl, ResourceRecords: r.values.map((Value) => ({ Value })) };
}

function operations(): Record<string, OperationHandler> {
  return {
    GetHostedZone(input, ctx) {
      const z = ctx.sim.route53.zone(required(input, 'Id'));
      return { HostedZone: { Id: `/hostedzone/${z.id}`, Name: z.name, CallerReference: `sim-${z.id}`, Config: { PrivateZone: false }, ResourceRecordSetCount: z.records.size + 2 }, DelegationSet: { NameServers: ['ns-1.awsdns-00.com.'] } };
    },

    ListResourceRecordSets(input, ctx) {
      const all = ctx.sim.route53.listRecordSets(required(input, 'HostedZoneId'));
      const maxItems = input['MaxItems'] === undefined ? 300 : Number(input['MaxItems']);
      if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 300) throw fault('InvalidInput', `Invalid request: MaxItems must be between 1 and 300`);
      const startName = str(input['StartRecordName']);
      const startType = str(input['StartRecordType']);
      if (startType !== null && startName === null) throw fault('InvalidInput', 'The input is not valid: StartRecordType requires StartRecordName');
      const from = startName === null ? 0 : all.findIndex((r) => recordOrder(r, { name: startName, type: (startType ?? '') as 'A', ttl: 0, values: [] }) >= 0);
      const begin = from < 0 ? all.length : from;
      const items = all.slice(begin, begin + maxItems);
      const next = all[begin + maxItems];
      return {
        ResourceRecordSets: items.map(recordOut),
        IsTruncated: next !== undefined,
        MaxItems: maxItems,
        ...(next !== undefined && { NextRecordName: fqdn(next.name), NextRecordType: next.type }),
      };
    },

    ChangeResourceRecordSets(input, ctx) {
      const zoneId = required(input, 'HostedZoneId');
      const batch = input['ChangeBatch'] as { Comment?: string; Changes?: In[] } | undefined;
      const changes: DnsChangeRequest[] = (batch?.Changes ?? []).map((c) => {
        const action = c['Action'];
        if (action !== 'CREATE' && action !== 'DELETE' && action !== 'UPSERT') throw fault('InvalidInput', `Invalid request: Action ${String(action)} is not CREATE, DELETE or UPSERT`);
        const rrs = (c['ResourceRecordSet'] ?? {}) as { Name?: string; Type?: string; TTL?: number; ResourceRecords?: { Value?: string }[] };
        if (rrs.Type !== 'A') throw fault('InvalidInput', `Invalid request: the simulated Route 53 holds A records only; got ${String(rrs.Type)}`);
        if (!rrs.Name) throw fault('InvalidInput', 'Invalid request: a ResourceRecordSet needs a Name');
        if (rrs.TTL === undefined || !rrs.ResourceRecords?.length) {
          throw fault('InvalidInput', `Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=${action}, Name=${rrs.Name}, Type=A, SetIdentifier=null]`);
        }
        return { action, record: { name: rrs.Name, type: 'A', ttl: rrs.TTL, values: rrs.ResourceRecords.map((r) => r.Value ?? '') } };
      });
      const change = ctx.sim.route53.changeRecordSets(zoneId, changes, str(batch?.Comment));
      return { ChangeInfo: changeInfo(change) };
    },

    GetChange(input, ctx) {
      return { ChangeInfo: changeInfo(ctx.sim.route53.getChange(required(input, 'Id'))) };
    },
  };
}

/** The simulated Route 53 API. */
export function createRoute53Service(): SimService {
  return { name: 'route53', operations: operations() };
}

export { bareZoneId };
