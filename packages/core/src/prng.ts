/**
 * Seeded randomness. Each subsystem takes its own stream derived from one seed (by name), so
 * changing how often one subsystem draws never shifts another's draws.
 */
export interface Prng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max] (inclusive). */
  int(min: number, max: number): number;
  /** A float in [min, max). */
  between(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** A new independent stream named `name`, derived from this stream's seed. */
  derive(name: string): Prng;
  readonly seed: number;
}

function hashString(s: string, seed: number): number {
  // FNV-1a, then mixed with the parent seed.
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h >>> 0);
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** sfc32, seeded through splitmix-style mixing: small, fast, and good enough for simulation. */
export function createPrng(seed: number): Prng {
  const s = seed >>> 0;
  let a = mix32(s ^ 0x9e3779b9);
  let b = mix32(s ^ 0x243f6a88);
  let c = mix32(s ^ 0xb7e15162);
  let d = 1;
  const nextU32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) nextU32();
  const prng: Prng = {
    seed: s,
    next: () => nextU32() / 4294967296,
    int: (min, max) => min + Math.floor((nextU32() / 4294967296) * (max - min + 1)),
    between: (min, max) => min + (nextU32() / 4294967296) * (max - min),
    chance: (p) => nextU32() / 4294967296 < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new RangeError('pick() needs a non-empty array');
      return items[Math.floor((nextU32() / 4294967296) * items.length)] as T;
    },
    derive: (name) => createPrng(hashString(name, s)),
  };
  return prng;
}
