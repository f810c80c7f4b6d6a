/**
 * A chaos game-day in the simulator, the way you would run one against staging: a dry run
 * first, then the schedule played while a roll is under way, with a kill switch and stop
 * conditions; the safety invariants are checked over what happened.
 *
 *   bash scripts/pnpm.sh exec tsx examples/game-day.ts [--seed 5] [--report DIR]
 *
 * `--report DIR` writes the timeline (report.html, report.json) recorded live from the roll's
 * events and the observations, as it would be recorded on AWS (docs/reports.md).
 *
 * Against staging, swap the simulator for createAwsDriver/createSystemClock and the injector
 * for createDriverInjector(driver) (docs/chaos.md).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createController, defineCluster } from '@berth/core';
import { checkInvariants, createSimInjector, createTimelineRecorder, recordingDriver, renderHtmlReport, runGameDay, truthOf, type DriverCall, type GameDayPlan, type ReportData } from '@berth/chaos';
import { createSimulation, simulatedClusterInput } from '@berth/sim-driver';

const { values } = parseArgs({ options: { seed: { type: 'string', default: '5' }, report: { type: 'string' } } });
const seed = Number(values.seed);
if (!Number.isInteger(seed)) throw new Error(`--seed must be a whole number; got '${values.seed}'`);

const sim = createSimulation({ seed, profile: 'realistic' });
const input = { ...simulatedClusterInput({ nodes: 5, name: 'staging-kafka' }), tags: { env: 'staging', team: 'data' } };
const spec = defineCluster(input);
const next = defineCluster({ ...input, image: 'ami-0fedcba9876543210' });

const plan: GameDayPlan = {
  name: 'broker loss during a roll',
  targetTags: { env: 'staging' }, // never a cluster without this tag
  steps: [
    { kind: 'kill-instance', nodeId: 'staging-kafka-4', atMs: 60_000, stabilityMs: 300_000 },
    { kind: 'api-throttle', rate: 0.3, durationMs: 120_000, atMs: 420_000, stabilityMs: 0 },
    { kind: 'spot-interruption', nodeId: 'staging-kafka-2', atMs: 700_000, stabilityMs: 300_000 },
  ],
};

const calls: DriverCall[] = [];
let timeline: ReportData | null = null;
const killSwitch = new AbortController();
process.once('SIGINT', () => killSwitch.abort(new Error('operator pressed Ctrl-C')));

await sim.run(async () => {
  const setup = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'setup' });
  await setup.apply();
  while (!(await setup.status()).converged || !sim.app.clusterHealthy()) await sim.clock.sleep(10_000);

  const options = { spec: next, driver: sim.driver, clock: sim.clock, injector: createSimInjector(sim), signal: killSwitch.signal };
  const dry = await runGameDay(plan, { ...options, dryRun: true });
  console.log(`dry run of '${dry.plan}' on ${dry.clusterName}: blast radius ${dry.blastRadius} (tolerance ${dry.tolerance})`);
  for (const a of dry.actions) console.log(`  would ${a.description}`);

  // The timeline, recorded from what a controller on AWS sees: its events and its observations.
  const recorder = createTimelineRecorder({ spec: next, clock: sim.clock });
  const driver = recorder.observing(recordingDriver(sim.driver, { holder: 'roller', clock: sim.clock, log: calls, probe: (s) => truthOf(sim, s) }));
  const roller = createController({ spec: next, driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
  recorder.attach(roller);
  roller.on('node.replaced', (e) => console.log(`  +${Math.round((e.atMs - sim.options.startTimeMs) / 1000)}s roll: ${e.nodeId} replaced`));
  roller.on('roll.waiting', (e) => console.log(`  +${Math.round((e.atMs - sim.options.startTimeMs) / 1000)}s roll: ${e.reason}`));
  const rolling = roller.roll({ maxUnavailable: 1 });
  const gameDay = await runGameDay(plan, {
    ...options,
    injector: recorder.injecting(options.injector),
    stopWhen: () => !sim.app.available(), // our own stop condition: the application lost its leader
  });
  const report = await rolling;
  console.log(`game-day: ${gameDay.actions.filter((a) => a.status === 'injected').length} of ${gameDay.actions.length} faults injected; ${gameDay.stopped ? `stopped: ${gameDay.stopped.reason} (${gameDay.stopped.detail})` : 'ran to the end'}`);
  console.log(`roll: ${report.outcome}, ${report.replacedCount} replaced in ${Math.round(report.durationMs / 1000)} s`);
  timeline = recorder.toReportData({ title: `Game-day '${plan.name}' during a roll of ${next.name}`, target: `simulator (seed ${seed})` });
});
if (values.report && timeline) {
  await mkdir(values.report, { recursive: true });
  await writeFile(join(values.report, 'report.json'), JSON.stringify(timeline, null, 2));
  await writeFile(join(values.report, 'report.html'), renderHtmlReport(timeline));
  console.log(`report: ${join(values.report, 'report.html')}`);
}

const inv = checkInvariants({ spec: next, trace: sim.trace, calls }, ['quorum-safety', 'single-attach', 'ownership', 'data-retained', 'failure-containment', 'single-controller', 'no-double-replace']);
console.log(inv.violations.length === 0 ? `invariants: ${inv.checked.length} checked, all held` : `INVARIANT VIOLATIONS:\n${inv.violations.map((v) => `  [${v.invariant}] ${v.message}`).join('\n')}`);
console.log(`app: ${sim.app.status().lostCommitted} committed entries lost; seed ${seed}`);
if (inv.violations.length > 0) process.exitCode = 1;
