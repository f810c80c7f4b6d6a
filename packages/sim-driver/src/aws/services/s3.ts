import { fault } from '../aws-error.js';
import type { OperationHandler, ServiceContext, SimService } from '../service.js';

// The S3 object operations the bootstrap, preflight and tests use (S3-2):
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html

type In = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

function find(input: In, ctx: ServiceContext) {
  const bucketName = str(input['Bucket']) ?? '';
  const key = str(input['Key']) ?? '';
  const bucket = ctx.sim.state.buckets.get(bucketName);
  if (!bucket) throw fault('NoSuchBucket', 'The specified bucket does not exist', 404);
  const versions = bucket.objects.get(key);
  const wanted = str(input['VersionId']);
  if (!versions || versions.length === 0) throw fault('NoSuchKey', 'The specified key does not exist.', 404);
  const v = wanted === null ? versions[versions.length - 1] : versions.find((x) => x.versionId === wanted);
  if (!v) throw fault(wanted !== null && !/^[A-Za-z0-9._-]+$/.test(wanted) ? 'InvalidArgument' : 'NoSuchVersion', 'The specified version does not exist.', wanted !== null && !/^[A-Za-z0-9._-]+$/.test(wanted) ? 400 : 404);
  return { bucket, key, v };
}

function operations(): Record<string, OperationHandler> {
  return {
    GetObject(input: In, ctx) {
      const { bucket, v } = find(input, ctx);
      return { Body: v.body, ContentLength: v.body.length, LastModified: new Date(v.atMs), ...(bucket.versioned && { VersionId: v.versionId }), ETag: `"${v.versionId}"` };
    },
    HeadObject(input: In, ctx) {
      const { bucket, v } = find(input, ctx);
      return { ContentLength: v.body.length, LastModified: new Date(v.atMs), ...(bucket.versioned && { VersionId: v.versionId }), ETag: `"${v.versionId}"` };
    },
    // preflight's existence check: keys under a prefix (no bodies).
    ListObjectsV2(input: In, ctx) {
      const bucket = ctx.sim.state.buckets.get(str(input['Bucket']) ?? '');
      if (!bucket) throw fault('NoSuchBucket', 'The specified bucket does not exist', 404);
      const prefix = typeof input['Prefix'] === 'string' ? input['Prefix'] : '';
      const max = typeof input['MaxKeys'] === 'number' ? input['MaxKeys'] : 1000;
      const keys = [...bucket.objects.keys()].filter((k) => k.startsWith(prefix) && (bucket.objects.get(k)?.length ?? 0) > 0).sort().slice(0, max);
      return { Name: bucket.name, Prefix: prefix, KeyCount: keys.length, IsTruncated: false, Contents: keys.map((k) => ({ Key: k, Size: bucket.objects.get(k)?.at(-1)?.body.length ?? 0 })) };
    },
    ListObjectVersions(input: In, ctx) {
      const bucket = ctx.sim.state.buckets.get(str(input['Bucket']) ?? '');
      if (!bucket) throw fault('NoSuchBucket', 'The specified bucket does not exist', 404);
      const prefix = typeof input['Prefix'] === 'string' ? input['Prefix'] : '';
      const versions = [...bucket.objects.entries()].filter(([k]) => k.startsWith(prefix)).flatMap(([k, vs]) => vs.map((v, i) => ({ Key: k, VersionId: v.versionId, IsLatest: i === vs.length - 1, Size: v.body.length })));
      return { Name: bucket.name, Prefix: prefix, IsTruncated: false, Versions: versions };
    },
    PutObject(input: In, ctx) {
      const bucket = ctx.sim.state.buckets.get(str(input['Bucket']) ?? '');
      if (!bucket) throw fault('NoSuchBucket', 'The specified bucket does not exist', 404);
      const key = str(input['Key']);
      if (key === null) throw fault('InvalidArgument', 'A key is required.');
      const raw = input['Body'];
      const body = typeof raw === 'string' ? new TextEncoder().encode(raw) : raw instanceof Uint8Array ? raw : new Uint8Array();
      const versionId = bucket.versioned ? ctx.sim.state.nextId('v', 32).slice(2) : 'null';
      const list = bucket.versioned ? (bucket.objects.get(key) ?? []) : [];
      list.push({ versionId, body, atMs: ctx.sim.scheduler.nowMs });
      bucket.objects.set(key, list);
      return { ETag: `"${versionId}"`, ...(bucket.versioned && { VersionId: versionId }) };
    },
  };
}

/** The simulated S3 object API (buckets are made by `sim.account.putObject`). */
export function createS3Service(): SimService {
  return { name: 's3', operations: operations() };
}
