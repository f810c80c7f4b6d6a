// Sharded chaos runs (issue 12): shards split a seed range into contiguous parts, and their
// summaries merge into exactly what the unsharded run writes; the replay token carries every
// generator option, so a replay draws the same scenario whatever the flags say.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../bin/cli.js';
import {
  chaosSummaryFile,
  explore,
  mergeChaosSummaries,
  parseReplayToken,
  parseShard,
  randomScenario,
  recipeOptions,
  replayCommand,
  replayRecipe,
  replayToken,
  shardRange,
  type ChaosSummaryFile,
} from '../src/index.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

describe('shards', () => {
  it('split a range into contiguous parts that cover it exactly once, sizes differing by at most one', () => {
    for (const [runs, count] of [[10, 3], [3, 5], [1_000_000, 7], [0, 2], [12, 1]] as const) {
      const parts = Array.from({ length: count }, (_, i) => shardRange(500, runs, { index: i + 1, count }));
      expect(parts.reduce((a, p) => a + p.runs, 0)).toBe(runs);
      parts.forEach((p, i) => expect(p.seed).toBe(i === 0 ? 500 : parts[i - 1]!.seed + parts[i - 1]!.runs));
      const sizes = parts.map((p) => p.runs);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
    expect(parseShard('2/8')).toEqual({ index: 2, count: 8 });
    expect(() => parseShard('0/8')).toThrow(/1 ≤ i ≤ n/);
    expect(() => parseShard('9/8')).toThrow(/1 ≤ i ≤ n/);
    expect(() => parseShard('2-8')).toThrow(/must be i\/n/);
  });

  it('merged, three shards give the summary of the unsharded run; a missing, doubled or foreign shard is refused', async () => {
    const gen = { profile: 'fast' as const, sizes: [3], maxFaults: 2 };
    const recipe = replayRecipe(0, gen);
    const range = { seed: 4_100, runs: 7 };
    const whole = chaosSummaryFile({ ...range, shard: null }, recipe, await explore({ ...range, ...gen }));
    const shards: { name: string; summary: ChaosSummaryFile }[] = [];
    for (const index of [3, 1, 2]) {
      const shard = { index, count: 3 };
      const part = shardRange(range.seed, range.runs, shard);
      // Through JSON, as the files travel between machines.
      const summary = JSON.parse(JSON.stringify(chaosSummaryFile({ ...range, shard }, recipe, await explore({ ...part, ...gen })))) as ChaosSummaryFile;
      shards.push({ name: `shard-${index}.json`, summary });
    }
    expect(mergeChaosSummaries(shards)).toEqual(JSON.parse(JSON.stringify(whole)));
    expect(whole.ran).toBe(7);
    expect(() => mergeChaosSummaries(shards.slice(0, 2))).toThrow(/shard 2\/3 missing/);
    expect(() => mergeChaosSummaries([...shards, shards[0]!])).toThrow(/shard 3\/3 is given twice/);
    const foreign = { name: 'other.json', summary: { ...shards[1]!.summary, maxFaults: 3 } };
    expect(() => mergeChaosSummaries([shards[0]!, foreign, shards[2]!])).toThrow(/other\.json is of another run/);
  });
});

describe('replay tokens', () => {
  it('carry every generator option: for 100 seeds with non-default sizes and fault counts, the token draws the same scenario', () => {
    const gen = { profile: 'realistic' as const, sizes: [5, 7], maxFaults: 6 };
    for (let seed = 7_000; seed < 7_100; seed++) {
      const token = replayToken(replayRecipe(seed, gen));
      const back = parseReplayToken(token);
      expect(randomScenario(back.seed, recipeOptions(back))).toEqual(randomScenario(seed, gen));
    }
    expect(replayCommand(12, gen)).toBe('pnpm chaos --replay 12/realistic/5.7/6');
    expect(parseReplayToken('12/fast/3/2/kill-instance.partition')).toMatchObject({ kinds: ['kill-instance', 'partition'] });
  });

  it('a malformed token is refused naming the part', () => {
    expect(() => parseReplayToken('12/slow/3/2')).toThrow(/the profile 'slow' must be fast or realistic/);
    expect(() => parseReplayToken('12/fast/4/2')).toThrow(/the sizes '4' must be odd node counts/);
    expect(() => parseReplayToken('x/fast/3/2')).toThrow(/the seed 'x'/);
    expect(() => parseReplayToken('12/fast/3/2/no-such-fault')).toThrow(/unknown fault kind no-such-fault/);
    expect(() => parseReplayToken('12')).toThrow(/SEED\/PROFILE\/SIZES\/MAX_FAULTS/);
  });

  it('pnpm chaos (berth-chaos explore, in-process): --shard writes shard summaries that `merge` joins; --replay TOKEN ignores the flags; --replay-scenario replays a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-chaos-shards-'));
    const chaos = async (args: string[]) => {
      const log: string[] = [];
      const code = await main(args, { out: (l) => log.push(l), err: (l) => log.push(l), cwd: REPO, progress: false });
      if (code !== 0) throw new Error(`pnpm chaos ${args.join(' ')} exited ${code}:\n${log.join('\n')}`);
      return log.join('\n');
    };
    for (const i of [1, 2]) await chaos(['--runs', '2', '--seed', '9100', '--sizes', '3', '--max-faults', '1', '--shard', `${i}/2`, '--report', join(dir, `s${i}`)]);
    const out = await chaos(['merge', join(dir, 's1', 'summary.json'), join(dir, 's2', 'summary.json'), '--out', join(dir, 'merged.json')]);
    expect(out).toMatch(/merged 2 shards: seeds 9100…9101, 2 scenarios, 0 failures/);
    const merged = JSON.parse(readFileSync(join(dir, 'merged.json'), 'utf8')) as ChaosSummaryFile;
    expect(merged).toMatchObject({ format: 'berth-chaos-summary/1', seed: 9100, runs: 2, shard: null, sizes: [3], maxFaults: 1, ran: 2 });
    const replayed = await chaos(['--replay', '9101/fast/3/1', '--sizes', '5,7', '--max-faults', '9', '--report', join(dir, 'r')]);
    expect(replayed).toMatch(/^seed 9101: every invariant held/m);
    // A scenario file (what a shrunk failure is written as) replays as it is.
    const file = join(dir, 'scenario.json');
    writeFileSync(file, JSON.stringify({ ...randomScenario(9101, { sizes: [3], maxFaults: 1 }), faults: [] }));
    expect(await chaos(['--replay-scenario', file])).toMatch(/scenario\.json: every invariant held/);
  }, 120_000);
});
