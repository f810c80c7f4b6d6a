import { formatDuration, formatRollTime, type Phase } from '@berth/core';

/**
 * Every fault the catalogue knows. Node-level faults name their target node; cluster-level
 * ones act on the whole account (API errors, lag) or on the controllers.
 */
export type FaultKind =
  | 'kill-instance'
  | 'spot-interruption'
  | 'az-outage'
  | 'stuck-attach'
  | 'slow-attach'
  | 'eni-release-delay'
  | 'bad-image'
  | 'slow-boot'
  | 'api-throttle'
  | 'api-5xx'
  | 'consistency-lag'
  | 'partition'
  | 'controller-crash'
  | 'second-controller'
  | 'same-holder-controller'
  | 'slow-hook';

/** The hooks a `slow-hook` fault can slow down. */
export type SlowHookName = 'beforeReplace' | 'clusterHealthy';

interface FaultBase {
  /** When the fault starts, in ms after the roll starts (with `atNextGate`: the earliest it starts). */
  readonly atMs: number;
  /** Minimum quiet time after the fault ends before the next fault on the same target, and before liveness is judged. */
  readonly stabilityMs: number;
  /**
   * Start at a controller's next gate instead: when a `clusterHealthy` or `beforeReplace` call
   * starts, at or after `atMs` — between the controller's look and the disruption it decided on
   * that look. At `atMs + withinMs` if no gate comes by then. Played by the scenario runner;
   * game-days start every fault at `atMs`.
   */
  readonly atNextGate?: { readonly withinMs: number };
}

/** Kinds a generated schedule may start at a controller's next gate (`atNextGate`). */
const gateKinds: FaultKind[] = ['kill-instance', 'partition', 'spot-interruption', 'az-outage'];
export const GATE_FAULT_KINDS: readonly FaultKind[] = Object.freeze(gateKinds);

export type Fault =
  | (FaultBase & { readonly kind: 'kill-instance'; readonly nodeId: string })
  | (FaultBase & { readonly kind: 'spot-interruption'; readonly nodeId: string })
  | (FaultBase & { readonly kind: 'az-outage'; readonly azIndex: number; readonly durationMs: number })
  | (FaultBase & { readonly kind: 'stuck-attach'; readonly nodeId: string; readonly durationMs: number })
  | (FaultBase & { readonly kind: 'slow-attach'; readonly nodeId: string; readonly factor: number; readonly durationMs: number })
  | (FaultBase & { readonly kind: 'eni-release-delay'; readonly delayMs: number; readonly durationMs: number })
  | (FaultBase & { readonly kind: 'bad-image'; readonly phase: Phase; readonly reason: string })
  | (FaultBase & { readonly kind: 'slow-boot'; readonly factor: number; readonly durationMs: number })
  | (FaultBase & { readonly kind: 'api-throttle'; readonly rate: number; readonly durationMs: number })
  | (FaultBase & { readonly kind: 'api-5xx'; readonly rate: number; readonly durationMs: number })
  | (FaultBase & { readonly kind: 'consistency-lag'; readonly lagMs: number; readonly durationMs: number })
  | (FaultBase & { readonly kind: 'partition'; readonly nodeId: string; readonly durationMs: number })
  | (FaultBase & {
      readonly kind: 'controller-crash';
      /**
       * `same-holder`: the controller restarts at once with the same holder id (a process
       * restart); `new-holder`: another controller takes over once the crashed one's lease expires.
       */
      readonly restart: 'same-holder' | 'new-holder';
      /** Downtime before the restart. */
      readonly downMs: number;
    })
  | (FaultBase & { readonly kind: 'second-controller' })
  /** A second controller with the main one's holder id (another session) starts the same roll. */
  | (FaultBase & { readonly kind: 'same-holder-controller' })
  | (FaultBase & {
      readonly kind: 'slow-hook';
      /** The hook that is slow (a drain, a step-down, a health check that hangs). */
      readonly hook: SlowHookName;
      /** How long each call of the hook takes, on top of its own work. */
      readonly durationMs: number;
      /** The window, from `atMs`, in which a call of the hook is slow. */
      readonly windowMs: number;
      /** The hook ignores its AbortSignal (it runs its full time even after a timeout or an abort). */
      readonly ignoresSignal: boolean;
    });

export type FaultOf<K extends FaultKind> = Extract<Fault, { kind: K }>;

/** How long the fault keeps acting (0 for instantaneous ones). */
export function faultDurationMs(f: Fault): number {
  switch (f.kind) {
    case 'spot-interruption':
      return 120_000;
    case 'controller-crash':
      return f.downMs;
    case 'kill-instance':
    case 'bad-image':
    case 'second-controller':
    case 'same-holder-controller':
      return 0;
    case 'slow-hook':
      // A call that starts at the end of the window runs this much longer.
      return f.windowMs + f.durationMs;
    default:
      return f.durationMs;
  }
}

/** When the fault has healed and its stability period is over, in ms after the roll starts (at the latest, for `atNextGate`). */
export function faultSettledAtMs(f: Fault): number {
  return f.atMs + (f.atNextGate?.withinMs ?? 0) + faultDurationMs(f) + f.stabilityMs;
}

/** The node a fault targets, if it targets one. */
export function faultNodeId(f: Fault): string | null {
  return 'nodeId' in f ? f.nodeId : null;
}

/**
 * One short line, times since the roll started and durations as in roll reports
 * (`formatRollTime`, `formatDuration`): `+12s kill-instance demo-2`,
 * `+3s slow-hook beforeReplace takes 11m40s for 1m`.
 */
export function describeFault(f: Fault): string {
  const at = formatRollTime(f.atMs);
  const parts: string[] = [at, f.kind];
  const node = faultNodeId(f);
  if (node) parts.push(node);
  switch (f.kind) {
    case 'az-outage':
      parts.push(`az#${f.azIndex}`, formatDuration(f.durationMs));
      break;
    case 'stuck-attach':
    case 'partition':
    case 'consistency-lag':
    case 'eni-release-delay':
      parts.push(formatDuration(f.durationMs));
      break;
    case 'slow-attach':
    case 'slow-boot':
      parts.push(`×${f.factor}`, formatDuration(f.durationMs));
      break;
    case 'bad-image':
      parts.push(`fails in ${f.phase}`);
      break;
    case 'api-throttle':
    case 'api-5xx':
      parts.push(`rate ${f.rate}`, formatDuration(f.durationMs));
      break;
    case 'controller-crash':
      parts.push(f.restart, `down ${formatDuration(f.downMs)}`);
      break;
    case 'slow-hook':
      parts.push(f.hook, `takes ${formatDuration(f.durationMs)}`, `for ${formatDuration(f.windowMs)}`, ...(f.ignoresSignal ? ['ignoring its signal'] : []));
      break;
    default:
      break;
  }
  if (f.atNextGate) parts.push(`at the next gate (within ${formatDuration(f.atNextGate.withinMs)})`);
  return parts.join(' ');
}
