import { createAwsDriver, type AwsDriver } from '@berth/aws-driver';
import { createPrng, type Clock, type ClusterHooks, type Prng } from '@berth/core';
import { SimAccount } from './account.js';
import { AgentHost } from './agent.js';
import { QuorumApp, type AppStatus } from './app.js';
import { createSimClients, simSecretClients, type SimAwsClients } from './aws/clients.js';
import { AwsGateway, type ApiCallListener } from './aws/gateway.js';
import { AUTHORIZERS } from './aws/iam/authorizers.js';
import type { IamEvaluator } from './aws/iam/iam-decision.js';
import { loadIamSimulateEvaluator } from './aws/iam/iam-simulate-evaluator.js';
import { memoizeEvaluator } from './aws/iam/memo-evaluator.js';
import { SimIam } from './aws/iam/sim-iam.js';
import { createAutoScalingService } from './aws/services/autoscaling.js';
import { SimDynamoDb } from './aws/services/dynamodb.js';
import { createEc2Service } from './aws/services/ec2.js';
import { createS3Service } from './aws/services/s3.js';
import { SimCloudWatch } from './aws/services/cloudwatch.js';
import { SimFis } from './aws/services/fis.js';
import { createSsmService } from './aws/services/ssm.js';
import { createElbv2Service } from './aws/services/elbv2.js';
import { SimEventBridge } from './aws/services/eventbridge.js';
import { createRoute53Service } from './aws/services/route53.js';
import { SimSqs } from './aws/services/sqs.js';
import { FaultState } from './fault-state.js';
import { createFaults, type SimFaults } from './faults.js';
import { registerContext } from './internal.js';
import { traceLeases } from './lease-trace.js';
import { resolveSimOptions, type ResolvedSimOptions, type SimulationOptions } from './options.js';
import { withPreparedAccount } from './prepared-driver.js';
import { Scheduler, type RunOptions } from './scheduler.js';
import { SimClock } from './sim-clock.js';
import { STREAMS, type SimContext, type StreamName } from './sim-context.js';
import { createSimHooks } from './sim-hooks.js';
import { SimWorld } from './sim-world.js';
import { TraceRecorder, type TraceEntry, type TraceListener } from './trace.js';
import { AutoScaling } from './world/autoscaling.js';
import { Ec2 } from './world/ec2.js';
import { Elbv2 } from './world/elbv2.js';
import { LaunchTemplates } from './world/launch-templates.js';
import { Route53 } from './world/route53.js';
import { WorldState } from './world/world-state.js';

/** The simulated quorum application, as tests and invariant checkers see it. */
export interface SimApp {
  status(): AppStatus;
  /** Who leads now (null during an election). */
  leaderId(): string | null;
  /** A leader with a quorum of healthy members. */
  available(): boolean;
  /** Available, and every up member caught up. */
  clusterHealthy(): boolean;
  /** Makes the leader step down (a new election among the others); false when `nodeId` does not lead. */
  stepDown(nodeId: string): boolean;
}

export interface Simulation {
  readonly seed: number;
  /** Resolved options (profile timings, limits...), frozen and printable. */
  readonly options: ResolvedSimOptions;
  /**
   * The production AWS driver (`createAwsDriver` from `@berth/aws-driver`) over the simulated
   * clients `sim.aws`, with the simulation's clock. Before a call about a spec it prepares the
   * account for it (unless `account: 'manual'`).
   */
  readonly driver: AwsDriver;
  /**
   * Simulated AWS SDK v3 clients, calling as the controller's role. Point your own SDK code at
   * them (hooks, tooling): `await sim.aws.ec2.send(new DescribeInstancesCommand({...}))`.
   */
  readonly aws: SimAwsClients;
  /**
   * Simulated clients that call as another role of the account (its policies set with
   * `sim.account.setRolePolicies(role, ...)`): an operator's admin role, a hook's own role.
   */
  awsAs(roleName: string): SimAwsClients;
  /** The simulated account: what exists before Berth runs, and the IAM policies of its roles. */
  readonly account: SimAccount;
  readonly clock: Clock;
  /** Every state change, in order. */
  readonly trace: readonly TraceEntry[];
  readonly world: SimWorld;
  readonly faults: SimFaults;
  readonly app: SimApp;
  readonly hooks: ClusterHooks;
  /** Runs `fn` under virtual time and returns (or throws) what it does. Loads the IAM evaluator first. */
  run<T>(fn: () => T | Promise<T>, options?: RunOptions): Promise<T>;
  /**
   * Waits (under `run`) until `predicate()` holds, checking it now and then every `everyMs` of
   * virtual time, for at most `timeoutMs` (default: no limit); resolves true when it held, false
   * at the timeout. Same instants and same trace as a loop of `sim.clock.sleep(everyMs)`, but the
   * checks run inside the world's events: the caller wakes once, not once per check.
   *
   * @example
   * ```ts
   * await sim.run(async () => {
   *   await sim.driver.ensureNode(spec, 'n1');
   *   const healthy = await sim.waitUntil(() => sim.app.clusterHealthy(), { everyMs: 1_000, timeoutMs: 3_600_000 });
   * });
   * ```
   */
  waitUntil(predicate: () => boolean, options: { readonly everyMs: number; readonly timeoutMs?: number }): Promise<boolean>;
  /** Called with every new trace entry (e.g. continuous invariant checks). Returns an unsubscribe. */
  onTrace(listener: TraceListener): () => void;
  /**
   * Called with every request the simulated account answers — the driver's, the bootstraps'
   * (instance role), `sim.aws`'s — with its input, caller and error code. Returns an unsubscribe.
   */
  onApiCall(listener: ApiCallListener): () => void;
}

/** One evaluator per process: its memo is shared by every simulation (decisions depend only on their inputs). */
let sharedEvaluator: Promise<IamEvaluator> | null = null;

/** The process-wide memoised IAM evaluator over `@cloud-copilot/iam-simulate` (loaded once). */
export function defaultIamEvaluator(): Promise<IamEvaluator> {
  if (sharedEvaluator === null) {
    const p = loadIamSimulateEvaluator().then((e: IamEvaluator) => memoizeEvaluator(e));
    p.catch(() => {
      // Not installed (or failed to load): the next simulation tries again and says why.
      sharedEvaluator = null;
    });
    sharedEvaluator = p;
  }
  return sharedEvaluator;
}

function partitionOf(region: string): string {
  return region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
}

/**
 * Creates a deterministic simulation of the AWS account Berth runs in — EC2, EBS, Auto
 * Scaling, Route 53, DynamoDB, SQS and EventBridge answering the SDK commands the production
 * AWS driver sends, with IAM evaluated on every call — plus the node bootstrap as it runs on
 * each instance and a quorum application. One seed gives one run, bit for bit.
 *
 * @example
 * ```ts
 * import { defineCluster } from '@berth/core';
 * import { createSimulation, simulatedClusterInput } from '@berth/sim-driver';
 *
 * const sim = createSimulation({ seed: 42, profile: 'realistic' });
 * const spec = defineCluster(simulatedClusterInput({ nodes: 5 }));
 * await sim.run(async () => {
 *   for (const node of spec.nodes) await sim.driver.ensureNode(spec, node.id);
 *   while (!sim.app.clusterHealthy()) await sim.clock.sleep(10_000);
 * });
 * console.log(`seed ${sim.seed}: healthy after ${sim.world.elapsedMs} ms`, sim.driver.apiCallCounts());
 * ```
 */
export function createSimulation(options: SimulationOptions = {}): Simulation {
  const resolved = resolveSimOptions(options);
  const scheduler = new Scheduler(resolved.startTimeMs, resolved.maxVirtualMs);
  const trace = new TraceRecorder(() => scheduler.nowMs);
  const root = createPrng(resolved.seed);
  const rng = Object.fromEntries(STREAMS.map((s) => [s, root.derive(s)])) as Record<StreamName, Prng>;
  const account = { accountId: resolved.accountId, region: resolved.region, partition: partitionOf(resolved.region) };
  const ctx = { options: resolved, account, scheduler, trace, rng, state: new WorldState(), faults: new FaultState() } as Partial<Record<keyof SimContext, unknown>>;
  const c = ctx as unknown as SimContext;
  const iam = new SimIam(account);
  iam.now = () => scheduler.nowMs;
  Object.assign(ctx, {
    iam,
    ec2: new Ec2(c),
    launchTemplates: new LaunchTemplates(c),
    asg: new AutoScaling(c),
    route53: new Route53(c),
    elbv2: new Elbv2(c),
    dynamodb: new SimDynamoDb(c),
    sqs: new SimSqs(c),
    events: new SimEventBridge(c),
    app: new QuorumApp(c),
    agents: new AgentHost(c),
  });
  const cloudWatch = new SimCloudWatch(c);
  const fis = new SimFis(c, cloudWatch);
  ctx.gateway = new AwsGateway(
    c,
    {
      ec2: createEc2Service(),
      autoscaling: createAutoScalingService(),
      route53: createRoute53Service(),
      dynamodb: c.dynamodb.service,
      sqs: c.sqs.service,
      events: c.events.service,
      elasticloadbalancing: createElbv2Service(),
      ssm: createSsmService(),
      s3: createS3Service(),
      fis: fis.service,
      cloudwatch: cloudWatch.service,
    },
    AUTHORIZERS,
  );
  const clock = new SimClock(scheduler);
  const aws = createSimClients(c.gateway, () => iam.controllerCaller());
  const awsDriver = createAwsDriver({
    region: resolved.region,
    // SSM and S3 through the simulated account too (preflight's file-source check), never a real endpoint.
    clients: { ...aws, ...simSecretClients(c.gateway, () => iam.controllerCaller()) },
    clock,
    changeQueue: resolved.changeQueue,
    // Spot instances (the `spot` option): the driver listens for EC2's interruption warnings.
    capabilities: { spot: resolved.spot !== false },
  });
  traceLeases(c, awsDriver.config.lockTable);
  const simAccount = new SimAccount(c, (spec, o) => awsDriver.iamPolicyFor(spec, o), awsDriver.config.lockTable);
  const driver = resolved.account === 'auto' ? withPreparedAccount(awsDriver, simAccount) : awsDriver;

  let iamReady: Promise<void> | null = null;
  const ensureIam = (): Promise<void> => {
    if (iamReady) return iamReady;
    if (resolved.iam === 'off') iamReady = Promise.resolve();
    else if (resolved.iam === 'custom') {
      iam.evaluator = options.iam as IamEvaluator;
      iamReady = Promise.resolve();
    } else {
      iamReady = defaultIamEvaluator().then((e) => {
        iam.evaluator = e;
      });
    }
    return iamReady;
  };

  const app: SimApp = {
    status: () => c.app.status(),
    leaderId: () => c.app.leaderId,
    available: () => c.app.available(),
    clusterHealthy: () => c.app.clusterHealthy(),
    stepDown: (nodeId) => c.app.stepDown(nodeId),
  };
  trace.record('sim.started', { seed: resolved.seed, profile: resolved.profile, iam: resolved.iam });
  const sim: Simulation = {
    seed: resolved.seed,
    options: resolved,
    driver,
    aws,
    awsAs: (roleName) => {
      iam.ensureRole(roleName);
      return createSimClients(c.gateway, () => iam.roleCaller(roleName));
    },
    account: simAccount,
    clock,
    trace: trace.entries,
    world: new SimWorld(c, awsDriver.config.lockTable),
    faults: createFaults(c),
    app,
    hooks: createSimHooks(c),
    run: async (fn, runOptions) => {
      await ensureIam();
      return scheduler.run(fn, runOptions);
    },
    waitUntil: (predicate, o) => {
      if (!(o.everyMs > 0)) throw new RangeError(`waitUntil: everyMs must be a positive number of milliseconds (got ${String(o.everyMs)})`);
      return scheduler.pollUntil(predicate, o.everyMs, scheduler.nowMs + (o.timeoutMs ?? Infinity), 'waitUntil');
    },
    onTrace: (l) => trace.subscribe(l),
    onApiCall: (l) => c.gateway.onApiCall(l),
  };
  registerContext(sim, c);
  return sim;
}
