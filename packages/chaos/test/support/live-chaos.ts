import { BerthRollHaltedError, defineCluster, createController, type ClusterSpec } from '@berth/core';
import { createSimulation, simulatedClusterInput, type Simulation } from '@berth/sim-driver';
import { checkInvariants, controllerRoll, createSimInjector, haltRecord, pending, recordingDriver, TARGET_IMAGE, truthOf, type DriverCall, type Fault, type HaltRecord, type InvariantId, type LivenessResult, type RecordingDriver } from '../../src/index.js';

/** A simulation with a roll running in the background, driven step by step by model commands. */
export class LiveChaos {
  readonly sim: Simulation;
  readonly spec: ClusterSpec;
  readonly calls: DriverCall[] = [];
  #session = 0;
  #driver: RecordingDriver | null = null;
  #abort: AbortController | null = null;
  settled = true;
  outcome: { kind: 'completed' | 'halted' | 'error' | 'crashed'; nodeId: string | null; message: string | null; halt: HaltRecord | null } | null = null;
  readonly halts: HaltRecord[] = [];

  constructor(seed: number, nodes: number) {
    this.sim = createSimulation({ seed, profile: 'fast' });
    this.spec = defineCluster({ ...simulatedClusterInput({ nodes, name: 'chaos' }), image: TARGET_IMAGE });
  }

  async setup(): Promise<void> {
    const spec0 = defineCluster(simulatedClusterInput({ nodes: this.spec.nodes.length, name: 'chaos' }));
    await this.sim.run(async () => {
      await createController({ spec: spec0, driver: recordingDriver(this.sim.driver, { holder: 'setup', clock: this.sim.clock, log: this.calls }), clock: this.sim.clock, holderId: 'setup', sessionId: 'setup' }).apply();
      while (!(this.sim.app.clusterHealthy() && spec0.nodes.every((n) => this.sim.world.currentInstance(n.id)?.lifecycleState === 'InService'))) await this.sim.clock.sleep(1_000);
    });
  }

  /** Starts a roll (same holder as before: a restart keeps the lease). */
  startRoll(holder = 'ctl-a', retryFailed = false): void {
    const session = `${holder}#${++this.#session}`;
    const abort = new AbortController();
    const driver = recordingDriver(this.sim.driver, { holder, session, clock: this.sim.clock, log: this.calls, probe: (s) => truthOf(this.sim, s), ignoreFailuresBeforeMs: retryFailed ? this.sim.clock.now() : 0 });
    const main = holder === 'ctl-a';
    if (main) {
      this.#driver = driver;
      this.#abort = abort;
      this.settled = false;
    }
    const p = controllerRoll({ spec: this.spec, driver, clock: this.sim.clock, hooks: this.sim.hooks, holderId: holder, sessionId: session, signal: abort.signal, maxUnavailable: 1, retryFailed, replacementTimeoutMs: 600_000, onBatch: () => {} });
    p.then(
      () => main && this.#settle(driver.killed ? 'crashed' : 'completed', null, null, null),
      (e: unknown) => {
        const halt = !driver.killed && e instanceof BerthRollHaltedError ? haltRecord(session, this.sim.clock.now(), e) : null;
        if (halt) this.halts.push(halt);
        if (main) this.#settle(driver.killed ? 'crashed' : halt ? 'halted' : 'error', halt?.nodeId ?? null, e instanceof Error ? e.message : String(e), halt);
      },
    );
  }

  #settle(kind: 'completed' | 'halted' | 'error' | 'crashed', nodeId: string | null, message: string | null, halt: HaltRecord | null) {
    this.settled = true;
    this.outcome = { kind, nodeId, message, halt };
  }

  crash(): void {
    this.#driver?.kill();
    this.#abort?.abort(new Error('crash'));
  }

  async inject(f: Fault): Promise<void> {
    await this.sim.run(() => createSimInjector(this.sim).inject(f, { spec: this.spec, targetImage: TARGET_IMAGE }));
  }

  async advance(ms: number): Promise<void> {
    await this.sim.run(() => this.sim.clock.sleep(ms));
  }

  safety(): ReturnType<typeof checkInvariants> {
    const ids: InvariantId[] = ['quorum-safety', 'single-attach', 'ownership', 'data-retained', 'failure-containment', 'single-controller', 'no-double-replace', 'iam-allowed'];
    return checkInvariants({ spec: this.spec, trace: this.sim.trace, calls: this.calls, iamDenials: this.sim.account.iamDenials(), replacementTimeoutMs: 600_000 }, ids);
  }

  /** Heals (waits out every fault), re-runs the roll if it did not complete, and judges liveness within `boundMs`. */
  async liveness(boundMs: number): Promise<LivenessResult> {
    await this.advance(300_000);
    const t0 = this.sim.clock.now();
    if (this.settled && this.outcome?.kind !== 'completed') this.startRoll('ctl-a', true);
    await this.sim.run(async () => {
      for (;;) {
        while (!this.settled && this.sim.clock.now() - t0 < boundMs) await this.sim.clock.sleep(10_000);
        // Another controller holds the lease (a second controller still rolling, or a crashed one's
        // lease not expired yet): the operator waits and runs the roll again.
        if (this.settled && this.outcome?.kind === 'error' && /LOCK_HELD|locked by/.test(this.outcome.message ?? '') && this.sim.clock.now() - t0 < boundMs) {
          await this.sim.clock.sleep(30_000);
          this.startRoll('ctl-a', true);
          continue;
        }
        return;
      }
    });
    const o = this.outcome;
    return {
      outcome: !this.settled ? 'timeout' : o?.kind === 'completed' ? 'completed' : o?.kind === 'halted' ? 'halted' : 'error',
      haltNodeId: o?.nodeId ?? null,
      halt: o?.halt ?? null,
      message: o?.message ?? null,
      durationMs: this.sim.clock.now() - t0,
      boundMs,
      pending: pending(this.sim, this.spec),
    };
  }
}
