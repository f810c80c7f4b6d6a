import type { ConfigIssue } from '../errors.js';
import { AWS_REGIONS, regionPartition } from './aws-regions.js';
import { closestMatch } from './did-you-mean.js';
import { formatIpv4, parseCidr, parseIpv4, reservedReason, type Cidr } from './ipv4.js';
import { parseKmsKeyRef } from './kms-key-ref.js';
import { fileSourceIssues } from './file-sources.js';
import { AZ_SHAPE, DNS_NAME, REGION_SHAPE } from './schema.js';
import { AWS_TAGS_PER_RESOURCE, BERTH_TAGS_PER_RESOURCE, USER_TAGS_MAX } from './tag-limits.js';
import { volumeProblems, type VolumeType } from './volume-limits.js';
import { checkCapacity } from './validate-capacity.js';

// The cross-field rules of a cluster spec, run on the raw input with defensive reads so that
// they and the shape problems (schema.ts) are reported together, each with its path and what
// to do. Nothing here calls AWS.

type Loose = Record<string, unknown>;
type Add = (path: string, message: string) => void;
const obj = (v: unknown): Loose | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : null);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Lifecycle hook defaults and bootstrap timeouts, as schema.ts has them (for the timeout budget). */
const DEFAULT_HEARTBEAT_TIMEOUT_SEC = 600;
const DEFAULT_TIMEOUTS_SEC = { attachTimeoutSec: 600, configureTimeoutSec: 600, healthTimeoutSec: 900 } as const;
/** ASG-4: a lifecycle action ends after min(48 h, 100 × HeartbeatTimeout) whatever the heartbeats. */
const LIFECYCLE_GLOBAL_TIMEOUT_MAX_SEC = 172_800;

/** Every cross-field problem of a raw cluster input. */
export function semanticIssues(raw: unknown): ConfigIssue[] {
  const root = obj(raw);
  if (!root) return [];
  const issues: ConfigIssue[] = [];
  const add: Add = (path, message) => issues.push({ path, message });

  const region = str(root.region);
  const regionShaped = region !== null && REGION_SHAPE.test(region);
  if (regionShaped && !Object.hasOwn(AWS_REGIONS, region)) {
    const guess = closestMatch(region, Object.keys(AWS_REGIONS));
    add(
      'region',
      `'${region}' is not an AWS Region${guess ? ` (did you mean '${guess}'?)` : ''}. Berth knows the commercial, China and GovCloud Regions (us-east-1, eu-west-1, cn-north-1, us-gov-west-1...; docs/spec.md lists them). If AWS opened this Region after this release, add it to packages/core/src/spec/aws-regions.ts or upgrade Berth`,
    );
  }

  const knownRegion = regionShaped && Object.hasOwn(AWS_REGIONS, region) ? region : null;
  const subnets = checkSubnets(root, knownRegion, add);
  checkNodes(root, subnets, add);
  checkSecurityGroups(root, add);
  checkDataVolume(root, knownRegion, add);
  checkDns(root, add);
  checkBootstrap(root, add);
  issues.push(...fileSourceIssues(root, knownRegion));
  checkTags(root, add);
  checkLoadBalancer(root, add);
  checkCapacity(root, add);
  return issues;
}

interface SubnetFacts {
  readonly index: number;
  readonly cidrText: string | null;
  readonly cidr: Cidr | null;
}

function checkSubnets(root: Loose, region: string | null, add: Add): Map<string, SubnetFacts> {
  const subnets = new Map<string, SubnetFacts>();
  const parsed: { index: number; id: string | null; text: string; cidr: Cidr }[] = [];
  arr(root.subnets).forEach((s, i) => {
    const so = obj(s);
    const id = str(so?.id);
    const az = str(so?.az);
    const cidrText = str(so?.cidr);
    const cidr = cidrText === null ? null : parseCidr(cidrText);
    if (cidrText !== null && cidr === null) add(`subnets[${i}].cidr`, `'${cidrText}' is not an IPv4 CIDR block like 10.0.1.0/24 (the base address must be aligned to the prefix)`);
    else if (cidr && (cidr.prefix < 16 || cidr.prefix > 28)) add(`subnets[${i}].cidr`, `AWS subnets are /16 to /28; got /${cidr.prefix}`);
    if (az !== null && region !== null && AZ_SHAPE.test(az) && az.slice(0, -1) !== region) {
      add(`subnets[${i}].az`, `availability zone ${az} is not in the spec's region ${region} (its zones are ${region}a, ${region}b...); fix the zone, or the region if the subnet is right`);
    }
    if (id !== null) {
      if (subnets.has(id)) add(`subnets[${i}].id`, `subnet ${id} is listed twice; list each subnet once`);
      else subnets.set(id, { index: i, cidrText, cidr });
    }
    if (cidr && cidrText !== null) {
      // The nodes share their security groups, so every subnet is in one VPC, where subnets never overlap.
      const other = parsed.find((p) => p.id !== id && p.cidr.first <= cidr.last && cidr.first <= p.cidr.last);
      if (other) {
        add(`subnets[${i}].cidr`, `${cidrText} overlaps subnets[${other.index}] (${other.text}); subnets of one VPC never overlap, so one of the two CIDRs (or subnet ids) is wrong`);
      }
      parsed.push({ index: i, id, text: cidrText, cidr });
    }
  });
  return subnets;
}

function checkNodes(root: Loose, subnets: Map<string, SubnetFacts>, add: Add): void {
  const nodes = arr(root.nodes);
  const allowUnsafe = obj(root.quorum)?.allowUnsafeSize === true;
  if (Array.isArray(root.nodes) && !allowUnsafe) {
    if (nodes.length < 3) add('nodes', `a quorum cluster needs at least 3 nodes; got ${nodes.length}. Add nodes, or set quorum.allowUnsafeSize: true if you know what you are doing`);
    else if (nodes.length % 2 === 0) add('nodes', `an even node count (${nodes.length}) tolerates no more failures than ${nodes.length - 1} nodes; use an odd count, or set quorum.allowUnsafeSize: true`);
  }
  const ids = new Map<string, number>();
  const ips = new Map<string, number>();
  const adopted = new Map<string, number>();
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
    // Two nodes cannot take over one interface or one volume (docs/adopt.md).
    const adopt = obj(no.adopt);
    for (const key of ['eniId', 'volumeId'] as const) {
      const rid = adopt ? str(adopt[key]) : null;
      if (rid === null) continue;
      const prev = adopted.get(rid);
      if (prev !== undefined) add(`nodes[${i}].adopt.${key}`, `${rid} is already adopted by nodes[${prev}]; a node's network interface and volume are its own`);
      else adopted.set(rid, i);
    }
    const ipNum = ip === null ? null : parseIpv4(ip);
    if (ip !== null && ipNum === null) add(`nodes[${i}].ip`, `'${ip}' is not an IPv4 address like 10.0.1.10`);
    if (subnetId !== null) {
      const subnet = subnets.get(subnetId);
      if (!subnet) {
        add(`nodes[${i}].subnetId`, `node ${id ?? i} names subnet ${subnetId}, which is not in subnets; add it there with its az and cidr`);
      } else if (ipNum !== null && subnet.cidr) {
        const range = `${formatIpv4(subnet.cidr.first + 4)}–${formatIpv4(subnet.cidr.last - 1)}`;
        if (ipNum < subnet.cidr.first || ipNum > subnet.cidr.last) {
          add(`nodes[${i}].ip`, `IP ${ip} of node ${id ?? i} is outside its subnet ${subnetId} (${subnet.cidrText}); pick an address in ${range}`);
        } else {
          const why = reservedReason(ipNum, subnet.cidr);
          if (why) add(`nodes[${i}].ip`, `IP ${ip} of node ${id ?? i} is ${why} in subnet ${subnetId}; AWS reserves the first four and the last address of every subnet, so pick one in ${range}`);
        }
      }
    }
    // The node's effective data volume, when the node overrides it.
    const override = obj(no.dataVolume);
    if (override && dv) checkVolume(`nodes[${i}].dataVolume`, { ...dv, ...override }, add);
  });
  if (dv) checkVolume('dataVolume', dv, add);
}

function checkVolume(path: string, v: Loose, add: Add): void {
  const type = (str(v.type) ?? 'gp3') as VolumeType;
  const size = num(v.sizeGiB);
  if (size === undefined || !['gp2', 'gp3', 'io1', 'io2', 'st1', 'sc1', 'standard'].includes(type)) return;
  for (const [field, message] of volumeProblems({ type, sizeGiB: size, iops: num(v.iops), throughputMiBps: num(v.throughputMiBps) })) {
    add(`${path}.${field}`, message);
  }
}

function checkSecurityGroups(root: Loose, add: Add): void {
  const seen = new Map<string, number>();
  arr(root.securityGroupIds).forEach((sg, i) => {
    if (typeof sg !== 'string') return;
    const prev = seen.get(sg);
    if (prev !== undefined) add(`securityGroupIds[${i}]`, `security group ${sg} is already listed at securityGroupIds[${prev}]; list each group once`);
    else seen.set(sg, i);
  });
}

function checkDataVolume(root: Loose, region: string | null, add: Add): void {
  const dv = obj(root.dataVolume);
  const mount = str(dv?.mountPath);
  if (mount !== null && (!mount.startsWith('/') || mount === '/' || /\s|\/\.\.?(\/|$)/.test(mount))) {
    add('dataVolume.mountPath', `'${mount}' must be an absolute path other than '/', without '.', '..' or spaces, e.g. /var/lib/kafka`);
  }
  const key = str(dv?.kmsKeyId);
  if (dv && key !== null && key !== '') {
    if (dv.encrypted === false) {
      add('dataVolume.kmsKeyId', 'a KMS key encrypts the volume, but dataVolume.encrypted is false (EBS refuses a KmsKeyId without encryption); set encrypted: true or remove kmsKeyId');
    }
    const ref = parseKmsKeyRef(key);
    const where = region ?? 'us-east-1';
    if (ref === null) {
      add(
        'dataVolume.kmsKeyId',
        `'${key}' is not a KMS key id, key ARN, alias name or alias ARN; use e.g. 1234abcd-12ab-34cd-56ef-1234567890ab, arn:aws:kms:${where}:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab, alias/my-key or arn:aws:kms:${where}:111122223333:alias/my-key`,
      );
    } else if ((ref.kind === 'key-arn' || ref.kind === 'alias-arn') && region !== null) {
      const partition = regionPartition(region);
      if (ref.region !== region) {
        add('dataVolume.kmsKeyId', `the key is in ${ref.region} but the cluster is in ${region}: KMS keys are regional and EBS uses a key of the volume's Region; name a key in ${region} (a replica, for a multi-Region key)`);
      } else if (partition !== null && ref.partition !== partition) {
        add('dataVolume.kmsKeyId', `the ARN's partition is ${ref.partition}, but ${region} is in ${partition}; write arn:${partition}:kms:...`);
      }
    }
  }
  const rootVolume = obj(root.rootVolume);
  if (rootVolume) {
    const type = str(rootVolume.type) ?? 'gp3';
    if (type === 'st1' || type === 'sc1') add('rootVolume.type', `${type} cannot be a boot volume; use gp3`);
    const size = num(rootVolume.sizeGiB);
    if (size !== undefined && size < 8) add('rootVolume.sizeGiB', `a root volume below 8 GiB will not hold a usual image; got ${size}`);
  }
}

function checkDns(root: Loose, add: Add): void {
  const dns = obj(root.dns);
  if (!dns) return;
  const template = str(dns.nodeRecordTemplate);
  const clusterRecord = str(dns.clusterRecord);
  if (template === null || !template.includes('{node}')) return;
  const nodeIds: { id: string; index: number }[] = [];
  arr(root.nodes).forEach((n, index) => {
    const id = str(obj(n)?.id);
    if (id !== null && /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(id)) nodeIds.push({ id, index });
  });
  const sample = nodeIds.length > 0 ? nodeIds : [{ id: 'node-1', index: -1 }];
  const bad = sample.filter((n) => !DNS_NAME.test(template.replaceAll('{node}', n.id)));
  if (bad.length > 0) {
    const first = bad[0] as { id: string; index: number };
    const who = first.index >= 0 ? `node ${first.id} (nodes[${first.index}])${bad.length > 1 ? ` and ${bad.length - 1} other node${bad.length > 2 ? 's' : ''}` : ''}` : 'a node';
    add(
      'dns.nodeRecordTemplate',
      `gives '${template.replaceAll('{node}', first.id)}' for ${who}, which is not a DNS name: use lower-case labels of 1–63 a-z, 0-9 and "-" separated by dots, 253 characters at most, e.g. {node}.kafka.internal.example.com`,
    );
    return;
  }
  if (clusterRecord === null) return;
  const norm = (s: string) => (s.endsWith('.') ? s.slice(0, -1) : s);
  const clash = nodeIds.find((n) => norm(template.replaceAll('{node}', n.id)) === norm(clusterRecord));
  if (clash) {
    add(
      'dns.clusterRecord',
      `'${clusterRecord}' is also the record of node ${clash.id} (nodes[${clash.index}], from nodeRecordTemplate); the cluster record lists every node and a node record only its own IP, so give the cluster record a name of its own`,
    );
  }
}

function checkBootstrap(root: Loose, add: Add): void {
  const bootstrap = obj(root.bootstrap);
  const paths = new Map<string, number>();
  arr(bootstrap?.files).forEach((f, i) => {
    const p = str(obj(f)?.path);
    if (p === null) return;
    if (!p.startsWith('/')) add(`bootstrap.files[${i}].path`, `'${p}' must be an absolute path`);
    const prev = paths.get(p);
    if (prev !== undefined) add(`bootstrap.files[${i}].path`, `${p} is also written by bootstrap.files[${prev}], and the later one would overwrite it; keep one`);
    else paths.set(p, i);
  });

  // The bootstrap keeps the launch's lifecycle action alive with heartbeats, but AWS ends it
  // after min(48 h, 100 × heartbeat timeout) whatever the heartbeats (ASG-4).
  // Only when every figure is itself valid: a bad one has its own message.
  const lifecycle = obj(root.lifecycle);
  if ((lifecycle === null && root.lifecycle !== undefined) || (bootstrap === null && root.bootstrap !== undefined)) return;
  const heartbeat = lifecycle?.heartbeatTimeoutSec !== undefined ? lifecycle.heartbeatTimeoutSec : DEFAULT_HEARTBEAT_TIMEOUT_SEC;
  if (typeof heartbeat !== 'number' || !Number.isInteger(heartbeat) || heartbeat < 30 || heartbeat > 7200) return;
  const timeouts = (['attachTimeoutSec', 'configureTimeoutSec', 'healthTimeoutSec'] as const).map((k) => bootstrap?.[k] ?? DEFAULT_TIMEOUTS_SEC[k]);
  if (!timeouts.every((t): t is number => typeof t === 'number' && Number.isInteger(t) && t > 0)) return;
  const total = timeouts.reduce((a, b) => a + b, 0);
  const globalTimeout = Math.min(LIFECYCLE_GLOBAL_TIMEOUT_MAX_SEC, 100 * heartbeat);
  if (total > globalTimeout) {
    const fix =
      total > LIFECYCLE_GLOBAL_TIMEOUT_MAX_SEC
        ? `lower the bootstrap timeouts to ${LIFECYCLE_GLOBAL_TIMEOUT_MAX_SEC} s in total`
        : `raise lifecycle.heartbeatTimeoutSec to at least ${Math.ceil(total / 100)}, or lower the bootstrap timeouts`;
    add(
      'bootstrap',
      `attachTimeoutSec + configureTimeoutSec + healthTimeoutSec allow a boot of ${total} s, but AWS ends the launch lifecycle action after min(48 h, 100 × lifecycle.heartbeatTimeoutSec) = ${globalTimeout} s, heartbeats or not; ${fix}`,
    );
  }
}

function checkTags(root: Loose, add: Add): void {
  const tags = obj(root.tags);
  if (!tags) return;
  const entries = Object.entries(tags);
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > 128) add(`tags.${k}`, 'tag keys must be 1–128 characters');
    if (k.toLowerCase().startsWith('aws:')) add(`tags.${k}`, "tag keys starting with 'aws:' are reserved by AWS");
    if (k.startsWith('berth:')) add(`tags.${k}`, "tag keys starting with 'berth:' are reserved by Berth");
    if (k === 'Name') add('tags.Name', 'Berth names every resource it creates <cluster>-<node> and would overwrite this tag; remove it (use another key for your own name)');
    if (typeof v === 'string' && v.length > 256) add(`tags.${k}`, 'tag values must be at most 256 characters');
  }
  const counted = entries.filter(([k]) => !k.toLowerCase().startsWith('aws:')).length;
  if (counted > USER_TAGS_MAX) {
    add(
      'tags',
      `has ${counted} tags, but at most ${USER_TAGS_MAX} fit: AWS allows ${AWS_TAGS_PER_RESOURCE} tags per resource and Berth adds up to ${BERTH_TAGS_PER_RESOURCE} of its own (Name and berth:*); remove ${counted - USER_TAGS_MAX}`,
    );
  }
}

function checkLoadBalancer(root: Loose, add: Add): void {
  const seen = new Map<string, number>();
  arr(obj(root.loadBalancer)?.targetGroupArns).forEach((a, i) => {
    if (typeof a !== 'string') return;
    const prev = seen.get(a);
    if (prev !== undefined) add(`loadBalancer.targetGroupArns[${i}]`, `this target group is already listed at targetGroupArns[${prev}]; list each once`);
    else seen.set(a, i);
  });
}
