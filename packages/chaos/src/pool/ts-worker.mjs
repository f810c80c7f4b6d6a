// Runs pool-worker.ts from the sources (tests, `tsx` scripts): registers tsx in this worker
// thread, then loads the TypeScript worker. The built package loads dist/pool-worker.js instead.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

// The workspace's tsconfig maps @berth/* to the packages' sources, as the caller's tsx or vitest does.
const tsconfig = fileURLToPath(new URL('../../../../tsconfig.json', import.meta.url));
register(existsSync(tsconfig) ? { tsconfig } : {});
globalThis.__berthTsxRegistered = true;
const worker = await import('./pool-worker.ts');
export default worker.default;
