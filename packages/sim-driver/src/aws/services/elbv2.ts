import { fault } from '../aws-error.js';
import type { OperationHandler, ServiceContext, SimService } from '../service.js';
import type { SimListener, SimLoadBalancer, SimTargetGroup } from '../../world/elbv2-entities.js';
import type { TargetRef } from '../../world/elbv2.js';

// The simulated Elastic Load Balancing (v2) API: the SDK's inputs and outputs
// (@aws-sdk/client-elastic-load-balancing-v2), answered by the world's Elbv2
// (src/world/elbv2.ts), where the rules live.

type In = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const objs = (v: unknown): In[] => (Array.isArray(v) ? v.filter((x): x is In => x !== null && typeof x === 'object') : []);

/** The AWS Query API's missing-parameter answer. */
function required(input: In, name: string): string {
  const v = str(input[name]);
  if (v === null) throw fault('ValidationError', `1 validation error detected: Value null at '${name[0]?.toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
  return v;
}

function tagsOf(input: In): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of objs(input['Tags'])) {
    const k = str(t['Key']);
    if (k !== null) out[k] = typeof t['Value'] === 'string' ? t['Value'] : '';
  }
  return out;
}

function targetsOf(input: In): TargetRef[] {
  return objs(input['Targets']).map((t) => {
    const id = str(t['Id']);
    if (id === null) throw fault('ValidationError', "1 validation error detected: Value null at 'targets.member.id' failed to satisfy constraint: Member must not be null");
    const port = num(t['Port']);
    return port === null ? { id } : { id, port };
  });
}

/** `Marker`/`PageSize` paging (PageSize 1–400). */
function paged<T>(items: readonly T[], input: In): { items: T[]; next: string | undefined } {
  const size = num(input['PageSize']) ?? 400;
  if (!Number.isInteger(size) || size < 1 || size > 400) throw fault('ValidationError', `1 validation error detected: Value '${size}' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and 400`);
  let start = 0;
  const marker = str(input['Marker']);
  if (marker !== null) {
    const m = /^sim:(\d+)$/.exec(marker);
    if (!m) throw fault('ValidationError', `The marker '${marker}' is not valid`);
    start = Number(m[1]);
  }
  const end = Math.min(items.length, start + size);
  return { items: items.slice(start, end), next: end < items.length ? `sim:${end}` : undefined };
}

function targetGroupOut(ctx: ServiceContext, g: SimTargetGroup): In {
  const hc = g.healthCheck;
  return {
    TargetGroupArn: g.arn,
    TargetGroupName: g.name,
    Protocol: g.protocol,
    Port: g.port,
    VpcId: g.vpcId,
    HealthCheckProtocol: hc.protocol,
    HealthCheckPort: hc.port,
    HealthCheckEnabled: true,
    HealthCheckIntervalSeconds: hc.intervalSec,
    HealthCheckTimeoutSeconds: hc.timeoutSec,
    HealthyThresholdCount: hc.healthyThreshold,
    UnhealthyThresholdCount: hc.unhealthyThreshold,
    ...(hc.path !== null && { HealthCheckPath: hc.path, Matcher: { HttpCode: '200' } }),
    LoadBalancerArns: ctx.sim.elbv2.loadBalancerArnsOf(g),
    TargetType: g.targetType,
    ...((g.protocol === 'HTTP' || g.protocol === 'HTTPS') && { ProtocolVersion: 'HTTP1' }),
    IpAddressType: 'ipv4',
  };
}

function attributesOut(g: SimTargetGroup): In[] {
  return [...g.attributes].map(([Key, Value]) => ({ Key, Value }));
}

function loadBalancerOut(lb: SimLoadBalancer): In {
  return {
    LoadBalancerArn: lb.arn,
    DNSName: lb.dnsName,
    CanonicalHostedZoneId: lb.type === 'application' ? 'Z32O12XQLNTSW2' : 'Z2IFOLAFXWLO4F',
    CreatedTime: new Date(lb.createdAtMs),
    LoadBalancerName: lb.name,
    Scheme: lb.scheme,
    VpcId: lb.vpcId,
    State: { Code: 'active' },
    Type: lb.type,
    AvailabilityZones: lb.subnets.map((s) => ({ ZoneName: s.az, SubnetId: s.subnetId })),
    ...(lb.type === 'application' && { SecurityGroups: [...lb.securityGroups] }),
    IpAddressType: 'ipv4',
  };
}

function listenerOut(l: SimListener): In {
  return { ListenerArn: l.arn, LoadBalancerArn: l.loadBalancerArn, Port: l.port, Protocol: l.protocol, DefaultActions: structuredClone(l.defaultActions) };
}

function operations(): Record<string, OperationHandler> {
  return {
    CreateTargetGroup(input, ctx) {
      const hc: Record<string, unknown> = {};
      const set = (key: string, v: unknown) => {
        if (v !== null) hc[key] = v;
      };
      set('protocol', str(input['HealthCheckProtocol']));
      set('port', str(input['HealthCheckPort']));
      set('path', str(input['HealthCheckPath']));
      set('intervalSec', num(input['HealthCheckIntervalSeconds']));
      set('timeoutSec', num(input['HealthCheckTimeoutSeconds']));
      set('healthyThreshold', num(input['HealthyThresholdCount']));
      set('unhealthyThreshold', num(input['UnhealthyThresholdCount']));
      if (input['HealthCheckEnabled'] === false) throw fault('ValidationError', 'Health checks cannot be disabled for target groups with target type instance');
      const targetType = str(input['TargetType']);
      const g = ctx.sim.elbv2.createTargetGroup({
        name: required(input, 'Name'),
        protocol: required(input, 'Protocol'),
        port: num(input['Port']) ?? Number.NaN,
        vpcId: required(input, 'VpcId'),
        ...(targetType !== null && { targetType }),
        healthCheck: hc,
        tags: tagsOf(input),
      });
      return { TargetGroups: [targetGroupOut(ctx, g)] };
    },

    DescribeTargetGroups(input, ctx) {
      const arns = strs(input['TargetGroupArns']);
      const names = strs(input['Names']);
      const loadBalancerArn = str(input['LoadBalancerArn']);
      if ([arns.length > 0, names.length > 0, loadBalancerArn !== null].filter(Boolean).length > 1) {
        throw fault('ValidationError', 'LoadBalancerArn, TargetGroupArns and Names cannot be used together');
      }
      const p = paged(ctx.sim.elbv2.findTargetGroups({ arns, names, loadBalancerArn }), input);
      return { TargetGroups: p.items.map((g) => targetGroupOut(ctx, g)), ...(p.next !== undefined && { NextMarker: p.next }) };
    },

    DescribeTargetGroupAttributes(input, ctx) {
      return { Attributes: attributesOut(ctx.sim.elbv2.targetGroup(required(input, 'TargetGroupArn'))) };
    },

    ModifyTargetGroupAttributes(input, ctx) {
      const attrs = objs(input['Attributes']).map((a) => [required(a, 'Key'), typeof a['Value'] === 'string' ? a['Value'] : ''] as const);
      if (attrs.length === 0) throw fault('ValidationError', "1 validation error detected: Value null at 'attributes' failed to satisfy constraint: Member must not be null");
      return { Attributes: attributesOut(ctx.sim.elbv2.modifyAttributes(required(input, 'TargetGroupArn'), attrs)) };
    },

    DeleteTargetGroup(input, ctx) {
      ctx.sim.elbv2.deleteTargetGroup(required(input, 'TargetGroupArn'));
      return {};
    },

    RegisterTargets(input, ctx) {
      ctx.sim.elbv2.registerTargets(required(input, 'TargetGroupArn'), targetsOf(input));
      return {};
    },

    DeregisterTargets(input, ctx) {
      ctx.sim.elbv2.deregisterTargets(required(input, 'TargetGroupArn'), targetsOf(input));
      return {};
    },

    DescribeTargetHealth(input, ctx) {
      const given = input['Targets'] === undefined ? null : targetsOf(input);
      const rows = ctx.sim.elbv2.targetHealth(required(input, 'TargetGroupArn'), given);
      return {
        TargetHealthDescriptions: rows.map((r) => ({
          Target: { Id: r.instanceId, Port: r.port },
          HealthCheckPort: r.healthCheckPort,
          TargetHealth: { State: r.state, ...(r.reason !== null && { Reason: r.reason }), ...(r.description !== null && { Description: r.description }) },
        })),
      };
    },

    CreateLoadBalancer(input, ctx) {
      const type = str(input['Type']) ?? 'application';
      if (type !== 'application' && type !== 'network') throw fault('ValidationError', `The simulated ELBv2 has application and network load balancers only; got Type '${type}'`);
      const scheme = str(input['Scheme']) ?? 'internet-facing';
      if (scheme !== 'internet-facing' && scheme !== 'internal') throw fault('ValidationError', `Scheme must be internet-facing or internal; got '${scheme}'`);
      const subnetIds = [...strs(input['Subnets']), ...objs(input['SubnetMappings']).map((m) => str(m['SubnetId']) ?? '')];
      const lb = ctx.sim.elbv2.createLoadBalancer({ name: required(input, 'Name'), type, scheme, subnetIds, securityGroups: strs(input['SecurityGroups']), tags: tagsOf(input) });
      return { LoadBalancers: [loadBalancerOut(lb)] };
    },

    DescribeLoadBalancers(input, ctx) {
      const arns = strs(input['LoadBalancerArns']);
      const names = strs(input['Names']);
      const all = [...ctx.sim.state.loadBalancers.values()];
      let found: SimLoadBalancer[];
      if (arns.length > 0) found = arns.map((a) => ctx.sim.elbv2.loadBalancer(a));
      else if (names.length > 0) {
        found = names.map((n) => {
          const lb = all.find((x) => x.name === n);
          if (!lb) throw fault('LoadBalancerNotFound', `Load balancers '[${n}]' not found`);
          return lb;
        });
      } else found = all;
      const p = paged(found, input);
      return { LoadBalancers: p.items.map(loadBalancerOut), ...(p.next !== undefined && { NextMarker: p.next }) };
    },

    DeleteLoadBalancer(input, ctx) {
      ctx.sim.elbv2.deleteLoadBalancer(required(input, 'LoadBalancerArn'));
      return {};
    },

    CreateListener(input, ctx) {
      const l = ctx.sim.elbv2.createListener({
        loadBalancerArn: required(input, 'LoadBalancerArn'),
        protocol: str(input['Protocol']) ?? 'HTTP',
        port: num(input['Port']) ?? Number.NaN,
        defaultActions: objs(input['DefaultActions']),
      });
      return { Listeners: [listenerOut(l)] };
    },

    DescribeListeners(input, ctx) {
      const arns = strs(input['ListenerArns']);
      const lbArn = str(input['LoadBalancerArn']);
      if (arns.length === 0 && lbArn === null) throw fault('ValidationError', 'You must specify either listener ARNs or a load balancer ARN');
      let found: SimListener[];
      if (arns.length > 0) found = arns.map((a) => ctx.sim.elbv2.listener(a));
      else {
        ctx.sim.elbv2.loadBalancer(lbArn as string);
        found = [...ctx.sim.state.listeners.values()].filter((l) => l.loadBalancerArn === lbArn);
      }
      const p = paged(found, input);
      return { Listeners: p.items.map(listenerOut), ...(p.next !== undefined && { NextMarker: p.next }) };
    },

    DeleteListener(input, ctx) {
      ctx.sim.elbv2.deleteListener(required(input, 'ListenerArn'));
      return {};
    },
  };
}

/** The simulated Elastic Load Balancing (v2) API. */
export function createElbv2Service(): SimService {
  return { name: 'elasticloadbalancing', operations: operations() };
}
