// How IAM authorizes the FIS and CloudWatch operations the simulator answers:
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsfaultinjectionservice.html
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
// CreateExperimentTemplate also needs iam:PassRole on the experiment role, passed to
// fis.amazonaws.com (FIS-8). The experiment's own actions are authorized as its role when they
// run (services/fis.ts).

import type { SimContext } from '../../sim-context.js';
import { simFisOf } from '../services/fis.js';
import type { Authorizer } from '../service.js';
import { check, iamRoleArn, regionalArn, requestTagKeys, resourceTagKeys, str, strs, type Input } from './authorize-common.js';

const NONE = { templates: new Map<string, { tags: Record<string, string> }>(), experiments: new Map<string, { tags: Record<string, string> }>() };
const fisOf = (sim: SimContext): Pick<typeof NONE, 'templates' | 'experiments'> => simFisOf(sim) ?? NONE;

function tagsOf(input: Input, field: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((input[field] ?? {}) as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** An IAM role's ARN (any partition); what iam:PassRole can be evaluated on. */
const IAM_ROLE_ARN = /^arn:[a-z-]+:iam::\d{12}:role\/.+/;

export const FIS_AUTHORIZERS: Readonly<Record<string, Authorizer>> = {
  CreateExperimentTemplate(input, ctx) {
    const tags = requestTagKeys(tagsOf(input, 'tags'));
    const actions = Object.values((input['actions'] ?? {}) as Record<string, { actionId?: string }>).map((a) => a.actionId ?? '');
    const roleArn = str(input, 'roleArn') ?? iamRoleArn(ctx, 'unknown');
    return [
      check('fis:CreateExperimentTemplate', regionalArn(ctx, 'fis', 'experiment-template/*'), tags),
      ...[...new Set(actions)].map((id) => check('fis:CreateExperimentTemplate', regionalArn(ctx, 'fis', `action/${id}`), tags)),
      // A roleArn that is no IAM role ARN names nothing to pass: the request is malformed, and the
      // service answers ValidationException (FIS-13).
      ...(IAM_ROLE_ARN.test(roleArn) ? [check('iam:PassRole', roleArn, { 'iam:PassedToService': 'fis.amazonaws.com' })] : []),
    ];
  },
  GetExperimentTemplate(input, ctx) {
    const id = str(input, 'id') ?? '';
    return [check('fis:GetExperimentTemplate', regionalArn(ctx, 'fis', `experiment-template/${id}`), resourceTagKeys(fisOf(ctx.sim).templates.get(id)?.tags ?? {}, null))];
  },
  DeleteExperimentTemplate(input, ctx) {
    const id = str(input, 'id') ?? '';
    return [check('fis:DeleteExperimentTemplate', regionalArn(ctx, 'fis', `experiment-template/${id}`), resourceTagKeys(fisOf(ctx.sim).templates.get(id)?.tags ?? {}, null))];
  },
  StartExperiment(input, ctx) {
    const id = str(input, 'experimentTemplateId') ?? '';
    return [
      check('fis:StartExperiment', regionalArn(ctx, 'fis', `experiment-template/${id}`), resourceTagKeys(fisOf(ctx.sim).templates.get(id)?.tags ?? {}, null)),
      check('fis:StartExperiment', regionalArn(ctx, 'fis', 'experiment/*'), requestTagKeys(tagsOf(input, 'tags'))),
    ];
  },
  GetExperiment(input, ctx) {
    const id = str(input, 'id') ?? '';
    return [check('fis:GetExperiment', regionalArn(ctx, 'fis', `experiment/${id}`), resourceTagKeys(fisOf(ctx.sim).experiments.get(id)?.tags ?? {}, null))];
  },
  StopExperiment(input, ctx) {
    const id = str(input, 'id') ?? '';
    return [check('fis:StopExperiment', regionalArn(ctx, 'fis', `experiment/${id}`), resourceTagKeys(fisOf(ctx.sim).experiments.get(id)?.tags ?? {}, null))];
  },
  ListExperiments() {
    return [check('fis:ListExperiments', '*', {})];
  },
};

const alarm = (ctx: Parameters<Authorizer>[1], name: string): string => regionalArn(ctx, 'cloudwatch', `alarm:${name}`);

export const CLOUDWATCH_AUTHORIZERS: Readonly<Record<string, Authorizer>> = {
  PutMetricAlarm(input, ctx) {
    const tags: Record<string, string> = {};
    for (const t of (input['Tags'] as { Key?: string; Value?: string }[] | undefined) ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
    const name = str(input, 'AlarmName') ?? '';
    // Without a name there is no alarm to authorize: the service answers MissingParameter (CW-1).
    if (name === '') return [];
    const out = [check('cloudwatch:PutMetricAlarm', alarm(ctx, name), requestTagKeys(tags))];
    if (Object.keys(tags).length > 0) out.push(check('cloudwatch:TagResource', alarm(ctx, name), requestTagKeys(tags)));
    return out;
  },
  DescribeAlarms(_input, ctx) {
    return [check('cloudwatch:DescribeAlarms', alarm(ctx, '*'), {})];
  },
  SetAlarmState(input, ctx) {
    const name = str(input, 'AlarmName') ?? '';
    return name === '' ? [] : [check('cloudwatch:SetAlarmState', alarm(ctx, name), {})];
  },
  DeleteAlarms(input, ctx) {
    return strs(input, 'AlarmNames').map((n) => check('cloudwatch:DeleteAlarms', alarm(ctx, n), {}));
  },
};
