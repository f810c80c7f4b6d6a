import { assign, emit, enqueueActions, setup } from 'xstate';
import type { Phase } from '../observation.js';
import type { NodeStatus } from '../plan/node-status.js';

export interface NodeMachineContext {
  readonly nodeId: string;
  /** The instance the node was last seen InService with. */
  readonly instanceId: string | null;
  readonly phase: Phase | null;
  readonly phaseInstanceId: string | null;
  /** Why the node is booting: a replacement we started, a recovery, or first provisioning. */
  readonly cause: 'replace' | 'recover' | 'initial';
  readonly sinceMs: number;
  readonly failure: string | null;
}

export type NodeMachineEvent =
  | { readonly type: 'observed'; readonly status: NodeStatus; readonly atMs: number }
  | { readonly type: 'replace'; readonly instanceId: string; readonly atMs: number }
  /** A phase reported by a change notification, between observations. */
  | { readonly type: 'phase-reported'; readonly instanceId: string; readonly phase: Phase; readonly reason: string | null; readonly atMs: number };

export type NodeMachineEmitted =
  | { readonly type: 'phase'; readonly nodeId: string; readonly instanceId: string; readonly phase: Phase; readonly reason: string | null; readonly atMs: number }
  | { readonly type: 'lost'; readonly nodeId: string; readonly instanceId: string; readonly atMs: number }
  | { readonly type: 'replaced'; readonly nodeId: string; readonly oldInstanceId: string | null; readonly newInstanceId: string; readonly cause: 'replace' | 'recover' | 'initial'; readonly atMs: number }
  | { readonly type: 'failed'; readonly nodeId: string; readonly instanceId: string | null; readonly reason: string; readonly atMs: number };

type Category = 'absent' | 'failed' | 'in-service' | 'booting' | 'gone';

function category(s: NodeStatus): Category {
  if (!s.provisioned) return 'absent';
  if (s.state === 'failed') return 'failed';
  if (s.healthy) return 'in-service';
  if (s.current) return 'booting';
  return 'gone';
}

const is =
  (c: Category) =>
  ({ event }: { event: NodeMachineEvent }) =>
    event.type === 'observed' && category(event.status) === c;

/**
 * One node's life as observations show it: `absent → booting → inService`, `replacing` when
 * the controller terminated its instance, `recovering` when it was lost without a command,
 * `failed` when its instance reported a failure. Driven only by events (observations and the
 * controller's `replace`); it emits `phase`, `lost`, `replaced` and `failed`.
 */
export const nodeMachine = setup({
  types: {
    context: {} as NodeMachineContext,
    events: {} as NodeMachineEvent,
    input: {} as { nodeId: string; atMs: number },
    emitted: {} as NodeMachineEmitted,
  },
  guards: {
    absent: is('absent'),
    failed: is('failed'),
    inService: is('in-service'),
    booting: is('booting'),
    gone: is('gone'),
    sameInstance: ({ context, event }) => event.type === 'observed' && event.status.current?.instanceId === context.instanceId,
  },
  actions: {
    phase: enqueueActions(({ context, event, enqueue }) => {
      let instanceId: string, phase: Phase, reason: string | null;
      if (event.type === 'observed' && event.status.current) {
        const cur = event.status.current;
        instanceId = cur.instanceId;
        phase = cur.phase ?? (cur.lifecycleState === 'InService' ? 'in-service' : 'launching');
        reason = cur.phaseReason;
      } else if (event.type === 'phase-reported') {
        ({ instanceId, phase, reason } = event);
      } else return;
      if (instanceId === context.phaseInstanceId && phase === context.phase) return;
      enqueue.emit({ type: 'phase', nodeId: context.nodeId, instanceId, phase, reason, atMs: event.atMs });
      enqueue.assign({ phase, phaseInstanceId: instanceId });
    }),
    emitLost: emit(({ context, event }) => ({ type: 'lost' as const, nodeId: context.nodeId, instanceId: context.instanceId ?? '', atMs: event.atMs })),
    emitReplaced: emit(({ context, event }) => ({
      type: 'replaced' as const,
      nodeId: context.nodeId,
      oldInstanceId: context.instanceId,
      newInstanceId: event.type === 'observed' ? (event.status.current?.instanceId ?? '') : '',
      cause: context.cause,
      atMs: event.atMs,
    })),
    emitFailed: emit(({ context, event }) => {
      const s = event.type === 'observed' ? event.status : null;
      return {
        type: 'failed' as const,
        nodeId: context.nodeId,
        instanceId: s?.current?.instanceId ?? null,
        reason: s?.current?.phaseReason ?? s?.failure?.reason ?? 'failed',
        atMs: event.atMs,
      };
    }),
    settle: assign(({ event }) => ({
      instanceId: event.type === 'observed' ? (event.status.current?.instanceId ?? null) : null,
      cause: 'recover' as const,
      failure: null,
      sinceMs: event.atMs,
    })),
    markRecover: assign(({ event }) => ({ cause: 'recover' as const, sinceMs: event.atMs })),
    markReplace: assign(({ event }) => ({ cause: 'replace' as const, sinceMs: event.atMs })),
    markFailure: assign(({ event }) => ({
      failure: event.type === 'observed' ? (event.status.current?.phaseReason ?? 'failed') : 'failed',
      sinceMs: event.atMs,
    })),
  },
}).createMachine({
  id: 'node',
  context: ({ input }) => ({
    nodeId: input.nodeId,
    instanceId: null,
    phase: null,
    phaseInstanceId: null,
    cause: 'initial',
    sinceMs: input.atMs,
    failure: null,
  }),
  initial: 'absent',
  on: {
    replace: { target: '.replacing', actions: 'markReplace' },
    'phase-reported': { actions: 'phase' },
  },
  states: {
    absent: {
      on: {
        observed: [
          { guard: 'inService', target: 'inService', actions: ['phase', 'settle'] },
          { guard: 'booting', target: 'booting', actions: ['phase'] },
          { guard: 'failed', target: 'failed', actions: ['markFailure', 'emitFailed'] },
          { guard: 'gone', target: 'recovering', actions: 'markRecover' },
        ],
      },
    },
    inService: {
      on: {
        observed: [
          { guard: 'sameInstance', actions: ['phase'] },
          { guard: 'inService', target: 'inService', actions: ['emitLost', 'phase', 'emitReplaced', 'settle'], reenter: true },
          { guard: 'booting', target: 'booting', actions: ['emitLost', 'markRecover', 'phase'] },
          { guard: 'gone', target: 'recovering', actions: ['emitLost', 'markRecover'] },
          { guard: 'failed', target: 'failed', actions: ['emitLost', 'markFailure', 'emitFailed'] },
        ],
      },
    },
    replacing: {
      on: {
        observed: [
          { guard: 'sameInstance', actions: [] },
          { guard: 'inService', target: 'inService', actions: ['phase', 'emitReplaced', 'settle'] },
          { guard: 'booting', target: 'booting', actions: ['phase'] },
          { guard: 'failed', target: 'failed', actions: ['markFailure', 'emitFailed'] },
        ],
      },
    },
    recovering: {
      on: {
        observed: [
          { guard: 'inService', target: 'inService', actions: ['phase', 'emitReplaced', 'settle'] },
          { guard: 'booting', target: 'booting', actions: ['phase'] },
          { guard: 'failed', target: 'failed', actions: ['markFailure', 'emitFailed'] },
        ],
      },
    },
    booting: {
      on: {
        observed: [
          { guard: 'inService', target: 'inService', actions: ['phase', 'emitReplaced', 'settle'] },
          { guard: 'booting', actions: ['phase'] },
          { guard: 'failed', target: 'failed', actions: ['markFailure', 'emitFailed'] },
          { guard: 'gone', target: 'recovering', actions: [] },
        ],
      },
    },
    failed: {
      on: {
        observed: [
          { guard: 'inService', target: 'inService', actions: ['phase', 'emitReplaced', 'settle'] },
          { guard: 'booting', target: 'booting', actions: ['markRecover', 'phase'] },
        ],
      },
    },
  },
});
