/**
 * One state change in the simulated world, with its virtual time. `seq` orders entries that
 * share a time. The remaining fields depend on `kind` (e.g. `instance.state` carries
 * `from`/`to`).
 */
export interface TraceEntry {
  readonly atMs: number;
  readonly seq: number;
  readonly kind: string;
  readonly nodeId?: string;
  readonly instanceId?: string;
  readonly [detail: string]: unknown;
}

export type TraceListener = (entry: TraceEntry) => void;

/** Appends entries in order and notifies listeners (e.g. chaos invariant checkers). */
export class TraceRecorder {
  readonly entries: TraceEntry[] = [];
  readonly #listeners = new Set<TraceListener>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  record(kind: string, detail: Record<string, unknown> = {}): TraceEntry {
    const entry: TraceEntry = { atMs: this.#now(), seq: this.entries.length, kind, ...detail };
    this.entries.push(entry);
    for (const l of this.#listeners) l(entry);
    return entry;
  }

  subscribe(listener: TraceListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
