import { describe, expect, it } from 'vitest';
import { formatFailure, runScenario } from '../src/index.js';
import { REPLAYS } from './replay-seeds.js';

describe('replay: scenarios that once failed', () => {
  for (const { name, scenario } of REPLAYS) {
    it(name, async () => {
      const r = await runScenario(scenario);
      if (!r.ok) throw new Error(formatFailure(scenario, r.violations, `pnpm exec vitest run packages/chaos/test/replay.test.ts -t "${name}"`));
      expect(r.liveness?.outcome).toBeDefined();
    });
  }
});
