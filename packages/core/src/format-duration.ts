/**
 * A duration the way people read it: `250ms`, `45s`, `5m`, `1m30s`, `2h`, `1h05m`. Exact for whole
 * seconds; sub-second parts are shown only below one second.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1_000) return `${sign}${Math.round(abs)}ms`;
  const total = Math.round(abs / 1_000);
  const h = Math.floor(total / 3_600);
  const m = Math.floor((total % 3_600) / 60);
  const s = total % 60;
  if (h > 0) return `${sign}${h}h${m > 0 || s > 0 ? String(m).padStart(2, '0') + 'm' : ''}${s > 0 ? String(s).padStart(2, '0') + 's' : ''}`;
  if (m > 0) return `${sign}${m}m${s > 0 ? String(s).padStart(2, '0') + 's' : ''}`;
  return `${sign}${s}s`;
}
