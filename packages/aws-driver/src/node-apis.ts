import type { ClusterSpec } from '@berth/core';
import type { NodeApi } from './subnet-reachability.js';

/** The AWS APIs a node's bootstrap calls for this spec: EC2 and Auto Scaling always, SSM and S3 when a file comes from there. */
export function nodeApis(spec: ClusterSpec): NodeApi[] {
  const out: NodeApi[] = ['ec2', 'autoscaling'];
  if (spec.bootstrap.files.some((f) => f.source?.ssm)) out.push('ssm');
  if (spec.bootstrap.files.some((f) => f.source?.s3)) out.push('s3');
  return out;
}
