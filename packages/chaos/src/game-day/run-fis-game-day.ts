import { isAbortError, quorumOf } from '@berth/core';
import { describeFault } from '../faults/fault.js';
import type { FisEngine, FisExperimentStatus, FisExperimentView } from './fis-engine.js';
import { fisExperimentTemplate, fisStepNames, FisTemplateError, GAME_DAY_TAG, type FisExperimentTemplateInput, type FisTemplateOptions } from './fis-template.js';
import { blastRadius, GameDayError, lookAtCluster, nodesHit, type GameDayAction, type GameDayOptions, type GameDayPlan, type GameDayReport, type GameDayStatus } from './run-game-day.js';

/** How a game-day runs on AWS FIS (`runGameDay`'s `fis` option, or `runFisGameDay`). */
export interface FisGameDay extends Omit<FisTemplateOptions, 'spec'> {
  readonly engine: FisEngine;
  /** How often the experiment and the cluster are looked at (clock ms). Default 5 000. */
  readonly pollMs?: number;
  /**
   * Called once per step when FIS is first seen running its action (at that look: within
   * `pollMs` of its start), with the step's action as the report will hold it and its index in
   * the report's `actions`. For a live timeline: `recorder.fault(action.fault)`.
   */
  readonly onAction?: (action: GameDayAction, index: number) => void;
}

/** Options of `runFisGameDay`: those of `runGameDay`, with `fis` required and no injector (FIS injects). */
export type FisGameDayOptions = Omit<GameDayOptions, 'injector' | 'fis'> & { readonly fis: FisGameDay };

/** What the report says of the experiment. */
export interface FisGameDayRecord {
  readonly template: FisExperimentTemplateInput;
  readonly templateId: string | null;
  readonly experimentId: string | null;
  readonly status: FisExperimentStatus | null;
  readonly reason: string | null;
}

const TERMINAL = new Set<FisExperimentStatus>(['completed', 'stopped', 'failed', 'cancelled']);

/**
 * Runs a game-day as one AWS FIS experiment: checks the target by its tags and the blast radius
 * (as `runGameDay`), builds the template from the schedule ({@link fisExperimentTemplate}: bad
 * input is refused before any call), creates it and starts it. While it runs, every `pollMs` it
 * looks at the experiment, the invariants (`violations`), your `stopWhen` and the quorum margin
 * (no node step starts while the margin is below `minQuorumMargin`), and stops the experiment
 * on the first that says so, or on the kill switch. FIS itself stops it when a stop-condition
 * alarm goes to ALARM. Returns the same report as `runGameDay`, with `fis` (template,
 * experiment id, final state).
 *
 * @example
 * ```ts
 * const report = await runFisGameDay(plan, {
 *   spec, driver, clock, signal: killSwitch.signal,
 *   fis: { engine: createFisEngine({ region }), roleArn: 'arn:aws:iam::123456789012:role/berth-fis', stopAlarmArns: [alarmArn] },
 * });
 * ```
 */
export async function runFisGameDay(plan: GameDayPlan, options: FisGameDayOptions): Promise<GameDayReport> {
  const { spec, clock, fis } = options;
  const dryRun = options.dryRun ?? false;
  const missing = Object.entries(plan.targetTags).filter(([k, v]) => spec.tags[k] !== v);
  if (missing.length > 0) {
    throw new GameDayError('NO_TARGET', `game-day '${plan.name}': cluster ${spec.name} does not carry the tags ${missing.map(([k, v]) => `${k}=${v}`).join(', ')}; refusing to touch it`);
  }
  const { tolerance, quorum } = quorumOf(spec.nodes.length);
  const radius = blastRadius(plan.steps, spec);
  if (radius > tolerance && !plan.force) {
    throw new GameDayError('BLAST_RADIUS', `game-day '${plan.name}' disrupts up to ${radius} nodes at once; cluster ${spec.name} tolerates ${tolerance}. Spread the steps out, or set force: true.`);
  }
  const pollMs = fis.pollMs ?? 5_000;
  if (!(pollMs > 0)) throw new FisTemplateError('INVALID_FIELD', 'fis.pollMs', `must be > 0 ms, got ${pollMs}`);
  const template = fisExperimentTemplate(plan, { ...fis, spec });
  const steps = [...plan.steps].sort((a, b) => a.atMs - b.atMs);
  const names = steps.map((f, i) => fisStepNames(i, f).action);
  const actions: GameDayAction[] = steps.map((f) => ({ atMs: f.atMs, fault: f, description: describeFault(f), status: dryRun ? 'would-inject' : 'not-reached' }));
  const statuses: GameDayStatus[] = [];
  const record: { templateId: string | null; experimentId: string | null; status: FisExperimentStatus | null; reason: string | null } = { templateId: null, experimentId: null, status: null, reason: null };
  const report = (stopped: GameDayReport['stopped']): GameDayReport => ({
    plan: plan.name,
    clusterName: spec.name,
    dryRun,
    injector: fis.engine.name,
    blastRadius: radius,
    tolerance,
    actions,
    stopped,
    statuses,
    fis: { template, ...record },
  });
  if (dryRun) return report(null);

  const start = clock.now();
  const minMargin = options.minQuorumMargin ?? 1;
  const look = () => lookAtCluster(options, start, statuses);
  const seen = (x: FisExperimentView): void => {
    record.status = x.status;
    record.reason = x.reason;
    for (const [i, n] of names.entries()) {
      const st = x.actions[n]?.status;
      if (actions[i]?.status === 'injected') continue;
      if (st === 'running' || st === 'completed' || st === 'stopping') {
        const a: GameDayAction = { ...(actions[i] as GameDayAction), status: 'injected' };
        actions[i] = a;
        fis.onAction?.(a, i);
      }
    }
  };
  // Stops the experiment (without the kill switch's signal: the stop must go out) and waits for FIS to say it stopped.
  const stop = async (reason: NonNullable<GameDayReport['stopped']>['reason'], detail: string): Promise<GameDayReport> => {
    const atMs = clock.now() - start;
    if (record.experimentId !== null) {
      const id = record.experimentId;
      await fis.engine.stopExperiment(id);
      for (let i = 0; i < 60; i++) {
        const x = await fis.engine.getExperiment(id);
        seen(x);
        if (TERMINAL.has(x.status)) break;
        await clock.sleep(pollMs);
      }
    }
    return report({ reason, atMs, detail });
  };

  const { templateId } = await fis.engine.createTemplate(template, { signal: options.signal });
  record.templateId = templateId;
  const tags = { [GAME_DAY_TAG]: template.tags[GAME_DAY_TAG] as string, 'berth:cluster': spec.name };
  const { experimentId } = await fis.engine.startExperiment(templateId, { clientToken: `${template.clientToken}-${start}`.slice(0, 64), tags, signal: options.signal });
  record.experimentId = experimentId;
  try {
    for (;;) {
      if (options.signal?.aborted) return await stop('kill-switch', 'aborted');
      const x = await fis.engine.getExperiment(experimentId, { signal: options.signal });
      seen(x);
      if (x.status === 'completed') break;
      if (x.status === 'stopped' || x.status === 'cancelled') return report({ reason: 'stop-condition', atMs: clock.now() - start, detail: `FIS ${x.status} the experiment ${experimentId}: ${x.reason ?? 'no reason given'}` });
      if (x.status === 'failed') return report({ reason: 'experiment-failed', atMs: clock.now() - start, detail: `FIS experiment ${experimentId} failed: ${x.reason ?? 'no reason given'}` });
      const v = options.violations?.() ?? [];
      if (v.length > 0) return await stop('invariant-violation', v.map((y) => `[${y.invariant}] ${y.message}`).join('; '));
      const status = await look();
      if (options.stopWhen && (await options.stopWhen(status))) return await stop('stop-condition', `stopWhen returned true at +${Math.round(status.atMs / 1000)}s`);
      if (!plan.force) {
        if (status.healthy.length < quorum) return await stop('quorum-at-risk', `${status.healthy.length} healthy, quorum ${quorum}; down: ${status.down.join(', ')}`);
        // Node steps about to start (before the next look) must find the margin.
        const soon = steps.filter((f, i) => actions[i]?.status === 'not-reached' && f.atMs <= status.atMs + pollMs && nodesHit(f, spec).length > 0);
        for (const f of soon) {
          const hit = nodesHit(f, spec);
          const left = status.healthy.filter((n) => !hit.includes(n)).length;
          if (status.margin < minMargin || left < quorum) {
            return await stop('quorum-at-risk', `step ${describeFault(f)} with quorum margin ${status.margin} would leave ${left} healthy (quorum ${quorum}); down now: ${status.down.join(', ') || 'none'}`);
          }
        }
      }
      await clock.sleep(pollMs, options.signal);
    }
    if (options.waitForHeal ?? true) await look();
  } catch (err) {
    if (isAbortError(err) || options.signal?.aborted) return await stop('kill-switch', 'aborted');
    throw err;
  }
  return report(null);
}

