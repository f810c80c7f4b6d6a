import type { Scenario, ScenarioResult } from '../src/index.js';

/** A scenario that once failed, and what makes it the situation its name says. */
export interface Replay {
  readonly name: string;
  readonly scenario: Scenario;
  /**
   * Null when the run (with evidence) still plays the situation the name describes; otherwise
   * what is missing. Timings move when the simulation's draws change: a replay that no longer
   * plays its situation must be re-derived, not left passing for nothing.
   */
  readonly situation: (r: ScenarioResult) => string | null;
}

const rel = (r: ScenarioResult, atMs: number | null | undefined) => (atMs === null || atMs === undefined ? null : atMs - r.rollStartMs);

/**
 * Seeds that once failed, replayed by replay.test.ts on every run. Add a scenario here (with the
 * date and what broke) whenever a chaos run finds a failure, then fix the cause.
 */
export const REPLAYS: readonly Replay[] = [
  {
    // Found while building the checker: a partition right after the controller observed used to be
    // blamed on the controller (now recorded as a fault dip). Re-derived on 2026-12-03 for the
    // simulator at the API (the partition used to land at +1.0s on chaos-3; on the new timings that
    // is mid-batch, before the controller's fresh look): it now lands between the fresh look and the
    // leader's replacement (after the step-down), on another node. Moved from +6.930s to +6.940s on
    // 2026-12-03 for the issue-9 controller, which looks again right before each replacement
    // (look +6.936…6.939s, replace +6.947s); the controller before it replaces at +6.942s. Moved to
    // +6.923s for the issue-13 controller, whose look that verified the batch before stands for the
    // fresh look (look +6.902…6.906s, the queue quiet and the health hook yes at +6.921s, replace
    // +6.926s): at +6.915s the health hook sees the partition and the batch waits. Moved to +6.933s
    // once issue 13's branches were merged (one DescribeInstances per look, the scheduler's yield):
    // it plays the situation from +6.931s to +6.935s.
    name: 'partition after the last observation is a fault dip, not a controller bug',
    scenario: { seed: 11, nodes: 3, profile: 'fast', maxUnavailable: 1, faults: [{ kind: 'partition', nodeId: 'chaos-2', durationMs: 20_000, atMs: 6_933, stabilityMs: 300 }] },
    situation: (r) => (r.notes.some((n) => n.invariant === 'quorum-safety' && n.message.includes("after the controller's look")) ? null : 'no quorum dip was noted at a disruption: the partition no longer lands between the look and the call'),
  },
  {
    // Found by the benchmark (seed 152, realistic, 5 nodes): the roll completed while a spot
    // notice was still running; the instance died after, and liveness was judged before the
    // group had relaunched it. The runner now re-runs the roll when a completed roll left
    // something pending after the faults healed. Re-derived on 2026-12-03 for the simulator at the
    // API: the third notice (chaos-3) moved from +221.9s to +292.0s; at +221.9s the controller now
    // waits for chaos-3's loss and completes after it. Moved to +700.0s on 2026-12-03 for the
    // issue-9 controller, which counts the noticed chaos-1 and chaos-4 as down and so completes at
    // +730.8s (not +352s): the notice comes 31 s before that, the instance dies ~90 s after it.
    // Moved to +810.5s when chaos runs a spot world for spot faults (the driver now hears the
    // warnings): a notice the controller sees makes it wait for the node, so only one landing
    // after its last look (the roll completes at +811.0s) still plays this situation. Moved to
    // +808.7s for the issue-10 controller (the roll completes at +809.2s). Moved to +807.245s for
    // the issue-13 controller (last look +806.858…807.238s, the roll completes at +807.259s).
    name: 'spot interruption that lands after the roll completed (bench seed 152)',
    scenario: {
      seed: 152,
      nodes: 5,
      profile: 'realistic',
      maxUnavailable: 2,
      faults: [
        { kind: 'spot-interruption', atMs: 58555, stabilityMs: 30000, nodeId: 'chaos-1' },
        { kind: 'spot-interruption', atMs: 807_245, stabilityMs: 30000, nodeId: 'chaos-3' },
        { kind: 'spot-interruption', atMs: 102857, stabilityMs: 30000, nodeId: 'chaos-4' },
      ],
    },
    situation: (r) => {
      const trace = r.evidence?.trace ?? [];
      const first = r.sessions[0];
      const notice = trace.find((e) => e.kind === 'fault.spot-interruption' && e.nodeId === 'chaos-3');
      const died = trace.find((e) => e.kind === 'instance.state' && e['to'] === 'terminated' && e.instanceId === notice?.instanceId);
      if (first?.outcome !== 'completed' || first.settledAtMs === null) return `the first roll did not complete (${first?.outcome ?? 'none'})`;
      if (!notice || !died || died.atMs <= first.settledAtMs) return `chaos-3's spot-noticed instance did not die after the roll completed (+${rel(r, first.settledAtMs)}; died +${rel(r, died?.atMs)})`;
      if (notice.atMs >= first.settledAtMs) return 'the notice came after the roll completed, not during it';
      if (r.sessions.length < 2) return 'the runner did not run the roll again';
      return null;
    },
  },
  {
    name: 'crash during the first batch, then a second controller, then a same-holder restart',
    scenario: {
      seed: 3,
      nodes: 3,
      profile: 'fast',
      maxUnavailable: 1,
      faults: [
        { kind: 'kill-instance', nodeId: 'chaos-2', atMs: 1500, stabilityMs: 300 },
        { kind: 'second-controller', atMs: 2000, stabilityMs: 0 },
        { kind: 'controller-crash', restart: 'same-holder', downMs: 1000, atMs: 2500, stabilityMs: 0 },
      ],
    },
    situation: (r) => {
      const [first, ...rest] = r.sessions;
      if (first?.outcome !== 'crashed') return `the first controller did not crash (${first?.outcome ?? 'none'})`;
      if (!r.batches.some((b) => b.session === first.session && b.index === 0 && b.finishedAtMs === null)) return 'the crash did not interrupt the first batch';
      const second = rest.find((s) => s.holder.startsWith('ctl-second'));
      if (!second || second.startedAtMs >= (first.settledAtMs ?? Infinity)) return 'no second controller started before the crash';
      if (!rest.some((s) => s.holder === first.holder && s.startedAtMs >= (first.settledAtMs ?? Infinity) && s.outcome === 'completed')) return 'no same-holder restart completed the roll';
      return null;
    },
  },
];

/**
 * Seeds of real core/simulator bugs that are still open: excluded from the default property run
 * (and listed in docs/chaos.md with their replay command) so the suite stays green meanwhile.
 */
export const KNOWN_FAILING_SEEDS: ReadonlySet<number> = new Set<number>([]);
