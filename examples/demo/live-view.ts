import { formatDuration, formatRollTime, type ClusterStatus, type Controller, type Phase } from '@berth/core';

/** How a line is meant to look; the renderer picks the colours. */
export type Tone = 'plain' | 'dim' | 'good' | 'warn' | 'bad' | 'accent';

export interface LogLine {
  readonly atMs: number;
  /** `+1m05s` after the roll started, or `setup +4s` before it. */
  readonly at: string;
  readonly text: string;
  readonly tone: Tone;
}

export interface ViewRow {
  readonly nodeId: string;
  readonly instanceId: string | null;
  readonly phase: Phase | string | null;
  readonly imageId: string | null;
  /** The instance runs the revision the roll moves to. */
  readonly onDesired: boolean;
  readonly healthy: boolean;
  readonly leader: boolean;
}

/** What the view shows at one moment. */
export interface ViewFrame {
  readonly now: string;
  readonly stage: string;
  readonly progress: string | null;
  readonly quorum: { readonly healthy: number; readonly size: number; readonly quorum: number; readonly margin: number } | null;
  readonly leader: string | null;
  readonly rows: readonly ViewRow[];
  readonly recent: readonly LogLine[];
}

/**
 * A roll's live view built only on what any Berth user has: the roll controller's public events
 * (and its `rollProgress`, which makes no call) and `status()` of a controller for the same
 * cluster. Nothing here reads the simulator, so the same view works against AWS.
 *
 * `status()` is asked at moments the events set (a replacement done, a node lost or back, a
 * batch or the roll over), never on a wall-clock timer: the calls it makes are then the same
 * every run of a seed, live or not. Phases come from `node.phase` in between.
 */
export class LiveView {
  readonly log: LogLine[] = [];
  readonly #statusOf: () => Promise<ClusterStatus>;
  readonly #now: () => number;
  readonly #setupStartMs: number;
  #status: ClusterStatus | null = null;
  /** The newest phase each node's instance reported, ahead of the last status(). */
  readonly #phases = new Map<string, { instanceId: string; phase: Phase }>();
  #roller: Controller | null = null;
  #rollStartMs: number | null = null;
  #stage = 'provisioning';
  #refreshing: Promise<void> | null = null;
  #again = false;
  /** Called after every change (a redraw). */
  onChange: () => void = () => {};

  constructor(statusOf: () => Promise<ClusterStatus>, now: () => number) {
    this.#statusOf = statusOf;
    this.#now = now;
    this.#setupStartMs = now();
  }

  /** Time as the view prints it: since the roll started, or since setup began before that. */
  at(atMs: number): string {
    return this.#rollStartMs === null ? `setup ${formatRollTime(atMs - this.#setupStartMs)}` : formatRollTime(atMs - this.#rollStartMs);
  }

  note(atMs: number, text: string, tone: Tone = 'plain'): void {
    this.log.push({ atMs, at: this.at(atMs), text, tone });
    this.onChange();
  }

  /** Follow provisioning: what `apply()` created. */
  watchProvisioning(c: Controller): void {
    c.on('apply.node', (e) => this.note(e.atMs, `provisioned ${e.nodeId} (${e.changes.filter((x) => x.action === 'created').map((x) => x.resource).join(', ') || 'no change'})`, 'dim'));
  }

  /** Follow a roll through its controller's events. */
  watchRoll(c: Controller): void {
    this.#roller = c;
    const refresh = () => void this.refresh();
    c.on('roll.started', (e) => {
      // The roll's own start (when roll() was called, as its report says), a little before this event.
      this.#rollStartMs = c.rollProgress?.startedAtMs ?? e.atMs;
      this.#stage = 'rolling';
      this.note(e.atMs, `roll started: ${e.outdated.length} outdated (${e.outdated.join(', ')}), maxUnavailable ${e.maxUnavailable}, tolerance ${e.tolerance}`);
      refresh();
    });
    c.on('roll.waiting', (e) => this.note(e.atMs, `waiting: ${e.reason}`, 'warn'));
    c.on('batch.started', (e) => this.note(e.atMs, `batch ${e.index + 1}: ${e.nodeIds.join(', ')}`, 'accent'));
    c.on('node.replacing', (e) => this.note(e.atMs, `replacing ${e.nodeId} (terminating ${e.instanceId})`));
    c.on('node.phase', (e) => {
      this.#phases.set(e.nodeId, { instanceId: e.instanceId, phase: e.phase });
      this.note(e.atMs, `${e.nodeId} ${e.instanceId}: ${e.phase}${e.reason ? ` (${e.reason})` : ''}`, e.phase === 'failed' ? 'bad' : 'dim');
    });
    c.on('node.replaced', (e) => {
      this.note(e.atMs, `${e.nodeId} replaced: ${e.oldInstanceId ?? '?'} → ${e.newInstanceId} in ${formatDuration(e.durationMs)}`, 'good');
      refresh();
    });
    c.on('node.failed', (e) => {
      this.note(e.atMs, `${e.nodeId} failed${e.instanceId ? ` (${e.instanceId})` : ''}: ${e.reason}`, 'bad');
      refresh();
    });
    c.on('node.lost', (e) => {
      this.note(e.atMs, `${e.nodeId} lost its instance ${e.instanceId}`, 'bad');
      refresh();
    });
    c.on('node.recovered', (e) => {
      this.note(e.atMs, `${e.nodeId} back in service (${e.instanceId})`, 'good');
      refresh();
    });
    c.on('batch.completed', (e) => {
      this.note(e.atMs, `batch ${e.index + 1} done in ${formatDuration(e.durationMs)}`, 'accent');
      refresh();
    });
    c.on('batch.baking', (e) => this.note(e.atMs, `batch ${e.index + 1} baking ${formatDuration(e.bakeMs)}`));
    c.on('roll.held', (e) => this.note(e.atMs, `holding after the ${e.kind}${e.untilMs !== null ? ` until ${this.at(e.untilMs)}` : ' until resume()'}`, 'warn'));
    c.on('roll.resumed', (e) => this.note(e.atMs, `resumed (${e.by})`));
    c.on('roll.completed', (e) => this.#end(e.atMs, 'completed', 'roll completed', 'good'));
    c.on('roll.halted', (e) => this.#end(e.atMs, 'halted', `HALTED: ${e.reason}`, 'bad'));
    c.on('roll.aborted', (e) => this.#end(e.atMs, 'aborted', 'roll aborted', 'warn'));
  }

  #end(atMs: number, stage: string, text: string, tone: Tone): void {
    this.#stage = stage;
    this.note(atMs, text, tone);
    void this.refresh();
  }

  /** Asks `status()` again (one at a time; a request during one makes one more after it). */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#again = false;
        this.#status = await this.#statusOf();
        // What status() shows now is at least as new as the phases reported before it.
        for (const n of this.#status.nodes) if (this.#phases.get(n.nodeId)?.instanceId === n.current?.instanceId) this.#phases.delete(n.nodeId);
        this.onChange();
      } while (this.#again);
    })().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  /** Waits for a refresh in flight (call before the clock stops). */
  async settled(): Promise<void> {
    while (this.#refreshing) await this.#refreshing;
  }

  frame(): ViewFrame {
    const s = this.#status;
    const progress = this.#roller?.rollProgress ?? null;
    const rows: ViewRow[] = (s?.nodes ?? []).map((n) => {
      const reported = this.#phases.get(n.nodeId);
      const fresh = reported && reported.instanceId !== n.current?.instanceId ? reported : null;
      return {
        nodeId: n.nodeId,
        instanceId: fresh?.instanceId ?? n.current?.instanceId ?? null,
        phase: fresh?.phase ?? reported?.phase ?? n.phase ?? n.state,
        imageId: fresh ? null : (n.current?.imageId ?? null),
        onDesired: !fresh && !n.outdated,
        healthy: !fresh && n.healthy,
        leader: s?.leader === n.nodeId,
      };
    });
    return {
      now: this.at(this.#now()),
      stage: this.#stage,
      progress: progress ? `${progress.replaced.length} of ${progress.total} replaced${progress.batch !== null ? `, batch ${progress.batch}` : ''}${progress.hold ? `, holding (${progress.hold.kind})` : ''}` : null,
      quorum: s ? { healthy: s.quorum.healthy, size: s.quorum.size, quorum: s.quorum.quorum, margin: s.quorum.margin } : null,
      leader: s?.leader ?? null,
      rows,
      recent: this.log.slice(-8),
    };
  }
}
