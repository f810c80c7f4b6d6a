// The node bootstrap's user scripts (configure, health) and what it does on failure: tag the
// reason, then ABANDON (the simulated group terminates the instance) or, with onFailure 'wait',
// keep the instance until an operator retries or gives up.
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import type { ClusterInput } from '@berth/core';
import { closeWorlds, lifecycleResults, makeImage, makeWorld } from './harness.js';
import type { BootWorld, WorldOptions } from './harness.js';

afterAll(closeWorlds);

const FULL_PHASES = ['attaching', 'mounting', 'configuring', 'joining', 'healthy', 'in-service'];
const WAIT: ClusterInput['lifecycle'] = { heartbeatTimeoutSec: 300, defaultResult: 'ABANDON', onFailure: 'wait' };

async function bootable(options: WorldOptions): Promise<BootWorld> {
  const w = await makeWorld(options);
  w.linkById(makeImage(join(w.dir, 'vol.img'), 64));
  return w;
}

/** Waits (wall clock) until the running bootstrap tagged a failure. */
async function failureTagged(w: BootWorld): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const failed = w.phases().find((p) => p.startsWith('failed:'));
    if (failed) return failed;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the bootstrap never tagged a failure');
}

describe.concurrent('node bootstrap: user scripts and failures', () => {
  it('health failure: tags the reason and ABANDONs; the group terminates the instance', async ({ expect }) => {
    const w = await bootable({ input: { bootstrap: { healthScript: 'exit 3', healthTimeoutSec: 1 } } });
    const r = await w.run();
    expect(r.code).toBe(1);
    expect(r.phases).toEqual(['attaching', 'mounting', 'configuring', 'joining', 'failed:joining:health-exit-3']);
    expect(w.sim.world.instance(w.instanceId)?.tags['berth:phase']).toBe('failed:joining:health-exit-3');
    expect(lifecycleResults(r.calls)).toEqual(['ABANDON']);
    expect(r.ec2State).toBe('terminated');
  });

  it('retries the health script until it passes', async ({ expect }) => {
    const w = await makeWorld({
      input: (dir) => {
        const counter = join(dir, 'health-count');
        return { bootstrap: { healthScript: `n=$(cat ${counter} 2>/dev/null || echo 0); echo $((n + 1)) > ${counter}; [ "$n" -ge 2 ]`, healthTimeoutSec: 30 } };
      },
    });
    w.linkById(makeImage(join(w.dir, 'vol.img'), 64));
    const r = await w.run();
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(w.dir, 'health-count'), 'utf8')).toBe('3\n');
    expect(r.phases).toEqual(FULL_PHASES);
    expect(r.lifecycleState).toBe('InService');
  });

  it('configure timeout: killed by `timeout`, tagged configure-timeout, ABANDONed', async ({ expect }) => {
    const w = await bootable({ input: { bootstrap: { configureScript: 'sleep 30', configureTimeoutSec: 1 } } });
    const r = await w.run();
    expect(r.code).toBe(1);
    expect(r.phases).toEqual(['attaching', 'mounting', 'configuring', 'failed:configuring:configure-timeout']);
    expect(lifecycleResults(r.calls)).toEqual(['ABANDON']);
    expect(r.ec2State).toBe('terminated');
  });

  it('configure failure names the exit code', async ({ expect }) => {
    const w = await bootable({ input: { bootstrap: { configureScript: 'exit 7' } } });
    const r = await w.run();
    expect(r.phases.at(-1)).toBe('failed:configuring:configure-exit-7');
    expect(r.ec2State).toBe('terminated');
  });

  it("onFailure 'wait': keeps the instance in Pending:Wait, and a retry after repair completes CONTINUE", async ({ expect }) => {
    const w = await makeWorld({ input: (dir) => ({ lifecycle: WAIT, bootstrap: { healthScript: `test -e ${join(dir, 'repaired')}`, healthTimeoutSec: 1 } }) });
    w.linkById(makeImage(join(w.dir, 'vol.img'), 64));
    const running = w.run();
    // The operator sees the failure tag, finds the instance still waiting, repairs, and asks for a retry.
    expect(await failureTagged(w)).toBe('failed:joining:health-exit-1');
    expect(w.sim.world.instance(w.instanceId)?.lifecycleState).toBe('Pending:Wait');
    writeFileSync(join(w.dir, 'repaired'), '');
    writeFileSync(join(w.stateDir, 'retry'), '');
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(r.phases).toEqual(['attaching', 'mounting', 'configuring', 'joining', 'failed:joining:health-exit-1', ...FULL_PHASES]);
    expect(lifecycleResults(r.calls)).toEqual(['CONTINUE']);
    expect(r.lifecycleState).toBe('InService');
  });

  it("onFailure 'wait': an operator's abandon file ABANDONs", async ({ expect }) => {
    const w = await bootable({ input: { lifecycle: WAIT, bootstrap: { configureScript: 'exit 1' } } });
    const running = w.run();
    expect(await failureTagged(w)).toBe('failed:configuring:configure-exit-1');
    expect(lifecycleResults(w.bridge.calls)).toEqual([]);
    writeFileSync(join(w.stateDir, 'abandon'), '');
    const r = await running;
    expect(r.code).toBe(1);
    expect(lifecycleResults(r.calls)).toEqual(['ABANDON']);
    expect(r.ec2State).toBe('terminated');
  });
});
