// How IAM authorizes the Route 53 operations the simulator answers:
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonroute53.html
// Route 53 is global: its ARNs have no region or account, only the partition
// (`arn:<partition>:route53:::hostedzone/<id>`, `…:change/<id>`).
// The ChangeResourceRecordSets condition keys and how their values are normalized:
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/specifying-rrset-conditions.html

import type { Authorizer, ServiceContext } from '../service.js';
import { check, obj, objs, str } from './authorize-common.js';

function route53Arn(ctx: ServiceContext, type: 'hostedzone' | 'change', id: string): string {
  // The API takes and returns ids with a `/hostedzone/` or `/change/` prefix.
  return `arn:${ctx.partition}:route53:::${type}/${id.replace(/^\/?(hostedzone|change)\//, '')}`;
}

/**
 * A record name as `route53:ChangeResourceRecordSetsNormalizedRecordNames` carries it: letters in
 * lower case, no trailing dot, and characters other than a-z, 0-9, `-`, `_` and the label dots
 * as `\` + three octal digits (escapes in the request are read first; Route 53 Developer Guide,
 * "DNS domain name format").
 */
export function normalizeRecordName(name: string): string {
  const decoded = name.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))).replace(/\.$/, '');
  let out = '';
  for (const c of decoded.toLowerCase()) out += /[a-z0-9_.-]/.test(c) ? c : `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`;
  return out;
}

function onZone(action: string, field: string): Authorizer {
  return (input, ctx) => [check(`route53:${action}`, route53Arn(ctx, 'hostedzone', str(input, field) ?? ''), {})];
}

export const ROUTE53_AUTHORIZERS: Readonly<Record<string, Authorizer>> = {
  GetHostedZone: onZone('GetHostedZone', 'Id'),
  ListResourceRecordSets: onZone('ListResourceRecordSets', 'HostedZoneId'),

  ChangeResourceRecordSets(input, ctx) {
    const changes = objs(obj(input, 'ChangeBatch') ?? {}, 'Changes');
    const names = new Set<string>();
    const types = new Set<string>();
    const actions = new Set<string>();
    for (const c of changes) {
      const action = str(c, 'Action');
      if (action !== null) actions.add(action);
      const rrs = obj(c, 'ResourceRecordSet') ?? {};
      const name = str(rrs, 'Name');
      const type = str(rrs, 'Type');
      if (name !== null) names.add(normalizeRecordName(name));
      if (type !== null) types.add(type);
    }
    return [
      check('route53:ChangeResourceRecordSets', route53Arn(ctx, 'hostedzone', str(input, 'HostedZoneId') ?? ''), {
        'route53:ChangeResourceRecordSetsNormalizedRecordNames': [...names],
        'route53:ChangeResourceRecordSetsRecordTypes': [...types],
        'route53:ChangeResourceRecordSetsActions': [...actions],
      }),
    ];
  },

  GetChange(input, ctx) {
    return [check('route53:GetChange', route53Arn(ctx, 'change', str(input, 'Id') ?? ''), {})];
  },
};
