/**
 * A custom CLI on top of Berth — the kind of tool a platform team builds around the SDK.
 *
 *   tsx examples/berth-cli.ts validate <spec.json>
 *   tsx examples/berth-cli.ts iam-policy <spec.json> [--account 123456789012]
 *   tsx examples/berth-cli.ts init|plan|apply|status|roll <spec.json> [--region eu-west-1] [--endpoint URL --emulator moto] [--max-unavailable 1]
 *
 * `validate` and `iam-policy` make no cloud call. The others talk to AWS through the AWS driver
 * (credentials from the usual AWS SDK chain; `--endpoint` for a local emulator) and run a
 * preflight first: nothing is touched when it finds a problem.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { BerthConfigError, BerthError, createController, defineCluster, formatPlan, type ClusterInput, type ClusterSpec } from '@berth/core';
import { createAwsDriver, createSystemClock, iamPolicyFor } from '@berth/aws-driver';

function loadSpec(file: string): ClusterSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InvalidArgumentError(`cannot read ${file} as JSON: ${(err as Error).message}`);
  }
  return defineCluster(raw as ClusterInput);
}

const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number ≥ 1; got '${v}'.`);
  return n;
};

interface CloudOptions {
  region?: string;
  endpoint?: string;
  emulator?: 'moto';
  changeQueue?: boolean;
}

function driverFor(spec: ClusterSpec, opts: CloudOptions) {
  return createAwsDriver({
    region: opts.region ?? spec.region,
    ...(opts.endpoint && { endpoint: opts.endpoint }),
    ...(opts.emulator && { emulator: opts.emulator }),
    ...(opts.changeQueue && { changeQueue: true }),
  });
}

async function withController(file: string, opts: CloudOptions, run: (c: ReturnType<typeof createController>) => Promise<void>) {
  const spec = loadSpec(file);
  const driver = driverFor(spec, opts);
  try {
    const pre = await driver.preflight(spec);
    if (!pre.ok) {
      console.error(`preflight found ${pre.problems.length} problem(s); nothing was changed:`);
      for (const p of pre.problems) console.error(`  - ${p.path}: ${p.message}`);
      process.exitCode = 2;
      return;
    }
    const controller = createController({ spec, driver, clock: createSystemClock() });
    controller.on('node.replacing', (e) => console.log(`replacing ${e.nodeId} (${e.instanceId})`));
    controller.on('node.replaced', (e) => console.log(`replaced ${e.nodeId}: ${e.oldInstanceId} → ${e.newInstanceId} in ${Math.round(e.durationMs / 1000)} s`));
    controller.on('roll.waiting', (e) => console.log(`waiting: ${e.reason}`));
    await run(controller);
  } finally {
    driver.destroy();
  }
}

const program = new Command('berth-cli').description('Plan, apply and roll a Berth cluster described in a JSON file.').showHelpAfterError();
const cloud = (cmd: Command) =>
  cmd
    .option('--region <region>', "AWS region (default: the spec's)")
    .option('--endpoint <url>', 'AWS endpoint (a local emulator)')
    .option('--emulator <name>', 'the endpoint is this emulator (moto): capabilities it lacks are turned off', (v) => {
      if (v !== 'moto') throw new InvalidArgumentError(`--emulator must be moto; got '${v}'.`);
      return v;
    })
    .option('--change-queue', "wait on Auto Scaling's events (SQS fed by EventBridge) instead of polling; init creates them");

program
  .command('validate <spec>')
  .description('check the spec; lists every problem with its path')
  .action((file: string) => {
    const spec = loadSpec(file);
    console.log(`${file}: cluster ${spec.name}, ${spec.nodes.length} nodes in ${spec.region} — valid`);
  });

program
  .command('iam-policy <spec>')
  .description('print least-privilege IAM policies for the controller and the nodes')
  .option('--account <id>', 'AWS account id to scope ARNs to')
  .action((file: string, opts: { account?: string }) => {
    console.log(JSON.stringify(iamPolicyFor(loadSpec(file), opts.account ? { accountId: opts.account } : {}), null, 2));
  });

cloud(program.command('init <spec>').description('create the DynamoDB lock table (and the change queue with --change-queue)')).action(async (file: string, opts: CloudOptions) => {
  const spec = loadSpec(file);
  const driver = driverFor(spec, opts);
  try {
    await driver.ensureLockTable();
    console.log('lock table ready');
    if (opts.changeQueue) {
      await driver.ensureChangeQueue(spec);
      console.log('change queue ready');
    }
  } finally {
    driver.destroy();
  }
});
cloud(program.command('plan <spec>').description('what apply and roll would do now, as terraform plan shows it'))
  .option('--max-unavailable <n>', 'nodes replaced at once (capped by the quorum tolerance)', positive('--max-unavailable'), 1)
  .option('--json', 'the plan as JSON (ClusterPlan) instead of text')
  .action((file: string, opts: CloudOptions & { maxUnavailable: number; json?: boolean }) =>
    withController(file, opts, async (c) => {
      const p = await c.plan({ maxUnavailable: opts.maxUnavailable });
      if (opts.json) {
        const { observation: _o, apply: _a, roll: _r, ...plan } = p;
        console.log(JSON.stringify(plan, null, 2));
      } else console.log(formatPlan(p));
    }),
  );
cloud(program.command('apply <spec>').description('provision and converge every node')).action((file: string, opts) =>
  withController(file, opts, async (c) => {
    const r = await c.apply();
    for (const n of r.nodes) console.log(`${n.nodeId}: ${n.changes.filter((x) => x.action !== 'unchanged').map((x) => `${x.action} ${x.resource} ${x.id}`).join(', ') || 'unchanged'}`);
  }),
);
cloud(program.command('status <spec>').description('each node and the quorum margin')).action((file: string, opts) =>
  withController(file, opts, async (c) => {
    const s = await c.status();
    for (const n of s.nodes) console.log(`${n.nodeId.padEnd(16)} ${n.state.padEnd(12)} ${n.healthy ? 'healthy' : 'down'}  ${n.outdated ? 'outdated' : 'current'}  ${n.current?.instanceId ?? '-'}`);
    console.log(`quorum: ${s.quorum.healthy}/${s.quorum.size} healthy, margin ${s.quorum.margin}`);
  }),
);
cloud(program.command('roll <spec>').description('replace outdated instances, quorum-safe'))
  .option('--max-unavailable <n>', 'nodes replaced at once (capped by the quorum tolerance)', positive('--max-unavailable'), 1)
  .action((file: string, opts: CloudOptions & { maxUnavailable: number }) =>
    withController(file, opts, async (c) => {
      const ac = new AbortController();
      process.once('SIGINT', () => ac.abort(new Error('interrupted')));
      const r = await c.roll({ maxUnavailable: opts.maxUnavailable, signal: ac.signal });
      console.log(`roll ${r.outcome}: ${r.replacedCount} replaced in ${Math.round(r.durationMs / 1000)} s, ${r.apiCallsTotal} API calls`);
    }),
  );

try {
  await program.parseAsync();
} catch (err) {
  if (err instanceof BerthConfigError || err instanceof InvalidArgumentError) {
    console.error(err.message);
    process.exitCode = 2;
  } else if (err instanceof BerthError) {
    console.error(`${err.code}: ${err.message}`);
    process.exitCode = 1;
  } else throw err;
}
