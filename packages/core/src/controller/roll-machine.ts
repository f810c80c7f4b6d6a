import { assign, fromPromise, setup } from 'xstate';
import type { ClusterObservation } from '../observation.js';
import type { RollAction, RollPlan } from '../plan/plan-roll.js';
import type { HoldDue } from '../plan/roll-holds.js';

/**
 * The I/O of one roll, which the machine sequences (the controller's `RollRun`): handed to the
 * actor as its input, so the machine itself is built once, at module level.
 */
export interface RollSteps {
  lock(): Promise<void>;
  observe(): Promise<ClusterObservation>;
  decide(observation: ClusterObservation): Promise<RollPlan>;
  updateTemplates(nodeIds: readonly string[], observation: ClusterObservation): Promise<ClusterObservation>;
  startBatch(plan: RollPlan, observation: ClusterObservation): Promise<void>;
  verify(): Promise<{ observation: ClusterObservation; hold: HoldDue | null }>;
  /** `signal` aborts when the hold ends early (resume()). */
  hold(hold: HoldDue, signal: AbortSignal): Promise<ClusterObservation>;
  wait(): Promise<ClusterObservation>;
  release(): Promise<void>;
}

export interface RollMachineContext {
  readonly steps: RollSteps;
  readonly observation: ClusterObservation | null;
  readonly plan: RollPlan | null;
  readonly pauseRequested: boolean;
  /** The hold due after the batch just verified (canary, checkpoint). */
  readonly hold: HoldDue | null;
  readonly outcome: { readonly type: 'done' } | Extract<RollAction, { type: 'halt' }> | null;
  readonly error: unknown;
}

export type RollMachineEvent = { readonly type: 'pause' } | { readonly type: 'resume' };

type WithSteps<T = object> = T & { readonly steps: RollSteps };

/**
 * The cluster machine for one roll: `locking → observing → planning → (updating templates |
 * replacing → verifying [→ holding] | waiting) → planning … → releasing → finished`, with
 * `paused` (pause() before the next batch) and `holding` (after the canary, at a checkpoint).
 * It only sequences; each step's I/O is a {@link RollSteps} method the controller passes as the
 * actor's input (`createActor(rollMachine, { input: { steps } })`: one machine for every roll,
 * no `provide()` per roll), and every decision comes from the pure planner.
 */
export const rollMachine = setup({
  types: {
    context: {} as RollMachineContext,
    events: {} as RollMachineEvent,
    input: {} as { steps: RollSteps },
    output: {} as RollMachineContext,
  },
  actors: {
    lock: fromPromise<void, WithSteps>(({ input }) => input.steps.lock()),
    observe: fromPromise<ClusterObservation, WithSteps>(({ input }) => input.steps.observe()),
    decide: fromPromise<RollPlan, WithSteps<{ observation: ClusterObservation }>>(({ input }) => input.steps.decide(input.observation)),
    updateTemplates: fromPromise<ClusterObservation, WithSteps<{ nodeIds: readonly string[]; observation: ClusterObservation }>>(({ input }) => input.steps.updateTemplates(input.nodeIds, input.observation)),
    startBatch: fromPromise<void, WithSteps<{ plan: RollPlan; observation: ClusterObservation }>>(({ input }) => input.steps.startBatch(input.plan, input.observation)),
    verify: fromPromise<{ observation: ClusterObservation; hold: HoldDue | null }, WithSteps>(({ input }) => input.steps.verify()),
    // Its own signal: resume() ends the hold by stopping this actor.
    hold: fromPromise<ClusterObservation, WithSteps<{ hold: HoldDue }>>(({ input, signal }) => input.steps.hold(input.hold, signal)),
    wait: fromPromise<ClusterObservation, WithSteps>(({ input }) => input.steps.wait()),
    release: fromPromise<void, WithSteps>(({ input }) => input.steps.release()),
  },
  guards: {
    pauseRequested: ({ context }) => context.pauseRequested,
    holdDue: ({ context }) => context.hold !== null,
    is: ({ context }, params: { type: RollAction['type'] }) => context.plan?.action.type === params.type,
  },
}).createMachine({
  id: 'roll',
  context: ({ input }) => ({ steps: input.steps, observation: null, plan: null, pauseRequested: false, hold: null, outcome: null, error: null }),
  initial: 'locking',
  on: {
    pause: { actions: assign({ pauseRequested: true }) },
  },
  states: {
    locking: {
      invoke: { src: 'lock', input: ({ context }) => ({ steps: context.steps }), onDone: 'observing', onError: { target: 'finished', actions: assign({ error: ({ event }) => event.error }) } },
    },
    observing: {
      invoke: {
        src: 'observe',
        input: ({ context }) => ({ steps: context.steps }),
        onDone: { target: 'planning', actions: assign({ observation: ({ event }) => event.output }) },
        onError: 'failing',
      },
    },
    planning: {
      invoke: {
        src: 'decide',
        input: ({ context }) => ({ steps: context.steps, observation: context.observation as ClusterObservation }),
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
        input: ({ context }) => ({ steps: context.steps, hold: context.hold as HoldDue }),
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
          return { steps: context.steps, nodeIds: a?.type === 'update-templates' ? a.nodeIds : [], observation: context.observation as ClusterObservation };
        },
        // The step returns the observation with the new template revisions: no need to look again.
        onDone: { target: 'planning', actions: assign({ observation: ({ event }) => event.output }) },
        onError: 'failing',
      },
    },
    replacing: {
      invoke: {
        src: 'startBatch',
        input: ({ context }) => ({ steps: context.steps, plan: context.plan as RollPlan, observation: context.observation as ClusterObservation }),
        onDone: 'verifying',
        onError: 'failing',
      },
    },
    verifying: {
      invoke: {
        src: 'verify',
        input: ({ context }) => ({ steps: context.steps }),
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
        input: ({ context }) => ({ steps: context.steps }),
        onDone: { target: 'planning', actions: assign({ observation: ({ event }) => event.output }) },
        onError: 'failing',
      },
    },
    failing: {
      entry: assign({ error: ({ event }) => (event as unknown as { error: unknown }).error }),
      always: 'releasing',
    },
    releasing: {
      invoke: { src: 'release', input: ({ context }) => ({ steps: context.steps }), onDone: 'finished', onError: 'finished' },
    },
    finished: { type: 'final' },
  },
  output: ({ context }) => context,
});
