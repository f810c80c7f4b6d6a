import { createHash } from 'node:crypto';
import type { ClusterSpec } from './spec/cluster-spec.js';

/**
 * Bumped whenever the bootstrap's behaviour changes in a way that should replace instances.
 * Part of every revision.
 */
export const BOOTSTRAP_FORMAT_VERSION = 2;

/** The instance metadata options every Berth instance gets: IMDSv2 only, hop limit 1. */
export const METADATA_OPTIONS = Object.freeze({ httpTokens: 'required', httpPutResponseHopLimit: 1, httpEndpoint: 'enabled' });

/**
 * Everything that shapes one node's instance. Two nodes with equal inputs get equal
 * revisions; the node's own identity (IP, volume) is not part of it since it never changes.
 */
export function revisionInputs(spec: ClusterSpec, nodeId: string): Record<string, unknown> {
  const node = spec.nodes.find((n) => n.id === nodeId);
  if (!node) throw new RangeError(`revisionInputs: node '${nodeId}' is not in cluster '${spec.name}'`);
  const dv = node.dataVolume;
  return {
    bootstrapFormat: BOOTSTRAP_FORMAT_VERSION,
    image: node.image,
    instanceType: spec.instanceType,
    securityGroupIds: [...spec.securityGroupIds].sort(),
    keyName: spec.keyName,
    iamInstanceProfile: spec.iamInstanceProfile,
    rootVolume: spec.rootVolume,
    metadataOptions: METADATA_OPTIONS,
    mount: {
      deviceName: dv.deviceName,
      fileSystem: dv.fileSystem,
      mountPath: dv.mountPath,
      mountOptions: dv.mountOptions,
      owner: dv.owner,
      group: dv.group,
    },
    // The pre-stop script runs on spot nodes only: on-demand nodes' revisions leave it out (and
    // stay what they were before spot existed).
    bootstrap: node.capacity.spot ? spec.bootstrap : { ...spec.bootstrap, preStopScript: undefined, preStopTimeoutSec: undefined },
    onFailure: spec.lifecycle.onFailure,
    // Spot or on-demand is part of what shapes an instance (the launch template asks for it).
    market: node.capacity.spot ? 'spot' : undefined,
  };
}

// Specs are deeply frozen, so a node's revision never changes for a given spec object.
const memo = new WeakMap<ClusterSpec, Map<string, string>>();

/** A stable content hash (`r-` + 16 hex digits) of {@link revisionInputs}. */
export function computeRevision(spec: ClusterSpec, nodeId: string): string {
  let perNode = memo.get(spec);
  if (!perNode) {
    perNode = new Map();
    if (Object.isFrozen(spec)) memo.set(spec, perNode);
  }
  let rev = perNode.get(nodeId);
  if (rev === undefined) {
    rev = `r-${createHash('sha256').update(canonicalJson(revisionInputs(spec, nodeId))).digest('hex').slice(0, 16)}`;
    perNode.set(nodeId, rev);
  }
  return rev;
}

/** JSON with object keys sorted, so equal values hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
