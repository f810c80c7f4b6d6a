import type { FaultKind } from './fault.js';

export interface FaultCatalogueEntry {
  readonly kind: FaultKind;
  /** What the fault does, in one sentence. */
  readonly description: string;
  /** Acts on one node (and so counts towards the blast radius). */
  readonly nodeScoped: boolean;
  /** Default minimum stability period after the fault heals. */
  readonly stabilityMs: number;
  /** Only the simulator can inject it (a game-day against AWS needs an injector that supports it). */
  readonly simOnly: boolean;
  /**
   * Who plays it: a `FaultInjector` (the cloud and the application), or the scenario runner
   * itself (controllers and the hooks it hands them). Game-days play injector faults only.
   */
  readonly playedBy: 'injector' | 'runner';
}

const e = (kind: FaultKind, description: string, nodeScoped: boolean, stabilityMs: number, simOnly = true, playedBy: 'injector' | 'runner' = 'injector'): FaultCatalogueEntry =>
  Object.freeze({ kind, description, nodeScoped, stabilityMs, simOnly, playedBy });

/**
 * The fault model: every fault chaos generates, with its default stability period. Faults
 * outside this list are outside the model and never generated.
 */
export const FAULT_CATALOGUE: Readonly<Record<FaultKind, FaultCatalogueEntry>> = Object.freeze({
  'kill-instance': e('kill-instance', "EC2 loses the node's current instance; the group launches a replacement.", true, 30_000, false),
  'spot-interruption': e('spot-interruption', 'Spot interruption: a 2-minute notice, then EC2 terminates the instance.', true, 30_000),
  'az-outage': e('az-outage', "Instances in the AZ die and launches there fail until it ends.", true, 60_000),
  'stuck-attach': e('stuck-attach', "The node's volume attachments hang in `attaching`.", true, 30_000),
  'slow-attach': e('slow-attach', "The node's volume attachments take `factor` times longer.", true, 10_000),
  'eni-release-delay': e('eni-release-delay', 'Primary ENIs stay in use this long after their instance terminates (launches fail and are retried).', false, 10_000),
  'bad-image': e('bad-image', 'The target image fails its bootstrap in the chosen phase.', false, 0),
  'slow-boot': e('slow-boot', 'The target image boots `factor` times slower.', false, 10_000),
  'api-throttle': e('api-throttle', 'A burst of API throttling errors.', false, 10_000),
  'api-5xx': e('api-5xx', 'A burst of API 5xx errors.', false, 10_000),
  'consistency-lag': e('consistency-lag', 'New resources show in describes only after a lag (eventual consistency).', false, 10_000),
  'partition': e('partition', "The node's member is cut off from the quorum while EC2 reports it healthy.", true, 30_000),
  'controller-crash': e('controller-crash', 'The controller dies at an arbitrary point (no release, lease left behind) and is restarted.', false, 0, false, 'runner'),
  'second-controller': e('second-controller', 'A second controller with another holder id starts the same roll at the same time.', false, 0, false, 'runner'),
  'same-holder-controller': e('same-holder-controller', "A second controller with the main one's holder id (a new session) starts the same roll: two owners, one holder id.", false, 0, false, 'runner'),
  'slow-hook': e('slow-hook', 'A roll hook (beforeReplace: a long drain; clusterHealthy: a hanging check) takes `durationMs` during its window, optionally ignoring its AbortSignal.', false, 0, true, 'runner'),
});

export const FAULT_KINDS: readonly FaultKind[] = Object.freeze(Object.keys(FAULT_CATALOGUE) as FaultKind[]);
