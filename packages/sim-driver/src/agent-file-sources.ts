import type { ServiceName } from './aws/aws-error.js';
import type { AgentFileSource } from './user-data-config.js';

type Call = (service: ServiceName, operation: string, input: Record<string, unknown>, done: (err: { code: string; message: string } | null, out: unknown) => void) => void;

/** The failure reason node-bootstrap.sh's fetch_file_source tags for an error code. */
export function fileSourceFailure(code: string, httpStatus?: number): 'file-source-not-found' | 'file-source-denied' | 'file-source-failed' {
  if (/ParameterNotFound|ParameterVersionNotFound|NoSuchKey|NoSuchBucket|NoSuchVersion/.test(code) || httpStatus === 404) return 'file-source-not-found';
  if (/AccessDenied/.test(code) || httpStatus === 403) return 'file-source-denied';
  return 'file-source-failed';
}

/**
 * fetch_file_source for every file with a source, in order, as the script does it: GetParameter
 * (WithDecryption) or GetObject with the instance role; the first failure ends the boot with the
 * script's reason. The value is not kept: the simulated instance has no files.
 */
export function fetchFileSources(sources: readonly AgentFileSource[], call: Call, done: (reason: string | null, detail?: string) => void): void {
  const next = (i: number): void => {
    const s = sources[i];
    if (!s) return done(null);
    const what = s.kind === 'ssm' ? `SSM parameter ${s.ref}` : `s3://${s.ref}/${s.key}`;
    const input = s.kind === 'ssm' ? { Name: s.ref, WithDecryption: true } : { Bucket: s.ref, Key: s.key, ...(s.versionId !== '' && { VersionId: s.versionId }) };
    call(s.kind, s.kind === 'ssm' ? 'GetParameter' : 'GetObject', input, (err) => {
      if (err) return done(fileSourceFailure(err.code), `${s.path}: ${what}: (${err.code}) ${err.message}`);
      next(i + 1);
    });
  };
  next(0);
}
