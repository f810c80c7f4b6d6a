import {
  BerthConfigError,
  BerthDriverError,
  computeRevision,
  nodeRecordName,
  throwIfAborted,
  type ClusterChange,
  type ClusterObservation,
  type ClusterSpec,
  type DeleteNodeResult,
  type DeletionPolicy,
  type DnsRecordObservation,
  type DnsRecordSet,
  type Driver,
  type DriverCallOptions,
  type DriverCapabilities,
  type EniObservation,
  type EnsureNodeOptions,
  type EnsureNodeResult,
  type GroupObservation,
  type InstanceObservation,
  type LifecycleState,
  type NodeObservation,
  type NodeSpec,
  type ObserveOptions,
  type Phase,
  type ResourceChange,
  type VolumeObservation,
} from '@berth/core';
import type { AwsApi } from './aws-api.js';
import type { SimContext } from './sim-context.js';
import { SimLock } from './sim-lock.js';
import type { BootstrapConfig, SimLifecycleHook, Tags } from './world/entities.js';
import { TAG_CLUSTER, TAG_NODE, TAG_PHASE, TAG_PHASE_REASON, TAG_REVISION } from './world/ec2.js';

/** Page sizes of the describes, as AWS pages them. */
export const PAGE_SIZES = Object.freeze({
  DescribeAutoScalingGroups: 100,
  DescribeInstances: 1000,
  DescribeVolumes: 500,
  DescribeNetworkInterfaces: 1000,
  ListResourceRecordSets: 300,
});

export const LAUNCH_HOOK_NAME = 'berth-launch';

/** The names Berth gives a node's resources in the simulator (and on AWS). */
export function groupName(clusterName: string, nodeId: string): string {
  return `berth-${clusterName}-${nodeId}`;
}

const CAPABILITIES: DriverCapabilities = Object.freeze({
  phaseReporting: true,
  lifecycleHooks: true,
  changeNotifications: true,
  spot: true,
  snapshots: true,
  volumeResize: true,
  attachmentRules: true,
});

const stripDot = (n: string): string => (n.endsWith('.') ? n.slice(0, -1) : n);

function nodeSpec(spec: ClusterSpec, nodeId: string): NodeSpec {
  const node = spec.nodes.find((n) => n.id === nodeId);
  if (!node) throw new BerthConfigError([{ path: 'nodes', message: `node '${nodeId}' is not in cluster '${spec.name}'; use one of ${spec.nodes.map((n) => n.id).join(', ')}` }]);
  return node;
}

interface GroupSnapshot {
  readonly obs: GroupObservation;
  readonly nodeId: string | null;
  readonly instances: ReadonlyArray<{ readonly id: string; readonly lifecycleState: LifecycleState; readonly healthStatus: 'Healthy' | 'Unhealthy'; readonly az: string }>;
}

interface InstanceSnapshot {
  readonly id: string;
  readonly nodeId: string | null;
  readonly ec2State: InstanceObservation['ec2State'];
  readonly tags: Readonly<Tags>;
  readonly az: string;
  readonly launchedAtMs: number;
  readonly spot: boolean;
  readonly lifecycleState: LifecycleState;
}

/**
 * The simulator's {@link Driver}: the same calls an AWS driver makes, against the simulated
 * account, with per-call latency, throttling and call accounting.
 */
export class SimDriver implements Driver {
  readonly name = 'sim';
  readonly capabilities = CAPABILITIES;
  readonly lock: SimLock;
  readonly #ctx: SimContext;
  readonly #api: AwsApi;

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
    this.#api = ctx.api;
    this.lock = new SimLock(ctx, ctx.api);
  }

  /** The spec's subnets exist in the simulated account. */
  #adopt(spec: ClusterSpec): void {
    for (const s of spec.subnets) if (!this.#ctx.state.subnets.has(s.id)) this.#ctx.state.subnets.set(s.id, { id: s.id, az: s.az, cidr: s.cidr });
  }

  async #paginate<T>(operation: keyof typeof PAGE_SIZES, signal: AbortSignal | undefined, list: () => T[]): Promise<T[]> {
    const size = PAGE_SIZES[operation];
    const out: T[] = [];
    for (let page = 0; ; page++) {
      const items = await this.#api.call(operation, signal, () => {
        const all = list();
        return { items: all.slice(page * size, (page + 1) * size), more: all.length > (page + 1) * size };
      });
      out.push(...items.items);
      if (!items.more) return out;
    }
  }

  async observe(spec: ClusterSpec, options: ObserveOptions = {}): Promise<ClusterObservation> {
    const { signal } = options;
    const scope = options.scope ?? 'full';
    this.#adopt(spec);
    const filter = { [TAG_CLUSTER]: spec.name };
    const groups = await this.#paginate('DescribeAutoScalingGroups', signal, () =>
      this.#ctx.asg.describeGroups(filter).map((g): GroupSnapshot => ({
        nodeId: g.tags[TAG_NODE] ?? null,
        obs: {
          name: g.name,
          minSize: g.minSize,
          maxSize: g.maxSize,
          desiredCapacity: g.desiredCapacity,
          launchTemplateId: g.launchTemplateId,
          launchTemplateVersion: g.launchTemplateVersion,
          revision: g.tags[TAG_REVISION] ?? null,
          suspendedProcesses: [...g.suspended].sort(),
          hasLaunchHook: g.hooks.some((h) => h.transition === 'autoscaling:EC2_INSTANCE_LAUNCHING'),
          lastActivityError: g.lastActivityError,
        },
        instances: g.instanceIds.flatMap((id) => {
          const i = this.#ctx.state.instances.get(id);
          return i ? [{ id, lifecycleState: i.lifecycleState, healthStatus: i.healthStatus, az: i.az }] : [];
        }),
      })),
    );
    // The `groups` probe stops here: instances come from what the groups report.
    const instances = scope === 'groups' ? [] : await this.#paginate('DescribeInstances', signal, () =>
      this.#ctx.ec2.describeInstances(filter).map(
        (i): InstanceSnapshot => ({
          id: i.id,
          nodeId: i.nodeId,
          ec2State: i.ec2State,
          tags: { ...i.tags },
          az: i.az,
          launchedAtMs: i.launchedAtMs,
          spot: i.spot,
          lifecycleState: i.lifecycleState,
        }),
      ),
    );
    let enis: EniObservation[] | null = null;
    let eniNodes: Array<string | null> = [];
    let volumes: VolumeObservation[] | null = null;
    let volumeNodes: Array<string | null> = [];
    let dnsRecords: DnsRecordObservation[] | null = null;
    if (scope === 'full') {
      const e = await this.#paginate('DescribeVolumes', signal, () =>
        this.#ctx.ec2.describeVolumes(filter).map((v) => ({
          nodeId: v.tags[TAG_NODE] ?? null,
          obs: {
            volumeId: v.id,
            az: v.az,
            sizeGiB: v.sizeGiB,
            type: v.type,
            state: v.state,
            attachments: v.attachment ? [{ instanceId: v.attachment.instanceId, state: v.attachment.state }] : [],
            modificationState: v.modification?.state ?? null,
          } satisfies VolumeObservation,
        })),
      );
      volumes = e.map((x) => x.obs);
      volumeNodes = e.map((x) => x.nodeId);
      const n = await this.#paginate('DescribeNetworkInterfaces', signal, () =>
        this.#ctx.ec2.describeNetworkInterfaces(filter).map((x) => ({
          nodeId: x.tags[TAG_NODE] ?? null,
          obs: { eniId: x.id, ip: x.ip, subnetId: x.subnetId, status: x.status, attachedInstanceId: x.attachedInstanceId } satisfies EniObservation,
        })),
      );
      enis = n.map((x) => x.obs);
      eniNodes = n.map((x) => x.nodeId);
      if (spec.dns) {
        const dns = spec.dns;
        const wanted = new Set([stripDot(dns.clusterRecord), ...spec.nodes.map((nd) => stripDot(nodeRecordName(dns, nd.id)))]);
        const recs = await this.#paginate('ListResourceRecordSets', signal, () => this.#ctx.route53.listRecordSets(dns.hostedZoneId));
        dnsRecords = recs
          .filter((r) => wanted.has(stripDot(r.name)))
          .map((r) => ({ name: stripDot(r.name), type: 'A' as const, ttl: r.ttl, values: [...r.values] }));
      }
    }

    const nodeIds = new Set<string>();
    for (const g of groups) if (g.nodeId) nodeIds.add(g.nodeId);
    for (const i of instances) if (i.nodeId) nodeIds.add(i.nodeId);
    for (const id of eniNodes) if (id) nodeIds.add(id);
    for (const id of volumeNodes) if (id) nodeIds.add(id);
    const order = [...spec.nodes.map((n) => n.id).filter((id) => nodeIds.has(id)), ...[...nodeIds].filter((id) => !spec.nodes.some((n) => n.id === id)).sort()];

    const nodes: Record<string, NodeObservation> = {};
    for (const nodeId of order) {
      const g = groups.find((x) => x.nodeId === nodeId) ?? null;
      const inGroup = new Map((g?.instances ?? []).map((i) => [i.id, i]));
      const seen = new Set<string>();
      const insts: InstanceObservation[] = [];
      for (const i of instances) {
        if (i.nodeId !== nodeId) continue;
        seen.add(i.id);
        const gi = inGroup.get(i.id);
        const lifecycleState: LifecycleState = gi ? gi.lifecycleState : i.ec2State === 'terminated' ? 'Terminated' : i.lifecycleState.startsWith('Terminat') ? i.lifecycleState : 'Detached';
        insts.push({
          instanceId: i.id,
          lifecycleState,
          ec2State: i.ec2State,
          revision: i.tags[TAG_REVISION] ?? null,
          phase: (i.tags[TAG_PHASE] as Phase | undefined) ?? null,
          phaseReason: i.tags[TAG_PHASE_REASON] ?? null,
          az: i.az,
          launchedAtMs: i.launchedAtMs,
          healthStatus: gi?.healthStatus ?? 'Healthy',
          spot: i.spot,
        });
      }
      // The group already lists an instance that DescribeInstances does not show yet (eventual consistency).
      for (const gi of g?.instances ?? []) {
        if (seen.has(gi.id)) continue;
        const launched = this.#ctx.state.instances.get(gi.id)?.launchedAtMs ?? this.#ctx.scheduler.nowMs;
        insts.push({ instanceId: gi.id, lifecycleState: gi.lifecycleState, ec2State: 'pending', revision: null, phase: null, phaseReason: null, az: gi.az, launchedAtMs: launched, healthStatus: gi.healthStatus, spot: false });
      }
      insts.sort((a, b) => b.launchedAtMs - a.launchedAtMs || (a.instanceId < b.instanceId ? 1 : -1));
      const eniIdx = eniNodes.indexOf(nodeId);
      const volIdx = volumeNodes.indexOf(nodeId);
      nodes[nodeId] = {
        nodeId,
        group: g?.obs ?? null,
        instances: insts,
        eni: enis && eniIdx >= 0 ? (enis[eniIdx] ?? null) : null,
        volume: volumes && volIdx >= 0 ? (volumes[volIdx] ?? null) : null,
      };
    }
    return { clusterName: spec.name, observedAtMs: this.#ctx.scheduler.nowMs, scope, nodes, dnsRecords };
  }

  #tags(spec: ClusterSpec, nodeId: string): Tags {
    return { ...spec.tags, [TAG_CLUSTER]: spec.name, [TAG_NODE]: nodeId, Name: `${spec.name}-${nodeId}` };
  }

  #bootstrap(spec: ClusterSpec, node: NodeSpec, revision: string): BootstrapConfig {
    const b = spec.bootstrap;
    return {
      clusterName: spec.name,
      nodeId: node.id,
      revision,
      deviceName: node.dataVolume.deviceName,
      fileSystem: node.dataVolume.fileSystem,
      mountPath: node.dataVolume.mountPath,
      attachTimeoutSec: b.attachTimeoutSec,
      configureTimeoutSec: b.configureTimeoutSec,
      healthTimeoutSec: b.healthTimeoutSec,
      onFailure: spec.lifecycle.onFailure,
    };
  }

  async ensureNode(spec: ClusterSpec, nodeId: string, options: EnsureNodeOptions = {}): Promise<EnsureNodeResult> {
    const { signal } = options;
    const node = nodeSpec(spec, nodeId);
    const fast = options.observed ? await this.#updateTemplateOnly(spec, nodeId, options.observed, signal) : null;
    if (fast) return fast;
    this.#adopt(spec);
    this.#ctx.changes.ensureQueue(spec.name);
    for (const n of spec.nodes) this.#ctx.app.register(n.id);
    const revision = computeRevision(spec, nodeId);
    const tags = this.#tags(spec, nodeId);
    const nodeFilter = { [TAG_CLUSTER]: spec.name, [TAG_NODE]: nodeId };
    const changes: ResourceChange[] = [];
    const api = this.#api;
    const { ec2, asg } = this.#ctx;

    // Network interface: the node's fixed IP.
    const enis = await api.call('DescribeNetworkInterfaces', signal, () => ec2.describeNetworkInterfaces(nodeFilter).map((e) => ({ id: e.id, ip: e.ip })));
    let eni = enis[0];
    if (!eni) {
      const created = await api.call('CreateNetworkInterface', signal, () =>
        ec2.createNetworkInterface({ subnetId: node.subnetId, ip: node.ip, securityGroupIds: spec.securityGroupIds, tags, clientToken: `${spec.name}-${nodeId}-eni` }),
      );
      eni = { id: created.id, ip: created.ip };
      changes.push({ resource: 'network-interface', action: 'created', id: eni.id, detail: node.ip });
    } else {
      changes.push({ resource: 'network-interface', action: 'unchanged', id: eni.id, ...(eni.ip !== node.ip && { detail: `has IP ${eni.ip}, spec says ${node.ip}: a node's IP never moves; recreate the node to change it` }) });
    }

    // Data volume.
    const dv = node.dataVolume;
    const vols = await api.call('DescribeVolumes', signal, () =>
      ec2.describeVolumes(nodeFilter).map((v) => ({ id: v.id, sizeGiB: v.sizeGiB, modifying: v.modification !== null && v.modification.state !== 'completed' })),
    );
    const vol = vols[0];
    if (!vol) {
      const created = await api.call('CreateVolume', signal, () =>
        ec2.createVolume({
          az: node.az,
          sizeGiB: dv.sizeGiB,
          type: dv.type,
          iops: dv.iops,
          throughputMiBps: dv.throughputMiBps,
          snapshotId: dv.snapshotId,
          tags,
          clientToken: `${spec.name}-${nodeId}-data`,
        }),
      );
      changes.push({ resource: 'volume', action: 'created', id: created.id, detail: `${dv.sizeGiB} GiB ${dv.type}${dv.snapshotId ? ` from ${dv.snapshotId}` : ''}` });
    } else if (vol.sizeGiB < dv.sizeGiB && !vol.modifying) {
      await api.call('ModifyVolume', signal, () => ec2.modifyVolume(vol.id, dv.sizeGiB));
      changes.push({ resource: 'volume', action: 'updated', id: vol.id, detail: `growing ${vol.sizeGiB} → ${dv.sizeGiB} GiB` });
    } else {
      changes.push({ resource: 'volume', action: 'unchanged', id: vol.id, ...(vol.sizeGiB > dv.sizeGiB && { detail: `is ${vol.sizeGiB} GiB, larger than the spec's ${dv.sizeGiB}: EBS volumes only grow` }) });
    }

    // Launch template and its version carrying the revision.
    const ltName = groupName(spec.name, nodeId);
    const version = {
      imageId: node.image,
      instanceType: spec.instanceType,
      eniId: eni.id,
      securityGroupIds: [...spec.securityGroupIds],
      revision,
      bootstrap: this.#bootstrap(spec, node, revision),
      tags: { ...tags, [TAG_REVISION]: revision },
    };
    const lt = await api.call('DescribeLaunchTemplates', signal, () => {
      const t = asg.findLaunchTemplate(ltName);
      return t ? { id: t.id } : null;
    });
    let ltId: string;
    let ltVersion: number;
    if (!lt) {
      const created = await api.call('CreateLaunchTemplate', signal, () => asg.createLaunchTemplate(ltName, version, tags));
      ltId = created.id;
      ltVersion = 1;
      changes.push({ resource: 'launch-template', action: 'created', id: ltId, detail: `${ltName} v1 (${revision})` });
    } else {
      ltId = lt.id;
      const latest = await api.call('DescribeLaunchTemplateVersions', signal, () => {
        const t = asg.launchTemplate('DescribeLaunchTemplateVersions', lt.id);
        const v = asg.resolveVersion(t, '$Latest');
        return v ? { versionNumber: v.versionNumber, revision: v.revision, eniId: v.eniId, bootstrap: v.bootstrap } : null;
      });
      if (latest && latest.revision === revision && latest.eniId === eni.id) {
        ltVersion = latest.versionNumber;
        changes.push({ resource: 'launch-template-version', action: 'unchanged', id: `${ltId}:${ltVersion}`, detail: revision });
      } else {
        const created = await api.call('CreateLaunchTemplateVersion', signal, () => asg.createLaunchTemplateVersion(lt.id, version));
        ltVersion = created.versionNumber;
        changes.push({ resource: 'launch-template-version', action: 'created', id: `${ltId}:${ltVersion}`, detail: `${latest?.revision ?? 'none'} → ${revision}` });
      }
    }

    // Auto Scaling group with the launch lifecycle hook.
    const asgName = groupName(spec.name, nodeId);
    const hook: SimLifecycleHook = {
      name: LAUNCH_HOOK_NAME,
      transition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      heartbeatTimeoutSec: spec.lifecycle.heartbeatTimeoutSec,
      defaultResult: spec.lifecycle.defaultResult,
    };
    const groups = await api.call('DescribeAutoScalingGroups', signal, () => {
      const g = this.#ctx.state.groups.get(asgName);
      return g && !g.deleting ? [{ version: g.launchTemplateVersion, size: g.desiredCapacity, maxSize: g.maxSize, minSize: g.minSize }] : [];
    });
    const g = groups[0];
    if (!g) {
      await api.call('CreateAutoScalingGroup', signal, () =>
        asg.createGroup({
          name: asgName,
          launchTemplateId: ltId,
          launchTemplateVersion: String(ltVersion),
          subnetIds: [node.subnetId],
          size: 1,
          tags: { ...tags, [TAG_REVISION]: revision },
          hooks: [hook],
        }),
      );
      changes.push({ resource: 'auto-scaling-group', action: 'created', id: asgName, detail: `launch template version ${ltVersion}` });
      changes.push({ resource: 'lifecycle-hook', action: 'created', id: `${asgName}/${LAUNCH_HOOK_NAME}`, detail: `${hook.heartbeatTimeoutSec} s, default ${hook.defaultResult}` });
    } else {
      const sizeWrong = g.size !== 1 || g.minSize !== 1 || g.maxSize !== 1;
      if (g.version !== String(ltVersion) || sizeWrong) {
        await api.call('UpdateAutoScalingGroup', signal, () => asg.updateGroup(asgName, { launchTemplateVersion: String(ltVersion), size: 1 }));
        await api.call('CreateOrUpdateTags', signal, () => asg.tagGroup(asgName, { [TAG_REVISION]: revision }));
        changes.push({ resource: 'auto-scaling-group', action: 'updated', id: asgName, detail: `launch template version ${g.version} → ${ltVersion}${sizeWrong ? ', size → 1' : ''}` });
      } else {
        changes.push({ resource: 'auto-scaling-group', action: 'unchanged', id: asgName });
      }
      const hooks = await api.call('DescribeLifecycleHooks', signal, () => asg.group('DescribeLifecycleHooks', asgName).hooks.map((h) => ({ ...h })));
      const cur = hooks.find((h) => h.name === LAUNCH_HOOK_NAME);
      if (!cur || cur.heartbeatTimeoutSec !== hook.heartbeatTimeoutSec || cur.defaultResult !== hook.defaultResult) {
        const action = await api.call('PutLifecycleHook', signal, () => asg.putLifecycleHook(asgName, hook));
        changes.push({ resource: 'lifecycle-hook', action, id: `${asgName}/${LAUNCH_HOOK_NAME}`, detail: `${hook.heartbeatTimeoutSec} s, default ${hook.defaultResult}` });
      } else {
        changes.push({ resource: 'lifecycle-hook', action: 'unchanged', id: `${asgName}/${LAUNCH_HOOK_NAME}` });
      }
    }

    // The node's DNS record.
    if (spec.dns) {
      const dns = spec.dns;
      const name = nodeRecordName(dns, nodeId);
      const recs = await api.call('ListResourceRecordSets', signal, () => this.#ctx.route53.listRecordSets(dns.hostedZoneId).filter((r) => stripDot(r.name) === stripDot(name)));
      const cur = recs[0];
      if (!cur || cur.ttl !== dns.ttl || cur.values.length !== 1 || cur.values[0] !== node.ip) {
        await api.call('ChangeResourceRecordSets', signal, () =>
          this.#ctx.route53.changeRecordSets(dns.hostedZoneId, [{ action: 'UPSERT', record: { name, type: 'A', ttl: dns.ttl, values: [node.ip] } }]),
        );
        changes.push({ resource: 'dns-record', action: cur ? 'updated' : 'created', id: name, detail: node.ip });
      } else {
        changes.push({ resource: 'dns-record', action: 'unchanged', id: name });
      }
    }
    return { nodeId, revision, changes };
  }

  /**
   * When the caller's observation shows every resource in place and only the revision moved:
   * a new launch template version (ClientToken: retries and stale hints create no duplicate),
   * the group pointed at it, its revision tag. Three calls instead of a full discovery.
   * Returns null when the hint does not show that case, or turns out stale.
   */
  async #updateTemplateOnly(spec: ClusterSpec, nodeId: string, observed: NodeObservation, signal: AbortSignal | undefined): Promise<EnsureNodeResult | null> {
    const node = nodeSpec(spec, nodeId);
    const g = observed.group;
    const ready = g !== null && g.launchTemplateId !== null && g.minSize === 1 && g.maxSize === 1 && g.desiredCapacity === 1 && g.hasLaunchHook;
    // A full observation lets us check the node's identity too; the cheap one does not have it.
    const identityOk = (observed.eni === null || observed.eni.ip === node.ip) && (observed.volume === null || observed.volume.sizeGiB >= node.dataVolume.sizeGiB);
    if (!ready || !identityOk || !g.launchTemplateId) return null;
    const revision = computeRevision(spec, nodeId);
    const ltId = g.launchTemplateId;
    // Like CreateLaunchTemplateVersion with SourceVersion: the network interface (the node's
    // fixed IP) carries over from the version the group uses now.
    const source = this.#ctx.state.launchTemplates.get(ltId);
    const sourceVersion = source && !source.deleted ? this.#ctx.asg.resolveVersion(source, g.launchTemplateVersion ?? '$Latest') : null;
    const eniId = observed.eni?.eniId ?? sourceVersion?.eniId;
    if (!eniId) return null;
    const asgName = groupName(spec.name, nodeId);
    const tags = this.#tags(spec, nodeId);
    const { asg } = this.#ctx;
    try {
      const v = await this.#api.call('CreateLaunchTemplateVersion', signal, () =>
        asg.createLaunchTemplateVersion(
          ltId,
          {
            imageId: node.image,
            instanceType: spec.instanceType,
            eniId,
            securityGroupIds: [...spec.securityGroupIds],
            revision,
            bootstrap: this.#bootstrap(spec, node, revision),
            tags: { ...tags, [TAG_REVISION]: revision },
          },
          `${ltId}-${revision}`,
        ),
      );
      await this.#api.call('UpdateAutoScalingGroup', signal, () => asg.updateGroup(asgName, { launchTemplateVersion: String(v.versionNumber), size: 1 }));
      await this.#api.call('CreateOrUpdateTags', signal, () => asg.tagGroup(asgName, { [TAG_REVISION]: revision }));
      return {
        nodeId,
        revision,
        changes: [
          { resource: 'launch-template-version', action: 'created', id: `${ltId}:${v.versionNumber}`, detail: `${g.revision ?? 'none'} → ${revision}` },
          { resource: 'auto-scaling-group', action: 'updated', id: asgName, detail: `launch template version → ${v.versionNumber}` },
        ],
      };
    } catch (err) {
      if (err instanceof BerthDriverError && /NotFound|ValidationError/.test(err.awsCode)) return null; // stale hint: do the full discovery
      throw err;
    }
  }

  async replaceInstance(spec: ClusterSpec, nodeId: string, instanceId: string, options: DriverCallOptions = {}): Promise<void> {
    nodeSpec(spec, nodeId);
    await this.#api.call('TerminateInstanceInAutoScalingGroup', options.signal, () => {
      const inst = this.#ctx.state.instances.get(instanceId);
      if (inst && inst.nodeId !== nodeId) {
        throw new BerthDriverError('TerminateInstanceInAutoScalingGroup', 'ValidationError', `Instance ${instanceId} belongs to node ${inst.nodeId ?? '(none)'}, not ${nodeId}.`);
      }
      // Idempotent: a retry after success finds the instance terminating, or already out of its
      // group and terminated (Auto Scaling would answer ValidationError by then). An unknown id
      // still reaches Auto Scaling and fails there.
      if (inst && (inst.ec2State === 'shutting-down' || inst.ec2State === 'terminated' || inst.lifecycleState.startsWith('Terminat'))) return;
      this.#ctx.asg.terminateInstanceInGroup(instanceId, false);
    });
  }

  async completeLifecycle(spec: ClusterSpec, nodeId: string, instanceId: string, result: 'CONTINUE' | 'ABANDON', options: DriverCallOptions = {}): Promise<void> {
    nodeSpec(spec, nodeId);
    await this.#api.call('CompleteLifecycleAction', options.signal, () =>
      this.#ctx.asg.completeLifecycleAction(groupName(spec.name, nodeId), LAUNCH_HOOK_NAME, instanceId, result),
    );
  }

  async setDns(spec: ClusterSpec, records: readonly DnsRecordSet[], options: DriverCallOptions = {}): Promise<void> {
    const dns = spec.dns;
    if (!dns) throw new BerthConfigError([{ path: 'dns', message: `setDns needs spec.dns (hostedZoneId, clusterRecord, nodeRecordTemplate) on cluster '${spec.name}'` }]);
    throwIfAborted(options.signal);
    if (records.length === 0) return;
    await this.#api.call('ChangeResourceRecordSets', options.signal, () =>
      this.#ctx.route53.changeRecordSets(
        dns.hostedZoneId,
        records.map((r) => ({ action: 'UPSERT' as const, record: { name: r.name, type: 'A' as const, ttl: dns.ttl, values: [...r.values] } })),
      ),
    );
  }

  async #nodeVolume(spec: ClusterSpec, nodeId: string, operation: string, signal: AbortSignal | undefined): Promise<{ id: string; sizeGiB: number } | null> {
    const vols = await this.#api.call('DescribeVolumes', signal, () =>
      this.#ctx.ec2.describeVolumes({ [TAG_CLUSTER]: spec.name, [TAG_NODE]: nodeId }).map((v) => ({ id: v.id, sizeGiB: v.sizeGiB })),
    );
    const v = vols[0] ?? null;
    if (!v && operation !== '') throw new BerthDriverError(operation, 'InvalidVolume.NotFound', `node ${nodeId} of cluster ${spec.name} has no data volume; run ensureNode first.`);
    return v;
  }

  async #waitSnapshot(snapshotId: string, signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      const snaps = await this.#api.call('DescribeSnapshots', signal, () => this.#ctx.ec2.describeSnapshots([snapshotId]).map((s) => s.state));
      if (snaps[0] === 'completed') return;
      await this.#ctx.scheduler.sleep(this.#ctx.options.timings.driverPollMs, signal, `wait for ${snapshotId}`);
    }
  }

  async snapshotVolume(
    spec: ClusterSpec,
    nodeId: string,
    options: DriverCallOptions & { readonly description?: string; readonly wait?: boolean } = {},
  ): Promise<{ readonly snapshotId: string }> {
    const { signal } = options;
    nodeSpec(spec, nodeId);
    const vol = (await this.#nodeVolume(spec, nodeId, 'CreateSnapshot', signal)) as { id: string };
    const snap = await this.#api.call('CreateSnapshot', signal, () =>
      this.#ctx.ec2.createSnapshot(vol.id, options.description ?? `berth ${spec.name}/${nodeId}`, this.#tags(spec, nodeId)),
    );
    if (options.wait) await this.#waitSnapshot(snap.id, signal);
    return { snapshotId: snap.id };
  }

  async resizeVolume(spec: ClusterSpec, nodeId: string, sizeGiB: number, options: DriverCallOptions = {}): Promise<void> {
    nodeSpec(spec, nodeId);
    const vol = (await this.#nodeVolume(spec, nodeId, 'ModifyVolume', options.signal)) as { id: string; sizeGiB: number };
    if (vol.sizeGiB === sizeGiB) return;
    await this.#api.call('ModifyVolume', options.signal, () => this.#ctx.ec2.modifyVolume(vol.id, sizeGiB));
  }

  async deleteNode(
    spec: ClusterSpec,
    nodeId: string,
    options: DriverCallOptions & { readonly policy?: DeletionPolicy } = {},
  ): Promise<DeleteNodeResult> {
    const { signal } = options;
    const node = nodeSpec(spec, nodeId);
    const policy = options.policy ?? node.dataVolume.deletionPolicy;
    const api = this.#api;
    const { ec2, asg, state } = this.#ctx;
    const poll = (what: string): Promise<void> => this.#ctx.scheduler.sleep(this.#ctx.options.timings.driverPollMs, signal, `deleteNode ${nodeId}: ${what}`);
    const changes: ResourceChange[] = [];
    const nodeFilter = { [TAG_CLUSTER]: spec.name, [TAG_NODE]: nodeId };
    let snapshotId: string | null = null;

    const asgName = groupName(spec.name, nodeId);
    const exists = await api.call('DescribeAutoScalingGroups', signal, () => state.groups.has(asgName));
    if (exists) {
      await api.call('DeleteAutoScalingGroup', signal, () => asg.deleteGroup(asgName));
      // ForceDelete terminates the instances; the group goes once they are terminated.
      while (await api.call('DescribeAutoScalingGroups', signal, () => state.groups.has(asgName))) await poll('group deletion');
      changes.push({ resource: 'auto-scaling-group', action: 'deleted', id: asgName });
    }
    const lt = await api.call('DescribeLaunchTemplates', signal, () => asg.findLaunchTemplate(asgName)?.id ?? null);
    if (lt) {
      await api.call('DeleteLaunchTemplate', signal, () => asg.deleteLaunchTemplate(lt));
      changes.push({ resource: 'launch-template', action: 'deleted', id: lt });
    }
    if (spec.dns) {
      const dns = spec.dns;
      const name = nodeRecordName(dns, nodeId);
      const recs = await api.call('ListResourceRecordSets', signal, () => this.#ctx.route53.listRecordSets(dns.hostedZoneId).filter((r) => stripDot(r.name) === stripDot(name)));
      const cur = recs[0];
      if (cur) {
        await api.call('ChangeResourceRecordSets', signal, () => this.#ctx.route53.changeRecordSets(dns.hostedZoneId, [{ action: 'DELETE', record: cur }]));
        changes.push({ resource: 'dns-record', action: 'deleted', id: name });
      }
    }
    for (;;) {
      const enis = await api.call('DescribeNetworkInterfaces', signal, () => ec2.describeNetworkInterfaces(nodeFilter).map((e) => ({ id: e.id, status: e.status })));
      const eni = enis[0];
      if (!eni) break;
      if (eni.status !== 'available') {
        await poll('ENI release');
        continue;
      }
      await api.call('DeleteNetworkInterface', signal, () => ec2.deleteNetworkInterface(eni.id));
      changes.push({ resource: 'network-interface', action: 'deleted', id: eni.id });
      break;
    }
    const vol = await this.#nodeVolume(spec, nodeId, '', signal);
    if (vol) {
      if (policy === 'retain') {
        changes.push({ resource: 'volume', action: 'retained', id: vol.id, detail: 'deletionPolicy retain: the volume and its data are kept' });
      } else {
        for (;;) {
          const st = await api.call('DescribeVolumes', signal, () => state.volumes.get(vol.id)?.state ?? 'deleted');
          if (st === 'available' || st === 'deleted') break;
          await poll('volume detach');
        }
        if (policy === 'snapshot') {
          const snap = await api.call('CreateSnapshot', signal, () => ec2.createSnapshot(vol.id, `berth ${spec.name}/${nodeId} final snapshot`, this.#tags(spec, nodeId)));
          snapshotId = snap.id;
          await this.#waitSnapshot(snap.id, signal);
          changes.push({ resource: 'volume', action: 'snapshotted', id: vol.id, detail: snap.id });
        }
        await api.call('DeleteVolume', signal, () => ec2.deleteVolume(vol.id));
        changes.push({ resource: 'volume', action: 'deleted', id: vol.id });
      }
    }
    this.#ctx.app.deregister(nodeId);
    return { nodeId, changes, snapshotId };
  }

  async waitForChange(spec: ClusterSpec, options: DriverCallOptions & { readonly timeoutMs: number }): Promise<readonly ClusterChange[]> {
    throwIfAborted(options.signal);
    const waitMs = Math.max(0, Math.min(options.timeoutMs, this.#ctx.options.timings.sqsMaxWaitMs));
    await this.#ctx.changes.waitForMessage(spec.name, waitMs, options.signal);
    return this.#api.call('ReceiveMessage', options.signal, () => this.#ctx.changes.drain(spec.name));
  }

  apiCallCounts(): Readonly<Record<string, number>> {
    return sortedCounts(this.#api.controllerCounts);
  }
}

export function sortedCounts(counts: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
