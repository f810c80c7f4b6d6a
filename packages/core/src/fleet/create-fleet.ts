import EventEmitter from 'eventemitter3';
import type { Clock } from '../clock.js';
import { createController, type Controller, type ControllerOptions, type WatchOptions } from '../controller/create-controller.js';
import { DEFAULT_FULL_LOOK_INTERVAL_MS, DEFAULT_WATCH_INTERVAL_MS } from '../controller/watch-pacing.js';
import type { Driver } from '../driver.js';
import { BerthConfigError, BerthError, BerthLockError, type ConfigIssue } from '../errors.js';
import type { ClusterHooks } from '../hooks.js';
import type { Lease } from '../lock.js';
import { createPrng } from '../prng.js';
import { RuntimeDriver } from '../runtime/runtime-driver.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import { LookPacer } from './look-pacer.js';

/** One cluster of a fleet, with the hooks its controller calls. */
export interface FleetCluster {
  readonly spec: ClusterSpec;
  readonly hooks?: ClusterHooks;
}

/** Sharing a fleet among processes through the driver's lease table (see {@link FleetOptions.share}). */
export interface FleetShareOptions {
  /** Length of a watch lease; a dead member's clusters are taken over this long after its last renewal. Default 60 000 ms. */
  readonly leaseTtlMs?: number;
  /** How often held leases are renewed and free clusters looked for. Default: a third of `leaseTtlMs`. */
  readonly renewEveryMs?: number;
  /**
   * Most clusters this member watches (its share). Default: every cluster. With `m` members,
   * `ceil(clusters / (m − 1))` lets the others absorb one dead member's clusters.
   */
  readonly maxClusters?: number;
}

/** Options of {@link createFleet}. */
export interface FleetOptions {
  /** The clusters to watch (names unique). */
  readonly clusters: readonly (ClusterSpec | FleetCluster)[];
  /** One driver for every cluster (one region and account: their looks share its budget). */
  readonly driver: Driver;
  readonly clock: Clock;
  /** Seed of the fleet's PRNG (controllers' retry jitter, throttling backoff). Default 1. */
  readonly seed?: number;
  /** This fleet member's holder id (leases, and the prefix of its controllers'). Default `berth-fleet@<clock time>`. */
  readonly holderId?: string;
  /**
   * Looks per second across the whole fleet, change-driven ones included. Default 1: with the
   * AWS driver's `instances` look (1 EC2 describe, 2 Auto Scaling calls) that is 5 % of EC2's
   * describe refill (20/s) and 20 % of Auto Scaling's (10/s) — see docs/fleet.md.
   */
  readonly looksPerSecond?: number;
  /** Looks that may start at once after a quiet spell. Default 3. */
  readonly burst?: number;
  /** Start looks on multiples of this many ms (see `LookPacerOptions.alignMs`). Default: none. */
  readonly alignLooksMs?: number;
  /**
   * Longest pause between two looks of one cluster. Default: the larger of 60 s and the
   * fleet's turn (`clusters ÷ looksPerSecond` seconds).
   */
  readonly intervalMs?: number;
  /** Full looks (DNS, load balancer) per cluster. Default: the larger of 5 minutes and 5 × `intervalMs`. */
  readonly fullLookIntervalMs?: number;
  /** A watch that fails (other than throttling) starts again after this long. Default: `intervalMs`. */
  readonly restartAfterMs?: number;
  /** Other watch settings for every cluster (stuck bound, DNS repair, throttling backoff). */
  readonly watch?: Omit<WatchOptions, 'signal' | 'pacer' | 'intervalMs' | 'fullLookIntervalMs'>;
  /** Other controller settings for every cluster (runtime, lease length, timeouts). */
  readonly controller?: Omit<Partial<ControllerOptions>, 'spec' | 'driver' | 'clock' | 'hooks' | 'holderId' | 'sessionId' | 'seed'>;
  /**
   * Share the fleet with other processes: each member watches only the clusters it holds a
   * watch lease on (`scope: 'watch'` in the driver's lock), renews them, and takes clusters
   * whose lease expired (a dead member's). Default: not shared (this process watches every cluster).
   */
  readonly share?: FleetShareOptions;
}

/** Events of a {@link Fleet}; each cluster's own events are on `fleet.controller(name)`. */
export interface FleetEvents {
  /** This member started watching the cluster (`lease`: its watch lease, when shared). */
  'cluster.watching': { clusterName: string; lease: Lease | null; atMs: number };
  /** This member stopped watching the cluster: `lease-lost` (another member holds it now) or `stopped`. */
  'cluster.released': { clusterName: string; reason: 'lease-lost' | 'stopped'; atMs: number };
  /** The cluster's `watch()` failed (throttling never fails it); it starts again after `restartAfterMs`. */
  'cluster.failed': { clusterName: string; code: string | null; message: string; atMs: number };
}

/** Options of {@link Fleet.run}. */
export interface FleetRunOptions {
  readonly signal: AbortSignal;
  /**
   * Release the watch leases when the signal aborts, so other members take the clusters at
   * once. Default true; false leaves them to expire (what a killed process does).
   */
  readonly releaseOnStop?: boolean;
}

interface Watching {
  readonly stop: AbortController;
  readonly done: Promise<void>;
  lease: Lease | null;
}

const fnv = (s: string) => {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
};

/**
 * Watches many clusters in one process within one API budget: one `watch()` per cluster, their
 * looks paced by one shared token bucket (`looksPerSecond`), and — with `share` — the clusters
 * divided among several processes by watch leases in the driver's lease table.
 */
export class Fleet extends EventEmitter<FleetEvents> {
  readonly holderId: string;
  readonly sessionId: string;
  readonly #clusters: readonly FleetCluster[];
  readonly #controllers = new Map<string, Controller>();
  readonly #clock: Clock;
  readonly #lock: RuntimeDriver;
  readonly #pacer: LookPacer;
  readonly #intervalMs: number;
  readonly #fullLookIntervalMs: number;
  readonly #restartAfterMs: number;
  readonly #watch: FleetOptions['watch'];
  readonly #share: Required<FleetShareOptions> | null;
  readonly #watching = new Map<string, Watching>();
  #running = false;

  constructor(options: FleetOptions) {
    super();
    const clusters = options.clusters.map((c) => ('spec' in c ? c : { spec: c }));
    const issues: ConfigIssue[] = [];
    const positive = (path: string, v: number | undefined) => {
      if (v !== undefined && !(v > 0 && Number.isFinite(v))) issues.push({ path, message: `createFleet(): ${path} must be a positive number, got ${String(v)}` });
    };
    if (clusters.length === 0) issues.push({ path: 'clusters', message: 'createFleet(): clusters must name at least one cluster' });
    const names = new Set<string>();
    for (const [i, c] of clusters.entries()) {
      if (!c.spec || typeof c.spec.name !== 'string') issues.push({ path: `clusters[${i}]`, message: 'createFleet(): each cluster must be a spec from defineCluster() or { spec, hooks }' });
      else if (names.has(c.spec.name)) issues.push({ path: `clusters[${i}].name`, message: `createFleet(): cluster ${c.spec.name} is named twice` });
      else names.add(c.spec.name);
    }
    positive('looksPerSecond', options.looksPerSecond);
    positive('burst', options.burst);
    positive('alignLooksMs', options.alignLooksMs);
    positive('intervalMs', options.intervalMs);
    positive('fullLookIntervalMs', options.fullLookIntervalMs);
    positive('restartAfterMs', options.restartAfterMs);
    positive('share.leaseTtlMs', options.share?.leaseTtlMs);
    positive('share.renewEveryMs', options.share?.renewEveryMs);
    positive('share.maxClusters', options.share?.maxClusters);
    if (options.share?.renewEveryMs !== undefined && options.share.renewEveryMs >= (options.share.leaseTtlMs ?? 60_000)) {
      issues.push({ path: 'share.renewEveryMs', message: `createFleet(): share.renewEveryMs (${options.share.renewEveryMs}) must be shorter than share.leaseTtlMs (${options.share.leaseTtlMs ?? 60_000})` });
    }
    if (issues.length > 0) throw new BerthConfigError(issues);

    this.#clusters = clusters;
    this.#clock = options.clock;
    this.holderId = options.holderId ?? `berth-fleet@${options.clock.now()}`;
    this.sessionId = `${this.holderId}/${options.clock.now().toString(36)}`;
    const seed = options.seed ?? 1;
    const looksPerSecond = options.looksPerSecond ?? 1;
    this.#pacer = new LookPacer(options.clock, { looksPerSecond, burst: options.burst ?? 3, ...(options.alignLooksMs !== undefined && { alignMs: options.alignLooksMs }) });
    this.#intervalMs = options.intervalMs ?? Math.max(DEFAULT_WATCH_INTERVAL_MS, Math.ceil((clusters.length * 1000) / looksPerSecond));
    this.#fullLookIntervalMs = options.fullLookIntervalMs ?? Math.max(DEFAULT_FULL_LOOK_INTERVAL_MS, 5 * this.#intervalMs);
    this.#restartAfterMs = options.restartAfterMs ?? this.#intervalMs;
    this.#watch = options.watch;
    const ttl = options.share?.leaseTtlMs ?? 60_000;
    this.#share = options.share ? { leaseTtlMs: ttl, renewEveryMs: options.share.renewEveryMs ?? Math.floor(ttl / 3), maxClusters: options.share.maxClusters ?? clusters.length } : null;
    this.#lock = new RuntimeDriver(options.driver, { ...options.controller?.runtime, clock: options.clock, prng: createPrng(seed ^ fnv(this.holderId)) });
    for (const c of clusters) {
      this.#controllers.set(
        c.spec.name,
        createController({
          ...options.controller,
          spec: c.spec,
          driver: options.driver,
          clock: options.clock,
          ...(c.hooks && { hooks: c.hooks }),
          holderId: `${this.holderId}/${c.spec.name}`,
          seed: seed ^ fnv(c.spec.name),
        }),
      );
    }
  }

  /** The controller of a cluster of the fleet (its events, `status()`, `roll()`...). */
  controller(clusterName: string): Controller {
    const c = this.#controllers.get(clusterName);
    if (!c) throw new BerthConfigError([{ path: 'clusterName', message: `fleet: no cluster named ${JSON.stringify(clusterName)}` }]);
    return c;
  }

  /** The names of the clusters this member watches now. */
  watching(): string[] {
    return [...this.#watching.keys()].sort();
  }

  /** Each cluster's longest pause between looks, as resolved from the options. */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /**
   * Watches until `signal` aborts: every cluster, or with `share` the clusters this member
   * holds watch leases on. Resolves once every watch has stopped (and, by default, the leases
   * are released). A watch that fails starts again; throttling only slows it down.
   */
  async run(options: FleetRunOptions): Promise<void> {
    if (this.#running) throw new BerthConfigError([{ path: 'run', message: 'fleet.run(): this fleet is already running; stop it (abort its signal) first' }]);
    this.#running = true;
    const signal = AbortSignal.any([options.signal]);
    try {
      if (!this.#share) {
        for (const c of this.#clusters) this.#start(c, null, signal);
        if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      } else {
        await this.#shareLoop(this.#share, signal);
      }
    } finally {
      const stopping = [...this.#watching.entries()];
      for (const [, w] of stopping) w.stop.abort();
      await Promise.all(stopping.map(([, w]) => w.done));
      for (const [name, w] of stopping) {
        this.#watching.delete(name);
        const spec = this.#controllers.get(name)?.spec as ClusterSpec;
        if (w.lease && options.releaseOnStop !== false) await this.#lock.lock.release(spec, w.lease).catch(() => undefined);
        this.emit('cluster.released', { clusterName: name, reason: 'stopped', atMs: this.#clock.now() });
      }
      this.#running = false;
    }
  }

  #start(cluster: FleetCluster, lease: Lease | null, fleetSignal: AbortSignal): void {
    const name = cluster.spec.name;
    const controller = this.#controllers.get(name) as Controller;
    const stop = new AbortController();
    const signal = AbortSignal.any([fleetSignal, stop.signal]);
    const done = (async () => {
      while (!signal.aborted) {
        try {
          await controller.watch({ ...this.#watch, signal, pacer: this.#pacer, intervalMs: this.#intervalMs, fullLookIntervalMs: this.#fullLookIntervalMs });
        } catch (err) {
          if (signal.aborted) break;
          this.emit('cluster.failed', { clusterName: name, code: err instanceof BerthError ? err.code : null, message: err instanceof Error ? err.message : String(err), atMs: this.#clock.now() });
          await this.#clock.sleep(this.#restartAfterMs, signal).catch(() => undefined);
        }
      }
    })();
    this.#watching.set(name, { stop, done, lease });
    this.emit('cluster.watching', { clusterName: name, lease, atMs: this.#clock.now() });
  }

  async #drop(name: string, reason: 'lease-lost' | 'stopped'): Promise<void> {
    const w = this.#watching.get(name);
    if (!w) return;
    this.#watching.delete(name);
    w.stop.abort();
    await w.done;
    this.emit('cluster.released', { clusterName: name, reason, atMs: this.#clock.now() });
  }

  /**
   * Renews the held watch leases, gives up those lost (or expired while renewals failed), and
   * takes free clusters up to `maxClusters` — in an order of its own (a hash of holder and
   * cluster name), so members starting together reach for different clusters first. A cluster
   * found held is tried again only after the holder's lease would have expired.
   */
  async #shareLoop(share: Required<FleetShareOptions>, signal: AbortSignal): Promise<void> {
    const heldUntil = new Map<string, number>();
    const order = [...this.#clusters].sort((a, b) => fnv(`${this.holderId}#${a.spec.name}`) - fnv(`${this.holderId}#${b.spec.name}`));
    while (!signal.aborted) {
      for (const [name, w] of [...this.#watching]) {
        const lease = w.lease as Lease;
        const spec = (this.#controllers.get(name) as Controller).spec;
        try {
          w.lease = await this.#lock.lock.renew(spec, lease, { ttlMs: share.leaseTtlMs, signal });
        } catch (err) {
          if (signal.aborted) break;
          if ((err instanceof BerthLockError && err.code === 'LOCK_LOST') || this.#clock.now() >= lease.expiresAtMs) {
            if (err instanceof BerthLockError && err.expiresAtMs !== null) heldUntil.set(name, err.expiresAtMs);
            await this.#drop(name, 'lease-lost');
          }
        }
      }
      for (const c of order) {
        if (signal.aborted || this.#watching.size >= share.maxClusters) break;
        const name = c.spec.name;
        if (this.#watching.has(name) || (heldUntil.get(name) ?? -Infinity) > this.#clock.now()) continue;
        try {
          const lease = await this.#lock.lock.acquire(c.spec, { holder: this.holderId, session: this.sessionId, ttlMs: share.leaseTtlMs, scope: 'watch', signal });
          heldUntil.delete(name);
          this.#start(c, lease, signal);
        } catch (err) {
          if (signal.aborted) break;
          // Held by another member: not before its lease would expire. Other failures: next round.
          if (err instanceof BerthLockError) heldUntil.set(name, err.expiresAtMs ?? this.#clock.now() + share.leaseTtlMs);
        }
      }
      await this.#clock.sleep(share.renewEveryMs, signal).catch(() => undefined);
    }
  }
}

/**
 * Creates a fleet: many clusters of one region and account watched from one process, within one
 * API budget, optionally shared with other processes through watch leases.
 *
 * @example
 * ```ts
 * const fleet = createFleet({ clusters: specs, driver: sim.driver, clock: sim.clock, share: { maxClusters: 50 } });
 * fleet.on('cluster.failed', (e) => console.error(`${e.clusterName}: ${e.message}`));
 * fleet.controller('orders').on('node.lost', (e) => console.log(`orders lost ${e.nodeId}`));
 * await fleet.run({ signal });
 * ```
 */
export function createFleet(options: FleetOptions): Fleet {
  return new Fleet(options);
}
