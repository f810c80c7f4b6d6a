import { clusterStatuses, formatDuration, formatRollTime, quorumOf, type Clock, type ClusterObservation, type ClusterSpec, type Controller, type ControllerEvents, type Driver, type NodeStatus } from '@berth/core';
import type { FaultInjector } from '../faults/fault-injector.js';
import { describeFault, type Fault } from '../faults/fault.js';
import type { SessionOutcome } from '../scenario/run-scenario.js';
import type { PhaseSegment, ReportData } from './report-data.js';

/** What a live recording sees: a controller's events (`on`/`off`), as `Controller` has them. */
export type EventSource = Pick<Controller, 'on' | 'off'>;

/** Options of `createTimelineRecorder`: the cluster, the clock, and what time 0 is. */
export interface TimelineRecorderOptions {
  readonly spec: ClusterSpec;
  /** The clock of the controller and the driver (the simulation's, or the system clock on AWS). */
  readonly clock: Clock;
  /** Time 0 of the report, in clock ms. Default: when the recorder was created. */
  readonly startMs?: number;
  /** What time 0 is, for the report's axis: `the roll started` (default), `the game-day started`. */
  readonly origin?: string;
}

/** How the report came to be, when it was recorded live (`ReportData.resolution`). */
export interface LiveResolution {
  /** `driver.observe()` results recorded. */
  readonly observations: number;
  /** Controller events recorded. */
  readonly events: number;
  /** The longest time between two observations (or from the start/to the end): a phase shorter than this may not show. */
  readonly maxGapMs: number;
  readonly note: string;
}

/** Options of `TimelineRecorder.toReportData`: the title, the verdict, why it stopped, notes and the target's label. */
export interface ToReportOptions {
  readonly title?: string;
  /** The verdict. Default: no roll failed, halted or was aborted, and nothing stopped the recording early. */
  readonly ok?: boolean;
  /** Why it stopped before its end (a game-day's kill switch, a stop condition). */
  readonly stopped?: ReportData['stopped'];
  readonly notes?: readonly string[];
  /** Shown where a simulator report shows its profile (e.g. `AWS eu-west-1`, `simulator, fast profile`). */
  readonly target?: string;
}

/** Records a roll or a game-day as it happens, from a controller's events and the driver's observations, into `ReportData`. */
export interface TimelineRecorder {
  /** Time 0 of the report, in clock ms. */
  readonly startMs: number;
  /** Listens to the controller's events (rolls, batches, node phases, losses). Returns a function that stops listening. */
  attach(controller: EventSource): () => void;
  /** Records one observation: each node's current instance, lifecycle state, phase tag and health, and the quorum margin. */
  observe(observation: ClusterObservation): void;
  /** The driver with every `observe()` result recorded (the controller's own looks included). */
  observing<D extends Driver>(driver: D): D;
  /** Records a fault (at the clock's now unless `atMs`, clock ms, is given). */
  fault(fault: Fault | { readonly kind: string; readonly detail: string }, atMs?: number): void;
  /** The injector with every injection recorded as a fault, at the time it was made. */
  injecting(injector: FaultInjector): FaultInjector;
  /** A line for the report's notes, stamped with the time since the start. */
  note(text: string): void;
  /** The report's data: the same shape `buildReportData` gives, `source: 'live'`, rendered by `renderHtmlReport`. */
  toReportData(options?: ToReportOptions): ReportData;
}

interface Sample {
  readonly atMs: number;
  readonly state: string;
}

/** A node's lane state from its status in one observation. */
function laneOf(s: NodeStatus): string {
  switch (s.state) {
    case 'in-service':
      return 'in-service';
    case 'absent':
    case 'missing-instance':
    case 'paused':
      return 'down';
    case 'replacing':
    case 'interrupted':
      return 'terminating';
    case 'stopping':
      return 'terminating';
    default:
      return s.state; // a boot phase, `healthy`, `failed`
  }
}

const laneState = (phase: string) => (phase === 'failed' || phase.startsWith('failed:') ? 'failed' : phase);

/**
 * Records the timeline of a roll or a game-day as it happens — from a controller's events and
 * each `driver.observe()` result — into the same `ReportData` that `buildReportData` makes from a
 * simulator trace, so that `renderHtmlReport` draws both. Works the same on AWS and in the
 * simulator: it reads nothing but events and observations. Lanes have the resolution of what
 * was seen (observations, and phases the controller reported); the report says which.
 *
 * @example
 * ```ts
 * const recorder = createTimelineRecorder({ spec, clock });
 * const controller = createController({ spec, driver: recorder.observing(driver), clock });
 * recorder.attach(controller);
 * await controller.roll({ maxUnavailable: 1 }).catch(() => {});
 * await writeFile('roll.html', renderHtmlReport(recorder.toReportData({ title: 'kafka roll' })));
 * ```
 */
export function createTimelineRecorder(options: TimelineRecorderOptions): TimelineRecorder {
  const { spec, clock } = options;
  const t0 = options.startMs ?? clock.now();
  const rel = (atMs: number) => Math.max(0, atMs - t0);
  const samples = new Map<string, Sample[]>(spec.nodes.map((n) => [n.id, []]));
  const { quorum } = quorumOf(spec.nodes.length);
  const margin: { atMs: number; margin: number }[] = [];
  const faults: { atMs: number; kind: string; detail: string }[] = [];
  const batches: { session: string; index: number; nodeIds: readonly string[]; startMs: number; endMs: number | null }[] = [];
  const sessions: SessionOutcome[] = [];
  const notes: string[] = [];
  const observedAt: number[] = [];
  let events = 0;
  let lastMs = 0;
  let session = 'controller';
  let maxUnavailable = 0;
  let started = 0;
  let finished = 0;

  const mark = (atMs: number) => {
    lastMs = Math.max(lastMs, rel(atMs));
    return rel(atMs);
  };
  const sample = (nodeId: string, atMs: number, state: string) => {
    const list = samples.get(nodeId);
    if (!list) return;
    const at = Math.max(mark(atMs), list[list.length - 1]?.atMs ?? 0);
    list.push({ atMs: at, state });
  };
  const settle = (outcome: SessionOutcome['outcome'], atMs: number, message: string | null, haltNodeId: string | null = null) => {
    const i = sessions.findIndex((s) => s.session === session && s.settledAtMs === null);
    if (i < 0) return;
    sessions[i] = { ...(sessions[i] as SessionOutcome), outcome, settledAtMs: mark(atMs), message, haltNodeId };
  };

  const handlers: { [K in keyof ControllerEvents]?: (e: ControllerEvents[K]) => void } = {
    'roll.started': (e) => {
      session = e.rollId;
      maxUnavailable = e.maxUnavailable;
      sessions.push({ session, holder: e.rollId, startedAtMs: mark(e.atMs), settledAtMs: null, outcome: 'running', haltNodeId: null, message: `${e.outdated.length} outdated` });
    },
    'roll.completed': (e) => settle('completed', e.atMs, `${e.report.replacedCount} replaced`),
    'roll.halted': (e) => settle('halted', e.atMs, e.reason, e.nodeId),
    'roll.aborted': (e) => settle('error', e.atMs, 'aborted'),
    'roll.failed': (e) => settle('error', e.atMs, `${e.code ?? 'error'}: ${e.message}`),
    'batch.started': (e) => void batches.push({ session, index: e.index, nodeIds: e.nodeIds, startMs: mark(e.atMs), endMs: null }),
    'batch.completed': (e) => {
      const b = batches.find((x) => x.session === session && x.index === e.index && x.endMs === null);
      if (b) b.endMs = mark(e.atMs);
    },
    'node.replacing': (e) => {
      started++;
      sample(e.nodeId, e.atMs, 'terminating');
    },
    'node.phase': (e) => sample(e.nodeId, e.atMs, laneState(e.phase)),
    'node.replaced': (e) => {
      finished++;
      sample(e.nodeId, e.atMs, 'in-service');
    },
    'node.failed': (e) => sample(e.nodeId, e.atMs, 'failed'),
    'node.lost': (e) => sample(e.nodeId, e.atMs, 'down'),
    'node.recovered': (e) => sample(e.nodeId, e.atMs, 'in-service'),
    'node.paused': (e) => sample(e.nodeId, e.atMs, 'down'),
  };

  const recorder: TimelineRecorder = {
    startMs: t0,
    attach(controller) {
      const bound = Object.entries(handlers).map(([name, fn]) => {
        const listener = (e: unknown) => {
          events++;
          (fn as (e: unknown) => void)(e);
        };
        controller.on(name as keyof ControllerEvents, listener);
        return () => void controller.off(name as keyof ControllerEvents, listener);
      });
      return () => bound.forEach((off) => off());
    },
    observe(observation) {
      const at = observation.observedAtMs;
      observedAt.push(mark(at));
      let healthy = 0;
      for (const s of clusterStatuses(spec, observation)) {
        if (s.healthy) healthy++;
        sample(s.nodeId, at, laneOf(s));
      }
      margin.push({ atMs: rel(at), margin: healthy - quorum });
    },
    observing<D extends Driver>(driver: D): D {
      const observe: Driver['observe'] = async (s, o) => {
        const obs = await driver.observe(s, o);
        if (s.name === spec.name && obs.scope !== 'groups') recorder.observe(obs);
        return obs;
      };
      // Every other member is the driver's own, methods bound to it (class drivers keep private
      // state; the proxy's target is a blank object so that frozen drivers work too).
      const bound = new Map<PropertyKey, unknown>();
      return new Proxy({} as D, {
        get: (_, prop) => {
          if (prop === 'observe') return observe;
          const v = Reflect.get(driver, prop, driver) as unknown;
          if (typeof v !== 'function') return v;
          if (!bound.has(prop)) bound.set(prop, (v as (...a: unknown[]) => unknown).bind(driver));
          return bound.get(prop);
        },
        has: (_, prop) => prop in driver,
      });
    },
    fault(fault, atMs = clock.now()) {
      const detail = 'atMs' in fault ? describeFault(fault) : fault.detail;
      faults.push({ atMs: mark(atMs), kind: fault.kind, detail });
    },
    injecting(injector) {
      return {
        name: injector.name,
        supports: (kind) => injector.supports(kind),
        inject: async (fault, ctx) => {
          const at = clock.now();
          const injection = await injector.inject(fault, ctx);
          recorder.fault(fault, at);
          return injection;
        },
      };
    },
    note(text) {
      notes.push(`${formatRollTime(rel(clock.now()))} ${text}`);
    },
    toReportData(o = {}) {
      const endMs = Math.max(1, lastMs, rel(clock.now()));
      const nodes = spec.nodes.map((n) => {
        const segs: PhaseSegment[] = [];
        let state = 'in-service';
        let from = 0;
        const list = samples.get(n.id) ?? [];
        // Before the first sample, the node is in the state it was first seen in.
        if (list[0]) state = list[0].state;
        for (const s of list) {
          if (s.state === state) continue;
          if (s.atMs > from) segs.push({ fromMs: from, toMs: s.atMs, state });
          state = s.state;
          from = s.atMs;
        }
        segs.push({ fromMs: from, toMs: endMs, state });
        return { nodeId: n.id, segments: segs };
      });
      const gaps = [...observedAt, endMs].map((t, i, all) => t - (i === 0 ? 0 : (all[i - 1] as number)));
      const maxGapMs = Math.max(0, ...gaps);
      const resolution: LiveResolution = {
        observations: observedAt.length,
        events,
        maxGapMs,
        note: `Recorded live from ${observedAt.length} observation(s)${events > 0 ? ` and ${events} controller event(s)` : ''}: a lane changes when an observation or an event saw it change, so a phase shorter than the time between observations (up to ${formatDuration(maxGapMs)}) may not show.`,
      };
      const failed = sessions.some((s) => s.outcome === 'halted' || s.outcome === 'error');
      const ok = o.ok ?? (!failed && !o.stopped);
      return {
        title: o.title ?? `Berth ${spec.name}, recorded live`,
        seed: 0,
        scenario: { seed: 0, nodes: spec.nodes.length, profile: 'realistic', maxUnavailable, faults: [] },
        ok,
        endMs,
        nodes,
        quorumMargin: margin.length > 0 ? margin : [{ atMs: 0, margin: spec.nodes.length - quorum }],
        faults: [...faults].sort((a, b) => a.atMs - b.atMs),
        batches: batches.map((b) => ({ ...b })),
        replacements: { started, finished },
        invariants: [],
        checks: [],
        sessions: sessions.map((s) => ({ ...s })),
        liveness: null,
        notes: [...notes, ...(o.notes ?? [])],
        source: 'live',
        origin: options.origin ?? 'the roll started',
        target: o.target ?? null,
        resolution,
        stopped: o.stopped ?? null,
      };
    },
  };
  return recorder;
}
