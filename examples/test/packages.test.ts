// The built packages (scripts/test.sh builds before testing) load as ESM and as CommonJS
// through their exports maps, the way users install them.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const examples = fileURLToPath(new URL('..', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../../packages/core/dist/index.js', import.meta.url)));

const entries: Record<string, string> = {
  '@berth/core': 'defineCluster',
  '@berth/core/testing': 'describeDriverConformance',
  '@berth/sim-driver': 'createSimulation',
  '@berth/aws-driver': 'createAwsDriver',
  '@berth/chaos': 'runGameDay',
};

describe('built packages', () => {
  it.each(Object.entries(entries))('%s loads with import() and require(), exporting %s', async (pkg, name) => {
    if (!built) throw new Error('packages/*/dist is missing: run `bash scripts/pnpm.sh build` before these tests (scripts/test.sh does).');
    const esm = await run(process.execPath, ['--input-type=module', '-e', `const m = await import('${pkg}'); console.log(typeof m.${name});`], { cwd: examples });
    expect(esm.stdout.trim()).toBe('function');
    const cjs = await run(process.execPath, ['-e', `console.log(typeof require('${pkg}').${name});`], { cwd: examples });
    expect(cjs.stdout.trim()).toBe('function');
  });
});
