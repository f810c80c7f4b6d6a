import {
  BerthRollHaltedError,
  createController,
  defineCluster,
  type Clock,
  type ClusterSpec,
  type Driver,
  type RollHooks,
} from '@berth/core';
import { createSimulation, simulatedClusterInput, type Simulation, type TraceEntry } from '@berth/sim-driver';
import { createSimInjector, type Injection } from '../faults/fault-injector.js';
import { faultSettledAtMs, faultDurationMs, describeFault, type Fault } from '../faults/fault.js';
import { checkInvariants } from '../invariants/check-invariants.js';
import type { ChaosEvidence, HaltRecord, IamDenialRecord, InvariantId, InvariantNote, LivenessResult, Violation } from '../invariants/evidence.js';
import type { DriverCall, TruthSnapshot } from '../recording/driver-call.js';
import type { HookCall } from '../recording/hook-call.js';
import { recordingDriver, type RecordingDriver } from '../recording/recording-driver.js';
import { haltRecord } from './halt-record.js';
import { instrumentHooks, type SlowHookWindow } from './instrument-hooks.js';
import { pending } from './pending.js';
import { waitUntilProvisioned } from './provisioned-world.js';
import type { Scenario } from './scenario.js';

/** What a roll function gets: a controller's whole world. */
export interface RollArgs {
  readonly spec: ClusterSpec;
  readonly driver: Driver;
  readonly clock: Clock;
  readonly hooks: RollHooks;
  readonly holderId: string;
  /** This controller instance's session (its lease session): unique per session of a scenario. */
  readonly sessionId: string;
  readonly signal: AbortSignal;
  readonly maxUnavailable: number;
  readonly retryFailed: boolean;
  readonly replacementTimeoutMs: number;
  /** Report batches to the timeline. */
  readonly onBatch: (e: { index: number; nodeIds: readonly string[]; atMs: number; phase: 'started' | 'completed' }) => void;
}

/** Runs one roll to its end. The default is Berth's controller; tests pass mutants. */
export type RollFn = (args: RollArgs) => Promise<unknown>;

/** The default roll: `createController(...).roll(...)`. */
export const controllerRoll: RollFn = async (a) => {
  const c = createController({ spec: a.spec, driver: a.driver, clock: a.clock, hooks: a.hooks, holderId: a.holderId, sessionId: a.sessionId });
  c.on('batch.started', (e) => a.onBatch({ index: e.index, nodeIds: e.nodeIds, atMs: e.atMs, phase: 'started' }));
  c.on('batch.completed', (e) => a.onBatch({ index: e.index, nodeIds: e.nodeIds, atMs: e.atMs, phase: 'completed' }));
  return c.roll({ maxUnavailable: a.maxUnavailable, retryFailed: a.retryFailed, replacementTimeoutMs: a.replacementTimeoutMs, signal: a.signal });
};

export interface SessionOutcome {
  readonly session: string;
  readonly holder: string;
  readonly startedAtMs: number;
  readonly settledAtMs: number | null;
  readonly outcome: 'completed' | 'halted' | 'error' | 'crashed' | 'running';
  readonly haltNodeId: string | null;
  readonly message: string | null;
  /** The halt's fields, when it halted. */
  readonly halt?: HaltRecord | null;
}

export interface BatchMark {
  readonly session: string;
  readonly index: number;
  readonly nodeIds: readonly string[];
  readonly startedAtMs: number;
  finishedAtMs: number | null;
}

export interface CheckMark {
  readonly atMs: number;
  readonly step: string;
  readonly violations: number;
}

export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly ok: boolean;
  readonly violations: readonly Violation[];
  readonly notes: readonly InvariantNote[];
  readonly liveness: LivenessResult | null;
  readonly sessions: readonly SessionOutcome[];
  /** Virtual time the scenario covered, and when the roll started (epoch ms). */
  readonly virtualMs: number;
  readonly rollStartMs: number;
  readonly driverCalls: number;
  readonly checks: readonly CheckMark[];
  readonly batches: readonly BatchMark[];
  /** Present with `keepEvidence`: what the report and a debugger need. */
  readonly evidence?: {
    readonly spec: ClusterSpec;
    readonly trace: readonly TraceEntry[];
    readonly calls: readonly DriverCall[];
    readonly iamDenials: readonly IamDenialRecord[];
    readonly hookCalls?: readonly HookCall[];
    readonly halts?: readonly HaltRecord[];
    readonly replacementTimeoutMs?: number;
    readonly originMs?: number;
  };
  readonly checked: readonly InvariantId[];
}

export interface RunScenarioOptions {
  /** The roll under test (default: Berth's controller). */
  readonly roll?: RollFn;
  /** Keep trace and calls in the result (for reports). Default false. */
  readonly keepEvidence?: boolean;
  /** Invariants to check (default all). */
  readonly invariants?: readonly InvariantId[];
  /** Replacement timeout of the rolls. Default: 10 min (fast), 30 min (realistic). */
  readonly replacementTimeoutMs?: number;
  /**
   * Adjusts the simulation before anything runs, e.g. `sim.account.transformPolicies(...)` to
   * play a policy with an action removed.
   */
  readonly onSimulation?: (sim: Simulation) => void;
}

const SAFETY: readonly InvariantId[] = ['quorum-safety', 'single-attach', 'ownership', 'data-retained', 'failure-containment', 'single-controller', 'no-double-replace', 'iam-allowed'];

/** The image every chaos roll moves to. */
export const TARGET_IMAGE = 'ami-0fedcba9876543210';

/** Ground truth: nodes whose instance is InService and running and whose member is up and reachable. */
export function truthOf(sim: Simulation, spec: ClusterSpec): TruthSnapshot {
  const members = new Map(sim.app.status().members.map((m) => [m.nodeId, m]));
  const healthy: string[] = [];
  for (const n of spec.nodes) {
    const inst = sim.world.currentInstance(n.id);
    const m = members.get(n.id);
    if (inst && inst.lifecycleState === 'InService' && inst.ec2State === 'running' && m && m.up && !m.partitioned) healthy.push(n.id);
  }
  return { healthy };
}

/** The stated liveness bound: a replacement timeout per batch, plus one, plus a lease and a health gate. */
export function livenessBoundMs(nodes: number, maxUnavailable: number, replacementTimeoutMs: number): number {
  const batches = Math.ceil(nodes / Math.max(1, maxUnavailable));
  return (batches + 2) * replacementTimeoutMs + 300_000 + 600_000;
}

/**
 * Plays one scenario in a fresh simulation: provision, start a roll to a new image, inject the
 * fault schedule (safety phase, invariants checked after every step), let faults heal, then
 * judge liveness (the roll converges within the bound or halts naming a node).
 *
 * @example
 * ```ts
 * const result = await runScenario({ seed: 7, nodes: 3, profile: 'fast', maxUnavailable: 1, faults: [] });
 * if (!result.ok) console.log(result.violations);
 * ```
 */
export async function runScenario(scenario: Scenario, options: RunScenarioOptions = {}): Promise<ScenarioResult> {
  const roll = options.roll ?? controllerRoll;
  // A spot interruption happens to spot instances: a schedule with one runs a spot world, where the
  // driver listens for the warnings (its change feed's notices rule) and the planner sees them.
  const spot = scenario.faults.some((f) => f.kind === 'spot-interruption');
  const sim = createSimulation({ seed: scenario.seed, profile: scenario.profile, ...(spot && { spot: true }) });
  options.onSimulation?.(sim);
  const base = simulatedClusterInput({ nodes: scenario.nodes, name: 'chaos' });
  const spec0 = defineCluster(base);
  const spec = defineCluster({ ...base, image: TARGET_IMAGE });
  const replacementTimeoutMs = options.replacementTimeoutMs ?? (scenario.profile === 'fast' ? 600_000 : 1_800_000);
  const calls: DriverCall[] = [];
  const hookCalls: HookCall[] = [];
  const slowHooks: SlowHookWindow[] = [];
  /** Faults waiting for a controller's next gate (`atNextGate`). */
  const armed: { readonly fault: Fault; fired: boolean }[] = [];
  const sessions: SessionOutcome[] = [];
  const batches: BatchMark[] = [];
  const checks: CheckMark[] = [];
  const only = options.invariants;
  const injector = createSimInjector(sim);
  let violations: Violation[] = [];
  let notes: InvariantNote[] = [];
  let liveness: LivenessResult | null = null;
  let rollStartMs = 0;
  let sessionCount = 0;

  const halts = (): HaltRecord[] => sessions.flatMap((s) => (s.halt ? [s.halt] : []));
  const evidence = (): ChaosEvidence => ({ spec, trace: sim.trace, calls, liveness, iamDenials: sim.account.iamDenials(), replacementTimeoutMs, hookCalls, halts: halts(), originMs: rollStartMs });
  const check = (step: string, withLiveness = false): boolean => {
    const ids = (only ?? [...SAFETY, 'liveness']).filter((id) => withLiveness || id !== 'liveness');
    const r = checkInvariants(evidence(), ids);
    violations = [...r.violations];
    notes = [...r.notes];
    checks.push({ atMs: sim.clock.now() - rollStartMs, step, violations: r.violations.length });
    return r.violations.length === 0;
  };

  interface Live {
    readonly index: number;
    readonly holder: string;
    readonly driver: RecordingDriver;
    readonly abort: AbortController;
    readonly done: Promise<void>;
    settled: boolean;
  }

  const startSession = (holder: string, opts: { crash?: Scenario['crashPoint']; retryFailed?: boolean; retryLockMs?: number; onCrash?: () => void } = {}): Live => {
    const index = sessions.length;
    const name = `${holder}#${++sessionCount}`;
    const abort = new AbortController();
    const startedAtMs = sim.clock.now();
    sessions.push({ session: name, holder, startedAtMs, settledAtMs: null, outcome: 'running', haltNodeId: null, message: null });
    const crash = opts.crash;
    const driver = recordingDriver(sim.driver, {
      holder,
      session: name,
      clock: sim.clock,
      log: calls,
      probe: (s) => truthOf(sim, s),
      ignoreFailuresBeforeMs: opts.retryFailed ? startedAtMs : 0,
      ...(crash && { crashAt: (i: number) => (i === crash.index ? crash.when : null) }),
      onCrash: () => {
        abort.abort(new Error(`controller ${name} crashed`));
        opts.onCrash?.();
      },
    });
    const settle = (outcome: SessionOutcome['outcome'], haltNodeId: string | null, message: string | null, halt: HaltRecord | null = null) => {
      live.settled = true;
      sessions[index] = { ...(sessions[index] as SessionOutcome), settledAtMs: sim.clock.now(), outcome, haltNodeId, message, halt };
    };
    const hooks = instrumentHooks(sim.hooks, { session: name, clock: sim.clock, log: hookCalls, slow: () => slowHooks, onGate: () => fireArmed() });
    const args = (): RollArgs => ({
      spec,
      driver,
      clock: sim.clock,
      hooks,
      holderId: holder,
      sessionId: name,
      signal: abort.signal,
      maxUnavailable: scenario.maxUnavailable,
      retryFailed: opts.retryFailed ?? false,
      replacementTimeoutMs,
      onBatch: (e) => {
        if (e.phase === 'started') batches.push({ session: name, index: e.index, nodeIds: e.nodeIds, startedAtMs: e.atMs, finishedAtMs: null });
        else {
          const b = batches.find((x) => x.session === name && x.index === e.index);
          if (b) b.finishedAtMs = e.atMs;
        }
      },
    });
    const attempt = async (): Promise<unknown> => {
      const deadline = sim.clock.now() + (opts.retryLockMs ?? 0);
      for (;;) {
        try {
          return await roll(args());
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === 'LOCK_HELD' && sim.clock.now() < deadline && !driver.killed) {
            await sim.clock.sleep(30_000, abort.signal);
            continue;
          }
          throw err;
        }
      }
    };
    const live: Live = {
      index,
      holder,
      driver,
      abort,
      settled: false,
      done: attempt().then(
        () => settle(driver.killed ? 'crashed' : 'completed', null, null),
        (err: unknown) => {
          if (driver.killed) return settle('crashed', null, String((err as Error)?.message ?? err));
          if (err instanceof BerthRollHaltedError) return settle('halted', err.nodeId, err.message, haltRecord(name, sim.clock.now(), err));
          settle('error', null, err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err));
        },
      ),
    };
    return live;
  };

  const crashAndRestart = (victim: Live, restart: 'same-holder' | 'new-holder', downMs: number): Promise<Live> => {
    victim.driver.kill();
    victim.abort.abort(new Error('controller crashed (fault)'));
    return restartAfter(restart, downMs);
  };
  const restartAfter = async (restart: 'same-holder' | 'new-holder', downMs: number): Promise<Live> => {
    if (downMs > 0) await sim.clock.sleep(downMs);
    const holder = restart === 'same-holder' ? mainHolder : `ctl-${String.fromCharCode(98 + restarts++)}`;
    mainHolder = holder;
    main = startSession(holder, { retryLockMs: 900_000 });
    return main;
  };

  const inject = async (f: Fault): Promise<void> => {
    const inj: Injection = await injector.inject(f, { spec, targetImage: TARGET_IMAGE });
    const heal = inj.heal;
    if (heal) background.push(sim.clock.sleep(faultDurationMs(f)).then(heal));
  };
  const fire = (a: (typeof armed)[number]): Promise<void> => {
    if (a.fired) return Promise.resolve();
    a.fired = true;
    return inject(a.fault);
  };
  // The simulator's injector acts synchronously, so a fault fired here starts before the gate runs.
  const fireArmed = () => {
    for (const a of armed) if (!a.fired) background.push(fire(a));
  };

  let mainHolder = 'ctl-a';
  let restarts = 0;
  let main: Live;
  const background: Promise<unknown>[] = [];
  let harnessError: string | null = null;

  try {
    await sim.run(async () => {
      // Provision and wait until the application is healthy.
      const setup = createController({ spec: spec0, driver: recordingDriver(sim.driver, { holder: 'setup', clock: sim.clock, log: calls }), clock: sim.clock, holderId: 'setup', sessionId: 'setup' });
      await setup.apply();
      await waitUntilProvisioned(sim, spec0);
      rollStartMs = sim.clock.now();

      const cp = scenario.crashPoint ?? null;
      main = startSession(mainHolder, {
        crash: cp,
        ...(cp && { onCrash: () => background.push(restartAfter(cp.restart, 0)) }),
      });

      // Safety phase: faults at their times, invariants after every step.
      const faults = [...scenario.faults].sort((a, b) => a.atMs - b.atMs);
      let settleAt = 0;
      let safe = true;
      for (const f of faults) {
        const at = rollStartMs + f.atMs;
        if (at > sim.clock.now()) await sim.clock.sleep(at - sim.clock.now());
        settleAt = Math.max(settleAt, faultSettledAtMs(f));
        if (f.kind === 'controller-crash') {
          if (!main.settled) background.push(crashAndRestart(main, f.restart, f.downMs));
        } else if (f.kind === 'second-controller') {
          const second = startSession(`ctl-second-${sessionCount + 1}`);
          background.push(second.done);
        } else if (f.kind === 'same-holder-controller') {
          // The main controller's holder id, a new session: a second owner unless the lock tells them apart.
          const twin = startSession(mainHolder);
          background.push(twin.done);
        } else if (f.kind === 'slow-hook') {
          const now = sim.clock.now();
          slowHooks.push({ hook: f.hook, fromMs: now, untilMs: now + f.windowMs, durationMs: f.durationMs, ignoresSignal: f.ignoresSignal });
        } else if (f.atNextGate) {
          const a = { fault: f, fired: false };
          armed.push(a);
          background.push(sim.clock.sleep(f.atNextGate.withinMs).then(() => fire(a)));
        } else {
          await inject(f);
        }
        safe = check(`after ${describeFault(f)}`);
        if (!safe) break;
      }
      if (!safe) return;
      const healAt = rollStartMs + settleAt;
      if (healAt > sim.clock.now()) await sim.clock.sleep(healAt - sim.clock.now());
      await Promise.all(background.splice(0));
      if (!check('faults healed')) return;

      // Liveness phase.
      const boundMs = livenessBoundMs(scenario.nodes, scenario.maxUnavailable, replacementTimeoutMs);
      const t0 = sim.clock.now();
      const deadline = t0 + boundMs;
      // A restart (crash point) may replace `main` while we wait: wait for the latest one.
      const waitSettled = async () => {
        for (;;) {
          await Promise.all(background.splice(0));
          if ((main.settled && background.length === 0) || sim.clock.now() >= deadline) return;
          await sim.clock.sleep(10_000);
        }
      };
      await waitSettled();
      let last = sessions[main.index] as SessionOutcome;
      if (main.settled && (last.outcome !== 'completed' || pending(sim, spec).length > 0)) {
        // The operator runs the roll again once faults are gone (same holder: it may own the
        // lease). Also when a roll completed before a late fault (a spot notice) took a node.
        const again = startSession(mainHolder, { retryFailed: true, retryLockMs: 900_000 });
        main = again;
        await waitSettled();
        last = sessions[main.index] as SessionOutcome;
      }
      const outcome: LivenessResult['outcome'] = !main.settled ? 'timeout' : last.outcome === 'completed' ? 'completed' : last.outcome === 'halted' ? 'halted' : 'error';
      if (!main.settled) {
        main.driver.kill();
        main.abort.abort(new Error('liveness bound exceeded'));
        await main.done;
      }
      liveness = { outcome, haltNodeId: last.haltNodeId, halt: last.halt ?? null, message: last.message, durationMs: sim.clock.now() - t0, boundMs, pending: pending(sim, spec) };
      check('liveness', true);
    });
  } catch (err) {
    harnessError = err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err);
    violations = [...violations, { invariant: 'liveness', atMs: sim.clock.now() - rollStartMs, nodeId: null, message: `the simulation itself failed: ${harnessError}` }];
  }

  return {
    scenario,
    ok: violations.length === 0,
    violations,
    notes,
    liveness,
    sessions,
    virtualMs: sim.world.elapsedMs,
    rollStartMs,
    driverCalls: calls.length,
    checks,
    batches,
    checked: only ?? [...SAFETY, 'liveness'],
    ...(options.keepEvidence && { evidence: { spec, trace: sim.trace, calls, iamDenials: sim.account.iamDenials(), hookCalls, halts: halts(), replacementTimeoutMs, originMs: rollStartMs } }),
  };
}
