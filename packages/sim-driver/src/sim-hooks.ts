import type { ClusterHooks } from '@berth/core';
import type { SimContext } from './sim-context.js';

/**
 * {@link ClusterHooks} backed by the simulated application: `isLeader`, `clusterHealthy`
 * (available and every up member caught up), `beforeReplace`, which steps a leader down
 * and waits (bounded) for a new leader elsewhere, and `addMember` / `removeMember`, which change
 * the voting membership the way a strict reconfiguration does (refused when the change would
 * lose the quorum; `removeMember` of the leader waits, bounded, for a new one).
 */
export function createSimHooks(ctx: SimContext): ClusterHooks {
  return {
    addMember: (nodeId) => {
      ctx.app.addMember(nodeId);
    },
    removeMember: async (nodeId, hookCtx) => {
      const wasLeader = ctx.app.leaderId === nodeId;
      ctx.app.removeMember(nodeId);
      if (!wasLeader) return;
      const w = ctx.scheduler.waiter<void>(`new leader after ${nodeId} was removed`, hookCtx.signal);
      const t = ctx.options.timings.appElectionTimeoutMs;
      const ev = ctx.scheduler.after(10 * t[1], 'removal leader wait elapsed', () => w.resolve());
      ctx.app.whenLeaderElected(() => w.resolve());
      try {
        await w.promise;
      } finally {
        ctx.scheduler.cancel(ev);
      }
    },
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
