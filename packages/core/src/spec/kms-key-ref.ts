/**
 * The four ways AWS accepts to name a KMS key (docs/aws-behaviour.md, KMS-5): a key id
 * (`1234abcd-12ab-34cd-56ef-1234567890ab`, or `mrk-` and 32 hex digits for a multi-Region key),
 * a key ARN (`arn:aws:kms:REGION:ACCOUNT:key/KEY-ID`), an alias name (`alias/NAME`) or an alias
 * ARN (`arn:aws:kms:REGION:ACCOUNT:alias/NAME`).
 */
export type KmsKeyRef =
  | { readonly kind: 'key-id'; readonly id: string }
  | { readonly kind: 'alias-name'; readonly alias: string }
  | { readonly kind: 'key-arn' | 'alias-arn'; readonly partition: string; readonly region: string; readonly account: string; readonly resource: string };

const KEY_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/i;
// 1–256 characters in all, only A-Z a-z 0-9 / _ - (the KMS alias rules).
const ALIAS = /^alias\/[A-Za-z0-9/_-]{1,250}$/;
const ARN = /^arn:(aws|aws-cn|aws-us-gov):kms:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):(key|alias)\/(.+)$/;

/** Parses a KMS key reference, or returns null when it is none of the four accepted forms. */
export function parseKmsKeyRef(ref: string): KmsKeyRef | null {
  if (KEY_ID.test(ref)) return { kind: 'key-id', id: ref };
  if (ALIAS.test(ref)) return { kind: 'alias-name', alias: ref };
  const m = ARN.exec(ref);
  if (!m) return null;
  const [, partition, region, account, type, rest] = m as unknown as [string, string, string, string, 'key' | 'alias', string];
  if (type === 'key' && !KEY_ID.test(rest)) return null;
  if (type === 'alias' && !ALIAS.test(`alias/${rest}`)) return null;
  return { kind: type === 'key' ? 'key-arn' : 'alias-arn', partition, region, account, resource: `${type}/${rest}` };
}
