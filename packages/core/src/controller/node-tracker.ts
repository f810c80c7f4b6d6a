import { createActor, type Actor } from 'xstate';
import type { ClusterChange } from '../driver.js';
import { nodeMachine, type NodeMachineEmitted } from '../machines/node-machine.js';
import type { NodeStatus } from '../plan/node-status.js';

/**
 * One node machine per node, fed with observations and change notifications; forwards what
 * the machines emit (phase changes, losses, replacements, failures).
 */
export class NodeTracker {
  readonly #actors = new Map<string, Actor<typeof nodeMachine>>();
  readonly #listener: (e: NodeMachineEmitted) => void;

  constructor(nodeIds: readonly string[], atMs: number, listener: (e: NodeMachineEmitted) => void) {
    this.#listener = listener;
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
      const key = `${status.state}|${status.healthy}|${c?.instanceId}|${c?.phase}|${c?.lifecycleState}|${status.leaving.length}`;
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
      if (c.kind === 'phase' && c.phase && c.instanceId) {
        this.#actors.get(c.nodeId)?.send({ type: 'phase-reported', instanceId: c.instanceId, phase: c.phase, reason: c.phase === 'failed' ? c.detail : null, atMs: c.atMs });
      }
    }
  }

  /** The machine state of each node (e.g. `inService`, `booting`, `recovering`). */
  states(): Record<string, string> {
    return Object.fromEntries([...this.#actors].map(([id, a]) => [id, String(a.getSnapshot().value)]));
  }

  stop(): void {
    for (const a of this.#actors.values()) a.stop();
  }
}
