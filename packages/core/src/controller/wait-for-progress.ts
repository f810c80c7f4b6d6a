import type { Clock } from '../clock.js';
import type { ClusterChange } from '../driver.js';
import type { ClusterObservation } from '../observation.js';
import type { NodeStatus } from '../plan/node-status.js';
import type { RuntimeDriver } from '../runtime/runtime-driver.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import type { NodeTracker } from './node-tracker.js';

/**
 * With notifications, still look at least this often: timeouts, and failures that send no
 * event (a bootstrap waiting for manual repair). Failures that abandon send one.
 */
export const SAFETY_POLL_MS = 300_000;
/** SQS's longest long-poll. */
export const MAX_WAIT_MS = 20_000;

export interface ProgressWait {
  readonly relevant: (c: ClusterChange) => boolean;
  readonly done: (statuses: NodeStatus[]) => boolean;
  readonly notBeforeMs?: number;
  /** Without notifications: a one-call `groups` probe must say yes before a real look. */
  readonly probe?: (groupsOnly: ClusterObservation) => boolean;
  /**
   * Without notifications: the first poll looks at once, without the probe (the caller expects
   * it to be done by then: its previous wait ended at its first poll). Later polls probe.
   */
  readonly lookFirst?: boolean;
  /** Called with the number of polls the wait took (0 with notifications) when it ends done. */
  readonly settled?: (polls: number) => void;
}

export interface ProgressDeps {
  readonly spec: ClusterSpec;
  readonly driver: RuntimeDriver;
  readonly clock: Clock;
  readonly tracker: NodeTracker;
  readonly pollIntervalMs: number;
  readonly observed: (o: ClusterObservation) => NodeStatus[];
}

/**
 * Waits for progress: with change notifications, sleeps on `waitForChange` and observes
 * (the cheap `instances` scope) only when a relevant change arrives or `SAFETY_POLL_MS`
 * passed; without them, polls with backoff (each poll a one-call probe first, when given, unless
 * `lookFirst` says the first poll is likely to find it done). Sleeps through `notBeforeMs` first. The lease
 * is kept alive meanwhile by the controller's lease keeper, not here.
 */
export async function waitForProgress(deps: ProgressDeps, signal: AbortSignal, wait: ProgressWait): Promise<ClusterObservation> {
  const { spec, driver, clock } = deps;
  const notBefore = wait.notBeforeMs;
  if (notBefore !== undefined && clock.now() < notBefore) await clock.sleep(notBefore - clock.now(), signal);
  let delayMs = Math.min(2_000, deps.pollIntervalMs);
  let lastObservedMs = clock.now(); // a deliberate sleep counts as looked-at
  let polls = 0;
  for (;;) {
    if (driver.capabilities.changeNotifications && driver.waitForChange) {
      const changes = await driver.waitForChange(spec, { timeoutMs: MAX_WAIT_MS, signal });
      deps.tracker.notified(changes);
      if (!changes.some(wait.relevant) && clock.now() - lastObservedMs < SAFETY_POLL_MS) continue;
    } else {
      await clock.sleep(delayMs, signal);
      delayMs = Math.min(delayMs * 2, deps.pollIntervalMs);
      polls++;
      if (wait.probe && !(polls === 1 && wait.lookFirst) && clock.now() - lastObservedMs < SAFETY_POLL_MS) {
        const groups = await driver.observe(spec, { scope: 'groups', signal });
        if (!wait.probe(groups)) continue;
      }
    }
    const obs = await driver.observe(spec, { scope: 'instances', signal });
    lastObservedMs = clock.now();
    if (wait.done(deps.observed(obs))) {
      wait.settled?.(polls);
      return obs;
    }
  }
}
