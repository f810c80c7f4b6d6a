import type { ClusterSpec } from '@berth/core';
import type { NodeApi } from './subnet-reachability.js';

/** The AWS APIs a node's bootstrap calls for this spec: EC2 and Auto Scaling always. */
export function nodeApis(spec: ClusterSpec): NodeApi[] {
  void spec;
  return ['ec2', 'autoscaling'];
}
