import type { Phase } from '@berth/core';
import { awsErrorCode, type ServiceName } from './aws/aws-error.js';
import { CLI_MAX_ATTEMPTS, cliBackoffMs, cliRetries, httpStatusOf } from './aws-cli-retry.js';
import type { Caller } from './aws/service.js';
import type { QueuedEvent } from './event-queue.js';
import { draw, type SimContext } from './sim-context.js';
import type { AgentConfig } from './user-data-config.js';
import type { SimInstance, SimVolume } from './world/entities.js';
import { TAG_CLUSTER, TAG_NODE } from './world/ec2.js';
import { fetchFileSources } from './agent-file-sources.js';

/**
 * The API calls the node bootstrap makes (packages/aws-driver/bootstrap/node-bootstrap.sh),
 * by AWS operation, with the request parameters each one sends. The simulated agent makes the
 * same calls with the same parameters; a test runs the real script against the simulated AWS
 * and checks the two lists stay in step.
 */
export const BOOTSTRAP_CALLS = Object.freeze({
  /** set_phase: the berth:phase tag on the instance itself. */
  CreateTags: ['Resources', 'Tags'],
  /** find_volume (fallback, no volume id in user data): by tags, data volumes only. */
  'DescribeVolumes(filters)': ['Filters:tag:berth:cluster', 'Filters:tag:berth:node', 'Filters:tag:berth:volume'],
  /** attach_volume's loop: the data volume's state and attachment. */
  'DescribeVolumes(ids)': ['VolumeIds'],
  AttachVolume: ['VolumeId', 'InstanceId', 'Device'],
  RecordLifecycleActionHeartbeat: ['AutoScalingGroupName', 'LifecycleHookName', 'InstanceId'],
  CompleteLifecycleAction: ['AutoScalingGroupName', 'LifecycleHookName', 'InstanceId', 'LifecycleActionResult'],
  /** complete_lifecycle's check after "No active Lifecycle Action". */
  DescribeAutoScalingInstances: ['InstanceIds'],
  /** fetch_file_source: a file from SSM Parameter Store (docs/secrets.md). */
  GetParameter: ['Name', 'WithDecryption'],
  /** fetch_file_source: a file from S3 (VersionId too when the spec pins one). */
  GetObject: ['Bucket', 'Key'],
});

/** Errors the script's `aws_call` retries (node-bootstrap.sh): throttling and transient server errors. */
/**
 * What node-bootstrap.sh's aws_call retries (its `case $AWS_ERR in` patterns, matched against
 * the CLI's error line, code and message). A test keeps the two lists equal.
 */
export const SCRIPT_TRANSIENT_PATTERNS = ['RequestLimitExceeded', 'Throttling', 'Rate exceeded', 'InternalError', 'InternalFailure', 'ServiceUnavailable', 'Unavailable'] as const;
const SCRIPT_TRANSIENT = new RegExp(SCRIPT_TRANSIENT_PATTERNS.join('|'));
/** `aws_call`'s attempts (BERTH_AWS_ATTEMPTS). */
const AWS_ATTEMPTS = 5;
const BACKOFF_MAX_SEC = 30;

interface AgentRun {
  readonly inst: SimInstance;
  readonly cfg: AgentConfig;
  readonly caller: Caller | null;
  readonly gen: number;
  readonly slow: number;
  phase: Phase | null;
  volume: SimVolume | null;
  heartbeatEv: QueuedEvent | null;
  heartbeats: boolean;
  /** The heartbeat loop now running: a reply to a beat of a stopped loop starts nothing. */
  heartbeatLoop: number;
  failed: boolean;
  /** The bootstrap installed its grow watcher (after mounting): the file system grows online. */
  watching: boolean;
}

type Done<T> = (err: { code: string; message: string } | null, out: T | undefined) => void;

/**
 * The node bootstrap as it runs on an instance, as callbacks on the event queue, configured
 * from the instance's real user data and calling the simulated AWS with the instance's role
 * (IAM evaluated with the node policy): report each phase as the `berth:phase` tag, attach the
 * node's volume (retrying `VolumeInUse` until attachTimeoutSec), mount it (format only when
 * blank, grow when larger), configure, join the application and wait until the member is
 * healthy, then complete the lifecycle action — heartbeating while it waits. A failure is
 * tagged `failed:<phase>:<reason>` and abandons (or, with onFailure `wait`, keeps waiting).
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
    const cfg = inst.agentConfig;
    if (!cfg || this.#ctx.options.nodeAgent === 'none') return;
    const bad = this.#ctx.faults.badImages.get(inst.imageId);
    if (bad?.phase === 'launching') {
      // User data never runs: no phase report, no heartbeat.
      this.#ctx.trace.record('agent.hung', { nodeId: cfg.nodeId, instanceId: inst.id, reason: bad.reason });
      return;
    }
    // The script exits 2 before any AWS call when its data block lacks the group or hook name.
    if (cfg.autoScalingGroupName === '' || cfg.lifecycleHookName === '') {
      this.#ctx.trace.record('agent.exited', { nodeId: cfg.nodeId, instanceId: inst.id, code: 2, reason: 'missing BERTH_ASG_NAME or BERTH_LIFECYCLE_HOOK_NAME in user data' });
      return;
    }
    const run: AgentRun = {
      inst,
      cfg,
      caller: this.#ctx.iam.instanceCaller(inst),
      gen: inst.generation,
      slow: this.#ctx.faults.slowImages.get(inst.imageId) ?? 1,
      phase: null,
      volume: null,
      heartbeatEv: null,
      heartbeats: false,
      heartbeatLoop: 0,
      failed: false,
      watching: false,
    };
    this.#runs.set(inst.id, run);
    this.#ctx.trace.record('agent.started', { nodeId: cfg.nodeId, instanceId: inst.id });
    this.#startHeartbeats(run);
    this.#report(run, 'attaching', () => this.#findVolume(run, this.#ctx.scheduler.nowMs + cfg.attachTimeoutSec * 1000, 0));
  }

  stop(inst: SimInstance): void {
    const run = this.#runs.get(inst.id);
    if (!run) return;
    this.#ctx.scheduler.cancel(run.heartbeatEv);
    this.#runs.delete(inst.id);
  }

  /**
   * ModifyVolume reached `optimizing`: the new size is visible to the instance. Where the
   * bootstrap installed its grow watcher (berth-grow-fs.timer) and mounted the volume, the
   * watcher's next run grows the file system, without a reboot; elsewhere it grows at the next
   * mount (boot).
   */
  onVolumeGrown(volume: SimVolume): void {
    for (const run of this.#runs.values()) {
      if (run.volume !== volume || !run.watching || !this.#alive(run)) continue;
      const t = this.#ctx.options.timings;
      const rng = this.#ctx.rng.agent;
      this.#ctx.scheduler.after(draw(rng, t.agentWatcherMs) + draw(rng, t.agentGrowMs, run.slow), `agent ${run.inst.id} watcher grow fs`, () => {
        const data = volume.data;
        if (!this.#alive(run) || !data || volume.sizeGiB <= data.fsSizeGiB) return;
        if (this.#ctx.faults.growWatcherStopped.has(run.cfg.nodeId)) return;
        const from = data.fsSizeGiB;
        data.fsSizeGiB = volume.sizeGiB;
        this.#ctx.trace.record('volume.fs-grown', { nodeId: run.cfg.nodeId, instanceId: run.inst.id, volumeId: volume.id, fromGiB: from, sizeGiB: volume.sizeGiB, online: true });
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

  /** The script's backoff_sleep N: 2^N seconds (N ≤ 6) capped at 30, half of it jittered. */
  #backoffMs(n: number): number {
    let s = 2 ** Math.min(n, 6);
    if (s > BACKOFF_MAX_SEC) s = BACKOFF_MAX_SEC;
    const half = Math.floor(s / 2);
    return (half + this.#ctx.rng.agent.int(0, half)) * 1000;
  }

  /**
   * `aws_call`: one AWS CLI call with the instance's credentials. The CLI retries by itself
   * first (standard mode: aws-cli-retry.ts); the script then retries what it calls transient
   * (SCRIPT_TRANSIENT, the patterns of node-bootstrap.sh's aws_call) with its own backoff.
   */
  #call<T>(run: AgentRun, service: ServiceName, operation: string, input: Record<string, unknown>, done: Done<T>, attempt = 1, cliAttempt = 1): void {
    if (run.caller === null) {
      // No instance profile: the CLI finds no credentials and exits 253 without a request.
      this.#ctx.trace.record('agent.no-credentials', { nodeId: run.cfg.nodeId, instanceId: run.inst.id, operation });
      done({ code: 'NoCredentials', message: 'Unable to locate credentials. You can configure credentials by running "aws configure".' }, undefined);
      return;
    }
    this.#ctx.gateway.requestCallback(run.caller, service, operation, input, (err, out) => {
      if (!this.#alive(run)) return;
      if (err) {
        const code = awsErrorCode(err) ?? 'Unknown';
        if (cliAttempt < CLI_MAX_ATTEMPTS && cliRetries(code, httpStatusOf(err))) {
          this.#after(run, cliBackoffMs(cliAttempt, this.#ctx.rng.cli), `cli retry ${operation}`, () => this.#call(run, service, operation, input, done, attempt, cliAttempt + 1));
          return;
        }
        // The script matches the CLI's whole error line: "An error occurred (<code>) when calling ...: <message>".
        if (SCRIPT_TRANSIENT.test(`(${code}) ${err.message}`) && attempt < AWS_ATTEMPTS) {
          this.#after(run, this.#backoffMs(attempt), `retry ${operation}`, () => this.#call(run, service, operation, input, done, attempt + 1));
          return;
        }
        return done({ code, message: err.message }, undefined);
      }
      done(null, out as T);
    });
  }

  /** set_phase: the berth:phase tag (a failed tag call is only logged, as in the script). */
  #report(run: AgentRun, phase: string, next: () => void): void {
    run.phase = (phase.startsWith('failed') ? 'failed' : phase) as Phase;
    this.#call(run, 'ec2', 'CreateTags', { Resources: [run.inst.id], Tags: [{ Key: 'berth:phase', Value: phase }] }, (err) => {
      if (err) this.#ctx.trace.record('agent.tag-failed', { nodeId: run.cfg.nodeId, instanceId: run.inst.id, phase, error: `${err.code}: ${err.message}` });
      next();
    });
  }

  #startHeartbeats(run: AgentRun): void {
    run.heartbeats = true;
    const loop = ++run.heartbeatLoop;
    const explicit = Number(run.cfg.values['BERTH_HEARTBEAT_INTERVAL_SEC'] ?? '');
    const intervalSec = Math.max(1, Number.isFinite(explicit) && explicit > 0 ? explicit : Math.floor(run.cfg.heartbeatTimeoutSec / 3));
    const beat = (): void => {
      run.heartbeatEv = this.#ctx.scheduler.after(intervalSec * 1000, `agent ${run.inst.id} heartbeat`, () => {
        run.heartbeatEv = null;
        if (!this.#alive(run) || !run.heartbeats || run.heartbeatLoop !== loop) return;
        this.#call(
          run,
          'autoscaling',
          'RecordLifecycleActionHeartbeat',
          { AutoScalingGroupName: run.cfg.autoScalingGroupName, LifecycleHookName: run.cfg.lifecycleHookName, InstanceId: run.inst.id },
          (err) => {
            if (run.heartbeatLoop !== loop) return;
            if (err && /No active Lifecycle Action/.test(err.message)) {
              run.heartbeats = false; // the action ended (completed by hand, or timed out)
              return;
            }
            if (run.heartbeats) beat();
          },
        );
      });
    };
    beat();
  }

  #stopHeartbeats(run: AgentRun): void {
    run.heartbeats = false;
    this.#ctx.scheduler.cancel(run.heartbeatEv);
    run.heartbeatEv = null;
  }

  #failIfBad(run: AgentRun, phase: Phase): boolean {
    const bad = this.#ctx.faults.badImages.get(run.inst.imageId);
    if (bad?.phase !== phase) return false;
    this.#after(run, draw(this.#ctx.rng.agent, this.#ctx.options.timings.agentMountMs, run.slow), 'bad image', () => this.#fail(run, bad.reason));
    return true;
  }

  /** fail + the main loop's failure branch: tag `failed:<phase>:<reason>`, then abandon or wait for repair. */
  #fail(run: AgentRun, reason: string, detail?: string): void {
    if (run.failed) return;
    run.failed = true;
    const last = run.phase === null || run.phase === 'failed' ? 'launching' : run.phase;
    this.#ctx.trace.record('agent.failed', { nodeId: run.cfg.nodeId, instanceId: run.inst.id, phase: last, reason, ...(detail !== undefined && { detail }) });
    this.#report(run, `failed:${last}:${reason}`, () => {
      if (run.cfg.onFailure === 'wait') return; // keeps heartbeating: waiting for manual repair
      this.#stopHeartbeats(run);
      this.#completeLifecycle(run, 'ABANDON', () => undefined);
    });
  }

  // ---- attach_volume ----

  #findVolume(run: AgentRun, deadlineMs: number, attempt: number): void {
    if (this.#failIfBad(run, 'attaching')) return;
    const cfg = run.cfg;
    if (cfg.volumeId !== '') return this.#attachLoop(run, cfg.volumeId, deadlineMs, 0);
    // Fallback of an older user data without the volume id: by tags, data volumes only.
    this.#call<{ Volumes?: { VolumeId?: string; State?: string }[] }>(
      run,
      'ec2',
      'DescribeVolumes',
      {
        Filters: [
          { Name: `tag:${TAG_CLUSTER}`, Values: [cfg.clusterName] },
          { Name: `tag:${TAG_NODE}`, Values: [cfg.nodeId] },
          { Name: 'tag:berth:volume', Values: ['data'] },
        ],
      },
      (err, out) => {
        if (err) return this.#fail(run, 'volume-lookup-error', `${err.code}: ${err.message}`);
        const ids = (out?.Volumes ?? []).filter((v) => v.State !== 'deleting' && v.State !== 'deleted').map((v) => v.VolumeId ?? '');
        if (ids.length > 1) return this.#fail(run, 'volume-ambiguous', ids.join(' '));
        if (ids.length === 1) return this.#attachLoop(run, ids[0] as string, deadlineMs, 0);
        if (this.#ctx.scheduler.nowMs >= deadlineMs) return this.#fail(run, 'volume-not-found');
        this.#after(run, this.#backoffMs(attempt + 1), 'find volume', () => this.#findVolume(run, deadlineMs, attempt + 1));
      },
    );
  }

  #attachLoop(run: AgentRun, volumeId: string, deadlineMs: number, attempt: number): void {
    const next = (a: number): void => {
      if (this.#ctx.scheduler.nowMs >= deadlineMs) return this.#fail(run, 'attach-timeout', `${volumeId} not attached within ${run.cfg.attachTimeoutSec}s`);
      this.#after(run, this.#backoffMs(a), 'attach loop', () => this.#attachLoop(run, volumeId, deadlineMs, a));
    };
    type Vol = { State?: string; AvailabilityZone?: string; Attachments?: { InstanceId?: string; State?: string }[] };
    this.#call<{ Volumes?: Vol[] }>(run, 'ec2', 'DescribeVolumes', { VolumeIds: [volumeId] }, (err, out) => {
      if (err) return this.#fail(run, 'volume-lookup-error', `${err.code}: ${err.message}`);
      const v = out?.Volumes?.[0];
      const a = v?.Attachments?.[0];
      if (v?.AvailabilityZone !== run.inst.az) return this.#fail(run, 'volume-az-mismatch', `${volumeId} is in ${v?.AvailabilityZone}, this instance in ${run.inst.az}`);
      if (a?.InstanceId === run.inst.id) {
        if (a.State === 'attached') return this.#attached(run, volumeId);
        return next(attempt + 1);
      }
      if (v.State === 'available') {
        this.#call(run, 'ec2', 'AttachVolume', { VolumeId: volumeId, InstanceId: run.inst.id, Device: run.cfg.deviceName }, (aerr) => {
          if (!aerr) return next(1);
          if (/VolumeInUse|IncorrectState/.test(aerr.code)) {
            this.#ctx.trace.record('agent.attach-retry', { nodeId: run.cfg.nodeId, instanceId: run.inst.id, volumeId, error: aerr.code });
            return next(attempt + 1);
          }
          if (/ZoneMismatch/.test(aerr.code)) return this.#fail(run, 'volume-az-mismatch', aerr.message);
          this.#fail(run, 'attach-error', `${aerr.code}: ${aerr.message}`);
        });
        return;
      }
      next(attempt + 1);
    });
  }

  /** The volume shows attached: the device appears (udev, local) and mounting starts. */
  #attached(run: AgentRun, volumeId: string): void {
    const vol = this.#ctx.state.volumes.get(volumeId);
    if (!vol) return this.#fail(run, 'device-not-found', `no device for ${volumeId}`);
    run.volume = vol;
    this.#report(run, 'mounting', () => this.#mount(run, vol));
  }

  #mount(run: AgentRun, vol: SimVolume): void {
    if (this.#failIfBad(run, 'mounting')) return;
    const cfg = run.cfg;
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
    const cfg = run.cfg;
    // install_grow_watcher runs right after the mount and the boot-time grow.
    run.watching = cfg.growWatcher;
    this.#ctx.trace.record('volume.mounted', { nodeId: cfg.nodeId, instanceId: run.inst.id, volumeId: vol.id, mountPath: cfg.mountPath });
    this.#report(run, 'configuring', () => {
      if (this.#failIfBad(run, 'configuring')) return;
      fetchFileSources(cfg.fileSources, (service, operation, input, done) => this.#call(run, service, operation, input, done), (reason, detail) => {
        if (reason !== null) return this.#fail(run, reason, detail);
        this.#after(run, draw(this.#ctx.rng.agent, this.#ctx.options.timings.agentConfigureMs, run.slow), 'configure', () => this.#report(run, 'joining', () => this.#join(run, vol)));
      });
    });
  }

  #join(run: AgentRun, vol: SimVolume): void {
    if (this.#failIfBad(run, 'joining')) return;
    const cfg = run.cfg;
    this.#ctx.app.startMember(cfg.nodeId, run.inst.id, vol);
    let done = false;
    const timeout = this.#ctx.scheduler.after(cfg.healthTimeoutSec * 1000, `agent ${run.inst.id} health timeout`, () => {
      if (done || !this.#alive(run)) return;
      done = true;
      this.#fail(run, 'health-timeout', `not healthy within ${cfg.healthTimeoutSec}s`);
    });
    this.#ctx.app.whenHealthy(cfg.nodeId, () => {
      if (done || !this.#alive(run)) return;
      done = true;
      this.#ctx.scheduler.cancel(timeout);
      if (this.#failIfBad(run, 'healthy')) return;
      this.#report(run, 'healthy', () => {
        // As the script: no heartbeat crosses the completion (AWS would refuse it).
        this.#stopHeartbeats(run);
        this.#completeLifecycle(run, 'CONTINUE', (ok) => {
          if (!ok) {
            this.#startHeartbeats(run);
            return this.#fail(run, 'lifecycle-complete-failed');
          }
          this.#report(run, 'in-service', () => undefined);
        });
      });
    });
  }

  /** complete_lifecycle: a CONTINUE that finds no active action is fine when the instance is already InService. */
  #completeLifecycle(run: AgentRun, result: 'CONTINUE' | 'ABANDON', done: (ok: boolean) => void): void {
    const cfg = run.cfg;
    this.#call(
      run,
      'autoscaling',
      'CompleteLifecycleAction',
      { AutoScalingGroupName: cfg.autoScalingGroupName, LifecycleHookName: cfg.lifecycleHookName, InstanceId: run.inst.id, LifecycleActionResult: result },
      (err) => {
        if (!err) return done(true);
        this.#ctx.trace.record('agent.complete-failed', { nodeId: cfg.nodeId, instanceId: run.inst.id, result, error: `${err.code}: ${err.message}` });
        if (result !== 'CONTINUE' || !/No active Lifecycle Action/.test(err.message)) return done(false);
        this.#call<{ AutoScalingInstances?: { LifecycleState?: string }[] }>(run, 'autoscaling', 'DescribeAutoScalingInstances', { InstanceIds: [run.inst.id] }, (derr, out) => {
          done(!derr && out?.AutoScalingInstances?.[0]?.LifecycleState === 'InService');
        });
      },
    );
  }
}
