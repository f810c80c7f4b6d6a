import {
  AutoScalingServiceException,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  PutLifecycleHookCommand,
  RecordLifecycleActionHeartbeatCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { describe, expect, it } from 'vitest';
import type { Simulation } from '../../src/index.js';
import { createNode, expectAwsError, HOOK, instanceIn, liveInstancesOf, rulesAccount, until } from './account-fixture.js';

const lifecycleState = async (sim: Simulation, id: string) =>
  (await sim.aws.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [id] }))).AutoScalingInstances?.[0]?.LifecycleState ?? null;

const complete = (sim: Simulation, id: string, result: 'CONTINUE' | 'ABANDON', group = 'n1') =>
  sim.aws.autoScaling.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: group, LifecycleHookName: HOOK, InstanceId: id, LifecycleActionResult: result }));

const heartbeat = (sim: Simulation, id: string) => sim.aws.autoScaling.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: 'n1', LifecycleHookName: HOOK, InstanceId: id }));

const noAction = (id: string) => new RegExp(`^No active Lifecycle Action found with instance ID ${id}$`);

describe('Auto Scaling lifecycle hooks', () => {
  it('ASG-4: a launch hook holds the instance in Pending:Wait for HeartbeatTimeout, then applies DefaultResult ABANDON: terminated and replaced', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1', { hook: { heartbeatTimeoutSec: 60, defaultResult: 'ABANDON' } });
      const first = await instanceIn(sim, 'n1', 'Pending:Wait');
      const waitingSince = sim.clock.now();
      await sim.clock.sleep(59_000);
      expect(await lifecycleState(sim, first)).toBe('Pending:Wait');
      await until(sim, async () => (await lifecycleState(sim, first)) !== 'Pending:Wait', 'the action to time out', 200);
      expect(sim.clock.now() - waitingSince).toBeGreaterThanOrEqual(60_000);
      expect(sim.clock.now() - waitingSince).toBeLessThan(60_500);
      expect(await lifecycleState(sim, first)).toBe('Terminating');
      const second = await instanceIn(sim, 'n1', 'Pending:Wait');
      expect(second).not.toBe(first);
      await expectAwsError(complete(sim, first, 'CONTINUE'), 'ValidationError', 400, AutoScalingServiceException, noAction(first));
    });
    expect(sim.trace.find((e) => e.kind === 'hook.timeout')).toMatchObject({ defaultResult: 'ABANDON', global: false });
  });

  it('ASG-4: DefaultResult CONTINUE lets the instance go InService at the timeout', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1', { hook: { heartbeatTimeoutSec: 30, defaultResult: 'CONTINUE' } });
      const first = await instanceIn(sim, 'n1', 'Pending:Wait');
      await sim.clock.sleep(29_000);
      expect(await lifecycleState(sim, first)).toBe('Pending:Wait');
      expect(await instanceIn(sim, 'n1', 'InService')).toBe(first);
      expect(liveInstancesOf(sim, 'n1')).toEqual([first]);
    });
  });

  it('ASG-4: CompleteLifecycleAction CONTINUE goes Pending:Proceed → InService; ABANDON terminates and the group replaces the instance', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1', { hook: { heartbeatTimeoutSec: 600, defaultResult: 'ABANDON' } });
      const first = await instanceIn(sim, 'n1', 'Pending:Wait');
      await complete(sim, first, 'ABANDON');
      expect(await lifecycleState(sim, first)).toBe('Terminating');
      const second = await instanceIn(sim, 'n1', 'Pending:Wait');
      expect(second).not.toBe(first);
      await complete(sim, second, 'CONTINUE');
      expect(await lifecycleState(sim, second)).toBe('Pending:Proceed');
      expect(await instanceIn(sim, 'n1', 'InService')).toBe(second);
      // The action is over: completing it again is refused.
      await expectAwsError(complete(sim, second, 'CONTINUE'), 'ValidationError', 400, AutoScalingServiceException, noAction(second));
    });
  });

  it('ASG-4: a heartbeat restarts the timer for a full HeartbeatTimeout', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1', { hook: { heartbeatTimeoutSec: 60, defaultResult: 'ABANDON' } });
      const id = await instanceIn(sim, 'n1', 'Pending:Wait');
      for (let i = 0; i < 6; i++) {
        await sim.clock.sleep(45_000);
        await heartbeat(sim, id);
      }
      expect(await lifecycleState(sim, id)).toBe('Pending:Wait');
      const last = sim.clock.now();
      await until(sim, async () => (await lifecycleState(sim, id)) !== 'Pending:Wait', 'timeout', 200);
      expect(sim.clock.now() - last).toBeGreaterThanOrEqual(60_000);
      expect(sim.clock.now() - last).toBeLessThan(60_500);
    });
  });

  it('ASG-4: heartbeats cannot hold an instance past the global timeout, 100 × HeartbeatTimeout (at most 48 h)', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1', { hook: { heartbeatTimeoutSec: 30, defaultResult: 'CONTINUE' } });
      const hooks = await sim.aws.autoScaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: 'n1' }));
      expect(hooks.LifecycleHooks).toEqual([
        { LifecycleHookName: HOOK, AutoScalingGroupName: 'n1', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 30, GlobalTimeout: 3000, DefaultResult: 'CONTINUE' },
      ]);
      const id = await instanceIn(sim, 'n1', 'Pending:Wait');
      const since = sim.clock.now();
      while ((await lifecycleState(sim, id)) === 'Pending:Wait') {
        await heartbeat(sim, id).catch(() => undefined);
        await sim.clock.sleep(20_000);
      }
      expect(sim.clock.now() - since).toBeGreaterThanOrEqual(3000_000);
      expect(sim.clock.now() - since).toBeLessThan(3020_000);
      expect(await instanceIn(sim, 'n1', 'InService')).toBe(id);
    });
    expect(sim.trace.find((e) => e.kind === 'hook.timeout')).toMatchObject({ defaultResult: 'CONTINUE', global: true });
  });

  it('ASG-4: HeartbeatTimeout is 30–7200 s (default 3600) and DefaultResult defaults to ABANDON', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1');
      const put = (extra: Record<string, unknown>) =>
        sim.aws.autoScaling.send(new PutLifecycleHookCommand({ AutoScalingGroupName: 'n1', LifecycleHookName: 'h', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', ...extra }));
      await expectAwsError(put({ HeartbeatTimeout: 29 }), 'ValidationError', 400, AutoScalingServiceException);
      await expectAwsError(put({ HeartbeatTimeout: 7201 }), 'ValidationError', 400, AutoScalingServiceException);
      await put({});
      const hooks = await sim.aws.autoScaling.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: 'n1', LifecycleHookNames: ['h'] }));
      expect(hooks.LifecycleHooks?.[0]).toMatchObject({ HeartbeatTimeout: 3600, GlobalTimeout: 172_800, DefaultResult: 'ABANDON' });
    });
  });

  it('ASG-5: a hook put after the instance started launching does not apply to it; completing its action fails with "No active Lifecycle Action"', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1');
      const id = await instanceIn(sim, 'n1', 'Pending');
      await sim.aws.autoScaling.send(
        new PutLifecycleHookCommand({ AutoScalingGroupName: 'n1', LifecycleHookName: HOOK, LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 300, DefaultResult: 'ABANDON' }),
      );
      expect(await instanceIn(sim, 'n1', 'InService')).toBe(id);
      expect(sim.trace.some((e) => e.kind === 'instance.lifecycle' && e.to === 'Pending:Wait')).toBe(false);
      await expectAwsError(complete(sim, id, 'CONTINUE'), 'ValidationError', 400, AutoScalingServiceException, noAction(id));
      await expectAwsError(heartbeat(sim, id), 'ValidationError', 400, AutoScalingServiceException, noAction(id));
      await expectAwsError(
        sim.aws.autoScaling.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: 'n1', LifecycleHookName: HOOK, LifecycleActionToken: 'bcd2f1b8-9a78-44d3-8a7a-4dd07d7cf635', LifecycleActionResult: 'CONTINUE' })),
        'ValidationError',
        400,
        AutoScalingServiceException,
        /^No active Lifecycle Action found with token bcd2f1b8-9a78-44d3-8a7a-4dd07d7cf635$/,
      );
    });
  });

  it('ASG-5: completing an action after it timed out fails with "No active Lifecycle Action"', async () => {
    const { sim } = rulesAccount();
    await sim.run(async () => {
      await createNode(sim, 'n1', { hook: { heartbeatTimeoutSec: 30, defaultResult: 'CONTINUE' } });
      const id = await instanceIn(sim, 'n1', 'Pending:Wait');
      await instanceIn(sim, 'n1', 'InService');
      await expectAwsError(complete(sim, id, 'CONTINUE'), 'ValidationError', 400, AutoScalingServiceException, noAction(id));
      await expectAwsError(heartbeat(sim, id), 'ValidationError', 400, AutoScalingServiceException, noAction(id));
    });
  });

  it('ASG-6: DescribeAutoScalingInstances shows Pending, Pending:Wait, Pending:Proceed, InService, Terminating in turn', async () => {
    const { sim } = rulesAccount({ limits: { autoscaling: { capacity: 100_000, refillPerSec: 10_000 } } });
    await sim.run(async () => {
      await createNode(sim, 'n1', { hook: { heartbeatTimeoutSec: 60, defaultResult: 'ABANDON' } });
      const id = await instanceIn(sim, 'n1', 'Pending');
      const seen: string[] = [];
      const watch = async (until: string) => {
        for (let i = 0; i < 100_000; i++) {
          const s = await lifecycleState(sim, id);
          if (s !== null && seen.at(-1) !== s) seen.push(s);
          if (s === until || s === null) return;
          await sim.clock.sleep(1);
        }
        throw new Error(`never ${until}; seen ${seen.join(', ')}`);
      };
      await watch('Pending:Wait');
      await complete(sim, id, 'CONTINUE');
      await watch('InService');
      await sim.aws.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: id, ShouldDecrementDesiredCapacity: false }));
      await watch('gone');
      expect(seen).toEqual(['Pending', 'Pending:Wait', 'Pending:Proceed', 'InService', 'Terminating']);
    });
  });
});
