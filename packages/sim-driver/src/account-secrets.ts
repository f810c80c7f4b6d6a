import type { SimContext } from './sim-context.js';

/** Options of `SimAccount.putParameter`. */
export interface SimPutParameterOptions {
  /** Default `SecureString`. */
  readonly type?: 'String' | 'SecureString';
  /** A SecureString's key: a customer managed key ARN (default: the AWS managed `alias/aws/ssm`). */
  readonly keyId?: string;
}

/** Puts a parameter (a new version when it exists), as PutParameter with Overwrite does. Returns its version. */
export function putParameter(ctx: SimContext, name: string, value: string, options: SimPutParameterOptions = {}): number {
  const atMs = ctx.scheduler.nowMs;
  const existing = ctx.state.parameters.get(name);
  if (existing) {
    const version = (existing.versions[existing.versions.length - 1]?.version ?? 0) + 1;
    existing.versions.push({ version, value, atMs });
    return version;
  }
  const type = options.type ?? 'SecureString';
  ctx.state.parameters.set(name, { name, type, keyId: type === 'SecureString' ? (options.keyId ?? 'alias/aws/ssm') : null, versions: [{ version: 1, value, atMs }] });
  return 1;
}

/** Puts an object at `s3://bucket/key`, making the bucket (versioned when asked) if needed. Returns its version id (`null` in an unversioned bucket). */
export function putObject(ctx: SimContext, uri: string, body: string | Uint8Array, options: { readonly versioned?: boolean } = {}): string | null {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new Error(`putObject: '${uri}' is not s3://bucket/key`);
  const [, name, key] = m as unknown as [string, string, string];
  let bucket = ctx.state.buckets.get(name);
  if (!bucket) {
    bucket = { name, versioned: options.versioned === true, objects: new Map() };
    ctx.state.buckets.set(name, bucket);
  }
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const versionId = bucket.versioned ? ctx.state.nextId('v', 32).slice(2) : 'null';
  const list = bucket.versioned ? (bucket.objects.get(key) ?? []) : [];
  list.push({ versionId, body: bytes, atMs: ctx.scheduler.nowMs });
  bucket.objects.set(key, list);
  return bucket.versioned ? versionId : null;
}
