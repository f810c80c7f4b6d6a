import { BerthAbortError } from '@berth/core';
import { EventQueue, type QueuedEvent } from './event-queue.js';
import { SimulationError } from './simulation-error.js';

export interface RunOptions {
  /**
   * Called before virtual time moves from `fromMs` to `toMs`, and awaited: a demo can hold the
   * simulation back to watch it (e.g. 1 virtual minute per real second). Everything the
   * simulation does is unchanged by it: same seed, same trace.
   */
  readonly pace?: (fromMs: number, toMs: number) => void | Promise<void>;
}

/** A promise that world events settle, and that user code may await. */
export interface Waiter<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
  readonly settled: boolean;
}

function abortError(signal: AbortSignal): BerthAbortError {
  const r: unknown = signal.reason;
  if (r instanceof BerthAbortError) return r; // already says it was aborted; no new error (and stack) per cancelled timer
  return new BerthAbortError(r instanceof Error ? `Aborted: ${r.message}` : 'The operation was aborted.', { cause: r });
}

interface WaiterHooks {
  settled(w: SimWaiter<unknown>): void;
}

/**
 * A {@link Waiter}: a promise and how to settle it, an abort listener itself (`handleEvent`),
 * so a waiter costs one object, its promise and the promise's executor.
 */
class SimWaiter<T> implements Waiter<T> {
  readonly promise: Promise<T>;
  settled = false;
  #resolve!: (v: T) => void;
  #reject!: (e: unknown) => void;
  readonly #hooks: WaiterHooks;
  readonly #label: string;
  readonly #ms: number;
  readonly #signal: AbortSignal | undefined;

  constructor(hooks: WaiterHooks, label: string, ms: number, signal: AbortSignal | undefined) {
    this.#hooks = hooks;
    this.#label = label;
    this.#ms = ms;
    this.#signal = signal;
    this.promise = new Promise<T>((a, b) => {
      this.#resolve = a;
      this.#reject = b;
    });
  }

  /** What it waits for (deadlock and time-limit messages). */
  get label(): string {
    return this.#ms < 0 ? this.#label : `${this.#label} (${Math.round(this.#ms)} ms)`;
  }

  resolve(v: T): void {
    if (this.#finish()) this.#resolve(v);
  }

  reject(e: unknown): void {
    if (this.#finish()) this.#reject(e);
  }

  /** The signal's abort. */
  handleEvent(): void {
    if (!this.settled) this.reject(abortError(this.#signal as AbortSignal));
  }

  #finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.#hooks.settled(this as SimWaiter<unknown>);
    this.#signal?.removeEventListener('abort', this);
    return true;
  }
}

/**
 * Virtual time over an event queue. World processes are plain synchronous callbacks; user
 * code (the controller, tests) awaits {@link Waiter}s. `run` fires events in order and only
 * gives the macrotask queue a turn when an event settled a waiter, so that a long stretch of
 * world-internal events costs no promise round trips.
 */
export class Scheduler {
  #nowMs: number;
  #seq = 0;
  readonly #queue = new EventQueue();
  /** Waiters settled by events since the loop last yielded. */
  #settledWaiters = 0;
  readonly #pending = new Set<SimWaiter<unknown>>();
  #running = false;
  #eventsFired = 0;
  /** Promises (IAM decisions) the world must see settled before time moves or another event fires. */
  #holds = 0;
  #drained: (() => void) | null = null;
  readonly startMs: number;
  readonly maxVirtualMs: number;

  constructor(startMs: number, maxVirtualMs: number) {
    this.startMs = startMs;
    this.#nowMs = startMs;
    this.maxVirtualMs = maxVirtualMs;
  }

  get nowMs(): number {
    return this.#nowMs;
  }

  /** Virtual milliseconds since the simulation started. */
  get elapsedMs(): number {
    return this.#nowMs - this.startMs;
  }

  get eventsFired(): number {
    return this.#eventsFired;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Schedules `fn` at absolute time `timeMs` (not before now). */
  at(timeMs: number, label: string, fn: () => void): QueuedEvent {
    const ev: QueuedEvent = { timeMs: Math.max(timeMs, this.#nowMs), seq: this.#seq++, label, fn, cancelled: false };
    this.#queue.push(ev);
    return ev;
  }

  after(delayMs: number, label: string, fn: () => void): QueuedEvent {
    return this.at(this.#nowMs + Math.max(0, delayMs), label, fn);
  }

  /**
   * Takes a place in the order of events now, for an event scheduled later with {@link atSeq}:
   * a request's response keeps the place its request had, however long its IAM decision took.
   */
  reserveSeq(): number {
    return this.#seq++;
  }

  /** Schedules `fn` at `timeMs` with a sequence number from {@link reserveSeq}. */
  atSeq(timeMs: number, seq: number, label: string, fn: () => void): QueuedEvent {
    const ev: QueuedEvent = { timeMs: Math.max(timeMs, this.#nowMs), seq, label, fn, cancelled: false };
    this.#queue.push(ev);
    return ev;
  }

  /**
   * Keeps virtual time still until `p` settles: the run loop fires no event while a hold is
   * open. Work that is asynchronous in wall time (an IAM evaluation loading its data) thus
   * takes no virtual time and cannot reorder events, so a run stays one trace per seed.
   */
  hold(p: Promise<unknown>): void {
    this.#holds++;
    const release = (): void => {
      this.#holds--;
      if (this.#holds === 0 && this.#drained) {
        const d = this.#drained;
        this.#drained = null;
        d();
      }
    };
    p.then(release, release);
  }

  /** Open holds (for tests). */
  get holds(): number {
    return this.#holds;
  }

  #whenDrained(): Promise<void> {
    if (this.#holds === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const prev = this.#drained;
      this.#drained = () => {
        prev?.();
        resolve();
      };
    });
  }

  cancel(ev: QueuedEvent | null | undefined): void {
    if (ev) ev.cancelled = true;
  }

  /** A waiter settled by world code; settling it lets the run loop yield to user code. */
  waiter<T>(label: string, signal?: AbortSignal): Waiter<T> {
    return this.#waiter<T>(label, -1, signal);
  }

  /** `label`, and for a sleep its duration (`ms` ≥ 0; the pending-wait text is made only for a deadlock message). */
  #waiter<T>(label: string, ms: number, signal: AbortSignal | undefined): SimWaiter<T> {
    const w = new SimWaiter<T>(this.#waiterHooks, label, ms, signal);
    if (signal?.aborted) {
      w.reject(abortError(signal));
      return w;
    }
    this.#pending.add(w as SimWaiter<unknown>);
    if (signal) signal.addEventListener('abort', w, { once: true });
    return w;
  }

  /** What a waiter tells its scheduler when it settles: one object per scheduler, no closure per waiter. */
  readonly #waiterHooks: WaiterHooks = {
    settled: (w) => {
      this.#pending.delete(w);
      this.#settledWaiters++;
    },
  };

  /** Resolves after `ms` virtual milliseconds; rejects with BerthAbortError when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal, label = 'sleep'): Promise<void> {
    const w = this.#waiter<void>(label, ms, signal);
    if (w.settled) return w.promise;
    const ev = this.after(ms, label, () => w.resolve());
    if (signal) w.promise.catch(() => this.cancel(ev));
    return w.promise;
  }

  /**
   * Resolves once `predicate()` holds (true) or virtual time reaches `deadlineMs` (false),
   * checking it now and then every `everyMs`: the instants, and the order of events, of
   * `while (!predicate() && now < deadlineMs) await sleep(everyMs)`, but each check runs inside
   * its world event, so user code wakes once instead of once per check.
   */
  pollUntil(predicate: () => boolean, everyMs: number, deadlineMs: number, label = 'poll'): Promise<boolean> {
    if (predicate()) return Promise.resolve(true);
    if (this.#nowMs >= deadlineMs) return Promise.resolve(false);
    const w = this.waiter<boolean>(`${label} (every ${everyMs} ms)`);
    const tick = (): void => {
      if (predicate()) w.resolve(true);
      else if (this.#nowMs >= deadlineMs) w.resolve(false);
      else this.after(everyMs, label, tick);
    };
    this.after(everyMs, label, tick);
    return w.promise;
  }

  /**
   * Moves virtual time forward by `ms`, firing every event due by then (outside `run`; for
   * code that drives the simulation from outside, like the AWS CLI bridge's `sleep`).
   */
  async advanceBy(ms: number): Promise<void> {
    const target = this.#nowMs + Math.max(0, ms);
    await this.#loopUntil(() => false, target);
    this.#nowMs = Math.max(this.#nowMs, target);
  }

  /** Fires events until `p` settles (outside `run`), then returns what it settles with. */
  async drive<T>(p: Promise<T>): Promise<T> {
    let settled = false;
    const tracked = p.then(
      (v) => ((settled = true), v),
      (e: unknown) => {
        settled = true;
        throw e;
      },
    );
    tracked.catch(() => undefined);
    await yieldToUserCode();
    await this.#loopUntil(() => settled, Infinity);
    if (!settled) throw new SimulationError('SIM_DEADLOCK', this.#nowMs, 'Simulation deadlock: a driven request is still pending but no event is scheduled.');
    return tracked;
  }

  async #loopUntil(done: () => boolean, untilMs: number): Promise<void> {
    if (this.#running) throw new SimulationError('SIM_REENTRANT', this.#nowMs, 'the simulation is already running (sim.run or another driver of it); wait for it first.');
    this.#running = true;
    try {
      while (!done()) {
        if (this.#holds > 0) {
          await this.#whenDrained();
          await yieldToUserCode();
          continue;
        }
        const next = this.#queue.peek();
        if (next === undefined || next.timeMs > untilMs) return;
        this.#queue.pop();
        if (next.cancelled) continue;
        this.#nowMs = next.timeMs;
        this.#eventsFired++;
        next.fn();
        if (this.#settledWaiters > 0) {
          this.#settledWaiters = 0;
          await yieldToUserCode();
        }
      }
    } finally {
      this.#running = false;
    }
  }

  /**
   * Runs `fn` under virtual time: settle user continuations, fire the next event, repeat,
   * until `fn`'s promise settles.
   */
  async run<T>(fn: () => T | Promise<T>, options: RunOptions = {}): Promise<T> {
    const pace = options.pace;
    if (this.#running) {
      throw new SimulationError('SIM_REENTRANT', this.#nowMs, 'sim.run() is already running; await it before calling run() again.');
    }
    this.#running = true;
    let done = false;
    let failed = false;
    let value: T | undefined;
    let error: unknown;
    const limitMs = this.startMs + this.maxVirtualMs;
    try {
      void Promise.resolve()
        .then(fn)
        .then(
          (v) => {
            done = true;
            value = v;
          },
          (e: unknown) => {
            done = true;
            failed = true;
            error = e;
          },
        );
      await yieldToUserCode();
      while (!done) {
        if (this.#holds > 0) {
          await this.#whenDrained();
          await yieldToUserCode();
          continue;
        }
        const ev = this.#queue.pop();
        if (ev === undefined) {
          const waits = [...this.#pending].map((w) => w.label);
          throw new SimulationError(
            'SIM_DEADLOCK',
            this.#nowMs,
            `Simulation deadlock at +${this.elapsedMs} ms: the code under sim.run() is still waiting, but no event is scheduled. ` +
              (waits.length > 0
                ? `Pending waits: ${waits.slice(0, 10).join(', ')}${waits.length > 10 ? ` (+${waits.length - 10} more)` : ''}.`
                : 'Nothing in the simulation is pending: the code awaits a promise the simulation does not know about (real timers or I/O?).'),
          );
        }
        if (ev.cancelled) continue;
        if (ev.timeMs > limitMs) {
          const waits = [...this.#pending].map((w) => w.label);
          throw new SimulationError(
            'SIM_TIME_LIMIT',
            this.#nowMs,
            `Virtual time passed maxVirtualMs (${this.maxVirtualMs} ms) while the code under sim.run() was still pending. ` +
              `Pending waits: ${waits.slice(0, 10).join(', ') || 'none'}. Raise maxVirtualMs, or look for a wait that never ends.`,
          );
        }
        if (pace && ev.timeMs > this.#nowMs) await pace(this.#nowMs, ev.timeMs);
        this.#nowMs = ev.timeMs;
        this.#eventsFired++;
        ev.fn();
        if (this.#settledWaiters > 0) {
          this.#settledWaiters = 0;
          await yieldToUserCode();
        }
      }
    } finally {
      this.#running = false;
    }
    if (failed) throw error;
    return value as T;
  }
}

/**
 * Lets every pending promise continuation run: resolves once the microtask queue is empty.
 * A `process.nextTick` callback queued from a microtask runs only when Node has drained the
 * microtask queue (continuations queued meanwhile included), so queueing it from a microtask
 * marks that point without a turn of the event loop (which `setImmediate` costs: a few
 * microseconds of polling per event that settles a waiter). Never a time source.
 */
function yieldToUserCode(): Promise<void> {
  return new Promise((r) => queueMicrotask(() => process.nextTick(r)));
}
