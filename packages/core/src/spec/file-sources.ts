import type { ConfigIssue } from '../errors.js';
import { parseKmsKeyRef } from './kms-key-ref.js';

// The rules of `bootstrap.files[].source` (docs/secrets.md; SSM-1, S3-1 of docs/aws-behaviour.md),
// checked on the raw input before any cloud call.

type Loose = Record<string, unknown>;
const obj = (v: unknown): Loose | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** SSM-1: a parameter name: a-zA-Z0-9_.- and `/` for hierarchies (which then start with `/`), at most 15 levels. */
const PARAMETER_NAME = /^[A-Za-z0-9_.\-/]+$/;
const PARAMETER_ARN = /^arn:(aws|aws-cn|aws-us-gov):ssm:([a-z0-9-]+):(\d{12}):parameter(\/.+)$/;
/** S3-1: bucket names: 3–63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit. */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** A parsed SSM parameter reference: its name (with a leading `/` for hierarchies) and the ARN's parts when given as one. */
export interface SsmParameterRef {
  readonly name: string;
  readonly arn: { readonly partition: string; readonly region: string; readonly account: string } | null;
}

/** Parses `bootstrap.files[].source.ssm.name` (a name or an ARN), or null when it is neither. */
export function parseSsmParameter(ref: string): SsmParameterRef | null {
  const m = PARAMETER_ARN.exec(ref);
  if (m) {
    const [, partition, region, account, path] = m as unknown as [string, string, string, string, string];
    // The ARN of /a/b is …:parameter/a/b; of a flat name x, …:parameter/x.
    const name = path.slice(1).includes('/') ? path : path.slice(1);
    return nameProblem(name) === null ? { name, arn: { partition, region, account } } : null;
  }
  return nameProblem(ref) === null ? { name: ref, arn: null } : null;
}

function nameProblem(name: string): string | null {
  if (name.length === 0 || name.length > 1011) return 'must be 1 to 1011 characters';
  if (!PARAMETER_NAME.test(name)) return "may contain only letters, digits, '_', '.', '-' and '/'";
  if (name.includes('/') && !name.startsWith('/')) return "is a hierarchy (it has a '/'), so it must start with '/'";
  if (name.endsWith('/') || name.includes('//')) return "must not end with '/' or have an empty level";
  if (name.split('/').length - 1 > 15) return 'is more than 15 levels deep';
  return null;
}

/** Parses `s3://bucket/key`, or returns null when it is not that shape. */
export function parseS3Uri(uri: string): { readonly bucket: string; readonly key: string } | null {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) return null;
  const [, bucket, key] = m as unknown as [string, string, string];
  if (!BUCKET.test(bucket) || bucket.includes('..') || new TextEncoder().encode(key).length > 1024) return null;
  return { bucket, key };
}

/** The problems of every file's content/source in a raw cluster input. */
export function fileSourceIssues(root: Loose, region: string | null): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const bootstrap = obj(root['bootstrap']);
  for (const [script, field] of [['configureScript', 'configureScriptSource'], ['healthScript', 'healthScriptSource']] as const) {
    if (bootstrap?.[field] === undefined) continue;
    const add = (path: string, message: string) => issues.push({ path: `bootstrap.${field}${path}`, message });
    if (typeof bootstrap[script] === 'string' && bootstrap[script] !== '') add('', `is given with a non-empty bootstrap.${script}; give one (the script in the user data, or where the node fetches it from)`);
    const source = obj(bootstrap[field]);
    if (source) sourceIssuesOf(source, region, (path, message) => add(path.replace(/^\.source/, ''), message));
  }
  const files = bootstrap?.['files'];
  if (!Array.isArray(files)) return issues;
  files.forEach((raw, i) => {
    const f = obj(raw);
    if (!f) return;
    const at = `bootstrap.files[${i}]`;
    const add = (path: string, message: string) => issues.push({ path: `${at}${path}`, message });
    const hasContent = f['content'] !== undefined;
    const source = obj(f['source']);
    if (f['source'] === undefined && !hasContent) return add('', 'needs its content: give `content` (carried in the user data) or `source` (fetched by the node from SSM Parameter Store or S3; docs/secrets.md)');
    if (f['source'] !== undefined && hasContent) return add('', 'has both `content` and `source`; give one (a file with a source is fetched by the node and its content never enters the user data)');
    if (source) sourceIssuesOf(source, region, add);
  });
  return issues;
}

/** The problems of one source (`{ ssm } | { s3 }`); `add` takes the path below the field that holds it. */
function sourceIssuesOf(source: Loose, region: string | null, add: (path: string, message: string) => void): void {
  const ssm = obj(source['ssm']);
  const s3 = obj(source['s3']);
  if ((ssm === null) === (s3 === null)) return add('.source', 'must name exactly one of `ssm` ({ name, version? }) or `s3` ({ uri, versionId? })');
  if (ssm) {
    const name = str(ssm['name']);
    if (name === null) return;
    const ref = parseSsmParameter(name);
    if (!ref) {
      const problem = PARAMETER_ARN.test(name) ? 'is not a valid parameter ARN' : (nameProblem(name) ?? 'is not valid');
      return add('.source.ssm.name', `'${name}' ${problem}; a parameter name looks like /kafka/prod/server.properties (or give its ARN)`);
    }
    if (ref.arn && region !== null && ref.arn.region !== region) {
      add('.source.ssm.name', `the parameter is in ${ref.arn.region}, the cluster in ${region}: a node reads parameters of its own Region; copy it to ${region}`);
    }
    const key = str(ssm['kmsKeyId']);
    if (key !== null) {
      const k = parseKmsKeyRef(key);
      if (!k || k.kind !== 'key-arn') add('.source.ssm.kmsKeyId', `'${key}' must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID): the node role's kms:Decrypt names the key itself, not an alias or a bare id`);
      else if (region !== null && k.region !== region) add('.source.ssm.kmsKeyId', `the key is in ${k.region}, the cluster in ${region}: a parameter's key is in the parameter's Region`);
    }
  }
  if (s3) {
    const uri = str(s3['uri']);
    if (uri !== null && !parseS3Uri(uri)) add('.source.s3.uri', `'${uri}' must be s3://BUCKET/KEY with a valid bucket name (3–63 lowercase letters, digits, '.', '-') and a key of at most 1024 bytes`);
    const v = s3['versionId'];
    if (v !== undefined && (typeof v !== 'string' || v.length === 0)) add('.source.s3.versionId', 'must be a non-empty version id, or left out for the latest version');
  }
}
