import { describeScenarioProperty } from './support/scenario-property.js';

// Swarm scenarios on 3 nodes (the 5-node file runs the same property beside it).
describeScenarioProperty({ runs: 700, sizes: [3], file: 'packages/chaos/test/scenarios.prop.test.ts' });
