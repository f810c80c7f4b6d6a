// The production AWS driver (`sim.driver` is `createAwsDriver` over the simulated clients),
// with IAM evaluated on every call unless a test says otherwise.
import { launchTemplateName } from '@berth/aws-driver';
import { BerthLockError, createPrng, defineCluster, RuntimeDriver } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput } from '../src/index.js';
import { simContext } from '../src/internal.js';
import { provision, retrying, setup, until } from './helpers.js';

function diff(after: Readonly<Record<string, number>>, before: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) out[k] = v - (before[k] ?? 0);
  return out;
}

describe('the AWS driver on the simulator', () => {
  it('observe costs the same calls for 3 and 31 nodes (paginated tag-filtered describes)', async () => {
    const costs: Array<{ full: Record<string, number>; instances: Record<string, number>; nodes: number }> = [];
    for (const n of [3, 31]) {
      // IAM off for speed (31 nodes); the other tests observe with IAM on.
      const sim = createSimulation({ seed: 3, profile: 'fast', iam: 'off' });
      const spec = defineCluster(simulatedClusterInput({ nodes: n }));
      await sim.run(async () => {
        await provision(sim, spec);
        const c0 = sim.driver.apiCallCounts();
        const obs = await sim.driver.observe(spec);
        const c1 = sim.driver.apiCallCounts();
        await sim.driver.observe(spec, { scope: 'instances' });
        costs.push({ full: diff(c1, c0), instances: diff(sim.driver.apiCallCounts(), c1), nodes: Object.keys(obs.nodes).length });
        // Every node's record and the cluster record.
        expect(obs.dnsRecords).toHaveLength(n + 1);
        expect(Object.values(obs.nodes).every((nd) => nd.group && nd.eni && nd.volume && nd.instances[0]?.phase === 'in-service')).toBe(true);
      });
    }
    expect(costs[0]!.nodes).toBe(3);
    expect(costs[1]!.nodes).toBe(31);
    expect(costs[0]!.full).toEqual({
      DescribeAutoScalingGroups: 1,
      // The live instances and the failed ones of any state, in one page (EC2-13). No
      // DescribeScalingActivities: no group looks stuck (ASG-34).
      DescribeInstances: 1,
      DescribeNetworkInterfaces: 1,
      DescribeVolumes: 1,
      // No DescribeVolumesModifications: apply() asks for it only when it plans a volume change.
      ListResourceRecordSets: 1,
      // Scheduled events: the region's instances with one (no tag filter), one page.
      DescribeInstanceStatus: 1,
    });
    expect(costs[1]!.full).toEqual(costs[0]!.full);
    // Every node settled since the full look: no group is described again (ASG-33).
    expect(costs[0]!.instances).toEqual({ DescribeInstances: 1 });
    expect(costs[1]!.instances).toEqual(costs[0]!.instances);
  });

  it('observe pages DescribeAutoScalingGroups by 100 like AWS', async () => {
    const { sim } = setup({ iam: 'off' }); // 101 nodes: IAM off for speed
    const spec = defineCluster(simulatedClusterInput({ nodes: 101 }));
    await sim.run(async () => {
      for (const n of spec.nodes) await retrying(sim, () => sim.driver.ensureNode(spec, n.id));
      const c0 = sim.driver.apiCallCounts();
      const obs = await sim.driver.observe(spec, { scope: 'instances' });
      expect(diff(sim.driver.apiCallCounts(), c0).DescribeAutoScalingGroups).toBe(2);
      expect(Object.values(obs.nodes).filter((n) => n.group !== null)).toHaveLength(101);
    });
  });

  it('ensureNode is idempotent; a new image creates a launch template named after the revision and points the group at it', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      const first = await sim.driver.ensureNode(spec, 'demo-1');
      expect(first.changes.map((c) => `${c.resource}:${c.action}`)).toEqual([
        'network-interface:created',
        'volume:created',
        'launch-template:created',
        'auto-scaling-group:created',
        'lifecycle-hook:created',
        'dns-record:created',
        'dns-record:created',
      ]);
      await sim.clock.sleep(5_000);
      const again = await sim.driver.ensureNode(spec, 'demo-1');
      expect(again.changes.filter((c) => c.action !== 'unchanged')).toEqual([]);
      expect(again.revision).toBe(first.revision);

      // One template per revision (never a new version of one): the group switches templates.
      const next = defineCluster({ ...simulatedClusterInput({ nodes: 3 }), image: 'ami-0fedcba9876543210' });
      const upd = await sim.driver.ensureNode(next, 'demo-1');
      expect(upd.revision).not.toBe(first.revision);
      expect(upd.changes.filter((c) => c.action !== 'unchanged').map((c) => `${c.resource}:${c.action}`)).toEqual(['launch-template:created', 'auto-scaling-group:updated']);
      const obs = await sim.driver.observe(next);
      expect(obs.nodes['demo-1']!.group!.revision).toBe(upd.revision);
      expect(obs.nodes['demo-1']!.group!.launchTemplateVersion).toBe('1');
      expect(sim.world.group('demo', 'demo-1')!.launchTemplate.name).toBe(launchTemplateName('demo', 'demo-1', upd.revision));

      // A node keeps three templates: the group's, and the two it used before (a rollback may go
      // back to them); a fourth revision deletes the first.
      const third = defineCluster({ ...simulatedClusterInput({ nodes: 3 }), image: 'ami-0aaaaaaaaaaaaaaa0' });
      const t3 = await sim.driver.ensureNode(third, 'demo-1');
      expect(t3.changes.filter((c) => c.resource === 'launch-template').map((c) => c.action)).toEqual(['created']);
      const fourth = defineCluster({ ...simulatedClusterInput({ nodes: 3 }), image: 'ami-0aaaaaaaaaaaaaaa1' });
      const t4 = await sim.driver.ensureNode(fourth, 'demo-1');
      expect(t4.changes.filter((c) => c.resource === 'launch-template').map((c) => `${c.action} ${c.detail ?? ''}`)).toEqual([
        expect.stringMatching(/^created /),
        `deleted ${launchTemplateName('demo', 'demo-1', first.revision)} (superseded)`,
      ]);
      expect(sim.world.launchTemplates.filter((t) => !t.deleted).map((t) => t.name).sort()).toEqual(
        [upd.revision, t3.revision, t4.revision].map((r) => launchTemplateName('demo', 'demo-1', r)).sort(),
      );
    });
    expect(sim.world.enis).toHaveLength(1);
    expect(sim.world.volumes.filter((v) => v.tags['berth:volume'] === 'data')).toHaveLength(1);
  });

  it('deleteNode honours the deletion policy: retain keeps, snapshot snapshots then deletes, delete deletes', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      const vols = Object.fromEntries(spec.nodes.map((n) => [n.id, sim.world.volumeOf(n.id)!.id]));
      const retain = await sim.driver.deleteNode(spec, 'demo-1', { policy: 'retain' });
      expect(retain.changes.find((c) => c.resource === 'volume')).toMatchObject({ action: 'retained', id: vols['demo-1'] });
      expect(retain.snapshotId).toBeNull();
      expect(sim.world.volumes.find((v) => v.id === vols['demo-1'])?.state).toBe('available');
      expect(sim.world.group(spec.name, 'demo-1')).toBeNull();
      expect(sim.world.eniOf('demo-1')).toBeNull();

      const snap = await sim.driver.deleteNode(spec, 'demo-2', { policy: 'snapshot' });
      expect(snap.snapshotId).toMatch(/^snap-/);
      expect(sim.world.snapshots.find((s) => s.id === snap.snapshotId)?.state).toBe('completed');
      expect(snap.changes.filter((c) => c.resource === 'volume').map((c) => c.action)).toEqual(['snapshotted', 'deleted']);
      expect(sim.world.volumes.find((v) => v.id === vols['demo-2'])?.state ?? 'deleted').toMatch(/^delet/);

      const del = await sim.driver.deleteNode(spec, 'demo-3', { policy: 'delete' });
      expect(del.changes.find((c) => c.resource === 'volume')?.action).toBe('deleted');
      expect(sim.world.volumes.find((v) => v.id === vols['demo-3'])?.state ?? 'deleted').toMatch(/^delet/);
      expect(sim.world.dnsRecords('Z0123456789ABCDEFGHIJ')).toEqual([]);
    });
  });

  it('lock: the DynamoDB lease refuses a second holder while it runs, passes on after expiry, and the first holder loses it', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      const a = await sim.driver.lock.acquire(spec, { holder: 'ci-a', session: 'ci-a-session', ttlMs: 60_000 });
      expect(a.token).toBe(1);
      expect(sim.world.lock('demo')).toMatchObject({ holder: 'ci-a', token: 1 });
      const refused = await sim.driver.lock.acquire(spec, { holder: 'ci-b', session: 'ci-b-session', ttlMs: 60_000 }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(BerthLockError);
      expect((refused as BerthLockError).code).toBe('LOCK_HELD');
      expect((refused as BerthLockError).holder).toBe('ci-a');
      await sim.clock.sleep(10_000);
      const renewed = await sim.driver.lock.renew(spec, a, { ttlMs: 60_000 });
      expect(renewed.expiresAtMs).toBeGreaterThan(a.expiresAtMs);
      await sim.clock.sleep(61_000);
      const b = await sim.driver.lock.acquire(spec, { holder: 'ci-b', session: 'ci-b-session', ttlMs: 60_000 });
      expect(b.token).toBe(2);
      await expect(sim.driver.lock.renew(spec, renewed, { ttlMs: 60_000 })).rejects.toMatchObject({ code: 'LOCK_LOST', holder: 'ci-b' });
      await sim.driver.lock.release(spec, renewed); // no-op: not ours any more
      expect((await sim.driver.lock.inspect(spec))?.holder).toBe('ci-b');
      await sim.driver.lock.release(spec, b);
      // Released: expired, not deleted, so the fencing token keeps growing.
      expect(sim.world.lock('demo')).toMatchObject({ holder: 'ci-b', token: 2, expiresAtMs: 0 });
      const c = await sim.driver.lock.acquire(spec, { holder: 'ci-c', session: 'ci-c-session', ttlMs: 1_000 });
      expect(c.token).toBe(3);
    });
    // Conditional UpdateItems only (acquire, renew, release); GetItem to name the holder on a conflict, and inspect.
    const counts = sim.driver.apiCallCounts();
    expect(counts.UpdateItem).toBe(8);
    expect(counts.GetItem).toBe(3);
    expect(counts.PutItem).toBeUndefined();
    expect(counts.DeleteItem).toBeUndefined();
    expect(sim.trace.filter((e) => e.kind.startsWith('lock.')).map((e) => `${e.kind} ${e.holder}`)).toEqual([
      'lock.acquired ci-a',
      'lock.renewed ci-a',
      'lock.acquired ci-b',
      'lock.released ci-b',
      'lock.acquired ci-c',
    ]);
  });

  it('waitForChange returns the launch, terminate and phase events from SQS, [] after at most 20 s, one ReceiveMessage per call', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      while ((await sim.driver.waitForChange!(spec, { timeoutMs: 0 })).length > 0);
      const t0 = sim.clock.now();
      expect(await sim.driver.waitForChange!(spec, { timeoutMs: 3_600_000 })).toEqual([]);
      expect(sim.clock.now() - t0).toBeGreaterThanOrEqual(20_000);
      expect(sim.clock.now() - t0).toBeLessThan(21_000);

      const before = sim.driver.apiCallCounts().ReceiveMessage ?? 0;
      const old = sim.world.currentInstance('demo-2')!;
      await sim.driver.replaceInstance(spec, 'demo-2', old.id);
      const seen: { kind: string; detail: string; instanceId: string | null; nodeId: string }[] = [];
      let calls = 0;
      while (!seen.some((c) => c.kind === 'lifecycle' && c.instanceId !== old.id)) {
        seen.push(...(await sim.driver.waitForChange!(spec, { timeoutMs: 60_000 })));
        calls++;
      }
      expect((sim.driver.apiCallCounts().ReceiveMessage ?? 0) - before).toBe(calls);
      // Auto Scaling's events (launch, launch failure, terminate) and the bootstrap's phases (its berth:phase tag changes).
      expect(new Set(seen.map((c) => c.kind))).toEqual(new Set(['terminated', 'launch-failed', 'lifecycle', 'phase']));
      const phases = seen.filter((c) => c.kind === 'phase');
      expect(phases.every((c) => c.instanceId === sim.world.currentInstance('demo-2')!.id)).toBe(true);
      expect(phases.map((c) => c.detail)).toEqual(expect.arrayContaining(['attaching', 'mounting', 'configuring', 'joining', 'healthy']));
      expect(seen.every((c) => c.nodeId === 'demo-2')).toBe(true);
      expect(seen.find((c) => c.kind === 'terminated')).toMatchObject({ instanceId: old.id, detail: 'Terminated' });
      // The replacement's first launches fail while the old instance still holds the node's ENI.
      expect(seen.find((c) => c.kind === 'launch-failed')?.detail).toMatch(/InvalidNetworkInterface\.InUse|in use/);
      const launched = seen.find((c) => c.kind === 'lifecycle')!;
      expect(launched).toMatchObject({ detail: 'InService', instanceId: sim.world.currentInstance('demo-2')!.id });
      expect(sim.world.currentInstance('demo-2')!.lifecycleState).toBe('InService');

      const ac = new AbortController();
      const p = sim.driver.waitForChange!(spec, { timeoutMs: 10_000, signal: ac.signal });
      await sim.clock.sleep(1);
      ac.abort();
      await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    });
  });

  it('replaceInstance is idempotent once the old instance has left its group; an unknown id is InvalidInstanceID.NotFound', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      const old = sim.world.currentInstance('demo-1')!;
      await retrying(sim, () => sim.driver.replaceInstance(spec, 'demo-1', old.id));
      await until(sim, () => {
        const cur = sim.world.currentInstance('demo-1');
        return !!cur && cur.id !== old.id && cur.lifecycleState === 'InService' && old.ec2State === 'terminated';
      }, 'replacement in service, old instance terminated');
      const replacement = sim.world.currentInstance('demo-1')!.id;
      // A retry after success (e.g. the first answer was lost): Auto Scaling no longer knows the
      // instance, the driver must not fail the caller nor touch the replacement.
      await sim.driver.replaceInstance(spec, 'demo-1', old.id);
      expect(sim.world.currentInstance('demo-1')?.id).toBe(replacement);
      expect(sim.world.currentInstance('demo-1')?.lifecycleState).toBe('InService');
      const terminations = sim.driver.apiCallCounts().TerminateInstanceInAutoScalingGroup;
      await expect(sim.driver.replaceInstance(spec, 'demo-1', 'i-0000000000000dead')).rejects.toMatchObject({ awsCode: 'InvalidInstanceID.NotFound', retryable: false });
      // Another node's instance is refused, not terminated.
      await expect(sim.driver.replaceInstance(spec, 'demo-1', sim.world.currentInstance('demo-2')!.id)).rejects.toMatchObject({ awsCode: 'InstanceNotInNodeGroup' });
      expect(sim.driver.apiCallCounts().TerminateInstanceInAutoScalingGroup).toBe(terminations);
      expect(sim.world.currentInstance('demo-2')?.lifecycleState).toBe('InService');
    });
  });

  it("the 'groups' probe is one DescribeAutoScalingGroups call, with lifecycle states and no tags", async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      const before = sim.driver.apiCallCounts();
      const obs = await sim.driver.observe(spec, { scope: 'groups' });
      expect(diff(sim.driver.apiCallCounts(), before)).toEqual({ DescribeAutoScalingGroups: 1 });
      expect(obs.scope).toBe('groups');
      for (const n of spec.nodes) {
        const i = obs.nodes[n.id]?.instances[0];
        expect(i?.lifecycleState).toBe('InService');
        expect(i?.revision).toBeNull();
      }
    });
  });

  it('every method honours an aborted signal', async () => {
    const { sim, spec } = setup();
    const signal = AbortSignal.abort();
    await sim.run(async () => {
      await expect(sim.driver.observe(spec, { signal })).rejects.toMatchObject({ code: 'ABORTED' });
      await expect(sim.driver.ensureNode(spec, 'demo-1', { signal })).rejects.toMatchObject({ code: 'ABORTED' });
      await expect(sim.driver.lock.acquire(spec, { holder: 'x', session: 'x-session', ttlMs: 1, signal })).rejects.toMatchObject({ code: 'ABORTED' });
      await expect(sim.driver.setDns(spec, [{ name: 'a.example.com', values: ['10.0.1.10'] }], { signal })).rejects.toMatchObject({ code: 'ABORTED' });
    });
    expect(sim.world.enis).toHaveLength(0);
    expect(sim.world.controllerApiCalls).toEqual({});
  });

  it('controller and bootstrap API calls are counted apart', async () => {
    const { sim, spec } = setup();
    await sim.run(() => provision(sim, spec));
    const driver = sim.driver.apiCallCounts();
    const agents = sim.world.agentApiCalls;
    // The bootstraps attach, tag their phases and complete their launches; the controller does none of it.
    expect(driver.AttachVolume).toBeUndefined();
    expect(driver.CompleteLifecycleAction).toBeUndefined();
    expect(agents.AttachVolume).toBe(3);
    expect(agents.CompleteLifecycleAction).toBe(3);
    expect(agents.CreateTags).toBeGreaterThanOrEqual(3 * 6);
    expect(agents.CreateNetworkInterface).toBeUndefined();
    // What reached the account as the controller's role is what the driver counted.
    expect(sim.world.controllerApiCalls).toEqual(driver);
  });

  it('modifyVolume only grows; the watcher grows the running node\'s file system; a stopped watcher leaves it to the next boot', async () => {
    const { sim, spec } = setup();
    const dv = spec.nodes[0]!.dataVolume;
    const to = (sizeGiB: number) => ({ sizeGiB, type: dv.type, iops: null, throughputMiBps: null });
    await sim.run(async () => {
      await provision(sim, spec);
      const first = sim.world.currentInstance('demo-1')!;
      await expect(sim.driver.modifyVolume(spec, 'demo-1', to(50))).rejects.toMatchObject({ awsCode: 'VolumeShrinkNotAllowed' });
      await sim.driver.modifyVolume(spec, 'demo-1', to(200));
      await until(sim, () => sim.world.volumeOf('demo-1')!.modification?.state === 'optimizing', 'optimizing', 100);
      expect(sim.world.volumeOf('demo-1')!.sizeGiB).toBe(200);
      // EBS takes one modification at a time.
      await expect(sim.driver.modifyVolume(spec, 'demo-1', to(300))).rejects.toMatchObject({ awsCode: 'IncorrectModificationState' });
      // The watcher the bootstrap installed grows the file system on the running instance.
      await until(sim, () => sim.world.volumeOf('demo-1')!.data?.fsSizeGiB === 200, 'file system grown online', 100);
      expect(sim.trace.find((e) => e.kind === 'volume.fs-grown')).toMatchObject({ nodeId: 'demo-1', instanceId: first.id, fromGiB: 100, sizeGiB: 200, online: true });
      expect(sim.world.currentInstance('demo-1')!.id).toBe(first.id);

      // demo-2's watcher is stopped: its file system keeps its size until an instance mounts it.
      sim.faults.stopGrowWatcher('demo-2');
      await sim.driver.modifyVolume(spec, 'demo-2', to(150));
      await until(sim, () => sim.world.volumeOf('demo-2')!.modification?.state === 'completed', 'completed', 100);
      await sim.clock.sleep(60_000);
      expect(sim.world.volumeOf('demo-2')!.data?.fsSizeGiB).toBe(100);
      const old = sim.world.currentInstance('demo-2')!;
      await sim.driver.replaceInstance(spec, 'demo-2', old.id);
      await until(sim, () => sim.trace.some((e) => e.kind === 'volume.fs-grown' && e.nodeId === 'demo-2'), 'file system grown at mount', 100);
      const grown = sim.trace.find((e) => e.kind === 'volume.fs-grown' && e.nodeId === 'demo-2')!;
      expect(grown).toMatchObject({ fromGiB: 100, sizeGiB: 150 });
      expect(grown.instanceId).not.toBe(old.id);
      expect(grown['online']).toBeUndefined();
    });
  });

  it('preflight passes for a prepared account with the generated policy, IAM on (the dry runs carry the tags)', async () => {
    const { sim, spec } = setup();
    expect(sim.options.iam).toBe('evaluate');
    const report = await sim.run(() => sim.driver.preflight(spec));
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checked).toContain('permissions');
    expect(sim.world.iamStats.denied).toBe(0);
    // DryRuns only: nothing was created.
    expect(sim.world.enis).toHaveLength(0);
    expect(sim.world.volumes).toHaveLength(0);
  });

  it("with account: 'manual' and nothing prepared, ensureNode fails with AWS's error for the missing subnet", async () => {
    const sim = createSimulation({ seed: 1, profile: 'fast', account: 'manual' });
    const spec = defineCluster(simulatedClusterInput({ nodes: 3 }));
    // The user attached Berth's policy; the subnets, security groups, image... do not exist.
    sim.account.setControllerPolicy(sim.driver.iamPolicyFor(spec).controller);
    const err = await sim.run(() => sim.driver.ensureNode(spec, 'demo-1')).catch((e: unknown) => e);
    expect(err).toMatchObject({ awsCode: 'InvalidSubnetID.NotFound' });
    expect((err as Error).message).toContain(spec.nodes[0]!.subnetId);
    expect(sim.world.enis).toHaveLength(0);
    expect(sim.world.groups).toHaveLength(0);
  });

  it('a spec with dataVolume.kmsKeyId boots every node with IAM on (the node policy lets it attach the encrypted volume)', async () => {
    const kmsKeyId = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const input = simulatedClusterInput({ nodes: 3 });
    const spec = defineCluster({ ...input, dataVolume: { ...input.dataVolume, kmsKeyId } });
    const sim = createSimulation({ seed: 4, profile: 'fast' });
    await sim.run(() => provision(sim, spec));
    for (const n of spec.nodes) {
      expect(sim.world.volumeOf(n.id)).toMatchObject({ encrypted: true, kmsKeyArn: kmsKeyId, state: 'in-use' });
      expect(sim.world.currentInstance(n.id)?.tags['berth:phase']).toBe('in-service');
    }
    expect(sim.world.iamStats.denied).toBe(0);
    expect(sim.world.iamStats.checks).toBeGreaterThan(0);
  });

  // ---- regressions found by running the production driver on the simulator ----

  it('a node whose data volume was replaced boots on the new volume (its launch template names the new id)', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      const ctx = simContext(sim);
      const lost = sim.world.volumeOf('demo-1')!;
      // The node's instance and its volume are lost together (e.g. a bad manual cleanup).
      ctx.asg.suspend('berth-demo-demo-1', ['Launch']);
      sim.faults.killInstance('demo-1');
      await until(sim, () => lost.attachment === null, 'detached', 10);
      ctx.ec2.deleteVolume(lost.id);
      const res = await sim.driver.ensureNode(spec, 'demo-1');
      const created = res.changes.find((c) => c.resource === 'volume')!;
      expect(created.action).toBe('created');
      ctx.asg.resume('berth-demo-demo-1', ['Launch']);
      const failed = () => sim.trace.find((e) => e.kind === 'agent.failed' && e.nodeId === 'demo-1');
      await until(sim, () => sim.world.currentInstance('demo-1')?.lifecycleState === 'InService' || failed() !== undefined, 'demo-1 in service', 1_000, 30 * 60_000);
      // Before the fix: 'volume-lookup-error', "InvalidVolume.NotFound: The volume '<the deleted one>' does not exist."
      expect(failed(), JSON.stringify(failed())).toBeUndefined();
      expect(sim.world.volumeOf('demo-1')!.attachment?.instanceId).toBe(sim.world.currentInstance('demo-1')!.id);
      expect(sim.world.volumeOf('demo-1')!.id).toBe(created.id);
    });
  });

  it('a spec that restores a snapshot provisions with IAM on (CreateVolume is authorised on the snapshot too)', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      const { snapshotId } = await retrying(sim, () => sim.driver.snapshotVolume(spec, 'demo-1', { wait: true }));
      await sim.driver.deleteNode(spec, 'demo-1', { policy: 'delete' });
      const input = simulatedClusterInput({ nodes: 3 });
      const restored = defineCluster({ ...input, dataVolume: { ...input.dataVolume, snapshotId } });
      const res = await sim.driver.ensureNode(restored, 'demo-1');
      expect(res.changes.find((c) => c.resource === 'volume')).toMatchObject({ action: 'created', detail: expect.stringContaining(snapshotId) });
    });
  });

  it('snapshotVolume({ wait: true }) through the runtime wrapper takes one snapshot when the new snapshot is not visible at once', async () => {
    const { sim, spec } = setup();
    await sim.run(async () => {
      await provision(sim, spec);
      const driver = new RuntimeDriver(sim.driver, { clock: sim.clock, prng: createPrng(1) });
      // EC2's describes lag its creates (eventual consistency), here by 2 s.
      sim.faults.consistencyLag(2_000, 60_000);
      const { snapshotId } = await driver.snapshotVolume(spec, 'demo-1', { wait: true });
      expect(sim.world.snapshots.map((s) => s.id)).toEqual([snapshotId]);
    });
  });
});
