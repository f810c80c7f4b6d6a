import type { Clock } from '../clock.js';
import type { TargetGroupObservation } from '../driver.js';
import type { ClusterObservation } from '../observation.js';
import type { NodeStatus } from '../plan/node-status.js';
import type { RuntimeDriver } from '../runtime/runtime-driver.js';
import type { ClusterSpec } from '../spec/cluster-spec.js';
import type { BlueGreenPlan, Side, TrafficStatus } from './blue-green-types.js';
import { allInstanceIds, planBlueGreen, sideFacts, type SideFacts } from './plan-blue-green.js';
import { normalizeName, type ResolvedBlueGreen } from './resolve-blue-green.js';
import { dnsTrafficStatus, targetTrafficStatus } from './traffic-status.js';

/** One side as a look found it, against the spec it should run. */
export interface SideLook {
  readonly side: Side;
  readonly spec: ClusterSpec;
  readonly observation: ClusterObservation;
  readonly statuses: readonly NodeStatus[];
  readonly facts: SideFacts;
}

/** Where traffic goes and the sides, as one look found them. */
export interface TierLook {
  readonly traffic: TrafficStatus;
  readonly sides: Readonly<Record<Side, SideLook | null>>;
  readonly atMs: number;
}

/** The traffic as the cloud reports it, before it is attributed to a side. */
export interface RawTraffic {
  readonly record: TrafficStatus['record'];
  readonly groups: readonly TargetGroupObservation[] | null;
}

/** Reads a tier from the cloud: the record or the target groups, and each side. No writes. */
export class TierReader {
  readonly #driver: RuntimeDriver;
  readonly #r: ResolvedBlueGreen;
  readonly #clock: Clock;

  constructor(driver: RuntimeDriver, resolved: ResolvedBlueGreen, clock: Clock) {
    this.#driver = driver;
    this.#r = resolved;
    this.#clock = clock;
  }

  ips(side: Side): string[] {
    return this.#r.specs[side].nodes.map((n) => n.ip);
  }

  /** DNS: the record, through a look at the traffic spec; target groups: every group with its targets. */
  async readTraffic(signal: AbortSignal | undefined): Promise<RawTraffic> {
    const t = this.#r.traffic;
    if (t.kind === 'dns') {
      const obs = await this.#driver.observe(this.#r.trafficSpec, { scope: 'full', signal });
      const rec = (obs.dnsRecords ?? []).find((r) => normalizeName(r.name) === t.recordName);
      return { record: rec ? { name: t.recordName, ttl: rec.ttl, values: [...rec.values].sort() } : null, groups: null };
    }
    return { record: null, groups: await this.#driver.describeTargetGroups(this.#r.trafficSpec, t.targetGroupArns, { signal }) };
  }

  /** Attributes the traffic to the sides (target groups: by the instances of the sides looked at). */
  classify(raw: RawTraffic, looks: Partial<Record<Side, SideLook>>): TrafficStatus {
    if (raw.groups === null) return dnsTrafficStatus(raw.record, { blue: this.ips('blue'), green: this.ips('green') });
    return targetTrafficStatus(raw.groups, { blue: looks.blue ? allInstanceIds(looks.blue.observation) : [], green: looks.green ? allInstanceIds(looks.green.observation) : [] });
  }

  async lookSide(side: Side, spec: ClusterSpec, signal: AbortSignal | undefined, scope: 'full' | 'instances' = 'full'): Promise<SideLook> {
    const observation = await this.#driver.observe(spec, { scope, signal });
    const { facts, statuses } = sideFacts(side, spec, observation);
    return { side, spec, observation, statuses, facts };
  }

  /**
   * Traffic and the sides, each side against `specs`. `needed`: with no traffic anywhere only
   * blue (the target then) is looked at; otherwise both.
   */
  async look(specs: Readonly<Record<Side, ClusterSpec>>, signal: AbortSignal | undefined, which: 'both' | 'needed'): Promise<TierLook> {
    const raw = await this.readTraffic(signal);
    const anyTraffic = raw.groups ? raw.groups.some((g) => g.targets.length > 0) : (raw.record?.values.length ?? 0) > 0;
    const sides: Side[] = which === 'both' || anyTraffic ? ['blue', 'green'] : ['blue'];
    const looked = await Promise.all(sides.map((s) => this.lookSide(s, specs[s], signal)));
    const bySide: Partial<Record<Side, SideLook>> = Object.fromEntries(looked.map((l) => [l.side, l]));
    return { traffic: this.classify(raw, bySide), sides: { blue: bySide.blue ?? null, green: bySide.green ?? null }, atMs: this.#clock.now() };
  }

  /** The plan on a look: {@link planBlueGreen} with the tier's settings. */
  plan(look: TierLook, windowMs: number): BlueGreenPlan {
    const t = this.#r.traffic;
    const s = this.#r.settings;
    return planBlueGreen(
      this.#r.name,
      look.traffic,
      { blue: look.sides.blue?.facts ?? null, green: look.sides.green?.facts ?? null },
      {
        rollbackWindowMs: windowMs,
        healthyTimeoutMs: s.healthyTimeoutMs,
        keepFailedSide: s.keepFailedSide,
        dns: t.kind === 'dns' ? { recordName: t.recordName, ttl: t.ttl, propagationMs: s.dnsPropagationMs } : null,
      },
    );
  }
}
