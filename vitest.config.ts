import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const src = (pkg: string, file = 'index.ts') =>
  fileURLToPath(new URL(`./packages/${pkg}/src/${file}`, import.meta.url));

/** The tests that talk to moto (the aws-driver bootstrap tests under test/bootstrap do not). */
const MOTO_TESTS = ['packages/aws-driver/test/*.test.ts', 'examples/test/*.moto.test.ts'];

/**
 * The files that take longest (measured, heaviest first). Without durations from an earlier run
 * (CI starts from a fresh clone) vitest starts the largest files first, and these are small files
 * that would start last and run alone on one core at the end. A file not listed keeps vitest's order.
 */
const SLOW_FIRST = [
  'packages/chaos/test/scenarios.prop.test.ts',
  'packages/sim-driver/test/iam/policy-mutants.test.ts',
  'packages/chaos/test/crash-points.test.ts',
  'examples/test/demo.test.ts',
  'packages/chaos/test/scenarios-5-nodes.prop.test.ts',
  'packages/chaos/test/pool.test.ts',
  'packages/chaos/test/berth-chaos-bin.test.ts',
  'packages/chaos/test/strategy.test.ts',
  'packages/chaos/test/ci-recipes.test.ts',
  'packages/chaos/test/model.prop.test.ts',
  'examples/test/packages.test.ts',
];

/** vitest's order (longest first once it has durations), with the SLOW_FIRST files moved ahead in their project. */
class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOW_FIRST.findIndex((suffix) => f.moduleId.endsWith(`/${suffix}`));
      return i === -1 ? SLOW_FIRST.length : i;
    };
    const position = new Map(sorted.map((f, i) => [f, i]));
    const projectStart = new Map<string, number>();
    for (const [f, i] of position) if (!projectStart.has(f.project.name)) projectStart.set(f.project.name, i);
    return [...sorted].sort(
      (a, b) => projectStart.get(a.project.name)! - projectStart.get(b.project.name)! || rank(a) - rank(b) || position.get(a)! - position.get(b)!,
    );
  }
}

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@berth\/core\/testing$/, replacement: src('core', 'testing/index.ts') },
      { find: /^@berth\/core$/, replacement: src('core') },
      { find: /^@berth\/aws-driver$/, replacement: src('aws-driver') },
      { find: /^@berth\/sim-driver$/, replacement: src('sim-driver') },
      { find: /^@berth\/chaos$/, replacement: src('chaos') },
    ],
  },
  test: {
    pool: 'forks',
    // Both cores of the standard 2-core machine (vitest's default leaves one free). The tests are
    // CPU-bound simulations and wait on no wall clock, so two at a time only changes their speed.
    maxWorkers: 2,
    // Each worker runs file after file in one process, keeping the modules it loaded: the
    // simulator, the AWS SDK clients and the IAM evaluator load once per worker instead of once
    // per file (isolated, that was ~2.5 s of CPU per file, about a third of the run). Every file
    // builds its own simulations, clocks and servers. What does carry over: pure memos (the IAM
    // evaluator's, which the memo tests reset before they count) and two counters, one in the
    // default controller holder id (`berth-<n>@…`, tests that care pass holderId) and one in
    // simulated request ids, whose values no test reads. A file must leave no state behind that
    // another could see (no module-level registries in test support); checked by running the
    // suite in shuffled file orders (--sequence.shuffle.files, seeds 11 and 23: all passed).
    isolate: false,
    sequence: { sequencer: SlowFirstSequencer },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'examples/test/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...MOTO_TESTS],
        },
      },
      {
        // One moto_server per worker slot for the whole run (test/support/moto-global-setup.ts):
        // every test starts with POST /moto-api/reset, which wipes all of a server's state, so a
        // file uses the server of its slot (sharedMoto(), by VITEST_POOL_ID) and no two files
        // share one at once. These files run beside the unit project's, in the same two workers:
        // while one waits on moto (Python, its own process) the other core runs a simulation.
        extends: true,
        test: {
          name: 'aws-driver-moto',
          include: MOTO_TESTS,
          globalSetup: ['packages/aws-driver/test/support/moto-global-setup.ts'],
        },
      },
    ],
  },
});
