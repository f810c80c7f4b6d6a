import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string, file = 'index.ts') =>
  fileURLToPath(new URL(`./packages/${pkg}/src/${file}`, import.meta.url));

/** The tests that talk to moto (the aws-driver bootstrap tests under test/bootstrap do not). */
const MOTO_TESTS = ['packages/aws-driver/test/*.test.ts', 'examples/test/*.moto.test.ts'];

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
