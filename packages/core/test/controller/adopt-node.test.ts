// controller.adopt()'s bad input: refused with errors naming the field, before any cloud call
// (the adoption itself runs on the simulator: packages/sim-driver/test/adopt-node.test.ts).
import { BerthCapabilityError, BerthConfigError, createController, DEFAULT_CAPABILITIES, defineCluster, type Driver } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { clusterInput } from '../support/fixtures.js';
import { TestClock } from '../support/test-clock.js';

/** A driver whose every call is recorded and fails: the tests show none is made. */
function recordingDriver(calls: string[], adoption: boolean): Driver {
  const fail = (name: string) => () => {
    calls.push(name);
    return Promise.reject(new Error(`${name} should not be called`));
  };
  return {
    name: 'recording',
    capabilities: { ...DEFAULT_CAPABILITIES, adoption },
    observe: fail('observe'),
    ensureNode: fail('ensureNode'),
    replaceInstance: fail('replaceInstance'),
    completeLifecycle: fail('completeLifecycle'),
    setDns: fail('setDns'),
    snapshotVolume: fail('snapshotVolume'),
    modifyVolume: fail('modifyVolume'),
    deleteNode: fail('deleteNode'),
    lock: { acquire: fail('lock.acquire'), renew: fail('lock.renew'), release: fail('lock.release'), inspect: fail('lock.inspect') },
    checkAdoption: fail('checkAdoption'),
    takeOverAdoption: fail('takeOverAdoption'),
  };
}

const ADOPT = { eniId: 'eni-0123456789abcdef0', volumeId: 'vol-0123456789abcdef0' };

describe('controller.adopt() input', () => {
  it('the spec: adopt ids are AWS ids, and no two nodes adopt one ENI or volume', () => {
    const input = clusterInput(3);
    const bad = { ...input, nodes: input.nodes.map((n, i) => ({ ...n, adopt: i === 0 ? { eniId: 'eni-nope', volumeId: ADOPT.volumeId } : ADOPT })) };
    const e = (() => {
      try {
        defineCluster(bad);
      } catch (err) {
        return err as BerthConfigError;
      }
      throw new Error('defineCluster should refuse');
    })();
    expect(e).toBeInstanceOf(BerthConfigError);
    expect(e.issues.map((i) => i.path)).toEqual(['nodes[0].adopt.eniId', 'nodes[1].adopt.volumeId', 'nodes[2].adopt.eniId', 'nodes[2].adopt.volumeId']);
    expect(e.issues.map((i) => i.message).join('\n')).toMatch(/eni-0123456789abcdef0 is already adopted by nodes\[1\]/);
    expect(e.issues.map((i) => i.message).join('\n')).toMatch(/vol-0123456789abcdef0 is already adopted by nodes\[0\]/);
    const ok = defineCluster({ ...input, nodes: input.nodes.map((n, i) => (i === 0 ? { ...n, adopt: ADOPT } : n)) });
    expect(ok.nodes[0]?.adopt).toEqual(ADOPT);
    expect(ok.nodes[1]).not.toHaveProperty('adopt');
  });

  it('names the node, the ids, the device and the hook it lacks, before any driver call', async () => {
    const calls: string[] = [];
    const spec = defineCluster(clusterInput(3));
    const c = createController({ spec, driver: recordingDriver(calls, true), clock: new TestClock() });
    const e = (await c.adopt('n1', { instanceId: 'i-zzz', device: '/dev/sda1' }).catch((x: unknown) => x)) as BerthConfigError;
    expect(e).toBeInstanceOf(BerthConfigError);
    expect(e.issues.map((i) => i.path)).toEqual(['instanceId', 'device', 'hooks.confirmUnmanagedStopped']);
    expect(e.message).toMatch(/Invalid adoption of node n1/);
    const nothing = (await c.adopt('n2', { confirmUnmanagedStopped: () => true }).catch((x: unknown) => x)) as BerthConfigError;
    expect(nothing.issues).toEqual([{ path: 'nodes[1].adopt', message: expect.stringMatching(/node n2 names nothing to adopt: give it adopt: \{ eniId, volumeId \}/) }]);
    const unknown = (await c.adopt('n9', { confirmUnmanagedStopped: () => true }).catch((x: unknown) => x)) as BerthConfigError;
    expect(unknown.issues[0]).toMatchObject({ path: 'nodeId', message: expect.stringMatching(/node 'n9' is not in cluster 'kafka'/) });
    expect(calls).toEqual([]);
  });

  it('a driver without capabilities.adoption: a capability error, and no call', async () => {
    const calls: string[] = [];
    const input = clusterInput(3);
    const spec = defineCluster({ ...input, nodes: input.nodes.map((n, i) => (i === 0 ? { ...n, adopt: ADOPT } : n)) });
    const c = createController({ spec, driver: recordingDriver(calls, false), clock: new TestClock(), hooks: { confirmUnmanagedStopped: () => true } });
    await expect(c.adopt('n1')).rejects.toBeInstanceOf(BerthCapabilityError);
    expect(calls).toEqual([]);
  });
});
