import { BerthAbortError, clusterStatuses, computeRevision, type ClusterObservation, type ClusterSpec, type Clock, type Driver, type Lease, type LockOptions } from '@berth/core';
import { DISRUPTIVE_OPS, type DriverCall, type HeldLease, type ObservedSummary, type TruthSnapshot } from './driver-call.js';

export interface RecordingOptions {
  readonly holder: string;
  /** Distinguishes a restarted controller from the crashed one. Default: the holder. */
  readonly session?: string;
  readonly clock: Clock;
  /** Where calls are appended (shared by every controller of a scenario). */
  readonly log: DriverCall[];
  /** Ground truth at a disruptive call (the simulator's world). */
  readonly probe?: (spec: ClusterSpec) => TruthSnapshot;
  /** The session's roll ignores failures before this time. Default 0. */
  readonly ignoreFailuresBeforeMs?: number;
  /**
   * Crash point: called before every call with its 0-based index; return `'before'` to crash
   * instead of making the call, `'after'` to make it and crash before returning its result.
   */
  readonly crashAt?: (index: number, op: string) => 'before' | 'after' | null;
  /** Called once when the proxy crashes (abort the controller's roll here). */
  readonly onCrash?: (index: number) => void;
}

/** A driver that records every call and can be killed (a crashed controller makes no more calls). */
export interface RecordingDriver extends Driver {
  /** Every later call fails at once, without reaching the cloud (the process is gone). */
  kill(): void;
  readonly killed: boolean;
  /** Calls made through this proxy so far. */
  readonly calls: number;
}


function summarize(spec: ClusterSpec, obs: ClusterObservation): ObservedSummary {
  const statuses = clusterStatuses(spec, obs);
  const resources: Record<string, { ip: string | null; volumeId: string | null }> = {};
  if (obs.scope === 'full') {
    for (const [id, n] of Object.entries(obs.nodes)) resources[id] = { ip: n.eni?.ip ?? null, volumeId: n.volume?.volumeId ?? null };
  }
  return {
    healthy: statuses.filter((s) => s.healthy).map((s) => s.nodeId),
    updated: statuses.filter((s) => s.healthy && !s.outdated).map((s) => s.nodeId),
    failures: statuses.flatMap((s) => (s.failure ? [{ nodeId: s.nodeId, instanceId: s.failure.instanceId, launchedAtMs: s.failure.launchedAtMs }] : [])),
    resources,
  };
}

/**
 * Wraps a driver so that every call a controller makes is recorded with its holder, operation,
 * node, times and the lease it held (from the lock's answers it passed on: the invariant
 * checkers' input), and so that the controller can be crashed at an exact call.
 *
 * @example
 * ```ts
 * const log: DriverCall[] = [];
 * const driver = recordingDriver(sim.driver, { holder: 'ctl-a', clock: sim.clock, log });
 * const controller = createController({ spec, driver, clock: sim.clock, holderId: 'ctl-a' });
 * ```
 */
export function recordingDriver(inner: Driver, options: RecordingOptions): RecordingDriver {
  const { holder, clock, log } = options;
  const session = options.session ?? holder;
  let killed = false;
  let count = 0;
  let held: HeldLease | null = null;
  // A lock that does not return the session yet: the one the caller asked for.
  const hold = (lease: Lease, asked?: LockOptions): HeldLease => ({ holder: lease.holder, session: lease.session || asked?.session || held?.session || lease.holder, token: lease.token, expiresAtMs: lease.expiresAtMs });
  const dead = (op: string) => new BerthAbortError(`controller ${session} crashed (call ${op} never made)`);
  const crash = (index: number) => {
    if (killed) return;
    killed = true;
    options.onCrash?.(index);
  };

  async function call<T>(op: string, spec: ClusterSpec | null, nodeId: string | null, instanceId: string | null, detail: string | null, fn: () => Promise<T>): Promise<T> {
    if (killed) throw dead(op);
    const index = count++;
    const mode = options.crashAt?.(index, op) ?? null;
    if (mode === 'before') {
      crash(index);
      throw dead(op);
    }
    const rec: DriverCall = {
      seq: log.length,
      holder,
      session,
      op,
      nodeId,
      instanceId,
      desiredRevision: spec && nodeId && spec.nodes.some((n) => n.id === nodeId) ? computeRevision(spec, nodeId) : null,
      startMs: clock.now(),
      endMs: null,
      ok: null,
      error: null,
      detail,
      observed: null,
      truth: DISRUPTIVE_OPS.has(op) && spec && options.probe ? options.probe(spec) : null,
      ignoreFailuresBeforeMs: options.ignoreFailuresBeforeMs ?? 0,
      lease: held,
    };
    log.push(rec);
    try {
      const result = await fn();
      rec.endMs = clock.now();
      rec.ok = true;
      if (op === 'observe' && spec) rec.observed = summarize(spec, result as ClusterObservation);
      if (mode === 'after') {
        crash(index);
        throw dead(`${op} result`);
      }
      if (killed) throw dead(`${op} result`);
      return result;
    } catch (err) {
      if (rec.ok === null) {
        rec.endMs = clock.now();
        rec.ok = false;
        rec.error = err instanceof Error ? err.message : String(err);
      }
      throw err;
    }
  }

  const lock = inner.lock;
  const driver: RecordingDriver = {
    name: `recording(${inner.name})`,
    capabilities: inner.capabilities,
    get killed() {
      return killed;
    },
    get calls() {
      return count;
    },
    kill() {
      killed = true;
    },
    observe: (spec, o) => call('observe', spec, null, null, o?.scope ?? 'full', () => inner.observe(spec, o)),
    ensureNode: (spec, nodeId, o) => call('ensureNode', spec, nodeId, null, null, () => inner.ensureNode(spec, nodeId, o)),
    replaceInstance: (spec, nodeId, instanceId, o) => call('replaceInstance', spec, nodeId, instanceId, null, () => inner.replaceInstance(spec, nodeId, instanceId, o)),
    completeLifecycle: (spec, nodeId, instanceId, result, o) => call('completeLifecycle', spec, nodeId, instanceId, result, () => inner.completeLifecycle(spec, nodeId, instanceId, result, o)),
    setDns: (spec, records, o) => call('setDns', spec, null, null, null, () => inner.setDns(spec, records, o)),
    snapshotVolume: (spec, nodeId, o) => call('snapshotVolume', spec, nodeId, null, null, () => inner.snapshotVolume(spec, nodeId, o)),
    modifyVolume: (spec, nodeId, target, o) => call('modifyVolume', spec, nodeId, null, `${target.type} ${target.sizeGiB} GiB`, () => inner.modifyVolume(spec, nodeId, target, o)),
    ...(inner.volumeModifications && {
      volumeModifications: (spec: ClusterSpec, volumeIds: readonly string[], o?: { signal?: AbortSignal }) =>
        (inner.volumeModifications as NonNullable<Driver['volumeModifications']>).call(inner, spec, volumeIds, o),
    }),
    deleteNode: (spec, nodeId, o) => call('deleteNode', spec, nodeId, null, o?.policy ?? spec.dataVolume.deletionPolicy, () => inner.deleteNode(spec, nodeId, o)),
    ...(inner.restoreLaunchTemplate && {
      restoreLaunchTemplate: (spec: ClusterSpec, nodeId: string, to: Parameters<NonNullable<Driver['restoreLaunchTemplate']>>[2], o?: Parameters<NonNullable<Driver['restoreLaunchTemplate']>>[3]) =>
        call('restoreLaunchTemplate', spec, nodeId, null, `${to.launchTemplateId}:${to.launchTemplateVersion}`, () => (inner.restoreLaunchTemplate as NonNullable<Driver['restoreLaunchTemplate']>).call(inner, spec, nodeId, to, o)),
    }),
    lock: {
      acquire: (spec, o) =>
        call('lock.acquire', spec, null, null, `${o.holder} ${o.session}`, async () => {
          const lease = await lock.acquire(spec, o);
          held = hold(lease, o);
          return lease;
        }),
      renew: (spec, lease, o) =>
        call('lock.renew', spec, null, null, null, async () => {
          const renewed = await lock.renew(spec, lease, o);
          held = hold(renewed);
          return renewed;
        }),
      release: (spec, lease, o) =>
        call('lock.release', spec, null, null, null, async () => {
          // Released (or lost to someone else): either way this session holds nothing from here.
          held = null;
          return lock.release(spec, lease, o);
        }),
      inspect: (spec, o) => call('lock.inspect', spec, null, null, null, () => lock.inspect(spec, o)),
    },
    ...(inner.waitForChange && {
      waitForChange: (spec: ClusterSpec, o: Parameters<NonNullable<Driver['waitForChange']>>[1]) =>
        call('waitForChange', spec, null, null, null, () => (inner.waitForChange as NonNullable<Driver['waitForChange']>).call(inner, spec, o)),
    }),
    ...(inner.apiCallCounts && { apiCallCounts: () => (inner.apiCallCounts as () => Readonly<Record<string, number>>).call(inner) }),
  };
  return driver;
}
