// The generated IAM policies are least privilege, and the simulator proves every action is
// needed: drop one action from one statement of iamPolicyFor(spec) — the controller's or the
// node's — and a run of everything Berth does (preflight, the lock table, provisioning, nodes
// booting, a roll, a resize, a snapshot, the change queue, deleting a node) fails, with IAM's
// denial naming that action. A policy that grants too little fails the healthy run below; an
// action that no run needs could be dropped unnoticed, and then this test fails for it.
import { DeleteTagsCommand as DeleteGroupTagsCommand } from '@aws-sdk/client-auto-scaling';
import { DeleteTagsCommand } from '@aws-sdk/client-ec2';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import type { IamPolicyDocument, IamStatement } from '@berth/aws-driver';
import { createController, defineCluster, type ClusterInput, type ClusterSpec } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput, type Simulation } from '../../src/index.js';

const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ADMIN = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

function inputs(): { base: ClusterInput; spec: ClusterSpec; next: ClusterSpec; moreGroups: ClusterSpec } {
  const raw = simulatedClusterInput({ nodes: 3, name: 'mut', heartbeatTimeoutSec: 45 });
  const base: ClusterInput = { ...raw, dataVolume: { ...raw.dataVolume, encrypted: true, kmsKeyId: KEY } };
  return {
    base,
    spec: defineCluster(base),
    // A roll to a new image, with a changed hook (PutLifecycleHook) and another security group (ModifyNetworkInterfaceAttribute).
    next: defineCluster({ ...base, image: 'ami-0fedcba9876543210', lifecycle: { ...base.lifecycle, heartbeatTimeoutSec: 30 } }),
    moreGroups: defineCluster({ ...base, securityGroupIds: [...base.securityGroupIds, 'sg-0aaaaaaaaaaaaaaa1'] }),
  };
}

/** Stops at the first denial: everything after it would only fail again. */
class Denied extends Error {}

/**
 * Everything Berth's driver and bootstrap do, in order. Returns when done or at the first denial.
 * `sim.aws` as an admin role sets up the one situation the driver meets only with resources an
 * older Berth made (a volume without `berth:node-ip`) and removes the lock table once.
 */
async function everything(sim: Simulation): Promise<void> {
  const { base, spec, next, moreGroups } = inputs();
  const admin = sim.awsAs('admin');
  const check = () => {
    if (sim.account.iamDenials().length > 0) throw new Denied();
  };
  const step = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      if (err instanceof Denied) throw err;
      check(); // a failure caused by a denial ends the run; any other failure is a bug of the test or the code
      throw new Error(`${what} failed without an IAM denial: ${(err as Error).message}`, { cause: err });
    }
    check();
  };
  const driver = sim.driver;
  const ctl = (s: ClusterSpec) => createController({ spec: s, driver, clock: sim.clock, hooks: sim.hooks, holderId: 'mutants' });
  const until = async (cond: () => boolean, what: string) => {
    for (let i = 0; i < 2_000 && !cond(); i++) {
      check();
      await sim.clock.sleep(2_000);
    }
    check();
    if (!cond()) throw new Error(`timed out waiting for ${what}`);
  };
  const inService = (s: ClusterSpec) => s.nodes.every((n) => sim.world.currentInstance(n.id)?.lifecycleState === 'InService');
  sim.account.prepare(spec);
  sim.account.setRolePolicies('admin', { all: ADMIN });

  await step('preflight', async () => {
    const report = await driver.preflight(spec);
    if (!report.ok) throw new Error(report.problems.map((p) => p.message).join('; '));
  });
  await step('ensureLockTable (table missing)', async () => {
    await admin.dynamodb.send(new DeleteTableCommand({ TableName: driver.config.lockTable }));
    await sim.clock.sleep(60_000);
    await driver.ensureLockTable();
  });
  await step('apply', () => ctl(spec).apply());
  // The bootstrap's heartbeats: one boot slow enough to send some.
  await until(() => inService(spec) && sim.app.clusterHealthy(), 'the cluster to boot');
  await step('a volume and a group without berth:node-ip (made by an older Berth), and another security group', async () => {
    const node = spec.nodes[0]!.id;
    await admin.ec2.send(new DeleteTagsCommand({ Resources: [sim.world.volumeOf(node)!.id], Tags: [{ Key: 'berth:node-ip' }] }));
    await admin.autoScaling.send(new DeleteGroupTagsCommand({ Tags: [{ ResourceId: `berth-mut-${node}`, ResourceType: 'auto-scaling-group', Key: 'berth:node-ip' }] }));
    await ctl(moreGroups).apply();
  });
  await step('a second controller while the lease is held', async () => {
    const lease = await driver.lock.acquire(spec, { holder: 'someone-else', session: 'someone-else-session', ttlMs: 60_000 });
    const refused = await ctl(spec).apply().then(
      () => false,
      (err: unknown) => (err as { code?: string }).code === 'LOCK_HELD',
    );
    if (!refused) throw new Error('apply ran while another controller held the lease');
    await driver.lock.release(spec, lease);
  });
  await step('roll (new image, new hook)', async () => {
    // The first attachment of the roll hangs 25 s: its bootstrap heartbeats (every 10 s) meanwhile.
    for (const n of next.nodes) sim.faults.stuckAttach(n.id, 25_000);
    await ctl(next).roll({ maxUnavailable: 1 });
  });
  // Through apply(): it reads the volume's last modification (DescribeVolumesModifications), then ModifyVolume.
  const grown = defineCluster({ ...base, image: next.nodes[0]!.image, lifecycle: { ...base.lifecycle, heartbeatTimeoutSec: 30 }, nodes: base.nodes.map((n, i) => (i === 1 ? { ...n, dataVolume: { sizeGiB: next.nodes[1]!.dataVolume.sizeGiB + 10 } } : n)) });
  await step('resize', async () => {
    const r = await ctl(grown).apply();
    if (r.volumesModified.length !== 1) throw new Error(`apply modified ${r.volumesModified.length} volumes, not 1`);
  });
  await step('snapshot', () => driver.snapshotVolume(next, next.nodes[1]!.id, { wait: true }));
  await step('complete a lifecycle action before the bootstrap does', async () => {
    const node = next.nodes[2]!.id;
    const before = sim.world.currentInstance(node)!.id;
    // Past the bound within which the driver's last look stands for the group check: this
    // replaceInstance checks with DescribeAutoScalingInstances (the roll's never need to).
    await sim.clock.sleep(driver.config.groupSightingMaxAgeMs + 1);
    await driver.replaceInstance(next, node, before);
    // The group wants an instance and has none that is not leaving: a look asks for its scaling
    // activities (DescribeScalingActivities, only for groups that look stuck — ASG-34).
    await driver.observe(next, { scope: 'instances' });
    await until(() => { const c = sim.world.currentInstance(node); return !!c && c.id !== before && c.lifecycleState === 'Pending:Wait'; }, 'a new instance in Pending:Wait');
    await driver.completeLifecycle(next, node, sim.world.currentInstance(node)!.id, 'CONTINUE');
    const fresh = sim.world.currentInstance(node)!.id;
    // Its bootstrap then finds no active action and checks InService (DescribeAutoScalingInstances).
    await until(() => sim.world.instance(fresh)?.tags['berth:phase'] === 'in-service', 'the bootstrap to finish');
  });
  await step('pause and resume a node', async () => {
    // pauseNode tags the group berth:paused and scales it to 0; resumeNode scales it back and removes the mark (DeleteTags).
    const c = ctl(next);
    await c.pauseNode(next.nodes[2]!.id);
    await c.resumeNode(next.nodes[2]!.id);
  });
  await step('delete a node (snapshot policy)', () => driver.deleteNode(next, next.nodes[0]!.id, { policy: 'snapshot' }));
  await step('delete a node (delete policy)', () => driver.deleteNode(next, next.nodes[1]!.id, { policy: 'delete' }));
  await step('delete the change queue', () => driver.deleteChangeQueue(next));
}

function without(doc: IamPolicyDocument, statement: number, action: string): IamPolicyDocument {
  const statements: IamStatement[] = [];
  doc.Statement.forEach((s, i) => {
    if (i !== statement) return void statements.push(s);
    const rest = s.Action.filter((a) => a !== action);
    if (rest.length > 0) statements.push({ ...s, Action: rest });
  });
  return { ...doc, Statement: statements };
}

interface Mutant {
  readonly role: 'controller' | 'node';
  readonly sid: string;
  readonly action: string;
  readonly statement: number;
}

function mutants(): Mutant[] {
  const sim = createSimulation({ profile: 'fast' });
  const { controller, node } = sim.driver.iamPolicyFor(inputs().spec);
  const out: Mutant[] = [];
  for (const [role, doc] of [['controller', controller], ['node', node]] as const) {
    doc.Statement.forEach((s, statement) => {
      for (const action of s.Action) out.push({ role, sid: s.Sid, action, statement });
    });
  }
  return out;
}

async function runWith(mutant: Mutant | null): Promise<{ denials: readonly { action: string; principalArn: string }[]; error: unknown }> {
  const sim = createSimulation({ seed: 7, profile: 'fast' });
  // Every spec the run uses gets its generated policies, minus the one action.
  if (mutant) sim.account.transformPolicies((role, doc) => (role === mutant.role ? without(doc as IamPolicyDocument, mutant.statement, mutant.action) : doc));
  let error: unknown = null;
  try {
    await sim.run(() => everything(sim));
  } catch (err) {
    error = err;
    if (process.env.DEBUG_MUTANTS) console.log(err, sim.account.iamDenials());
  }
  return { denials: sim.account.iamDenials(), error };
}

describe('the generated IAM policies are exactly what Berth needs', () => {
  it('with the generated policies, everything succeeds and IAM denies nothing', async () => {
    const r = await runWith(null);
    expect(r.denials).toEqual([]);
    expect(r.error).toBeNull();
  }, 120_000);

  const all = mutants();
  it(`has actions to drop (${all.length})`, () => {
    expect(all.length).toBeGreaterThan(40);
  });

  it.each(all.filter((m) => !process.env.MUTANT || `${m.sid}:${m.action}`.includes(process.env.MUTANT)).map((m) => [`${m.role} ${m.sid}: ${m.action}`, m] as const))('without %s, a run fails with a denial naming it', async (_name, mutant) => {
    const r = await runWith(mutant);
    expect(r.error, 'the run must stop at a denial').toBeInstanceOf(Denied);
    expect(r.denials.map((d) => d.action)).toContain(mutant.action);
  }, 120_000);
});
