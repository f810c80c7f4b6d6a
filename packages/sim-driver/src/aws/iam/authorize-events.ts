// How IAM authorizes the EventBridge operations the simulator answers:
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridge.html
// Rules on the default bus are `rule/<name>`, on another bus `rule/<bus>/<name>`; PutEvents is
// authorized on each event bus it puts to. `events:source` and `events:detail-type` are the
// rule's event pattern's `source` and `detail-type` (PutRule) or the entry's (PutEvents);
// `events:TargetArn` the targets' ARNs (EventBridge User Guide, "Using IAM policy conditions in
// Amazon EventBridge"). A target with a role passes it to EventBridge (iam:PassRole).

import type { AuthorizationCheck, Authorizer, ServiceContext } from '../service.js';
import { check, objs, regionalArn, requestTagKeys, str, tagList, type Context, type Input } from './authorize-common.js';

function busOf(input: Input): string {
  const bus = str(input, 'EventBusName') ?? 'default';
  // A bus may be named by its ARN.
  return bus.startsWith('arn:') ? (bus.split('/').pop() ?? bus) : bus;
}

function ruleArn(ctx: ServiceContext, input: Input, field: 'Name' | 'Rule'): string {
  const name = str(input, field) ?? '';
  const bus = busOf(input);
  return regionalArn(ctx, 'events', bus === 'default' ? `rule/${name}` : `rule/${bus}/${name}`);
}

function onRule(action: string, field: 'Name' | 'Rule', extra: (input: Input) => Context = () => ({})): Authorizer {
  return (input, ctx) => [check(`events:${action}`, ruleArn(ctx, input, field), { 'events:creatorAccount': ctx.accountId, ...extra(input) })];
}

/** A pattern field as a list of strings (`["aws.autoscaling"]`), or nothing. */
function patternValues(pattern: Record<string, unknown> | null, field: string): string[] {
  const v = pattern?.[field];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function parsePattern(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const p: unknown = JSON.parse(text);
    return p !== null && typeof p === 'object' ? (p as Record<string, unknown>) : null;
  } catch {
    return null; // an invalid pattern fails the request itself
  }
}

export const EVENTS_AUTHORIZERS: Readonly<Record<string, Authorizer>> = {
  PutRule: onRule('PutRule', 'Name', (input) => {
    const pattern = parsePattern(str(input, 'EventPattern'));
    const sources = patternValues(pattern, 'source');
    const detailTypes = patternValues(pattern, 'detail-type');
    return {
      ...requestTagKeys(tagList(objs(input, 'Tags'))),
      ...(sources.length > 0 && { 'events:source': sources }),
      ...(detailTypes.length > 0 && { 'events:detail-type': detailTypes }),
    };
  }),
  DescribeRule: onRule('DescribeRule', 'Name'),
  DeleteRule: onRule('DeleteRule', 'Name'),
  EnableRule: onRule('EnableRule', 'Name'),
  DisableRule: onRule('DisableRule', 'Name'),
  ListRules() {
    return [check('events:ListRules', '*', {})];
  },
  PutTargets(input, ctx) {
    const targets = objs(input, 'Targets');
    const arns = targets.map((t) => str(t, 'Arn')).filter((a): a is string => a !== null);
    const out: AuthorizationCheck[] = [check('events:PutTargets', ruleArn(ctx, input, 'Rule'), { 'events:creatorAccount': ctx.accountId, 'events:TargetArn': arns })];
    for (const t of targets) {
      const role = str(t, 'RoleArn');
      if (role !== null) out.push(check('iam:PassRole', role, { 'iam:PassedToService': 'events.amazonaws.com' }));
    }
    return out;
  },
  RemoveTargets: onRule('RemoveTargets', 'Rule'),
  ListTargetsByRule: onRule('ListTargetsByRule', 'Rule'),
  PutEvents(input, ctx) {
    return objs(input, 'Entries').map((e) => {
      const bus = busOf(e);
      const source = str(e, 'Source');
      const detailType = str(e, 'DetailType');
      return check('events:PutEvents', regionalArn(ctx, 'events', `event-bus/${bus}`), {
        ...(source !== null && { 'events:source': source }),
        ...(detailType !== null && { 'events:detail-type': detailType }),
      });
    });
  },
};
