import type { RollHooks } from '@berth/core';
import type { SimContext } from './sim-context.js';

/**
 * {@link RollHooks} backed by the simulated application: `isLeader`, `clusterHealthy`
 * (available and every up member caught up), and `beforeReplace`, which steps a leader down
 * and waits (bounded) for a new leader elsewhere.
 */
export function createSimHooks(ctx: SimContext): RollHooks {
  return {
    isLeader: (nodeId) => ctx.app.leaderId === nodeId,
    clusterHealthy: () => ctx.app.clusterHealthy(),
    beforeReplace: async (nodeId, hookCtx) => {
      if (!ctx.app.stepDown(nodeId)) return;
      ctx.trace.record('app.step-down', { nodeId });
      const w = ctx.scheduler.waiter<void>(`new leader after ${nodeId} stepped down`, hookCtx.signal);
      const t = ctx.options.timings.appElectionTimeoutMs;
      const ev = ctx.scheduler.after(10 * t[1], 'step-down wait elapsed', () => w.resolve());
      ctx.app.whenLeaderElected(() => w.resolve());
      try {
        await w.promise;
      } finally {
        ctx.scheduler.cancel(ev);
      }
    },
  };
}
