import type { ClusterSpec } from './cluster-spec.js';

/** What a likely secret looks like, by kind (never the value: a warning must not repeat the secret). */
const PATTERNS: readonly (readonly [kind: string, re: RegExp])[] = [
  ['a private key', /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/],
  ['an AWS access key id', /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['an AWS secret access key', /aws_secret_access_key\s*[=:]\s*["']?[A-Za-z0-9/+]{40}\b/i],
  // password=…, secret: …, api_key = "…", token=… with a literal value (a $VARIABLE or a $(command) is not one).
  ['a password, token or key assignment', /^[\t ]*(?:export[\t ]+)?[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)[\w.-]*[\t ]*[=:][\t ]*["']?(?![$"'\s{<])[^\s"'$]{4,}/im],
];

/**
 * Warnings (not errors) for inline bootstrap content that looks like a secret — a private key,
 * an AWS access key, a `password=`-style line — with where it is and what to use instead. User
 * data is readable by anyone allowed `ec2:DescribeLaunchTemplateVersions` or
 * `ec2:DescribeInstanceAttribute`, and from the instance by any process (IMDS). Files with a
 * `source` are not checked (their content never enters the user data). `plan()` and `apply()`
 * list these warnings.
 *
 * @example
 * ```ts
 * for (const w of secretWarnings(spec)) console.warn(w);
 * // bootstrap.files[1] (/etc/kafka/client.properties) looks like it holds a password, token or key assignment …
 * ```
 */
export function secretWarnings(spec: ClusterSpec): string[] {
  const out: string[] = [];
  const look = (where: string, text: string) => {
    const kinds = PATTERNS.filter(([, re]) => re.test(text)).map(([kind]) => kind);
    if (kinds.length === 0) return;
    out.push(
      `${where} looks like it holds ${kinds.join(' and ')}; inline content travels in the user data, which anyone allowed ec2:DescribeLaunchTemplateVersions can read — ` +
        `keep it in SSM Parameter Store (a SecureString) or S3 and give the file a source instead (bootstrap.files[].source, docs/secrets.md)`,
    );
  };
  spec.bootstrap.files.forEach((f, i) => {
    if (f.source === undefined) look(`bootstrap.files[${i}] (${f.path})`, f.content);
  });
  look('bootstrap.configureScript', spec.bootstrap.configureScript);
  look('bootstrap.healthScript', spec.bootstrap.healthScript);
  return out;
}
