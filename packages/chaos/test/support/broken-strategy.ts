// A deliberately broken strategy (tests): a user's roll function that replaces every node at
// once. berth-chaos must catch it, and its replay token must replay the failure.
import { simulatedClusterInput } from '@berth/sim-driver';
import { defineStrategy } from '../../src/index.js';
import { mutantRoll } from './mutants.js';

export const strategy = defineStrategy({
  name: 'orders-batch-all',
  cluster: simulatedClusterInput({ nodes: 3, name: 'orders' }),
  roll: mutantRoll({ batchAll: true }),
  faults: { kinds: ['slow-boot'], maxFaults: 1 },
});
