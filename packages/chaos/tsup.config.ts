import type { Options } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

// The library, the pool's worker (loaded by explorePool from dist) and the berth-chaos bin (package.json "bin": dist/berth-chaos.js). Declarations are
// the library's only: the bin has no API.
const base = packageBuild({ index: 'src/index.ts', 'berth-chaos': 'bin/berth-chaos.ts', 'pool-worker': 'src/pool/pool-worker.ts' }) as Options;
const options: Options = { ...base, dts: { ...(base.dts as object), entry: { index: 'src/index.ts' } } };
export default options;
