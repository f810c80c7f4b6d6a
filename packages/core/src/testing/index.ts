export { describeDriverConformance, waitForObservation } from './conformance.js';
export type { ConformanceContext, ConformanceHarness, TestApi } from './conformance.js';
