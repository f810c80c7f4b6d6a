import type { ClusterSpec, DnsRecordSet } from '@berth/core';
import type { AwsContext } from './aws-context.js';
import { changeRecords, requireDns, upsert } from './dns-records.js';

/** UPSERTs the given A records in the spec's zone, in one atomic ChangeResourceRecordSets batch. */
export async function setDns(ctx: AwsContext, spec: ClusterSpec, records: readonly DnsRecordSet[], signal?: AbortSignal): Promise<void> {
  const dns = requireDns(spec, 'setDns');
  const changes = records.map((r) => upsert(r.name, dns.ttl, [...r.values].sort()));
  await changeRecords(ctx, dns.hostedZoneId, changes, `berth ${spec.name}: setDns`, signal);
}
