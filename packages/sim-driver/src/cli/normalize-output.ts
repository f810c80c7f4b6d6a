// Turns an operation's output (AWS SDK v3 style: Date for timestamps, Uint8Array for blobs,
// `$metadata`, members left undefined) into the plain data the CLI formats and queries.
// The CLI v2 parses timestamps straight into ISO 8601 text as responses are read (its default
// cli_timestamp_format `iso8601`, awscli/customizations/timestampformat.py), so pagination,
// --query and the formatters all see strings such as `2024-01-01T00:00:00+00:00`.

/** Python's datetime.isoformat() for a UTC time: microseconds only when non-zero. */
export function isoTimestamp(date: Date): string {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const ms = date.getUTCMilliseconds();
  const base = iso.slice(0, 19);
  return ms === 0 ? `${base}+00:00` : `${base}.${String(ms * 1000).padStart(6, '0')}+00:00`;
}

export function normalizeOutput(value: unknown, topLevel = true): unknown {
  if (value instanceof Date) return isoTimestamp(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map((v) => normalizeOutput(v, false));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // ResponseMetadata (botocore) / $metadata (SDK v3) never reach the CLI's output.
      if (v === undefined || (topLevel && (k === '$metadata' || k === 'ResponseMetadata'))) continue;
      Object.defineProperty(out, k, { value: normalizeOutput(v, false), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  if (typeof value === 'bigint') return Number(value);
  return value;
}
