/**
 * Live progress of a roll on stderr, built only on the controller's public events, so it reads
 * the same against AWS and in a simulation: a redrawn view on a terminal, one line per event
 * otherwise (CI logs). Times are relative to the roll's start, on the controller's clock, in the
 * format of Berth's reports (`formatRollTime`).
 */
import { styleText } from 'node:util';
import { createLogUpdate } from 'log-update';
import { formatDuration, formatRollTime, type Controller, type ControllerEvents } from '@berth/core';

export interface ProgressStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
  readonly rows?: number;
}

export interface ProgressView {
  /** A line of the CLI's own (an answer at a hold), shown with the events. */
  note(line: string): void;
  /** Stops redrawing (a prompt is about to be shown below the view) until `resume()`. */
  suspend(): void;
  resume(): void;
  /** Final redraw; detaches from the controller. */
  stop(): void;
}

const RECENT_LINES = 6;

type Handlers = { [K in keyof ControllerEvents]?: (e: ControllerEvents[K]) => void };

export function rollProgress(controller: Controller, out: ProgressStream): ProgressView {
  const live = out.isTTY === true;
  const color = (c: Parameters<typeof styleText>[0], s: string) => (live ? styleText(c, s) : s);
  const cluster = controller.spec.name;
  let startMs: number | null = null;
  let header = `Rolling ${cluster}: starting`;
  let batch = '';
  let waiting = '';
  let suspended = false;
  const nodes = new Map<string, { state: string; detail: string }>();
  const recent: string[] = [];
  const at = (atMs: number) => formatRollTime(atMs - (startMs ?? atMs));

  const update = live ? createLogUpdate(out as NodeJS.WritableStream, { showCursor: true }) : null;
  const frame = () => {
    const replaced = [...nodes.values()].filter((n) => n.state === 'replaced').length;
    const elapsed = startMs === null ? '' : ` · ${formatRollTime(controller.clock.now() - startMs)}`;
    const lines = [`${header}${nodes.size > 0 ? ` · ${replaced}/${nodes.size} replaced` : ''}${batch ? ` · ${batch}` : ''}${elapsed}`];
    for (const [id, n] of nodes) {
      const state = n.state === 'replaced' ? color('green', n.state.padEnd(13)) : n.state === 'failed' || n.state === 'lost' ? color('red', n.state.padEnd(13)) : n.state.padEnd(13);
      lines.push(`  ${id.padEnd(16)} ${state} ${n.detail}`.trimEnd());
    }
    if (waiting) lines.push(color('yellow', `  ${waiting}`));
    lines.push(...recent);
    return lines.join('\n');
  };
  const redraw = () => {
    if (update && !suspended) update(frame());
  };
  const log = (atMs: number, line: string) => {
    const text = `${at(atMs)} ${line}`;
    if (update) {
      recent.push(color('dim', text));
      if (recent.length > RECENT_LINES) recent.shift();
      redraw();
    } else {
      out.write(`${text}\n`);
    }
  };
  const set = (nodeId: string, state: string, detail = '') => nodes.set(nodeId, { state, detail });

  const handlers: Handlers = {
    'roll.started': (e) => {
      startMs = e.atMs;
      header = `Rolling ${cluster}`;
      for (const id of e.outdated) set(id, 'outdated');
      log(e.atMs, `roll started: ${e.outdated.length} outdated (${e.outdated.join(', ') || 'none'}), maxUnavailable ${e.maxUnavailable}, tolerance ${e.tolerance}`);
    },
    'batch.started': (e) => {
      batch = `batch ${e.index + 1}`;
      waiting = '';
      for (const id of e.nodeIds) set(id, 'queued', `batch ${e.index + 1}`);
      log(e.atMs, `batch ${e.index + 1}: ${e.nodeIds.join(', ')}`);
    },
    'node.draining': (e) => {
      set(e.nodeId, 'draining', `${e.instanceId} for ${formatDuration(e.delayMs)}`);
      log(e.atMs, `${e.nodeId}: draining ${e.instanceId} from ${e.targetGroupArns.length} target group(s) for ${formatDuration(e.delayMs)}`);
    },
    'node.replacing': (e) => {
      set(e.nodeId, 'replacing', `terminating ${e.instanceId}`);
      log(e.atMs, `${e.nodeId}: replacing ${e.instanceId}`);
    },
    'node.phase': (e) => {
      set(e.nodeId, e.phase, `${e.instanceId}${e.reason ? ` (${e.reason})` : ''}`);
      log(e.atMs, `${e.nodeId}: ${e.instanceId} ${e.phase}${e.reason ? ` (${e.reason})` : ''}`);
    },
    'node.registering': (e) => {
      for (const id of e.nodeIds) set(id, 'registering', 'waiting for healthy targets');
      log(e.atMs, `${e.nodeIds.join(', ')}: registering with ${e.targetGroupArns.length} target group(s)`);
    },
    'node.registered': (e) => {
      log(e.atMs, `${e.nodeIds.join(', ')}: healthy in the target groups after ${formatDuration(e.durationMs)}`);
    },
    'node.replaced': (e) => {
      set(e.nodeId, 'replaced', `${e.oldInstanceId ?? '-'} → ${e.newInstanceId} in ${formatDuration(e.durationMs)}`);
      log(e.atMs, color('green', `${e.nodeId}: replaced ${e.oldInstanceId ?? '-'} → ${e.newInstanceId} in ${formatDuration(e.durationMs)}`));
    },
    'node.failed': (e) => {
      set(e.nodeId, 'failed', e.reason);
      log(e.atMs, color('red', `${e.nodeId}: failed: ${e.reason}`));
    },
    'node.lost': (e) => {
      set(e.nodeId, 'lost', e.instanceId);
      log(e.atMs, color('red', `${e.nodeId}: lost its instance ${e.instanceId}`));
    },
    'node.recovered': (e) => {
      log(e.atMs, `${e.nodeId}: recovered on ${e.instanceId}`);
    },
    'roll.waiting': (e) => {
      if (`waiting: ${e.reason}` === waiting) return;
      waiting = `waiting: ${e.reason}`;
      log(e.atMs, color('yellow', waiting));
    },
    'batch.baking': (e) => {
      waiting = `batch ${e.index + 1} baking until ${at(e.untilMs)}`;
      log(e.atMs, `batch ${e.index + 1}: baking for ${formatDuration(e.bakeMs)}, health watched`);
    },
    'batch.completed': (e) => {
      waiting = '';
      log(e.atMs, `batch ${e.index + 1} done in ${formatDuration(e.durationMs)}`);
    },
    'roll.held': (e) => {
      const where = e.kind === 'canary' ? 'after the canary' : `at ${e.percent}%`;
      const until = e.untilMs === null ? 'until approved' : `for ${formatDuration(e.untilMs - e.atMs)}, health watched`;
      waiting = `holding ${where} ${e.untilMs === null ? 'until approved' : `until ${at(e.untilMs)}`}`;
      log(e.atMs, color('yellow', `holding ${where} (${e.replaced.length} of ${e.total} replaced) ${until}`));
    },
    'roll.resumed': (e) => {
      waiting = '';
      log(e.atMs, `resumed (${e.by === 'hold-elapsed' ? 'hold time elapsed' : e.by === 'approve' ? 'approved' : 'resume()'})`);
    },
    'roll.paused': (e) => {
      waiting = 'paused';
      log(e.atMs, color('yellow', 'paused'));
    },
    'roll.halted': (e) => {
      header = `Roll of ${cluster} halted`;
      waiting = '';
      log(e.atMs, color('red', `halted: ${e.reason}`));
    },
    'roll.aborted': (e) => {
      header = `Roll of ${cluster} aborted`;
      waiting = '';
      log(e.atMs, 'aborted');
    },
    'roll.completed': (e) => {
      header = `Roll of ${cluster} completed`;
      batch = '';
      waiting = '';
      log(e.atMs, color('green', 'roll completed'));
    },
  };
  const entries = Object.entries(handlers) as [keyof ControllerEvents, (e: unknown) => void][];
  for (const [name, fn] of entries) controller.on(name, fn);
  // On a terminal the elapsed time keeps moving between events (AWS rolls take minutes).
  const ticker = update ? setInterval(redraw, 1000) : null;
  ticker?.unref();
  redraw();

  return {
    note: (line) => log(controller.clock.now(), line),
    suspend: () => {
      if (!update || suspended) return;
      update(frame());
      update.done();
      suspended = true;
    },
    resume: () => {
      suspended = false;
      redraw();
    },
    stop: () => {
      if (ticker) clearInterval(ticker);
      for (const [name, fn] of entries) controller.off(name, fn);
      if (update && !suspended) {
        update(frame());
        update.done();
      }
    },
  };
}
