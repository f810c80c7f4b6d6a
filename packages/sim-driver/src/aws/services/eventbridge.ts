import { createPrng, type Prng } from '@berth/core';
import type { RangeMs } from '../../options.js';
import { draw, type SimContext } from '../../sim-context.js';
import { fault } from '../aws-error.js';
import type { OperationHandler, SimService } from '../service.js';
import { InvalidEventPatternError, matchesEventPattern, parseEventPattern, type EventPattern } from './event-pattern.js';
import { hexUuid } from './random-ids.js';

/*
 * The simulated EventBridge: the account's default event bus, its rules and their SQS targets.
 * API reference: https://docs.aws.amazon.com/eventbridge/latest/APIReference/
 * - PutRule replaces the rule with what it is given; tags apply only when it creates the rule.
 * - DeleteRule of a missing rule succeeds; of a rule with targets fails.
 * - PutEvents refuses sources starting with "aws." (those are AWS services' events) with
 *   NotAuthorizedForSourceException; https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html
 * - The envelope of a delivered event: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html
 * - Delivery to SQS is authorized by the queue policy for events.amazonaws.com with
 *   aws:SourceArn = the rule's ARN: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sqs-permissions
 */

/**
 * Time from an event on the bus to its arrival in a target queue (realistic: typically well
 * under a second). Scaled ×0.01 in the `fast` profile, like every other duration.
 */
export const EVENT_DELIVERY_MS: RangeMs = [100, 1000];

/** An event put on the default bus by an AWS service (Auto Scaling). */
export interface ServiceEvent {
  readonly source: string;
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly resources: readonly string[];
}

interface Target {
  readonly Id: string;
  readonly Arn: string;
  readonly Input?: string;
  readonly InputPath?: string;
}

interface Rule {
  readonly name: string;
  readonly arn: string;
  eventPattern: string;
  pattern: EventPattern;
  state: 'ENABLED' | 'DISABLED';
  description: string | undefined;
  roleArn: string | undefined;
  readonly tags: readonly { readonly Key: string; readonly Value: string }[];
  readonly targets: Map<string, Target>;
}

const NAME_RE = /^[.\-_A-Za-z0-9]{1,64}$/;
const MAX_TARGETS_PER_RULE = 5;
const EVENTS_PRINCIPAL = 'events.amazonaws.com';

function validation(message: string): Error {
  return fault('ValidationException', message);
}

function ruleNotFound(name: string): Error {
  return fault('ResourceNotFoundException', `Rule ${name} does not exist on EventBus default.`);
}

function requiredString(input: Record<string, unknown>, key: string, member: string): string {
  const v = input[key];
  if (typeof v !== 'string' || v.length === 0) throw validation(`1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`);
  return v;
}

/** The simulated EventBridge of the account (default bus, rules, SQS targets). */
export class SimEventBridge {
  readonly service: SimService;
  readonly #ctx: SimContext;
  /** Creation order: the order rules are matched and their deliveries scheduled. */
  readonly #rules = new Map<string, Rule>();
  /** Own stream, derived from the seed exactly as an `events` entry of STREAMS would be. */
  readonly #rng: Prng;

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
    this.#rng = createPrng(ctx.options.seed).derive('events');
    const ops: Record<string, OperationHandler> = {
      PutRule: (i) => this.#putRule(i),
      DescribeRule: (i) => this.#describeRule(i),
      DeleteRule: (i) => this.#deleteRule(i),
      ListRules: (i) => this.#listRules(i),
      EnableRule: (i) => this.#setState(i, 'ENABLED'),
      DisableRule: (i) => this.#setState(i, 'DISABLED'),
      PutTargets: (i) => this.#putTargets(i),
      RemoveTargets: (i) => this.#removeTargets(i),
      ListTargetsByRule: (i) => this.#listTargetsByRule(i),
      PutEvents: (i) => this.#putEvents(i),
    };
    this.service = { name: 'events', operations: ops };
  }

  /** An AWS service emits `event` now: every enabled rule of the default bus that matches it delivers it to its targets. */
  emit(event: ServiceEvent): void {
    this.#route(this.#envelope(event.source, event.detailType, event.detail, event.resources, this.#ctx.scheduler.nowMs));
  }

  ruleArn(name: string): string {
    const a = this.#ctx.account;
    return `arn:${a.partition}:events:${a.region}:${a.accountId}:rule/${name}`;
  }

  #busArn(): string {
    const a = this.#ctx.account;
    return `arn:${a.partition}:events:${a.region}:${a.accountId}:event-bus/default`;
  }

  /** Only the default bus exists: by name or ARN. */
  #checkBus(input: Record<string, unknown>): void {
    const bus = input['EventBusName'];
    if (bus === undefined || bus === 'default' || bus === this.#busArn()) return;
    throw fault('ResourceNotFoundException', `Event bus ${String(bus)} does not exist.`);
  }

  #uuid(): string {
    return hexUuid(this.#rng);
  }

  /** The event as EventBridge delivers it: these fields, in this order; `time` to the second. */
  #envelope(source: string, detailType: string, detail: unknown, resources: readonly string[], timeMs: number): Record<string, unknown> {
    const a = this.#ctx.account;
    return {
      version: '0',
      id: this.#uuid(),
      'detail-type': detailType,
      source,
      account: a.accountId,
      time: new Date(timeMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: a.region,
      resources: [...resources],
      detail: structuredClone(detail),
    };
  }

  #route(event: Record<string, unknown>): void {
    const matched: string[] = [];
    const factor = this.#ctx.options.profile === 'fast' ? 0.01 : 1;
    for (const rule of this.#rules.values()) {
      if (rule.state !== 'ENABLED' || !matchesEventPattern(rule.pattern, event)) continue;
      matched.push(rule.name);
      for (const target of rule.targets.values()) {
        const body = targetInput(target, event);
        const delayMs = draw(this.#rng, EVENT_DELIVERY_MS, factor);
        const sourceArn = rule.arn;
        this.#ctx.scheduler.after(delayMs, `EventBridge delivery (${rule.name} → ${target.Id})`, () => {
          if (body === null) {
            this.#ctx.trace.record('events.delivery-failed', { queueArn: target.Arn, sourceArn, service: EVENTS_PRINCIPAL, reason: `InputPath ${target.InputPath ?? ''} selects nothing in the event` });
            return;
          }
          this.#ctx.sqs.deliver(target.Arn, body, { service: EVENTS_PRINCIPAL, sourceArn });
        });
      }
    }
    this.#ctx.trace.record('events.emitted', { eventId: event['id'], source: event['source'], detailType: event['detail-type'], rules: matched });
  }

  // --- rules --------------------------------------------------------------------------------

  #rule(input: Record<string, unknown>, key: 'Name' | 'Rule'): Rule {
    this.#checkBus(input);
    const name = requiredString(input, key, key === 'Name' ? 'name' : 'rule');
    const r = this.#rules.get(name);
    if (!r) throw key === 'Name' ? fault('ResourceNotFoundException', `Rule ${name} does not exist.`) : ruleNotFound(name);
    return r;
  }

  #putRule(input: Record<string, unknown>): unknown {
    this.#checkBus(input);
    const name = requiredString(input, 'Name', 'name');
    if (!NAME_RE.test(name)) throw validation(`1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+`);
    if (input['ScheduleExpression'] !== undefined) throw validation(`The simulated EventBridge does not support ScheduleExpression (rule ${name}); it routes events that match an EventPattern.`);
    const text = input['EventPattern'];
    if (typeof text !== 'string') throw validation('Parameter(s) EventPattern or ScheduleExpression must be specified.');
    if (text.length > 4096) throw validation(`1 validation error detected: Value at 'eventPattern' failed to satisfy constraint: Member must have length less than or equal to 4096`);
    let pattern: EventPattern;
    try {
      pattern = parseEventPattern(text);
    } catch (e) {
      if (e instanceof InvalidEventPatternError) throw fault('InvalidEventPatternException', e.message);
      throw e;
    }
    const state = input['State'] ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED') throw validation(`1 validation error detected: Value '${String(state)}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]`);
    const description = typeof input['Description'] === 'string' ? input['Description'] : undefined;
    const roleArn = typeof input['RoleArn'] === 'string' ? input['RoleArn'] : undefined;
    const existing = this.#rules.get(name);
    if (existing) {
      // The rule is replaced by what PutRule says (omitted values are cleared); its tags stay.
      existing.eventPattern = text;
      existing.pattern = pattern;
      existing.state = state;
      existing.description = description;
      existing.roleArn = roleArn;
      this.#ctx.trace.record('events.rule', { ruleName: name, action: 'updated', state });
      return { RuleArn: existing.arn };
    }
    const tags = ((input['Tags'] ?? []) as { Key?: unknown; Value?: unknown }[]).map((t) => {
      if (typeof t.Key !== 'string' || typeof t.Value !== 'string') throw validation('A tag needs a Key and a Value.');
      return { Key: t.Key, Value: t.Value };
    });
    const rule: Rule = { name, arn: this.ruleArn(name), eventPattern: text, pattern, state, description, roleArn, tags, targets: new Map() };
    this.#rules.set(name, rule);
    this.#ctx.trace.record('events.rule', { ruleName: name, action: 'created', state });
    return { RuleArn: rule.arn };
  }

  #ruleOutput(r: Rule): Record<string, unknown> {
    return {
      Name: r.name,
      Arn: r.arn,
      EventPattern: r.eventPattern,
      State: r.state,
      ...(r.description !== undefined && { Description: r.description }),
      ...(r.roleArn !== undefined && { RoleArn: r.roleArn }),
      EventBusName: 'default',
    };
  }

  #describeRule(input: Record<string, unknown>): unknown {
    const r = this.#rule(input, 'Name');
    return { ...this.#ruleOutput(r), CreatedBy: this.#ctx.account.accountId };
  }

  #deleteRule(input: Record<string, unknown>): unknown {
    this.#checkBus(input);
    const name = requiredString(input, 'Name', 'name');
    const r = this.#rules.get(name);
    if (!r) return {};
    if (r.targets.size > 0) throw validation("Rule can't be deleted since it has targets.");
    this.#rules.delete(name);
    this.#ctx.trace.record('events.rule', { ruleName: name, action: 'deleted' });
    return {};
  }

  #listRules(input: Record<string, unknown>): unknown {
    this.#checkBus(input);
    const prefix = typeof input['NamePrefix'] === 'string' ? input['NamePrefix'] : '';
    const limit = input['Limit'];
    if (limit !== undefined && (typeof limit !== 'number' || limit < 1 || limit > 100)) throw validation(`1 validation error detected: Value '${String(limit)}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100`);
    const names = [...this.#rules.keys()].filter((n) => n.startsWith(prefix)).sort();
    return page(names, input['NextToken'], limit as number | undefined, (n) => this.#ruleOutput(this.#rules.get(n) as Rule), 'Rules');
  }

  #setState(input: Record<string, unknown>, state: Rule['state']): unknown {
    const r = this.#rule(input, 'Name');
    r.state = state;
    this.#ctx.trace.record('events.rule', { ruleName: r.name, action: 'updated', state });
    return {};
  }

  // --- targets ------------------------------------------------------------------------------

  #putTargets(input: Record<string, unknown>): unknown {
    const targets = input['Targets'];
    if (!Array.isArray(targets) || targets.length === 0) throw validation("1 validation error detected: Value null at 'targets' failed to satisfy constraint: Member must not be null");
    if (targets.length > 10) throw validation(`1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length less than or equal to 10`);
    for (const t of targets as { Id?: unknown; Arn?: unknown }[]) {
      if (typeof t.Id !== 'string' || !NAME_RE.test(t.Id)) throw validation(`1 validation error detected: Value '${String(t.Id)}' at 'targets.member.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+`);
      if (typeof t.Arn !== 'string' || !t.Arn.startsWith('arn:')) throw validation(`Parameter ${String(t.Arn)} is not valid. Reason: Provided Arn is not in correct format.`);
    }
    const rule = this.#rule(input, 'Rule');
    const failed: { TargetId: string; ErrorCode: string; ErrorMessage: string }[] = [];
    const accepted: Target[] = [];
    for (const raw of targets as Record<string, unknown>[]) {
      const id = raw['Id'] as string;
      const arn = raw['Arn'] as string;
      if (!/^arn:[^:]+:sqs:/.test(arn)) {
        failed.push({ TargetId: id, ErrorCode: 'ValidationException', ErrorMessage: `The simulated EventBridge delivers to SQS queues only; target ${arn} is not supported.` });
        continue;
      }
      if (arn.endsWith('.fifo')) {
        failed.push({ TargetId: id, ErrorCode: 'ValidationException', ErrorMessage: 'The simulated EventBridge delivers to standard SQS queues only.' });
        continue;
      }
      if (raw['InputTransformer'] !== undefined) {
        failed.push({ TargetId: id, ErrorCode: 'ValidationException', ErrorMessage: 'The simulated EventBridge does not support InputTransformer; use Input or InputPath.' });
        continue;
      }
      const inputText = raw['Input'];
      const inputPath = raw['InputPath'];
      if (inputText !== undefined && inputPath !== undefined) throw validation(`Only one of Input, InputPath, or InputTransformer must be provided for target ${id}.`);
      if (typeof inputText === 'string') {
        try {
          JSON.parse(inputText);
        } catch {
          throw validation(`Parameter Input of target ${id} is not valid JSON.`);
        }
      }
      if (typeof inputPath === 'string' && !/^\$(\.[A-Za-z0-9_-]+)*$/.test(inputPath)) {
        failed.push({ TargetId: id, ErrorCode: 'ValidationException', ErrorMessage: `The simulated EventBridge supports InputPath of the form $.a.b only; got ${inputPath}.` });
        continue;
      }
      accepted.push({ Id: id, Arn: arn, ...(typeof inputText === 'string' && { Input: inputText }), ...(typeof inputPath === 'string' && { InputPath: inputPath }) });
    }
    const ids = new Set([...rule.targets.keys(), ...accepted.map((t) => t.Id)]);
    if (ids.size > MAX_TARGETS_PER_RULE) throw fault('LimitExceededException', `The requested resource exceeds the maximum number allowed. A rule can have at most ${MAX_TARGETS_PER_RULE} targets.`);
    for (const t of accepted) rule.targets.set(t.Id, t);
    if (accepted.length > 0) this.#ctx.trace.record('events.targets', { ruleName: rule.name, action: 'put', targetIds: accepted.map((t) => t.Id) });
    return { FailedEntryCount: failed.length, FailedEntries: failed };
  }

  #removeTargets(input: Record<string, unknown>): unknown {
    const ids = input['Ids'];
    if (!Array.isArray(ids) || ids.length === 0) throw validation("1 validation error detected: Value null at 'ids' failed to satisfy constraint: Member must not be null");
    const rule = this.#rule(input, 'Rule');
    const removed = (ids as string[]).filter((id) => rule.targets.delete(id));
    if (removed.length > 0) this.#ctx.trace.record('events.targets', { ruleName: rule.name, action: 'removed', targetIds: removed });
    return { FailedEntryCount: 0, FailedEntries: [] };
  }

  #listTargetsByRule(input: Record<string, unknown>): unknown {
    const rule = this.#rule(input, 'Rule');
    const limit = input['Limit'];
    if (limit !== undefined && (typeof limit !== 'number' || limit < 1 || limit > 100)) throw validation(`1 validation error detected: Value '${String(limit)}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100`);
    return page([...rule.targets.keys()], input['NextToken'], limit as number | undefined, (id) => ({ ...(rule.targets.get(id) as Target) }), 'Targets');
  }

  // --- events -------------------------------------------------------------------------------

  #putEvents(input: Record<string, unknown>): unknown {
    const entries = input['Entries'];
    if (!Array.isArray(entries) || entries.length === 0) throw validation("1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null");
    if (entries.length > 10) throw validation("1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10");
    const out: Record<string, string>[] = [];
    const accepted: Record<string, unknown>[] = [];
    for (const e of entries as Record<string, unknown>[]) {
      const fail = (ErrorCode: string, ErrorMessage: string) => out.push({ ErrorCode, ErrorMessage });
      const bus = e['EventBusName'];
      if (bus !== undefined && bus !== 'default' && bus !== this.#busArn()) {
        fail('ResourceNotFoundException', `Event bus ${String(bus)} does not exist.`);
        continue;
      }
      const source = e['Source'];
      const detailType = e['DetailType'];
      const detailText = e['Detail'];
      if (typeof source !== 'string' || source.length === 0) {
        fail('InvalidArgument', 'Parameter Source is not valid. Reason: Source is a required argument.');
        continue;
      }
      if (typeof detailType !== 'string' || detailType.length === 0) {
        fail('InvalidArgument', 'Parameter DetailType is not valid. Reason: DetailType is a required argument.');
        continue;
      }
      if (typeof detailText !== 'string') {
        fail('InvalidArgument', 'Parameter Detail is not valid. Reason: Detail is a required argument.');
        continue;
      }
      let detail: unknown;
      try {
        detail = JSON.parse(detailText);
      } catch {
        detail = undefined;
      }
      if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
        fail('MalformedDetail', 'Detail is malformed.');
        continue;
      }
      if (source.startsWith('aws.')) {
        fail('NotAuthorizedForSourceException', 'Not authorized for the source.');
        continue;
      }
      const time = e['Time'];
      const timeMs = time instanceof Date ? time.getTime() : this.#ctx.scheduler.nowMs;
      const resources = Array.isArray(e['Resources']) ? (e['Resources'] as unknown[]).filter((r): r is string => typeof r === 'string') : [];
      const event = this.#envelope(source, detailType, detail, resources, timeMs);
      out.push({ EventId: event['id'] as string });
      accepted.push(event);
    }
    for (const event of accepted) this.#route(event);
    return { FailedEntryCount: out.filter((x) => x['ErrorCode'] !== undefined).length, Entries: out };
  }
}

/** What a target receives: the event, or its `Input`, or the part `InputPath` selects (null: nothing). */
function targetInput(target: Target, event: Record<string, unknown>): string | null {
  if (target.Input !== undefined) return target.Input;
  if (target.InputPath === undefined || target.InputPath === '$') return JSON.stringify(event);
  let cur: unknown = event;
  for (const key of target.InputPath.slice(2).split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return null;
    cur = (cur as Record<string, unknown>)[key];
  }
  return JSON.stringify(cur);
}

/** One page of a listing; the token is the offset of the next page. */
function page<T>(items: readonly T[], token: unknown, limit: number | undefined, map: (item: T) => unknown, key: string): Record<string, unknown> {
  const start = typeof token === 'string' ? Number(Buffer.from(token, 'base64').toString('utf8')) || 0 : 0;
  const end = limit === undefined ? items.length : Math.min(items.length, start + limit);
  return {
    [key]: items.slice(start, end).map(map),
    ...(end < items.length && { NextToken: Buffer.from(String(end)).toString('base64') }),
  };
}
