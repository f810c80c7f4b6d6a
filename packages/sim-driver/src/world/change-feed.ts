import type { ClusterChange } from '@berth/core';
import type { Waiter } from '../scheduler.js';
import type { SimContext } from '../sim-context.js';

interface Queue {
  readonly messages: ClusterChange[];
  readonly waiters: Set<Waiter<void>>;
}

/**
 * The SQS queue an AWS deployment feeds from EventBridge: Auto Scaling lifecycle events,
 * phase-tag changes, failed launches and terminations of the cluster's instances. A queue
 * exists once the cluster was provisioned (or first polled); earlier events are not kept.
 */
export class ChangeFeed {
  readonly #ctx: SimContext;
  readonly #queues = new Map<string, Queue>();

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
  }

  ensureQueue(clusterName: string): void {
    if (!this.#queues.has(clusterName)) this.#queues.set(clusterName, { messages: [], waiters: new Set() });
  }

  publish(clusterName: string, change: ClusterChange): void {
    const q = this.#queues.get(clusterName);
    if (!q) return;
    q.messages.push(change);
    const waiters = [...q.waiters];
    q.waiters.clear();
    for (const w of waiters) w.resolve();
  }

  pending(clusterName: string): number {
    return this.#queues.get(clusterName)?.messages.length ?? 0;
  }

  /** Takes every queued message. */
  drain(clusterName: string): ClusterChange[] {
    const q = this.#queues.get(clusterName);
    if (!q) return [];
    return q.messages.splice(0, q.messages.length);
  }

  /** Resolves when a message arrives or after `waitMs` (whichever first); rejects on abort. */
  async waitForMessage(clusterName: string, waitMs: number, signal: AbortSignal | undefined): Promise<void> {
    this.ensureQueue(clusterName);
    const q = this.#queues.get(clusterName) as Queue;
    if (q.messages.length > 0) return;
    const w = this.#ctx.scheduler.waiter<void>(`ReceiveMessage long poll (${clusterName})`, signal);
    q.waiters.add(w);
    const ev = this.#ctx.scheduler.after(waitMs, 'ReceiveMessage wait elapsed', () => {
      q.waiters.delete(w);
      w.resolve();
    });
    try {
      await w.promise;
    } finally {
      this.#ctx.scheduler.cancel(ev);
      q.waiters.delete(w);
    }
  }
}
