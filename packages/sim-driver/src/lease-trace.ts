import type { SimContext } from './sim-context.js';

/**
 * Writes the cluster leases Berth keeps in the lock table (`packages/aws-driver/src/dynamodb-lock.ts`:
 * item `berth#<cluster>` with `holder`, `session`, `token`, `expiresAtMs`) to the trace as `lock.acquired`,
 * `lock.renewed` and `lock.released`, read from the simulated DynamoDB's item changes — so the
 * chaos checkers see every lease the production lock took, without the simulator taking any.
 */
export function traceLeases(ctx: SimContext, lockTable: string): void {
  ctx.dynamodb.onItemChange((c) => {
    if (c.tableName !== lockTable) return;
    const key = c.key['lockKey']?.S;
    // A fleet member's watch lease (`berth#<cluster>#watch`) guards no mutation: not traced.
    if (!key?.startsWith('berth#') || key.endsWith('#watch')) return;
    const clusterName = key.slice('berth#'.length);
    const now = c.newItem;
    const old = c.oldItem;
    const holder = now?.['holder']?.S;
    if (!now || holder === undefined) return;
    const session = now['session']?.S ?? '';
    const token = Number(now['token']?.N ?? 0);
    const expiresAtMs = Number(now['expiresAtMs']?.N ?? 0);
    const oldToken = old ? Number(old['token']?.N ?? 0) : 0;
    const oldHolder = old?.['holder']?.S;
    const oldSession = old?.['session']?.S ?? '';
    const oldExpires = old ? Number(old['expiresAtMs']?.N ?? 0) : 0;
    if (token !== oldToken) {
      // Another owner's lease that had not expired: another holder, or the same holder id in another session.
      const tookOver = oldHolder !== undefined && (oldHolder !== holder || oldSession !== session) && oldExpires > ctx.scheduler.nowMs ? oldHolder : undefined;
      ctx.trace.record('lock.acquired', { clusterName, holder, session, token, expiresAtMs, ...(tookOver !== undefined && { tookOverFrom: tookOver, tookOverFromSession: oldSession }) });
    } else if (expiresAtMs <= ctx.scheduler.nowMs) {
      ctx.trace.record('lock.released', { clusterName, holder, session, token });
    } else if (expiresAtMs !== oldExpires) {
      ctx.trace.record('lock.renewed', { clusterName, holder, session, token, expiresAtMs });
    }
  });
}
