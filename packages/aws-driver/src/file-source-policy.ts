import { parseS3Uri, parseSsmParameter, type ClusterSpec } from '@berth/core';
import type { IamStatement } from './iam-policy.js';

/** The ARN of a file's SSM parameter (a name's ARN has no leading `/` after `parameter`). */
export function parameterArn(name: string, part: string, region: string, acct: string): string {
  const ref = parseSsmParameter(name);
  if (ref?.arn) return name;
  const bare = (ref?.name ?? name).replace(/^\//, '');
  return `arn:${part}:ssm:${region}:${acct}:parameter/${bare}`;
}

/**
 * The node role's statements for the spec's file sources (docs/secrets.md; IAM-14 … IAM-16 of
 * docs/aws-behaviour.md): `ssm:GetParameter` on exactly the named parameters, `kms:Decrypt` (via
 * SSM only) on the customer keys named for them — a SecureString under the default `aws/ssm`
 * key needs none, that key's policy lets every principal of the account use it through SSM —
 * and `s3:GetObject` (`s3:GetObjectVersion` for a pinned version) on exactly the named objects.
 * Empty when no file has a source.
 */
export function fileSourceStatements(spec: ClusterSpec, part: string, acct: string): IamStatement[] {
  const region = spec.region;
  const sources = spec.bootstrap.files.flatMap((f) => (f.source ? [f.source] : []));
  const parameters = [...new Set(sources.flatMap((s) => (s.ssm ? [parameterArn(s.ssm.name, part, region, acct)] : [])))];
  const keys = [...new Set(sources.flatMap((s) => (s.ssm?.kmsKeyId !== undefined ? [s.ssm.kmsKeyId] : [])))];
  const object = (uri: string) => {
    const o = parseS3Uri(uri);
    return `arn:${part}:s3:::${o?.bucket ?? ''}/${o?.key ?? ''}`;
  };
  const latest = [...new Set(sources.flatMap((s) => (s.s3 && s.s3.versionId === undefined ? [object(s.s3.uri)] : [])))];
  const versioned = [...new Set(sources.flatMap((s) => (s.s3?.versionId !== undefined ? [object(s.s3.uri)] : [])))];
  const out: IamStatement[] = [];
  if (parameters.length > 0) out.push({ Sid: 'ReadFileParameters', Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: parameters });
  if (keys.length > 0) {
    out.push({ Sid: 'DecryptFileParameters', Effect: 'Allow', Action: ['kms:Decrypt'], Resource: keys, Condition: { StringEquals: { 'kms:ViaService': `ssm.${region}.amazonaws.com` } } });
  }
  if (latest.length > 0) out.push({ Sid: 'ReadFileObjects', Effect: 'Allow', Action: ['s3:GetObject'], Resource: latest });
  if (versioned.length > 0) out.push({ Sid: 'ReadFileObjectVersions', Effect: 'Allow', Action: ['s3:GetObjectVersion'], Resource: versioned });
  return out;
}

/**
 * The controller's statements for preflight's file-source check: `ssm:DescribeParameters` (no
 * resource-level permission) and listing exactly the objects' keys (`s3:ListBucket`,
 * `s3:ListBucketVersions` for pinned versions, with `s3:prefix` = the key) — never reading them.
 */
export function fileSourceCheckStatements(spec: ClusterSpec, part: string): IamStatement[] {
  const sources = spec.bootstrap.files.flatMap((f) => (f.source ? [f.source] : []));
  const out: IamStatement[] = [];
  if (sources.some((s) => s.ssm)) out.push({ Sid: 'CheckFileParameters', Effect: 'Allow', Action: ['ssm:DescribeParameters'], Resource: '*' });
  for (const [sid, action, versioned] of [['CheckFileObjects', 's3:ListBucket', false], ['CheckFileObjectVersions', 's3:ListBucketVersions', true]] as const) {
    const objects = sources.flatMap((s) => (s.s3 && (s.s3.versionId !== undefined) === versioned ? [parseS3Uri(s.s3.uri)] : [])).filter((o): o is { bucket: string; key: string } => o !== null);
    if (objects.length === 0) continue;
    out.push({
      Sid: sid,
      Effect: 'Allow',
      Action: [action],
      Resource: [...new Set(objects.map((o) => `arn:${part}:s3:::${o.bucket}`))],
      Condition: { StringEquals: { 's3:prefix': [...new Set(objects.map((o) => o.key))] } },
    });
  }
  return out;
}
