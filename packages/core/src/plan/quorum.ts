/** Quorum arithmetic for a cluster of `size` members. */
export interface QuorumMath {
  readonly size: number;
  /** ⌊n/2⌋ + 1 */
  readonly quorum: number;
  /** n − quorum: how many members may be down at once. */
  readonly tolerance: number;
}

export function quorumOf(size: number): QuorumMath {
  const quorum = Math.floor(size / 2) + 1;
  return { size, quorum, tolerance: size - quorum };
}
