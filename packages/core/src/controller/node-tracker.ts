import { createActor, type AnyActorScope, type SnapshotFrom } from 'xstate';
import type { ClusterChange } from '../driver.js';
import { failureAtHalt, nodeMachine, type NodeMachineEmitted, type NodeMachineEvent } from '../machines/node-machine.js';
import type { NodeStatus } from '../plan/node-status.js';

type NodeSnapshot = SnapshotFrom<typeof nodeMachine>;

/** What the transition being computed emits (collected by the shared scope's action executor). */
let emitted: NodeMachineEmitted[] = [];

/**
 * The one actor scope every node's transitions are computed in. `transition(machine, snapshot,
 * event)` from xstate builds a throw-away actor (and system) on each call, which costs more than
 * the step itself (measured: ~65 µs a step against ~7 µs here); the node machine spawns and
 * invokes nothing, so one inert scope serves every step of every tracker. Its executor keeps the
 * machine's `emit`s; every other action of the machine is an `assign`, which the transition
 * applies itself.
 */
let sharedScope: AnyActorScope | null = null;

function scope(): AnyActorScope {
  if (sharedScope === null) {
    const self = createActor(nodeMachine, { input: { nodeId: '', atMs: 0 } });
    sharedScope = {
      self,
      id: '',
      sessionId: '',
      system: self.system,
      logger: () => undefined,
      defer: () => undefined,
      emit: () => undefined,
      stopChild: () => undefined,
      actionExecutor: (action: { type: string; params?: unknown }) => {
        if (action.type === 'xstate.emit') emitted.push((action.params as { event: NodeMachineEmitted }).event);
      },
    } as unknown as AnyActorScope;
  }
  return sharedScope;
}

/** The node's next snapshot for `event`, and what the step emitted (pure: nothing is executed). */
function step(snapshot: NodeSnapshot, event: NodeMachineEvent): [NodeSnapshot, readonly NodeMachineEmitted[]] {
  const s = scope();
  emitted = [];
  const next = nodeMachine.transition(snapshot, event, s);
  const out = emitted;
  emitted = [];
  return [next, out];
}

/**
 * One node machine per node, fed with observations and change notifications; forwards what
 * the machines emit (phase changes, losses, replacements, failures).
 *
 * Only what happens after the tracker starts is news: the first observation is each machine's
 * baseline (nothing emitted), and a notification sent before the start (a queue keeps its
 * messages for an hour) is dropped.
 *
 * Each node's state is a machine snapshot advanced by pure transitions (no actor per node, the
 * way xstate's authors advise for state that is computed, not run); the machine is built once.
 */
export class NodeTracker {
  readonly #nodes = new Map<string, NodeSnapshot>();
  #stopped = false;
  readonly #listener: (e: NodeMachineEmitted) => void;
  /** Notifications older than this are from before the start (event times are whole seconds). */
  readonly #notBeforeMs: number;

  constructor(nodeIds: readonly string[], atMs: number, listener: (e: NodeMachineEmitted) => void) {
    this.#listener = listener;
    this.#notBeforeMs = Math.floor(atMs / 1000) * 1000;
    const s = scope();
    for (const nodeId of nodeIds) this.#nodes.set(nodeId, nodeMachine.getInitialSnapshot(s, { nodeId, atMs }));
  }

  /** Steps one node's machine and forwards what it emitted; nothing once stopped (as a stopped actor). */
  #send(nodeId: string, event: NodeMachineEvent): void {
    if (this.#stopped) return;
    const snapshot = this.#nodes.get(nodeId);
    if (snapshot === undefined) return;
    const [next, out] = step(snapshot, event);
    this.#nodes.set(nodeId, next);
    for (const e of out) this.#listener(e);
  }

  readonly #lastSeen = new Map<string, string>();

  observed(statuses: readonly NodeStatus[], atMs: number): void {
    for (const status of statuses) {
      // Most observations change nothing for most nodes: skip those machine steps.
      const c = status.current;
      const key = `${status.state}|${status.healthy}|${c?.instanceId}|${c?.phase}|${c?.lifecycleState}|${status.leaving.map((i) => i.instanceId).join(',')}`;
      if (this.#lastSeen.get(status.nodeId) === key) continue;
      this.#lastSeen.set(status.nodeId, key);
      this.#send(status.nodeId, { type: 'observed', status, atMs });
    }
  }

  replacing(nodeId: string, instanceId: string, atMs: number): void {
    this.#lastSeen.delete(nodeId);
    this.#send(nodeId, { type: 'replace', instanceId, atMs });
  }

  notified(changes: readonly ClusterChange[]): void {
    for (const c of changes) {
      if (!c.instanceId || c.atMs < this.#notBeforeMs) continue;
      if (c.kind === 'phase' && c.phase) this.#send(c.nodeId, { type: 'phase-reported', instanceId: c.instanceId, phase: c.phase, reason: c.phase === 'failed' ? c.detail : null, atMs: c.atMs });
      else if (c.kind === 'terminated') this.#send(c.nodeId, { type: 'terminated', instanceId: c.instanceId, atMs: c.atMs });
    }
  }

  /**
   * The roll halted on this node: when its replacement (or recovery) is still under way and no
   * instance of it reported a failure, it failed with the halt's reason (a timeout, launches that
   * keep failing). Works after `stop()`.
   */
  halted(nodeId: string, reason: string, atMs: number): void {
    const snapshot = this.#nodes.get(nodeId);
    if (!snapshot) return;
    const failed = failureAtHalt(snapshot, reason, atMs);
    if (failed) this.#listener(failed);
  }

  /** The machine state of each node (e.g. `inService`, `booting`, `recovering`). */
  states(): Record<string, string> {
    return Object.fromEntries([...this.#nodes].map(([id, snapshot]) => [id, String(snapshot.value)]));
  }

  /** Ends the tracking: later observations and notifications change nothing (its states stay readable). */
  stop(): void {
    this.#stopped = true;
  }
}
