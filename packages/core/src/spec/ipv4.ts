/** Small IPv4 helpers for spec validation (no dependency needed for this much). */

/** An IPv4 address as a number (`10.0.1.10` → 167772426), or null when it is not one (leading zeros are refused). */
export function parseIpv4(ip: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return null;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i] as string;
    if (part.length > 1 && part.startsWith('0')) return null;
    const v = Number(part);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

/** An IPv4 CIDR block: its prefix and the first and last addresses it holds, as numbers. */
export interface Cidr {
  readonly base: number;
  readonly prefix: number;
  readonly first: number;
  readonly last: number;
}

/**
 * Parses an IPv4 CIDR block, or returns null when it is not one or its base address is not
 * aligned to the prefix (`10.0.1.5/24`).
 *
 * @example
 * ```ts
 * parseCidr('10.0.1.0/24'); // { base: 167772416, prefix: 24, first: 167772416, last: 167772671 }
 * ```
 */
export function parseCidr(cidr: string): Cidr | null {
  const [ip, prefixText, extra] = cidr.split('/');
  if (ip === undefined || prefixText === undefined || extra !== undefined) return null;
  if (!/^\d{1,2}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  const base = parseIpv4(ip);
  if (base === null || prefix < 0 || prefix > 32) return null;
  const size = 2 ** (32 - prefix);
  const first = Math.floor(base / size) * size;
  if (first !== base) return null;
  return { base, prefix, first, last: first + size - 1 };
}

/** An IPv4 address from its number (the inverse of {@link parseIpv4}). */
export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/**
 * AWS reserves the first four addresses and the last one of every subnet
 * (network, VPC router, DNS, future use, broadcast).
 */
export function reservedReason(ip: number, cidr: Cidr): string | null {
  const offset = ip - cidr.first;
  if (offset === 0) return 'the network address';
  if (offset === 1) return 'reserved by AWS for the VPC router';
  if (offset === 2) return 'reserved by AWS for the DNS server';
  if (offset === 3) return 'reserved by AWS for future use';
  if (ip === cidr.last) return 'the broadcast address (reserved by AWS)';
  return null;
}
