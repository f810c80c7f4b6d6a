// bootstrap.files[].source (docs/secrets.md): exactly one of content or source, the source's
// shapes (SSM-1, S3-1), the Region, checked before any cloud call; and the secret warnings.
import { computeRevision, defineCluster, secretWarnings, type ClusterInput } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { parseS3Uri, parseSsmParameter } from '../../src/spec/file-sources.js';
import { clusterInput, configProblems } from '../support/fixtures.js';

const problems = configProblems;

const withFiles = (files: unknown[]): unknown => {
  const base = clusterInput();
  return { ...base, bootstrap: { ...base.bootstrap, files } };
};
const region = clusterInput().region;

describe('bootstrap.files[].source', () => {
  it('accepts an SSM parameter by name or ARN (with a version and a customer key) and an S3 object (with a version id)', () => {
    const spec = defineCluster(
      withFiles([
        { path: '/etc/app/a', source: { ssm: { name: '/app/prod/a' } } },
        { path: '/etc/app/b', source: { ssm: { name: `arn:aws:ssm:${region}:123456789012:parameter/app/prod/b`, version: 3, kmsKeyId: `arn:aws:kms:${region}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab` } }, mode: '0600' },
        { path: '/etc/app/c', source: { s3: { uri: 's3://my-bucket/config/c.tar', versionId: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY' } } },
        { path: '/etc/app/d', content: 'inline\n' },
      ]) as ClusterInput,
    );
    expect(spec.bootstrap.files.map((f) => [f.content, f.source ?? null])).toEqual([
      ['', { ssm: { name: '/app/prod/a' } }],
      ['', expect.objectContaining({ ssm: expect.objectContaining({ version: 3 }) })],
      ['', { s3: { uri: 's3://my-bucket/config/c.tar', versionId: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY' } }],
      ['inline\n', null],
    ]);
    // An inline file carries no `source` key: the revision of existing specs does not change.
    expect(Object.keys(spec.bootstrap.files[3]!)).toEqual(['path', 'content', 'mode', 'owner']);
  });

  it('a file with a source rolls its node when the source changes (a new pinned version), not when only the value does', () => {
    const v = (version: number) => defineCluster(withFiles([{ path: '/etc/a', source: { ssm: { name: '/a', version } } }]) as ClusterInput);
    const id = v(1).nodes[0]!.id;
    expect(computeRevision(v(1), id)).not.toBe(computeRevision(v(2), id));
  });

  it('needs exactly one of content and source, and one of ssm and s3, before any cloud call', () => {
    expect(problems(withFiles([{ path: '/a' }]))).toEqual([{ path: 'bootstrap.files[0]', message: expect.stringMatching(/give `content`.*or `source`/) }]);
    expect(problems(withFiles([{ path: '/a', content: 'x', source: { s3: { uri: 's3://bucket/k' } } }]))).toEqual([{ path: 'bootstrap.files[0]', message: expect.stringMatching(/both `content` and `source`/) }]);
    expect(problems(withFiles([{ path: '/a', source: {} }]))).toEqual([{ path: 'bootstrap.files[0].source', message: expect.stringMatching(/exactly one of `ssm`.*or `s3`/) }]);
    expect(problems(withFiles([{ path: '/a', source: { ssm: { name: '/a' }, s3: { uri: 's3://bucket/k' } } }])).map((p) => p.path)).toEqual(['bootstrap.files[0].source']);
  });

  it('SSM-1: refuses a malformed parameter name or ARN, one of another Region, and a key that is not a key ARN', () => {
    const at = (ssm: unknown) => problems(withFiles([{ path: '/a', source: { ssm } }]));
    expect(at({ name: 'app/prod/a' })).toEqual([{ path: 'bootstrap.files[0].source.ssm.name', message: expect.stringMatching(/must start with '\/'/) }]);
    expect(at({ name: '/app/has space' })[0]!.message).toMatch(/only letters, digits/);
    expect(at({ name: `/${'l/'.repeat(16)}x` })[0]!.message).toMatch(/more than 15 levels/);
    expect(at({ name: 'arn:aws:ssm:us-west-2:123456789012:parameter/app/a' })).toEqual([{ path: 'bootstrap.files[0].source.ssm.name', message: expect.stringMatching(/in us-west-2, the cluster in/) }]);
    expect(at({ name: '/a', version: 0 }).map((p) => p.path)).toEqual(['bootstrap.files[0].source.ssm.version']);
    expect(at({ name: '/a', kmsKeyId: 'alias/app' })).toEqual([{ path: 'bootstrap.files[0].source.ssm.kmsKeyId', message: expect.stringMatching(/must be a KMS key ARN/) }]);
    expect(parseSsmParameter(`arn:aws:ssm:${region}:123456789012:parameter/app/a`)).toEqual({ name: '/app/a', arn: { partition: 'aws', region, account: '123456789012' } });
    expect(parseSsmParameter(`arn:aws:ssm:${region}:123456789012:parameter/flat`)?.name).toBe('flat');
  });

  it('S3-1: refuses a URI that is not s3://bucket/key with a valid bucket name', () => {
    const at = (s3: unknown) => problems(withFiles([{ path: '/a', source: { s3 } }]));
    for (const uri of ['https://bucket.s3.amazonaws.com/k', 's3://bucket', 's3://bucket/', 's3://Bucket_Name/k', 's3://ab/k']) {
      expect(at({ uri }), uri).toEqual([{ path: 'bootstrap.files[0].source.s3.uri', message: expect.stringMatching(/must be s3:\/\/BUCKET\/KEY/) }]);
    }
    expect(at({ uri: 's3://bucket/k', versionId: '' }).map((p) => p.path)).toEqual(['bootstrap.files[0].source.s3.versionId']);
    expect(parseS3Uri('s3://my.bucket-1/a/b c.txt')).toEqual({ bucket: 'my.bucket-1', key: 'a/b c.txt' });
  });
});

describe('secretWarnings', () => {
  const spec = (files: unknown[], configureScript = '') => {
    const base = clusterInput();
    return defineCluster({ ...base, bootstrap: { ...base.bootstrap, files, configureScript } } as ClusterInput);
  };

  it('warns (never errs) on a private key, an AWS access key, a password= line, naming where and not repeating the secret', () => {
    const w = secretWarnings(
      spec(
        [
          { path: '/etc/tls/key.pem', content: '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n' },
          { path: '/etc/app/client.properties', content: 'bootstrap.servers=x:9092\nssl.keystore.password=hunter22\n' },
          { path: '/etc/app/ok.properties', content: 'password=${PASSWORD}\ntoken=$(cat /run/token)\nretries=3\n' },
        ],
        'export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n',
      ),
    );
    expect(w).toHaveLength(3);
    expect(w[0]).toMatch(/^bootstrap\.files\[0\] \(\/etc\/tls\/key\.pem\) looks like it holds a private key/);
    expect(w[1]).toMatch(/^bootstrap\.files\[1\] .*a password, token or key assignment/);
    expect(w[2]).toMatch(/^bootstrap\.configureScript looks like it holds an AWS access key id.*bootstrap\.files\[\]\.source/);
    expect(w.join('\n')).not.toMatch(/hunter22|AKIAIOSFODNN7EXAMPLE|MIIEow/);
  });

  it('does not look at files with a source, nor at content without secrets', () => {
    expect(secretWarnings(spec([{ path: '/a', source: { ssm: { name: '/a' } } }, { path: '/b', content: 'log.dirs=/data\n' }]))).toEqual([]);
  });
});

describe('bootstrap.configureScriptSource and healthScriptSource', () => {
  const withBootstrap = (b: Record<string, unknown>): unknown => {
    const base = clusterInput();
    return { ...base, bootstrap: { ...base.bootstrap, ...b } };
  };

  it('become a file fetched like any other (@configure, @health) and a one-line script that runs it', () => {
    const spec = defineCluster(withBootstrap({ configureScriptSource: { ssm: { name: '/kafka/configure.sh', version: 3 } }, healthScriptSource: { s3: { uri: 's3://cfg/kafka/health.sh' } } }) as ClusterInput);
    expect(spec.bootstrap.files.slice(-2)).toEqual([
      { path: '@configure', content: '', source: { ssm: { name: '/kafka/configure.sh', version: 3 } }, mode: '0700', owner: 'root:root' },
      { path: '@health', content: '', source: { s3: { uri: 's3://cfg/kafka/health.sh' } }, mode: '0700', owner: 'root:root' },
    ]);
    expect(spec.bootstrap.configureScript).toBe('exec /bin/bash "${BERTH_STATE_DIR:-/var/lib/berth}/configure-source.sh"');
    expect(spec.bootstrap.healthScript).toBe('exec /bin/bash "${BERTH_STATE_DIR:-/var/lib/berth}/health-source.sh"');
    expect(Object.keys(spec.bootstrap)).not.toContain('configureScriptSource');
  });

  it('refuses a source beside an inline script, and a malformed source, naming the field, before any cloud call', () => {
    expect(problems(withBootstrap({ configureScript: 'echo hi', configureScriptSource: { ssm: { name: '/a' } } }))).toEqual([
      { path: 'bootstrap.configureScriptSource', message: expect.stringMatching(/non-empty bootstrap\.configureScript; give one/) },
    ]);
    expect(problems(withBootstrap({ healthScriptSource: { s3: { uri: 'https://x/y' } } })).map((p) => p.path)).toEqual(['bootstrap.healthScriptSource.s3.uri']);
    expect(problems(withBootstrap({ healthScriptSource: {} })).map((p) => p.path)).toEqual(['bootstrap.healthScriptSource']);
    expect(problems(withBootstrap({ configureScriptSource: { ssm: { name: `arn:aws:ssm:ap-south-1:123456789012:parameter/a` } } }))).toEqual([
      { path: 'bootstrap.configureScriptSource.ssm.name', message: expect.stringMatching(/the parameter is in ap-south-1, the cluster in /) },
    ]);
  });
});
