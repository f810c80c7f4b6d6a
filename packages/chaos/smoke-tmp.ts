import { explore } from './src/scenario/explore.js';
import { formatFailure } from './src/scenario/replay-command.js';
const t = performance.now();
const s = await explore({ runs: 150, seed: 1 });
console.log(s.runs, s.failures.length, s.livenessOutcomes, 'wall', performance.now() - t);
for (const f of s.failures.slice(0, 6)) console.log(formatFailure(f.scenario, f.violations.slice(0,3), f.replay), '\n');
