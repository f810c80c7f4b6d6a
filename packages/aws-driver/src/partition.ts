/**
 * The AWS partition a region belongs to: `aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`,
 * else `aws`. ARNs and global services (Route 53, IAM) depend on it, not on the region.
 *
 * @example
 * partitionOf('cn-north-1'); // 'aws-cn'
 */
export function partitionOf(region: string): 'aws' | 'aws-cn' | 'aws-us-gov' {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * The region Route 53 requests are signed for. Route 53 is global per partition, and each
 * partition serves it from one region: a client fixed to us-east-1 cannot reach the China or
 * GovCloud endpoints.
 *
 * @example
 * route53SigningRegion('us-gov-east-1'); // 'us-gov-west-1'
 */
export function route53SigningRegion(region: string): string {
  switch (partitionOf(region)) {
    case 'aws-cn':
      return 'cn-northwest-1';
    case 'aws-us-gov':
      return 'us-gov-west-1';
    default:
      return 'us-east-1';
  }
}
