import { createActor, type Actor } from 'xstate';
import type { ClusterChange } from '../driver.js';
import { failureAtHalt, nodeMachine, type NodeMachineEmitted } from '../machines/node-machine.js';
import type { NodeStatus } from '../plan/node-status.js';

/**
 * One node machine per node, fed with observations and change notifications; forwards what
 * the machines emit (phase changes, losses, replacements, failures).
 *
 * Only what happens after the tracker starts is news: the first observation is each machine's
 * baseline (nothing emitted), and a notification sent before the start (a queue keeps its
 * messages for an hour) is dropped.
 */
export class NodeTracker {
  readonly #actors = new Map<string, Actor<typeof nodeMachine>>();
  readonly #listener: (e: NodeMachineEmitted) => void;
  /** Notifications older than this are from before the start (event times are whole seconds). */
  readonly #notBeforeMs: number;

  constructor(nodeIds: readonly string[], atMs: number, listener: (e: NodeMachineEmitted) => void) {
    this.#listener = listener;
    this.#notBeforeMs = Math.floor(atMs / 1000) * 1000;
    for (const nodeId of nodeIds) {
      const actor = createActor(nodeMachine, { input: { nodeId, atMs } });
      actor.on('*', (e) => this.#listener(e));
      actor.start();
      this.#actors.set(nodeId, actor);
    }
  }

  readonly #lastSeen = new Map<string, string>();

  observed(statuses: readonly NodeStatus[], atMs: number): void {
    for (const status of statuses) {
      // Most observations change nothing for most nodes: skip those machine steps.
      const c = status.current;
      const key = `${status.state}|${status.healthy}|${c?.instanceId}|${c?.phase}|${c?.lifecycleState}|${status.leaving.map((i) => i.instanceId).join(',')}`;
      if (this.#lastSeen.get(status.nodeId) === key) continue;
      this.#lastSeen.set(status.nodeId, key);
      this.#actors.get(status.nodeId)?.send({ type: 'observed', status, atMs });
    }
  }

  replacing(nodeId: string, instanceId: string, atMs: number): void {
    this.#lastSeen.delete(nodeId);
    this.#actors.get(nodeId)?.send({ type: 'replace', instanceId, atMs });
  }

  notified(changes: readonly ClusterChange[]): void {
    for (const c of changes) {
      if (!c.instanceId || c.atMs < this.#notBeforeMs) continue;
      const actor = this.#actors.get(c.nodeId);
      if (c.kind === 'phase' && c.phase) actor?.send({ type: 'phase-reported', instanceId: c.instanceId, phase: c.phase, reason: c.phase === 'failed' ? c.detail : null, atMs: c.atMs });
      else if (c.kind === 'terminated') actor?.send({ type: 'terminated', instanceId: c.instanceId, atMs: c.atMs });
    }
  }

  /**
   * The roll halted on this node: when its replacement (or recovery) is still under way and no
   * instance of it reported a failure, it failed with the halt's reason (a timeout, launches that
   * keep failing). Works after `stop()`.
   */
  halted(nodeId: string, reason: string, atMs: number): void {
    const actor = this.#actors.get(nodeId);
    if (!actor) return;
    const failed = failureAtHalt(actor.getSnapshot(), reason, atMs);
    if (failed) this.#listener(failed);
  }

  /** The machine state of each node (e.g. `inService`, `booting`, `recovering`). */
  states(): Record<string, string> {
    return Object.fromEntries([...this.#actors].map(([id, a]) => [id, String(a.getSnapshot().value)]));
  }

  stop(): void {
    for (const a of this.#actors.values()) a.stop();
  }
}
