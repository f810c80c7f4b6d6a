import { assign, fromPromise, setup } from 'xstate';
import { BerthError } from '../errors.js';
import type { ClusterObservation } from '../observation.js';
import type { RollAction, RollPlan } from '../plan/plan-roll.js';
import type { HoldDue } from '../plan/roll-holds.js';

export interface RollMachineContext {
  readonly observation: ClusterObservation | null;
  readonly plan: RollPlan | null;
  readonly pauseRequested: boolean;
  /** The hold due after the batch just verified (canary, checkpoint). */
  readonly hold: HoldDue | null;
  readonly outcome: { readonly type: 'done' } | Extract<RollAction, { type: 'halt' }> | null;
  readonly error: unknown;
}

export type RollMachineEvent = { readonly type: 'pause' } | { readonly type: 'resume' };

/** A step the controller must provide; calling it unprovided is a programming error. */
function step<TOutput, TInput>(name: string) {
  return fromPromise<TOutput, TInput>(async () => {
    throw new BerthError('DRIVER_ERROR', `roll machine step '${name}' was not provided`);
  });
}

/**
 * The cluster machine for one roll: `locking → observing → planning → (updating templates |
 * replacing → verifying [→ holding] | waiting) → planning … → releasing → finished`, with
 * `paused` (pause() before the next batch) and `holding` (after the canary, at a checkpoint).
 * It only sequences; each step's I/O is an actor the controller provides
 * (`rollMachine.provide({ actors })`), and every decision comes from the pure planner.
 */
export const rollMachine = setup({
  types: {
    context: {} as RollMachineContext,
    events: {} as RollMachineEvent,
    output: {} as RollMachineContext,
  },
  actors: {
    lock: step<void, void>('lock'),
    observe: step<ClusterObservation, void>('observe'),
    decide: step<RollPlan, { observation: ClusterObservation }>('decide'),
    updateTemplates: step<ClusterObservation, { nodeIds: readonly string[]; observation: ClusterObservation }>('updateTemplates'),
    startBatch: step<void, { plan: RollPlan; observation: ClusterObservation }>('startBatch'),
    verify: step<{ observation: ClusterObservation; hold: HoldDue | null }, { plan: RollPlan }>('verify'),
    hold: step<ClusterObservation, { hold: HoldDue }>('hold'),
    wait: step<ClusterObservation, { plan: RollPlan }>('wait'),
    release: step<void, void>('release'),
  },
  guards: {
    pauseRequested: ({ context }) => context.pauseRequested,
    holdDue: ({ context }) => context.hold !== null,
    is: ({ context }, params: { type: RollAction['type'] }) => context.plan?.action.type === params.type,
  },
}).createMachine({
  id: 'roll',
  context: { observation: null, plan: null, pauseRequested: false, hold: null, outcome: null, error: null },
  initial: 'locking',
  on: {
    pause: { actions: assign({ pauseRequested: true }) },
  },
  states: {
    locking: {
      invoke: { src: 'lock', onDone: 'observing', onError: { target: 'finished', actions: assign({ error: ({ event }) => event.error }) } },
    },
    observing: {
      invoke: {
        src: 'observe',
        onDone: { target: 'planning', actions: assign({ observation: ({ event }) => event.output }) },
        onError: 'failing',
      },
    },
    planning: {
      invoke: {
        src: 'decide',
        input: ({ context }) => ({ observation: context.observation as ClusterObservation }),
        onDone: { target: 'routing', actions: assign({ plan: ({ event }) => event.output }) },
        onError: 'failing',
      },
    },
    routing: {
      always: [
        { guard: { type: 'is', params: { type: 'halt' } }, target: 'releasing', actions: assign({ outcome: ({ context }) => context.plan?.action as Extract<RollAction, { type: 'halt' }> }) },
        { guard: { type: 'is', params: { type: 'done' } }, target: 'releasing', actions: assign({ outcome: { type: 'done' } }) },
        { guard: 'pauseRequested', target: 'paused' },
        { guard: { type: 'is', params: { type: 'update-templates' } }, target: 'updatingTemplates' },
        { guard: { type: 'is', params: { type: 'replace' } }, target: 'replacing' },
        { target: 'waiting' },
      ],
    },
    paused: {
      on: { resume: { target: 'observing', actions: assign({ pauseRequested: false }) } },
    },
    // After the canary or at a checkpoint: the step watches health and ends by itself (bake time,
    // the approve hook); resume() ends it at once.
    holding: {
      invoke: {
        src: 'hold',
        input: ({ context }) => ({ hold: context.hold as HoldDue }),
        onDone: { target: 'planning', actions: assign({ observation: ({ event }) => event.output, hold: null }) },
        onError: 'failing',
      },
      on: { resume: { target: 'observing', actions: assign({ pauseRequested: false, hold: null }) } },
    },
    updatingTemplates: {
      invoke: {
        src: 'updateTemplates',
        input: ({ context }) => {
          const a = context.plan?.action;
          return { nodeIds: a?.type === 'update-templates' ? a.nodeIds : [], observation: context.observation as ClusterObservation };
        },
        // The step returns the observation with the new template revisions: no need to look again.
        onDone: { target: 'planning', actions: assign({ observation: ({ event }) => event.output }) },
        onError: 'failing',
      },
    },
    replacing: {
      invoke: {
        src: 'startBatch',
        input: ({ context }) => ({ plan: context.plan as RollPlan, observation: context.observation as ClusterObservation }),
        onDone: 'verifying',
        onError: 'failing',
      },
    },
    verifying: {
      invoke: {
        src: 'verify',
        input: ({ context }) => ({ plan: context.plan as RollPlan }),
        onDone: { target: 'afterBatch', actions: assign({ observation: ({ event }) => event.output.observation, hold: ({ event }) => event.output.hold }) },
        onError: 'failing',
      },
    },
    afterBatch: {
      always: [{ guard: 'holdDue', target: 'holding' }, { target: 'planning' }],
    },
    waiting: {
      invoke: {
        src: 'wait',
        input: ({ context }) => ({ plan: context.plan as RollPlan }),
        onDone: { target: 'planning', actions: assign({ observation: ({ event }) => event.output }) },
        onError: 'failing',
      },
    },
    failing: {
      entry: assign({ error: ({ event }) => (event as unknown as { error: unknown }).error }),
      always: 'releasing',
    },
    releasing: {
      invoke: { src: 'release', onDone: 'finished', onError: 'finished' },
    },
    finished: { type: 'final' },
  },
  output: ({ context }) => context,
});
