import { createFleet, type ClusterSpec, type Fleet } from '@berth/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createSystemClock, type AwsDriver } from '../src/index.js';
import { clusterSpec, motoDriver, useMotoWorld } from './support/aws-fixture.js';

// Two fleet members, each its own driver (own clients), one lock table on moto's DynamoDB, the
// system clock (the leases are short: the test takes a few seconds).
const clock = createSystemClock();
const aws = useMotoWorld({ driver: { clock, lockTable: 'fleet-locks' }, lockTable: true });
const drivers: AwsDriver[] = [];
afterEach(() => {
  for (const d of drivers.splice(0)) d.destroy();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createFleet({ share }) on moto DynamoDB', () => {
  it("two members divide the clusters by watch leases; when one dies, the other takes its clusters once their leases expire", async () => {
    const specs: ClusterSpec[] = ['k1', 'k2', 'k3', 'k4'].map((name) => clusterSpec(aws.world, 3, { name }));
    const ttl = 3_000;
    const member = (id: string, driver: AwsDriver, maxClusters: number): Fleet =>
      createFleet({ clusters: specs, driver, clock, holderId: id, intervalMs: 600_000, share: { leaseTtlMs: ttl, renewEveryMs: 500, maxClusters } });
    const second = motoDriver(aws.moto.endpoint, { clock, lockTable: 'fleet-locks' });
    drivers.push(second);
    // a's share is two clusters; b could take them all.
    const a = member('member-a', aws.driver, 2);
    const b = member('member-b', second, 4);
    const stopA = new AbortController();
    const stopB = new AbortController();
    const runA = a.run({ signal: stopA.signal, releaseOnStop: false });
    await pause(500);
    const runB = b.run({ signal: stopB.signal });
    await pause(1_500);
    const before = { a: a.watching(), b: b.watching() };
    stopA.abort(); // a dies: its leases stay until they expire
    await runA;
    const diedAtMs = clock.now();
    let takenAtMs = 0;
    b.on('cluster.watching', () => void (takenAtMs = clock.now()));
    for (let i = 0; i < 40 && b.watching().length < specs.length; i++) await pause(250);
    const after = b.watching();
    stopB.abort();
    await runB;

    expect([...before.a, ...before.b].sort()).toEqual(['k1', 'k2', 'k3', 'k4']);
    expect(before.a).toHaveLength(2);
    expect(before.b).toHaveLength(2);
    expect(after).toEqual(['k1', 'k2', 'k3', 'k4']);
    // Not before a's last renewal (at most renewEveryMs before it died) plus the lease length.
    expect(takenAtMs - diedAtMs).toBeGreaterThanOrEqual(ttl - 500 - 50);
    // b released its leases when stopped: the table holds none unexpired.
    for (const s of specs) expect((await second.lock.inspect(s, { scope: 'watch' }))?.expiresAtMs ?? 0).toBeLessThanOrEqual(clock.now());
  }, 30_000);
});
