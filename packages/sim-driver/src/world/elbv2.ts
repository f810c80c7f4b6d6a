import { fault } from '../aws/aws-error.js';
import type { SimContext } from '../sim-context.js';
import type { SimInstance, Tags } from './entities.js';
import type { SimHealthCheck, SimListener, SimLoadBalancer, SimTarget, SimTargetGroup } from './elbv2-entities.js';

/** ELB-6: the defaults of an instance target group (CreateTargetGroup API reference). */
export const TARGET_GROUP_DEFAULTS = Object.freeze({
  intervalSec: 30,
  healthyThreshold: 5,
  unhealthyThreshold: 2,
  /** HTTP; TCP-family health checks wait 10 s. */
  httpTimeoutSec: 5,
  tcpTimeoutSec: 10,
  deregistrationDelaySec: 300,
});

/** The attributes of a new target group and their defaults; the simulated ELBv2 accepts only these keys. */
const DEFAULT_ATTRIBUTES: readonly (readonly [string, string])[] = [
  ['deregistration_delay.timeout_seconds', String(TARGET_GROUP_DEFAULTS.deregistrationDelaySec)],
  ['stickiness.enabled', 'false'],
  ['stickiness.type', 'lb_cookie'],
  ['load_balancing.algorithm.type', 'round_robin'],
  ['load_balancing.cross_zone.enabled', 'use_load_balancer_configuration'],
  ['slow_start.duration_seconds', '0'],
];

const TCP_PROTOCOLS = new Set(['TCP', 'TLS', 'UDP', 'TCP_UDP']);
const HTTP_PROTOCOLS = new Set(['HTTP', 'HTTPS']);

/** What CreateTargetGroup takes (already read from the SDK input). */
export interface TargetGroupRequest {
  readonly name: string;
  readonly protocol: string;
  readonly port: number;
  readonly vpcId: string;
  readonly targetType?: string;
  readonly healthCheck?: Partial<Omit<SimHealthCheck, 'port'>> & { readonly port?: string };
  readonly tags?: Tags;
  /** The account's own groups (`SimAccount`): the group gets this ARN (its name and id). */
  readonly arn?: string;
}

export interface LoadBalancerRequest {
  readonly name: string;
  readonly type: 'application' | 'network';
  readonly scheme: 'internet-facing' | 'internal';
  readonly subnetIds: readonly string[];
  readonly securityGroups: readonly string[];
  readonly tags?: Tags;
}

export interface ListenerRequest {
  readonly loadBalancerArn: string;
  readonly protocol: string;
  readonly port: number;
  readonly defaultActions: readonly Readonly<Record<string, unknown>>[];
}

/** A target as a request names it (`TargetDescription`: Id, optional Port). */
export interface TargetRef {
  readonly id: string;
  readonly port?: number;
}

/** One row of DescribeTargetHealth. */
export interface TargetHealthRow {
  readonly instanceId: string;
  readonly port: number;
  readonly healthCheckPort: string;
  readonly state: 'initial' | 'healthy' | 'unhealthy' | 'unused' | 'draining';
  readonly reason: string | null;
  readonly description: string | null;
}

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  'Elb.RegistrationInProgress': 'Target registration is in progress',
  'Elb.InitialHealthChecking': 'Initial health checks in progress',
  'Target.FailedHealthChecks': 'Health checks failed',
  'Target.NotRegistered': 'Target is not registered to the target group',
  'Target.NotInUse': 'Target group is not configured to receive traffic from the load balancer',
  'Target.DeregistrationInProgress': 'Target deregistration is in progress',
};

const NAME = /^(?!-)(?!.*--)[A-Za-z0-9-]{1,32}(?<!-)$/;

function range(what: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi) throw fault('ValidationError', `${what} must be between ${lo} and ${hi}; got ${v}`);
}

/**
 * Elastic Load Balancing (v2) in the simulated account: target groups of instances, load
 * balancers and listeners (enough for a group to be in use), registration with the health
 * checks ELB runs, in virtual time, and deregistration with its draining. Each rule cites
 * docs/aws-behaviour.md (ELB-n).
 *
 * A health check passes when the instance is running and the simulated application's member on
 * it is healthy (up, reachable, caught up: what the node bootstrap waits for), so a target's
 * state follows the application, not the Auto Scaling group.
 */
export class Elbv2 {
  readonly #ctx: SimContext;

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
  }

  get #now(): number {
    return this.#ctx.scheduler.nowMs;
  }

  #arn(resource: string): string {
    const a = this.#ctx.account;
    return `arn:${a.partition}:elasticloadbalancing:${a.region}:${a.accountId}:${resource}`;
  }

  /** 16 hex digits, deterministic (the id part of ELBv2 ARNs). */
  #hexId(kind: string): string {
    return this.#ctx.state.nextId(kind, 16).slice(-16);
  }

  // ---- target groups --------------------------------------------------------------------------

  /** ELB-6, ELB-7: CreateTargetGroup (idempotent for the same settings). */
  createTargetGroup(req: TargetGroupRequest): SimTargetGroup {
    const { state } = this.#ctx;
    if (!NAME.test(req.name)) {
      throw fault('ValidationError', `Target group name '${req.name}' must be 1–32 letters, digits and hyphens, and must not begin or end with a hyphen`);
    }
    const targetType = req.targetType ?? 'instance';
    if (targetType !== 'instance') throw fault('ValidationError', `The simulated ELBv2 has instance target groups only; got TargetType '${targetType}'`);
    const protocol = req.protocol.toUpperCase();
    if (!HTTP_PROTOCOLS.has(protocol) && !TCP_PROTOCOLS.has(protocol)) throw fault('ValidationError', `Protocol '${req.protocol}' is not one of HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP`);
    range('Port', req.port, 1, 65535);
    if (!state.vpcs.has(req.vpcId)) throw fault('ValidationError', `The VPC ID '${req.vpcId}' is not found`);
    const hc = req.healthCheck ?? {};
    const tcp = TCP_PROTOCOLS.has(protocol);
    const healthCheck: SimHealthCheck = {
      protocol: (hc.protocol ?? (tcp ? 'TCP' : protocol)).toUpperCase(),
      port: hc.port ?? 'traffic-port',
      path: hc.path ?? (tcp && hc.protocol === undefined ? null : '/'),
      intervalSec: hc.intervalSec ?? TARGET_GROUP_DEFAULTS.intervalSec,
      timeoutSec: hc.timeoutSec ?? (tcp ? TARGET_GROUP_DEFAULTS.tcpTimeoutSec : TARGET_GROUP_DEFAULTS.httpTimeoutSec),
      healthyThreshold: hc.healthyThreshold ?? TARGET_GROUP_DEFAULTS.healthyThreshold,
      unhealthyThreshold: hc.unhealthyThreshold ?? TARGET_GROUP_DEFAULTS.unhealthyThreshold,
    };
    range('HealthCheckIntervalSeconds', healthCheck.intervalSec, 5, 300);
    range('HealthCheckTimeoutSeconds', healthCheck.timeoutSec, 2, 120);
    range('HealthyThresholdCount', healthCheck.healthyThreshold, 2, 10);
    range('UnhealthyThresholdCount', healthCheck.unhealthyThreshold, 2, 10);
    if (healthCheck.timeoutSec >= healthCheck.intervalSec) {
      throw fault('ValidationError', `Health check timeout '${healthCheck.timeoutSec}' must be smaller than the interval '${healthCheck.intervalSec}'`);
    }
    const existing = [...state.targetGroups.values()].find((g) => g.name === req.name);
    if (existing) {
      const same = existing.protocol === protocol && existing.port === req.port && existing.vpcId === req.vpcId && JSON.stringify(existing.healthCheck) === JSON.stringify(healthCheck);
      if (same && (req.arn === undefined || req.arn === existing.arn)) return existing;
      throw fault('DuplicateTargetGroupName', `A target group with the same name '${req.name}' exists, but with different settings`);
    }
    let arn = this.#arn(`targetgroup/${req.name}/${this.#hexId('elb-tg')}`);
    if (req.arn !== undefined) {
      const m = /^arn:([^:]+):elasticloadbalancing:([^:]+):(\d{12}):targetgroup\/([^/]+)\/[0-9a-f]{16}$/.exec(req.arn);
      const a = this.#ctx.account;
      if (!m || m[1] !== a.partition || m[2] !== a.region || m[3] !== a.accountId || m[4] !== req.name) {
        throw fault('ValidationError', `ARN '${req.arn}' is not a target group ARN of this account and region named '${req.name}'`);
      }
      arn = req.arn;
    }
    const group: SimTargetGroup = {
      arn,
      name: req.name,
      protocol,
      port: req.port,
      vpcId: req.vpcId,
      targetType: 'instance',
      healthCheck,
      attributes: new Map(DEFAULT_ATTRIBUTES),
      tags: { ...req.tags },
      targets: new Map(),
      createdAtMs: this.#now,
    };
    state.targetGroups.set(arn, group);
    this.#ctx.trace.record('elb.target-group-created', { targetGroupArn: arn, name: req.name });
    return group;
  }

  /** The group, or `TargetGroupNotFound` (ELB-9). */
  targetGroup(arn: string): SimTargetGroup {
    const g = this.#ctx.state.targetGroups.get(arn);
    if (!g) throw fault('TargetGroupNotFound', 'One or more target groups not found');
    return g;
  }

  /** DescribeTargetGroups: by ARNs, by names or by load balancer (at most one of them), else every group. */
  findTargetGroups(by: { arns: readonly string[]; names: readonly string[]; loadBalancerArn: string | null }): SimTargetGroup[] {
    const all = [...this.#ctx.state.targetGroups.values()];
    if (by.arns.length > 0) return by.arns.map((a) => this.targetGroup(a));
    if (by.names.length > 0) {
      return by.names.map((n) => {
        const g = all.find((x) => x.name === n);
        if (!g) throw fault('TargetGroupNotFound', 'One or more target groups not found');
        return g;
      });
    }
    if (by.loadBalancerArn !== null) {
      this.loadBalancer(by.loadBalancerArn);
      return all.filter((g) => this.loadBalancerArnsOf(g).includes(by.loadBalancerArn as string));
    }
    return all;
  }

  /** The load balancers whose listeners forward to the group. */
  loadBalancerArnsOf(group: SimTargetGroup): string[] {
    const out = new Set<string>();
    for (const l of this.#ctx.state.listeners.values()) if (l.targetGroupArns.includes(group.arn)) out.add(l.loadBalancerArn);
    return [...out];
  }

  /** ELB-8: a group that a listener forwards to cannot be deleted. */
  deleteTargetGroup(arn: string): void {
    const g = this.#ctx.state.targetGroups.get(arn);
    if (!g) return;
    if (this.loadBalancerArnsOf(g).length > 0) throw fault('ResourceInUse', `The target group '${arn}' is currently in use by a listener or a rule`);
    for (const t of g.targets.values()) this.#stop(t);
    this.#ctx.state.targetGroups.delete(arn);
    this.#ctx.trace.record('elb.target-group-deleted', { targetGroupArn: arn });
  }

  /** ELB-5, ELB-6: ModifyTargetGroupAttributes (all or nothing); returns the group's attributes. */
  modifyAttributes(arn: string, attributes: readonly (readonly [string, string])[]): SimTargetGroup {
    const g = this.targetGroup(arn);
    for (const [key, value] of attributes) {
      if (!g.attributes.has(key)) throw fault('ValidationError', `The simulated ELBv2 does not know the target group attribute '${key}' (it knows ${[...g.attributes.keys()].join(', ')})`);
      if (key === 'deregistration_delay.timeout_seconds' || key === 'slow_start.duration_seconds') {
        const n = Number(value);
        const [lo, hi] = key === 'deregistration_delay.timeout_seconds' ? [0, 3600] : [0, 900];
        if (!/^\d+$/.test(value) || n < lo || n > hi) throw fault('ValidationError', `'${key}' value '${value}' must be between '${lo}-${hi}' inclusive`);
      }
    }
    for (const [key, value] of attributes) g.attributes.set(key, value);
    return g;
  }

  /** ELB-5: the deregistration delay in ms. */
  #delayMs(g: SimTargetGroup): number {
    return Number(g.attributes.get('deregistration_delay.timeout_seconds') ?? TARGET_GROUP_DEFAULTS.deregistrationDelaySec) * 1000;
  }

  // ---- load balancers and listeners ---------------------------------------------------------

  /** CreateLoadBalancer (idempotent for the same settings). Active at once (AWS: provisioning first). */
  createLoadBalancer(req: LoadBalancerRequest): SimLoadBalancer {
    const { state } = this.#ctx;
    if (!NAME.test(req.name) || req.name.startsWith('internal-')) {
      throw fault('ValidationError', `Load balancer name '${req.name}' must be 1–32 letters, digits and hyphens, must not begin or end with a hyphen nor begin with 'internal-'`);
    }
    const subnets = req.subnetIds.map((id) => {
      const s = state.subnets.get(id);
      if (!s) throw fault('SubnetNotFound', `The subnet ID '${id}' is not valid`);
      return s;
    });
    if (subnets.length === 0) throw fault('ValidationError', 'A load balancer needs at least one subnet');
    const vpcIds = new Set(subnets.map((s) => s.vpcId));
    if (vpcIds.size > 1) throw fault('InvalidSubnet', 'The subnets must all be in the same VPC');
    const azs = new Set(subnets.map((s) => s.az));
    if (azs.size !== subnets.length) throw fault('InvalidConfigurationRequest', 'A load balancer cannot be attached to multiple subnets in the same Availability Zone');
    if (req.type === 'application' && azs.size < 2) throw fault('ValidationError', 'At least two subnets in two different Availability Zones must be specified');
    const existing = [...state.loadBalancers.values()].find((l) => l.name === req.name);
    if (existing) {
      if (existing.type === req.type && existing.subnets.map((s) => s.subnetId).join() === subnets.map((s) => s.id).join()) return existing;
      throw fault('DuplicateLoadBalancerName', `A load balancer with the same name '${req.name}' exists, but with different settings`);
    }
    const id = this.#hexId('elb-lb');
    const kind = req.type === 'application' ? 'app' : 'net';
    const lb: SimLoadBalancer = {
      arn: this.#arn(`loadbalancer/${kind}/${req.name}/${id}`),
      name: req.name,
      type: req.type,
      scheme: req.scheme,
      vpcId: subnets[0]?.vpcId as string,
      subnets: subnets.map((s) => ({ subnetId: s.id, az: s.az })),
      securityGroups: [...req.securityGroups],
      dnsName: `${req.scheme === 'internal' ? 'internal-' : ''}${req.name}-${id.slice(0, 10)}.elb.${this.#ctx.account.region}.amazonaws.com`,
      tags: { ...req.tags },
      createdAtMs: this.#now,
    };
    state.loadBalancers.set(lb.arn, lb);
    this.#ctx.trace.record('elb.load-balancer-created', { loadBalancerArn: lb.arn, name: lb.name });
    return lb;
  }

  loadBalancer(arn: string): SimLoadBalancer {
    const lb = this.#ctx.state.loadBalancers.get(arn);
    if (!lb) throw fault('LoadBalancerNotFound', 'One or more load balancers not found');
    return lb;
  }

  /** DeleteLoadBalancer: its listeners go with it (idempotent). */
  deleteLoadBalancer(arn: string): void {
    const { state } = this.#ctx;
    if (!state.loadBalancers.has(arn)) return;
    const affected = new Set<string>();
    for (const l of [...state.listeners.values()]) {
      if (l.loadBalancerArn !== arn) continue;
      for (const g of l.targetGroupArns) affected.add(g);
      state.listeners.delete(l.arn);
    }
    state.loadBalancers.delete(arn);
    this.#ctx.trace.record('elb.load-balancer-deleted', { loadBalancerArn: arn });
    for (const g of affected) this.#refresh(g);
  }

  /** CreateListener with `forward` default actions: the groups it forwards to are in use from now on (ELB-2). */
  createListener(req: ListenerRequest): SimListener {
    const { state } = this.#ctx;
    const lb = this.loadBalancer(req.loadBalancerArn);
    range('Port', req.port, 1, 65535);
    const protocol = req.protocol.toUpperCase();
    const fits = lb.type === 'application' ? HTTP_PROTOCOLS.has(protocol) : TCP_PROTOCOLS.has(protocol);
    if (!fits) throw fault('IncompatibleProtocols', `Protocol '${protocol}' is not supported by a load balancer of type '${lb.type}'`);
    const groups: string[] = [];
    for (const a of req.defaultActions) {
      if (a['Type'] !== 'forward') throw fault('ValidationError', `The simulated ELBv2 answers 'forward' actions only; got '${String(a['Type'])}'`);
      const one = typeof a['TargetGroupArn'] === 'string' ? [a['TargetGroupArn']] : [];
      const cfg = (a['ForwardConfig'] as { TargetGroups?: { TargetGroupArn?: string }[] } | undefined)?.TargetGroups ?? [];
      for (const arn of [...one, ...cfg.map((t) => t.TargetGroupArn ?? '')]) {
        const g = this.targetGroup(arn);
        if (g.vpcId !== lb.vpcId) throw fault('ValidationError', `Target group '${arn}' is in VPC '${g.vpcId}', the load balancer in '${lb.vpcId}'`);
        const fitsGroup = lb.type === 'application' ? HTTP_PROTOCOLS.has(g.protocol) : TCP_PROTOCOLS.has(g.protocol);
        if (!fitsGroup) throw fault('IncompatibleProtocols', `Target group '${arn}' has protocol '${g.protocol}', which a load balancer of type '${lb.type}' cannot forward to`);
        if (!groups.includes(arn)) groups.push(arn);
      }
    }
    if (groups.length === 0) throw fault('ValidationError', 'A listener needs a default action that forwards to a target group');
    const same = [...state.listeners.values()].find((l) => l.loadBalancerArn === lb.arn && l.port === req.port);
    if (same) {
      if (same.protocol === protocol && same.targetGroupArns.join() === groups.join()) return same;
      throw fault('DuplicateListener', 'A listener already exists on this port for this load balancer');
    }
    const lbPart = lb.arn.split(':loadbalancer/')[1] as string;
    const listener: SimListener = {
      arn: this.#arn(`listener/${lbPart}/${this.#hexId('elb-listener')}`),
      loadBalancerArn: lb.arn,
      protocol,
      port: req.port,
      targetGroupArns: groups,
      defaultActions: structuredClone(req.defaultActions) as Record<string, unknown>[],
    };
    state.listeners.set(listener.arn, listener);
    this.#ctx.trace.record('elb.listener-created', { listenerArn: listener.arn, targetGroupArns: groups });
    for (const g of groups) this.#refresh(g);
    return listener;
  }

  listener(arn: string): SimListener {
    const l = this.#ctx.state.listeners.get(arn);
    if (!l) throw fault('ListenerNotFound', 'One or more listeners not found');
    return l;
  }

  deleteListener(arn: string): void {
    const l = this.listener(arn);
    this.#ctx.state.listeners.delete(arn);
    for (const g of l.targetGroupArns) this.#refresh(g);
  }

  // ---- targets ----------------------------------------------------------------------------

  /**
   * ELB-3, ELB-10: registers instances (all or nothing). Each must exist, run and be in the
   * group's VPC. A target already registered is left as it is; a draining one is registered
   * anew (its draining ends and its health checks start over).
   */
  registerTargets(arn: string, targets: readonly TargetRef[]): void {
    const g = this.targetGroup(arn);
    if (targets.length === 0) throw fault('ValidationError', 'Targets must list at least one target');
    const missing: string[] = [];
    const notRunning: string[] = [];
    const otherVpc: string[] = [];
    for (const t of targets) {
      if (t.port !== undefined) range('Port', t.port, 1, 65535);
      const inst = this.#ctx.state.instances.get(t.id);
      if (!inst) missing.push(t.id);
      else if (inst.ec2State !== 'running') notRunning.push(t.id);
      else if (inst.vpcId !== g.vpcId) otherVpc.push(t.id);
    }
    const list = (ids: string[]) => ids.map((i) => `'${i}'`).join(', ');
    if (missing.length > 0) throw fault('InvalidTarget', `The specified target does not exist, is not in the same VPC as the target group, or has an unsupported instance type: ${list(missing)}`);
    if (notRunning.length > 0) throw fault('InvalidTarget', `The following targets are not in a running state and cannot be registered: ${list(notRunning)}`);
    if (otherVpc.length > 0) throw fault('InvalidTarget', `The following targets are not in the target group's VPC '${g.vpcId}': ${list(otherVpc)}`);
    for (const ref of targets) {
      const port = ref.port ?? g.port;
      const key = `${ref.id}:${port}`;
      const cur = g.targets.get(key);
      if (cur && cur.drainingUntilMs === null) continue;
      if (cur) this.#stop(cur);
      const t: SimTarget = { instanceId: ref.id, port, state: 'initial', reason: 'Elb.RegistrationInProgress', passes: 0, fails: 0, checkEv: null, drainingUntilMs: null, drainEv: null, registeredAtMs: this.#now };
      g.targets.delete(key); // a re-registered target goes to the end, as a new one
      g.targets.set(key, t);
      this.#ctx.trace.record('elb.target-registered', { targetGroupArn: g.arn, instanceId: ref.id, port });
      if (this.#eligible(g, t)) this.#startChecks(g, t);
    }
  }

  /**
   * ELB-5, ELB-11: deregisters targets. Each goes `draining` for the group's deregistration
   * delay, then leaves the group. A target that is not registered is no error.
   */
  deregisterTargets(arn: string, targets: readonly TargetRef[]): void {
    const g = this.targetGroup(arn);
    if (targets.length === 0) throw fault('ValidationError', 'Targets must list at least one target');
    const delayMs = this.#delayMs(g);
    for (const ref of targets) {
      const key = `${ref.id}:${ref.port ?? g.port}`;
      const t = g.targets.get(key);
      if (!t || t.drainingUntilMs !== null) continue;
      this.#stop(t);
      t.drainingUntilMs = this.#now + delayMs;
      this.#ctx.trace.record('elb.target-draining', { targetGroupArn: g.arn, instanceId: t.instanceId, untilMs: t.drainingUntilMs });
      const done = (): void => {
        if (g.targets.get(key) !== t) return;
        g.targets.delete(key);
        this.#ctx.trace.record('elb.target-deregistered', { targetGroupArn: g.arn, instanceId: t.instanceId });
      };
      if (delayMs === 0) done();
      else t.drainEv = this.#ctx.scheduler.after(delayMs, `elb drained ${t.instanceId} ${g.name}`, done);
    }
  }

  /** DescribeTargetHealth: every registered target (draining ones included), or the named ones (ELB-1, ELB-4). */
  targetHealth(arn: string, targets: readonly TargetRef[] | null): TargetHealthRow[] {
    const g = this.targetGroup(arn);
    if (targets === null || targets.length === 0) return [...g.targets.values()].map((t) => this.#row(g, t));
    return targets.map((ref) => {
      const port = ref.port ?? g.port;
      const t = g.targets.get(`${ref.id}:${port}`);
      if (t) return this.#row(g, t);
      if (!this.#ctx.state.instances.has(ref.id)) {
        throw fault('InvalidTarget', `The specified target does not exist, is not in the same VPC as the target group, or has an unsupported instance type: '${ref.id}'`);
      }
      return { instanceId: ref.id, port, healthCheckPort: this.#checkPort(g, port), state: 'unused', reason: 'Target.NotRegistered', description: DESCRIPTIONS['Target.NotRegistered'] as string };
    });
  }

  #checkPort(g: SimTargetGroup, port: number): string {
    return g.healthCheck.port === 'traffic-port' ? String(port) : g.healthCheck.port;
  }

  /** ELB-1, ELB-12: the state AWS reports for a registered target now. */
  #row(g: SimTargetGroup, t: SimTarget): TargetHealthRow {
    const base = { instanceId: t.instanceId, port: t.port, healthCheckPort: this.#checkPort(g, t.port) };
    if (t.drainingUntilMs !== null) return { ...base, state: 'draining', reason: 'Target.DeregistrationInProgress', description: DESCRIPTIONS['Target.DeregistrationInProgress'] as string };
    const inst = this.#ctx.state.instances.get(t.instanceId);
    if (!inst || inst.ec2State !== 'running') {
      const what = !inst || inst.ec2State === 'terminated' || inst.ec2State === 'shutting-down' ? 'terminated' : 'stopped';
      return { ...base, state: 'unused', reason: 'Target.InvalidState', description: `Target is in the ${what} state` };
    }
    if (!this.#inUseFor(g, inst)) return { ...base, state: 'unused', reason: 'Target.NotInUse', description: DESCRIPTIONS['Target.NotInUse'] as string };
    return { ...base, state: t.state, reason: t.reason, description: t.reason === null ? null : (DESCRIPTIONS[t.reason] ?? null) };
  }

  // ---- health checks (ELB-2, ELB-3, ELB-4) ---------------------------------------------------

  /** A load balancer forwards to the group and is enabled in the instance's AZ (ELB-2). */
  #inUseFor(g: SimTargetGroup, inst: SimInstance): boolean {
    for (const lbArn of this.loadBalancerArnsOf(g)) {
      const lb = this.#ctx.state.loadBalancers.get(lbArn);
      if (lb?.subnets.some((s) => s.az === inst.az)) return true;
    }
    return false;
  }

  #eligible(g: SimTargetGroup, t: SimTarget): boolean {
    if (t.drainingUntilMs !== null) return false;
    const inst = this.#ctx.state.instances.get(t.instanceId);
    return inst !== undefined && inst.ec2State === 'running' && this.#inUseFor(g, inst);
  }

  /** The group's use changed: targets now eligible start their checks over, the others stop. */
  #refresh(arn: string): void {
    const g = this.#ctx.state.targetGroups.get(arn);
    if (!g) return;
    for (const t of g.targets.values()) {
      if (t.drainingUntilMs !== null) continue;
      const eligible = this.#eligible(g, t);
      if (eligible && t.checkEv === null) this.#startChecks(g, t);
      else if (!eligible) this.#stop(t);
    }
  }

  /** ELB-3: a target the load balancer starts checking is `initial` until its first checks decide. */
  #startChecks(g: SimTargetGroup, t: SimTarget): void {
    this.#stop(t);
    t.state = 'initial';
    t.reason = 'Elb.RegistrationInProgress';
    t.passes = 0;
    t.fails = 0;
    this.#scheduleCheck(g, t);
  }

  #scheduleCheck(g: SimTargetGroup, t: SimTarget): void {
    t.checkEv = this.#ctx.scheduler.after(g.healthCheck.intervalSec * 1000, `elb check ${t.instanceId} ${g.name}`, () => {
      t.checkEv = null;
      if (!this.#eligible(g, t) || g.targets.get(`${t.instanceId}:${t.port}`) !== t) return;
      this.#check(g, t);
      this.#scheduleCheck(g, t);
    });
  }

  /** One health check: passes while the application on the instance is healthy (ELB-3, ELB-4). */
  #check(g: SimTargetGroup, t: SimTarget): void {
    const inst = this.#ctx.state.instances.get(t.instanceId) as SimInstance;
    const pass = inst.nodeId !== null && this.#ctx.app.isHealthy(inst.nodeId);
    if (pass) {
      t.passes++;
      t.fails = 0;
    } else {
      t.fails++;
      t.passes = 0;
    }
    const hc = g.healthCheck;
    const before = t.state;
    if (t.state !== 'healthy' && t.passes >= hc.healthyThreshold) {
      t.state = 'healthy';
      t.reason = null;
    } else if (t.state !== 'unhealthy' && t.fails >= hc.unhealthyThreshold) {
      t.state = 'unhealthy';
      t.reason = 'Target.FailedHealthChecks';
    } else if (t.state === 'initial') {
      t.reason = 'Elb.InitialHealthChecking';
    }
    if (t.state !== before) this.#ctx.trace.record('elb.target-health', { targetGroupArn: g.arn, ...(inst.nodeId !== null && { nodeId: inst.nodeId }), instanceId: t.instanceId, from: before, to: t.state });
  }

  #stop(t: SimTarget): void {
    this.#ctx.scheduler.cancel(t.checkEv);
    t.checkEv = null;
    this.#ctx.scheduler.cancel(t.drainEv);
    t.drainEv = null;
  }
}
