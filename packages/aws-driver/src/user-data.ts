import { gzipSync } from 'node:zlib';
import { BerthConfigError } from '@berth/core';
import { parseS3Uri, type BootstrapFileSource, type ClusterSpec, type ConfigIssue, type NodeSpec } from '@berth/core';
import { NODE_BOOTSTRAP_SCRIPT } from './bootstrap-script.generated.js';
import { groupName, LAUNCH_HOOK_NAME } from './names.js';

/** EC2's limit on user data, before base64. */
export const USER_DATA_LIMIT_BYTES = 16 * 1024;

/** Longer than any revision `computeRevision` makes (`r-` + 16 hex), for the spec-time size check. */
const WORST_CASE_REVISION = 'r-'.padEnd(64, 'f');
/** As long as an EBS volume id gets (`vol-` + 17 hex), for the spec-time size check. */
const WORST_CASE_VOLUME_ID = 'vol-'.padEnd(21, 'f');

export interface RenderedUserData {
  /** Base64, ready for the launch template's UserData. */
  readonly userData: string;
  /** Size in bytes before base64 (AWS's 16 KB limit applies to this). */
  readonly sizeBytes: number;
  readonly gzipped: boolean;
}

/** Node facts the driver knows when it renders the user data (ensureNode passes all three). */
export interface UserDataOptions {
  /**
   * The node's data volume id (ensureNode creates the volume before the template). Without it
   * the bootstrap looks the volume up by the tags `berth:cluster`, `berth:node` and
   * `berth:volume=data` — a fallback for hand-rendered user data.
   */
  readonly volumeId?: string;
  /** The node's Auto Scaling group. Default: `groupName(spec.name, nodeId)`, the group ensureNode makes. */
  readonly autoScalingGroupName?: string;
  /** The group's launch lifecycle hook. Default: `LAUNCH_HOOK_NAME`. */
  readonly lifecycleHookName?: string;
}

/**
 * Renders the user data that the node's launch template carries: the node bootstrap script
 * (`packages/aws-driver/bootstrap/node-bootstrap.sh`) with the node's data block after its first
 * line. Gzipped when the plain text would not fit in 16 KB (cloud-init unpacks it). The block
 * carries the node's data volume id, group name and hook name, so the bootstrap looks none of
 * them up.
 *
 * @throws BerthConfigError when the node is unknown, a bootstrap value cannot be carried, or the
 * user data cannot fit in 16 KB even gzipped (the issue names the largest part of the spec).
 * @example
 * const { userData } = renderUserData(spec, 'n1', computeRevision(spec, 'n1'), {
 *   volumeId: 'vol-0123456789abcdef0',
 *   autoScalingGroupName: groupName(spec.name, 'n1'),
 *   lifecycleHookName: LAUNCH_HOOK_NAME,
 * });
 */
export function renderUserData(
  spec: ClusterSpec,
  nodeId: string,
  revision: string,
  options: UserDataOptions = {},
): RenderedUserData {
  const node = spec.nodes.find((n) => n.id === nodeId);
  if (!node) throw new BerthConfigError([{ path: 'nodes', message: `no node '${nodeId}' in cluster '${spec.name}'` }]);
  const issues = contentIssues(spec);
  if (issues.length > 0) throw new BerthConfigError(issues);
  const packed = pack(renderScript(spec, node, revision, options));
  if (packed.bytes.length > USER_DATA_LIMIT_BYTES) throw new BerthConfigError([sizeIssue(spec, packed)]);
  return { userData: packed.bytes.toString('base64'), sizeBytes: packed.bytes.length, gzipped: packed.gzipped };
}

/** How big the user data of the spec's largest node is. */
export interface UserDataFit {
  readonly sizeBytes: number;
  readonly gzipped: boolean;
  readonly limitBytes: number;
}

/**
 * Checks once per spec (not per node) that every node's user data can be rendered and fits in
 * 16 KB: it renders the node with the longest id (so the longest group name), a worst-case
 * revision and volume id, with a margin for gzip's small variations. For validation and preflight.
 *
 * @throws BerthConfigError with every problem found (see {@link userDataIssues}).
 * @example
 * checkUserDataFits(defineCluster(input)); // throws if the bootstrap files are too big
 */
export function checkUserDataFits(spec: ClusterSpec): UserDataFit {
  const { issues, fit } = inspect(spec);
  if (issues.length > 0) throw new BerthConfigError(issues);
  return fit;
}

/** The problems {@link checkUserDataFits} would throw, as a list (empty when the spec is fine). */
export function userDataIssues(spec: ClusterSpec): ConfigIssue[] {
  return inspect(spec).issues;
}

function inspect(spec: ClusterSpec): { issues: ConfigIssue[]; fit: UserDataFit } {
  const issues = contentIssues(spec);
  const longest = spec.nodes.reduce<NodeSpec | undefined>((a, n) => (a && a.id.length >= n.id.length ? a : n), undefined);
  if (!longest || issues.length > 0) return { issues, fit: { sizeBytes: 0, gzipped: false, limitBytes: USER_DATA_LIMIT_BYTES } };
  const packed = pack(renderScript(spec, longest, WORST_CASE_REVISION, { volumeId: WORST_CASE_VOLUME_ID }));
  // Two nodes' gzip sizes can differ by a few bytes; keep a margin so every node fits.
  const margin = packed.gzipped ? 64 : 0;
  if (packed.bytes.length + margin > USER_DATA_LIMIT_BYTES) issues.push(sizeIssue(spec, packed));
  return { issues, fit: { sizeBytes: packed.bytes.length, gzipped: packed.gzipped, limitBytes: USER_DATA_LIMIT_BYTES } };
}

// ---- Rendering ----------------------------------------------------------------------------------

/** A bash single-quoted literal: nothing inside is expanded; `'` is closed, escaped and reopened. */
function shQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function renderScript(spec: ClusterSpec, node: NodeSpec, revision: string, options: UserDataOptions): string {
  const dv = node.dataVolume;
  const b = spec.bootstrap;
  const scalars: [string, string][] = [
    ['BERTH_CLUSTER', spec.name],
    ['BERTH_NODE_ID', node.id],
    ['BERTH_REVISION', revision],
    ['BERTH_SPEC_REGION', spec.region],
    ['BERTH_VOLUME_ID', options.volumeId ?? ''],
    ['BERTH_ASG_NAME', options.autoScalingGroupName ?? groupName(spec.name, node.id)],
    ['BERTH_LIFECYCLE_HOOK_NAME', options.lifecycleHookName ?? LAUNCH_HOOK_NAME],
    ['BERTH_DEVICE_NAME', dv.deviceName],
    ['BERTH_FS_TYPE', dv.fileSystem],
    ['BERTH_MOUNT_PATH', dv.mountPath],
    ['BERTH_MOUNT_OPTIONS', dv.mountOptions],
    ['BERTH_MOUNT_OWNER', dv.owner],
    ['BERTH_MOUNT_GROUP', dv.group],
    ['BERTH_ATTACH_TIMEOUT_SEC', String(b.attachTimeoutSec)],
    ['BERTH_CONFIGURE_TIMEOUT_SEC', String(b.configureTimeoutSec)],
    ['BERTH_HEALTH_TIMEOUT_SEC', String(b.healthTimeoutSec)],
    ['BERTH_HEARTBEAT_TIMEOUT_SEC', String(spec.lifecycle.heartbeatTimeoutSec)],
    ['BERTH_ON_FAILURE', spec.lifecycle.onFailure],
    ['BERTH_CONFIGURE_SCRIPT', b.configureScript],
    ['BERTH_HEALTH_SCRIPT', b.healthScript],
    // Spot nodes only (the watcher, docs/spot.md): other nodes' user data stays as it was.
    ...(node.capacity.spot
      ? ([
          ['BERTH_SPOT', '1'],
          ['BERTH_PRE_STOP_SCRIPT', b.preStopScript],
          ['BERTH_PRE_STOP_TIMEOUT_SEC', String(b.preStopTimeoutSec)],
        ] as [string, string][])
      : []),
  ];
  const arrays: [string, string[]][] = [
    ['BERTH_FILE_PATHS', b.files.map((f) => f.path)],
    ['BERTH_FILE_MODES', b.files.map((f) => f.mode)],
    ['BERTH_FILE_OWNERS', b.files.map((f) => f.owner)],
    ['BERTH_FILE_CONTENTS', b.files.map((f) => f.content)],
    // bootstrap.files[].source (docs/secrets.md): the node fetches these; their content is ''.
    ['BERTH_FILE_SOURCES', b.files.map((f) => (f.source?.ssm ? 'ssm' : f.source?.s3 ? 's3' : ''))],
    ['BERTH_FILE_SOURCE_REFS', b.files.map((f) => fileSourceRef(f.source))],
    ['BERTH_FILE_SOURCE_KEYS', b.files.map((f) => (f.source?.s3 ? (parseS3Uri(f.source.s3.uri)?.key ?? '') : ''))],
    ['BERTH_FILE_SOURCE_VERSIONS', b.files.map((f) => f.source?.s3?.versionId ?? '')],
  ];
  const data = [
    '# ---- berth data (generated by renderUserData; single-quoted literals) ----',
    ...scalars.map(([k, v]) => `${k}=${shQuote(v)}`),
    ...arrays.map(([k, vs]) => `${k}=(${vs.map(shQuote).join(' ')})`),
    '# ---- end of berth data ----',
  ].join('\n');
  const firstNewline = NODE_BOOTSTRAP_SCRIPT.indexOf('\n');
  return `${NODE_BOOTSTRAP_SCRIPT.slice(0, firstNewline + 1)}${data}\n${NODE_BOOTSTRAP_SCRIPT.slice(firstNewline + 1)}`;
}

/** SSM: the name (or ARN) with `:version` when pinned, as GetParameter takes it; S3: the bucket. */
function fileSourceRef(source: BootstrapFileSource | undefined): string {
  if (source?.ssm) return source.ssm.version === undefined ? source.ssm.name : `${source.ssm.name}:${source.ssm.version}`;
  if (source?.s3) return parseS3Uri(source.s3.uri)?.bucket ?? '';
  return '';
}

interface Packed {
  readonly bytes: Buffer;
  readonly gzipped: boolean;
  readonly plainBytes: number;
}

/** Recent packings by text: gzip at level 9 costs about a millisecond, and a roll renders the same user data again for each retry. */
const packed = new Map<string, Packed>();
const PACK_CACHE_SIZE = 256;

function pack(text: string): Packed {
  const hit = packed.get(text);
  if (hit) return hit;
  const plain = Buffer.from(text, 'utf8');
  let out: Packed;
  if (plain.length <= USER_DATA_LIMIT_BYTES) out = { bytes: plain, gzipped: false, plainBytes: plain.length };
  else {
    const gz = gzipSync(plain, { level: 9 });
    gz[9] = 3; // OS byte: "Unix" everywhere, so the bytes do not depend on the machine that renders them
    out = { bytes: gz, gzipped: true, plainBytes: plain.length };
  }
  if (packed.size >= PACK_CACHE_SIZE) packed.delete(packed.keys().next().value as string);
  packed.set(text, out);
  return out;
}

// ---- Issues -------------------------------------------------------------------------------------

const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

function sizeIssue(spec: ClusterSpec, packed: Packed): ConfigIssue {
  const b = spec.bootstrap;
  const parts: [string, number][] = [
    ['bootstrap.files', b.files.reduce((sum, f) => sum + utf8Length(f.path) + utf8Length(f.content), 0)],
    ['bootstrap.configureScript', utf8Length(b.configureScript)],
    ['bootstrap.healthScript', utf8Length(b.healthScript)],
  ];
  const [path, largest] = parts.reduce((a, p) => (p[1] > a[1] ? p : a));
  return {
    path,
    message:
      `the node's user data is ${packed.bytes.length} bytes${packed.gzipped ? ` gzipped (${packed.plainBytes} plain)` : ''}, ` +
      `over EC2's ${USER_DATA_LIMIT_BYTES}-byte limit; the largest part is ${path} (${largest} bytes). ` +
      `Move large files out of the user data: give them a source instead of content ` +
      `(bootstrap.files[].source: { ssm: { name } } for SSM Parameter Store, { s3: { uri: 's3://bucket/key' } } for S3; docs/secrets.md), ` +
      `and the node fetches them with its instance role; a large configure or health script can come from a source too (bootstrap.configureScriptSource, healthScriptSource).`,
  };
}

const SAFE_PATH = /^\/[^\0\n]*$/;

function contentIssues(spec: ClusterSpec): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const noNul = (path: string, value: string) => {
    if (value.includes('\0')) issues.push({ path, message: 'must not contain NUL characters (bash cannot carry them)' });
  };
  const mountPaths = new Set([spec.dataVolume.mountPath, ...spec.nodes.map((n) => n.dataVolume.mountPath)]);
  for (const mp of mountPaths) {
    if (!/^\/[A-Za-z0-9._\-/]*$/.test(mp) || mp === '/' || mp.split('/').includes('..')) {
      issues.push({
        path: 'dataVolume.mountPath',
        message: `'${mp}' must be an absolute path of letters, digits, '.', '_', '-' and '/' (not '/' itself, no '..'), e.g. /data`,
      });
    }
  }
  noNul('bootstrap.configureScript', spec.bootstrap.configureScript);
  noNul('bootstrap.healthScript', spec.bootstrap.healthScript);
  const seen = new Set<string>();
  spec.bootstrap.files.forEach((f, i) => {
    // `@configure` / `@health`: a script from a source (defineCluster; node-bootstrap.sh write_files).
    const scriptFromSource = (f.path === '@configure' || f.path === '@health') && f.source !== undefined;
    if (!scriptFromSource && (!SAFE_PATH.test(f.path) || f.path.endsWith('/') || f.path.split('/').includes('..'))) {
      issues.push({ path: `bootstrap.files[${i}].path`, message: `'${f.path}' must be an absolute file path without '..' or line breaks` });
    }
    if (seen.has(f.path)) issues.push({ path: `bootstrap.files[${i}].path`, message: `'${f.path}' is listed twice` });
    seen.add(f.path);
    noNul(`bootstrap.files[${i}].content`, f.content);
  });
  return issues;
}
