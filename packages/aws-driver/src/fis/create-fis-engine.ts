import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { CreateExperimentTemplateCommand, FisClient, GetExperimentCommand, StartExperimentCommand, StopExperimentCommand } from '@aws-sdk/client-fis';

// The AWS FIS side of a game-day (docs/game-days.md). Types are declared here structurally
// (plain data): @berth/chaos's FisEngine is satisfied without aws-driver depending on chaos.

/** A client with the SDK's `send` (a real client, or a simulated one). */
export interface SendClient {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any>;
}

/** The CreateExperimentTemplate input (what chaos's `fisExperimentTemplate` builds). */
export interface FisTemplateRequest {
  readonly clientToken: string;
  readonly description: string;
  readonly roleArn: string;
  readonly targets: Readonly<Record<string, { readonly resourceType: string; readonly resourceArns?: readonly string[]; readonly resourceTags?: Readonly<Record<string, string>>; readonly filters?: readonly { readonly path: string; readonly values: readonly string[] }[]; readonly selectionMode: string }>>;
  readonly actions: Readonly<Record<string, { readonly actionId: string; readonly description?: string; readonly parameters?: Readonly<Record<string, string>>; readonly startAfter?: readonly string[]; readonly targets?: Readonly<Record<string, string>> }>>;
  readonly stopConditions: readonly { readonly source: string; readonly value?: string }[];
  readonly tags: Readonly<Record<string, string>>;
}

/** The states of a FIS experiment (FIS API `ExperimentStatus`). */
export type FisExperimentStatusName = 'pending' | 'initiating' | 'running' | 'completed' | 'stopping' | 'stopped' | 'failed' | 'cancelled';
/** The states of one action of a FIS experiment (FIS API `ExperimentActionStatus`). */
export type FisActionStatusName = 'pending' | 'initiating' | 'running' | 'completed' | 'cancelled' | 'stopping' | 'stopped' | 'failed' | 'skipped';

/** An experiment as `GetExperiment` describes it: its status, the reason, and each action's status. */
export interface FisExperimentState {
  readonly id: string;
  readonly status: FisExperimentStatusName;
  readonly reason: string | null;
  readonly actions: Readonly<Record<string, { readonly status: FisActionStatusName; readonly reason: string | null }>>;
}

/** Options of `createFisEngine`: the region, a local endpoint (moto), or clients of your own (the simulator's `sim.aws.fis` / `sim.aws.cloudWatch`). */
export interface FisEngineOptions {
  readonly region?: string;
  /** A custom endpoint for both clients (a local emulator: `http://127.0.0.1:5000`). Default: AWS's. */
  readonly endpoint?: string;
  /** Default: clients for `region` (the SDK's default credentials). */
  readonly clients?: { readonly fis?: SendClient; readonly cloudWatch?: SendClient };
}

/** Why the FIS engine refused: a stop-condition alarm CloudWatch does not have, or an answer FIS should not give. */
export type FisEngineErrorCode = 'ALARM_NOT_FOUND' | 'BAD_RESPONSE';

/**
 * A FIS game-day cannot go on (a stop-condition alarm missing, an answer without an id).
 *
 * @example
 * ```ts
 * await engine.createTemplate(input).catch((e) => { if (e instanceof FisEngineError && e.code === 'ALARM_NOT_FOUND') createAlarm(); });
 * ```
 */
export class FisEngineError extends Error {
  readonly code: FisEngineErrorCode;
  constructor(code: FisEngineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FisEngineError';
    this.code = code;
  }
}

/** The FIS engine a game-day runs through (structurally @berth/chaos's `FisEngine`). */
export interface AwsFisEngine {
  readonly name: string;
  createTemplate(input: FisTemplateRequest, options?: { readonly signal?: AbortSignal }): Promise<{ readonly templateId: string }>;
  startExperiment(templateId: string, options: { readonly clientToken: string; readonly tags: Readonly<Record<string, string>>; readonly signal?: AbortSignal }): Promise<{ readonly experimentId: string }>;
  getExperiment(experimentId: string, options?: { readonly signal?: AbortSignal }): Promise<FisExperimentState>;
  stopExperiment(experimentId: string, options?: { readonly signal?: AbortSignal }): Promise<void>;
}

/** `name` of an alarm ARN (`arn:aws:cloudwatch:<region>:<account>:alarm:<name>`). */
function alarmName(arn: string): string {
  return arn.slice(arn.indexOf(':alarm:') + ':alarm:'.length);
}

/**
 * AWS Fault Injection Service for game-days (`runGameDay(plan, { fis: { engine, ... } })`).
 * `createTemplate` first checks with CloudWatch DescribeAlarms that every stop-condition alarm
 * exists (FIS would take the template and only fail the experiment at start, CW-2), then creates
 * the template with the input's `clientToken` (a retry returns the same template, FIS-7) and its
 * `berth:game-day` tag. `getExperiment` reads the state FIS reports; `stopExperiment` asks FIS
 * to stop (FIS rolls its actions back: network ACLs restored, API faults lifted).
 *
 * Permissions: `fisCallerPolicy` (the caller) and `fisExperimentRolePolicy` (the experiment role).
 *
 * @example
 * ```ts
 * const engine = createFisEngine({ region: 'eu-west-1' });
 * // or on a local emulator: createFisEngine({ region: 'us-east-1', endpoint: 'http://127.0.0.1:5000' })
 * const report = await runGameDay(plan, { spec, driver, clock, injector, fis: { engine, roleArn, stopAlarmArns } });
 * ```
 */
export function createFisEngine(options: FisEngineOptions = {}): AwsFisEngine {
  const { region, endpoint } = options;
  const config = { ...(region && { region }), ...(endpoint && { endpoint }) };
  const fis: SendClient = options.clients?.fis ?? new FisClient(config);
  const cw: SendClient = options.clients?.cloudWatch ?? new CloudWatchClient(config);
  return {
    name: 'aws-fis',
    async createTemplate(input, o = {}) {
      const alarms = input.stopConditions.filter((s) => s.source === 'aws:cloudwatch:alarm').map((s) => s.value ?? '');
      if (alarms.length > 0) {
        const names = alarms.map(alarmName);
        const r = await cw.send(new DescribeAlarmsCommand({ AlarmNames: names, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }), { abortSignal: o.signal });
        const found = new Set<string>([...(r.MetricAlarms ?? []), ...(r.CompositeAlarms ?? [])].map((a: { AlarmArn?: string }) => a.AlarmArn ?? ''));
        const missing = alarms.filter((a) => !found.has(a));
        if (missing.length > 0) throw new FisEngineError('ALARM_NOT_FOUND', `stopAlarmArns: CloudWatch has no alarm ${missing.join(', ')}; create it (PutMetricAlarm) or drop it from the stop conditions`);
      }
      const r = await fis.send(
        new CreateExperimentTemplateCommand({
          clientToken: input.clientToken,
          description: input.description,
          roleArn: input.roleArn,
          stopConditions: input.stopConditions.map((s) => ({ ...s })),
          targets: Object.fromEntries(Object.entries(input.targets).map(([k, t]) => [k, { ...t, resourceArns: t.resourceArns && [...t.resourceArns], filters: t.filters?.map((f) => ({ path: f.path, values: [...f.values] })) }])),
          actions: Object.fromEntries(Object.entries(input.actions).map(([k, a]) => [k, { ...a, startAfter: a.startAfter && [...a.startAfter] }])),
          tags: { ...input.tags },
        }),
        { abortSignal: o.signal },
      );
      const id = r.experimentTemplate?.id;
      if (typeof id !== 'string') throw new FisEngineError('BAD_RESPONSE', 'CreateExperimentTemplate returned no template id');
      return { templateId: id };
    },
    async startExperiment(templateId, o) {
      const r = await fis.send(new StartExperimentCommand({ experimentTemplateId: templateId, clientToken: o.clientToken, tags: { ...o.tags } }), { abortSignal: o.signal });
      const id = r.experiment?.id;
      if (typeof id !== 'string') throw new FisEngineError('BAD_RESPONSE', 'StartExperiment returned no experiment id');
      return { experimentId: id };
    },
    async getExperiment(experimentId, o = {}) {
      const r = await fis.send(new GetExperimentCommand({ id: experimentId }), { abortSignal: o.signal });
      const x = r.experiment ?? {};
      const actions: Record<string, { status: FisActionStatusName; reason: string | null }> = {};
      for (const [k, a] of Object.entries((x.actions ?? {}) as Record<string, { state?: { status?: string; reason?: string } }>)) {
        actions[k] = { status: (a.state?.status ?? 'pending') as FisActionStatusName, reason: a.state?.reason ?? null };
      }
      return { id: experimentId, status: (x.state?.status ?? 'pending') as FisExperimentStatusName, reason: x.state?.reason ?? null, actions };
    },
    async stopExperiment(experimentId, o = {}) {
      await fis.send(new StopExperimentCommand({ id: experimentId }), { abortSignal: o.signal });
    },
  };
}
