import type { SimContext } from './sim-context.js';
import type { SimInstance } from './world/entities.js';

/** The watcher's poll period (node-bootstrap.sh SPOT_POLL_SEC; AWS recommends 5 s, SPOT-4). */
const POLL_MS = 5_000;
/** Time the modelled pre-stop script and unmount take (a small member stop). */
const PRE_STOP_MS = 1_000;

/**
 * The spot interruption watcher the bootstrap installs on a spot node (node-bootstrap.sh,
 * `spot_watch`), as it reacts to a notice: within a poll period it sees
 * `spot/instance-action` (SPOT-4), tags the phase `stopping` with the instance's role (IAM
 * evaluated, the same CreateTags as set_phase), runs the pre-stop script (the member stops
 * cleanly) and unmounts the data volume. Only on instances whose user data says `BERTH_SPOT=1`
 * and whose agent runs.
 */
export function spotWatcherNotice(ctx: SimContext, inst: SimInstance): void {
  const cfg = inst.agentConfig;
  if (!cfg || cfg.values['BERTH_SPOT'] !== '1' || ctx.options.nodeAgent === 'none') return;
  const caller = ctx.iam.instanceCaller(inst);
  const gen = inst.generation;
  const alive = () => inst.generation === gen && inst.ec2State === 'running';
  ctx.scheduler.after(ctx.rng.agent.int(0, POLL_MS), `spot watcher ${inst.id}`, () => {
    if (!alive()) return;
    ctx.trace.record('agent.spot-notice', { nodeId: cfg.nodeId, instanceId: inst.id });
    const stop = () => {
      ctx.trace.record('agent.pre-stop', { nodeId: cfg.nodeId, instanceId: inst.id, timeoutSec: Number(cfg.values['BERTH_PRE_STOP_TIMEOUT_SEC'] ?? 60), script: (cfg.values['BERTH_PRE_STOP_SCRIPT'] ?? '') !== '' });
      ctx.scheduler.after(PRE_STOP_MS, `spot watcher unmount ${inst.id}`, () => {
        if (!alive()) return;
        ctx.app.stopMember(inst.nodeId, inst.id, 'spot interruption: pre-stop script, data volume unmounted');
        ctx.trace.record('agent.unmounted', { nodeId: cfg.nodeId, instanceId: inst.id, mountPath: cfg.mountPath });
      });
    };
    if (caller === null) return stop();
    ctx.gateway.requestCallback(caller, 'ec2', 'CreateTags', { Resources: [inst.id], Tags: [{ Key: 'berth:phase', Value: 'stopping' }] }, (err) => {
      if (err) ctx.trace.record('agent.tag-failed', { nodeId: cfg.nodeId, instanceId: inst.id, phase: 'stopping', error: err.message });
      if (alive()) stop();
    });
  });
}
