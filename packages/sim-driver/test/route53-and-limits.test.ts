import type { BerthDriverError } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { simContext } from '../src/internal.js';
import { setup } from './helpers.js';

const zone = 'Z0123456789ABCDEFGHIJ';
const rec = (name: string, values: string[], ttl = 60) => ({ name, type: 'A' as const, ttl, values });

describe('Route 53 rules', () => {
  it('CREATE fails when the record exists, DELETE must match exactly, a failing batch changes nothing, UPSERT replaces', async () => {
    const { sim } = setup();
    const r53 = simContext(sim).route53;
    r53.changeRecordSets(zone, [{ action: 'CREATE', record: rec('a.example.com', ['10.0.1.10']) }]);
    const code = (fn: () => unknown): string | null => {
      try {
        fn();
        return null;
      } catch (e) {
        return (e as BerthDriverError).awsCode;
      }
    };
    expect(code(() => r53.changeRecordSets(zone, [{ action: 'CREATE', record: rec('a.example.com', ['10.0.1.11']) }]))).toBe('InvalidChangeBatch');
    expect(code(() => r53.changeRecordSets(zone, [{ action: 'DELETE', record: rec('a.example.com', ['10.0.1.10'], 300) }]))).toBe('InvalidChangeBatch');
    expect(code(() => r53.changeRecordSets(zone, [{ action: 'DELETE', record: rec('b.example.com', ['10.0.1.10']) }]))).toBe('InvalidChangeBatch');
    // Atomic: the UPSERT in a batch with a failing CREATE is not applied.
    expect(
      code(() =>
        r53.changeRecordSets(zone, [
          { action: 'UPSERT', record: rec('c.example.com', ['10.0.1.12']) },
          { action: 'CREATE', record: rec('a.example.com', ['10.0.1.13']) },
        ]),
      ),
    ).toBe('InvalidChangeBatch');
    expect(r53.listRecordSets(zone).map((r) => r.name)).toEqual(['a.example.com.']);
    r53.changeRecordSets(zone, [{ action: 'UPSERT', record: rec('a.example.com', ['10.0.1.99']) }]);
    expect(r53.listRecordSets(zone)[0]?.values).toEqual(['10.0.1.99']);
    expect(code(() => r53.changeRecordSets(zone, [{ action: 'DELETE', record: rec('a.example.com', ['10.0.1.99']) }]))).toBeNull();
    expect(r53.listRecordSets(zone)).toEqual([]);
  });

  it('a change is PENDING until it propagates (INSYNC); resolvers answer the old value until then', async () => {
    const { sim, spec } = setup({ profile: 'realistic' });
    await sim.run(async () => {
      await sim.driver.setDns(spec, [{ name: 'demo.internal.example.com', values: ['10.0.1.10', '10.0.2.10'] }]);
      const change = sim.world.dnsChanges.at(-1)!;
      expect(change.status).toBe('PENDING');
      expect(sim.world.dnsRecords(zone).map((r) => r.name)).toEqual(['demo.internal.example.com.']);
      expect(sim.world.resolve(zone, 'demo.internal.example.com')).toBeNull();
      await sim.clock.sleep(61_000);
      expect(change.status).toBe('INSYNC');
      expect(sim.world.resolve(zone, 'demo.internal.example.com')).toEqual(['10.0.1.10', '10.0.2.10']);
    });
    const insync = sim.trace.find((e) => e.kind === 'dns.insync')!;
    const submitted = sim.trace.find((e) => e.kind === 'dns.change')!;
    expect(insync.atMs - submitted.atMs).toBeGreaterThanOrEqual(10_000);
    expect(insync.atMs - submitted.atMs).toBeLessThanOrEqual(60_000);
  });
});

describe('API limits', () => {
  it('EC2 Describe* has a bucket of 100 refilled at 20/s: the 101st call in a burst gets RequestLimitExceeded', async () => {
    const { sim, spec } = setup({ sdkMaxAttempts: 1 });
    await sim.run(async () => {
      const results = await Promise.allSettled(Array.from({ length: 110 }, () => sim.driver.observe(spec, { scope: 'instances' })));
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      // 110 DescribeInstances against 100 tokens; Auto Scaling's own bucket (40) refuses too.
      expect(rejected.length).toBeGreaterThanOrEqual(10);
      const codes = new Set(rejected.map((r) => (r.reason as BerthDriverError).awsCode));
      expect(codes.has('RequestLimitExceeded') || codes.has('Throttling')).toBe(true);
      expect(rejected.every((r) => (r.reason as BerthDriverError).throttling)).toBe(true);
      await sim.clock.sleep(10_000);
      expect(sim.world.apiTokens().ec2Describe).toBeGreaterThanOrEqual(99);
    });
  });

  it('Route 53 allows 5 requests per second; Auto Scaling throttles with Throttling', async () => {
    const { sim, spec } = setup({ sdkMaxAttempts: 1 });
    await sim.run(async () => {
      const dns = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => sim.driver.setDns(spec, [{ name: `x${i}.example.com`, values: ['10.0.1.10'] }])));
      expect(dns.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
      expect(dns.filter((r) => r.status === 'rejected').map((r) => ((r as PromiseRejectedResult).reason as BerthDriverError).awsCode)).toEqual(['Throttling', 'Throttling', 'Throttling']);
    });
  });

  it('injected API errors hit only the named operations, are retried by the SDK-style retry, and every attempt is counted', async () => {
    const { sim, spec } = setup();
    sim.faults.apiErrors({ operations: ['DescribeInstances'], code: '5xx', rate: 1, durationMs: 60_000 });
    await sim.run(async () => {
      await expect(sim.driver.observe(spec, { scope: 'instances' })).rejects.toMatchObject({ awsCode: 'InternalError', retryable: true });
      expect(sim.driver.apiCallCounts().DescribeInstances).toBe(3);
      expect(sim.driver.apiCallCounts().DescribeAutoScalingGroups).toBe(1);
      await sim.clock.sleep(61_000);
      await sim.driver.observe(spec, { scope: 'instances' });
    });
    expect(sim.trace.filter((e) => e.kind === 'fault.api-error')).toHaveLength(3);
  });
});
