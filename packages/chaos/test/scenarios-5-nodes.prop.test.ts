import { describeScenarioProperty } from './support/scenario-property.js';

// Swarm scenarios on 5 nodes (the 3-node file runs the same property beside it).
describeScenarioProperty({ runs: 260, sizes: [5], file: 'packages/chaos/test/scenarios-5-nodes.prop.test.ts' });
