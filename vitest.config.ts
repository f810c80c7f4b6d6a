import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string, file = 'index.ts') =>
  fileURLToPath(new URL(`./packages/${pkg}/src/${file}`, import.meta.url));

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
    include: ['packages/*/test/**/*.test.ts', 'examples/test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
