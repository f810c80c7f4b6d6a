import type { ExploreFailure, ExploreSummary } from './explore.js';
import type { ReplayRecipe } from './replay-token.js';

/** Shard `index` (1-based) of `count`: which contiguous part of a seed range it explores. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/**
 * The seeds shard `index` of `count` explores out of `runs` seeds from `seed`: contiguous parts
 * whose sizes differ by at most one, in order, covering the range exactly once.
 */
export function shardRange(seed: number, runs: number, shard: Shard): { readonly seed: number; readonly runs: number } {
  const { index, count } = shard;
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 1 || index > count) {
    throw new Error(`shard ${index}/${count}: give i/n with n ≥ 1 and 1 ≤ i ≤ n (e.g. --shard 2/8)`);
  }
  const base = Math.floor(runs / count);
  const extra = runs % count;
  const k = index - 1;
  return { seed: seed + k * base + Math.min(k, extra), runs: base + (k < extra ? 1 : 0) };
}

/** Reads `--shard i/n`. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m) throw new Error(`--shard '${text}' must be i/n, e.g. 2/8 (shard 2 of 8)`);
  const shard = { index: Number(m[1]), count: Number(m[2]) };
  shardRange(0, 0, shard);
  return shard;
}

/**
 * What one `pnpm chaos` run writes to `summary.json`: the whole range it belongs to, its own
 * shard of it (null: unsharded), the generator's options, and what it found. Shards of one range
 * merge ({@link mergeChaosSummaries}) into what the unsharded run writes.
 */
export interface ChaosSummaryFile {
  readonly format: 'berth-chaos-summary/1';
  /** The whole range: the first seed and how many seeds. */
  readonly seed: number;
  readonly runs: number;
  readonly shard: Shard | null;
  readonly profile: ReplayRecipe['profile'];
  readonly sizes: readonly number[];
  readonly maxFaults: number;
  readonly kinds: ReplayRecipe['kinds'];
  /** Scenarios run (seeds excluded or not reached are not counted). */
  readonly ran: number;
  readonly faultsInjected: number;
  readonly virtualMs: number;
  readonly livenessOutcomes: Readonly<Record<string, number>>;
  /** In seed order. */
  readonly failures: readonly ExploreFailure[];
  /** A `berth-chaos run` of a user strategy: its name and module (absent: built-in scenarios). */
  readonly strategy?: { readonly name: string; readonly module: string };
}

/** The summary file of one run of `range` (its shard, if any) from `explore`'s summary. */
export function chaosSummaryFile(
  range: { readonly seed: number; readonly runs: number; readonly shard: Shard | null },
  generator: Omit<ReplayRecipe, 'seed'>,
  summary: ExploreSummary,
  strategy?: { readonly name: string; readonly module: string },
): ChaosSummaryFile {
  return {
    ...(strategy && { strategy: { name: strategy.name, module: strategy.module } }),
    format: 'berth-chaos-summary/1',
    seed: range.seed,
    runs: range.runs,
    shard: range.shard,
    profile: generator.profile,
    sizes: [...generator.sizes],
    maxFaults: generator.maxFaults,
    kinds: generator.kinds,
    ran: summary.runs,
    faultsInjected: summary.faultsInjected,
    virtualMs: summary.virtualMs,
    livenessOutcomes: sortedCounts(summary.livenessOutcomes),
    failures: [...summary.failures].sort((a, b) => a.scenario.seed - b.scenario.seed),
  };
}

/**
 * Merges the summaries of every shard of one range into the summary of the whole range, as an
 * unsharded run writes it. Refuses (an Error saying which file and why) summaries of different
 * ranges or generator options, a shard given twice, and a missing shard.
 */
export function mergeChaosSummaries(parts: readonly { readonly name: string; readonly summary: ChaosSummaryFile }[]): ChaosSummaryFile {
  if (parts.length === 0) throw new Error('merge: give the summary.json of every shard');
  const first = parts[0]!.summary;
  const key = (s: ChaosSummaryFile) => JSON.stringify([s.format, s.seed, s.runs, s.profile, s.sizes, s.maxFaults, s.kinds, s.strategy ?? null]);
  const count = first.shard?.count ?? 1;
  const seen = new Map<number, string>();
  for (const { name, summary } of parts) {
    if (summary.format !== 'berth-chaos-summary/1') throw new Error(`merge: ${name} is not a berth chaos summary (format ${String(summary.format)})`);
    if (key(summary) !== key(first)) throw new Error(`merge: ${name} is of another run (seeds ${summary.seed}+${summary.runs}, ${summary.profile}, sizes ${summary.sizes.join('/')}, ${summary.maxFaults} faults) than ${parts[0]!.name} (seeds ${first.seed}+${first.runs}, ${first.profile}, sizes ${first.sizes.join('/')}, ${first.maxFaults} faults)`);
    const index = summary.shard?.index ?? 1;
    if ((summary.shard?.count ?? 1) !== count) throw new Error(`merge: ${name} is shard ${index}/${summary.shard?.count ?? 1}, ${parts[0]!.name} one of ${count}`);
    const other = seen.get(index);
    if (other !== undefined) throw new Error(`merge: shard ${index}/${count} is given twice (${other} and ${name})`);
    seen.set(index, name);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seen.has(i));
  if (missing.length > 0) throw new Error(`merge: shard${missing.length === 1 ? '' : 's'} ${missing.map((i) => `${i}/${count}`).join(', ')} missing: the merged summary would not cover seeds ${first.seed}…${first.seed + first.runs - 1}`);
  const liveness: Record<string, number> = {};
  for (const { summary } of parts) for (const [k, v] of Object.entries(summary.livenessOutcomes)) liveness[k] = (liveness[k] ?? 0) + v;
  const sum = (f: (s: ChaosSummaryFile) => number) => parts.reduce((a, p) => a + f(p.summary), 0);
  return {
    ...(first.strategy && { strategy: first.strategy }),
    format: first.format,
    seed: first.seed,
    runs: first.runs,
    shard: null,
    profile: first.profile,
    sizes: first.sizes,
    maxFaults: first.maxFaults,
    kinds: first.kinds,
    ran: sum((s) => s.ran),
    faultsInjected: sum((s) => s.faultsInjected),
    virtualMs: sum((s) => s.virtualMs),
    livenessOutcomes: sortedCounts(liveness),
    failures: parts.flatMap((p) => p.summary.failures).sort((a, b) => a.scenario.seed - b.scenario.seed),
  };
}

function sortedCounts(counts: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
