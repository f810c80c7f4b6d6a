import type { FisExperimentTemplateInput } from './fis-template.js';

/** FIS experiment states (GetExperiment `state.status`). */
export type FisExperimentStatus = 'pending' | 'initiating' | 'running' | 'completed' | 'stopping' | 'stopped' | 'failed' | 'cancelled';

/** FIS action states within an experiment. */
export type FisActionStatus = 'pending' | 'initiating' | 'running' | 'completed' | 'cancelled' | 'stopping' | 'stopped' | 'failed' | 'skipped';

/** An experiment as a game-day watches it (plain data from GetExperiment). */
export interface FisExperimentView {
  readonly id: string;
  readonly status: FisExperimentStatus;
  /** FIS's reason for the state (e.g. that a stop condition was triggered), or null. */
  readonly reason: string | null;
  readonly actions: Readonly<Record<string, { readonly status: FisActionStatus; readonly reason: string | null }>>;
}

/**
 * What a FIS game-day needs of AWS Fault Injection Service. The AWS driver's `createFisEngine`
 * implements it with the AWS SDK (and checks the stop-condition alarms exist first); chaos
 * depends on no AWS package. Every method may throw the SDK's errors.
 *
 * @example
 * ```ts
 * import { createFisEngine } from '@berth/aws-driver';
 * const engine: FisEngine = createFisEngine({ region: 'eu-west-1' });
 * const { templateId } = await engine.createTemplate(fisExperimentTemplate(plan, { spec, roleArn }));
 * ```
 */
export interface FisEngine {
  readonly name: string;
  /** Creates the template (idempotent on `input.clientToken`). */
  createTemplate(input: FisExperimentTemplateInput, options?: { readonly signal?: AbortSignal }): Promise<{ readonly templateId: string }>;
  startExperiment(templateId: string, options: { readonly clientToken: string; readonly tags: Readonly<Record<string, string>>; readonly signal?: AbortSignal }): Promise<{ readonly experimentId: string }>;
  getExperiment(experimentId: string, options?: { readonly signal?: AbortSignal }): Promise<FisExperimentView>;
  stopExperiment(experimentId: string, options?: { readonly signal?: AbortSignal }): Promise<void>;
}
