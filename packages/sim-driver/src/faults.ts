import type { Phase } from '@berth/core';
import type { SimContext } from './sim-context.js';
import { spotWatcherNotice } from './spot-watcher.js';
import type { SimInstance, SimInstanceEvent } from './world/entities.js';

export interface ApiErrorsFault {
  /** AWS operation names (e.g. `DescribeInstances`); every operation when absent. */
  readonly operations?: readonly string[];
  readonly code: 'throttle' | '5xx';
  /** Share of matching calls that fail (0–1). */
  readonly rate: number;
  readonly durationMs: number;
}

/**
 * Fault hooks, driven by tests and the chaos package. Each one is written to the trace
 * (`fault.*`). They act at the current virtual time; schedule them from inside `sim.run`
 * (e.g. after `sim.clock.sleep`) to place them in a roll.
 */
export interface SimFaults {
  /** EC2 loses the node's current instance (or the given instance); the group replaces it. */
  killInstance(target: string): void;
  /**
   * Spot interruption: EC2 sends the "EC2 Spot Instance Interruption Warning" to EventBridge
   * (rules on the default bus that match it deliver it), and terminates the instance
   * `spotNoticeMs` later (2 minutes on AWS). On an instance launched on-demand the fault acts as
   * if it were spot.
   */
  spotInterrupt(nodeId: string): void;
  /**
   * EC2 schedules an event for the node's current instance (`nodeId`, or an instance id), shown
   * in DescribeInstanceStatus from now on with NotBefore `inMs` from now: at that time a
   * retirement or a stop takes the instance away (it is lost, and its group replaces it); a
   * reboot or maintenance only shows (the reboot itself is not simulated). Returns the event id.
   */
  scheduleInstanceEvent(target: string, event: { readonly code: SimInstanceEvent['code']; readonly inMs: number; readonly description?: string }): string | null;
  /** Instances in `az` die; launches there fail until the outage ends. */
  azOutage(az: string, durationMs: number): void;
  /** Attachments of the node's volume hang in `attaching` until `durationMs` from now. */
  stuckAttach(nodeId: string, durationMs: number): void;
  /** Attachments of the node's volume take `factor` times longer (1 resets). */
  slowAttach(nodeId: string, factor: number): void;
  /**
   * The node's grow watcher (berth-grow-fs.timer) stops (`stopped` false: runs again): its file
   * system no longer grows online after a ModifyVolume, only when an instance next mounts it.
   */
  stopGrowWatcher(nodeId: string, stopped?: boolean): void;
  /** ENIs return to `available` this long after their instance is terminated (0 resets). */
  eniReleaseDelay(ms: number): void;
  /** Instances of this image fail their boot in `phase` (`launching`: user data never runs). */
  markImageBad(ami: string, failure: { readonly phase: Phase; readonly reason: string }): void;
  /** Instances of this image boot `factor` times slower. */
  markImageSlow(ami: string, factor: number): void;
  /** A burst of API errors. */
  apiErrors(fault: ApiErrorsFault): void;
  /** New resources show in describes only `ms` after creation, for `durationMs`. */
  consistencyLag(ms: number, durationMs: number): void;
  /** The node's member is cut off from the others (EC2 still healthy). */
  partition(nodeId: string, durationMs: number): void;
  /**
   * EC2 has no spot capacity in `az` for `durationMs` (0 ends it): spot launches there fail with
   * `InsufficientInstanceCapacity` (SPOT-3); running spot instances stay.
   */
  spotCapacity(az: string, durationMs: number): void;
}

/** What EC2 says of each scheduled event (as the console shows them). */
const SCHEDULED_DESCRIPTIONS: Readonly<Record<SimInstanceEvent['code'], string>> = {
  'instance-retirement': 'The instance is running on degraded hardware',
  'instance-stop': 'The instance is running on degraded hardware',
  'system-reboot': 'scheduled reboot',
  'instance-reboot': 'scheduled reboot',
  'system-maintenance': 'scheduled maintenance',
};

export function createFaults(ctx: SimContext): SimFaults {
  const now = (): number => ctx.scheduler.nowMs;
  const currentInstance = (nodeId: string): SimInstance | null => {
    let best: SimInstance | null = null;
    for (const i of ctx.state.instances.values()) {
      if (i.nodeId !== nodeId || i.ec2State === 'shutting-down' || i.ec2State === 'terminated') continue;
      if (!best || i.launchedAtMs >= best.launchedAtMs) best = i;
    }
    return best;
  };
  const resolve = (target: string): SimInstance | null => (target.startsWith('i-') ? (ctx.state.instances.get(target) ?? null) : currentInstance(target));

  return {
    spotCapacity(az, durationMs) {
      ctx.trace.record('fault.spot-capacity', { az, durationMs });
      if (durationMs <= 0) ctx.faults.spotCapacityOut.delete(az);
      else ctx.faults.spotCapacityOut.set(az, now() + durationMs);
    },
    killInstance(target) {
      const inst = resolve(target);
      ctx.trace.record('fault.kill-instance', { target, ...(inst?.nodeId && { nodeId: inst.nodeId }), instanceId: inst?.id ?? null });
      if (inst) ctx.ec2.lose(inst.id, 'Server.InternalError: instance lost (fault)');
    },
    spotInterrupt(nodeId) {
      const inst = currentInstance(nodeId);
      ctx.trace.record('fault.spot-interruption', { nodeId, instanceId: inst?.id ?? null, noticeMs: ctx.options.timings.spotNoticeMs });
      if (!inst) return;
      inst.spotNoticeAtMs = now();
      // EC2-5, EB-6: the warning goes to EventBridge as EC2 sends it (source aws.ec2).
      const a = ctx.account;
      ctx.events.emit({
        source: 'aws.ec2',
        detailType: 'EC2 Spot Instance Interruption Warning',
        resources: [`arn:${a.partition}:ec2:${a.region}:${a.accountId}:instance/${inst.id}`],
        detail: { 'instance-id': inst.id, 'instance-action': 'terminate' },
      });
      // SPOT-4: a spot node's watcher sees the notice in instance metadata and stops the member.
      spotWatcherNotice(ctx, inst);
      ctx.scheduler.after(ctx.options.timings.spotNoticeMs, `spot terminate ${inst.id}`, () => {
        ctx.ec2.lose(inst.id, 'Server.SpotInstanceTermination: Spot instance termination');
      });
    },
    scheduleInstanceEvent(target, event) {
      const inst = resolve(target);
      const id = inst ? `instance-event-${ctx.state.nextId('ev', 17).slice(3)}` : null;
      ctx.trace.record('fault.instance-event', { target, ...(inst?.nodeId && { nodeId: inst.nodeId }), instanceId: inst?.id ?? null, code: event.code, inMs: event.inMs });
      if (!inst || id === null) return null;
      const description = event.description ?? SCHEDULED_DESCRIPTIONS[event.code];
      const e: SimInstanceEvent = { id, code: event.code, description, notBeforeMs: now() + event.inMs, notAfterMs: event.code === 'instance-retirement' || event.code === 'instance-stop' ? null : now() + event.inMs + 2 * 3600_000 };
      inst.scheduledEvents.push(e);
      ctx.scheduler.after(event.inMs, `${event.code} ${inst.id}`, () => {
        e.description = `[Completed] ${e.description}`;
        if (event.code === 'instance-retirement' || event.code === 'instance-stop') ctx.ec2.lose(inst.id, `Server.ScheduledStop: ${description}`);
      });
      return id;
    },
    azOutage(az, durationMs) {
      ctx.faults.azOutages.set(az, now() + durationMs);
      ctx.trace.record('fault.az-outage', { az, durationMs });
      for (const i of [...ctx.state.instances.values()]) {
        if (i.az === az && (i.ec2State === 'pending' || i.ec2State === 'running')) ctx.ec2.lose(i.id, `Server.InternalError: AZ ${az} outage`);
      }
      ctx.scheduler.after(durationMs, `az ${az} back`, () => {
        if ((ctx.faults.azOutages.get(az) ?? 0) <= now()) {
          ctx.faults.azOutages.delete(az);
          ctx.trace.record('fault.az-restored', { az });
        }
      });
    },
    stuckAttach(nodeId, durationMs) {
      ctx.faults.stuckAttach.set(nodeId, now() + durationMs);
      ctx.trace.record('fault.stuck-attach', { nodeId, durationMs });
    },
    stopGrowWatcher(nodeId, stopped = true) {
      if (stopped) ctx.faults.growWatcherStopped.add(nodeId);
      else ctx.faults.growWatcherStopped.delete(nodeId);
      ctx.trace.record('fault.grow-watcher', { nodeId, stopped });
    },
    slowAttach(nodeId, factor) {
      if (factor === 1) ctx.faults.slowAttach.delete(nodeId);
      else ctx.faults.slowAttach.set(nodeId, factor);
      ctx.trace.record('fault.slow-attach', { nodeId, factor });
    },
    eniReleaseDelay(ms) {
      ctx.faults.eniReleaseDelayMs = Math.max(0, ms);
      ctx.trace.record('fault.eni-release-delay', { ms });
    },
    markImageBad(ami, failure) {
      ctx.faults.badImages.set(ami, { phase: failure.phase, reason: failure.reason });
      ctx.trace.record('fault.image-bad', { ami, phase: failure.phase, reason: failure.reason });
    },
    markImageSlow(ami, factor) {
      if (factor === 1) ctx.faults.slowImages.delete(ami);
      else ctx.faults.slowImages.set(ami, factor);
      ctx.trace.record('fault.image-slow', { ami, factor });
    },
    apiErrors(fault) {
      if (!(fault.rate >= 0 && fault.rate <= 1)) throw new RangeError(`apiErrors: rate must be 0–1; got ${fault.rate}`);
      ctx.faults.apiErrors.push({ operations: fault.operations ? [...fault.operations] : null, code: fault.code, rate: fault.rate, untilMs: now() + fault.durationMs });
      ctx.trace.record('fault.api-errors', { operations: fault.operations ? [...fault.operations] : null, code: fault.code, rate: fault.rate, durationMs: fault.durationMs });
    },
    consistencyLag(ms, durationMs) {
      ctx.faults.consistencyLag = { lagMs: ms, untilMs: now() + durationMs };
      ctx.trace.record('fault.consistency-lag', { ms, durationMs });
    },
    partition(nodeId, durationMs) {
      ctx.trace.record('fault.partition', { nodeId, durationMs });
      ctx.app.partition(nodeId, durationMs);
    },
  };
}
