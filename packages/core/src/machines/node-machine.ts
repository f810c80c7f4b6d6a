import { assign, emit, enqueueActions, setup } from 'xstate';
import { PHASE_ORDER, type InstanceObservation, type Phase } from '../observation.js';
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
  /** The first failure since the node was last in service or commanded to be replaced. */
  readonly failure: string | null;
  /** The last instance a `failed` was emitted for (or seen failed in the baseline). */
  readonly failedInstanceId: string | null;
  /** Instances already on their way out at the baseline (their terminations are not news). */
  readonly leavingAtStart: readonly string[];
}

export type NodeMachineEvent =
  | { readonly type: 'observed'; readonly status: NodeStatus; readonly atMs: number }
  | { readonly type: 'replace'; readonly instanceId: string; readonly atMs: number }
  /** A phase reported by a change notification, between observations. */
  | { readonly type: 'phase-reported'; readonly instanceId: string; readonly phase: Phase; readonly reason: string | null; readonly atMs: number }
  /** A change notification says one of the node's instances terminated. */
  | { readonly type: 'terminated'; readonly instanceId: string; readonly atMs: number };

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

const rank = (p: Phase) => PHASE_ORDER.indexOf(p);

/**
 * Whether `to` is news after `from` on one instance. A boot only moves forward, so an earlier
 * phase is a late report (notifications may arrive out of order, an observation may lag one);
 * `failed` ends a boot, and after it any phase is a retry (a bootstrap repaired by hand).
 */
export function phaseAdvances(from: Phase | null, to: Phase): boolean {
  if (from === null) return true;
  if (from === to) return false;
  if (to === 'failed' || from === 'failed') return true;
  return rank(to) > rank(from);
}

/** The phase an observation shows for an instance: its tag, else what its lifecycle says. */
function observedPhase(i: InstanceObservation): Phase {
  return i.phase ?? (i.lifecycleState === 'InService' ? 'in-service' : 'launching');
}

/**
 * One node's life as observations and notifications show it: `unknown` until the first
 * observation, then `absent → booting → inService`, `replacing` when the controller terminated its
 * instance, `recovering` when it was lost without a command, `failed` when its instance reported
 * a failure. Driven only by events (observations, notified phases and the controller's `replace`);
 * it emits `phase`, `lost`, `replaced` and `failed`.
 *
 * The first observation is a baseline: it sets where the node stands and emits nothing, so a
 * controller started mid-roll reports only what happens after it started. A phase is emitted
 * once per instance and only forward (see {@link phaseAdvances}); `failed` once per instance:
 * when it reports `failed`, or when an instance seen booting leaves before InService (its
 * lifecycle action abandoned, its hook timed out, or it was terminated).
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
    baseline: assign(({ event }) => {
      const cur = event.type === 'observed' ? event.status.current : null;
      const failedId = event.type === 'observed' && event.status.state === 'failed' ? (cur?.instanceId ?? null) : null;
      return {
        phase: cur ? observedPhase(cur) : null,
        phaseInstanceId: cur?.instanceId ?? null,
        failedInstanceId: failedId,
        failure: failedId !== null ? (cur?.phaseReason ?? 'failed') : null,
        leavingAtStart: event.type === 'observed' ? event.status.leaving.map((i) => i.instanceId) : [],
        sinceMs: event.atMs,
      };
    }),
    phase: enqueueActions(({ context, event, enqueue }) => {
      let instanceId: string, phase: Phase, reason: string | null;
      if (event.type === 'observed' && event.status.current) {
        const cur = event.status.current;
        instanceId = cur.instanceId;
        phase = observedPhase(cur);
        reason = cur.phaseReason;
      } else if (event.type === 'phase-reported') {
        ({ instanceId, phase, reason } = event);
      } else return;
      if (instanceId === context.phaseInstanceId && !phaseAdvances(context.phase, phase)) return;
      // The instance last seen in service reports no boot phase it is past (a late notification).
      if (instanceId === context.instanceId && instanceId !== context.phaseInstanceId) return;
      enqueue.emit({ type: 'phase', nodeId: context.nodeId, instanceId, phase, reason, atMs: event.atMs });
      enqueue.assign({ phase, phaseInstanceId: instanceId });
      if (phase === 'failed' && context.failedInstanceId !== instanceId) {
        const why = reason ?? 'failed';
        enqueue.emit({ type: 'failed', nodeId: context.nodeId, instanceId, reason: why, atMs: event.atMs });
        enqueue.assign({ failedInstanceId: instanceId, failure: context.failure ?? why });
      }
    }),
    /** While the node is down, an instance other than the one it was in service with terminated: that boot failed. */
    endedBooting: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'terminated') return;
      const id = event.instanceId;
      if (id === context.instanceId || id === context.failedInstanceId || context.leavingAtStart.includes(id)) return;
      const reason = `instance ${id} terminated before InService (last phase ${id === context.phaseInstanceId ? (context.phase ?? 'unknown') : 'unknown'}; its lifecycle action was abandoned, its hook timed out, or it was terminated)`;
      enqueue.emit({ type: 'failed', nodeId: context.nodeId, instanceId: id, reason, atMs: event.atMs });
      enqueue.assign({ failedInstanceId: id, failure: context.failure ?? reason });
    }),
    /** The instance seen booting is not the current one any more and never came into service: it failed. */
    leftBooting: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'observed') return;
      const prev = context.phaseInstanceId;
      if (prev === null || prev === context.instanceId || prev === context.failedInstanceId || context.phase === 'in-service') return;
      if (event.status.current?.instanceId === prev) return;
      const left = event.status.leaving.find((i) => i.instanceId === prev);
      const reason =
        left?.phase === 'failed'
          ? (left.phaseReason ?? 'failed')
          : `instance ${prev} terminated before InService (last phase ${context.phase ?? 'unknown'}; its lifecycle action was abandoned, its hook timed out, or it was terminated)`;
      enqueue.emit({ type: 'failed', nodeId: context.nodeId, instanceId: prev, reason, atMs: event.atMs });
      enqueue.assign({ failedInstanceId: prev, failure: context.failure ?? reason });
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
    /** An observation shows the current instance failed: `failed`, unless a notification already said so. */
    emitFailed: enqueueActions(({ context, event, enqueue }) => {
      const s = event.type === 'observed' ? event.status : null;
      const instanceId = s?.current?.instanceId ?? null;
      if (instanceId !== null && instanceId === context.failedInstanceId) return;
      const reason = s?.current?.phaseReason ?? s?.failure?.reason ?? 'failed';
      enqueue.emit({ type: 'failed', nodeId: context.nodeId, instanceId, reason, atMs: event.atMs });
      enqueue.assign({ failedInstanceId: instanceId, failure: context.failure ?? reason, sinceMs: event.atMs });
    }),
    settle: assign(({ event }) => ({
      instanceId: event.type === 'observed' ? (event.status.current?.instanceId ?? null) : null,
      cause: 'recover' as const,
      failure: null,
      sinceMs: event.atMs,
    })),
    markRecover: assign(({ event }) => ({ cause: 'recover' as const, sinceMs: event.atMs })),
    markReplace: assign(({ event }) => ({ cause: 'replace' as const, failure: null, sinceMs: event.atMs })),
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
    failedInstanceId: null,
    leavingAtStart: [],
  }),
  initial: 'unknown',
  on: {
    replace: { target: '.replacing', actions: 'markReplace' },
    'phase-reported': { actions: 'phase' },
  },
  states: {
    /** Before the first observation: it sets the baseline and emits nothing. */
    unknown: {
      on: {
        // Nothing is known to compare a notified phase with yet.
        'phase-reported': {},
        observed: [
          { guard: 'absent', target: 'absent', actions: 'baseline' },
          { guard: 'inService', target: 'inService', actions: ['baseline', 'settle'] },
          { guard: 'booting', target: 'booting', actions: 'baseline' },
          { guard: 'failed', target: 'failed', actions: 'baseline' },
          { guard: 'gone', target: 'recovering', actions: ['baseline', 'markRecover'] },
        ],
      },
    },
    absent: {
      on: {
        observed: [
          { guard: 'inService', target: 'inService', actions: ['phase', 'settle'] },
          { guard: 'booting', target: 'booting', actions: ['phase'] },
          { guard: 'failed', target: 'failed', actions: ['phase', 'emitFailed'] },
          { guard: 'gone', target: 'recovering', actions: 'markRecover' },
        ],
      },
    },
    inService: {
      on: {
        observed: [
          { guard: 'failed', target: 'failed', actions: ['emitLost', 'phase', 'emitFailed'] },
          { guard: 'sameInstance', actions: ['phase'] },
          { guard: 'inService', target: 'inService', actions: ['emitLost', 'phase', 'emitReplaced', 'settle'], reenter: true },
          { guard: 'booting', target: 'booting', actions: ['emitLost', 'markRecover', 'phase'] },
          { guard: 'gone', target: 'recovering', actions: ['emitLost', 'markRecover'] },
        ],
      },
    },
    replacing: {
      on: {
        terminated: { actions: 'endedBooting' },
        observed: [
          { guard: 'sameInstance', actions: [] },
          { guard: 'inService', target: 'inService', actions: ['leftBooting', 'phase', 'emitReplaced', 'settle'] },
          { guard: 'booting', target: 'booting', actions: ['leftBooting', 'phase'] },
          { guard: 'failed', target: 'failed', actions: ['leftBooting', 'phase', 'emitFailed'] },
          { actions: 'leftBooting' },
        ],
      },
    },
    recovering: {
      on: {
        terminated: { actions: 'endedBooting' },
        observed: [
          { guard: 'inService', target: 'inService', actions: ['leftBooting', 'phase', 'emitReplaced', 'settle'] },
          { guard: 'booting', target: 'booting', actions: ['leftBooting', 'phase'] },
          { guard: 'failed', target: 'failed', actions: ['leftBooting', 'phase', 'emitFailed'] },
          { actions: 'leftBooting' },
        ],
      },
    },
    booting: {
      on: {
        terminated: { actions: 'endedBooting' },
        observed: [
          { guard: 'inService', target: 'inService', actions: ['leftBooting', 'phase', 'emitReplaced', 'settle'] },
          { guard: 'booting', actions: ['leftBooting', 'phase'] },
          { guard: 'failed', target: 'failed', actions: ['leftBooting', 'phase', 'emitFailed'] },
          { guard: 'gone', target: 'recovering', actions: ['leftBooting'] },
        ],
      },
    },
    failed: {
      on: {
        observed: [
          { guard: 'inService', target: 'inService', actions: ['phase', 'emitReplaced', 'settle'] },
          { guard: 'booting', target: 'booting', actions: ['markRecover', 'phase'] },
          // Another instance of the node failed too.
          { guard: 'failed', actions: ['phase', 'emitFailed'] },
        ],
      },
    },
  },
});

/**
 * The `failed` a halt adds for a node whose replacement or recovery failed without any instance
 * saying so (it timed out, its launches failed): only when the node is still down and nothing
 * failed for it since it was last in service or replaced. Reads the machine's last state (the
 * machine may be stopped already).
 */
export function failureAtHalt(snapshot: { readonly value: unknown; readonly context: NodeMachineContext }, reason: string, atMs: number): NodeMachineEmitted | null {
  const state = String(snapshot.value);
  const c = snapshot.context;
  if (!['replacing', 'booting', 'recovering'].includes(state) || c.failure !== null) return null;
  const instanceId = c.phaseInstanceId !== null && c.phaseInstanceId !== c.instanceId ? c.phaseInstanceId : null;
  return { type: 'failed', nodeId: c.nodeId, instanceId, reason, atMs };
}
