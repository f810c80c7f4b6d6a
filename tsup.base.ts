import { defineConfig, type Options } from 'tsup';

/** The build every package shares: ESM + CJS + .d.ts for Node 20, one entry per export. */
export function packageBuild(entry: Record<string, string>): Options | Options[] {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    // The root tsconfig maps @berth/* to sources for tests; builds resolve the packages instead.
    dts: { compilerOptions: { paths: {} } },
    tsconfig: 'tsconfig.json',
    sourcemap: true,
    clean: true,
    target: 'node20',
  }) as Options | Options[];
}
