/**
 * Where a command runs: AWS through the AWS driver, or (`--sim`) a fresh simulated AWS account
 * from @berth/sim-driver, whose `sim.driver` is the same production AWS driver over simulated
 * clients, in virtual time.
 */
import { hostname } from 'node:os';
import { createController, formatDuration, type Clock, type ClusterSpec, type Phase, type RollHooks } from '@berth/core';
import type * as Ssm from '@aws-sdk/client-ssm';
import type { AwsDriver, AwsFisEngine } from '@berth/aws-driver';
import type { Simulation } from '@berth/sim-driver';
import { FisUnavailableError } from './cli-errors.js';

export interface CloudOptions {
  readonly region: string | null;
  readonly endpoint: string | null;
  readonly emulator: 'moto' | null;
  readonly changeQueue: boolean;
  readonly sim: boolean;
  /** A spec file, `empty`, or null (the command's own spec). */
  readonly simFrom: string | null;
  readonly simSeed: number;
  readonly simProfile: 'realistic' | 'fast';
  readonly simBadImage: Phase | null;
  readonly quiet: boolean;
}

export interface Target {
  readonly driver: AwsDriver;
  readonly clock: Clock;
  /** The holder id the CLI's controller takes the lock as. */
  readonly holderId: string;
  /** In a simulation, the simulated application's hooks (leader, health); none on AWS. */
  readonly hooks: RollHooks | undefined;
  /** Runs a command's work: directly on AWS, under virtual time in a simulation. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** What it is, for reports: `AWS eu-west-1`, `simulator (seed 42, fast profile)`. */
  readonly label: string;
  /**
   * The value of an SSM parameter (GetParameter, decrypted): a game-day's kill switch. On AWS an
   * SSM client of its own (the region and endpoint of the driver); in a simulation, the
   * simulated account's SSM.
   */
  readParameter(name: string, signal?: AbortSignal): Promise<string>;
  /**
   * The AWS FIS engine of `gameday --engine fis` (no call is made until the game-day uses it).
   * On AWS, FIS and CloudWatch clients of the driver's region and endpoint; in a simulation, the
   * simulated account's FIS and CloudWatch, and — with `grant` (a run, inside `run`) — the
   * account set up as docs/cli.md asks of yours: the controller role gets `fisCallerPolicy`, the
   * experiment role `fisExperimentRolePolicy` for the template's actions. `accountId`: the
   * account the cluster's resources live in (null: the experiment role's).
   */
  fis(grant: FisGrant | null): { readonly engine: AwsFisEngine; readonly accountId: string | null };
  /** While this promise is pending, a simulation's virtual time stands still (an open prompt). */
  holdTime(wait: () => Promise<void> | null): void;
  destroy(): void;
}

/** What a FIS game-day's roles may do: the experiment role, the template's actions, the role API faults hit. */
export interface FisGrant {
  readonly clusterName: string;
  readonly roleArn: string;
  readonly actionIds: readonly string[];
  readonly apiRoleArn: string | null;
}

export interface SimSetup {
  /** What the simulated account runs before the command: a spec (provisioned and healthy) or nothing. */
  readonly from: ClusterSpec | null;
  /** Test seam: called with the simulation once its cluster is up, before the command runs. */
  readonly onSimulation?: ((sim: Simulation, spec: ClusterSpec) => void | Promise<void>) | undefined;
  /** Where the simulation's one informational line goes (its seed, what it runs). */
  readonly log: (line: string) => void;
}

type SsmModule = typeof Ssm;
let ssmModule: SsmModule | null = null;
/**
 * Loads the SSM client module; call it before `run` when a command reads parameters: under a
 * simulation's virtual time, loading a module (real I/O) inside `run` would let time race on.
 */
export async function loadSsm(): Promise<SsmModule> {
  ssmModule ??= await import('@aws-sdk/client-ssm');
  return ssmModule;
}
function ssmLoaded(): SsmModule {
  if (!ssmModule) throw new Error('internal: loadSsm() was not awaited before reading a parameter');
  return ssmModule;
}

// The drivers load only when a command needs one: the AWS SDK takes a while to load, and
// --help, --version, validate and usage errors should not wait for it.
export async function awsTarget(spec: ClusterSpec, opts: CloudOptions): Promise<Target> {
  const { createAwsDriver, createSystemClock, createFisEngine } = await import('@berth/aws-driver');
  const region = opts.region ?? spec.region;
  let ssm: { send(c: unknown, o?: { abortSignal?: AbortSignal }): Promise<unknown>; destroy(): void } | null = null;
  const driver = createAwsDriver({
    region,
    ...(opts.endpoint && { endpoint: opts.endpoint }),
    ...(opts.emulator && { emulator: opts.emulator }),
    ...(opts.changeQueue && { changeQueue: true }),
  });
  return {
    driver,
    clock: createSystemClock(),
    holderId: `berth-cli@${hostname()}`,
    hooks: undefined,
    label: `AWS ${region}${opts.endpoint ? ` at ${opts.endpoint}` : ''}`,
    async readParameter(name, signal) {
      const { SSMClient, GetParameterCommand } = ssmLoaded();
      ssm ??= new SSMClient({ region, ...(opts.endpoint && { endpoint: opts.endpoint }) });
      const out = (await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }), { abortSignal: signal })) as { Parameter?: { Value?: string } };
      return out.Parameter?.Value ?? '';
    },
    fis() {
      const engine = createFisEngine({ region, ...(opts.endpoint && { endpoint: opts.endpoint }) });
      if (opts.emulator !== 'moto') return { engine, accountId: null };
      // moto 5.2.1 stores templates but has no experiments: StartExperiment answers with an HTML
      // 404 page the SDK cannot read. Say so, after the template was made.
      return {
        accountId: null,
        engine: {
          ...engine,
          async startExperiment(templateId, o) {
            try {
              return await engine.startExperiment(templateId, o);
            } catch (err) {
              throw new FisUnavailableError(`moto has no FIS experiments (StartExperiment is not implemented in moto 5.2.1): template ${templateId} was created, nothing was injected. Rehearse the run in the simulator (--sim) or run it on AWS.`, { cause: err });
            }
          },
        },
      };
    },
    run: (fn) => fn(),
    holdTime: () => {},
    destroy: () => {
      ssm?.destroy();
      driver.destroy();
    },
  };
}

/** How long the simulated cluster may take to come up before the command gives up. */
const SETUP_LIMIT_MS = 2 * 3_600_000;

/** Adds `ssm:GetParameter` on one parameter to the simulated controller role's policies (once per name). */
function grantKillParameter(sim: Simulation, controllerRole: string, name: string): void {
  const policies = sim.account.rolePolicies(controllerRole);
  const policy = `berth-gameday-kill-${name.replace(/[^\w+=,.@-]/g, '_')}`;
  if (policies[policy]) return;
  const resource = `arn:aws:ssm:${sim.options.region}:${sim.account.accountId}:parameter/${name.replace(/^\//, '')}`;
  sim.account.setRolePolicies(controllerRole, { ...policies, [policy]: { Version: '2012-10-17', Statement: [{ Sid: 'GameDayKillSwitch', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: resource }] } });
}

/** Adds a policy to a simulated role's (replacing one of the same name). */
function addRolePolicy(sim: Simulation, role: string, name: string, doc: unknown): void {
  sim.account.setRolePolicies(role, { ...sim.account.rolePolicies(role), [name]: doc });
}

export async function simTarget(spec: ClusterSpec, opts: CloudOptions, setup: SimSetup): Promise<Target> {
  const { createSimulation, CONTROLLER_ROLE } = await import('@berth/sim-driver');
  const { createFisEngine, fisCallerPolicy, fisExperimentRolePolicy } = await import('@berth/aws-driver');
  const sim = createSimulation({ seed: opts.simSeed, profile: opts.simProfile, region: spec.region, changeQueue: opts.changeQueue });
  let hold: (() => Promise<void> | null) | null = null;
  return {
    driver: sim.driver,
    clock: sim.clock,
    // Fixed, so that one seed gives one run (the holder id seeds the retry jitter).
    holderId: 'berth-cli',
    hooks: sim.hooks,
    label: `simulator (seed ${sim.seed}, ${opts.simProfile} profile, ${spec.region})`,
    async readParameter(name, signal) {
      // The simulated account's SSM (sim.aws.ssm), through the simulated gateway like every other
      // call. The rehearsal's account is set up as docs/cli.md asks of yours: the controller's role
      // may read the kill parameter (and nothing else in SSM).
      grantKillParameter(sim, CONTROLLER_ROLE, name);
      const { GetParameterCommand } = ssmLoaded();
      const out = (await sim.aws.ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }), { abortSignal: signal })) as { Parameter?: { Value?: string } };
      return out.Parameter?.Value ?? '';
    },
    fis(grant) {
      const engine = createFisEngine({ region: spec.region, clients: { fis: sim.aws.fis, cloudWatch: sim.aws.cloudWatch } });
      const accountId = sim.account.accountId;
      if (grant) {
        // The rehearsal's account is set up as docs/cli.md asks of yours, and no more: the
        // controller role may run FIS game-days on this cluster (and pass the experiment role),
        // the experiment role may do what the template's actions do.
        const o = { region: sim.options.region, accountId, clusterName: grant.clusterName, experimentRoleArn: grant.roleArn };
        addRolePolicy(sim, CONTROLLER_ROLE, 'berth-gameday-fis-caller', fisCallerPolicy(o));
        const role = grant.roleArn.slice(grant.roleArn.indexOf(':role/') + ':role/'.length).split('/').pop() as string;
        addRolePolicy(sim, role, 'berth-gameday-fis-experiment', fisExperimentRolePolicy(grant.actionIds, { ...o, ...(grant.apiRoleArn && { apiRoleArns: [grant.apiRoleArn] }) }));
      }
      return { engine, accountId };
    },
    holdTime: (wait) => {
      hold = wait;
    },
    run: (fn) =>
      sim.run(
        async () => {
          const from = setup.from;
          const startMs = sim.clock.now();
          if (from) {
            const provisioner = createController({ spec: from, driver: sim.driver, clock: sim.clock, hooks: sim.hooks, holderId: 'berth-cli-sim-setup' });
            await provisioner.apply();
            while (!((await provisioner.status()).converged && sim.app.clusterHealthy())) {
              if (sim.clock.now() - startMs > SETUP_LIMIT_MS) throw new Error(`the simulated cluster ${from.name} did not come up within ${formatDuration(SETUP_LIMIT_MS)} (seed ${sim.seed})`);
              await sim.clock.sleep(10_000);
            }
          }
          if (opts.simBadImage) sim.faults.markImageBad(spec.image, { phase: opts.simBadImage, reason: `simulated failure (--sim-bad-image ${opts.simBadImage})` });
          setup.log(
            `simulation: seed ${sim.seed}, ${opts.simProfile} profile, region ${spec.region}; ` +
              (from ? `cluster ${from.name} running (${from.nodes.length} nodes, image ${from.image}) after ${formatDuration(sim.clock.now() - startMs)} of virtual time` : 'empty account'),
          );
          await setup.onSimulation?.(sim, spec);
          return fn();
        },
        // Only when a prompt may open: pacing costs an await per step of virtual time.
        hold
          ? {
              pace: async () => {
                const wait = hold?.();
                if (wait) await wait;
              },
            }
          : {},
      ),
    destroy: () => sim.driver.destroy(),
  };
}
