import { changeQueueName, groupName } from '@berth/aws-driver';
import type { SimContext } from './sim-context.js';
import type {
  ScalingActivity,
  SimDnsChange,
  SimDnsRecord,
  SimEni,
  SimGroup,
  SimInstance,
  SimLaunchTemplate,
  SimSnapshot,
  SimVolume,
} from './world/entities.js';
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
export type ScalingActivityView = Readonly<ScalingActivity>;

/** The cluster's lease as the lock table holds it. */
export interface LeaseView {
  readonly clusterName: string;
  readonly holder: string;
  /** The controller instance holding it ('' for an item written before sessions). */
  readonly session: string;
  readonly token: number;
  readonly expiresAtMs: number;
}

export function sortedCounts(counts: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Read-only inspection of the simulated account and application. These are live objects:
 * read them, never change them (use `sim.faults` to disturb the world, `sim.aws` to call it).
 */
export class SimWorld {
  readonly #ctx: SimContext;
  readonly #lockTable: string;
  constructor(ctx: SimContext, lockTable: string) {
    this.#ctx = ctx;
    this.#lockTable = lockTable;
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
  /** Every volume: data volumes and the instances' root volumes. */
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

  /** The node's data volume (tagged `berth:volume=data`), not its instances' root volumes. */
  volumeOf(nodeId: string): VolumeView | null {
    return this.volumes.find((v) => v.tags['berth:node'] === nodeId && v.tags['berth:volume'] === 'data') ?? null;
  }

  eniOf(nodeId: string): EniView | null {
    return this.enis.find((e) => e.tags['berth:node'] === nodeId && !e.deleted) ?? null;
  }

  /** Records as ListResourceRecordSets returns them (names end with a dot). */
  dnsRecords(zoneId: string): readonly DnsRecordView[] {
    return this.#ctx.state.zones.has(zoneId.replace(/^\/?hostedzone\//, '')) ? this.#ctx.route53.listRecordSets(zoneId) : [];
  }

  /** What a resolver answers: changes count once they are INSYNC. */
  resolve(zoneId: string, name: string): readonly string[] | null {
    return this.#ctx.route53.resolve(zoneId, name);
  }

  /** The cluster's lease in the lock table, if any (expired ones included). */
  lock(clusterName: string): LeaseView | null {
    const item = this.#ctx.dynamodb.getItem(this.#lockTable, { lockKey: { S: `berth#${clusterName}` } });
    if (!item?.['holder']?.S) return null;
    return { clusterName, holder: item['holder'].S, session: item['session']?.S ?? '', token: Number(item['token']?.N ?? 0), expiresAtMs: Number(item['expiresAtMs']?.N ?? 0) };
  }

  /** The simulated application's state (same as `sim.app.status()`). */
  get app(): AppStatus {
    return this.#ctx.app.status();
  }

  /** API calls the instances' bootstraps made, by operation (the driver's are in `sim.driver.apiCallCounts()`). */
  get agentApiCalls(): Readonly<Record<string, number>> {
    return sortedCounts(this.#ctx.gateway.counts.instance);
  }

  /** Every API call that reached the simulated account as the controller's role (the driver's and `sim.aws`'s). */
  get controllerApiCalls(): Readonly<Record<string, number>> {
    return sortedCounts(this.#ctx.gateway.counts.controller);
  }

  /** IAM checks made and denied so far. */
  get iamStats(): Readonly<{ checks: number; denied: number }> {
    return { ...this.#ctx.iam.stats };
  }

  /** Tokens left in each API rate-limit bucket. */
  apiTokens(): Readonly<Record<string, number>> {
    return this.#ctx.gateway.bucketTokens();
  }

  /** Messages on the cluster's change queue (SQS), when it exists. */
  pendingChanges(clusterName: string): number {
    return this.#ctx.sqs.depth(changeQueueName(clusterName));
  }
}
