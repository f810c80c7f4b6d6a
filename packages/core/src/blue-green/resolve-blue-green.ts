import { BerthConfigError, dedupeIssues, type ConfigIssue } from '../errors.js';
import { nodeRecordName, type ClusterSpec } from '../spec/cluster-spec.js';
import { defineCluster } from '../spec/define-cluster.js';
import type { ClusterInput } from '../spec/schema.js';
import { SIDES, type BlueGreenOptions, type DeployOptions, type Side } from './blue-green-types.js';

export type ResolvedTraffic =
  | { readonly kind: 'dns'; readonly hostedZoneId: string; readonly recordName: string; readonly ttl: number }
  | { readonly kind: 'target-groups'; readonly targetGroupArns: readonly string[] };

export interface BlueGreenSettings {
  readonly rollbackWindowMs: number;
  readonly lockTtlMs: number;
  readonly pollIntervalMs: number;
  readonly healthyTimeoutMs: number;
  readonly registerTimeoutMs: number;
  readonly dnsPropagationMs: number;
  readonly hookTimeoutMs: number;
  readonly tolerateUnhealthyNodes: number;
  readonly keepFailedSide: boolean;
}

/** A tier's validated configuration: both sides' specs and the traffic's own spec. */
export interface ResolvedBlueGreen {
  readonly name: string;
  readonly inputs: Readonly<Record<Side, ClusterInput>>;
  readonly specs: Readonly<Record<Side, ClusterSpec>>;
  /**
   * A cluster spec with no nodes, named after the tier: its lock is the tier's lease, its
   * `dns.clusterRecord` the traffic record, its `loadBalancer` the traffic's target groups.
   */
  readonly trafficSpec: ClusterSpec;
  readonly traffic: ResolvedTraffic;
  readonly settings: BlueGreenSettings;
}

const SUBJECT = 'blue/green tier';

export function normalizeName(name: string): string {
  return (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
}

/** Validates everything that can be checked without a cloud call; throws one error listing every problem. */
export function resolveBlueGreen(options: BlueGreenOptions): ResolvedBlueGreen {
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  const o = options as Partial<BlueGreenOptions>;

  if (typeof o.name !== 'string') add('name', 'is required: the tier\'s name (e.g. web); its lease is the lock of this name');
  const specs: Partial<Record<Side, ClusterSpec>> = {};
  for (const side of SIDES) {
    const input = o[side];
    if (!input || typeof input !== 'object') {
      add(side, `is required: the ${side} side's cluster input (the tier with its own name, node ids and IPs, e.g. web-${side})`);
      continue;
    }
    const spec = tryDefine(input, side, issues);
    if (spec) specs[side] = spec;
  }
  const traffic = resolveTraffic(o.traffic, add);
  const windowMs = o.rollbackWindowMs;
  if (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs < 0) {
    add('rollbackWindowMs', 'is required: how long (ms, ≥ 0) the old side is kept after traffic moved, e.g. 3_600_000 for an hour');
  }
  const settings = resolveSettings(o, add);
  if (specs.blue && specs.green) issues.push(...pairIssues(specs.blue, specs.green, o.name, traffic));

  let trafficSpec: ClusterSpec | null = null;
  if (specs.blue && traffic && typeof o.name === 'string') trafficSpec = defineTrafficSpec(o.name, o.blue as ClusterInput, traffic, issues);

  if (issues.length > 0 || !specs.blue || !specs.green || !traffic || !trafficSpec) throw new BerthConfigError(dedupeIssues(issues), SUBJECT);
  return Object.freeze({
    name: o.name as string,
    inputs: Object.freeze({ blue: o.blue as ClusterInput, green: o.green as ClusterInput }),
    specs: Object.freeze({ blue: specs.blue, green: specs.green }),
    trafficSpec,
    traffic,
    settings: Object.freeze({ ...settings, rollbackWindowMs: windowMs as number }),
  });
}

/**
 * Both sides' specs on the deploy's revision (the target is known only once the cloud says
 * which side is live, so both are built and checked before any call).
 */
export function deploySpecs(r: ResolvedBlueGreen, deploy: DeployOptions): Readonly<Record<Side, ClusterSpec>> {
  const issues: ConfigIssue[] = [];
  const out: Partial<Record<Side, ClusterSpec>> = {};
  if (deploy.image !== undefined && typeof deploy.image !== 'string') issues.push({ path: 'deploy.image', message: 'must be an AMI id like ami-0123456789abcdef0' });
  if (deploy.rollbackWindowMs !== undefined && !(Number.isFinite(deploy.rollbackWindowMs) && deploy.rollbackWindowMs >= 0)) {
    issues.push({ path: 'deploy.rollbackWindowMs', message: 'must be a number of ms ≥ 0' });
  }
  for (const side of SIDES) {
    const base = r.inputs[side];
    let input: ClusterInput = deploy.image === undefined ? base : { ...base, image: deploy.image, nodes: base.nodes.map(({ image: _image, ...n }) => n) };
    if (deploy.change) {
      try {
        input = deploy.change(input, side);
      } catch (err) {
        issues.push({ path: 'deploy.change', message: `threw for the ${side} side: ${err instanceof Error ? err.message : String(err)}` });
        continue;
      }
    }
    const spec = tryDefine(input, side, issues, 'deploy.');
    if (!spec) continue;
    const was = r.specs[side];
    const identity = (s: ClusterSpec) => JSON.stringify([s.name, s.region, s.nodes.map((n) => [n.id, n.ip, n.subnetId])]);
    if (identity(spec) !== identity(was)) {
      issues.push({ path: 'deploy.change', message: `changed the ${side} side's name, region or nodes (ids, IPs, subnets): they are the side's identity; change them in the tier's options, not in a deploy` });
      continue;
    }
    out[side] = spec;
  }
  for (const side of SIDES) {
    const a = out[side];
    if (a) issues.push(...pairIssues(side === 'blue' ? a : r.specs.blue, side === 'green' ? a : r.specs.green, r.name, r.traffic).map((i) => ({ ...i, path: `deploy.${i.path}` })));
  }
  if (issues.length > 0 || !out.blue || !out.green) throw new BerthConfigError(dedupeIssues(issues), 'deploy');
  return Object.freeze({ blue: out.blue, green: out.green });
}

function tryDefine(input: ClusterInput, side: Side, issues: ConfigIssue[], prefix = ''): ClusterSpec | null {
  try {
    return defineCluster(input);
  } catch (err) {
    if (!(err instanceof BerthConfigError)) throw err;
    for (const i of err.issues) issues.push({ path: `${prefix}${side}${i.path ? `.${i.path}` : ''}`, message: i.message });
    return null;
  }
}

function resolveTraffic(traffic: BlueGreenOptions['traffic'] | undefined, add: (path: string, message: string) => void): ResolvedTraffic | null {
  const how = 'give { targetGroupArns: [...] } (a persistent load balancer) or { dns: { hostedZoneId, recordName, ttl } } (a DNS cutover)';
  if (!traffic || typeof traffic !== 'object') {
    add('traffic', `is required: how clients reach the tier; ${how}`);
    return null;
  }
  const t = traffic as { targetGroupArns?: unknown; dns?: unknown };
  if (t.targetGroupArns !== undefined && t.dns !== undefined) {
    add('traffic', `has both targetGroupArns and dns; one tier shifts traffic one way: ${how}`);
    return null;
  }
  if (t.targetGroupArns !== undefined) {
    if (!Array.isArray(t.targetGroupArns) || t.targetGroupArns.length === 0 || !t.targetGroupArns.every((a) => typeof a === 'string')) {
      add('traffic.targetGroupArns', 'must list at least one target group ARN');
      return null;
    }
    if (new Set(t.targetGroupArns).size !== t.targetGroupArns.length) add('traffic.targetGroupArns', 'lists a target group twice');
    return { kind: 'target-groups', targetGroupArns: Object.freeze([...(t.targetGroupArns as string[])]) };
  }
  if (t.dns !== undefined) {
    const d = t.dns as Partial<{ hostedZoneId: unknown; recordName: unknown; ttl: unknown }>;
    if (!d || typeof d !== 'object') {
      add('traffic.dns', 'must be { hostedZoneId, recordName, ttl }');
      return null;
    }
    if (typeof d.hostedZoneId !== 'string') add('traffic.dns.hostedZoneId', 'is required: the Route 53 hosted zone id of the record');
    if (typeof d.recordName !== 'string') add('traffic.dns.recordName', 'is required: the name clients resolve, e.g. web.example.com');
    if (d.ttl !== undefined && !(typeof d.ttl === 'number' && Number.isInteger(d.ttl) && d.ttl >= 0)) add('traffic.dns.ttl', 'must be a whole number of seconds ≥ 0');
    if (typeof d.hostedZoneId !== 'string' || typeof d.recordName !== 'string') return null;
    return { kind: 'dns', hostedZoneId: d.hostedZoneId, recordName: normalizeName(d.recordName), ttl: typeof d.ttl === 'number' ? d.ttl : 60 };
  }
  add('traffic', `names no target groups and no DNS record; ${how}`);
  return null;
}

function resolveSettings(o: Partial<BlueGreenOptions>, add: (path: string, message: string) => void): Omit<BlueGreenSettings, 'rollbackWindowMs'> {
  const ms = (key: keyof BlueGreenOptions, fallback: number, min = 0): number => {
    const v = o[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
      add(key, `must be a number of ms ≥ ${min}`);
      return fallback;
    }
    return v;
  };
  const tolerate = o.tolerateUnhealthyNodes ?? 0;
  if (!Number.isInteger(tolerate) || tolerate < 0) add('tolerateUnhealthyNodes', 'must be a whole number ≥ 0');
  return {
    lockTtlMs: ms('lockTtlMs', 600_000, 1_000),
    pollIntervalMs: ms('pollIntervalMs', 10_000, 1),
    healthyTimeoutMs: ms('healthyTimeoutMs', 1_800_000),
    registerTimeoutMs: ms('registerTimeoutMs', 600_000),
    dnsPropagationMs: ms('dnsPropagationMs', 60_000),
    hookTimeoutMs: ms('hookTimeoutMs', 60_000, 1),
    tolerateUnhealthyNodes: tolerate,
    keepFailedSide: o.keepFailedSide ?? false,
  };
}

/** The rules between the two sides and the traffic. */
function pairIssues(blue: ClusterSpec, green: ClusterSpec, tier: unknown, traffic: ResolvedTraffic | null): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  if (blue.name === green.name) add('green.name', `is '${green.name}', the blue side's name too; each side is its own cluster (e.g. ${green.name}-green)`);
  if (typeof tier === 'string' && (tier === blue.name || tier === green.name)) {
    add('name', `'${tier}' is also a side's cluster name; the tier's lease needs a name of its own (e.g. the sides' common prefix)`);
  }
  if (blue.region !== green.region) add('green.region', `is ${green.region}, the blue side is in ${blue.region}; both sides serve one tier in one region`);
  const blueIds = new Map(blue.nodes.map((n) => [n.id, n]));
  const blueIps = new Map(blue.nodes.map((n) => [n.ip, n]));
  green.nodes.forEach((n, i) => {
    if (blueIds.has(n.id)) add(`green.nodes[${i}].id`, `node id '${n.id}' is a blue node too; the sides need their own node ids (e.g. ${green.name}-${i + 1})`);
    const other = blueIps.get(n.ip);
    if (other) add(`green.nodes[${i}].ip`, `IP ${n.ip} is blue node ${other.id}'s too; both sides exist at once during a deploy, so each needs its own IPs`);
  });
  for (const [side, spec] of [['blue', blue], ['green', green]] as const) {
    if (spec.dataVolume.deletionPolicy === 'retain') {
      add(
        `${side}.dataVolume.deletionPolicy`,
        "is 'retain' (the default): blue/green deletes the old side after every rollback window, and a retained volume would be left behind and attached again, with its data, the next time the side is created. Blue/green is for stateless tiers: set deletionPolicy to 'delete' (or 'snapshot' to keep a copy)",
      );
    }
    if (traffic?.kind === 'target-groups' && spec.loadBalancer) {
      const shared = spec.loadBalancer.targetGroupArns.filter((a) => traffic.targetGroupArns.includes(a));
      if (shared.length > 0) add(`${side}.loadBalancer.targetGroupArns`, `names the tier's traffic target group ${shared[0]}: blue/green registers the live side there; a side's own rolls would register the idle side too. Remove loadBalancer from the side`);
    }
    if (traffic?.kind === 'dns' && spec.dns) {
      const names = [spec.dns.clusterRecord, ...spec.nodes.map((n) => nodeRecordName(spec.dns!, n.id))].map(normalizeName);
      if (names.includes(traffic.recordName)) {
        add('traffic.dns.recordName', `'${traffic.recordName}' is also a record of the ${side} side (its cluster or node record), which apply() sets to that side's IPs; use a name of its own`);
      }
    }
  }
  return issues;
}

/** The traffic's own spec: no nodes; the tier's name (its lease), record and target groups. */
function defineTrafficSpec(name: string, blue: ClusterInput, traffic: ResolvedTraffic, issues: ConfigIssue[]): ClusterSpec | null {
  const { dns: _dns, loadBalancer: _lb, ...rest } = blue;
  const input: ClusterInput = {
    ...rest,
    name,
    nodes: [],
    quorum: { allowUnsafeSize: true },
    ...(traffic.kind === 'dns'
      ? { dns: { hostedZoneId: traffic.hostedZoneId, clusterRecord: traffic.recordName, nodeRecordTemplate: `{node}.${traffic.recordName}`, ttl: traffic.ttl } }
      : { loadBalancer: { targetGroupArns: [...traffic.targetGroupArns] } }),
  };
  try {
    return defineCluster(input);
  } catch (err) {
    if (!(err instanceof BerthConfigError)) throw err;
    const map: Record<string, string> = {
      'dns.clusterRecord': 'traffic.dns.recordName',
      'dns.hostedZoneId': 'traffic.dns.hostedZoneId',
      'dns.ttl': 'traffic.dns.ttl',
      name: 'name',
    };
    for (const i of err.issues) {
      const path = map[i.path] ?? (i.path.startsWith('loadBalancer.') ? `traffic.${i.path.slice('loadBalancer.'.length)}` : null);
      if (path) issues.push({ path, message: i.message });
    }
    return null;
  }
}

