import { describe, expect, it } from 'vitest';
import { formatFailure, runScenario } from '../src/index.js';
import { REPLAYS } from './replay-seeds.js';

describe('replay: scenarios that once failed', () => {
  for (const { name, scenario, situation } of REPLAYS) {
    it(name, async () => {
      const r = await runScenario(scenario, { keepEvidence: true });
      if (!r.ok) throw new Error(formatFailure(scenario, r.violations, `pnpm exec vitest run packages/chaos/test/replay.test.ts -t "${name}"`));
      expect(r.liveness?.outcome).toBeDefined();
      // Still the situation the name says (timings move with the simulation's draws: re-derive if not).
      expect(situation(r), 'this replay no longer plays its situation; re-derive it (packages/chaos/test/replay-seeds.ts)').toBeNull();
    });
  }
});
