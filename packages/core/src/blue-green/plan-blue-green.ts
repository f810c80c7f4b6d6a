import { liveInstances, type ClusterObservation } from '../observation.js';
import { clusterStatuses, type NodeStatus } from '../plan/node-status.js';
import type { FieldChange } from '../plan/plan-cluster.js';
import type { ClusterSpec, DeletionPolicy } from '../spec/cluster-spec.js';
import { otherSide, type BlueGreenPlan, type BlueGreenStep, type Side, type TrafficStatus } from './blue-green-types.js';

/** One side as a look found it, against the spec it should run. Pure data. */
export interface SideFacts {
  readonly side: Side;
  readonly clusterName: string;
  readonly nodeIds: readonly string[];
  /** Some resource of the side exists. */
  readonly exists: boolean;
  readonly existingNodeIds: readonly string[];
  /** Every node has a current instance on the desired revision. */
  readonly current: boolean;
  /** Some node runs, or its group launches, another revision than desired. */
  readonly stale: boolean;
  readonly healthy: number;
  readonly total: number;
  readonly images: readonly string[];
  readonly instanceTypes: readonly string[];
  readonly policy: DeletionPolicy;
  /** The desired spec's image and instance type. */
  readonly desired: { readonly image: string; readonly instanceType: string };
}

/** The tier's settings the plan depends on. */
export interface PlanSettings {
  readonly rollbackWindowMs: number;
  readonly healthyTimeoutMs: number;
  readonly keepFailedSide: boolean;
  /** DNS: the record's TTL (s) and propagation time; target groups: the groups' timing. */
  readonly dns: { readonly recordName: string; readonly ttl: number; readonly propagationMs: number } | null;
}

/** What one look says about a side, against `spec` (the revision it should run). Pure. */
export function sideFacts(side: Side, spec: ClusterSpec, observation: ClusterObservation): { facts: SideFacts; statuses: NodeStatus[] } {
  const statuses = clusterStatuses(spec, observation);
  // Terminated instances stay visible for a while; what counts is what still exists.
  const existing = Object.values(observation.nodes)
    .filter((n) => n.group !== null || n.eni !== null || (n.volume !== null && n.volume.state !== 'deleted') || liveInstances(n).length > 0)
    .map((n) => n.nodeId)
    .sort();
  const current = statuses.map((s) => s.current).filter((i) => i !== null);
  const stale = statuses.some((s) => s.provisioned && (s.templateOutdated || (s.current !== null && s.current.revision !== s.desiredRevision)));
  return {
    statuses,
    facts: Object.freeze({
      side,
      clusterName: spec.name,
      nodeIds: spec.nodes.map((n) => n.id),
      exists: existing.length > 0,
      existingNodeIds: existing,
      current: statuses.every((s) => !s.outdated),
      stale,
      healthy: statuses.filter((s) => s.healthy).length,
      total: statuses.length,
      images: [...new Set(current.map((i) => i.imageId).filter((x): x is string => !!x))].sort(),
      instanceTypes: [...new Set(current.map((i) => i.instanceType).filter((x): x is string => !!x))].sort(),
      policy: spec.dataVolume.deletionPolicy,
      desired: { image: spec.image, instanceType: spec.instanceType },
    }),
  };
}

/** Every instance the side has or had (current, leaving, recently terminated). */
export function allInstanceIds(observation: ClusterObservation): string[] {
  return Object.values(observation.nodes).flatMap((n) => n.instances.map((i) => i.instanceId));
}

export function currentInstanceIds(observation: ClusterObservation): string[] {
  return Object.values(observation.nodes).flatMap((n) => liveInstances(n).map((i) => i.instanceId));
}

/**
 * The pure decision of what a deploy does, from where traffic goes and what each side runs
 * against the requested revision (`sides[s].desired`). A side not looked at is null: with no
 * traffic anywhere only blue is looked at, and blue is the target.
 */
export function planBlueGreen(tier: string, traffic: TrafficStatus, sides: Readonly<Record<Side, SideFacts | null>>, settings: PlanSettings): BlueGreenPlan {
  const warnings: string[] = [];
  const steps: BlueGreenStep[] = [];
  const base = { tier, traffic, live: traffic.live, warnings, steps };
  const blocked = (why: string, target: Side | null = null): BlueGreenPlan =>
    Object.freeze({ ...base, target, changes: [], onFailure: [], resume: null, blocked: why, noChanges: false });

  if (traffic.foreign.length > 0 && traffic.state !== 'foreign') {
    warnings.push(
      traffic.kind === 'dns'
        ? `the record also lists ${traffic.foreign.join(', ')}, an address of neither side; the shift replaces the whole record, so it is dropped`
        : `the target groups also route to ${traffic.foreign.join(', ')}, an instance of neither side; blue/green leaves it registered`,
    );
  }
  if (traffic.dead.length > 0) {
    warnings.push(`the target groups still list ${traffic.dead.join(', ')}, of stopped or terminated instances (ELB-12): they take no traffic; a deploy deregisters those EC2 still lists for a side, deregister the others yourself`);
  }
  if (traffic.state === 'foreign') {
    return blocked(
      `${traffic.summary}. Blue/green moves traffic only between its own sides: point the ${traffic.kind === 'dns' ? 'record' : 'target groups'} at one side (or remove ${traffic.kind === 'dns' ? 'the record' : 'those targets'}) first`,
    );
  }

  const settleDns = (previousTtl: number | null) => (settings.dns ? dnsSettleMs(settings.dns.propagationMs, previousTtl, settings.dns.ttl) : null);
  const shiftHow = (from: Side | null, to: Side) =>
    settings.dns
      ? `UPSERT ${settings.dns.recordName} A to ${to}'s node IPs (TTL ${settings.dns.ttl} s), then wait ${formatMs(settleDns(traffic.record?.ttl ?? null) ?? 0)} for clients to stop using the old answer (propagation ${formatMs(settings.dns.propagationMs)}${traffic.record ? ` + TTL ${Math.max(traffic.record.ttl, settings.dns.ttl)} s` : ''})`
      : `register ${to}'s instances in every target group and wait until each is healthy${from ? `, then deregister ${from}'s and wait out the deregistration delay` : ''}`;
  const failedSideFate = (s: Side) => (settings.keepFailedSide ? `${s} is kept for inspection (keepFailedSide; the next deploy replaces it)` : `${s} is deleted`);

  const forward = (from: Side | null, to: Side, facts: SideFacts, resume: string | null): BlueGreenPlan => {
    const old = from;
    if (facts.stale) {
      steps.push({ kind: 'delete-side', side: to, clusterName: facts.clusterName, nodeIds: facts.existingNodeIds, policy: facts.policy, when: 'now', why: `it takes no traffic and runs another revision (images ${facts.images.join(', ') || 'unknown'}); it is created again on the requested one` });
    }
    steps.push({ kind: 'create-side', side: to, clusterName: facts.clusterName, nodeIds: facts.nodeIds, existing: facts.stale ? [] : facts.existingNodeIds });
    steps.push({ kind: 'wait-healthy', side: to, timeoutMs: settings.healthyTimeoutMs });
    steps.push({ kind: 'verify', side: to });
    steps.push({ kind: 'shift-traffic', from, to, how: shiftHow(from, to), settleMs: settleDns(traffic.record?.ttl ?? null) });
    if (old) {
      const oldFacts = sides[old];
      steps.push({ kind: 'rollback-window', live: to, old, windowMs: settings.rollbackWindowMs });
      steps.push({ kind: 'delete-side', side: old, clusterName: oldFacts?.clusterName ?? old, nodeIds: oldFacts?.existingNodeIds.length ? oldFacts.existingNodeIds : (oldFacts?.nodeIds ?? []), policy: oldFacts?.policy ?? 'delete', when: 'after-window', why: 'its rollback window is over' });
      if (oldFacts && oldFacts.healthy < oldFacts.total) warnings.push(`${old} (the live side) has ${oldFacts.healthy} of ${oldFacts.total} nodes healthy: a rollback to it needs it healthy`);
    }
    const onFailure = [
      `before the shift (a node not healthy in ${formatMs(settings.healthyTimeoutMs)}, verify says no${settings.dns ? '' : ', targets not healthy'}): ${failedSideFate(to)}; ${old ?? 'no side'} keeps the traffic, untouched`,
      ...(old ? [`during the rollback window (a node of ${to} unhealthy, verify says no, or rollback()): traffic goes back to ${old}, then ${failedSideFate(to)}`] : []),
    ];
    const changes = fieldChanges(old ? sides[old] : null, facts);
    return Object.freeze({ ...base, target: to, changes, onFailure, resume, blocked: null, noChanges: false });
  };

  if (traffic.state === 'mixed') {
    const candidates = (['blue', 'green'] as const).filter((s) => sides[s]?.current);
    if (candidates.length !== 1) {
      return blocked(
        `${traffic.summary}, and ${candidates.length === 0 ? 'neither side runs' : 'both sides run'} the requested revision: finish or undo the shift with rollback({ to: 'blue' | 'green' }) first`,
      );
    }
    const to = candidates[0] as Side;
    const from = otherSide(to);
    steps.push({ kind: 'wait-healthy', side: to, timeoutMs: settings.healthyTimeoutMs });
    steps.push({ kind: 'verify', side: to });
    steps.push({ kind: 'shift-traffic', from, to, how: shiftHow(from, to), settleMs: null });
    steps.push({ kind: 'rollback-window', live: to, old: from, windowMs: settings.rollbackWindowMs });
    const f = sides[from];
    steps.push({ kind: 'delete-side', side: from, clusterName: f?.clusterName ?? from, nodeIds: f?.existingNodeIds ?? [], policy: f?.policy ?? 'delete', when: 'after-window', why: 'its rollback window is over' });
    return Object.freeze({
      ...base,
      target: to,
      changes: fieldChanges(f, sides[to] as SideFacts),
      onFailure: [`if ${to} fails its checks: traffic goes back to ${from}, then ${failedSideFate(to)}`],
      resume: `a shift to ${to} stopped part-way (${traffic.summary}); ${to} runs the requested revision, so the shift is finished`,
      blocked: null,
      noChanges: false,
    });
  }

  if (traffic.live === null) {
    const facts = sides.blue;
    if (!facts) return blocked('blue was not looked at');
    const resume = facts.exists && !facts.stale ? `blue exists on the requested revision with no traffic yet (a first deploy that stopped before the shift): it is converged and the deploy goes on` : null;
    return forward(null, 'blue', facts, resume);
  }

  const live = traffic.live;
  const idle = otherSide(live);
  const liveFacts = sides[live];
  const idleFacts = sides[idle];
  if (!liveFacts || !idleFacts) return blocked('both sides must be looked at');
  if (liveFacts.current) {
    if (!idleFacts.exists) {
      return Object.freeze({ ...base, target: null, changes: [], onFailure: [], resume: null, blocked: null, noChanges: true });
    }
    steps.push({ kind: 'settle', to: live, how: settings.dns ? `wait ${formatMs(settleDns(traffic.record?.ttl ?? 0) ?? 0)} (propagation + TTL) in case the shift was just made` : `wait until no target of ${idle} is still draining` });
    steps.push({ kind: 'rollback-window', live, old: idle, windowMs: settings.rollbackWindowMs });
    steps.push({ kind: 'delete-side', side: idle, clusterName: idleFacts.clusterName, nodeIds: idleFacts.existingNodeIds, policy: idleFacts.policy, when: 'after-window', why: 'its rollback window is over' });
    return Object.freeze({
      ...base,
      target: live,
      changes: [],
      onFailure: [`during the rollback window (a node of ${live} unhealthy, verify says no, or rollback()): traffic goes back to ${idle}, then ${failedSideFate(live)}`],
      resume: `traffic already goes to ${live}, which runs the requested revision, and ${idle} still exists (a deploy that stopped after its shift, or a side kept after a rollback): the rollback window starts again, then ${idle} is deleted`,
      blocked: null,
      noChanges: false,
    });
  }
  const resume = idleFacts.exists && !idleFacts.stale ? `${idle} exists on the requested revision with no traffic (a deploy that stopped before its shift): it is converged and the deploy goes on` : null;
  return forward(live, idle, idleFacts, resume);
}

function fieldChanges(from: SideFacts | null, to: SideFacts): FieldChange[] {
  const out: FieldChange[] = [];
  const one = (xs: readonly string[]) => (xs.length === 1 ? (xs[0] as string) : xs.length === 0 ? null : xs.join(', '));
  const fromImage = from ? one(from.images) : null;
  if (fromImage !== to.desired.image) out.push({ field: 'image', from: fromImage, to: to.desired.image });
  const fromType = from ? one(from.instanceTypes) : null;
  if (fromType !== to.desired.instanceType) out.push({ field: 'instanceType', from: fromType, to: to.desired.instanceType });
  return out;
}

/**
 * How long clients may still use a record's previous answer after an UPSERT: the change's
 * propagation to every Route 53 name server (R53-4), then the longest TTL a resolver may have
 * cached it for (R53-9) — the previous TTL, or the new one if longer. No previous record: no
 * previous answer to wait out.
 */
export function dnsSettleMs(propagationMs: number, previousTtl: number | null, ttl: number): number {
  return propagationMs + (previousTtl === null ? 0 : Math.max(previousTtl, ttl) * 1000);
}

/** `90 s`, `5 min`, `1 h 30 min`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 120) return `${min} min`;
  const h = Math.floor(min / 60);
  const rest = min % 60;
  return rest === 0 ? `${h} h` : `${h} h ${rest} min`;
}

/**
 * Renders a blue/green plan the way `formatPlan` renders a roll: numbered steps, `+` for what
 * is created, `-` for what is deleted (and when), `~` for the traffic shift, then what a failure
 * does.
 */
export function formatBlueGreenPlan(plan: BlueGreenPlan): string {
  const lines: string[] = [];
  const how = plan.traffic.kind === 'dns' ? 'DNS cutover' : 'target groups';
  lines.push(`Tier ${plan.tier} (${how}): ${plan.traffic.summary}.`);
  if (plan.blocked) {
    lines.push('', `Blocked: ${plan.blocked}.`);
    for (const w of plan.warnings) lines.push('', `Warning: ${w}`);
    return lines.join('\n');
  }
  if (plan.noChanges) {
    lines.push('', `No changes. ${plan.live} runs the requested revision and the other side does not exist.`);
    for (const w of plan.warnings) lines.push('', `Warning: ${w}`);
    return lines.join('\n');
  }
  if (plan.resume) lines.push('', `Resuming: ${plan.resume}.`);
  lines.push('', 'Berth will perform the following actions:', '');
  let created = 0;
  let deleted = 0;
  plan.steps.forEach((s, i) => {
    const n = `${String(i + 1).padStart(2)}.`;
    switch (s.kind) {
      case 'delete-side':
        deleted += s.nodeIds.length;
        lines.push(`  ${n} - delete ${s.side} (${s.clusterName}, ${count(s.nodeIds.length, 'node')}${s.nodeIds.length ? `: ${s.nodeIds.join(', ')}` : ''}; data volumes: ${s.policy}) ${s.when === 'now' ? 'now' : 'after the rollback window'}: ${s.why}`);
        break;
      case 'create-side': {
        const fresh = s.nodeIds.filter((id) => !s.existing.includes(id)).length;
        created += fresh;
        lines.push(`  ${n} + ${fresh === s.nodeIds.length ? 'create' : 'converge'} ${s.side} (${s.clusterName}, ${count(s.nodeIds.length, 'node')}: ${s.nodeIds.join(', ')}${fresh < s.nodeIds.length ? `; ${fresh} to create` : ''})`);
        const width = Math.max(8, ...plan.changes.map((c) => c.field.length));
        for (const c of plan.changes) lines.push(`          ${c.field.padEnd(width)}  ${c.from === null ? '' : `${c.from} → `}${c.to}`);
        break;
      }
      case 'wait-healthy':
        lines.push(`  ${n}   wait until every ${s.side} node is healthy (at most ${formatMs(s.timeoutMs)})`);
        break;
      case 'verify':
        lines.push(`  ${n}   verify ${s.side} (hooks.verify)`);
        break;
      case 'shift-traffic':
        lines.push(`  ${n} ~ shift traffic ${s.from ?? 'nowhere'} → ${s.to}: ${s.how}`);
        break;
      case 'settle':
        lines.push(`  ${n}   let traffic settle on ${s.to}: ${s.how}`);
        break;
      case 'rollback-window':
        lines.push(`  ${n}   keep ${s.old} for the rollback window (${formatMs(s.windowMs)}), ${s.live}'s health watched; on a failure or rollback(), traffic goes back to ${s.old}`);
        break;
    }
  });
  lines.push('', 'On failure:');
  for (const f of plan.onFailure) lines.push(`  - ${f}`);
  lines.push('', `Plan: ${count(created, 'node')} to create, ${count(deleted, 'node')} to delete${plan.steps.some((s) => s.kind === 'delete-side' && s.when === 'after-window') ? ' (the old side, after the rollback window)' : ''}.`);
  for (const w of plan.warnings) lines.push('', `Warning: ${w}`);
  return lines.join('\n');
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}
