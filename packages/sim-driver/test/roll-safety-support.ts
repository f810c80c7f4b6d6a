// Support for roll-safety.test.ts (issue 9): a simulated cluster, ground-truth recorders (the
// application's members, the controller's terminations, the launch templates' revisions) and
// virtual-time races, so each test reads as its fault schedule and what must hold.
import {
  BerthError,
  computeRevision,
  createController,
  defineCluster,
  type ClusterInput,
  type ClusterSpec,
  type RollReport,
} from '@berth/core';
import { createSimulation, simulatedClusterInput, type Simulation, type SimulatedClusterOptions, type SimulationOptions } from '../src/index.js';

export const OLD_IMAGE = 'ami-0123456789abcdef0';
export const NEW_IMAGE = 'ami-0fedcba9876543210';
export const SEC = 1_000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;

export interface Cluster {
  readonly sim: Simulation;
  readonly input: ClusterInput;
  /** The cluster as provisioned (old image). */
  readonly spec: ClusterSpec;
  /** The same cluster on {@link NEW_IMAGE}: what the roll rolls to. */
  readonly next: ClusterSpec;
}

export function cluster(sim: SimulationOptions, options: SimulatedClusterOptions = {}): Cluster {
  const s = createSimulation({ profile: 'fast', ...sim });
  const input = simulatedClusterInput({ nodes: 5, ...options, image: OLD_IMAGE });
  return { sim: s, input, spec: defineCluster(input), next: defineCluster({ ...input, image: NEW_IMAGE }) };
}

/** Provisions the cluster and waits until every node is in service and the application healthy. */
export async function provision(sim: Simulation, spec: ClusterSpec): Promise<void> {
  const c = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'provisioner' });
  await c.apply();
  while (!(await c.status()).converged || !sim.app.clusterHealthy()) await sim.clock.sleep(1_000);
}

/** Calls `fn` `ms` from now (virtual time), in the background: a fault placed in a schedule. */
export function later(sim: Simulation, ms: number, fn: () => void): void {
  void sim.clock.sleep(ms).then(fn);
}

export function healthyMembers(sim: Simulation): string[] {
  return sim.app.status().members.filter((m) => m.healthy).map((m) => m.nodeId);
}

/**
 * Healthy members the application can spare: healthy, not its leader, not in `exclude`, by node
 * id. Killing or cutting off one of them tests the controller's view, not the application's
 * elections.
 */
export function spareFollowers(sim: Simulation, exclude: readonly string[] = []): string[] {
  const leader = sim.app.leaderId();
  return healthyMembers(sim)
    .filter((id) => id !== leader && !exclude.includes(id))
    .sort();
}

export interface HealthRecord {
  /** Fewest healthy members seen, when, and who was not healthy then. */
  readonly lowest: { readonly healthy: number; readonly atMs: number; readonly notHealthy: readonly string[] };
  /** Virtual time spent with fewer than `quorum` healthy members. */
  readonly belowQuorumMs: number;
  readonly quorum: number;
  readonly size: number;
  readonly startedAtMs: number;
}

/**
 * From now on, counts the application's healthy members after every state change of the world
 * (the trace): the ground truth a roll must keep at or above quorum.
 */
export function recordHealth(sim: Simulation): { read(): HealthRecord; stop(): void } {
  const startedAtMs = sim.clock.now();
  const first = sim.app.status();
  const quorum = first.quorumSize;
  const size = first.members.length;
  let lowest = { healthy: Infinity, atMs: startedAtMs, notHealthy: [] as string[] };
  let belowSince: number | null = null;
  let belowQuorumMs = 0;
  const sample = (): void => {
    const members = sim.app.status().members;
    const healthy = members.filter((m) => m.healthy).length;
    const now = sim.clock.now();
    if (healthy < lowest.healthy) lowest = { healthy, atMs: now, notHealthy: members.filter((m) => !m.healthy).map((m) => m.nodeId) };
    if (healthy < quorum && belowSince === null) belowSince = now;
    if (healthy >= quorum && belowSince !== null) {
      belowQuorumMs += now - belowSince;
      belowSince = null;
    }
  };
  sample();
  const off = sim.onTrace(sample);
  return {
    read: () => ({ lowest, belowQuorumMs: belowQuorumMs + (belowSince === null ? 0 : sim.clock.now() - belowSince), quorum, size, startedAtMs }),
    stop: off,
  };
}

/** One line for an assertion message: how low the application went. */
export function describeHealth(h: HealthRecord): string {
  const at = Math.round((h.lowest.atMs - h.startedAtMs) / 1000);
  return (
    `the application fell to ${h.lowest.healthy} healthy member(s) of ${h.size} (quorum ${h.quorum}) at +${at} s ` +
    `(not healthy: ${h.lowest.notHealthy.join(', ') || 'none'}), below quorum for ${Math.round(h.belowQuorumMs / 1000)} s in all`
  );
}

export interface Termination {
  readonly atMs: number;
  readonly instanceId: string;
  readonly nodeId: string | null;
}

/** Every instance the controller's role terminated (successful TerminateInstanceInAutoScalingGroup calls). */
export function recordTerminations(sim: Simulation): Termination[] {
  const out: Termination[] = [];
  sim.onApiCall((call) => {
    if (call.operation !== 'TerminateInstanceInAutoScalingGroup' || call.callerKind !== 'controller' || call.errorCode !== null) return;
    const instanceId = String(call.input['InstanceId']);
    out.push({ atMs: call.answeredAtMs, instanceId, nodeId: sim.world.instance(instanceId)?.nodeId ?? null });
  });
  return out;
}

/** The revision the node's Auto Scaling group launches now (from its launch template's name). */
export function groupRevision(sim: Simulation, spec: ClusterSpec, nodeId: string): string | null {
  const group = sim.world.group(spec.name, nodeId);
  if (!group) return null;
  const template = sim.world.launchTemplates.find((t) => t.id === group.launchTemplate.id);
  return /r-[0-9a-f]{16}/.exec(template?.name ?? group.launchTemplate.name)?.[0] ?? null;
}

/** Nodes whose current instance does not run `spec`'s revision, InService. */
export function notOn(sim: Simulation, spec: ClusterSpec): string[] {
  return spec.nodes
    .filter((n) => {
      const i = sim.world.currentInstance(n.id);
      return !i || i.lifecycleState !== 'InService' || i.tags['berth:revision'] !== computeRevision(spec, n.id);
    })
    .map((n) => n.id);
}

export function azOf(spec: ClusterSpec, nodeId: string): string {
  const node = spec.nodes.find((n) => n.id === nodeId);
  return spec.subnets.find((s) => s.id === node?.subnetId)?.az ?? `?${nodeId}`;
}

export type Outcome<T> =
  | { readonly state: 'fulfilled'; readonly value: T; readonly atMs: number }
  | { readonly state: 'rejected'; readonly error: unknown; readonly atMs: number }
  | { readonly state: 'pending'; readonly sinceMs: number };

/**
 * Waits (virtual time) until `promise` settles or `ms` pass, whichever first, and says which.
 * A roll that hangs shows as `pending` instead of hanging the test.
 */
export async function within<T>(sim: Simulation, promise: Promise<T>, ms: number): Promise<Outcome<T>> {
  const sinceMs = sim.clock.now();
  let outcome: Outcome<T> = { state: 'pending', sinceMs };
  const settled = promise.then(
    (value) => void (outcome = { state: 'fulfilled', value, atMs: sim.clock.now() }),
    (error: unknown) => void (outcome = { state: 'rejected', error, atMs: sim.clock.now() }),
  );
  const timer = new AbortController();
  await Promise.race([settled, sim.clock.sleep(ms, timer.signal).catch(() => undefined)]);
  timer.abort();
  return outcome;
}

/** One line: `completed`, `halted (<code>): <message>`, `still running after N s`. */
export function describeOutcome(o: Outcome<RollReport | unknown>, now?: number): string {
  if (o.state === 'pending') return `still running after ${now === undefined ? '?' : Math.round((now - o.sinceMs) / 1000)} s`;
  if (o.state === 'fulfilled') {
    const report = o.value as Partial<RollReport> | undefined;
    return report && typeof report === 'object' && 'outcome' in report ? String(report.outcome) : 'fulfilled';
  }
  const e = o.error;
  if (e instanceof BerthError) return `${e.name} ${e.code}: ${e.message}`;
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** The error's code, or the code of its cause (a halt caused by a hook error). */
export function causeCode(e: unknown): string | null {
  const cause = e instanceof Error ? e.cause : undefined;
  return cause instanceof BerthError ? cause.code : null;
}
