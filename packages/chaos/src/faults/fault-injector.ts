import type { ClusterSpec, Driver } from '@berth/core';
import type { Simulation } from '@berth/sim-driver';
import type { Fault, FaultKind } from './fault.js';

export interface InjectionContext {
  readonly spec: ClusterSpec;
  /** The image the roll moves to (what `bad-image` and `slow-boot` act on). */
  readonly targetImage: string;
  readonly signal?: AbortSignal;
}

/** What an injection left behind: a way to end it early (faults with a duration end by themselves). */
export interface Injection {
  /** Ends a fault that has no built-in end (slow attach, ENI release delay, slow boot). */
  readonly heal?: () => Promise<void>;
}

/**
 * How faults reach a cloud. The simulator's injector supports every node and cloud fault of the
 * catalogue; a real-AWS injector supports what it can do safely (the driver's one: terminate an
 * instance) and may be extended with functions of your own (AWS FIS experiments, SSM commands
 * that drop a member's traffic...). Controller faults (crash, second controller) are played by
 * the runner itself, not by an injector.
 */
export interface FaultInjector {
  readonly name: string;
  supports(kind: FaultKind): boolean;
  inject(fault: Fault, ctx: InjectionContext): Promise<Injection>;
}

const SIM_KINDS = new Set<FaultKind>(['kill-instance', 'spot-interruption', 'az-outage', 'stuck-attach', 'slow-attach', 'eni-release-delay', 'bad-image', 'slow-boot', 'api-throttle', 'api-5xx', 'consistency-lag', 'partition']);

/**
 * The injector for a simulation: each fault through `sim.faults`, at the current virtual time.
 *
 * @example
 * ```ts
 * const injector = createSimInjector(sim);
 * await injector.inject({ kind: 'kill-instance', nodeId: 'demo-2', atMs: 0, stabilityMs: 30_000 }, { spec, targetImage: spec.image });
 * ```
 */
export function createSimInjector(sim: Simulation): FaultInjector {
  const f = sim.faults;
  return {
    name: 'simulator',
    supports: (kind) => SIM_KINDS.has(kind),
    async inject(fault, ctx) {
      switch (fault.kind) {
        case 'kill-instance':
          f.killInstance(fault.nodeId);
          return {};
        case 'spot-interruption':
          f.spotInterrupt(fault.nodeId);
          return {};
        case 'az-outage': {
          const azs = [...new Set(ctx.spec.subnets.map((s) => s.az))].sort();
          f.azOutage(azs[fault.azIndex % azs.length] as string, fault.durationMs);
          return {};
        }
        case 'stuck-attach':
          f.stuckAttach(fault.nodeId, fault.durationMs);
          return {};
        case 'slow-attach':
          f.slowAttach(fault.nodeId, fault.factor);
          return { heal: async () => f.slowAttach(fault.nodeId, 1) };
        case 'eni-release-delay':
          f.eniReleaseDelay(fault.delayMs);
          return { heal: async () => f.eniReleaseDelay(0) };
        case 'bad-image':
          f.markImageBad(ctx.targetImage, { phase: fault.phase, reason: fault.reason });
          return {};
        case 'slow-boot':
          f.markImageSlow(ctx.targetImage, fault.factor);
          return { heal: async () => f.markImageSlow(ctx.targetImage, 1) };
        case 'api-throttle':
        case 'api-5xx':
          f.apiErrors({ code: fault.kind === 'api-throttle' ? 'throttle' : '5xx', rate: fault.rate, durationMs: fault.durationMs });
          return {};
        case 'consistency-lag':
          f.consistencyLag(fault.lagMs, fault.durationMs);
          return {};
        case 'partition':
          f.partition(fault.nodeId, fault.durationMs);
          return {};
        default:
          throw new RangeError(`the simulator injector does not play ${fault.kind}: the runner does`);
      }
    },
  };
}

/**
 * An injector for any driver (the AWS one against staging): `kill-instance` terminates the
 * node's current instance through `driver.replaceInstance` (the group launches a new one, as
 * after a real loss). Other kinds come from `extra` (your own functions), or are unsupported.
 *
 * @example
 * ```ts
 * const injector = createDriverInjector(createAwsDriver({ region }), {
 *   partition: async (fault) => ssm.send(new SendCommandCommand({ ... })), // your own
 * });
 * ```
 */
export function createDriverInjector(driver: Driver, extra: Partial<Record<FaultKind, (fault: Fault, ctx: InjectionContext) => Promise<Injection>>> = {}): FaultInjector {
  return {
    name: `driver(${driver.name})`,
    supports: (kind) => kind === 'kill-instance' || extra[kind] !== undefined,
    async inject(fault, ctx) {
      const own = extra[fault.kind];
      if (own) return own(fault, ctx);
      if (fault.kind !== 'kill-instance') throw new RangeError(`injector ${driver.name} cannot inject ${fault.kind}; pass a function for it`);
      const obs = await driver.observe(ctx.spec, { scope: 'instances', signal: ctx.signal });
      const node = obs.nodes[fault.nodeId];
      const inst = node?.instances.find((i) => i.ec2State === 'running' || i.ec2State === 'pending');
      if (!inst) return {};
      await driver.replaceInstance(ctx.spec, fault.nodeId, inst.instanceId, { signal: ctx.signal });
      return {};
    },
  };
}
