import type { ClusterSpec } from '@berth/core';

/**
 * CONTRACT (owned by the node-bootstrap work, issue 5): renders the user data that the node's
 * launch template carries. Returns it base64-encoded as EC2 wants it, with its decoded size.
 * Throws a BerthConfigError at spec time when it cannot fit in 16 KB.
 *
 * This first version carries only the node's identity and the revision; the bootstrap
 * script replaces it.
 */
export interface RenderedUserData {
  /** Base64, ready for the launch template's UserData. */
  readonly userData: string;
  /** Size in bytes before base64 (AWS's 16 KB limit applies to this). */
  readonly sizeBytes: number;
  readonly gzipped: boolean;
}

export function renderUserData(spec: ClusterSpec, nodeId: string, revision: string): RenderedUserData {
  const text = `#!/bin/bash\n# berth node ${spec.name}/${nodeId} revision ${revision}\n`;
  const bytes = Buffer.from(text, 'utf8');
  return { userData: bytes.toString('base64'), sizeBytes: bytes.length, gzipped: false };
}
