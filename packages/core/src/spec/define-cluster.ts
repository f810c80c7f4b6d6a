import type { z } from 'zod';
import { BerthConfigError, type ConfigIssue } from '../errors.js';
import type { ClusterSpec, DataVolumeSpec, NodeSpec } from './cluster-spec.js';
import { parseCidr, parseIpv4, reservedReason } from './ipv4.js';
import { clusterInputSchema, type ClusterInput, type ParsedClusterInput } from './schema.js';
import { volumeProblems, type VolumeType } from './volume-limits.js';

/**
 * Validates a cluster description and returns it resolved (defaults and per-node overrides
 * applied) and deeply frozen. Throws a {@link BerthConfigError} that lists every problem at
 * once, each with its path and what to do. Makes no cloud call.
 *
 * @example
 * ```ts
 * const spec = defineCluster({
 *   name: 'kafka', region: 'eu-west-1',
 *   subnets: [{ id: 'subnet-0a1b2c3d', az: 'eu-west-1a', cidr: '10.0.1.0/24' }, ...],
 *   nodes: [{ id: 'kafka-1', ip: '10.0.1.10', subnetId: 'subnet-0a1b2c3d' }, ...],
 *   image: 'ami-0123456789abcdef0', instanceType: 'm6i.large',
 *   securityGroupIds: ['sg-0123456789abcdef0'],
 *   dataVolume: { sizeGiB: 500, type: 'gp3', mountPath: '/var/lib/kafka' },
 * });
 * ```
 */
export function defineCluster(input: ClusterInput): ClusterSpec {
  const parsed = clusterInputSchema.safeParse(input);
  const issues: ConfigIssue[] = [];
  if (!parsed.success) issues.push(...parsed.error.issues.map(toConfigIssue));
  // A field whose shape is already wrong gets one message, not two.
  const shapePaths = new Set(issues.map((i) => i.path));
  issues.push(...semanticIssues(input as unknown).filter((i) => !shapePaths.has(i.path)));
  if (issues.length > 0 || !parsed.success) throw new BerthConfigError(dedupe(issues));
  return deepFreeze(resolve(parsed.data));
}

function toConfigIssue(issue: z.core.$ZodIssue): ConfigIssue {
  const path = formatPath(issue.path);
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}: check the spelling (fields are listed in the ClusterInput type)`;
  } else if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
    message = `is required (${issue.expected})`;
  }
  return { path, message };
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\u0000${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

// Cross-field rules, run on the raw input with defensive reads so that shape problems and
// these are reported together.
type Loose = Record<string, unknown>;
const obj = (v: unknown): Loose | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : null);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function semanticIssues(raw: unknown): ConfigIssue[] {
  const root = obj(raw);
  if (!root) return [];
  const issues: ConfigIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });

  // Subnets.
  const subnets = new Map<string, { az: string | null; cidr: ReturnType<typeof parseCidr> }>();
  arr(root.subnets).forEach((s, i) => {
    const so = obj(s);
    const id = str(so?.id);
    const cidrText = str(so?.cidr);
    const cidr = cidrText === null ? null : parseCidr(cidrText);
    if (cidrText !== null && cidr === null) add(`subnets[${i}].cidr`, `'${cidrText}' is not an IPv4 CIDR block like 10.0.1.0/24 (the base address must be aligned to the prefix)`);
    else if (cidr && (cidr.prefix < 16 || cidr.prefix > 28)) add(`subnets[${i}].cidr`, `AWS subnets are /16 to /28; got /${cidr.prefix}`);
    if (id !== null) {
      if (subnets.has(id)) add(`subnets[${i}].id`, `subnet ${id} is listed twice; list each subnet once`);
      subnets.set(id, { az: str(so?.az), cidr });
    }
  });

  // Nodes.
  const nodes = arr(root.nodes);
  const allowUnsafe = obj(root.quorum)?.allowUnsafeSize === true;
  if (Array.isArray(root.nodes) && !allowUnsafe) {
    if (nodes.length < 3) add('nodes', `a quorum cluster needs at least 3 nodes; got ${nodes.length}. Add nodes, or set quorum.allowUnsafeSize: true if you know what you are doing`);
    else if (nodes.length % 2 === 0) add('nodes', `an even node count (${nodes.length}) tolerates no more failures than ${nodes.length - 1} nodes; use an odd count, or set quorum.allowUnsafeSize: true`);
  }
  const ids = new Map<string, number>();
  const ips = new Map<string, number>();
  const dv = obj(root.dataVolume);
  nodes.forEach((n, i) => {
    const no = obj(n);
    if (!no) return;
    const id = str(no.id);
    const ip = str(no.ip);
    const subnetId = str(no.subnetId);
    if (id !== null) {
      const prev = ids.get(id);
      if (prev !== undefined) add(`nodes[${i}].id`, `node id '${id}' is already used by nodes[${prev}]; node ids must be unique`);
      else ids.set(id, i);
    }
    if (ip !== null) {
      const prev = ips.get(ip);
      if (prev !== undefined) add(`nodes[${i}].ip`, `IP ${ip} is already used by nodes[${prev}]; each node needs its own IP`);
      else ips.set(ip, i);
    }
    const ipNum = ip === null ? null : parseIpv4(ip);
    if (ip !== null && ipNum === null) add(`nodes[${i}].ip`, `'${ip}' is not an IPv4 address`);
    if (subnetId !== null) {
      const subnet = subnets.get(subnetId);
      if (!subnet) {
        add(`nodes[${i}].subnetId`, `node ${id ?? i} names subnet ${subnetId}, which is not in subnets; add it there with its az and cidr`);
      } else if (ipNum !== null && subnet.cidr) {
        if (ipNum < subnet.cidr.first || ipNum > subnet.cidr.last) {
          add(`nodes[${i}].ip`, `IP ${ip} of node ${id ?? i} is outside its subnet ${subnetId} (${formatCidr(subnets.get(subnetId))}); pick an address inside it`);
        } else {
          const why = reservedReason(ipNum, subnet.cidr);
          if (why) add(`nodes[${i}].ip`, `IP ${ip} of node ${id ?? i} is ${why} in subnet ${subnetId}; AWS reserves the first four and the last address of every subnet`);
        }
      }
    }
    // The node's effective data volume, when the node overrides it.
    const override = obj(no.dataVolume);
    if (override) checkVolume(`nodes[${i}].dataVolume`, { ...(dv ?? {}), ...override }, add, !!dv);
  });
  if (dv) checkVolume('dataVolume', dv, add, true);

  const mount = str(dv?.mountPath);
  if (mount !== null && (!mount.startsWith('/') || mount === '/' || /\s|\/\.\.?(\/|$)/.test(mount))) {
    add('dataVolume.mountPath', `'${mount}' must be an absolute path other than '/', without '.', '..' or spaces, e.g. /var/lib/kafka`);
  }
  arr(obj(root.bootstrap)?.files).forEach((f, i) => {
    const p = str(obj(f)?.path);
    if (p !== null && !p.startsWith('/')) add(`bootstrap.files[${i}].path`, `'${p}' must be an absolute path`);
  });
  const root_ = obj(root.rootVolume);
  if (root_) {
    const type = str(root_.type) ?? 'gp3';
    if (type === 'st1' || type === 'sc1') add('rootVolume.type', `${type} cannot be a boot volume; use gp3`);
    const size = num(root_.sizeGiB);
    if (size !== undefined && size < 8) add('rootVolume.sizeGiB', `a root volume below 8 GiB will not hold a usual image; got ${size}`);
  }
  Object.entries(obj(root.tags) ?? {}).forEach(([k, v]) => {
    if (k.length === 0 || k.length > 128) add(`tags.${k}`, 'tag keys must be 1–128 characters');
    if (k.toLowerCase().startsWith('aws:')) add(`tags.${k}`, "tag keys starting with 'aws:' are reserved by AWS");
    if (k.startsWith('berth:')) add(`tags.${k}`, "tag keys starting with 'berth:' are reserved by Berth");
    if (typeof v === 'string' && v.length > 256) add(`tags.${k}`, 'tag values must be at most 256 characters');
  });
  return issues;
}

function formatCidr(s: { cidr: ReturnType<typeof parseCidr> } | undefined): string {
  if (!s?.cidr) return '?';
  const c = s.cidr;
  return `${[24, 16, 8, 0].map((x) => Math.floor(c.first / 2 ** x) % 256).join('.')}/${c.prefix}`;
}

function checkVolume(path: string, v: Loose, add: (p: string, m: string) => void, present: boolean): void {
  if (!present) return;
  const type = (str(v.type) ?? 'gp3') as VolumeType;
  const size = num(v.sizeGiB);
  if (size === undefined || !['gp2', 'gp3', 'io1', 'io2', 'st1', 'sc1', 'standard'].includes(type)) return;
  for (const [field, message] of volumeProblems({ type, sizeGiB: size, iops: num(v.iops), throughputMiBps: num(v.throughputMiBps) })) {
    add(`${path}.${field}`, message);
  }
}

function resolve(p: ParsedClusterInput): ClusterSpec {
  const azOf = new Map(p.subnets.map((s) => [s.id, s.az]));
  const dataVolume: DataVolumeSpec = {
    sizeGiB: p.dataVolume.sizeGiB,
    type: p.dataVolume.type,
    iops: p.dataVolume.iops ?? null,
    throughputMiBps: p.dataVolume.throughputMiBps ?? null,
    deviceName: p.dataVolume.deviceName,
    fileSystem: p.dataVolume.fileSystem,
    mountPath: p.dataVolume.mountPath,
    mountOptions: p.dataVolume.mountOptions,
    owner: p.dataVolume.owner,
    group: p.dataVolume.group,
    encrypted: p.dataVolume.encrypted,
    kmsKeyId: p.dataVolume.kmsKeyId ?? null,
    snapshotId: p.dataVolume.snapshotId ?? null,
    deletionPolicy: p.dataVolume.deletionPolicy,
  };
  const nodes: NodeSpec[] = p.nodes.map((n) => ({
    id: n.id,
    ip: n.ip,
    subnetId: n.subnetId,
    az: azOf.get(n.subnetId) as string,
    image: n.image ?? p.image,
    dataVolume: {
      ...dataVolume,
      ...(n.dataVolume?.sizeGiB !== undefined && { sizeGiB: n.dataVolume.sizeGiB }),
      ...(n.dataVolume?.type !== undefined && { type: n.dataVolume.type }),
      ...(n.dataVolume?.iops !== undefined && { iops: n.dataVolume.iops }),
      ...(n.dataVolume?.throughputMiBps !== undefined && { throughputMiBps: n.dataVolume.throughputMiBps }),
      ...(n.dataVolume?.snapshotId !== undefined && { snapshotId: n.dataVolume.snapshotId }),
    },
  }));
  return {
    name: p.name,
    region: p.region,
    subnets: p.subnets,
    nodes,
    image: p.image,
    instanceType: p.instanceType,
    securityGroupIds: p.securityGroupIds,
    keyName: p.keyName ?? null,
    iamInstanceProfile: p.iamInstanceProfile,
    rootVolume: p.rootVolume,
    dataVolume,
    dns: p.dns ?? null,
    loadBalancer: p.loadBalancer ?? null,
    lifecycle: p.lifecycle,
    bootstrap: p.bootstrap,
    tags: p.tags,
    quorum: p.quorum,
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
