import type { Prng } from '@berth/core';

const HEX = '0123456789abcdef';

/** `n` hex digits drawn from `rng`, one draw per digit, in order (the ids' draws are part of a seed's run). */
export function hexDigits(rng: Prng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += HEX[rng.int(0, 15)];
  return s;
}

/** A UUID-shaped id of random hex digits (8-4-4-4-12), as EventBridge event ids look. */
export function hexUuid(rng: Prng): string {
  return `${hexDigits(rng, 8)}-${hexDigits(rng, 4)}-${hexDigits(rng, 4)}-${hexDigits(rng, 4)}-${hexDigits(rng, 12)}`;
}

/** A version-4 UUID (the `4` and the variant nibble fixed), as SQS message ids and DynamoDB request ids look. */
export function uuidV4(rng: Prng): string {
  const a = hexDigits(rng, 8);
  const b = hexDigits(rng, 4);
  const c = hexDigits(rng, 3);
  const variant = HEX[8 + rng.int(0, 3)];
  const d = hexDigits(rng, 3);
  return `${a}-${b}-4${c}-${variant}${d}-${hexDigits(rng, 12)}`;
}
