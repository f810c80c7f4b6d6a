import { gunzipSync } from 'node:zlib';

/**
 * What the node bootstrap reads from its user data: the `BERTH_*` data block that
 * `renderUserData` puts after the script's first line. The simulated node agent is configured
 * from the instance's real user data, exactly as the script is, so a value the driver forgets
 * to render is missing in the simulator too.
 */
/** The systemd timer the bootstrap installs to grow the file system online (install_grow_watcher). */
export const GROW_WATCHER_UNIT = 'berth-grow-fs.timer';

export interface AgentConfig {
  readonly clusterName: string;
  readonly nodeId: string;
  readonly revision: string;
  /** Empty when the driver did not render it: the bootstrap then looks the volume up by tags. */
  readonly volumeId: string;
  readonly autoScalingGroupName: string;
  readonly lifecycleHookName: string;
  readonly deviceName: string;
  /** The script installs the grow watcher (node-bootstrap.sh's install_grow_watcher). */
  readonly growWatcher: boolean;
  readonly fileSystem: 'xfs' | 'ext4';
  readonly mountPath: string;
  readonly attachTimeoutSec: number;
  readonly configureTimeoutSec: number;
  readonly healthTimeoutSec: number;
  readonly heartbeatTimeoutSec: number;
  readonly onFailure: 'abandon' | 'wait';
  /** Every scalar of the data block, as the script sees it. */
  readonly values: Readonly<Record<string, string>>;
  /** The files the script fetches (`BERTH_FILE_SOURCES` …; docs/secrets.md), in order. */
  readonly fileSources: readonly AgentFileSource[];
}

/** One file the bootstrap fetches: `ssm` (ref = the name, with `:version` when pinned) or `s3` (ref = the bucket). */
export interface AgentFileSource {
  readonly path: string;
  readonly kind: 'ssm' | 's3';
  readonly ref: string;
  readonly key: string;
  readonly versionId: string;
}

/** A `BERTH_X=('...' '...')` array of the data block ([] when absent). */
export function parseDataArray(text: string, name: string): string[] {
  const start = text.indexOf(`\n${name}=(`);
  if (start < 0) return [];
  let i = start + name.length + 3;
  const out: string[] = [];
  while (text[i] === "'") {
    const q = readQuoted(text, i);
    if (!q) break;
    out.push(q.value);
    i = q.end;
    if (text[i] === ' ') i++;
  }
  return out;
}

function fileSources(text: string): AgentFileSource[] {
  const kinds = parseDataArray(text, 'BERTH_FILE_SOURCES');
  if (!kinds.some((k) => k !== '')) return [];
  const paths = parseDataArray(text, 'BERTH_FILE_PATHS');
  const refs = parseDataArray(text, 'BERTH_FILE_SOURCE_REFS');
  const keys = parseDataArray(text, 'BERTH_FILE_SOURCE_KEYS');
  const versions = parseDataArray(text, 'BERTH_FILE_SOURCE_VERSIONS');
  return kinds.flatMap((k, i) => (k === 'ssm' || k === 's3' ? [{ path: paths[i] ?? '', kind: k, ref: refs[i] ?? '', key: keys[i] ?? '', versionId: versions[i] ?? '' }] : []));
}

/** The script's own list of values it refuses to run without (node-bootstrap.sh, "Data" section). */
const REQUIRED = [
  'BERTH_CLUSTER',
  'BERTH_NODE_ID',
  'BERTH_REVISION',
  'BERTH_SPEC_REGION',
  'BERTH_DEVICE_NAME',
  'BERTH_FS_TYPE',
  'BERTH_MOUNT_PATH',
  'BERTH_MOUNT_OPTIONS',
  'BERTH_MOUNT_OWNER',
  'BERTH_MOUNT_GROUP',
  'BERTH_ATTACH_TIMEOUT_SEC',
  'BERTH_CONFIGURE_TIMEOUT_SEC',
  'BERTH_HEALTH_TIMEOUT_SEC',
  'BERTH_HEARTBEAT_TIMEOUT_SEC',
  'BERTH_ON_FAILURE',
] as const;

/** The user data's text: base64 decoded, gunzipped when cloud-init would gunzip it. */
export function userDataText(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  const gz = bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  return (gz ? gunzipSync(bytes) : bytes).toString('utf8');
}

/** Reads one bash single-quoted literal (`'...'` with `'\''` for a quote) starting at `i`. */
function readQuoted(s: string, i: number): { value: string; end: number } | null {
  let out = '';
  let j = i;
  for (;;) {
    if (s[j] !== "'") return null;
    const close = s.indexOf("'", j + 1);
    if (close < 0) return null;
    out += s.slice(j + 1, close);
    j = close + 1;
    if (s.startsWith("\\''", j)) {
      out += "'";
      j += 2;
      continue;
    }
    return { value: out, end: j };
  }
}

/** The scalar `BERTH_X='...'` assignments of the data block (arrays are skipped). */
export function parseDataBlock(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^(BERTH_[A-Z0-9_]+)=(?=')/gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const q = readQuoted(text, m.index + m[0].length);
    if (q) {
      out[m[1] as string] = q.value;
      re.lastIndex = q.end;
    }
  }
  return out;
}

/**
 * The agent's configuration from an instance's user data, or a reason it cannot run: not a
 * Berth bootstrap at all (null reason), or one whose data block lacks a value the script
 * requires (the script exits 2 before doing anything).
 */
export function agentConfigFromUserData(base64: string | null): { config: AgentConfig } | { config: null; reason: string | null } {
  if (base64 === null || base64 === '') return { config: null, reason: null };
  const hit = parsed.get(base64);
  if (hit) return hit;
  const out = parse(base64);
  if (parsed.size >= 256) parsed.delete(parsed.keys().next().value as string);
  parsed.set(base64, out);
  return out;
}

/** Parsed user data by its base64 (every instance of a node and revision carries the same). */
const parsed = new Map<string, { config: AgentConfig } | { config: null; reason: string | null }>();

function parse(base64: string): { config: AgentConfig } | { config: null; reason: string | null } {
  let text: string;
  try {
    text = userDataText(base64);
  } catch {
    return { config: null, reason: 'user data is not valid base64/gzip' };
  }
  if (!text.includes('berth-bootstrap')) return { config: null, reason: null };
  const v = parseDataBlock(text);
  const missing = REQUIRED.filter((k) => !v[k]);
  if (missing.length > 0) return { config: null, reason: `missing data value ${missing[0]}` };
  const num = (k: string): number => Number(v[k]);
  const fs = v['BERTH_FS_TYPE'];
  return {
    config: Object.freeze({
      clusterName: v['BERTH_CLUSTER'] as string,
      nodeId: v['BERTH_NODE_ID'] as string,
      revision: v['BERTH_REVISION'] as string,
      volumeId: v['BERTH_VOLUME_ID'] ?? '',
      autoScalingGroupName: v['BERTH_ASG_NAME'] ?? '',
      lifecycleHookName: v['BERTH_LIFECYCLE_HOOK_NAME'] ?? '',
      deviceName: v['BERTH_DEVICE_NAME'] as string,
      fileSystem: fs === 'ext4' ? 'ext4' : 'xfs',
      mountPath: v['BERTH_MOUNT_PATH'] as string,
      attachTimeoutSec: num('BERTH_ATTACH_TIMEOUT_SEC'),
      configureTimeoutSec: num('BERTH_CONFIGURE_TIMEOUT_SEC'),
      healthTimeoutSec: num('BERTH_HEALTH_TIMEOUT_SEC'),
      heartbeatTimeoutSec: num('BERTH_HEARTBEAT_TIMEOUT_SEC'),
      onFailure: v['BERTH_ON_FAILURE'] === 'wait' ? 'wait' : 'abandon',
      growWatcher: text.includes(GROW_WATCHER_UNIT),
      values: Object.freeze(v),
      fileSources: Object.freeze(fileSources(text)),
    }),
  };
}
