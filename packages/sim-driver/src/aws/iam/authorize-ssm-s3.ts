// How IAM authorizes the SSM Parameter Store and S3 operations the simulator answers:
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
// IAM-14: ssm:GetParameter on the parameter's ARN; a SecureString under a customer managed key
// also needs kms:Decrypt on that key, via SSM (IAM-16: the aws/ssm key's own policy allows the account).
// IAM-15: s3:GetObject on arn:<partition>:s3:::<bucket>/<key>, s3:GetObjectVersion with a VersionId;
// HeadObject is authorized as GetObject.

import type { Authorizer, ServiceContext } from '../service.js';
import { parameterArn, parseParameterRequest } from '../services/ssm.js';
import { check, regionalArn, str } from './authorize-common.js';

function customerKeyArn(ctx: ServiceContext, keyId: string | null): string | null {
  if (keyId === null || keyId === 'alias/aws/ssm') return null;
  return keyId.startsWith('arn:') ? keyId : regionalArn(ctx, 'kms', keyId.startsWith('alias/') ? keyId : `key/${keyId}`);
}

function getParameter(input: Record<string, unknown>, ctx: ServiceContext, name: string) {
  let parsed: { name: string };
  try {
    parsed = parseParameterRequest(ctx, name);
  } catch {
    parsed = { name };
  }
  const checks = [check('ssm:GetParameter', parameterArn(ctx, parsed.name), {})];
  const p = ctx.sim.state.parameters.get(parsed.name);
  const key = p?.type === 'SecureString' && input['WithDecryption'] === true ? customerKeyArn(ctx, p.keyId) : null;
  if (key !== null) checks.push(check('kms:Decrypt', key, { 'kms:ViaService': `ssm.${ctx.region}.amazonaws.com`, 'kms:CallerAccount': ctx.accountId, 'aws:ViaAWSService': 'true' }));
  return checks;
}

export const SSM_AUTHORIZERS: Readonly<Record<string, Authorizer>> = {
  GetParameter: (input, ctx) => getParameter(input, ctx, str(input, 'Name') ?? ''),
  GetParameters: (input, ctx) =>
    (Array.isArray(input['Names']) ? (input['Names'] as string[]) : []).flatMap((n) => getParameter(input, ctx, n).map((c) => (c.action === 'ssm:GetParameter' ? { ...c, action: 'ssm:GetParameters' } : c))),
  PutParameter: (input, ctx) => [check('ssm:PutParameter', parameterArn(ctx, str(input, 'Name') ?? ''), {})],
  DescribeParameters: () => [check('ssm:DescribeParameters', '*', {})],
};

const objectArn = (ctx: ServiceContext, input: Record<string, unknown>) => `arn:${ctx.partition}:s3:::${str(input, 'Bucket') ?? ''}/${str(input, 'Key') ?? ''}`;
const read: Authorizer = (input, ctx) => [check(str(input, 'VersionId') === null ? 's3:GetObject' : 's3:GetObjectVersion', objectArn(ctx, input), {})];

export const S3_AUTHORIZERS: Readonly<Record<string, Authorizer>> = {
  GetObject: read,
  HeadObject: read,
  PutObject: (input, ctx) => [check('s3:PutObject', objectArn(ctx, input), {})],
  ListObjectsV2: (input, ctx) => [check('s3:ListBucket', `arn:${ctx.partition}:s3:::${str(input, 'Bucket') ?? ''}`, { 's3:prefix': str(input, 'Prefix') ?? '' })],
  ListObjectVersions: (input, ctx) => [check('s3:ListBucketVersions', `arn:${ctx.partition}:s3:::${str(input, 'Bucket') ?? ''}`, { 's3:prefix': str(input, 'Prefix') ?? '' })],
};
