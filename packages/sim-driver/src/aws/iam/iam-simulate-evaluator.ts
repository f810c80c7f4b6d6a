// `@cloud-copilot/iam-simulate` is AGPL-3.0-or-later and Berth is Apache-2.0: it is an optional
// peer dependency, loaded only here, only when a simulation evaluates IAM. Its types are used for
// type-checking alone (erased from the build).
import type * as IamSimulate from '@cloud-copilot/iam-simulate';
import type { Simulation } from '@cloud-copilot/iam-simulate';
import type { IamDecision, IamEvaluationRequest, IamEvaluator } from './iam-decision.js';

type IamSimulateModule = typeof IamSimulate;

/** The version this evaluator was written and tested against (its decisions are pinned by it). */
export const IAM_SIMULATE_VERSION = '0.1.173';

/**
 * What a request resource ARN's `*` becomes before the library sees it. AWS evaluates the ARN of
 * a resource being created (`…:volume/*`, a new group's `autoScalingGroup:*:…`) as a literal
 * string that policy patterns match; iam-simulate instead reads a `*` in a request resource as a
 * pattern and allows when *any* resource it could stand for would be allowed (so a policy on
 * `…autoScalingGroupName/berth-demo-*` would allow creating `…autoScalingGroupName/other`). A
 * single character no policy contains keeps the literal reading: policy `*` and `?` match it, as
 * they match a literal `*`, and no literal character does.
 */
export const LITERAL_STAR = '\u2217';

/** Services whose authorization data {@link loadIamSimulateEvaluator} loads up front. */
const WARM_UP: readonly { readonly action: string; readonly resource: string; readonly context: Record<string, string | string[]> }[] = [
  { action: 'ec2:CreateTags', resource: 'arn:aws:ec2:us-east-1:000000000000:volume/vol-0', context: { 'ec2:CreateAction': 'CreateVolume', 'aws:ResourceTag/k': 'v', 'ec2:ResourceTag/k': 'v', 'aws:RequestTag/k': 'v', 'aws:TagKeys': ['k'], 'ec2:Region': 'us-east-1' } },
  { action: 'ec2:DescribeInstances', resource: '*', context: { 'ec2:Region': 'us-east-1' } },
  { action: 'autoscaling:UpdateAutoScalingGroup', resource: 'arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:0:autoScalingGroupName/g', context: { 'autoscaling:ResourceTag/k': 'v', 'autoscaling:MinSize': '1' } },
  { action: 'route53:ChangeResourceRecordSets', resource: 'arn:aws:route53:::hostedzone/Z0', context: { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['a.example.com'], 'route53:ChangeResourceRecordSetsRecordTypes': ['A'], 'route53:ChangeResourceRecordSetsActions': ['UPSERT'] } },
  { action: 'dynamodb:UpdateItem', resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/t', context: { 'dynamodb:LeadingKeys': ['k'] } },
  { action: 'sqs:SendMessage', resource: 'arn:aws:sqs:us-east-1:000000000000:q', context: { 'aws:SourceArn': 'arn:aws:events:us-east-1:000000000000:rule/r' } },
  { action: 'events:PutRule', resource: 'arn:aws:events:us-east-1:000000000000:rule/r', context: { 'events:source': ['aws.autoscaling'], 'aws:RequestTag/k': 'v', 'aws:TagKeys': ['k'] } },
  { action: 'elasticloadbalancing:RegisterTargets', resource: 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/t/0123456789abcdef', context: { 'aws:ResourceTag/k': 'v', 'elasticloadbalancing:ResourceTag/k': 'v' } },
  { action: 'kms:CreateGrant', resource: 'arn:aws:kms:us-east-1:000000000000:key/k', context: { 'kms:ViaService': 'ec2.us-east-1.amazonaws.com', 'kms:GrantIsForAWSResource': 'true', 'kms:CallerAccount': '000000000000' } },
  { action: 'iam:PassRole', resource: 'arn:aws:iam::000000000000:role/r', context: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
  { action: 'iam:CreateServiceLinkedRole', resource: 'arn:aws:iam::000000000000:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling', context: { 'iam:AWSServiceName': 'autoscaling.amazonaws.com' } },
];

/** Every condition operator family, so that their code paths have run before the first real request. */
const WARM_UP_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: '*',
      Resource: '*',
      Condition: {
        StringEqualsIfExists: { 'aws:RequestTag/k': 'v' },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['k'] },
        'ForAnyValue:StringLike': { 'events:source': ['aws.*'] },
        Bool: { 'kms:GrantIsForAWSResource': 'true' },
        Null: { 'aws:ResourceTag/absent': 'true' },
        NumericLessThanEquals: { 'autoscaling:MinSize': '10' },
        IpAddressIfExists: { 'aws:EC2InstanceSourcePrivateIPv4': '10.0.0.0/8' },
        ArnLikeIfExists: { 'aws:SourceArn': 'arn:aws:events:*:*:rule/*' },
      },
    },
  ],
};

/**
 * An {@link IamEvaluator} over `@cloud-copilot/iam-simulate` (pinned to 0.1.173): evaluates the
 * caller's identity policies — and the resource's policy when the request carries one — for
 * one action on one resource with its request context, as AWS does. Loads the library with a
 * dynamic `import()` (it is an optional peer dependency: AGPL-3.0-or-later) and its data for
 * every service the simulator authorizes, so later evaluations read no file. An evaluation the
 * library cannot make (an invalid policy, an unknown action, a resource that is not of the
 * action's types) throws with the library's reason: it is never read as an allow.
 *
 * A fresh evaluation costs milliseconds (measured on the 2-core dev machine: 1.5–3 ms against
 * Berth's node policy, 2.5–6 ms against its controller policy, depending on load): wrap the
 * evaluator in {@link memoizeEvaluator}, which answers a repeated request in microseconds.
 *
 * @example
 * ```ts
 * const evaluator = memoizeEvaluator(await loadIamSimulateEvaluator());
 * const decision = await evaluator.evaluate({ principalArn, accountId, action: 'ec2:AttachVolume', resource, context, policies });
 * ```
 */
export async function loadIamSimulateEvaluator(): Promise<IamEvaluator> {
  const lib = await importIamSimulate();
  const evaluator = new IamSimulateEvaluator(lib);
  for (const w of WARM_UP) {
    await evaluator.evaluate({
      principalArn: 'arn:aws:sts::000000000000:assumed-role/warm-up/warm-up',
      accountId: '000000000000',
      action: w.action,
      resource: w.resource,
      context: w.context,
      policies: { key: 'warm-up', documents: [{ name: 'warm-up', document: WARM_UP_POLICY }] },
    });
  }
  // The resource-policy and service-principal paths (an SQS queue policy for EventBridge).
  await evaluator.evaluate({
    principalArn: 'events.amazonaws.com',
    accountId: '000000000000',
    action: 'sqs:SendMessage',
    resource: 'arn:aws:sqs:us-east-1:000000000000:q',
    context: { 'aws:SourceArn': 'arn:aws:events:us-east-1:000000000000:rule/r' },
    policies: { key: 'warm-up-service', documents: [] },
    resourcePolicy: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: '*', Condition: { ArnEquals: { 'aws:SourceArn': 'arn:aws:events:us-east-1:000000000000:rule/r' } } }],
    },
  });
  return evaluator;
}

async function importIamSimulate(): Promise<IamSimulateModule> {
  try {
    return await import('@cloud-copilot/iam-simulate');
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw iamSimulateMissingError(e);
    throw e;
  }
}

/** The error for a process without `@cloud-copilot/iam-simulate`: how to install it, or to turn IAM off. */
export function iamSimulateMissingError(cause: unknown): Error {
  return new Error(
    `IAM evaluation in the simulator needs @cloud-copilot/iam-simulate@${IAM_SIMULATE_VERSION}, which is not installed. ` +
      `Install it (\`npm install --save-dev @cloud-copilot/iam-simulate@${IAM_SIMULATE_VERSION}\`; its licence is AGPL-3.0-or-later, so check that it suits your use), ` +
      `or create the simulation with \`iam: 'off'\` to allow every call.`,
    { cause },
  );
}

class IamSimulateEvaluator implements IamEvaluator {
  readonly #lib: IamSimulateModule;

  constructor(lib: IamSimulateModule) {
    this.#lib = lib;
  }

  async evaluate(request: IamEvaluationRequest): Promise<IamDecision> {
    const resource = literalResource(request.resource);
    const resourcePolicy = request.resourcePolicy ?? defaultKeyPolicy(request);
    const simulation: Simulation = {
      request: {
        principal: request.principalArn,
        action: request.action,
        resource: { resource, accountId: request.accountId },
        contextVariables: mutableContext(request.context),
      },
      identityPolicies: request.policies.documents.map((d) => ({ name: d.name, policy: d.document })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy !== undefined && { resourcePolicy }),
    };
    const result = await this.#lib.runSimulation(simulation, { simulationMode: 'Strict' });
    if (result.resultType === 'error') {
      const { message, ...details } = result.errors;
      throw new Error(
        `IAM evaluation of ${request.action} on ${request.resource} for ${request.principalArn} failed: ${message}` +
          (Object.keys(details).length > 0 ? ` ${JSON.stringify(details)}` : '') +
          ` (@cloud-copilot/iam-simulate; a simulator bug or an invalid policy, never an allow)`,
      );
    }
    return result.overallResult;
  }
}

/** The resource ARN as the library must see it: `*` alone means every resource; a `*` inside an ARN is literal. */
export function literalResource(resource: string): string {
  return resource === '*' || !resource.includes('*') ? resource : resource.replaceAll('*', LITERAL_STAR);
}

function mutableContext(context: IamEvaluationRequest['context']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(context)) out[k] = typeof v === 'string' ? v : [...v];
  return out;
}

/**
 * A KMS key is authorized by its key policy too. The simulated account's keys carry the default
 * key policy, which lets IAM policies of the account grant access (AWS KMS Developer Guide,
 * "Default key policy": `Principal: {AWS: arn:<partition>:iam::<account>:root}`, `kms:*`).
 */
function defaultKeyPolicy(request: IamEvaluationRequest): unknown {
  if (!request.action.toLowerCase().startsWith('kms:')) return undefined;
  const partition = request.resource.split(':')[1] ?? 'aws';
  return {
    Version: '2012-10-17',
    Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:${partition}:iam::${request.accountId}:root` }, Action: 'kms:*', Resource: '*' }],
  };
}
