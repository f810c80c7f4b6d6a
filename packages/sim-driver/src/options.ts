/**
 * Simulation options and the two timing profiles. Every duration is a `[min, max]` range in
 * milliseconds drawn uniformly from the owning subsystem's PRNG stream. `realistic` follows
 * the figures in docs/aws-behaviour.md; `fast` shrinks every duration about 100×.
 */
import type { IamEvaluator } from './aws/iam/iam-decision.js';

/** An inclusive `[min, max]` range in milliseconds. */
export type RangeMs = readonly [number, number];

export interface ApiLatencyTimings {
  /** EC2 `Describe*`. */
  readonly ec2Describe: RangeMs;
  /** EC2 mutating calls (`CreateVolume`, `AttachVolume`, `CreateTags`...). */
  readonly ec2Mutate: RangeMs;
  readonly autoscaling: RangeMs;
  readonly route53: RangeMs;
  readonly dynamodb: RangeMs;
  readonly sqs: RangeMs;
}

export interface SimTimings {
  readonly apiLatencyMs: ApiLatencyTimings;
  /** EC2 `pending → running`. */
  readonly pendingToRunningMs: RangeMs;
  /** OS boot and cloud-init until user data starts. */
  readonly osBootMs: RangeMs;
  /** EC2 `shutting-down → terminated`. */
  readonly shuttingDownMs: RangeMs;
  /** Time into shutting-down when the data volume starts detaching. */
  readonly volumeDetachStartMs: RangeMs;
  /** `detaching → detached` (the volume becomes `available`). */
  readonly volumeDetachMs: RangeMs;
  /** `attaching → attached`. */
  readonly attachMs: RangeMs;
  /** Share of attachments that hang in `attaching` (0–1). */
  readonly attachHangChance: number;
  readonly attachHangMs: RangeMs;
  /** `CreateVolume`: `creating → available`. */
  readonly volumeCreateMs: RangeMs;
  /** `CreateSnapshot`: `pending → completed`. */
  readonly snapshotMs: RangeMs;
  /** ModifyVolume `modifying` then `optimizing` durations. */
  readonly modifyModifyingMs: RangeMs;
  readonly modifyOptimizingMs: RangeMs;
  /** Route 53 change `PENDING → INSYNC`. */
  readonly dnsPropagationMs: RangeMs;
  /** How long the group takes to start a launch activity once it is short of capacity. */
  readonly asgReactionMs: RangeMs;
  /** First retry delay of a failed launch activity; later retries back off ×1.5, capped. */
  readonly launchRetryMs: RangeMs;
  readonly launchRetryMaxMs: number;
  /** How long the group takes to notice an instance that EC2 terminated outside it. */
  readonly healthCheckDetectMs: RangeMs;
  /** `Pending → Pending:Wait`. */
  readonly pendingToWaitMs: RangeMs;
  /** `Pending:Proceed → InService`. */
  readonly proceedToInServiceMs: RangeMs;
  /** How long EC2 keeps terminated instances in describes. */
  readonly terminatedVisibleMs: number;
  /** Lag before a just-created resource shows in describes. */
  readonly consistencyLagMs: RangeMs;
  /** Spot interruption notice before the instance is terminated (2 minutes on AWS). */
  readonly spotNoticeMs: number;
  /** Node agent (bootstrap) steps. */
  readonly agentMountMs: RangeMs;
  readonly agentFormatMs: RangeMs;
  readonly agentGrowMs: RangeMs;
  /** The bootstrap's grow watcher (berth-grow-fs.timer): from `optimizing` until its next run (its period is 30 s). */
  readonly agentWatcherMs: RangeMs;
  readonly agentConfigureMs: RangeMs;
  /** First AttachVolume retry delay after VolumeInUse; doubles, capped at 8×. */
  readonly agentAttachRetryMs: RangeMs;
  /** Application: member process start until it can talk to peers. */
  readonly appMemberStartMs: RangeMs;
  /** Client write period (one log entry per period while available). */
  readonly appWriteIntervalMs: number;
  /** Randomized election timeout after the leader is lost. */
  readonly appElectionTimeoutMs: RangeMs;
  /** Catch-up after a restart: base plus per missing entry. */
  readonly appCatchUpBaseMs: RangeMs;
  readonly appCatchUpPerEntryMs: number;
}

export type SimProfile = 'realistic' | 'fast';

/** Token bucket: `capacity` tokens, refilled at `refillPerSec`. */
export interface BucketLimits {
  readonly capacity: number;
  readonly refillPerSec: number;
}

export interface SimLimits {
  readonly ec2Describe: BucketLimits;
  readonly ec2Mutate: BucketLimits;
  readonly autoscaling: BucketLimits;
  readonly route53: BucketLimits;
}

type DeepPartial<T> = { -readonly [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

export interface SimulationOptions {
  /** The one seed every subsystem's PRNG stream derives from. Default 1. */
  readonly seed?: number;
  /** Default `realistic`. */
  readonly profile?: SimProfile;
  /** Override individual timings of the profile. */
  readonly timings?: DeepPartial<SimTimings>;
  /** Override API rate limits. */
  readonly limits?: DeepPartial<SimLimits>;
  /** `run()` fails once virtual time passes this far beyond the start. Default 7 days. */
  readonly maxVirtualMs?: number;
  /** Virtual epoch time at the start. Default 2024-01-01T00:00:00Z. */
  readonly startTimeMs?: number;
  /**
   * Spot: `true` launches every instance as a spot instance; `'templates'` launches spot where the
   * launch template asks for it (`InstanceMarketOptions`, SPOT-1). Either gives the driver
   * `capabilities.spot`. Default false.
   */
  readonly spot?: boolean | 'templates';
  /** AWS account id used in ARNs. Default 123456789012. */
  readonly accountId?: string;
  /** The account's one region (every spec used with this simulation must be in it). Default eu-west-1. */
  readonly region?: string;
  /**
   * IAM evaluation of every call. `'evaluate'` (default): against the caller's policies, with
   * the optional package `@cloud-copilot/iam-simulate` (AGPL-3.0; install it next to
   * `@berth/sim-driver`), loaded by `sim.run`. `'off'`: every call is allowed. Or an
   * {@link IamEvaluator} of your own.
   */
  readonly iam?: 'evaluate' | 'off' | IamEvaluator;
  /**
   * `'auto'` (default): `sim.driver` prepares the account for each spec it sees
   * (`sim.account.prepare`). `'manual'`: call `sim.account.prepare(spec)` yourself — a spec
   * naming a subnet, image or profile the account lacks then fails as on AWS.
   */
  readonly account?: 'auto' | 'manual';
  /**
   * `'simulated'` (default): every instance with a Berth user data runs the simulated node
   * agent. `'none'`: nothing runs on instances (tests that run the real bootstrap script
   * against the simulated AWS use this).
   */
  readonly nodeAgent?: 'simulated' | 'none';
  /** The AWS driver's change notifications (SQS fed by EventBridge). Default true. */
  readonly changeQueue?: boolean;
  /**
   * Which documented ModifyVolume rate rule EBS enforces: `'four-per-day'` (default, the current
   * API reference: four per volume in a rolling 24 hours, EBS-7) or `'six-hours'` (the older text:
   * six hours between modifications of a volume, EBS-12).
   */
  readonly volumeModificationRule?: 'four-per-day' | 'six-hours';
}

export interface ResolvedSimOptions {
  readonly seed: number;
  readonly profile: SimProfile;
  readonly timings: SimTimings;
  readonly limits: SimLimits;
  readonly maxVirtualMs: number;
  readonly startTimeMs: number;
  readonly spot: boolean | 'templates';
  readonly accountId: string;
  readonly region: string;
  readonly iam: 'evaluate' | 'off' | 'custom';
  readonly account: 'auto' | 'manual';
  readonly nodeAgent: 'simulated' | 'none';
  readonly changeQueue: boolean;
  readonly volumeModificationRule: 'four-per-day' | 'six-hours';
}

const SEC = 1000;
const MIN = 60 * SEC;

export const REALISTIC_TIMINGS: SimTimings = {
  apiLatencyMs: {
    ec2Describe: [40, 250],
    ec2Mutate: [80, 450],
    autoscaling: [60, 350],
    route53: [80, 500],
    dynamodb: [4, 25],
    sqs: [8, 40],
  },
  pendingToRunningMs: [10 * SEC, 40 * SEC],
  osBootMs: [15 * SEC, 60 * SEC],
  shuttingDownMs: [20 * SEC, 90 * SEC],
  volumeDetachStartMs: [1 * SEC, 8 * SEC],
  volumeDetachMs: [2 * SEC, 10 * SEC],
  attachMs: [1 * SEC, 10 * SEC],
  attachHangChance: 0.02,
  attachHangMs: [2 * MIN, 6 * MIN],
  volumeCreateMs: [2 * SEC, 10 * SEC],
  snapshotMs: [2 * MIN, 10 * MIN],
  modifyModifyingMs: [10 * SEC, 60 * SEC],
  modifyOptimizingMs: [5 * MIN, 30 * MIN],
  dnsPropagationMs: [10 * SEC, 60 * SEC],
  asgReactionMs: [2 * SEC, 10 * SEC],
  launchRetryMs: [10 * SEC, 15 * SEC],
  launchRetryMaxMs: 60 * SEC,
  healthCheckDetectMs: [5 * SEC, 30 * SEC],
  pendingToWaitMs: [500, 2 * SEC],
  proceedToInServiceMs: [1 * SEC, 5 * SEC],
  terminatedVisibleMs: 60 * MIN,
  consistencyLagMs: [0, 1 * SEC],
  spotNoticeMs: 2 * MIN,
  agentMountMs: [500, 3 * SEC],
  agentFormatMs: [2 * SEC, 10 * SEC],
  agentGrowMs: [1 * SEC, 5 * SEC],
  agentWatcherMs: [0, 30 * SEC],
  agentConfigureMs: [3 * SEC, 15 * SEC],
  agentAttachRetryMs: [2 * SEC, 3 * SEC],
  appMemberStartMs: [2 * SEC, 8 * SEC],
  appWriteIntervalMs: 10 * SEC,
  appElectionTimeoutMs: [1 * SEC, 3 * SEC],
  appCatchUpBaseMs: [2 * SEC, 6 * SEC],
  appCatchUpPerEntryMs: 20,
};

function scaleRange(r: RangeMs, f: number): RangeMs {
  return [Math.round(r[0] * f), Math.round(r[1] * f)];
}

/** Every duration of `t` multiplied by `f` (chances unchanged). */
export function scaleTimings(t: SimTimings, f: number): SimTimings {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(t)) {
    if (k === 'attachHangChance') out[k] = v;
    else if (Array.isArray(v)) out[k] = scaleRange(v as unknown as RangeMs, f);
    else if (typeof v === 'number') out[k] = Math.round(v * f);
    else out[k] = Object.fromEntries(Object.entries(v as Record<string, RangeMs>).map(([k2, r]) => [k2, scaleRange(r, f)]));
  }
  return out as unknown as SimTimings;
}

export const FAST_TIMINGS: SimTimings = scaleTimings(REALISTIC_TIMINGS, 0.01);

export const DEFAULT_LIMITS: SimLimits = {
  ec2Describe: { capacity: 100, refillPerSec: 20 },
  ec2Mutate: { capacity: 200, refillPerSec: 5 },
  autoscaling: { capacity: 40, refillPerSec: 10 },
  route53: { capacity: 50, refillPerSec: 10 },
};

function merge<T>(base: T, over: unknown): T {
  if (over === undefined || over === null) return base;
  if (Array.isArray(base) || typeof base !== 'object' || base === null) return over as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) {
    if (v !== undefined) out[k] = merge((base as Record<string, unknown>)[k], v);
  }
  return out as T;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/** Applies defaults and overrides; the result is frozen and printable. */
export function resolveSimOptions(options: SimulationOptions = {}): ResolvedSimOptions {
  const profile = options.profile ?? 'realistic';
  if (profile !== 'realistic' && profile !== 'fast') {
    throw new RangeError(`createSimulation: profile must be 'realistic' or 'fast'; got '${String(profile)}'`);
  }
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed)) throw new RangeError(`createSimulation: seed must be an integer; got ${seed}`);
  const base = profile === 'fast' ? FAST_TIMINGS : REALISTIC_TIMINGS;
  const region = options.region ?? 'eu-west-1';
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new RangeError(`createSimulation: region must be an AWS region like eu-west-1; got '${region}'`);
  if (options.iam !== undefined && typeof options.iam !== 'object' && options.iam !== 'evaluate' && options.iam !== 'off') {
    throw new RangeError(`createSimulation: iam must be 'evaluate', 'off' or an IamEvaluator; got '${String(options.iam)}'`);
  }
  return deepFreeze({
    seed,
    profile,
    timings: merge(base, options.timings),
    limits: merge(DEFAULT_LIMITS, options.limits),
    maxVirtualMs: options.maxVirtualMs ?? 7 * 24 * 60 * MIN,
    startTimeMs: options.startTimeMs ?? Date.UTC(2024, 0, 1),
    spot: options.spot ?? false,
    accountId: options.accountId ?? '123456789012',
    region,
    iam: typeof options.iam === 'object' ? 'custom' : (options.iam ?? 'evaluate'),
    account: options.account ?? 'auto',
    nodeAgent: options.nodeAgent ?? 'simulated',
    changeQueue: options.changeQueue ?? true,
    volumeModificationRule: options.volumeModificationRule ?? 'four-per-day',
  });
}
