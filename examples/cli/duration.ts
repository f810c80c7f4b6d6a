import { InvalidArgumentError } from 'commander';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;

/**
 * Parses a duration like `90s`, `5m`, `1h`, `250ms` or `1h30m` into milliseconds (rounded to a
 * whole ms) — what `formatDuration` of @berth/core writes reads back. A bare number is refused:
 * `90` could be seconds or milliseconds.
 */
export function parseDuration(text: string, flag: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) {
    throw new InvalidArgumentError(`${flag} needs a unit: got '${text}'; write ${t}s, ${t}m or ${t}ms (units ms, s, m, h).`);
  }
  if (!WHOLE.test(t)) {
    throw new InvalidArgumentError(`${flag} must be a duration like 90s, 5m, 1h or 250ms (units ms, s, m, h; combine them as 1h30m); got '${text}'.`);
  }
  let ms = 0;
  for (const m of t.matchAll(PART)) ms += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return Math.round(ms);
}
