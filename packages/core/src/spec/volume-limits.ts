// EBS limits per volume type, from the EBS volume types documentation (docs/aws-behaviour.md, EBS-8: gp3 now 64 TiB, 80,000 IOPS, 2,000 MiB/s).

/** An EBS volume type. */
export type VolumeType = 'gp2' | 'gp3' | 'io1' | 'io2' | 'st1' | 'sc1' | 'standard';

/** What one EBS volume type allows: size, provisioned IOPS and throughput ranges. */
export interface VolumeLimits {
  readonly sizeGiB: readonly [number, number];
  /** Provisioned IOPS range, or null when the type takes no IOPS setting. */
  readonly iops: readonly [number, number] | null;
  /** Max IOPS per GiB of size, when the type has such a ratio. */
  readonly iopsPerGiB: number | null;
  readonly throughputMiBps: readonly [number, number] | null;
}

/** The limits of every EBS volume type (EBS-8), as defineCluster checks them. */
export const VOLUME_LIMITS: Readonly<Record<VolumeType, VolumeLimits>> = {
  gp2: { sizeGiB: [1, 16384], iops: null, iopsPerGiB: null, throughputMiBps: null },
  gp3: { sizeGiB: [1, 65536], iops: [3000, 80000], iopsPerGiB: 500, throughputMiBps: [125, 2000] },
  io1: { sizeGiB: [4, 16384], iops: [100, 64000], iopsPerGiB: 50, throughputMiBps: null },
  io2: { sizeGiB: [4, 16384], iops: [100, 256000], iopsPerGiB: 1000, throughputMiBps: null },
  st1: { sizeGiB: [125, 16384], iops: null, iopsPerGiB: null, throughputMiBps: null },
  sc1: { sizeGiB: [125, 16384], iops: null, iopsPerGiB: null, throughputMiBps: null },
  standard: { sizeGiB: [1, 1024], iops: null, iopsPerGiB: null, throughputMiBps: null },
};

/** Problems with one volume's size/IOPS/throughput, as [field, message] pairs. */
export function volumeProblems(v: {
  type: VolumeType;
  sizeGiB: number;
  iops?: number | undefined;
  throughputMiBps?: number | undefined;
}): Array<[string, string]> {
  const lim = VOLUME_LIMITS[v.type];
  const out: Array<[string, string]> = [];
  const [minSize, maxSize] = lim.sizeGiB;
  if (v.sizeGiB < minSize || v.sizeGiB > maxSize) {
    out.push(['sizeGiB', `${v.type} volumes must be ${minSize}–${maxSize} GiB; got ${v.sizeGiB}. Pick a size in that range.`]);
  }
  if (v.iops !== undefined) {
    if (!lim.iops) {
      out.push(['iops', `${v.type} volumes take no provisioned IOPS; remove iops or use gp3, io1 or io2.`]);
    } else {
      const [lo, hi] = lim.iops;
      if (v.iops < lo || v.iops > hi) out.push(['iops', `${v.type} IOPS must be ${lo}–${hi}; got ${v.iops}.`]);
      else if (lim.iopsPerGiB !== null && v.iops > lim.iopsPerGiB * v.sizeGiB) {
        out.push([
          'iops',
          `${v.type} allows at most ${lim.iopsPerGiB} IOPS per GiB: ${v.sizeGiB} GiB takes at most ${lim.iopsPerGiB * v.sizeGiB} IOPS; got ${v.iops}. Lower iops or grow sizeGiB.`,
        ]);
      }
    }
  } else if (v.type === 'io1' || v.type === 'io2') {
    out.push(['iops', `${v.type} volumes need iops (provisioned IOPS); set it.`]);
  }
  if (v.throughputMiBps !== undefined) {
    if (!lim.throughputMiBps) {
      out.push(['throughputMiBps', `${v.type} volumes take no throughput setting; remove throughputMiBps or use gp3.`]);
    } else {
      const [lo, hi] = lim.throughputMiBps;
      if (v.throughputMiBps < lo || v.throughputMiBps > hi) {
        out.push(['throughputMiBps', `${v.type} throughput must be ${lo}–${hi} MiB/s; got ${v.throughputMiBps}.`]);
      } else if (v.type === 'gp3' && v.throughputMiBps > (v.iops ?? 3000) / 4) {
        out.push([
          'throughputMiBps',
          `gp3 allows at most 0.25 MiB/s per provisioned IOPS: ${v.iops ?? 3000} IOPS take at most ${(v.iops ?? 3000) / 4} MiB/s; got ${v.throughputMiBps}. Raise iops or lower throughputMiBps.`,
        ]);
      }
    }
  }
  return out;
}
