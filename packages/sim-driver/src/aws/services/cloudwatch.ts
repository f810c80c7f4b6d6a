// Simulated CloudWatch alarms, as far as FIS game-days use them (stop conditions): PutMetricAlarm,
// DescribeAlarms, SetAlarmState (to trip an alarm, as AWS documents it for testing), DeleteAlarms.
// Alarms hold the state they are set to: no metrics are simulated, so an alarm leaves
// INSUFFICIENT_DATA only through SetAlarmState. Rules CW-1…CW-7 (docs/aws-behaviour.md).
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html

import type { SimContext } from '../../sim-context.js';
import { SimFault } from '../aws-error.js';
import type { SimService } from '../service.js';

export type SimAlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface SimAlarm {
  readonly name: string;
  readonly arn: string;
  readonly input: Readonly<Record<string, unknown>>;
  state: SimAlarmState;
  reason: string;
  updatedAtMs: number;
  readonly tags: Readonly<Record<string, string>>;
}

const STATES = new Set<SimAlarmState>(['OK', 'ALARM', 'INSUFFICIENT_DATA']);
const COMPARISONS = new Set(['GreaterThanOrEqualToThreshold', 'GreaterThanThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold', 'LessThanLowerOrGreaterThanUpperThreshold', 'LessThanLowerThreshold', 'GreaterThanUpperThreshold']);

/** The simulated account's alarms, and listeners for their state changes (FIS stop conditions). */
export class SimCloudWatch {
  readonly alarms = new Map<string, SimAlarm>();
  readonly #listeners: ((alarm: SimAlarm) => void)[] = [];
  readonly #ctx: SimContext;
  readonly service: SimService;

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
    this.service = { name: 'cloudwatch', operations: this.#operations() };
  }

  arnOf(name: string): string {
    const a = this.#ctx.account;
    return `arn:${a.partition}:cloudwatch:${a.region}:${a.accountId}:alarm:${name}`;
  }

  /** The alarm an ARN names, if it exists. */
  byArn(arn: string): SimAlarm | undefined {
    const name = arn.slice(arn.indexOf(':alarm:') + ':alarm:'.length);
    const a = this.alarms.get(name);
    return a && a.arn === arn ? a : undefined;
  }

  onStateChange(fn: (alarm: SimAlarm) => void): () => void {
    this.#listeners.push(fn);
    return () => {
      const i = this.#listeners.indexOf(fn);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  #set(alarm: SimAlarm, state: SimAlarmState, reason: string): void {
    const changed = alarm.state !== state;
    alarm.state = state;
    alarm.reason = reason;
    alarm.updatedAtMs = this.#ctx.scheduler.nowMs;
    this.#ctx.trace.record('cloudwatch.alarm-state', { alarm: alarm.name, state, reason });
    if (changed) for (const l of [...this.#listeners]) l(alarm);
  }

  #operations(): SimService['operations'] {
    const required = (input: Record<string, unknown>, field: string): unknown => {
      const v = input[field];
      // CW-1: a missing required parameter is MissingParameter.
      if (v === undefined || v === null || v === '') throw new SimFault('MissingParameter', `The parameter ${field} is required.`);
      return v;
    };
    const view = (a: SimAlarm): Record<string, unknown> => ({
      ...a.input,
      AlarmName: a.name,
      AlarmArn: a.arn,
      StateValue: a.state,
      StateReason: a.reason,
      StateUpdatedTimestamp: new Date(a.updatedAtMs),
      AlarmConfigurationUpdatedTimestamp: new Date(a.updatedAtMs),
      ActionsEnabled: a.input['ActionsEnabled'] ?? true,
    });
    return {
      PutMetricAlarm: (input) => {
        const name = String(required(input, 'AlarmName'));
        if (name.length > 255) throw new SimFault('InvalidParameterValue', `AlarmName must be at most 255 characters.`);
        required(input, 'EvaluationPeriods');
        required(input, 'ComparisonOperator');
        const periods = Number(input['EvaluationPeriods']);
        if (!Number.isInteger(periods) || periods < 1) throw new SimFault('InvalidParameterValue', `EvaluationPeriods must be at least 1.`);
        if (!COMPARISONS.has(String(input['ComparisonOperator']))) throw new SimFault('InvalidParameterValue', `Invalid ComparisonOperator ${String(input['ComparisonOperator'])}.`);
        const metrics = input['Metrics'];
        if (metrics === undefined) {
          required(input, 'MetricName');
          required(input, 'Namespace');
          required(input, 'Period');
          if (input['Statistic'] === undefined && input['ExtendedStatistic'] === undefined) throw new SimFault('MissingParameter', 'One of Statistic or ExtendedStatistic is required.');
        }
        const tags: Record<string, string> = {};
        for (const t of (input['Tags'] as { Key?: string; Value?: string }[] | undefined) ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
        const existing = this.alarms.get(name);
        const now = this.#ctx.scheduler.nowMs;
        const { Tags: _tags, ...config } = input;
        if (existing) {
          // CW-2: PutMetricAlarm on an existing name replaces its configuration; the state is kept.
          this.alarms.set(name, { ...existing, input: config, updatedAtMs: now });
        } else {
          // CW-3: a new alarm starts in INSUFFICIENT_DATA.
          this.alarms.set(name, { name, arn: this.arnOf(name), input: config, state: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation', updatedAtMs: now, tags });
        }
        return {};
      },
      DescribeAlarms: (input) => {
        const names = (input['AlarmNames'] as string[] | undefined) ?? null;
        const prefix = typeof input['AlarmNamePrefix'] === 'string' ? input['AlarmNamePrefix'] : null;
        const state = typeof input['StateValue'] === 'string' ? input['StateValue'] : null;
        if (names && names.length > 100) throw new SimFault('InvalidParameterValue', 'AlarmNames takes at most 100 names.');
        const types = (input['AlarmTypes'] as string[] | undefined) ?? ['MetricAlarm'];
        // CW-4: names that do not exist are left out, not an error.
        const out = [...this.alarms.values()].filter((a) => (names === null || names.includes(a.name)) && (prefix === null || a.name.startsWith(prefix)) && (state === null || a.state === state)).sort((a, b) => a.name.localeCompare(b.name));
        return { MetricAlarms: types.includes('MetricAlarm') ? out.map(view) : [], CompositeAlarms: [] };
      },
      SetAlarmState: (input) => {
        const name = String(required(input, 'AlarmName'));
        const state = String(required(input, 'StateValue')) as SimAlarmState;
        const reason = String(required(input, 'StateReason'));
        if (!STATES.has(state)) throw new SimFault('InvalidParameterValue', `Invalid StateValue ${state}.`);
        const a = this.alarms.get(name);
        // CW-5: SetAlarmState on an alarm that does not exist: ResourceNotFound (404).
        if (!a) throw new SimFault('ResourceNotFound', `Alarm ${name} not found`, 404);
        this.#set(a, state, reason);
        return {};
      },
      DeleteAlarms: (input) => {
        const names = (required(input, 'AlarmNames') as string[]) ?? [];
        // CW-6: with any name that does not exist, nothing is deleted.
        const missing = names.filter((n) => !this.alarms.has(n));
        if (missing.length > 0) throw new SimFault('ResourceNotFound', `Alarm ${missing.join(', ')} not found`, 404);
        for (const n of names) this.alarms.delete(n);
        return {};
      },
    };
  }
}
