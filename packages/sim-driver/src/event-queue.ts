/** One scheduled callback. Cancelled events stay in the heap and are skipped when popped. */
export interface QueuedEvent {
  readonly timeMs: number;
  readonly seq: number;
  readonly label: string;
  readonly fn: () => void;
  cancelled: boolean;
}

function before(a: QueuedEvent, b: QueuedEvent): boolean {
  return a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.seq < b.seq);
}

/** A binary min-heap ordered by `(timeMs, seq)`: equal times fire in scheduling order. */
export class EventQueue {
  readonly #heap: QueuedEvent[] = [];

  get size(): number {
    return this.#heap.length;
  }

  push(ev: QueuedEvent): void {
    const h = this.#heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as QueuedEvent;
      if (!before(ev, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = ev;
  }

  peek(): QueuedEvent | undefined {
    return this.#heap[0];
  }

  pop(): QueuedEvent | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    const n = h.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && before(h[r] as QueuedEvent, h[l] as QueuedEvent)) c = r;
      const child = h[c] as QueuedEvent;
      if (!before(child, last)) break;
      h[i] = child;
      i = c;
    }
    h[i] = last;
    return top;
  }

  /** Labels of the live events, soonest first (for error messages). */
  labels(limit: number): string[] {
    return [...this.#heap]
      .filter((e) => !e.cancelled)
      .sort((a, b) => (before(a, b) ? -1 : 1))
      .slice(0, limit)
      .map((e) => e.label);
  }
}
