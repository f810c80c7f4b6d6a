import type { Phase } from '@berth/core';
import type { SimContext } from './sim-context.js';
import type { SimInstance } from './world/entities.js';

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
  /** Spot interruption: a 2-minute notice, then EC2 terminates the instance. */
  spotInterrupt(nodeId: string): void;
  /** Instances in `az` die; launches there fail until the outage ends. */
  azOutage(az: string, durationMs: number): void;
  /** Attachments of the node's volume hang in `attaching` until `durationMs` from now. */
  stuckAttach(nodeId: string, durationMs: number): void;
  /** Attachments of the node's volume take `factor` times longer (1 resets). */
  slowAttach(nodeId: string, factor: number): void;
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
}

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
      ctx.scheduler.after(ctx.options.timings.spotNoticeMs, `spot terminate ${inst.id}`, () => {
        ctx.ec2.lose(inst.id, 'Server.SpotInstanceTermination: Spot instance termination');
      });
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
