import type { AuthorizationCheck, ServiceContext } from '../service.js';

// Helpers shared by the authorizers: reading SDK-shaped inputs, ARNs, tag context keys.

export type Context = Record<string, string | readonly string[]>;
export type Input = Record<string, unknown>;

export function check(action: string, resource: string, context: Context, extra: Pick<AuthorizationCheck, 'onBehalfOf' | 'resourcePolicy'> = {}): AuthorizationCheck {
  return { action, resource, context, ...extra };
}

/**
 * The parts merged in order into one new context (a later part's key wins; falsy parts are
 * skipped). Contexts have keys made at run time (`aws:ResourceTag/<key>`), which V8 keeps as
 * dictionaries: copying them key by key is many times cheaper than object spread here.
 */
export function merge(...parts: readonly (Context | false | null | undefined)[]): Context {
  const out: Context = {};
  for (const p of parts) {
    if (!p) continue;
    for (const k in p) out[k] = p[k] as string | readonly string[];
  }
  return out;
}

/** `<prefix>/<key>` condition key names, made once per tag key. */
const keyNames = new Map<string, Map<string, string>>();

function keyName(prefix: string, key: string): string {
  let byKey = keyNames.get(prefix);
  if (byKey === undefined) {
    byKey = new Map();
    keyNames.set(prefix, byKey);
  }
  let name = byKey.get(key);
  if (name === undefined) {
    name = `${prefix}/${key}`;
    if (byKey.size < 10_000) byKey.set(key, name);
  }
  return name;
}

export function str(input: Input, field: string): string | null {
  const v = input[field];
  return typeof v === 'string' && v !== '' ? v : null;
}

export function strs(input: Input, field: string): string[] {
  const v = input[field];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function num(input: Input, field: string): number | null {
  const v = input[field];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function bool(input: Input, field: string): boolean | null {
  const v = input[field];
  return typeof v === 'boolean' ? v : null;
}

export function obj(input: Input, field: string): Input | null {
  const v = input[field];
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Input) : null;
}

export function objs(input: Input, field: string): Input[] {
  const v = input[field];
  return Array.isArray(v) ? v.filter((x): x is Input => x !== null && typeof x === 'object' && !Array.isArray(x)) : [];
}

/** `[{Key, Value}]` (EC2, Auto Scaling, DynamoDB, EventBridge tag lists) as a record; the last value of a key wins. */
export function tagList(list: readonly Input[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of list) {
    const k = str(t, 'Key');
    if (k !== null) out[k] = typeof t['Value'] === 'string' ? t['Value'] : '';
  }
  return out;
}

/** `aws:RequestTag/<k>` for every tag and `aws:TagKeys` (IAM User Guide, "Controlling access during AWS requests"). */
export function requestTagKeys(tags: Readonly<Record<string, string>>): Context {
  const keys = Object.keys(tags);
  if (keys.length === 0) return {};
  const out: Context = { 'aws:TagKeys': keys };
  for (const k of keys) out[keyName('aws:RequestTag', k)] = tags[k] as string;
  return out;
}

/** `aws:ResourceTag/<k>` and the service's own `<service>:ResourceTag/<k>` for every tag the resource has now. */
export function resourceTagKeys(tags: Readonly<Record<string, string>>, servicePrefix: 'ec2' | 'autoscaling' | null): Context {
  const out: Context = {};
  const own = servicePrefix === null ? null : `${servicePrefix}:ResourceTag`;
  for (const k in tags) {
    const v = tags[k] as string;
    out[keyName('aws:ResourceTag', k)] = v;
    if (own !== null) out[keyName(own, k)] = v;
  }
  return out;
}

export function regionalArn(ctx: ServiceContext, service: string, resource: string): string {
  return `arn:${ctx.partition}:${service}:${ctx.region}:${ctx.accountId}:${resource}`;
}

export function iamRoleArn(ctx: ServiceContext, roleNameWithPath: string): string {
  return `arn:${ctx.partition}:iam::${ctx.accountId}:role/${roleNameWithPath}`;
}

/**
 * `iam:PassRole` for the role of an instance profile given by name or ARN, passed to EC2 (IAM
 * User Guide, "Grant a user permissions to pass a role to an AWS service"; EC2 User Guide, "IAM
 * roles for Amazon EC2": launching with an instance profile needs `iam:PassRole` on its role).
 * Null when the account has no such profile (the request then fails on its own).
 */
export function passInstanceRole(ctx: ServiceContext, profile: Input | null): AuthorizationCheck | null {
  if (profile === null) return null;
  const byName = str(profile, 'Name');
  const byArn = str(profile, 'Arn');
  let p = byName !== null ? ctx.sim.iam.instanceProfiles.get(byName) : undefined;
  if (!p && byArn !== null) p = [...ctx.sim.iam.instanceProfiles.values()].find((x) => x.arn === byArn);
  if (!p) return null;
  const role = ctx.sim.iam.roles.get(p.roleName);
  return check('iam:PassRole', role?.arn ?? iamRoleArn(ctx, p.roleName), {
    'iam:PassedToService': 'ec2.amazonaws.com',
    'iam:AssociatedResourceArn': regionalArn(ctx, 'ec2', 'instance/*'),
  });
}

/**
 * The KMS calls EC2 makes on the caller's behalf for an encrypted volume under a customer
 * managed key, as the caller (EBS User Guide, "Requirements for Amazon EBS encryption":
 * kms:CreateGrant, kms:Decrypt, kms:DescribeKey, kms:GenerateDataKeyWithoutPlaintext,
 * kms:ReEncrypt*; "How Amazon EBS encryption works": creating a volume makes EC2 call
 * GenerateDataKeyWithoutPlaintext, attaching it CreateGrant then Decrypt). `kms:ViaService` is
 * `ec2.<region>.amazonaws.com` and `kms:GrantIsForAWSResource` is true for the grant (KMS
 * Developer Guide, "AWS KMS condition keys"). ReEncrypt (a volume from a snapshot under another
 * key) is not modelled: the simulated snapshots do not record their key.
 */
export function kmsOnBehalfOfEc2(ctx: ServiceContext, keyArn: string, actions: readonly ('kms:CreateGrant' | 'kms:Decrypt' | 'kms:DescribeKey' | 'kms:GenerateDataKeyWithoutPlaintext')[]): AuthorizationCheck[] {
  const base: Context = {
    'kms:ViaService': `ec2.${ctx.region}.amazonaws.com`,
    'kms:CallerAccount': ctx.accountId,
    'aws:ViaAWSService': 'true',
  };
  return actions.map((a) => check(a, keyArn, a === 'kms:CreateGrant' ? merge(base, { 'kms:GrantIsForAWSResource': 'true' }) : base, { onBehalfOf: 'kms' }));
}
