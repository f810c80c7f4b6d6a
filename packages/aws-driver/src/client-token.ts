import { createHash } from 'node:crypto';

/**
 * An EC2 ClientToken made of the parts that identify one logical create: the same parts give
 * the same token (so retries and crash-restarts create nothing twice), and a later re-creation
 * must pass some part that differs (an incarnation such as the node's ENI id). No clock: a
 * token bucketed by time would collide within a bucket and duplicate across buckets.
 *
 * @example
 * clientToken('kafka', 'n1', 'data-volume', 'eni-0abc'); // 48 hex digits
 */
export function clientToken(...parts: readonly string[]): string {
  // NUL cannot occur in names or ids, so ('a', 'bc') and ('ab', 'c') differ. EC2 takes ≤ 64 ASCII characters.
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 48);
}
