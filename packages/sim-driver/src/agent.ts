import type { BerthDriverError, Phase } from '@berth/core';
import type { QueuedEvent } from './event-queue.js';
import { draw, type SimContext } from './sim-context.js';
import type { SimInstance, SimVolume } from './world/entities.js';
import { TAG_CLUSTER, TAG_NODE, TAG_PHASE, TAG_PHASE_REASON } from './world/ec2.js';

interface AgentRun {
  readonly inst: SimInstance;
  readonly gen: number;
  readonly slow: number;
  phase: Phase | null;
  volume: SimVolume | null;
  heartbeatEv: QueuedEvent | null;
  failed: boolean;
}

const MAX_CALL_RETRIES = 8;

/**
 * The node bootstrap as it runs on a real instance, as plain callbacks on the event queue:
 * attach the node's volume (retrying VolumeInUse until attachTimeoutSec), mount it (format
 * only when blank, grow when larger), configure, join the application and wait until the
 * member is healthy, then complete the lifecycle action. It reports each phase as the
 * `berth:phase` tag and sends lifecycle heartbeats while it waits.
 */
export class AgentHost {
  readonly #ctx: SimContext;
  readonly #runs = new Map<string, AgentRun>();

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
  }

  /** Runs (for inspection): instance id → current phase. */
  phases(): Record<string, Phase | null> {
    const out: Record<string, Phase | null> = {};
    for (const [id, r] of this.#runs) out[id] = r.phase;
    return out;
  }

  start(inst: SimInstance): void {
    const cfg = inst.bootstrap;
    if (!cfg) return;
    const bad = this.#ctx.faults.badImages.get(inst.imageId);
    if (bad?.phase === 'launching') {
      // User data never runs: no phase report, no heartbeat.
      this.#ctx.trace.record('agent.hung', { nodeId: cfg.nodeId, instanceId: inst.id, reason: bad.reason });
      return;
    }
    const run: AgentRun = { inst, gen: inst.generation, slow: this.#ctx.faults.slowImages.get(inst.imageId) ?? 1, phase: null, volume: null, heartbeatEv: null, failed: false };
    this.#runs.set(inst.id, run);
    this.#ctx.trace.record('agent.started', { nodeId: cfg.nodeId, instanceId: inst.id });
    this.#scheduleHeartbeat(run);
    this.#report(run, 'attaching', null, () => this.#findVolume(run, this.#ctx.scheduler.nowMs + cfg.attachTimeoutSec * 1000, 0));
  }

  stop(inst: SimInstance): void {
    const run = this.#runs.get(inst.id);
    if (!run) return;
    this.#ctx.scheduler.cancel(run.heartbeatEv);
    this.#runs.delete(inst.id);
  }

  /** ModifyVolume reached `optimizing`: a running agent grows the file system online. */
  onVolumeGrown(volume: SimVolume): void {
    for (const run of this.#runs.values()) {
      if (run.volume !== volume || !this.#alive(run) || !volume.data) continue;
      const data = volume.data;
      this.#after(run, draw(this.#ctx.rng.agent, this.#ctx.options.timings.agentGrowMs), 'grow fs', () => {
        if (volume.sizeGiB > data.fsSizeGiB) {
          data.fsSizeGiB = volume.sizeGiB;
          this.#ctx.trace.record('volume.fs-grown', { nodeId: run.inst.nodeId ?? undefined, instanceId: run.inst.id, volumeId: volume.id, sizeGiB: volume.sizeGiB });
        }
      });
    }
  }

  #alive(run: AgentRun): boolean {
    return run.inst.generation === run.gen && run.inst.ec2State === 'running' && this.#runs.get(run.inst.id) === run;
  }

  #after(run: AgentRun, delayMs: number, label: string, fn: () => void): void {
    this.#ctx.scheduler.after(delayMs, `agent ${run.inst.id} ${label}`, () => {
      if (this.#alive(run)) fn();
    });
  }

  /** An API call from the instance, retried on throttling and 5xx. */
  #call<T>(run: AgentRun, operation: string, effect: () => T, done: (err: BerthDriverError | null, value: T | undefined) => void, attempt = 0): void {
    this.#ctx.api.agentCall(operation, effect, (err, value) => {
      if (!this.#alive(run)) return;
      if (err && err.retryable && attempt < MAX_CALL_RETRIES) {
        const backoffMs = Math.min(20_000, 200 * 2 ** attempt) * (0.5 + this.#ctx.rng.agent.next());
        this.#after(run, Math.round(backoffMs), `retry ${operation}`, () => this.#call(run, operation, effect, done, attempt + 1));
        return;
      }
      done(err, value);
    });
  }

  #report(run: AgentRun, phase: Phase, reason: string | null, next: () => void): void {
    run.phase = phase;
    const tags: Record<string, string> = { [TAG_PHASE]: phase };
    if (reason !== null) tags[TAG_PHASE_REASON] = reason;
    this.#call(run, 'CreateTags', () => this.#ctx.ec2.tagInstance(run.inst.id, tags), () => next());
  }

  #scheduleHeartbeat(run: AgentRun): void {
    const hook = run.inst.groupName ? this.#ctx.state.groups.get(run.inst.groupName)?.hooks[0] : undefined;
    if (!hook) return;
    const periodMs = Math.max(10_000, Math.round((hook.heartbeatTimeoutSec * 1000) / 3));
    run.heartbeatEv = this.#ctx.scheduler.after(periodMs, `agent ${run.inst.id} heartbeat`, () => {
      run.heartbeatEv = null;
      if (!this.#alive(run) || run.inst.lifecycleState !== 'Pending:Wait') {
        if (this.#alive(run) && run.inst.lifecycleState === 'Pending') this.#scheduleHeartbeat(run);
        return;
      }
      this.#call(run, 'RecordLifecycleActionHeartbeat', () => this.#ctx.asg.recordHeartbeat(null, null, run.inst.id), () => undefined);
      this.#scheduleHeartbeat(run);
    });
  }

  #failIfBad(run: AgentRun, phase: Phase): boolean {
    const bad = this.#ctx.faults.badImages.get(run.inst.imageId);
    if (bad?.phase !== phase) return false;
    this.#after(run, draw(this.#ctx.rng.agent, this.#ctx.options.timings.agentMountMs, run.slow), 'bad image', () => this.#fail(run, bad.reason));
    return true;
  }

  #fail(run: AgentRun, reason: string): void {
    if (run.failed) return;
    run.failed = true;
    const cfg = run.inst.bootstrap;
    this.#ctx.trace.record('agent.failed', { nodeId: cfg?.nodeId, instanceId: run.inst.id, phase: run.phase, reason });
    // `<phase>: <reason>`, as the bootstrap reports it, so the controller can name the phase.
    this.#report(run, 'failed', `${run.phase ?? 'launching'}: ${reason}`, () => {
      if (cfg?.onFailure === 'wait') return; // keeps heartbeating: waiting for manual repair
      this.#ctx.scheduler.cancel(run.heartbeatEv);
      this.#call(run, 'CompleteLifecycleAction', () => this.#ctx.asg.completeLifecycleAction(null, null, run.inst.id, 'ABANDON'), () => undefined);
    });
  }

  #findVolume(run: AgentRun, deadlineMs: number, attempt: number): void {
    if (this.#failIfBad(run, 'attaching')) return;
    const cfg = run.inst.bootstrap;
    if (!cfg) return;
    this.#call(
      run,
      'DescribeVolumes',
      () => this.#ctx.ec2.describeVolumes({ [TAG_CLUSTER]: cfg.clusterName, [TAG_NODE]: cfg.nodeId }),
      (err, vols) => {
        const vol = vols?.[0];
        if (err || !vol) {
          if (this.#ctx.scheduler.nowMs >= deadlineMs) return this.#fail(run, `no data volume tagged ${TAG_NODE}=${cfg.nodeId} found within attachTimeoutSec`);
          return this.#after(run, this.#attachBackoff(attempt), 'find volume', () => this.#findVolume(run, deadlineMs, attempt + 1));
        }
        run.volume = vol;
        this.#attach(run, vol, deadlineMs, 0);
      },
    );
  }

  #attachBackoff(attempt: number): number {
    const base = draw(this.#ctx.rng.agent, this.#ctx.options.timings.agentAttachRetryMs);
    return base * 2 ** Math.min(3, attempt);
  }

  #attach(run: AgentRun, vol: SimVolume, deadlineMs: number, attempt: number): void {
    const cfg = run.inst.bootstrap;
    if (!cfg) return;
    if (vol.attachment?.instanceId === run.inst.id) return this.#waitAttached(run, vol, deadlineMs);
    this.#call(
      run,
      'AttachVolume',
      () => this.#ctx.ec2.attachVolume(vol.id, run.inst.id, cfg.deviceName),
      (err) => {
        if (!err) return this.#waitAttached(run, vol, deadlineMs);
        const retry = err.awsCode === 'VolumeInUse' || err.awsCode === 'IncorrectState';
        if (retry && this.#ctx.scheduler.nowMs < deadlineMs) {
          this.#ctx.trace.record('agent.attach-retry', { nodeId: cfg.nodeId, instanceId: run.inst.id, volumeId: vol.id, error: err.awsCode, attempt: attempt + 1 });
          return this.#after(run, this.#attachBackoff(attempt), 'attach retry', () => this.#attach(run, vol, deadlineMs, attempt + 1));
        }
        this.#fail(run, `AttachVolume ${vol.id} failed: ${err.awsCode}: ${err.message}`);
      },
    );
  }

  #waitAttached(run: AgentRun, vol: SimVolume, deadlineMs: number): void {
    let done = false;
    const timeout = this.#ctx.scheduler.at(deadlineMs, `agent ${run.inst.id} attach timeout`, () => {
      if (done || !this.#alive(run)) return;
      done = true;
      this.#fail(run, `volume ${vol.id} still ${vol.attachment?.state ?? 'detached'} after attachTimeoutSec`);
    });
    // The device appearing is local (udev), not an API call.
    this.#ctx.ec2.whenAttached(vol, () => {
      if (done || !this.#alive(run)) return;
      done = true;
      this.#ctx.scheduler.cancel(timeout);
      this.#report(run, 'mounting', null, () => this.#mount(run, vol));
    });
  }

  #mount(run: AgentRun, vol: SimVolume): void {
    if (this.#failIfBad(run, 'mounting')) return;
    const cfg = run.inst.bootstrap;
    if (!cfg) return;
    const t = this.#ctx.options.timings;
    const rng = this.#ctx.rng.agent;
    if (vol.data === null) {
      this.#after(run, draw(rng, t.agentFormatMs, run.slow), 'mkfs', () => {
        if (vol.data !== null) return this.#mount(run, vol);
        vol.data = { fileSystem: cfg.fileSystem, fsSizeGiB: vol.sizeGiB, appIndex: 0 };
        this.#ctx.trace.record('volume.formatted', { nodeId: cfg.nodeId, instanceId: run.inst.id, volumeId: vol.id, fileSystem: cfg.fileSystem });
        this.#afterMount(run, vol);
      });
      return;
    }
    this.#after(run, draw(rng, t.agentMountMs, run.slow), 'mount', () => {
      const data = vol.data;
      if (data && vol.sizeGiB > data.fsSizeGiB) {
        return this.#after(run, draw(rng, t.agentGrowMs, run.slow), 'grow fs', () => {
          const from = data.fsSizeGiB;
          data.fsSizeGiB = vol.sizeGiB;
          this.#ctx.trace.record('volume.fs-grown', { nodeId: cfg.nodeId, instanceId: run.inst.id, volumeId: vol.id, fromGiB: from, sizeGiB: vol.sizeGiB });
          this.#afterMount(run, vol);
        });
      }
      this.#afterMount(run, vol);
    });
  }

  #afterMount(run: AgentRun, vol: SimVolume): void {
    const cfg = run.inst.bootstrap;
    if (!cfg) return;
    this.#ctx.trace.record('volume.mounted', { nodeId: cfg.nodeId, instanceId: run.inst.id, volumeId: vol.id, mountPath: cfg.mountPath });
    this.#report(run, 'configuring', null, () => {
      if (this.#failIfBad(run, 'configuring')) return;
      this.#after(run, draw(this.#ctx.rng.agent, this.#ctx.options.timings.agentConfigureMs, run.slow), 'configure', () =>
        this.#report(run, 'joining', null, () => this.#join(run, vol)),
      );
    });
  }

  #join(run: AgentRun, vol: SimVolume): void {
    if (this.#failIfBad(run, 'joining')) return;
    const cfg = run.inst.bootstrap;
    if (!cfg) return;
    this.#ctx.app.startMember(cfg.nodeId, run.inst.id, vol);
    let done = false;
    const timeout = this.#ctx.scheduler.after(cfg.healthTimeoutSec * 1000, `agent ${run.inst.id} health timeout`, () => {
      if (done || !this.#alive(run)) return;
      done = true;
      this.#fail(run, `member ${cfg.nodeId} not healthy within healthTimeoutSec (${cfg.healthTimeoutSec} s)`);
    });
    this.#ctx.app.whenHealthy(cfg.nodeId, () => {
      if (done || !this.#alive(run)) return;
      done = true;
      this.#ctx.scheduler.cancel(timeout);
      if (this.#failIfBad(run, 'healthy')) return;
      this.#report(run, 'healthy', null, () => this.#complete(run));
    });
  }

  #complete(run: AgentRun): void {
    const hasHook = run.inst.groupName ? (this.#ctx.state.groups.get(run.inst.groupName)?.hooks.length ?? 0) > 0 : false;
    const finish = (): void => {
      this.#ctx.scheduler.cancel(run.heartbeatEv);
      this.#report(run, 'in-service', null, () => undefined);
    };
    if (!hasHook) return finish();
    this.#call(run, 'CompleteLifecycleAction', () => this.#ctx.asg.completeLifecycleAction(null, null, run.inst.id, 'CONTINUE'), (err) => {
      if (err) {
        this.#ctx.trace.record('agent.complete-failed', { nodeId: run.inst.nodeId ?? undefined, instanceId: run.inst.id, error: `${err.awsCode}: ${err.message}` });
        return;
      }
      finish();
    });
  }
}
