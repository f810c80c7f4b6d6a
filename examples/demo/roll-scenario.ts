import { createController, createPrng, defineCluster, type ClusterSpec, type Controller, type RollReport } from '@berth/core';
import { createSimulation, simulatedClusterInput, type RunOptions, type Simulation } from '@berth/sim-driver';
import { buildReportData, checkInvariants, recordingDriver, truthOf, type DriverCall, type InvariantId, type ReportData, type ScenarioResult } from '@berth/chaos';

export interface RollScenarioOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly profile: 'realistic' | 'fast';
  /** Kill one instance (not in the batch, not the leader) while the second batch runs. */
  readonly kill: boolean;
  readonly maxUnavailable?: number;
  readonly pace?: RunOptions['pace'];
  /** Called once the simulation exists (to subscribe to its trace). */
  readonly onSimulation?: (sim: Simulation, spec: ClusterSpec) => void;
  /**
   * Record driver calls, watch the app on every trace entry, check the safety invariants and
   * build the report (default true). The benchmark turns it off to time the roll alone.
   */
  readonly instrument?: boolean;
  /** Called with each controller when it is created (provisioning, then the roll). */
  readonly onController?: (controller: Controller, stage: 'provision' | 'roll') => void;
  /** Called when the cluster is provisioned and healthy, before the roll (in virtual time). */
  readonly onReady?: () => Promise<void> | void;
  /** Called when the scenario injects a fault (the demo's own action, as it happens). */
  readonly onFault?: (fault: { readonly kind: 'kill-instance'; readonly nodeId: string; readonly instanceId: string | null; readonly atMs: number }) => void;
  /** Awaited after the roll, before the simulation stops (e.g. a live view's last status()). */
  readonly settle?: () => Promise<void>;
}

export interface RollScenarioResult {
  readonly seed: number;
  readonly nodes: number;
  readonly profile: string;
  readonly outcome: RollReport['outcome'];
  readonly haltReason: string | null;
  readonly report: RollReport;
  /** When the roll started (clock ms): every time of the summary is shown relative to it. */
  readonly rollStartMs: number;
  /** Virtual duration of the roll. */
  readonly rollMs: number;
  /** Σ over batches of the slowest replacement's own duration (terminate → InService, as EC2 saw it). */
  readonly lowerBoundMs: number;
  readonly makespanRatio: number;
  readonly replacements: number;
  /** EC2, Auto Scaling, Route 53 and DynamoDB calls the roll made. */
  readonly controlPlaneCalls: number;
  /** SQS ReceiveMessage long polls the roll made (its other SQS calls count in neither figure). */
  readonly queueCalls: number;
  /** Fewest healthy application members at any moment of the roll, and the quorum. */
  readonly minHealthy: number;
  readonly quorum: number;
  readonly quorumHeld: boolean;
  /** Virtual time the application had no leader with a quorum during the roll. */
  readonly unavailableMs: number;
  readonly lostCommitted: number;
  readonly dataLossEvents: number;
  readonly killed: { readonly nodeId: string; readonly instanceId: string | null; readonly atMs: number } | null;
  readonly eventsFired: number;
  /** Real time spent in the roll itself (provisioning excluded), in ms. */
  readonly rollWallMs: number;
  /** IAM decisions over the whole run (provisioning and roll; the controller's and the bootstraps' calls), and those denied. */
  readonly iam: { readonly checks: number; readonly denied: number; readonly evaluated: boolean };
  /** Safety invariants checked over the whole run (the chaos package's checkers). */
  readonly invariants: { readonly checked: readonly InvariantId[]; readonly violations: readonly string[] } | null;
  /** The timeline report's data (render it with the chaos package's renderHtmlReport). */
  readonly reportData: ReportData | null;
}

/** Amazon SQS operations (the AWS driver's change queue). */
const SQS_OPERATIONS: ReadonlySet<string> = new Set(['ReceiveMessage', 'DeleteMessage', 'DeleteMessageBatch', 'ChangeMessageVisibility', 'ChangeMessageVisibilityBatch', 'SendMessage', 'SendMessageBatch', 'GetQueueUrl', 'GetQueueAttributes', 'SetQueueAttributes', 'CreateQueue', 'DeleteQueue', 'PurgeQueue']);

/** The image the demo rolls to. */
export const NEW_IMAGE = 'ami-0fedcba9876543210';

/**
 * The demo's story, also used by the benchmark: provision a cluster in the simulator, wait
 * until it is healthy, then roll it to a new image with leader-last and the app's health gate,
 * optionally killing one instance mid-roll; measure what happened.
 */
export async function runRollScenario(options: RollScenarioOptions): Promise<RollScenarioResult> {
  const sim = createSimulation({ seed: options.seed, profile: options.profile });
  const input = simulatedClusterInput({ nodes: options.nodes });
  const spec = defineCluster(input);
  const next = defineCluster({ ...input, image: NEW_IMAGE });
  options.onSimulation?.(sim, spec);
  const rng = createPrng(options.seed).derive('demo');

  // The application's health over the roll, from the trace: members healthy, leader present.
  let rolling = false;
  let minHealthy = Infinity;
  let unavailableSinceMs: number | null = null;
  let unavailableMs = 0;
  const watchApp = () => {
    if (!rolling) return;
    const st = sim.app.status();
    const healthy = st.members.filter((m) => m.healthy).length;
    minHealthy = Math.min(minHealthy, healthy);
    if (!st.available && unavailableSinceMs === null) unavailableSinceMs = sim.clock.now();
    if (st.available && unavailableSinceMs !== null) {
      unavailableMs += sim.clock.now() - unavailableSinceMs;
      unavailableSinceMs = null;
    }
  };
  const instrument = options.instrument ?? true;
  if (instrument) {
    sim.onTrace((e) => {
      if (e.kind.startsWith('app.')) watchApp();
    });
  }

  let killed: RollScenarioResult['killed'] = null;
  let rollWallMs = 0;
  let rollStartMs = 0;
  const calls: DriverCall[] = [];
  const batches: { session: string; index: number; nodeIds: readonly string[]; startedAtMs: number; finishedAtMs: number | null }[] = [];
  const result = await sim.run(async () => {
    const provisioner = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'demo-provision' });
    options.onController?.(provisioner, 'provision');
    await provisioner.apply();
    while (!(await provisioner.status()).converged || !sim.app.clusterHealthy()) await sim.clock.sleep(10_000);
    await options.onReady?.();

    // The driver is wrapped to record every call, so the chaos package's invariants can be checked afterwards.
    const driver = instrument ? recordingDriver(sim.driver, { holder: 'demo-roll', clock: sim.clock, log: calls, probe: (sp) => truthOf(sim, sp) }) : sim.driver;
    const roller = createController({ spec: next, driver, clock: sim.clock, hooks: sim.hooks, holderId: 'demo-roll' });
    roller.on('batch.started', (e) => batches.push({ session: 'demo-roll', index: e.index, nodeIds: e.nodeIds, startedAtMs: e.atMs, finishedAtMs: null }));
    roller.on('batch.completed', (e) => {
      const b = batches.find((x) => x.index === e.index);
      if (b) b.finishedAtMs = e.atMs;
    });
    rollStartMs = sim.clock.now();
    options.onController?.(roller, 'roll');
    if (options.kill) {
      roller.on('batch.started', (e) => {
        if (e.index !== 1 || killed) return;
        const leader = sim.app.leaderId();
        const candidates = spec.nodes.map((n) => n.id).filter((id) => !e.nodeIds.includes(id) && id !== leader);
        const victim = rng.pick(candidates);
        // Mid-batch: after a random share of a typical replacement.
        const delayMs = Math.floor(rng.between(0.1, 0.6) * (options.profile === 'fast' ? 2_000 : 150_000));
        void sim.clock.sleep(delayMs).then(() => {
          killed = { nodeId: victim, instanceId: sim.world.currentInstance(victim)?.id ?? null, atMs: sim.clock.now() };
          sim.faults.killInstance(victim);
          options.onFault?.({ kind: 'kill-instance', ...killed });
        });
      });
    }
    rolling = true;
    watchApp();
    let report: RollReport;
    const wallStart = performance.now();
    try {
      report = await roller.roll({ maxUnavailable: options.maxUnavailable ?? 1 });
    } catch (err) {
      const r = (err as { report?: RollReport }).report;
      if (!r) throw err;
      report = r;
    }
    rolling = false;
    rollWallMs = performance.now() - wallStart;
    if (unavailableSinceMs !== null) unavailableMs += sim.clock.now() - unavailableSinceMs;
    await options.settle?.();
    return report;
  }, options.pace ? { pace: options.pace } : {});

  const report = result;
  // Lower bound: each batch takes as long as its slowest replacement took on its own.
  const inServiceAt = new Map<string, number>();
  for (const e of sim.trace) if (e.kind === 'instance.lifecycle' && e.to === 'InService' && e.instanceId) inServiceAt.set(e.instanceId, e.atMs);
  let lowerBoundMs = 0;
  for (const b of report.batches) {
    let slowest = 0;
    for (const nodeId of b.nodeIds) {
      const n = report.nodes.find((x) => x.nodeId === nodeId);
      const end = n?.newInstanceId ? inServiceAt.get(n.newInstanceId) : undefined;
      if (n && end !== undefined) slowest = Math.max(slowest, end - n.startedAtMs);
    }
    lowerBoundMs += slowest;
  }
  const queueCalls = report.apiCalls.ReceiveMessage ?? 0;
  // The change queue's own calls (long polls, deleting what was received) are SQS, not control plane.
  const sqsCalls = Object.entries(report.apiCalls).reduce((n, [op, count]) => n + (SQS_OPERATIONS.has(op) ? count : 0), 0);
  // Liveness is what the roll's outcome says; the safety invariants are checked over the trace and calls.
  const safety: InvariantId[] = ['quorum-safety', 'single-attach', 'ownership', 'data-retained', 'failure-containment', 'single-controller', 'no-double-replace'];
  const inv = instrument ? checkInvariants({ spec: next, trace: sim.trace, calls }, safety) : { violations: [], notes: [], checked: [] };
  const scenarioResult: ScenarioResult = {
    scenario: { seed: options.seed, nodes: options.nodes, profile: options.profile, maxUnavailable: options.maxUnavailable ?? 1, faults: [] },
    ok: inv.violations.length === 0 && report.outcome === 'completed',
    violations: inv.violations,
    notes: inv.notes,
    liveness: null,
    sessions: [{ session: 'demo-roll', holder: 'demo-roll', startedAtMs: rollStartMs, settledAtMs: report.finishedAtMs, outcome: report.outcome === 'completed' ? 'completed' : 'halted', haltNodeId: null, message: report.haltReason }],
    virtualMs: sim.clock.now() - sim.options.startTimeMs,
    rollStartMs,
    driverCalls: calls.length,
    checks: [{ atMs: sim.clock.now(), step: 'end of roll', violations: inv.violations.length }],
    batches,
    evidence: { spec: next, trace: sim.trace, calls, iamDenials: sim.account.iamDenials() },
    checked: inv.checked,
  };
  const reportData = instrument ? buildReportData(scenarioResult, `Berth demo roll, seed ${options.seed}`) : null;
  const app = sim.app.status();
  const quorum = Math.floor(spec.nodes.length / 2) + 1;
  return {
    seed: options.seed,
    nodes: options.nodes,
    profile: options.profile,
    outcome: report.outcome,
    haltReason: report.haltReason,
    report,
    rollStartMs,
    rollMs: report.durationMs,
    lowerBoundMs,
    makespanRatio: lowerBoundMs > 0 ? report.durationMs / lowerBoundMs : NaN,
    replacements: report.replacedCount,
    controlPlaneCalls: report.apiCallsTotal - sqsCalls,
    queueCalls,
    minHealthy: Number.isFinite(minHealthy) ? minHealthy : spec.nodes.length,
    quorum,
    // Not watched without instrumentation: then it only says the roll itself kept the count.
    quorumHeld: (Number.isFinite(minHealthy) ? minHealthy : spec.nodes.length) >= quorum,
    unavailableMs,
    lostCommitted: app.lostCommitted,
    dataLossEvents: app.dataLoss.length,
    killed,
    eventsFired: sim.world.eventsFired,
    rollWallMs,
    iam: { checks: sim.world.iamStats.checks, denied: sim.world.iamStats.denied, evaluated: sim.options.iam !== 'off' },
    invariants: instrument ? { checked: inv.checked, violations: inv.violations.map((v) => `${v.invariant}: ${v.message}`) } : null,
    reportData,
  };
}
