// The spot rules of a cluster spec (capacity, per-node capacity, the pre-stop timeout), on the
// raw input like validate-cluster.ts: each problem with its path and what to do.

type Loose = Record<string, unknown>;
const obj = (v: unknown): Loose | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null);

/** Bounds of the capacity timings (seconds). */
export const CAPACITY_LIMITS = Object.freeze({
  fallbackAfterSec: { min: 60, max: 86_400, why: 'Auto Scaling retries a failed launch for minutes; a shorter wait reads one failed attempt as missing capacity' },
  spotRetryAfterSec: { min: 300, max: 604_800, why: 'each try of spot again replaces a healthy instance; try at most every 5 minutes and at least weekly' },
});

/** EC2 terminates a spot instance two minutes after its warning: the pre-stop script and the unmount must fit. */
export const PRE_STOP_TIMEOUT_MAX_SEC = 100;

/** Every problem of the capacity settings (cluster and nodes) and of `bootstrap.preStopTimeoutSec`. */
export function checkCapacity(root: Loose, add: (path: string, message: string) => void): void {
  const check = (path: string, c: Loose | null) => {
    if (!c) return;
    for (const key of ['fallbackAfterSec', 'spotRetryAfterSec'] as const) {
      const v = int(c[key]);
      const l = CAPACITY_LIMITS[key];
      if (v !== null && (v < l.min || v > l.max)) add(`${path}.${key}`, `must be ${l.min}–${l.max} seconds, got ${v}: ${l.why}`);
    }
  };
  check('capacity', obj(root.capacity));
  const nodes = Array.isArray(root.nodes) ? root.nodes : [];
  nodes.forEach((n, i) => check(`nodes[${i}].capacity`, obj(obj(n)?.capacity)));
  const t = int(obj(root.bootstrap)?.preStopTimeoutSec);
  if (t !== null && t > PRE_STOP_TIMEOUT_MAX_SEC) {
    add('bootstrap.preStopTimeoutSec', `must be at most ${PRE_STOP_TIMEOUT_MAX_SEC} seconds, got ${t}: EC2 terminates a spot instance two minutes after its interruption warning, and the data volume must be unmounted before then`);
  }
}
