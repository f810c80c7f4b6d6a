import { clusterStatuses, isAbortError, quorumOf, type Clock, type ClusterSpec, type Driver } from '@berth/core';
import { FAULT_CATALOGUE } from '../faults/fault-catalogue.js';
import type { FaultInjector } from '../faults/fault-injector.js';
import { describeFault, faultDurationMs, type Fault } from '../faults/fault.js';
import type { Violation } from '../invariants/evidence.js';
import { runFisGameDay, type FisGameDay, type FisGameDayRecord } from './run-fis-game-day.js';

/** A game-day: which cluster (by its tags) and a schedule of faults. */
export interface GameDayPlan {
  readonly name: string;
  /** The cluster's tags must include all of these (the spec's `tags`, which Berth puts on every resource). */
  readonly targetTags: Readonly<Record<string, string>>;
  /** Faults, `atMs` after the start. Controller faults are not played by game-days. */
  readonly steps: readonly Fault[];
  /** Allow more nodes disrupted at once than the cluster's tolerance. Default false. */
  readonly force?: boolean;
}

export interface GameDayStatus {
  readonly atMs: number;
  readonly healthy: readonly string[];
  readonly down: readonly string[];
  /** Healthy members minus quorum. */
  readonly margin: number;
}

export interface GameDayOptions {
  readonly spec: ClusterSpec;
  readonly driver: Driver;
  readonly clock: Clock;
  readonly injector: FaultInjector;
  /** List what would be done; inject nothing. */
  readonly dryRun?: boolean;
  /** Kill switch: aborting stops the game-day before its next step. */
  readonly signal?: AbortSignal;
  /** Stop condition of your own, asked before every step. */
  readonly stopWhen?: (status: GameDayStatus) => boolean | Promise<boolean>;
  /** Invariant violations so far (e.g. from a recording driver); any stops the game-day. */
  readonly violations?: () => readonly Violation[];
  /** A node fault is not injected when the quorum margin is below this. Default 1. */
  readonly minQuorumMargin?: number;
  /** Wait for the last fault to end before returning. Default true. */
  readonly waitForHeal?: boolean;
  /**
   * Play the schedule as one AWS FIS experiment instead of through `injector` (which is then
   * not used): see `runFisGameDay`. A CLI selects the engine with this option alone.
   */
  readonly fis?: FisGameDay;
}

export interface GameDayAction {
  readonly atMs: number;
  readonly fault: Fault;
  readonly description: string;
  readonly status: 'would-inject' | 'injected' | 'not-reached';
}

export interface GameDayReport {
  readonly plan: string;
  readonly clusterName: string;
  readonly dryRun: boolean;
  readonly injector: string;
  /** The most nodes the plan disrupts at once, and the tolerance it is held to. */
  readonly blastRadius: number;
  readonly tolerance: number;
  readonly actions: readonly GameDayAction[];
  /** `experiment-failed`: the FIS experiment failed (FIS path only; `fis.reason` says why). */
  readonly stopped: { readonly reason: 'kill-switch' | 'stop-condition' | 'invariant-violation' | 'quorum-at-risk' | 'experiment-failed'; readonly atMs: number; readonly detail: string } | null;
  readonly statuses: readonly GameDayStatus[];
  /** The FIS path: the template, the experiment and its last state. Absent when played by an injector. */
  readonly fis?: FisGameDayRecord;
}

export type GameDayErrorCode = 'NO_TARGET' | 'BLAST_RADIUS' | 'UNSUPPORTED_FAULT';

/** A game-day refused to start. */
export class GameDayError extends Error {
  readonly code: GameDayErrorCode;
  constructor(code: GameDayErrorCode, message: string) {
    super(message);
    this.name = 'GameDayError';
    this.code = code;
  }
}

/**
 * One look at the cluster for a game-day: its nodes' health from a fresh observation, and the
 * quorum margin; appended to `statuses`.
 */
export async function lookAtCluster(options: Pick<GameDayOptions, 'spec' | 'driver' | 'clock' | 'signal'>, startMs: number, statuses: GameDayStatus[]): Promise<GameDayStatus> {
  const { spec, driver, clock } = options;
  const obs = await driver.observe(spec, { scope: 'instances', signal: options.signal });
  const st = clusterStatuses(spec, obs);
  const healthy = st.filter((s) => s.healthy).map((s) => s.nodeId);
  const s = { atMs: clock.now() - startMs, healthy, down: st.filter((x) => !x.healthy).map((x) => x.nodeId), margin: healthy.length - quorumOf(spec.nodes.length).quorum };
  statuses.push(s);
  return s;
}

/** Nodes a step disrupts (an AZ outage: every node in the AZ). */
export function nodesHit(f: Fault, spec: ClusterSpec): string[] {
  if (f.kind === 'az-outage') {
    const azs = [...new Set(spec.subnets.map((s) => s.az))].sort();
    const az = azs[f.azIndex % azs.length];
    const subnets = new Set(spec.subnets.filter((s) => s.az === az).map((s) => s.id));
    return spec.nodes.filter((n) => subnets.has(n.subnetId)).map((n) => n.id);
  }
  return FAULT_CATALOGUE[f.kind].nodeScoped && 'nodeId' in f ? [f.nodeId] : [];
}

/** The most distinct nodes disrupted at the same time by the plan (each fault counts until its stability period ends). */
export function blastRadius(steps: readonly Fault[], spec: ClusterSpec): number {
  let worst = 0;
  for (const s of steps) {
    const at = s.atMs;
    const hit = new Set<string>();
    for (const o of steps) if (o.atMs <= at && at < o.atMs + Math.max(1, faultDurationMs(o) + o.stabilityMs)) for (const n of nodesHit(o, spec)) hit.add(n);
    worst = Math.max(worst, hit.size);
  }
  return worst;
}

/**
 * Runs a game-day against a cluster, in the simulator or against staging: checks the target by
 * its tags, refuses a plan whose blast radius exceeds the tolerance (unless forced), then plays
 * the schedule with the stop conditions (your callback, an invariant violation, quorum at
 * risk) and the kill switch checked before every step. A dry run only lists the actions.
 * With `fis`, the schedule runs as one AWS FIS experiment instead (`runFisGameDay`).
 *
 * @example
 * ```ts
 * const report = await runGameDay(
 *   { name: 'kill one broker', targetTags: { env: 'staging' }, steps: [{ kind: 'kill-instance', nodeId: 'kafka-2', atMs: 0, stabilityMs: 60_000 }] },
 *   { spec, driver, clock, injector: createDriverInjector(driver), signal: killSwitch.signal },
 * );
 * ```
 */
export async function runGameDay(plan: GameDayPlan, options: GameDayOptions): Promise<GameDayReport> {
  if (options.fis) return runFisGameDay(plan, { ...options, fis: options.fis });
  const { spec, clock, injector } = options;
  const dryRun = options.dryRun ?? false;
  const missing = Object.entries(plan.targetTags).filter(([k, v]) => spec.tags[k] !== v);
  if (missing.length > 0) {
    throw new GameDayError('NO_TARGET', `game-day '${plan.name}': cluster ${spec.name} does not carry the tags ${missing.map(([k, v]) => `${k}=${v}`).join(', ')}; refusing to touch it`);
  }
  const unsupported = plan.steps.filter((s) => !injector.supports(s.kind));
  if (unsupported.length > 0) {
    throw new GameDayError('UNSUPPORTED_FAULT', `game-day '${plan.name}': injector ${injector.name} cannot inject ${[...new Set(unsupported.map((s) => s.kind))].join(', ')}`);
  }
  const { tolerance, quorum } = quorumOf(spec.nodes.length);
  const radius = blastRadius(plan.steps, spec);
  if (radius > tolerance && !plan.force) {
    throw new GameDayError('BLAST_RADIUS', `game-day '${plan.name}' disrupts up to ${radius} nodes at once; cluster ${spec.name} tolerates ${tolerance}. Spread the steps out, or set force: true.`);
  }
  const steps = [...plan.steps].sort((a, b) => a.atMs - b.atMs);
  const actions: GameDayAction[] = steps.map((f) => ({ atMs: f.atMs, fault: f, description: describeFault(f), status: dryRun ? 'would-inject' : 'not-reached' }));
  const statuses: GameDayStatus[] = [];
  const base = { plan: plan.name, clusterName: spec.name, dryRun, injector: injector.name, blastRadius: radius, tolerance, actions, statuses };
  if (dryRun) return { ...base, stopped: null };

  const start = clock.now();
  const minMargin = options.minQuorumMargin ?? 1;
  const look = () => lookAtCluster(options, start, statuses);
  const stop = (reason: NonNullable<GameDayReport['stopped']>['reason'], detail: string): GameDayReport => ({ ...base, stopped: { reason, atMs: clock.now() - start, detail } });
  let lastEnd = 0;
  try {
    for (const [i, f] of steps.entries()) {
      const wait = start + f.atMs - clock.now();
      if (wait > 0) await clock.sleep(wait, options.signal);
      if (options.signal?.aborted) return stop('kill-switch', 'aborted');
      const status = await look();
      const v = options.violations?.() ?? [];
      if (v.length > 0) return stop('invariant-violation', v.map((x) => `[${x.invariant}] ${x.message}`).join('; '));
      if (options.stopWhen && (await options.stopWhen(status))) return stop('stop-condition', `stopWhen returned true before step ${i + 1} (${describeFault(f)})`);
      const hit = nodesHit(f, spec);
      const left = status.healthy.filter((n) => !hit.includes(n)).length;
      if (hit.length > 0 && !plan.force && (status.margin < minMargin || left < quorum)) {
        return stop('quorum-at-risk', `step ${i + 1} (${describeFault(f)}) with quorum margin ${status.margin} would leave ${left} healthy (quorum ${quorum}); down now: ${status.down.join(', ') || 'none'}`);
      }
      const inj = await injector.inject(f, { spec, targetImage: spec.image, signal: options.signal });
      actions[i] = { ...(actions[i] as GameDayAction), status: 'injected' };
      const end = f.atMs + faultDurationMs(f);
      lastEnd = Math.max(lastEnd, end);
      if (inj.heal) {
        const heal = inj.heal;
        void clock.sleep(faultDurationMs(f), options.signal).then(heal, () => heal());
      }
    }
    if (options.waitForHeal ?? true) {
      const wait = start + lastEnd - clock.now();
      if (wait > 0) await clock.sleep(wait, options.signal);
      await look();
    }
  } catch (err) {
    if (isAbortError(err) || options.signal?.aborted) return stop('kill-switch', 'aborted');
    throw err;
  }
  return { ...base, stopped: null };
}
