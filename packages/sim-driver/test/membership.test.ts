// Growing and shrinking a cluster on the simulator (issue 11, item 5): one node at a time, the
// membership hooks in order, the health gate between steps, removal only when told, never
// overlapping a roll, and a crashed change continued from what the cloud shows.
import { CreateOrUpdateTagsCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeVolumesCommand } from '@aws-sdk/client-ec2';
import { ListResourceRecordSetsCommand } from '@aws-sdk/client-route-53';
import {
  BerthConfigError,
  BerthLockError,
  BerthMembershipError,
  BerthRollHaltedError,
  createController,
  defineCluster,
  formatPlan,
  type ClusterHooks,
  type ClusterSpec,
  type Controller,
  type Driver,
} from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput, type Simulation } from '../src/index.js';

const NEW_IMAGE = 'ami-0fedcba9876543210';

function specs(options: { deletionPolicy?: 'retain' | 'snapshot' | 'delete' } = {}) {
  const sim = createSimulation({ seed: 11, profile: 'fast' });
  const three = defineCluster(simulatedClusterInput({ nodes: 3, ...options }));
  const five = defineCluster(simulatedClusterInput({ nodes: 5, ...options }));
  return { sim, three, five };
}

async function provision(sim: Simulation, spec: ClusterSpec): Promise<void> {
  const c = createController({ spec, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'provisioner' });
  await c.apply();
  while (!(await c.status()).converged || !sim.app.clusterHealthy()) await sim.clock.sleep(1_000);
}

type Logged = { name: string; e: { nodeId?: string; atMs: number } };
function recordAll(c: Controller): Logged[] {
  const log: Logged[] = [];
  for (const name of ['member.adding', 'member.added', 'member.removing', 'member.removed', 'apply.node', 'lock.acquired'] as const) c.on(name, (e: Logged['e']) => log.push({ name, e }));
  return log;
}
const names = (log: Logged[], filter: (l: Logged) => boolean = () => true) => log.filter(filter).map((l) => `${l.name} ${l.e.nodeId ?? ''}`.trim());

/** The simulator's hooks, with each membership call recorded with what the application looked like then. */
function watchedHooks(sim: Simulation) {
  const calls: { hook: string; nodeId: string; voters: readonly string[]; nodeHealthy: boolean; clusterHealthy: boolean }[] = [];
  const base = sim.hooks;
  const note = (hook: string, nodeId: string) => {
    seq.push(`${hook} ${nodeId}`);
    const st = sim.app.status();
    calls.push({ hook, nodeId, voters: st.voters, nodeHealthy: st.members.find((m) => m.nodeId === nodeId)?.healthy ?? false, clusterHealthy: sim.app.clusterHealthy() });
  };
  const seq: string[] = [];
  const hooks: ClusterHooks = {
    ...base,
    clusterHealthy: (ctx) => {
      seq.push('clusterHealthy');
      return base.clusterHealthy?.(ctx) ?? true;
    },
    addMember: async (nodeId, ctx) => {
      note('addMember', nodeId);
      await base.addMember?.(nodeId, ctx);
    },
    removeMember: async (nodeId, ctx) => {
      note('removeMember', nodeId);
      await base.removeMember?.(nodeId, ctx);
    },
  };
  return { hooks, calls, seq };
}

async function groupNames(sim: Simulation): Promise<string[]> {
  const r = await sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({}));
  return (r.AutoScalingGroups ?? []).map((g) => g.AutoScalingGroupName ?? '').sort();
}

/** The production driver, whose calls fail once `dead()` says so (a controller process that died). */
function dying(driver: Driver, dead: () => boolean): Driver {
  const d = driver as unknown as Record<string, unknown>;
  const guard =
    (f: (...a: unknown[]) => unknown, self: unknown) =>
    (...a: unknown[]) =>
      dead() ? Promise.reject(new Error('the controller process died')) : f.apply(self, a);
  const out: Record<string, unknown> = { name: driver.name, capabilities: driver.capabilities, apiCallCounts: d['apiCallCounts'] };
  for (const m of ['observe', 'ensureNode', 'replaceInstance', 'completeLifecycle', 'setDns', 'snapshotVolume', 'restoreLaunchTemplate', 'resizeVolume', 'deleteNode', 'waitForChange']) {
    const f = d[m];
    if (typeof f === 'function') out[m] = guard(f as (...a: unknown[]) => unknown, driver);
  }
  const lock = driver.lock as unknown as Record<string, (...a: unknown[]) => unknown>;
  out['lock'] = Object.fromEntries(['acquire', 'renew', 'release', 'inspect'].map((m) => [m, guard(lock[m] as (...a: unknown[]) => unknown, driver.lock)]));
  return out as unknown as Driver;
}

describe('membership changes on the simulator', () => {
  it('grows 3 → 5 one node at a time: created, healthy, addMember, health gate, then the next', async () => {
    const { sim, three, five } = specs();
    const { hooks, calls, seq } = watchedHooks(sim);
    const { log, result, plan, status } = await sim.run(async () => {
      await provision(sim, three);
      const c = createController({ spec: five, driver: sim.driver, clock: sim.clock, hooks, holderId: 'grower' });
      const plan = await c.plan();
      const log = recordAll(c);
      c.on('member.added', (e) => seq.push(`member.added ${e.nodeId}`));
      const result = await c.apply();
      return { log, result, plan, status: await c.status() };
    });
    expect(plan.membership.steps.map((s) => `${s.kind} ${s.nodeId} ${s.sizeBefore}->${s.sizeAfter} q${s.quorumAfter}`)).toEqual(['add demo-4 3->4 q3', 'add demo-5 4->5 q3']);
    const text = formatPlan(plan);
    expect(text).toContain('Membership, one node at a time');
    expect(text).toMatch(/1\. \+ add demo-4: create, wait InService and healthy, addMember, health gate {2}\(3 → 4 members, quorum 3\)/);
    expect(text).toContain('the membership passes through 4 members on the way');
    // One at a time: demo-5 is not even created before demo-4 is a member.
    expect(names(log, (l) => l.name !== 'lock.acquired')).toEqual(['member.adding demo-4', 'apply.node demo-4', 'member.added demo-4', 'member.adding demo-5', 'apply.node demo-5', 'member.added demo-5']);
    // addMember only once the node is healthy, and the next one only after the gate passed (demo-4 a voter, the application healthy).
    expect(calls).toEqual([
      { hook: 'addMember', nodeId: 'demo-4', voters: ['demo-1', 'demo-2', 'demo-3'], nodeHealthy: true, clusterHealthy: true },
      { hook: 'addMember', nodeId: 'demo-5', voters: ['demo-1', 'demo-2', 'demo-3', 'demo-4'], nodeHealthy: true, clusterHealthy: true },
    ]);
    // The health gate after each addMember: the application asked again before the node counts as added.
    for (const id of ['demo-4', 'demo-5']) {
      const added = seq.indexOf(`addMember ${id}`);
      expect(seq.slice(added, seq.indexOf(`member.added ${id}`))).toContain('clusterHealthy');
    }
    expect(result.membership?.added).toEqual(['demo-4', 'demo-5']);
    const app = sim.app.status();
    expect(app.voters).toEqual(['demo-1', 'demo-2', 'demo-3', 'demo-4', 'demo-5']);
    expect(app.quorumSize).toBe(3);
    expect(app.unsafeMembership).toEqual([]);
    expect(status.membership).toEqual({ joining: [], orphans: [] });
    expect(status.converged).toBe(true);
    expect(status.quorum.size).toBe(5);
  });

  it('does not remove a node just because the spec lost it: plan, apply and status report it, a roll refuses', async () => {
    const { sim, three, five } = specs();
    const { hooks, calls } = watchedHooks(sim);
    const out = await sim.run(async () => {
      await provision(sim, five);
      const c = createController({ spec: three, driver: sim.driver, clock: sim.clock, hooks, holderId: 'shrinker' });
      const plan = await c.plan();
      const result = await c.apply();
      const status = await c.status();
      const next = createController({ spec: defineCluster({ ...simulatedClusterInput({ nodes: 3 }), image: NEW_IMAGE }), driver: sim.driver, clock: sim.clock, hooks, holderId: 'roller' });
      const roll = await next.roll().then(
        () => null,
        (e: unknown) => e,
      );
      const records = await sim.aws.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'Z0123456789ABCDEFGHIJ' }));
      return { plan, result, status, roll, groups: await groupNames(sim), records: records.ResourceRecordSets ?? [] };
    });
    expect(out.plan.membership.orphans).toEqual(['demo-4', 'demo-5']);
    expect(out.plan.membership.steps).toEqual([]);
    expect(formatPlan(out.plan)).toContain("apply({ removeNodes: ['demo-4', 'demo-5'] })");
    expect(out.result.membership?.notRemoved).toEqual(['demo-4', 'demo-5']);
    expect(out.result.membership?.removed).toEqual([]);
    expect(out.result.warnings.join('\n')).toContain('in AWS but not in the spec');
    expect(calls).toEqual([]);
    expect(out.groups).toEqual(['berth-demo-demo-1', 'berth-demo-demo-2', 'berth-demo-demo-3', 'berth-demo-demo-4', 'berth-demo-demo-5']);
    expect(out.status.membership.orphans).toEqual(['demo-4', 'demo-5']);
    expect(out.status.converged).toBe(false);
    // Still members: the cluster record keeps them until they are removed.
    expect(out.records.find((r) => r.Name?.startsWith('demo.internal.example.com'))?.ResourceRecords).toHaveLength(5);
    expect(out.roll).toBeInstanceOf(BerthRollHaltedError);
    expect((out.roll as Error).message).toMatch(/in AWS but not in the spec.*a roll never overlaps a membership change/);
    expect(sim.app.status().voters).toHaveLength(5);
  });

  it('shrinks 5 → 3 with removeNodes: removeMember, health gate, then the resources per the deletion policy and the cluster record', async () => {
    const { sim, three, five } = specs({ deletionPolicy: 'retain' });
    const { hooks, calls, seq } = watchedHooks(sim);
    const out = await sim.run(async () => {
      await provision(sim, five);
      const c = createController({ spec: three, driver: sim.driver, clock: sim.clock, hooks, holderId: 'shrinker' });
      const log = recordAll(c);
      c.on('member.removed', (e) => seq.push(`member.removed ${e.nodeId}`));
      const plan = await c.plan({ removeNodes: ['demo-4', 'demo-5'] });
      const result = await c.apply({ removeNodes: ['demo-4', 'demo-5'] });
      const volumes = await sim.aws.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:berth:node', Values: ['demo-4', 'demo-5'] }] }));
      const records = await sim.aws.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'Z0123456789ABCDEFGHIJ' }));
      return { log, plan, result, status: await c.status(), groups: await groupNames(sim), volumes: volumes.Volumes ?? [], records: records.ResourceRecordSets ?? [] };
    });
    expect(formatPlan(out.plan)).toMatch(/- remove demo-4: removeMember, health gate, delete its resources per its deletion policy {2}\(5 → 4 members, quorum 3\)/);
    expect(formatPlan(out.plan)).toContain('2 to remove');
    expect(names(out.log, (l) => l.name.startsWith('member.'))).toEqual(['member.removing demo-4', 'member.removed demo-4', 'member.removing demo-5', 'member.removed demo-5']);
    expect(calls.map((c) => `${c.hook} ${c.nodeId} ${c.voters.length} ${c.clusterHealthy}`)).toEqual(['removeMember demo-4 5 true', 'removeMember demo-5 4 true']);
    // The health gate between removeMember and the deletion.
    for (const id of ['demo-4', 'demo-5']) expect(seq.slice(seq.indexOf(`removeMember ${id}`), seq.indexOf(`member.removed ${id}`))).toContain('clusterHealthy');
    expect(out.groups).toEqual(['berth-demo-demo-1', 'berth-demo-demo-2', 'berth-demo-demo-3']);
    // retain: the volumes stay, detached, still tagged with their node.
    expect(out.volumes.map((v) => `${v.Tags?.find((t) => t.Key === 'berth:node')?.Value} ${v.State}`).sort()).toEqual(['demo-4 available', 'demo-5 available']);
    expect(out.result.membership?.removed.flatMap((r) => r.changes.filter((ch) => ch.resource === 'volume').map((ch) => ch.action))).toEqual(['retained', 'retained']);
    const cluster = out.records.find((r) => r.Name?.startsWith('demo.internal.example.com'));
    expect(cluster?.ResourceRecords?.map((r) => r.Value).sort()).toEqual(three.nodes.map((n) => n.ip).sort());
    const app = sim.app.status();
    expect(app.voters).toEqual(['demo-1', 'demo-2', 'demo-3']);
    expect(app.unsafeMembership).toEqual([]);
    expect(out.status.converged).toBe(true);
  });

  it("a removed node's volume follows the deletion policy it was last applied with (its group's tag), not a later spec's", async () => {
    const sim = createSimulation({ seed: 12, profile: 'fast' });
    const five = defineCluster(simulatedClusterInput({ nodes: 5, deletionPolicy: 'retain' }));
    // The same edit drops two nodes and switches the policy to delete: the dropped nodes keep what retain keeps.
    const three = defineCluster(simulatedClusterInput({ nodes: 3, deletionPolicy: 'delete' }));
    const out = await sim.run(async () => {
      await provision(sim, five);
      const c = createController({ spec: three, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'shrinker' });
      const result = await c.apply({ removeNodes: true });
      const volumes = (await sim.aws.ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag:berth:node', Values: ['demo-4', 'demo-5'] }] }))).Volumes ?? [];
      return { result, volumes };
    });
    expect(out.volumes.map((v) => [v.State, v.Tags?.find((t) => t.Key === 'berth:deletion-policy')?.Value])).toEqual([
      ['available', 'retain'],
      ['available', 'retain'],
    ]);
    expect(out.result.membership?.removed.map((r) => r.nodeId)).toEqual(['demo-4', 'demo-5']);
  });

  it('refuses a removal the quorum cannot carry, before any hook or deletion', async () => {
    const { sim, three, five } = specs();
    const { hooks, calls } = watchedHooks(sim);
    const out = await sim.run(async () => {
      await provision(sim, five);
      // Two of the three nodes that stay go down.
      sim.faults.killInstance('demo-1');
      sim.faults.killInstance('demo-2');
      const c = createController({ spec: three, driver: sim.driver, clock: sim.clock, hooks, holderId: 'shrinker' });
      const error = await c.apply({ removeNodes: true }).then(
        () => null,
        (e: unknown) => e,
      );
      return { error, groups: await groupNames(sim) };
    });
    expect(out.error).toBeInstanceOf(BerthMembershipError);
    expect((out.error as BerthMembershipError).code).toBe('MEMBERSHIP_REFUSED');
    expect((out.error as Error).message).toMatch(/removing demo-4 \(5 → 4 members\) needs 3 healthy members besides it.*2 are healthy; nothing was changed/);
    expect(calls).toEqual([]);
    expect(out.groups).toHaveLength(5);
  });

  it('bad removeNodes fail before any cloud call', async () => {
    const { sim, three } = specs();
    const c = createController({ spec: three, driver: sim.driver, clock: sim.clock, hooks: sim.hooks });
    const before = sim.driver.apiCallCounts();
    await expect(sim.run(() => c.apply({ removeNodes: ['demo-2'] }))).rejects.toThrow(BerthConfigError);
    await expect(sim.run(() => c.apply({ removeNodes: ['demo-2'] }))).rejects.toThrow(/removeNodes\[0\]: node demo-2 is in the spec/);
    await expect(sim.run(() => c.plan({ removeNodes: ['demo-1'] }))).rejects.toThrow(BerthConfigError);
    await expect(sim.run(() => c.apply({ joinTimeoutMs: -1, healthTimeoutMs: Number.NaN }))).rejects.toThrow(/joinTimeoutMs: must be a positive number of milliseconds \(got -1\)\n {2}- healthTimeoutMs/);
    expect(sim.driver.apiCallCounts()).toEqual(before);
  });

  it('a membership change refuses while a roll holds the lease; a roll refuses while this controller changes the membership', async () => {
    const { sim, three, five } = specs();
    const out = await sim.run(async () => {
      await provision(sim, three);
      // Another controller rolls the cluster.
      const roller = createController({ spec: defineCluster({ ...simulatedClusterInput({ nodes: 3 }), image: NEW_IMAGE }), driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'roller' });
      const started = new Promise<void>((resolve) => roller.once('node.replacing', () => resolve()));
      const roll = roller.roll();
      await started;
      const grower = createController({ spec: five, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'grower' });
      const during = await grower.apply().then(
        () => null,
        (e: unknown) => e,
      );
      const groupsDuring = await groupNames(sim);
      await roll;
      // Now the grow runs, and this controller's own roll() refuses while it does.
      const adding = new Promise<void>((resolve) => grower.once('member.adding', () => resolve()));
      const grow = grower.apply();
      await adding;
      const ownRoll = await grower.roll().then(
        () => null,
        (e: unknown) => e,
      );
      await grow;
      return { during, groupsDuring, ownRoll };
    });
    expect(out.during).toBeInstanceOf(BerthLockError);
    expect((out.during as BerthLockError).code).toBe('LOCK_HELD');
    expect(out.groupsDuring).toHaveLength(3);
    expect(out.ownRoll).toBeInstanceOf(BerthMembershipError);
    expect((out.ownRoll as Error).message).toContain('a roll and a membership change never overlap');
    expect(sim.app.status().voters).toHaveLength(5);
  });

  it('a controller that died mid-grow is continued by the next one from the joining tag: addMember again, then the rest', async () => {
    const { sim, three, five } = specs();
    const { hooks, calls } = watchedHooks(sim);
    const out = await sim.run(async () => {
      await provision(sim, three);
      let dead = false;
      const first = createController({ spec: five, driver: dying(sim.driver, () => dead), clock: sim.clock, hooks, holderId: 'grower', sessionId: 'run-1', runtime: { retry: { maxAttempts: 1 } } });
      // It dies once demo-4's group exists (tagged joining), before demo-4 joined.
      first.on('apply.node', (e) => {
        if (e.nodeId === 'demo-4') dead = true;
      });
      await expect(first.apply()).rejects.toThrow();
      const restarted = createController({ spec: five, driver: sim.driver, clock: sim.clock, hooks, holderId: 'grower', sessionId: 'run-1' });
      const midway = await restarted.status();
      const plan = await restarted.plan();
      const log = recordAll(restarted);
      await restarted.apply();
      return { midway, plan, log, status: await restarted.status() };
    });
    expect(out.midway.membership.joining).toEqual(['demo-4', 'demo-5']);
    expect(out.midway.converged).toBe(false);
    expect(out.plan.membership.steps.map((s) => `${s.nodeId} ${s.stage}`)).toEqual(['demo-4 join', 'demo-5 create']);
    expect(names(out.log, (l) => l.name.startsWith('member.'))).toEqual(['member.adding demo-4', 'member.added demo-4', 'member.adding demo-5', 'member.added demo-5']);
    expect(calls.map((c) => `${c.hook} ${c.nodeId}`)).toEqual(['addMember demo-4', 'addMember demo-5']);
    expect(out.status.converged).toBe(true);
    expect(sim.app.status().voters).toHaveLength(5);
  });

  it('a controller that died between removeMember and the deletion is continued by the next one: removeMember again (a no-op), gate, delete', async () => {
    const { sim, three, five } = specs();
    const { hooks, calls } = watchedHooks(sim);
    const out = await sim.run(async () => {
      await provision(sim, five);
      let dead = false;
      const first = createController({ spec: three, driver: dying(sim.driver, () => dead), clock: sim.clock, hooks, holderId: 'shrinker', sessionId: 'run-1', runtime: { retry: { maxAttempts: 1 } } });
      first.on('member.removing', () => {
        // Dies right after the application let demo-4 go, before its resources were deleted.
        queueMicrotask(() => (dead = true));
      });
      await expect(first.apply({ removeNodes: ['demo-4'] })).rejects.toThrow();
      const votersMidway = sim.app.status().voters;
      const groupsMidway = await groupNames(sim);
      const restarted = createController({ spec: three, driver: sim.driver, clock: sim.clock, hooks, holderId: 'shrinker', sessionId: 'run-1' });
      const log = recordAll(restarted);
      await restarted.apply({ removeNodes: ['demo-4'] });
      return { votersMidway, groupsMidway, log, groups: await groupNames(sim) };
    });
    expect(out.votersMidway).toEqual(['demo-1', 'demo-2', 'demo-3', 'demo-5']);
    expect(out.groupsMidway).toContain('berth-demo-demo-4');
    expect(calls.map((c) => `${c.hook} ${c.nodeId}`)).toEqual(['removeMember demo-4', 'removeMember demo-4']);
    expect(names(out.log, (l) => l.name.startsWith('member.'))).toEqual(['member.removing demo-4', 'member.removed demo-4']);
    expect(out.groups).not.toContain('berth-demo-demo-4');
    expect(sim.app.status().unsafeMembership).toEqual([]);
  });

  it('the simulated application catches an unsafe order: deleting a voter without removeMember leaves it counted, down', async () => {
    const { sim, five } = specs({ deletionPolicy: 'delete' });
    const app = await sim.run(async () => {
      await provision(sim, five);
      const lease = await sim.driver.lock.acquire(five, { holder: 'careless', session: 'careless', ttlMs: 600_000 });
      await sim.driver.deleteNode(five, 'demo-5');
      await sim.driver.lock.release(five, lease);
      return sim.app.status();
    });
    expect(app.voters).toContain('demo-5');
    expect(app.quorumSize).toBe(3);
    expect(app.unsafeMembership.map((u) => `${u.kind} ${u.nodeId} ${u.voters}`)).toEqual(['voter-deleted demo-5 5']);
  });

  it('ASG-28: CreateOrUpdateTags overwrites the value of a key the group already has, without an error (how berth:membership moves from joining to member)', async () => {
    const { sim, three } = specs();
    const tags = await sim.run(async () => {
      await createController({ spec: three, driver: sim.driver, clock: sim.clock, hooks: sim.hooks }).apply();
      const tag = (Value: string) => ({ ResourceId: 'berth-demo-demo-1', ResourceType: 'auto-scaling-group', Key: 'berth:membership', Value, PropagateAtLaunch: false });
      await sim.aws.autoScaling.send(new CreateOrUpdateTagsCommand({ Tags: [tag('joining')] }));
      await sim.aws.autoScaling.send(new CreateOrUpdateTagsCommand({ Tags: [tag('member')] }));
      const r = await sim.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['berth-demo-demo-1'] }));
      return (r.AutoScalingGroups?.[0]?.Tags ?? []).filter((t) => t.Key === 'berth:membership').map((t) => t.Value);
    });
    expect(tags).toEqual(['member']);
  });

  it("R53-10: a controller policy that lists only the spec's record names denies deleting a removed node's record; iamPolicyFor formerNodes allows it", async () => {
    const { sim, five } = specs();
    const outcome = await sim.run(async () => {
      await provision(sim, five);
      // The operator attaches the policy of the smaller spec alone (no formerNodes).
      sim.account.transformPolicies((role, doc, spec) => (role === 'controller' ? sim.driver.iamPolicyFor(spec).controller : doc));
      const three = defineCluster(simulatedClusterInput({ nodes: 3 }));
      const denied = await createController({ spec: three, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, runtime: { retry: { maxAttempts: 1 } } })
        .apply({ removeNodes: ['demo-5'] })
        .then(
          () => null,
          (e: unknown) => e,
        );
      // With the removed nodes' names (what the simulated account passes by default).
      sim.account.transformPolicies((role, doc, spec) => (role === 'controller' ? sim.driver.iamPolicyFor(spec, { formerNodes: ['demo-4', 'demo-5'] }).controller : doc));
      const again = defineCluster(simulatedClusterInput({ nodes: 3 }));
      const done = await createController({ spec: again, driver: sim.driver, clock: sim.clock, hooks: sim.hooks }).apply({ removeNodes: ['demo-5'] });
      return { denied, done };
    });
    expect((outcome.denied as Error).message).toMatch(/route53:ChangeResourceRecordSets/);
    expect(outcome.done.membership?.removed.map((r) => r.nodeId)).toEqual(['demo-5']);
  });
});
