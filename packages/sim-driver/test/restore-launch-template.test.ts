// restoreLaunchTemplate: the production AWS driver (sim.driver) on the simulated account, IAM evaluated.
import { computeRevision, defineCluster, type ClusterSpec } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { simulatedClusterInput, type Simulation } from '../src/index.js';
import { provision, retrying, setup, until } from './helpers.js';

const IMAGE_B = 'ami-0fedcba9876543210';
const IMAGE_C = 'ami-0aaaaaaaaaaaaaaa1';

const withImage = (image: string): ClusterSpec => defineCluster({ ...simulatedClusterInput({ nodes: 3 }), image });

/** The node's group's launch template, as the controller's observation shows it. */
async function groupTemplate(sim: Simulation, spec: ClusterSpec, nodeId: string) {
  const g = (await sim.driver.observe(spec, { scope: 'instances' })).nodes[nodeId]?.group;
  if (!g?.launchTemplateId || !g.launchTemplateVersion) throw new Error(`${nodeId} has no group template`);
  return { launchTemplateId: g.launchTemplateId, launchTemplateVersion: g.launchTemplateVersion, revision: g.revision };
}

/** Points the node at `next` as a roll does (the observation as a hint) and replaces its instance. */
async function rollNode(sim: Simulation, next: ClusterSpec, nodeId: string): Promise<string> {
  const observed = (await sim.driver.observe(next, { scope: 'instances' })).nodes[nodeId];
  await retrying(sim, () => sim.driver.ensureNode(next, nodeId, { observed }));
  const old = sim.world.currentInstance(nodeId);
  if (!old) throw new Error(`no instance on ${nodeId}`);
  await retrying(sim, () => sim.driver.replaceInstance(next, nodeId, old.id));
  return old.id;
}

/** Waits until the node's instance on `revision` failed its boot (its bootstrap tags the reason and abandons). */
async function failedOn(sim: Simulation, nodeId: string, revision: string): Promise<void> {
  await until(sim, () => sim.world.instancesOf(nodeId).some((i) => i.tags['berth:revision'] === revision && (i.tags['berth:phase'] ?? '').startsWith('failed:')), `${nodeId} failing on ${revision}`);
}

/** Waits until the node's current instance is InService on `revision`. */
async function inServiceOn(sim: Simulation, nodeId: string, revision: string): Promise<string> {
  let id = '';
  await until(sim, () => {
    const i = sim.world.currentInstance(nodeId);
    id = i?.id ?? '';
    return i?.lifecycleState === 'InService' && i.tags['berth:revision'] === revision && i.tags['berth:phase'] === 'in-service';
  }, `${nodeId} InService on ${revision}`);
  return id;
}

describe('restoreLaunchTemplate on the simulator (sim.driver, IAM evaluated)', () => {
  it('a failed replacement goes back to the template the group used before: the next launch comes up on the old revision', async () => {
    const { sim, spec } = setup({ seed: 11 });
    const b = withImage(IMAGE_B);
    await sim.run(async () => {
      await provision(sim, spec);
      sim.faults.markImageBad(IMAGE_B, { phase: 'configuring', reason: 'config template broken' });
      const good = await groupTemplate(sim, spec, 'demo-1');
      expect(good.revision).toBe(computeRevision(spec, 'demo-1'));
      const old = await rollNode(sim, b, 'demo-1');
      await failedOn(sim, 'demo-1', computeRevision(b, 'demo-1'));

      const changes = await retrying(sim, () => sim.driver.restoreLaunchTemplate!(b, 'demo-1', good));
      expect(changes).toEqual([{ resource: 'auto-scaling-group', action: 'updated', id: 'berth-demo-demo-1', detail: expect.stringContaining('(restored)') }]);
      expect(await groupTemplate(sim, b, 'demo-1')).toEqual(good);
      // The group relaunches from the good template once the failed instance is abandoned.
      const back = await inServiceOn(sim, 'demo-1', computeRevision(spec, 'demo-1'));
      expect(back).not.toBe(old);
      expect(await retrying(sim, () => sim.driver.restoreLaunchTemplate!(b, 'demo-1', good))).toEqual([expect.objectContaining({ action: 'unchanged' })]);
    });
    expect(sim.account.iamDenials()).toEqual([]);
  });

  it('a roll to C while B failed keeps A (the last good) and B: the group can still go back to A; a full ensureNode re-run deletes neither', async () => {
    const { sim, spec } = setup({ seed: 12 });
    const b = withImage(IMAGE_B);
    const c = withImage(IMAGE_C);
    await sim.run(async () => {
      await provision(sim, spec);
      sim.faults.markImageBad(IMAGE_B, { phase: 'mounting', reason: 'no such device' });
      sim.faults.markImageBad(IMAGE_C, { phase: 'joining', reason: 'cannot reach peers' });
      const a = await groupTemplate(sim, spec, 'demo-2');
      await rollNode(sim, b, 'demo-2');
      await failedOn(sim, 'demo-2', computeRevision(b, 'demo-2'));
      // No rollback happened (say the controller died); the next roll goes to C, which fails too.
      const bTemplate = await groupTemplate(sim, b, 'demo-2');
      await rollNode(sim, c, 'demo-2').catch(() => undefined);
      await failedOn(sim, 'demo-2', computeRevision(c, 'demo-2'));
      const templates = () => sim.world.launchTemplates.filter((t) => !t.deleted && t.tags['berth:node'] === 'demo-2').map((t) => t.id).sort();
      expect(templates()).toEqual([a.launchTemplateId, bTemplate.launchTemplateId, (await groupTemplate(sim, c, 'demo-2')).launchTemplateId].sort());
      // apply()'s full ensureNode on C (the group is on C already) keeps the group's history.
      const rerun = await retrying(sim, () => sim.driver.ensureNode(c, 'demo-2'));
      expect(rerun.changes.filter((x) => x.resource === 'launch-template' && x.action === 'deleted')).toEqual([]);
      expect(templates()).toHaveLength(3);

      await retrying(sim, () => sim.driver.restoreLaunchTemplate!(c, 'demo-2', a));
      await inServiceOn(sim, 'demo-2', computeRevision(spec, 'demo-2'));
    });
    expect(sim.account.iamDenials()).toEqual([]);
  });

  it('IAM-4: a policy generated for the new spec alone denies the way back (the old image is launched again); the error says to pass rollbackImages', async () => {
    const { sim, spec } = setup({ seed: 14 });
    const b = withImage(IMAGE_B);
    // The operator regenerated the policy for B without the image the cluster ran before.
    sim.account.transformPolicies((role, doc, s) => (role === 'controller' ? sim.driver.iamPolicyFor(s).controller : doc));
    await sim.run(async () => {
      for (const n of spec.nodes) await retrying(sim, () => sim.driver.ensureNode(spec, n.id));
      const a = await groupTemplate(sim, spec, 'demo-1');
      await retrying(sim, () => sim.driver.ensureNode(b, 'demo-1'));
      const err = await sim.driver.restoreLaunchTemplate!(b, 'demo-1', a).catch((e: unknown) => e);
      expect(err).toMatchObject({ awsCode: 'AccessDenied', retryable: false });
      expect((err as Error).message).toContain(`the controller may not launch ${spec.image}`);
      expect((err as Error).message).toContain(`iamPolicyFor(spec, { rollbackImages: ['${spec.image}'] })`);
      expect((await groupTemplate(sim, b, 'demo-1')).revision).toBe(computeRevision(b, 'demo-1'));
      // With the old image among rollbackImages, the same call goes through.
      sim.account.transformPolicies((role, doc, s) => (role === 'controller' ? sim.driver.iamPolicyFor(s, { rollbackImages: [spec.image] }).controller : doc));
      // (A new spec object: sim.driver prepares the account, attaching the regenerated policies, once per spec object.)
      expect(await retrying(sim, () => sim.driver.restoreLaunchTemplate!(withImage(IMAGE_B), 'demo-1', a))).toEqual([expect.objectContaining({ action: 'updated' })]);
    });
    expect(sim.account.iamDenials().map((d) => d.action)).toEqual(['ec2:RunInstances']);
  });

  it("refuses another node's template with an error naming the node and the template, and changes nothing", async () => {
    const { sim, spec } = setup({ seed: 13 });
    await sim.run(async () => {
      for (const n of spec.nodes) await retrying(sim, () => sim.driver.ensureNode(spec, n.id));
      const other = await groupTemplate(sim, spec, 'demo-3');
      const own = await groupTemplate(sim, spec, 'demo-1');
      const err = await sim.driver.restoreLaunchTemplate!(spec, 'demo-1', other).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'DRIVER_ERROR', awsCode: 'LaunchTemplateNotOwned', retryable: false });
      expect((err as Error).message).toContain(`launch template ${other.launchTemplateId} (berth-demo-demo-3-`);
      expect((err as Error).message).toContain("is not node demo-1's of cluster demo");
      expect(await groupTemplate(sim, spec, 'demo-1')).toEqual(own);
    });
  });
});
