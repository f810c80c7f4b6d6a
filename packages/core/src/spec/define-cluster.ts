import { BerthConfigError, dedupeIssues, type ConfigIssue } from '../errors.js';
import type { ClusterSpec, DataVolumeSpec, NodeSpec } from './cluster-spec.js';
import { closestMatch } from './did-you-mean.js';
import { issueMessage, unknownFieldMessage } from './issue-messages.js';
import { clusterInputSchema, type ClusterInput, type ParsedClusterInput } from './schema.js';
import { semanticIssues } from './validate-cluster.js';

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
  const { issues, parsed } = parseClusterInput(input);
  if (issues.length > 0 || parsed === null) throw new BerthConfigError(issues);
  return deepFreeze(resolve(parsed));
}

/**
 * Checks a raw cluster input: its shape (schema.ts, in Berth's words) and every cross-field
 * rule (validate-cluster.ts), all at once. `parsed` is the input with defaults when the shape
 * is right, whatever the cross-field problems.
 */
export function parseClusterInput(input: unknown): { readonly issues: readonly ConfigIssue[]; readonly parsed: ParsedClusterInput | null } {
  // Known fields of each strict object that reported unknown ones, by path: zod's issue has
  // the keys but not the object's schema, so the error map (which sees it) records them.
  const knownFields = new Map<string, readonly string[]>();
  const parsed = clusterInputSchema.safeParse(input, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') knownFields.set(formatPath(issue.path ?? []), fieldsOf(issue.inst));
      return issueMessage(issue);
    },
  });
  const issues: ConfigIssue[] = [];
  if (!parsed.success) {
    // A misspelt required field is one mistake: "subnetID: did you mean 'subnetId'?" says it
    // all, without "subnetId: is required" next to it.
    const meant = new Set<string>();
    for (const issue of parsed.error.issues) {
      if (issue.code !== 'unrecognized_keys') continue;
      const path = formatPath(issue.path);
      const known = knownFields.get(path) ?? [];
      for (const key of issue.keys) {
        const guess = closestMatch(key, known);
        if (guess !== null) meant.add(joinPath(path, guess));
      }
    }
    for (const issue of parsed.error.issues) {
      const path = formatPath(issue.path);
      if (issue.code === 'unrecognized_keys') {
        const known = knownFields.get(path) ?? [];
        for (const key of issue.keys) issues.push({ path: joinPath(path, key), message: unknownFieldMessage(key, known) });
      } else if (!(issue.code === 'invalid_type' && meant.has(path) && issue.message.startsWith('is required'))) {
        issues.push({ path, message: issue.message });
      }
    }
  }
  // A field whose shape is already wrong gets one message, not two.
  const shapePaths = new Set(issues.map((i) => i.path));
  issues.push(...semanticIssues(input).filter((i) => !shapePaths.has(i.path)));
  return { issues: dedupeIssues(issues), parsed: parsed.success ? parsed.data : null };
}

function fieldsOf(schema: unknown): readonly string[] {
  const shape = (schema as { shape?: unknown } | undefined)?.shape;
  return shape && typeof shape === 'object' ? Object.keys(shape) : [];
}

/** A zod issue path as Berth prints it: `nodes[2].dataVolume.iops`; `''` for the root. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out = joinPath(out, String(p));
  }
  return out;
}

const joinPath = (base: string, key: string) => (base ? `${base}.${key}` : key);

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
    ...(n.adopt !== undefined && { adopt: { eniId: n.adopt.eniId, volumeId: n.adopt.volumeId } }),
    capacity: { ...p.capacity, ...Object.fromEntries(Object.entries(n.capacity ?? {}).filter(([, v]) => v !== undefined)) },
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
    bootstrap: resolveBootstrap(p.bootstrap),
    tags: p.tags,
    quorum: p.quorum,
    capacity: p.capacity,
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * A configure or health script from a source becomes a file the bootstrap fetches like any other
 * (path `@configure` / `@health`: `<state dir>/configure-source.sh`, node-bootstrap.sh
 * write_files) and a one-line script that runs it, so IAM, preflight and the fetch are those of
 * files (docs/secrets.md). A file with a source carries no content; inline files stay as they
 * were, so their revision does not change.
 */
function resolveBootstrap(b: ParsedClusterInput['bootstrap']): ClusterSpec['bootstrap'] {
  const { configureScriptSource, healthScriptSource, ...rest } = b;
  const files = rest.files.map((f) => ({ ...f, content: f.content ?? '' }));
  const fromSource = (name: 'configure' | 'health', source: NonNullable<typeof configureScriptSource>) => {
    files.push({ path: `@${name}`, content: '', source, mode: '0700', owner: 'root:root' });
    // BERTH_STATE_DIR is the bootstrap's test hook for its state directory (docs/bootstrap.md).
    return `exec /bin/bash "\${BERTH_STATE_DIR:-/var/lib/berth}/${name}-source.sh"`;
  };
  const configureScript = configureScriptSource ? fromSource('configure', configureScriptSource) : rest.configureScript;
  const healthScript = healthScriptSource ? fromSource('health', healthScriptSource) : rest.healthScript;
  return { ...rest, configureScript, healthScript, files };
}
