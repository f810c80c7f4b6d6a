import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceName } from './aws/aws-error.js';
import { cliBackoffMs } from './aws-cli-retry.js';
import { handleCliRequest } from './cli/run-aws-cli.js';
import type { Simulation } from './create-simulation.js';
import { simContext } from './internal.js';

/** One call the bridge answered, for tests to inspect. */
export interface BridgeCall {
  readonly service: string;
  readonly operation: string;
  readonly input: Readonly<Record<string, unknown>>;
  /** The AWS error code, when the call failed. */
  readonly error: string | null;
}

export interface AwsBridge {
  /** `http://127.0.0.1:<port>`: the simulated AWS CLI endpoint and the instance metadata service. */
  readonly url: string;
  /**
   * Environment for a process that should act as the instance: the simulated `aws` on PATH
   * (`binDir`), `BERTH_SIM_AWS_ENDPOINT`, `BERTH_IMDS_ENDPOINT` (the bootstrap's IMDS override)
   * and `BERTH_SLEEP_CMD` (a `sleep` that moves virtual time instead of waiting).
   */
  readonly env: Readonly<Record<string, string>>;
  /** A directory holding `aws` and `virtual-sleep` executables, to put first on PATH. */
  readonly binDir: string;
  readonly calls: readonly BridgeCall[];
  /** The instance metadata service's counters and fault knob (the next `failTokenPuts` token requests answer 503). */
  readonly imds: { failTokenPuts: number; tokenPuts: number; rejectedGets: number };
  close(): Promise<void>;
}

declare const __dirname: string | undefined;

/** `bin/path/` of this package, from src/ (tests), dist/ (ESM) or dist/ (CJS, where import.meta is empty). */
function binDir(): string {
  if (typeof __dirname === 'string') return join(__dirname, '..', 'bin', 'path');
  return fileURLToPath(new URL('../bin/path/', import.meta.url));
}

/**
 * Serves the simulated AWS to real processes running "on" one simulated instance — the real
 * node bootstrap script, say: each `aws <service> <operation>` the process runs is parsed and
 * formatted as the AWS CLI does and answered by the simulated account with that instance's
 * role credentials (IAM evaluated with its policy), the instance metadata service answers for
 * that instance, and `sleep N` moves virtual time by N seconds. Calls are answered one at a
 * time, in arrival order. Loopback only.
 *
 * Use it between `sim.run` calls (the bridge drives the simulation's clock itself):
 * ```ts
 * const bridge = await startAwsBridge(sim, { instanceId });
 * await execFileAsync('bash', [script], { env: { ...process.env, ...bridge.env, PATH: `${bridge.binDir}:${process.env.PATH}` } });
 * await bridge.close();
 * ```
 */
export async function startAwsBridge(sim: Simulation, options: { readonly instanceId: string }): Promise<AwsBridge> {
  const ctx = simContext(sim);
  await sim.run(async () => undefined); // loads the IAM evaluator
  const calls: BridgeCall[] = [];
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };
  const instance = () => {
    const inst = ctx.state.instances.get(options.instanceId);
    if (!inst) throw new Error(`no simulated instance ${options.instanceId}`);
    return inst;
  };

  const invoke = async (req: { service: string; operation: string; input: Record<string, unknown> }): Promise<Record<string, unknown>> => {
    const inst = instance();
    if (req.service === 'sts' && req.operation === 'GetCallerIdentity') {
      const caller = ctx.iam.instanceCaller(inst);
      if (!caller) throw Object.assign(new Error('Unable to locate credentials'), { name: 'NoCredentials' });
      return { UserId: `AROA:${inst.id}`, Account: ctx.account.accountId, Arn: caller.principalArn };
    }
    const caller = ctx.iam.instanceCaller(inst);
    if (!caller) throw Object.assign(new Error('Unable to locate credentials. You can configure credentials by running "aws configure".'), { name: 'NoCredentials' });
    try {
      const out = (await serial(() => ctx.scheduler.drive(ctx.gateway.request(caller, req.service as ServiceName, req.operation, req.input)))) as Record<string, unknown>;
      calls.push({ service: req.service, operation: req.operation, input: req.input, error: null });
      const { $metadata: _m, ...rest } = out;
      return rest;
    } catch (e) {
      calls.push({ service: req.service, operation: req.operation, input: req.input, error: (e as { name?: string }).name ?? 'Error' });
      throw e;
    }
  };

  // The AWS CLI's wait between attempts (standard retry mode), in virtual time.
  const backoff = (attempt: number): Promise<void> => serial(() => ctx.scheduler.advanceBy(cliBackoffMs(attempt, ctx.rng.cli)));

  const token = `sim-imds-token-${options.instanceId}`;
  const imdsState = { failTokenPuts: 0, tokenPuts: 0, rejectedGets: 0 };
  const imds = (req: IncomingMessage, res: ServerResponse, path: string): void => {
    const inst = instance();
    if (req.method === 'PUT' && path === '/latest/api/token') {
      imdsState.tokenPuts++;
      if (imdsState.failTokenPuts > 0) {
        imdsState.failTokenPuts--;
        return void res.writeHead(503).end();
      }
      if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return void res.writeHead(400).end();
      return void res.writeHead(200).end(token);
    }
    if (inst.metadataOptions.httpTokens === 'required' && req.headers['x-aws-ec2-metadata-token'] !== token) {
      imdsState.rejectedGets++;
      return void res.writeHead(401).end();
    }
    const meta: Record<string, string> = {
      '/latest/meta-data/instance-id': inst.id,
      '/latest/meta-data/placement/availability-zone': inst.az,
      '/latest/meta-data/placement/region': ctx.account.region,
      '/latest/meta-data/local-ipv4': inst.privateIp ?? '',
      '/latest/meta-data/ami-id': inst.imageId,
      '/latest/meta-data/instance-type': inst.instanceType,
    };
    const body = meta[path];
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    if (path.startsWith('/latest/')) return imds(req, res, path);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      const reply = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (req.method === 'POST' && path === '/cli') {
        handleCliRequest(body as never, invoke, { backoff }).then((r) => reply(200, r), (e: unknown) => reply(500, { error: String(e) }));
        return;
      }
      if (req.method === 'POST' && path === '/sleep') {
        const seconds = Number(body['seconds']);
        if (!Number.isFinite(seconds) || seconds < 0) return reply(400, { error: 'seconds must be a number ≥ 0' });
        serial(() => ctx.scheduler.advanceBy(seconds * 1000)).then(() => reply(200, { nowMs: ctx.scheduler.nowMs }), (e: unknown) => reply(500, { error: String(e) }));
        return;
      }
      reply(404, { error: `no route ${req.method} ${path}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    binDir: binDir(),
    env: Object.freeze({ BERTH_SIM_AWS_ENDPOINT: url, BERTH_IMDS_ENDPOINT: url, BERTH_SLEEP_CMD: 'virtual-sleep', AWS_REGION: ctx.account.region, AWS_DEFAULT_REGION: ctx.account.region }),
    calls,
    imds: imdsState,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
