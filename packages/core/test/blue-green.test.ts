// createBlueGreen's checks before any cloud call, the pure planner, and the traffic
// classification. The deploy itself runs against the simulated account
// (packages/sim-driver/test/blue-green-*.test.ts) and moto (packages/aws-driver/test).
import {
  BerthCapabilityError,
  BerthConfigError,
  DEFAULT_CAPABILITIES,
  createBlueGreen,
  formatBlueGreenPlan,
  planBlueGreen,
  type BlueGreenOptions,
  type ClusterInput,
  type Driver,
  type SideFacts,
  type TrafficStatus,
} from '@berth/core';
import { describe, expect, it } from 'vitest';
import { dnsTrafficStatus, targetTrafficStatus } from '../src/blue-green/traffic-status.js';
import { clusterInput } from './support/fixtures.js';
import { TestClock } from './support/test-clock.js';

const ZONE = 'Z0123456789ABCDEFGHIJ';
const TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef';

function side(name: string, hostBase: number, overrides: Partial<ClusterInput> = {}): ClusterInput {
  const base = clusterInput(3, { name, iamInstanceProfile: `${name}-node`, dataVolume: { sizeGiB: 8, deletionPolicy: 'delete' } });
  return { ...base, nodes: base.nodes.map((n, i) => ({ ...n, id: `${name}-${i + 1}`, ip: n.ip.replace(/\.\d+$/, `.${hostBase + i}`) })), ...overrides };
}

/** A driver that fails the test on any call: the checks must come before the cloud. */
function noCallDriver(calls: string[], capabilities = DEFAULT_CAPABILITIES): Driver {
  return new Proxy({ name: 'no-call', capabilities } as unknown as Driver, {
    get(target, prop) {
      if (prop === 'name' || prop === 'capabilities') return (target as unknown as Record<string, unknown>)[prop];
      if (prop === 'lock') return new Proxy({}, { get: (_t, p) => () => calls.push(`lock.${String(p)}`) });
      return () => calls.push(String(prop));
    },
  });
}

function options(overrides: Partial<BlueGreenOptions> = {}, calls: string[] = []): BlueGreenOptions {
  return {
    name: 'web',
    driver: noCallDriver(calls),
    clock: new TestClock(),
    blue: side('web-blue', 10),
    green: side('web-green', 40),
    traffic: { dns: { hostedZoneId: ZONE, recordName: 'web.example.com', ttl: 60 } },
    rollbackWindowMs: 3_600_000,
    ...overrides,
  };
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof BerthConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  throw new Error('expected a BerthConfigError');
}

describe('createBlueGreen: bad input is refused before any cloud call', () => {
  it('accepts a valid tier and makes no call doing so', () => {
    const calls: string[] = [];
    const bg = createBlueGreen(options({}, calls));
    expect(bg.trafficSpec).toMatchObject({ name: 'web', nodes: [], dns: { clusterRecord: 'web.example.com', ttl: 60 } });
    expect(calls).toEqual([]);
  });

  it('sides that share IPs or node ids, or a name', () => {
    const calls: string[] = [];
    const p = problems(() => createBlueGreen(options({ green: { ...side('web-blue', 10), iamInstanceProfile: 'x' } }, calls)));
    expect(p).toContainEqual(expect.stringMatching(/^green\.name: is 'web-blue', the blue side's name too/));
    expect(p).toContainEqual(expect.stringMatching(/^green\.nodes\[0\]\.id: node id 'web-blue-1' is a blue node too/));
    expect(p).toContainEqual(expect.stringMatching(/^green\.nodes\[1\]\.ip: IP 10\.0\.2\.11 is blue node web-blue-2's too/));
    expect(calls).toEqual([]);
  });

  it('a tier named like a side, sides in two regions', () => {
    const p = problems(() => createBlueGreen(options({ name: 'web-blue', green: side('web-green', 40, { region: 'eu-west-2', subnets: side('web-green', 40).subnets.map((s) => ({ ...s, az: s.az.replace('eu-west-1', 'eu-west-2') })) }) })));
    expect(p).toContainEqual(expect.stringMatching(/^name: 'web-blue' is also a side's cluster name/));
    expect(p).toContainEqual(expect.stringMatching(/^green\.region: is eu-west-2, the blue side is in eu-west-1/));
  });

  it("a side with state: deletionPolicy 'retain' (the default) is refused, with what to do", () => {
    const retained = side('web-blue', 10, { dataVolume: { sizeGiB: 8 } });
    const p = problems(() => createBlueGreen(options({ blue: retained })));
    expect(p).toEqual([expect.stringMatching(/^blue\.dataVolume\.deletionPolicy: is 'retain' \(the default\).*set deletionPolicy to 'delete' \(or 'snapshot' to keep a copy\)/)]);
  });

  it('traffic missing, both kinds at once, or a record that is also a side record', () => {
    expect(problems(() => createBlueGreen(options({ traffic: undefined as unknown as BlueGreenOptions['traffic'] })))).toEqual([
      expect.stringMatching(/^traffic: is required: how clients reach the tier; give \{ targetGroupArns/),
    ]);
    expect(problems(() => createBlueGreen(options({ traffic: { targetGroupArns: [TG], dns: { hostedZoneId: ZONE, recordName: 'web.example.com' } } as unknown as BlueGreenOptions['traffic'] })))).toEqual([
      expect.stringMatching(/^traffic: has both targetGroupArns and dns/),
    ]);
    const withDns = side('web-blue', 10, { dns: { hostedZoneId: ZONE, clusterRecord: 'web.example.com', nodeRecordTemplate: '{node}.web.example.com' } });
    expect(problems(() => createBlueGreen(options({ blue: withDns })))).toContainEqual(expect.stringMatching(/^traffic\.dns\.recordName: 'web\.example\.com' is also a record of the blue side/));
    expect(problems(() => createBlueGreen(options({ traffic: { dns: { hostedZoneId: 'nope', recordName: 'Not A Name' } } }))).sort()).toEqual([
      expect.stringMatching(/^traffic\.dns\.hostedZoneId: must be a Route 53 hosted zone id/),
      expect.stringMatching(/^traffic\.dns\.recordName: must be a lower-case DNS name/),
    ]);
  });

  it("the rollback window is required; target groups need the driver's loadBalancers capability", () => {
    expect(problems(() => createBlueGreen(options({ rollbackWindowMs: undefined as unknown as number })))).toEqual([expect.stringMatching(/^rollbackWindowMs: is required/)]);
    const calls: string[] = [];
    expect(() => createBlueGreen(options({ traffic: { targetGroupArns: [TG] } }, calls))).toThrow(BerthCapabilityError);
    expect(calls).toEqual([]);
  });

  it("a side's own loadBalancer may not name the tier's target groups", () => {
    const calls: string[] = [];
    const driver = noCallDriver(calls, { ...DEFAULT_CAPABILITIES, loadBalancers: true });
    const p = problems(() => createBlueGreen(options({ driver, traffic: { targetGroupArns: [TG] }, green: side('web-green', 40, { loadBalancer: { targetGroupArns: [TG] } }) })));
    expect(p).toEqual([expect.stringMatching(/^green\.loadBalancer\.targetGroupArns: names the tier's traffic target group/)]);
  });

  it('deploy() and plan() check their changes before any call: a bad image, a change that moves nodes', async () => {
    const calls: string[] = [];
    const bg = createBlueGreen(options({}, calls));
    await expect(bg.deploy({ image: 'ami-nope' })).rejects.toThrow(/deploy\.blue\.image: must be an AWS id like ami-/);
    const moved = (input: ClusterInput) => ({ ...input, nodes: input.nodes.map((n, i) => (i === 0 ? { ...n, ip: n.ip.replace(/\d+$/, '99') } : n)) });
    await expect(bg.plan({ change: moved })).rejects.toThrow(/deploy\.change: changed the blue side's name, region or nodes/);
    await expect(bg.deploy({ change: (input) => ({ ...input, dataVolume: { ...input.dataVolume, deletionPolicy: 'retain' } }) })).rejects.toThrow(/deletionPolicy: is 'retain'/);
    expect(calls).toEqual([]);
  });
});

const facts = (s: 'blue' | 'green', o: Partial<SideFacts> = {}): SideFacts => ({
  side: s,
  clusterName: `web-${s}`,
  nodeIds: [1, 2, 3].map((i) => `web-${s}-${i}`),
  exists: true,
  existingNodeIds: [1, 2, 3].map((i) => `web-${s}-${i}`),
  current: false,
  stale: true,
  healthy: 3,
  total: 3,
  images: ['ami-0123456789abcdef0'],
  instanceTypes: ['m6i.large'],
  policy: 'delete',
  desired: { image: 'ami-0fedcba9876543210', instanceType: 'm6i.large' },
  ...o,
});
const absent = (s: 'blue' | 'green'): SideFacts => facts(s, { exists: false, existingNodeIds: [], current: false, stale: false, healthy: 0, images: [], instanceTypes: [] });
const ips = { blue: ['10.0.1.10', '10.0.2.11', '10.0.3.12'], green: ['10.0.1.40', '10.0.2.41', '10.0.3.42'] };
const dnsOn = (values: string[]): TrafficStatus => dnsTrafficStatus({ name: 'web.example.com', ttl: 300, values }, ips);
const settings = { rollbackWindowMs: 3_600_000, healthyTimeoutMs: 1_800_000, keepFailedSide: false, dns: { recordName: 'web.example.com', ttl: 60, propagationMs: 60_000 } };

describe('planBlueGreen', () => {
  it('blue live, green absent: create green, verify, shift (waiting out the old 300 s TTL), window, then delete blue', () => {
    const plan = planBlueGreen('web', dnsOn(ips.blue), { blue: facts('blue'), green: absent('green') }, settings);
    expect(plan.target).toBe('green');
    expect(plan.steps.map((s) => s.kind)).toEqual(['create-side', 'wait-healthy', 'verify', 'shift-traffic', 'rollback-window', 'delete-side']);
    expect(plan.steps[3]).toMatchObject({ from: 'blue', to: 'green', settleMs: 360_000 });
    expect(plan.steps[5]).toMatchObject({ side: 'blue', when: 'after-window', policy: 'delete' });
    expect(formatBlueGreenPlan(plan)).toBe(
      [
        'Tier web (DNS cutover): traffic goes to blue: web.example.com A 10.0.1.10, 10.0.2.11, 10.0.3.12 (TTL 300 s).',
        '',
        'Berth will perform the following actions:',
        '',
        '   1. + create green (web-green, 3 nodes: web-green-1, web-green-2, web-green-3)',
        '          image     ami-0123456789abcdef0 → ami-0fedcba9876543210',
        '   2.   wait until every green node is healthy (at most 30 min)',
        '   3.   verify green (hooks.verify)',
        "   4. ~ shift traffic blue → green: UPSERT web.example.com A to green's node IPs (TTL 60 s), then wait 6 min for clients to stop using the old answer (propagation 60 s + TTL 300 s)",
        "   5.   keep blue for the rollback window (60 min), green's health watched; on a failure or rollback(), traffic goes back to blue",
        '   6. - delete blue (web-blue, 3 nodes: web-blue-1, web-blue-2, web-blue-3; data volumes: delete) after the rollback window: its rollback window is over',
        '',
        'On failure:',
        '  - before the shift (a node not healthy in 30 min, verify says no): green is deleted; blue keeps the traffic, untouched',
        '  - during the rollback window (a node of green unhealthy, verify says no, or rollback()): traffic goes back to blue, then green is deleted',
        '',
        'Plan: 3 nodes to create, 3 nodes to delete (the old side, after the rollback window).',
      ].join('\n'),
    );
  });

  it('green idle on another revision: deleted now (in the plan), then created', () => {
    const plan = planBlueGreen('web', dnsOn(ips.blue), { blue: facts('blue'), green: facts('green') }, settings);
    expect(plan.steps.slice(0, 2)).toMatchObject([
      { kind: 'delete-side', side: 'green', when: 'now' },
      { kind: 'create-side', side: 'green', existing: [] },
    ]);
  });

  it('green idle on the requested revision: resumed, converged, not recreated', () => {
    const plan = planBlueGreen('web', dnsOn(ips.blue), { blue: facts('blue'), green: facts('green', { stale: false, current: true }) }, settings);
    expect(plan.resume).toMatch(/^green exists on the requested revision with no traffic/);
    expect(plan.steps[0]).toMatchObject({ kind: 'create-side', existing: ['web-green-1', 'web-green-2', 'web-green-3'] });
  });

  it('traffic on green which runs the revision, blue still there: settle, window, delete blue', () => {
    const plan = planBlueGreen('web', dnsOn(ips.green), { blue: facts('blue'), green: facts('green', { stale: false, current: true }) }, settings);
    expect(plan.steps.map((s) => s.kind)).toEqual(['settle', 'rollback-window', 'delete-side']);
    expect(plan.resume).toMatch(/^traffic already goes to green/);
  });

  it('nothing to do; no traffic at all (blue is the target, green not looked at); split traffic; foreign traffic', () => {
    expect(planBlueGreen('web', dnsOn(ips.green), { blue: absent('blue'), green: facts('green', { stale: false, current: true }) }, settings).noChanges).toBe(true);
    const first = planBlueGreen('web', dnsTrafficStatus(null, ips), { blue: absent('blue'), green: null }, settings);
    expect(first).toMatchObject({ target: 'blue', live: null });
    expect(first.steps.map((s) => s.kind)).toEqual(['create-side', 'wait-healthy', 'verify', 'shift-traffic']);
    expect(first.steps[3]).toMatchObject({ settleMs: 60_000 });
    const split = planBlueGreen('web', dnsOn([...ips.blue, ...ips.green]), { blue: facts('blue'), green: facts('green', { stale: false, current: true }) }, settings);
    expect(split.resume).toMatch(/^a shift to green stopped part-way/);
    const stuck = planBlueGreen('web', dnsOn([...ips.blue, ...ips.green]), { blue: facts('blue'), green: facts('green') }, settings);
    expect(stuck.blocked).toMatch(/neither side runs the requested revision: finish or undo the shift with rollback/);
    const foreign = planBlueGreen('web', dnsOn(['192.168.0.1']), { blue: facts('blue'), green: absent('green') }, settings);
    expect(foreign.blocked).toMatch(/^traffic goes to neither side/);
  });
});

describe('traffic classification', () => {
  it('target groups: registered per side, draining apart, unknown instances foreign', () => {
    const g = (targets: [string, string][]) => ({
      targetGroupArn: TG,
      deregistrationDelayMs: 300_000,
      healthyAfterMs: 30_000,
      targets: targets.map(([instanceId, state]) => ({ instanceId, state: state as 'healthy', reason: null })),
    });
    const t = targetTrafficStatus([g([['i-b1', 'healthy'], ['i-g1', 'initial'], ['i-b2', 'draining'], ['i-x', 'healthy']])], { blue: ['i-b1', 'i-b2'], green: ['i-g1'] });
    expect(t).toMatchObject({ state: 'mixed', live: null, registered: { blue: ['i-b1'], green: ['i-g1'] }, draining: { blue: ['i-b2'], green: [] }, foreign: ['i-x'] });
    expect(targetTrafficStatus([g([['i-g1', 'healthy'], ['i-b2', 'draining']])], { blue: ['i-b2'], green: ['i-g1'] })).toMatchObject({ state: 'green', live: 'green' });
    expect(targetTrafficStatus([g([])], { blue: [], green: [] })).toMatchObject({ state: 'none', live: null });
    // A target of a terminated instance (ELB-12) takes no traffic: not blue's, not foreign.
    const dead = { targetGroupArn: TG, deregistrationDelayMs: 0, healthyAfterMs: 0, targets: [{ instanceId: 'i-b9', state: 'unused' as const, reason: 'Target.InvalidState' }, { instanceId: 'i-g1', state: 'healthy' as const, reason: null }] };
    expect(targetTrafficStatus([dead], { blue: ['i-b9'], green: ['i-g1'] })).toMatchObject({ state: 'green', registered: { blue: [], green: ['i-g1'] }, foreign: [], dead: ['i-b9'] });
  });
});
