import type { Clock, HookContext, RollHooks } from '@berth/core';
import type { SlowHookName } from '../faults/fault.js';
import type { HookCall } from '../recording/hook-call.js';

/** A `slow-hook` fault while it acts: calls of `hook` that start in [fromMs, untilMs) take `durationMs` longer. */
export interface SlowHookWindow {
  readonly hook: SlowHookName;
  readonly fromMs: number;
  readonly untilMs: number;
  readonly durationMs: number;
  readonly ignoresSignal: boolean;
}

export interface InstrumentHooksOptions {
  /** The recording session of the controller the hooks are handed to. */
  readonly session: string;
  readonly clock: Clock;
  /** Where hook calls are appended (shared by every controller of a scenario). */
  readonly log: HookCall[];
  /** The slow-hook windows injected so far. */
  readonly slow: () => readonly SlowHookWindow[];
  /** Called as a gate (`clusterHealthy`, `beforeReplace`) starts: faults waiting for a gate start here. */
  readonly onGate?: (hook: SlowHookName, nodeId: string | null) => void;
}

/**
 * The hooks a scenario hands one controller: the application's own (`sim.hooks`), each call
 * recorded, and `beforeReplace` / `clusterHealthy` slowed down while a `slow-hook` fault acts.
 * A slow hook that honours its signal stops waiting when it fires (the controller's timeout or
 * abort) and throws; one that ignores it waits its full time, then gives up without doing the
 * hook's work if the signal fired meanwhile (the controller has long left it behind).
 */
export function instrumentHooks(hooks: RollHooks, o: InstrumentHooksOptions): RollHooks {
  const { clock, log } = o;
  async function run<T>(hook: SlowHookName | 'afterReplace', nodeId: string | null, ctx: HookContext, work: () => T | Promise<T>, skipped: T): Promise<T> {
    if (hook !== 'afterReplace') o.onGate?.(hook, nodeId);
    const now = clock.now();
    const slow = hook === 'afterReplace' ? undefined : o.slow().find((w) => w.hook === hook && w.fromMs <= now && now < w.untilMs);
    const rec: HookCall = { session: o.session, hook, nodeId, startMs: now, endMs: null, outcome: 'running', error: null, delayedMs: slow?.durationMs ?? 0 };
    log.push(rec);
    try {
      if (slow) {
        await clock.sleep(slow.durationMs, slow.ignoresSignal ? undefined : ctx.signal);
        if (ctx.signal.aborted) {
          rec.endMs = clock.now();
          rec.outcome = 'returned';
          return skipped;
        }
      }
      const result = await work();
      rec.endMs = clock.now();
      rec.outcome = 'returned';
      return result;
    } catch (err) {
      rec.endMs = clock.now();
      rec.outcome = 'threw';
      rec.error = err instanceof Error ? err.message : String(err);
      throw err;
    }
  }
  const { beforeReplace, clusterHealthy, afterReplace } = hooks;
  return {
    ...hooks,
    ...(beforeReplace && { beforeReplace: (nodeId: string, ctx: HookContext) => run('beforeReplace', nodeId, ctx, () => beforeReplace.call(hooks, nodeId, ctx), undefined) }),
    ...(afterReplace && { afterReplace: (nodeId: string, ctx: HookContext) => run('afterReplace', nodeId, ctx, () => afterReplace.call(hooks, nodeId, ctx), undefined) }),
    // A health check left behind answers "not healthy": it never saw the cluster.
    ...(clusterHealthy && { clusterHealthy: (ctx: HookContext) => run('clusterHealthy', null, ctx, () => clusterHealthy.call(hooks, ctx), false) }),
  };
}
