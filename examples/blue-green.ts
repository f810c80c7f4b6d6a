/**
 * Blue/green for a stateless tier, in the simulator: two 3-node sides (web-blue, web-green)
 * behind a DNS record (or, with --traffic target-groups, a persistent target group). A first
 * deploy brings blue up; the plan for v2 is printed; v2 goes to green (verified, traffic
 * shifted, blue kept for the rollback window, then deleted); v3 passes its checks but its error
 * rate climbs in the window, so traffic goes back to green on its own.
 *
 *   bash scripts/pnpm.sh exec tsx examples/blue-green.ts [--seed 7] [--traffic dns|target-groups]
 *
 * Against AWS, swap the simulation for createAwsDriver/createSystemClock and give verify a real
 * check (an HTTP probe of ctx.ips, your error-rate metric); docs/blue-green.md.
 */
import { parseArgs } from 'node:util';
import { BerthDeployError, createBlueGreen, formatBlueGreenPlan, type BlueGreenTraffic, type ClusterInput } from '@berth/core';
import { createSimulation, simulatedClusterInput } from '@berth/sim-driver';

const { values } = parseArgs({ options: { seed: { type: 'string', default: '7' }, traffic: { type: 'string', default: 'dns' } } });
const seed = Number(values.seed);
if (!Number.isInteger(seed)) throw new Error(`--seed must be a whole number; got '${values.seed}'`);
if (values.traffic !== 'dns' && values.traffic !== 'target-groups') throw new Error(`--traffic must be dns or target-groups; got '${values.traffic}'`);

const V1 = 'ami-0123456789abcdef0';
const V2 = 'ami-0fedcba9876543210';
const V3 = 'ami-0aaaaaaaaaaaaaaaa';

const sim = createSimulation({ seed, profile: 'fast' });

/** A stateless side: its own name, node ids and IPs; its data volumes go with it. */
function side(name: string, hostOffset: number): ClusterInput {
  const input = simulatedClusterInput({ nodes: 3, name, image: V1, dns: false, deletionPolicy: 'delete', dataVolumeSizeGiB: 8 });
  return { ...input, nodes: input.nodes.map((n) => ({ ...n, ip: n.ip.replace(/\d+$/, (h) => String(Number(h) + hostOffset)) })) };
}

const traffic: BlueGreenTraffic =
  values.traffic === 'dns'
    ? { dns: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', recordName: 'web.example.com', ttl: 60 } }
    : { targetGroupArns: [`arn:aws:elasticloadbalancing:${sim.account.region}:${sim.account.accountId}:targetgroup/web/0123456789abcdef`] };

// What a real verify would measure: the side's members answer, and its error rate is low. v3 has
// a bug that shows only under production traffic, minutes after it takes it.
const takenAt = new Map<string, number>();
const errorRate = (images: readonly string[], since: number | undefined) => (images.includes(V3) && since !== undefined && sim.clock.now() - since > 3 * 60_000 ? 0.07 : 0.001);

const tier = createBlueGreen({
  name: 'web',
  driver: sim.driver,
  clock: sim.clock,
  blue: side('web-blue', 0),
  green: side('web-green', 10),
  traffic,
  rollbackWindowMs: 15 * 60_000,
  pollIntervalMs: 30_000,
  holderId: 'example',
  hooks: {
    verify: (s, ctx) => {
      const members = sim.app.status().members.filter((m) => ctx.spec.nodes.some((n) => n.id === m.nodeId));
      if (!members.every((m) => m.healthy)) return false;
      if (ctx.stage !== 'window') return true;
      const images = [...new Set(ctx.instanceIds.map((id) => sim.world.instance(id)?.imageId ?? ''))];
      return errorRate(images, takenAt.get(s)) < 0.01;
    },
  },
});

const start = sim.clock.now();
const at = (ms: number) => {
  const s = Math.round((ms - start) / 1000);
  return `+${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};
tier.on('deploy.started', (e) => console.log(`${at(e.atMs)} deploy to ${e.to}${e.from ? ` (live: ${e.from})` : ''}`));
tier.on('side.healthy', (e) => console.log(`${at(e.atMs)}   ${e.side}: every node healthy (${Math.round(e.durationMs / 1000)} s)`));
tier.on('side.verified', (e) => console.log(`${at(e.atMs)}   ${e.side}: verified (${e.stage})`));
tier.on('traffic.dns', (e) => console.log(`${at(e.atMs)}   ${e.recordName} → ${e.values.join(', ')}; ${e.previous ? `clients may use the old answer for ${e.settleMs / 1000} s` : `a new record, ${e.settleMs / 1000} s to propagate`}`));
tier.on('traffic.registered', (e) => console.log(`${at(e.atMs)}   ${e.side}: ${e.instanceIds.length} targets healthy (${Math.round(e.durationMs / 1000)} s)`));
tier.on('traffic.deregistering', (e) => console.log(`${at(e.atMs)}   ${e.side}: ${e.instanceIds.length} targets draining (${e.delayMs / 1000} s)`));
tier.on('traffic.shifted', (e) => {
  takenAt.set(e.to, e.atMs);
  console.log(`${at(e.atMs)}   traffic on ${e.to}`);
});
tier.on('window.started', (e) => console.log(`${at(e.atMs)}   rollback window: ${e.old} kept until ${at(e.endsAtMs)}`));
tier.on('window.failed', (e) => console.log(`${at(e.atMs)}   window check failed on ${e.side}: ${e.reason}`));
tier.on('traffic.shifted-back', (e) => console.log(`${at(e.atMs)}   traffic back on ${e.to}${e.automatic ? ' (automatic)' : ''}`));
tier.on('side.deleted', (e) => console.log(`${at(e.atMs)}   ${e.side} deleted (${e.nodes.length} nodes)`));

await sim.run(async () => {
  const first = await tier.deploy({ image: V1 });
  console.log(`v1: ${first.outcome}, live ${first.live}`);

  console.log('');
  console.log(formatBlueGreenPlan(await tier.plan({ image: V2 })));
  console.log('');
  const second = await tier.deploy({ image: V2 });
  console.log(`v2: ${second.outcome}, live ${second.live}, deleted ${second.deleted.map((d) => d.side).join(', ')}`);

  console.log('');
  try {
    await tier.deploy({ image: V3 });
    console.log('v3: completed (unexpected)');
  } catch (err) {
    if (!(err instanceof BerthDeployError)) throw err;
    console.log(`v3: failed in the ${err.stage}, traffic ${err.shiftedBack ? 'went back' : 'stayed'} on ${err.live}, ${err.deleted ?? 'nothing'} deleted`);
  }
  const status = await tier.status();
  console.log(`status: live ${status.live}; ${status.traffic.summary}`);
  for (const s of ['blue', 'green'] as const) {
    const x = status.sides[s];
    console.log(`  ${s} (${x.clusterName}): ${x.exists ? `${x.healthy}/${x.total} healthy, ${x.images.join(', ')}` : 'absent'}`);
  }
});
console.log(`seed ${sim.seed}: ${Math.round(sim.world.elapsedMs / 60_000)} simulated minutes, ${Object.values(sim.driver.apiCallCounts()).reduce((a, b) => a + b, 0)} API calls by the deployer`);
