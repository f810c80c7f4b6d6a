import { CreateTagsCommand, CreateVolumeCommand, DeleteTagsCommand } from '@aws-sdk/client-ec2';
import { PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { phaseEventPattern } from '@berth/aws-driver';
import { defineCluster, type ClusterChange, type Phase } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { createSimulation, simulatedClusterInput, type Simulation } from '../../src/index.js';
import { AZ, rulesAccount, tags } from './account-fixture.js';

/** A queue that a rule on the default bus with `pattern` delivers to (with the queue policy EventBridge needs). */
async function ruleQueue(sim: Simulation, name: string, pattern: Record<string, unknown>): Promise<string> {
  const url = (await sim.aws.sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
  const arn = (await sim.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes?.['QueueArn'] as string;
  const rule = await sim.aws.eventBridge.send(new PutRuleCommand({ Name: name, EventPattern: JSON.stringify(pattern) }));
  const statement = { Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: arn, Condition: { ArnEquals: { 'aws:SourceArn': rule.RuleArn } } };
  await sim.aws.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: JSON.stringify({ Version: '2012-10-17', Statement: [statement] }) } }));
  await sim.aws.eventBridge.send(new PutTargetsCommand({ Rule: name, Targets: [{ Id: 'q', Arn: arn }] }));
  return url;
}

async function bodies(sim: Simulation, url: string): Promise<Record<string, unknown>[]> {
  const r = await sim.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  return (r.Messages ?? []).map((m) => JSON.parse(m.Body as string) as Record<string, unknown>);
}

describe('tag change events', () => {
  it('EB-7: CreateTags and DeleteTags send a Tag Change on Resource event with the changed keys and the tags after the change; an unchanged value sends none', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      const url = await ruleQueue(sim, 'tags', { source: ['aws.tag'], 'detail-type': ['Tag Change on Resource'] });
      const vol = await sim.aws.ec2.send(new CreateVolumeCommand({ AvailabilityZone: AZ.a, Size: 10, TagSpecifications: [{ ResourceType: 'volume', Tags: tags({ team: 'data' }) }] }));
      const id = vol.VolumeId as string;
      await sim.clock.sleep(5_000);
      // Tags given at creation: AWS does not say whether they send an event; the simulator sends none.
      expect(await bodies(sim, url)).toEqual([]);
      await sim.aws.ec2.send(new CreateTagsCommand({ Resources: [id], Tags: tags({ team: 'data', stage: 'blue' }) }));
      await sim.aws.ec2.send(new CreateTagsCommand({ Resources: [id], Tags: tags({ stage: 'blue' }) }));
      await sim.aws.ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: 'team' }] }));
      await sim.clock.sleep(5_000);
      const events = await bodies(sim, url);
      expect(events.map((e) => ({ source: e['source'], type: e['detail-type'], resources: e['resources'], detail: e['detail'] }))).toEqual([
        {
          source: 'aws.tag',
          type: 'Tag Change on Resource',
          resources: [`arn:aws:ec2:eu-west-1:123456789012:volume/${id}`],
          detail: { 'changed-tag-keys': ['stage'], service: 'ec2', 'resource-type': 'volume', version: 1, tags: { team: 'data', stage: 'blue' } },
        },
        {
          source: 'aws.tag',
          type: 'Tag Change on Resource',
          resources: [`arn:aws:ec2:eu-west-1:123456789012:volume/${id}`],
          detail: { 'changed-tag-keys': ['team'], service: 'ec2', 'resource-type': 'volume', version: 2, tags: { stage: 'blue' } },
        },
      ]);
    });
  });

  it("EB-7, EB-2: the phase rule delivers every berth:phase the bootstrap tags on the cluster's instances, and the driver turns them into phase changes", async () => {
    const sim = createSimulation({ seed: 3, profile: 'fast' });
    const spec = defineCluster(simulatedClusterInput({ nodes: 3 }));
    const seen = await sim.run(async () => {
      for (const n of spec.nodes) await sim.driver.ensureNode(spec, n.id);
      const changes: ClusterChange[] = [];
      const start = sim.clock.now();
      // Until every node reported in-service (or 10 virtual minutes).
      while (sim.clock.now() - start < 600_000) {
        changes.push(...(await sim.driver.waitForChange!(spec, { timeoutMs: 20_000 })));
        if (spec.nodes.every((n) => changes.some((c) => c.nodeId === n.id && c.phase === 'in-service'))) break;
      }
      return changes;
    });
    for (const n of spec.nodes) {
      const phases = seen.filter((c) => c.nodeId === n.id && c.kind === 'phase').map((c) => c.phase as Phase);
      // Every phase the bootstrap reports, each once. (A standard queue may swap two that came close together.)
      expect([...phases].sort()).toEqual(['attaching', 'configuring', 'healthy', 'in-service', 'joining', 'mounting']);
      const instanceIds = new Set(seen.filter((c) => c.nodeId === n.id && c.kind === 'phase').map((c) => c.instanceId));
      expect([...instanceIds]).toEqual([sim.world.currentInstance(n.id)?.id]);
    }
    // The rule selects by the cluster's tag and the changed key: nothing else of the account arrives as a phase.
    expect(phaseEventPattern(spec)).toMatchObject({ detail: { 'changed-tag-keys': ['berth:phase'], tags: { 'berth:cluster': [spec.name] } } });
  });
});
