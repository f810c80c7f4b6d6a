import type { QueuedEvent } from './event-queue.js';
import { draw, type SimContext } from './sim-context.js';
import type { SimVolume } from './world/entities.js';

export interface AppMemberStatus {
  readonly nodeId: string;
  /** The instance the member runs on, while it runs. */
  readonly instanceId: string | null;
  /** The member's process runs. */
  readonly up: boolean;
  /** Up, reachable and caught up with the leader. */
  readonly healthy: boolean;
  readonly partitioned: boolean;
  /** Last log index persisted on the node's volume. */
  readonly lastIndex: number;
  /**
   * A voting member: counted in the majority. A node that started without being added
   * (`addMember`) or that was removed (`removeMember`) replicates but does not vote.
   */
  readonly voter: boolean;
}

/** A membership change the application would not have survived well, recorded (not refused). */
export interface UnsafeMembershipEvent {
  readonly atMs: number;
  readonly nodeId: string;
  /** `voter-deleted`: the node's resources went while it was still a voting member (no `removeMember` first). */
  readonly kind: 'voter-deleted';
  readonly voters: number;
}

/** A member started on a volume that had lost what its node had written (or a volume was deleted). */
export interface DataLossEvent {
  readonly atMs: number;
  readonly nodeId: string;
  readonly volumeId: string;
  /** Log entries the node had persisted and no longer has. */
  readonly entries: number;
  readonly reason: 'blank-volume' | 'volume-deleted';
}

export interface AppStatus {
  readonly leaderId: string | null;
  readonly term: number;
  readonly members: readonly AppMemberStatus[];
  /** Entries persisted on a majority of members' volumes. */
  readonly commitIndex: number;
  /** A leader with a quorum of healthy members: clients can write. */
  readonly available: boolean;
  /** Committed entries that no volume holds any more, or that an election truncated. */
  readonly lostCommitted: number;
  readonly dataLoss: readonly DataLossEvent[];
  /** A majority of the voting members. */
  readonly quorumSize: number;
  /** The voting members, sorted. */
  readonly voters: readonly string[];
  /** Membership changes made in an unsafe order. */
  readonly unsafeMembership: readonly UnsafeMembershipEvent[];
}

interface Member {
  readonly nodeId: string;
  voter: boolean;
  instanceId: string | null;
  volume: SimVolume | null;
  up: boolean;
  healthy: boolean;
  partitioned: boolean;
  /** Not a candidate before this time (after a step-down). */
  noCandidateUntilMs: number;
  /** Highest index this node ever had on its volume: the yardstick for data loss. */
  highestPersisted: number;
  timerEv: QueuedEvent | null;
  healthyListeners: Array<() => void>;
}

/**
 * A quorum application in the style of Raft/ZooKeeper: one member per node running on its
 * current instance with its data on the node's volume, a leader chosen by election among a
 * quorum of reachable members (the most up-to-date wins), a replicated log written by a
 * client while available, and catch-up after a restart in time proportional to the lag.
 */
export class QuorumApp {
  readonly #ctx: SimContext;
  readonly #members = new Map<string, Member>();
  #leaderId: string | null = null;
  #term = 0;
  #commitIndex = 0;
  #lostCommitted = 0;
  readonly #dataLoss: DataLossEvent[] = [];
  #electionEv: QueuedEvent | null = null;
  #writerStarted = false;
  readonly #leaderListeners: Array<() => void> = [];
  readonly #formed = new Set<string>();
  readonly #unsafe: UnsafeMembershipEvent[] = [];

  constructor(ctx: SimContext) {
    this.#ctx = ctx;
  }

  get #now(): number {
    return this.#ctx.scheduler.nowMs;
  }

  get leaderId(): string | null {
    return this.#leaderId;
  }

  get quorumSize(): number {
    return Math.floor(this.#voters().length / 2) + 1;
  }

  #voters(): Member[] {
    return [...this.#members.values()].filter((m) => m.voter);
  }

  #healthyVoters(): number {
    return this.#voters().filter((m) => m.healthy && this.#connected(m)).length;
  }

  #lastIndex(m: Member): number {
    return m.volume?.data?.appIndex ?? 0;
  }

  #connected(m: Member): boolean {
    return m.up && !m.partitioned;
  }

  /**
   * A cluster's first membership, from the spec its nodes were created with (what the configure
   * step lists as peers): every node a voter. Once per cluster name: nodes a later spec adds
   * start as non-voters until `addMember`.
   */
  form(clusterName: string, nodeIds: readonly string[]): void {
    if (this.#formed.has(clusterName)) return;
    this.#formed.add(clusterName);
    for (const id of nodeIds) this.register(id, true);
  }

  /** Adds a node to the membership: a voter, or a non-voting learner that replicates. */
  register(nodeId: string, voter = false): void {
    if (this.#members.has(nodeId)) return;
    this.#members.set(nodeId, {
      nodeId,
      voter,
      instanceId: null,
      volume: null,
      up: false,
      healthy: false,
      partitioned: false,
      noCandidateUntilMs: 0,
      highestPersisted: 0,
      timerEv: null,
      healthyListeners: [],
    });
    // `members` of app.member-added is the voting membership (the chaos checkers' quorum denominator).
    this.#ctx.trace.record(voter ? 'app.member-added' : 'app.learner-added', { nodeId, members: voter ? this.#voters().length : this.#members.size, voters: this.#voters().length });
    if (!this.#writerStarted) {
      this.#writerStarted = true;
      this.#scheduleWrite();
    }
  }

  /**
   * The node's network identity is gone (its ENI deleted). A non-voter simply leaves; a voter
   * that was never removed stays in the configuration, down for good — the majority still
   * counts it — and the unsafe order is recorded.
   */
  deregister(nodeId: string): void {
    const m = this.#members.get(nodeId);
    if (!m) return;
    if (m.voter) {
      const ev: UnsafeMembershipEvent = { atMs: this.#now, nodeId, kind: 'voter-deleted', voters: this.#voters().length };
      this.#unsafe.push(ev);
      this.#ctx.trace.record('app.voter-deleted', { ...ev });
      if (m.instanceId) this.stopMember(nodeId, m.instanceId, 'node deleted');
      return;
    }
    this.#ctx.scheduler.cancel(m.timerEv);
    this.#members.delete(nodeId);
    this.#ctx.trace.record('app.member-removed', { nodeId, members: this.#members.size });
    if (this.#leaderId === nodeId) this.#loseLeader('leader removed');
  }

  /**
   * `addMember` the way a strict reconfiguration works (etcd `--strict-reconfig-check`): the
   * change needs a leader, and after it a majority of the bigger voting membership must be
   * healthy (the new node counted when it is caught up). Idempotent for a voter.
   */
  addMember(nodeId: string): void {
    const m = this.#members.get(nodeId);
    if (!m) throw new Error(`addMember ${nodeId}: no such node has started; start it before adding it`);
    if (m.voter) return;
    if (!this.available()) throw new Error(`addMember ${nodeId}: the cluster has no leader with a quorum; a membership change cannot commit`);
    const after = Math.floor((this.#voters().length + 1) / 2) + 1;
    const healthy = this.#healthyVoters() + (this.isHealthy(nodeId) ? 1 : 0);
    if (healthy < after) throw new Error(`addMember ${nodeId}: ${healthy} healthy voters after it, ${after} needed: it would lose the quorum`);
    m.voter = true;
    this.#ctx.trace.record('app.member-added', { nodeId, members: this.#voters().length, voters: this.#voters().length });
  }

  /**
   * `removeMember` as a real application decommissions: needs a leader, and the voters that stay
   * must hold a healthy majority of the smaller membership. The node stops voting (and leading);
   * its process runs on until the node is deleted. Idempotent for a non-voter.
   */
  removeMember(nodeId: string): void {
    const m = this.#members.get(nodeId);
    if (!m || !m.voter) return;
    if (!this.available()) throw new Error(`removeMember ${nodeId}: the cluster has no leader with a quorum; a membership change cannot commit`);
    const remaining = this.#voters().filter((v) => v !== m);
    const after = Math.floor(remaining.length / 2) + 1;
    const healthy = remaining.filter((v) => v.healthy && this.#connected(v)).length;
    if (remaining.length === 0 || healthy < after) throw new Error(`removeMember ${nodeId}: ${healthy} healthy voters would remain, ${after} needed: it would lose the quorum`);
    m.voter = false;
    this.#ctx.trace.record('app.member-removed', { nodeId, members: this.#members.size, voters: remaining.length });
    if (this.#leaderId === nodeId) this.#loseLeader(`leader ${nodeId} removed from the membership`);
  }

  /** The member process starts on `instanceId` with the node's mounted volume. */
  startMember(nodeId: string, instanceId: string, volume: SimVolume): void {
    this.register(nodeId);
    const m = this.#members.get(nodeId) as Member;
    this.#ctx.scheduler.cancel(m.timerEv);
    m.instanceId = instanceId;
    m.volume = volume;
    m.up = false;
    m.healthy = false;
    const idx = this.#lastIndex(m);
    if (idx < m.highestPersisted && idx === 0) {
      const ev: DataLossEvent = { atMs: this.#now, nodeId, volumeId: volume.id, entries: m.highestPersisted, reason: 'blank-volume' };
      this.#dataLoss.push(ev);
      this.#ctx.trace.record('app.data-loss', { ...ev });
    }
    m.highestPersisted = idx;
    this.#checkLost();
    m.timerEv = this.#ctx.scheduler.after(draw(this.#ctx.rng.app, this.#ctx.options.timings.appMemberStartMs), `app member ${nodeId} start`, () => {
      m.timerEv = null;
      m.up = true;
      this.#ctx.trace.record('app.member-up', { nodeId, instanceId, lastIndex: this.#lastIndex(m) });
      this.#afterMemberReachable(m);
    });
  }

  /** The member's instance went away (or is going). */
  stopMember(nodeId: string | null, instanceId: string, reason: string): void {
    if (nodeId === null) return;
    const m = this.#members.get(nodeId);
    if (!m || m.instanceId !== instanceId) return;
    this.#ctx.scheduler.cancel(m.timerEv);
    m.timerEv = null;
    const wasUp = m.up;
    m.up = false;
    m.healthy = false;
    m.instanceId = null;
    m.healthyListeners = [];
    if (wasUp) this.#ctx.trace.record('app.member-down', { nodeId, instanceId, reason });
    if (this.#leaderId === nodeId) this.#loseLeader(`leader ${nodeId} down: ${reason}`);
  }

  isHealthy(nodeId: string): boolean {
    const m = this.#members.get(nodeId);
    return m !== undefined && m.healthy && this.#connected(m);
  }

  /** Calls `fn` once the member is healthy (caught up); now if it already is. */
  whenHealthy(nodeId: string, fn: () => void): void {
    const m = this.#members.get(nodeId);
    if (!m) return;
    if (this.isHealthy(nodeId)) return fn();
    m.healthyListeners.push(fn);
  }

  whenLeaderElected(fn: () => void): void {
    this.#leaderListeners.push(fn);
  }

  partition(nodeId: string, durationMs: number): void {
    const m = this.#members.get(nodeId);
    if (!m) return;
    m.partitioned = true;
    m.healthy = false;
    this.#ctx.scheduler.cancel(m.timerEv);
    m.timerEv = null;
    this.#ctx.trace.record('app.partitioned', { nodeId, durationMs });
    if (this.#leaderId === nodeId) this.#loseLeader(`leader ${nodeId} partitioned`);
    this.#ctx.scheduler.after(durationMs, `heal partition ${nodeId}`, () => {
      if (!m.partitioned) return;
      m.partitioned = false;
      this.#ctx.trace.record('app.partition-healed', { nodeId });
      if (m.up) this.#afterMemberReachable(m);
    });
  }

  /** Leader step-down: a new election among the others. Returns whether `nodeId` was the leader. */
  stepDown(nodeId: string): boolean {
    if (this.#leaderId !== nodeId) return false;
    const m = this.#members.get(nodeId) as Member;
    const t = this.#ctx.options.timings.appElectionTimeoutMs;
    m.noCandidateUntilMs = this.#now + 3 * t[1];
    this.#loseLeader(`leader ${nodeId} stepped down`);
    return true;
  }

  /** A volume was deleted: what it held is gone. */
  onVolumeDestroyed(volume: SimVolume): void {
    for (const m of this.#members.values()) {
      if (m.volume?.id !== volume.id) continue;
      const entries = volume.data?.appIndex ?? 0;
      if (entries > 0) {
        const ev: DataLossEvent = { atMs: this.#now, nodeId: m.nodeId, volumeId: volume.id, entries, reason: 'volume-deleted' };
        this.#dataLoss.push(ev);
        this.#ctx.trace.record('app.data-loss', { ...ev });
      }
      m.volume = null;
    }
    this.#checkLost();
  }

  status(): AppStatus {
    const members = [...this.#members.values()]
      .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0))
      .map((m) => ({
        nodeId: m.nodeId,
        instanceId: m.instanceId,
        up: m.up,
        healthy: m.healthy && this.#connected(m),
        partitioned: m.partitioned,
        lastIndex: this.#lastIndex(m),
        voter: m.voter,
      }));
    return {
      leaderId: this.#leaderId,
      term: this.#term,
      members,
      commitIndex: this.#commitIndex,
      available: this.available(),
      lostCommitted: this.#lostCommitted,
      dataLoss: [...this.#dataLoss],
      quorumSize: this.quorumSize,
      voters: this.#voters()
        .map((m) => m.nodeId)
        .sort(),
      unsafeMembership: [...this.#unsafe],
    };
  }

  available(): boolean {
    if (this.#leaderId === null) return false;
    return this.#healthyVoters() >= this.quorumSize;
  }

  /** Available, and every up member is caught up. */
  clusterHealthy(): boolean {
    if (!this.available()) return false;
    for (const m of this.#members.values()) if (m.up && !(m.healthy && this.#connected(m))) return false;
    return true;
  }

  // ---- internals ----

  #afterMemberReachable(m: Member): void {
    const leader = this.#leaderId === null ? null : this.#members.get(this.#leaderId);
    if (leader && this.#connected(leader)) this.#scheduleCatchUp(m, leader);
    else this.#maybeScheduleElection();
  }

  #scheduleCatchUp(m: Member, leader: Member): void {
    this.#ctx.scheduler.cancel(m.timerEv);
    const t = this.#ctx.options.timings;
    const lag = Math.max(0, this.#lastIndex(leader) - this.#lastIndex(m));
    const delay = draw(this.#ctx.rng.app, t.appCatchUpBaseMs) + lag * t.appCatchUpPerEntryMs;
    m.timerEv = this.#ctx.scheduler.after(delay, `app catch-up ${m.nodeId}`, () => {
      m.timerEv = null;
      const cur = this.#leaderId === null ? null : this.#members.get(this.#leaderId);
      if (!cur || !this.#connected(cur) || !this.#connected(m)) return;
      if (m.volume?.data) m.volume.data.appIndex = this.#lastIndex(cur);
      m.highestPersisted = Math.max(m.highestPersisted, this.#lastIndex(m));
      this.#markHealthy(m);
    });
  }

  #markHealthy(m: Member): void {
    if (m.healthy) return;
    m.healthy = true;
    this.#ctx.trace.record('app.member-healthy', { nodeId: m.nodeId, instanceId: m.instanceId, lastIndex: this.#lastIndex(m) });
    const ls = m.healthyListeners;
    m.healthyListeners = [];
    for (const l of ls) l();
  }

  #loseLeader(reason: string): void {
    const old = this.#leaderId;
    this.#leaderId = null;
    this.#ctx.trace.record('app.leader-lost', { nodeId: old ?? undefined, reason, term: this.#term });
    this.#maybeScheduleElection();
  }

  #maybeScheduleElection(): void {
    if (this.#leaderId !== null || this.#electionEv !== null) return;
    let reachable = 0;
    for (const m of this.#members.values()) if (m.voter && this.#connected(m)) reachable++;
    if (reachable < this.quorumSize) return;
    this.#electionEv = this.#ctx.scheduler.after(draw(this.#ctx.rng.app, this.#ctx.options.timings.appElectionTimeoutMs), 'app election', () => {
      this.#electionEv = null;
      this.#elect();
    });
  }

  #elect(): void {
    if (this.#leaderId !== null) return;
    const connected = [...this.#members.values()].filter((m) => this.#connected(m));
    // Voters elect (and only a voter leads); every connected member then follows the leader.
    const voters = connected.filter((m) => m.voter);
    if (voters.length < this.quorumSize) return;
    const reachable = connected;
    let candidates = voters.filter((m) => m.noCandidateUntilMs <= this.#now);
    if (candidates.length === 0) candidates = voters;
    const best = Math.max(...candidates.map((m) => this.#lastIndex(m)));
    const top = candidates.filter((m) => this.#lastIndex(m) === best).sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1));
    const leader = this.#ctx.rng.app.pick(top);
    this.#term++;
    this.#leaderId = leader.nodeId;
    const leaderIndex = this.#lastIndex(leader);
    if (leaderIndex < this.#commitIndex) {
      const lost = this.#commitIndex - leaderIndex;
      this.#lostCommitted += lost;
      this.#ctx.trace.record('app.committed-lost', { nodeId: leader.nodeId, entries: lost, commitIndex: this.#commitIndex, leaderIndex });
      this.#commitIndex = leaderIndex;
    }
    this.#ctx.trace.record('app.leader-elected', { nodeId: leader.nodeId, term: this.#term, lastIndex: leaderIndex });
    for (const m of reachable) {
      if (m === leader) continue;
      // Entries beyond the new leader's log were never committed: followers drop them.
      if (m.volume?.data && m.volume.data.appIndex > leaderIndex) m.volume.data.appIndex = leaderIndex;
      if (this.#lastIndex(m) === leaderIndex && m.timerEv === null) {
        this.#markHealthy(m);
      } else {
        m.healthy = false;
        this.#scheduleCatchUp(m, leader);
      }
    }
    this.#markHealthy(leader);
    const ls = this.#leaderListeners.splice(0, this.#leaderListeners.length);
    for (const l of ls) l();
  }

  #scheduleWrite(): void {
    this.#ctx.scheduler.after(this.#ctx.options.timings.appWriteIntervalMs, 'app client write', () => {
      this.#write();
      this.#scheduleWrite();
    });
  }

  #write(): void {
    if (!this.available() || this.#leaderId === null) return;
    const leader = this.#members.get(this.#leaderId) as Member;
    if (!leader.volume?.data) return;
    const next = leader.volume.data.appIndex + 1;
    for (const m of this.#members.values()) {
      if (m.healthy && this.#connected(m) && m.volume?.data) {
        m.volume.data.appIndex = next;
        if (next > m.highestPersisted) m.highestPersisted = next;
      }
    }
    this.#commitIndex = next;
  }

  /** Committed entries that no volume holds any more are lost. */
  #checkLost(): void {
    let maxHeld = 0;
    for (const m of this.#members.values()) maxHeld = Math.max(maxHeld, this.#lastIndex(m));
    if (maxHeld < this.#commitIndex) {
      const lost = this.#commitIndex - maxHeld;
      this.#lostCommitted += lost;
      this.#ctx.trace.record('app.committed-lost', { entries: lost, commitIndex: this.#commitIndex, maxHeld });
      this.#commitIndex = maxHeld;
    }
  }
}
