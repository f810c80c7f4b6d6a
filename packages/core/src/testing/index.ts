export { describeDriverConformance, waitForObservation } from './conformance.js';
export type { ConformanceContext, ConformanceHarness, TestApi, TestRunContext } from './conformance.js';
