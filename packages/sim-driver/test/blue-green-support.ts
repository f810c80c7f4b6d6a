// Support for the blue/green simulator tests: a stateless tier of two 3-node sides (web-blue,
// web-green, own node ids and IPs, data volumes deleted with the side) behind a DNS record or
// target groups, and ground-truth readers (the record as resolvers see it, the world's instances).
import { createBlueGreen, type BlueGreen, type BlueGreenEvents, type BlueGreenOptions, type ClusterInput, type Driver } from '@berth/core';
import { createSimulation, simulatedClusterInput, type Simulation, type SimulationOptions } from '../src/index.js';

export const OLD_IMAGE = 'ami-0123456789abcdef0';
export const NEW_IMAGE = 'ami-0fedcba9876543210';
export const SEC = 1_000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;
export const ZONE = 'Z0123456789ABCDEFGHIJ';
export const RECORD = 'web.example.com';

/** One side: 3 nodes over 3 AZs; green's IPs are blue's + 10 in each subnet. */
export function sideInput(side: 'blue' | 'green', image = OLD_IMAGE, options: { dns?: boolean } = {}): ClusterInput {
  const plain = simulatedClusterInput({ nodes: 3, name: `web-${side}`, image, dns: false, deletionPolicy: 'delete', dataVolumeSizeGiB: 8 });
  // Side records in the tier's zone: web-blue.example.com and web-blue-1.example.com...
  const input = options.dns ? { ...plain, dns: { hostedZoneId: ZONE, clusterRecord: `web-${side}.example.com`, nodeRecordTemplate: '{node}.example.com', ttl: 60 } } : plain;
  if (side === 'blue') return input;
  return { ...input, nodes: input.nodes.map((n) => ({ ...n, ip: n.ip.replace(/\.(\d+)$/, (_, h: string) => `.${Number(h) + 10}`) })) };
}

export function tier(sim: Simulation, options: Partial<BlueGreenOptions> & { driver?: Driver } = {}): BlueGreen {
  return createBlueGreen({
    name: 'web',
    driver: sim.driver,
    clock: sim.clock,
    blue: sideInput('blue'),
    green: sideInput('green'),
    traffic: { dns: { hostedZoneId: ZONE, recordName: RECORD, ttl: 60 } },
    rollbackWindowMs: 30 * MIN,
    holderId: 'deployer',
    ...options,
  });
}

export function dnsSim(options: SimulationOptions = {}): Simulation {
  return createSimulation({ seed: 1, profile: 'fast', ...options });
}

/** What a resolver answers for the tier's record (changes count once INSYNC). */
export function resolved(sim: Simulation): string[] {
  return [...(sim.world.resolve(ZONE, RECORD) ?? [])].sort();
}

export function ipsOf(side: 'blue' | 'green'): string[] {
  return sideInput(side).nodes.map((n) => n.ip).sort();
}

/** The side's running instances, by node. */
export function running(sim: Simulation, side: 'blue' | 'green'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const i of sim.world.instances) {
    if (i.clusterName !== `web-${side}` || !i.nodeId) continue;
    if (i.ec2State === 'pending' || i.ec2State === 'running') out[i.nodeId] = i.id;
  }
  return out;
}

/** How many instances each node of the side launched. */
export function launchesPerNode(sim: Simulation, side: 'blue' | 'green'): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of sim.world.instances) if (i.clusterName === `web-${side}` && i.nodeId) out[i.nodeId] = (out[i.nodeId] ?? 0) + 1;
  return out;
}

/** Every instance the side launched (terminated ones only while EC2 still lists them). */
export function launched(sim: Simulation, side: 'blue' | 'green'): string[] {
  return sim.world.instances.filter((i) => i.clusterName === `web-${side}`).map((i) => i.id);
}

/** Anything of the side left in the account: groups, ENIs, data volumes. */
export function leftovers(sim: Simulation, side: 'blue' | 'green'): string[] {
  const name = `web-${side}`;
  return [
    ...sim.world.groups.filter((g) => g.tags.get('berth:cluster')?.value === name).map((g) => g.name),
    ...sim.world.enis.filter((e) => e.tags['berth:cluster'] === name && !e.deleted).map((e) => e.id),
    ...sim.world.volumes.filter((v) => v.tags['berth:cluster'] === name && v.tags['berth:volume'] === 'data' && v.state !== 'deleted').map((v) => v.id),
  ];
}

/** Every event of the tier, in order, as `name` or `name:detail`. */
export function recordEvents(bg: BlueGreen): { names: string[]; at: Partial<Record<keyof BlueGreenEvents, number>> } {
  const out = { names: [] as string[], at: {} as Partial<Record<keyof BlueGreenEvents, number>> };
  const names: (keyof BlueGreenEvents)[] = [
    'deploy.started', 'side.applying', 'side.healthy', 'side.verified', 'side.rejected', 'side.deleting', 'side.deleted', 'traffic.shifting',
    'traffic.dns', 'traffic.registered', 'traffic.deregistering', 'traffic.shifted', 'traffic.shifted-back', 'window.started', 'window.failed',
    'window.ended', 'deploy.completed', 'deploy.rolled-back', 'deploy.failed',
  ];
  for (const n of names) {
    bg.on(n, (e: { atMs: number; side?: string; to?: string; why?: string; stage?: string }) => {
      const detail = e.side ?? e.to ?? '';
      out.names.push(detail ? `${n}:${detail}` : n);
      out.at[n] ??= e.atMs;
    });
  }
  return out;
}

/** A driver whose process dies once `dead()` says so: every call fails, no lease is released. */
export function crashable(driver: Driver, dead: () => boolean): Driver {
  const fail = async (): Promise<never> => {
    throw new Error('deployer process died');
  };
  const wrap = <F extends (...args: never[]) => Promise<unknown>>(f: F): F => ((...args: never[]) => (dead() ? fail() : f(...args))) as F;
  const bind = <K extends keyof Driver>(k: K) => {
    const f = driver[k];
    return typeof f === 'function' ? wrap((f as (...a: never[]) => Promise<unknown>).bind(driver)) : undefined;
  };
  return {
    name: driver.name,
    capabilities: driver.capabilities,
    observe: bind('observe') as Driver['observe'],
    ensureNode: bind('ensureNode') as Driver['ensureNode'],
    replaceInstance: bind('replaceInstance') as Driver['replaceInstance'],
    completeLifecycle: bind('completeLifecycle') as Driver['completeLifecycle'],
    setDns: bind('setDns') as Driver['setDns'],
    snapshotVolume: bind('snapshotVolume') as Driver['snapshotVolume'],
    modifyVolume: bind('modifyVolume') as Driver['modifyVolume'],
    ...(driver.volumeModifications && { volumeModifications: bind('volumeModifications') as Driver['volumeModifications'] }),
    deleteNode: bind('deleteNode') as Driver['deleteNode'],
    ...(driver.describeTargetGroups && { describeTargetGroups: bind('describeTargetGroups') as Driver['describeTargetGroups'] }),
    ...(driver.registerTargets && { registerTargets: bind('registerTargets') as Driver['registerTargets'] }),
    ...(driver.deregisterTargets && { deregisterTargets: bind('deregisterTargets') as Driver['deregisterTargets'] }),
    ...(driver.apiCallCounts && { apiCallCounts: driver.apiCallCounts.bind(driver) }),
    lock: {
      acquire: wrap(driver.lock.acquire.bind(driver.lock)),
      renew: wrap(driver.lock.renew.bind(driver.lock)),
      release: wrap(driver.lock.release.bind(driver.lock)),
      inspect: wrap(driver.lock.inspect.bind(driver.lock)),
    },
  };
}
