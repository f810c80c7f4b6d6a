import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkInvariants, livenessBoundMs } from '../src/index.js';
import { LiveChaos } from './support/live-chaos.js';

/** The model: deliberately simpler than the system — only what the commands may do next. */
interface Model {
  readonly nodes: number;
  /** Node faults still acting (kept within the tolerance: the stated fault model). */
  nodeFaults: number;
  crashed: boolean;
}

type Cmd = fc.AsyncCommand<Model, LiveChaos>;

const safe = (real: LiveChaos, what: string) => {
  const r = real.safety();
  if (r.violations.length > 0) throw new Error(`after ${what}: ${r.violations.map((v) => `[${v.invariant}] ${v.message}`).join('; ')}`);
};

class Advance implements Cmd {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: Model, r: LiveChaos) {
    await r.advance(this.ms);
    m.nodeFaults = 0;
    safe(r, this.toString());
  }
  toString = () => `advance(${this.ms})`;
}
class Kill implements Cmd {
  constructor(readonly node: number) {}
  check = (m: Readonly<Model>) => m.nodeFaults < Math.floor(m.nodes / 2);
  async run(m: Model, r: LiveChaos) {
    m.nodeFaults++;
    await r.inject({ kind: 'kill-instance', nodeId: `chaos-${(this.node % m.nodes) + 1}`, atMs: 0, stabilityMs: 300 });
    safe(r, this.toString());
  }
  toString = () => `kill(chaos-${this.node + 1})`;
}
class Partition implements Cmd {
  constructor(readonly node: number, readonly ms: number) {}
  check = (m: Readonly<Model>) => m.nodeFaults < Math.floor(m.nodes / 2);
  async run(m: Model, r: LiveChaos) {
    m.nodeFaults++;
    await r.inject({ kind: 'partition', nodeId: `chaos-${(this.node % m.nodes) + 1}`, durationMs: this.ms, atMs: 0, stabilityMs: 300 });
    safe(r, this.toString());
  }
  toString = () => `partition(chaos-${this.node + 1}, ${this.ms})`;
}
class Crash implements Cmd {
  check = (m: Readonly<Model>) => !m.crashed;
  async run(m: Model, r: LiveChaos) {
    m.crashed = true;
    r.crash();
    safe(r, this.toString());
  }
  toString = () => 'crash()';
}
class Restart implements Cmd {
  check = (m: Readonly<Model>) => m.crashed;
  async run(m: Model, r: LiveChaos) {
    m.crashed = false;
    await r.advance(10);
    r.startRoll('ctl-a');
    safe(r, this.toString());
  }
  toString = () => 'restart()';
}
let seconds = 0;
class SecondController implements Cmd {
  check = () => true;
  async run(_m: Model, r: LiveChaos) {
    r.startRoll(`ctl-second-${++seconds}`);
    await r.advance(200);
    safe(r, this.toString());
  }
  toString = () => 'secondController()';
}
class ApiErrors implements Cmd {
  constructor(readonly rate: number) {}
  check = () => true;
  async run(_m: Model, r: LiveChaos) {
    await r.inject({ kind: 'api-5xx', rate: this.rate, durationMs: 2_000, atMs: 0, stabilityMs: 100 });
    safe(r, this.toString());
  }
  toString = () => `api5xx(${this.rate})`;
}

const commands = [
  fc.integer({ min: 50, max: 5_000 }).map((ms) => new Advance(ms)),
  fc.nat(4).map((n) => new Kill(n)),
  fc.tuple(fc.nat(4), fc.integer({ min: 200, max: 10_000 })).map(([n, ms]) => new Partition(n, ms)),
  fc.constant(new Crash()),
  fc.constant(new Restart()),
  fc.constant(new SecondController()),
  fc.constantFrom(0.1, 0.5).map((r) => new ApiErrors(r)),
];

/** Command sequences run by this file. */
const RUNS = Number(process.env['CHAOS_MODEL_RUNS'] ?? 40);

describe('model-based: roll / kill / partition / crash / restart / second controller / API errors', () => {
  it(`keeps safety after every command and converges after healing (${RUNS} sequences)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1e9 }), fc.constantFrom(3, 5), fc.commands(commands, { maxCommands: 12 }), async (seed, nodes, cmds) => {
        const real = new LiveChaos(seed, nodes);
        await real.setup();
        real.startRoll();
        await fc.asyncModelRun(() => ({ model: { nodes, nodeFaults: 0, crashed: false }, real }), cmds);
        if (!real.settled && real.outcome === null) {
          // still rolling: fine, liveness waits for it
        }
        const liveness = await real.liveness(livenessBoundMs(nodes, 1, 600_000));
        const r = checkInvariants({ spec: real.spec, trace: real.sim.trace, calls: real.calls, liveness, iamDenials: real.sim.account.iamDenials(), replacementTimeoutMs: 600_000, halts: real.halts });
        if (r.violations.length > 0) {
          const sessions = [...new Set(real.calls.map((c) => c.session))].map((s) => `${s}: ${real.calls.filter((c) => c.session === s).slice(-3).map((c) => `${c.op}@${c.startMs - real.calls[0]!.startMs}${c.ok === false ? `!${c.error}` : c.ok === null ? '(open)' : ''}`).join(', ')}`);
          throw new Error(`${r.violations.map((v) => `[${v.invariant}] ${v.message}`).join('; ')}\nlast calls per session:\n${sessions.join('\n')}`);
        }
        expect(['completed', 'halted']).toContain(liveness.outcome);
      }),
      { numRuns: RUNS, seed: Number(process.env['CHAOS_SEED'] ?? 20_261_122), ...(process.env['CHAOS_PATH'] && { path: process.env['CHAOS_PATH'] }) },
    );
  }, 120_000);
});
