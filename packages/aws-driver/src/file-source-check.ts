import { ListObjectVersionsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DescribeParametersCommand } from '@aws-sdk/client-ssm';
import { parseS3Uri, parseSsmParameter, type ClusterSpec } from '@berth/core';
import type { AwsContext } from './aws-context.js';

/** One file whose source is not there. */
export interface MissingFileSource {
  readonly path: string;
  readonly message: string;
}

/**
 * Checks that every file source exists before anything is created, without reading a value:
 * SSM parameters by `DescribeParameters` (names and versions, SSM-2), S3 objects by listing the
 * key (`ListObjectsV2`, or `ListObjectVersions` for a pinned version: `s3:ListBucket` /
 * `s3:ListBucketVersions`, so the controller never needs `s3:GetObject`). Each problem names the
 * file and its source.
 */
export async function missingFileSources(ctx: AwsContext, spec: ClusterSpec, signal?: AbortSignal): Promise<MissingFileSource[]> {
  const out: MissingFileSource[] = [];
  const files = spec.bootstrap.files.map((f, i) => ({ f, i }));
  const ssm = files.filter(({ f }) => f.source?.ssm);
  if (ssm.length > 0) {
    const names = [...new Set(ssm.map(({ f }) => parseSsmParameter(f.source?.ssm?.name ?? '')?.name ?? ''))];
    const found = new Map<string, number>();
    // DescribeParameters takes at most 50 values per filter.
    for (let at = 0; at < names.length; at += 50) {
      let NextToken: string | undefined;
      do {
        const page = await ctx.call('DescribeParameters', (abortSignal) =>
          ctx.ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: names.slice(at, at + 50) }], NextToken }), { abortSignal }),
        { signal });
        for (const p of page.Parameters ?? []) found.set(p.Name ?? '', p.Version ?? 0);
        NextToken = page.NextToken;
      } while (NextToken);
    }
    for (const { f, i } of ssm) {
      const src = f.source?.ssm;
      if (!src) continue;
      const name = parseSsmParameter(src.name)?.name ?? src.name;
      const latest = found.get(name);
      const where = `bootstrap.files[${i}].source.ssm`;
      if (latest === undefined) out.push({ path: `${where}.name`, message: `${f.path}: SSM parameter ${name} does not exist in ${spec.region}; create it (aws ssm put-parameter --type SecureString ...) before the nodes boot` });
      else if (src.version !== undefined && src.version > latest) out.push({ path: `${where}.version`, message: `${f.path}: SSM parameter ${name} has no version ${src.version} (its latest is ${latest})` });
    }
  }
  for (const { f, i } of files) {
    const src = f.source?.s3;
    const o = src ? parseS3Uri(src.uri) : null;
    if (!src || !o) continue;
    const where = `bootstrap.files[${i}].source.s3`;
    if (src.versionId === undefined) {
      const r = await ctx.call('ListObjectsV2', (abortSignal) => ctx.s3.send(new ListObjectsV2Command({ Bucket: o.bucket, Prefix: o.key, MaxKeys: 1 }), { abortSignal }), { signal });
      if (!(r.Contents ?? []).some((c) => c.Key === o.key)) out.push({ path: `${where}.uri`, message: `${f.path}: ${src.uri} does not exist; upload it before the nodes boot` });
    } else {
      const r = await ctx.call('ListObjectVersions', (abortSignal) => ctx.s3.send(new ListObjectVersionsCommand({ Bucket: o.bucket, Prefix: o.key }), { abortSignal }), { signal });
      if (!(r.Versions ?? []).some((v) => v.Key === o.key && v.VersionId === src.versionId)) out.push({ path: `${where}.versionId`, message: `${f.path}: ${src.uri} has no version ${src.versionId}` });
    }
  }
  return out;
}
