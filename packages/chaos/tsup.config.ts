import { packageBuild } from '../../tsup.base.js';

export default packageBuild({ index: 'src/index.ts', 'pool-worker': 'src/pool/pool-worker.ts' });
