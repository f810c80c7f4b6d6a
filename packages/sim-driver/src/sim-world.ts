import type { SimContext } from './sim-context.js';
import type {
  ScalingActivity,
  SimDnsChange,
  SimDnsRecord,
  SimEni,
  SimGroup,
  SimInstance,
  SimLaunchTemplate,
  SimLease,
  SimSnapshot,
  SimVolume,
} from './world/entities.js';
import { groupName } from './sim-driver.js';
import { sortedCounts } from './sim-driver.js';
import type { AppStatus } from './app.js';

type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends Set<infer U>
    ? ReadonlySet<U>
    : T extends Map<infer K, infer V>
      ? ReadonlyMap<K, DeepReadonly<V>>
      : T extends object
        ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
        : T;

export type InstanceView = DeepReadonly<Omit<SimInstance, 'hookTimeoutEv'>>;
export type GroupView = DeepReadonly<Omit<SimGroup, 'launchEv'>>;
export type VolumeView = DeepReadonly<Omit<SimVolume, 'attachEv'>>;
export type EniView = DeepReadonly<SimEni>;
export type SnapshotView = DeepReadonly<SimSnapshot>;
export type LaunchTemplateView = DeepReadonly<SimLaunchTemplate>;
export type DnsRecordView = DeepReadonly<SimDnsRecord>;
export type DnsChangeView = DeepReadonly<SimDnsChange>;
export type LeaseView = Readonly<SimLease>;
export type ScalingActivityView = Readonly<ScalingActivity>;

/**
 * Read-only inspection of the simulated account and application. These are live objects:
 * read them, never change them (use `sim.faults` to disturb the world).
 */
export class SimWorld {
  readonly #ctx: SimContext;
  constructor(ctx: SimContext) {
    this.#ctx = ctx;
  }

  /** Virtual epoch time now. */
  get nowMs(): number {
    return this.#ctx.scheduler.nowMs;
  }
  /** Virtual milliseconds since the simulation started. */
  get elapsedMs(): number {
    return this.#ctx.scheduler.elapsedMs;
  }
  /** Events fired so far (world processes and waits). */
  get eventsFired(): number {
    return this.#ctx.scheduler.eventsFired;
  }

  /** Every instance EC2 still knows, including terminated ones (about an hour). */
  get instances(): readonly InstanceView[] {
    return [...this.#ctx.state.instances.values()];
  }
  get groups(): readonly GroupView[] {
    return [...this.#ctx.state.groups.values()];
  }
  get volumes(): readonly VolumeView[] {
    return [...this.#ctx.state.volumes.values()];
  }
  get enis(): readonly EniView[] {
    return [...this.#ctx.state.enis.values()];
  }
  get snapshots(): readonly SnapshotView[] {
    return [...this.#ctx.state.snapshots.values()];
  }
  get launchTemplates(): readonly LaunchTemplateView[] {
    return [...this.#ctx.state.launchTemplates.values()];
  }
  get dnsChanges(): readonly DnsChangeView[] {
    return [...this.#ctx.state.dnsChanges.values()];
  }

  instance(instanceId: string): InstanceView | null {
    return this.#ctx.state.instances.get(instanceId) ?? null;
  }

  /** The node's instances, newest first. */
  instancesOf(nodeId: string): readonly InstanceView[] {
    return this.instances.filter((i) => i.nodeId === nodeId).sort((a, b) => b.launchedAtMs - a.launchedAtMs);
  }

  /** The node's newest instance that is not shutting down or terminated. */
  currentInstance(nodeId: string): InstanceView | null {
    return this.instancesOf(nodeId).find((i) => i.ec2State === 'pending' || i.ec2State === 'running') ?? null;
  }

  group(clusterName: string, nodeId: string): GroupView | null {
    return this.#ctx.state.groups.get(groupName(clusterName, nodeId)) ?? null;
  }

  volumeOf(nodeId: string): VolumeView | null {
    return this.volumes.find((v) => v.tags['berth:node'] === nodeId) ?? null;
  }

  eniOf(nodeId: string): EniView | null {
    return this.enis.find((e) => e.tags['berth:node'] === nodeId && !e.deleted) ?? null;
  }

  /** Records as ListResourceRecordSets returns them (names end with a dot). */
  dnsRecords(zoneId: string): readonly DnsRecordView[] {
    return this.#ctx.route53.listRecordSets(zoneId);
  }

  /** What a resolver answers: changes count once they are INSYNC. */
  resolve(zoneId: string, name: string): readonly string[] | null {
    return this.#ctx.route53.resolve(zoneId, name);
  }

  lock(clusterName: string): LeaseView | null {
    return this.#ctx.state.locks.get(clusterName) ?? null;
  }

  /** The simulated application's state (same as `sim.app.status()`). */
  get app(): AppStatus {
    return this.#ctx.app.status();
  }

  /** API calls made by the instances' bootstraps, by operation (not in `driver.apiCallCounts()`). */
  get agentApiCalls(): Readonly<Record<string, number>> {
    return sortedCounts(this.#ctx.api.agentCounts);
  }

  /** Tokens left in each API rate-limit bucket. */
  apiTokens(): Readonly<Record<string, number>> {
    return this.#ctx.api.bucketTokens();
  }

  /** Pending messages on the cluster's change queue. */
  pendingChanges(clusterName: string): number {
    return this.#ctx.changes.pending(clusterName);
  }
}
