import { fault } from '../aws-error.js';
import type { OperationHandler, ServiceContext, SimService } from '../service.js';
import type { SimParameter } from '../../world/secret-entities.js';

// The Parameter Store operations the bootstrap, preflight and tests use (SSM-2, SSM-3):
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html

type In = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/** A Name as GetParameter takes it: a name or an ARN, with an optional `:version` selector. */
export function parseParameterRequest(ctx: Pick<ServiceContext, 'partition' | 'region' | 'accountId'>, raw: string): { name: string; version: number | null } {
  let rest = raw;
  const arnPrefix = `arn:${ctx.partition}:ssm:${ctx.region}:${ctx.accountId}:parameter`;
  if (rest.startsWith('arn:')) {
    if (!rest.startsWith(arnPrefix)) throw fault('ValidationException', `Parameter ARN ${raw} is not in this account and Region.`);
    rest = rest.slice(arnPrefix.length);
    if (!rest.slice(1).includes('/')) rest = rest.slice(1);
  }
  const m = /^(.*):(\d+)$/.exec(rest);
  return m ? { name: m[1] as string, version: Number(m[2]) } : { name: rest, version: null };
}

/** The parameter ARN IAM evaluates (no leading `/` after `parameter`). */
export function parameterArn(ctx: Pick<ServiceContext, 'partition' | 'region' | 'accountId'>, name: string): string {
  return `arn:${ctx.partition}:ssm:${ctx.region}:${ctx.accountId}:parameter/${name.replace(/^\//, '')}`;
}

function lookup(ctx: ServiceContext, raw: string): { p: SimParameter; v: SimParameter['versions'][number] } {
  const { name, version } = parseParameterRequest(ctx, raw);
  const p = ctx.sim.state.parameters.get(name);
  if (!p) throw fault('ParameterNotFound', `Parameter ${name} not found.`);
  const v = version === null ? p.versions[p.versions.length - 1] : p.versions.find((x) => x.version === version);
  if (!v) throw fault('ParameterVersionNotFound', `Systems Manager could not find version ${version ?? ''} of ${name}. Verify the version and try again.`);
  return { p, v };
}

function parameterOut(ctx: ServiceContext, p: SimParameter, v: SimParameter['versions'][number], decrypt: boolean): Record<string, unknown> {
  // SSM-2: without WithDecryption a SecureString's value is its ciphertext.
  const value = p.type === 'SecureString' && !decrypt ? Buffer.from(`sim-ciphertext:${p.keyId ?? ''}:${v.version}`).toString('base64') : v.value;
  return { Name: p.name, Type: p.type, Value: value, Version: v.version, LastModifiedDate: new Date(v.atMs), ARN: parameterArn(ctx, p.name), DataType: 'text' };
}

function operations(): Record<string, OperationHandler> {
  return {
    GetParameter(input: In, ctx) {
      const name = str(input['Name']);
      if (name === null) throw fault('ValidationException', "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null");
      const { p, v } = lookup(ctx, name);
      return { Parameter: parameterOut(ctx, p, v, input['WithDecryption'] === true) };
    },

    GetParameters(input: In, ctx) {
      const names = Array.isArray(input['Names']) ? (input['Names'] as unknown[]).filter((n): n is string => typeof n === 'string') : [];
      const found: Record<string, unknown>[] = [];
      const invalid: string[] = [];
      for (const n of names) {
        try {
          const { p, v } = lookup(ctx, n);
          found.push(parameterOut(ctx, p, v, input['WithDecryption'] === true));
        } catch {
          invalid.push(n);
        }
      }
      return { Parameters: found, InvalidParameters: invalid };
    },

    PutParameter(input: In, ctx) {
      const name = str(input['Name']);
      const value = typeof input['Value'] === 'string' ? input['Value'] : null;
      if (name === null || value === null) throw fault('ValidationException', 'Name and Value are required.');
      if (name.startsWith('arn:')) throw fault('ValidationException', "You can't enter the Amazon Resource Name (ARN) for a parameter, only the parameter name itself.");
      if (/^\/?(aws|ssm)/i.test(name)) throw fault('ValidationException', "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive).");
      if (!/^[A-Za-z0-9_.\-/]+$/.test(name) || (name.includes('/') && !name.startsWith('/'))) throw fault('ValidationException', `Parameter name ${name} is not valid.`);
      const existing = ctx.sim.state.parameters.get(name);
      const atMs = ctx.sim.scheduler.nowMs;
      if (existing) {
        if (input['Overwrite'] !== true) throw fault('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
        const version = (existing.versions[existing.versions.length - 1]?.version ?? 0) + 1;
        existing.versions.push({ version, value, atMs });
        if (str(input['KeyId']) !== null) existing.keyId = str(input['KeyId']);
        return { Version: version, Tier: 'Standard' };
      }
      const type = input['Type'] === 'SecureString' || input['Type'] === 'StringList' ? input['Type'] : 'String';
      ctx.sim.state.parameters.set(name, { name, type, keyId: type === 'SecureString' ? (str(input['KeyId']) ?? 'alias/aws/ssm') : null, versions: [{ version: 1, value, atMs }] });
      return { Version: 1, Tier: 'Standard' };
    },

    // The controller's existence check: names and metadata, never values.
    DescribeParameters(input: In, ctx) {
      const filters = Array.isArray(input['ParameterFilters']) ? (input['ParameterFilters'] as { Key?: string; Option?: string; Values?: string[] }[]) : [];
      let list = [...ctx.sim.state.parameters.values()];
      for (const f of filters) {
        if (f.Key !== 'Name') throw fault('InvalidFilterKey', `The simulated DescribeParameters supports the Name filter only, not ${f.Key ?? ''}.`);
        const values = f.Values ?? [];
        const opt = f.Option ?? 'Equals';
        list = list.filter((p) => values.some((v) => (opt === 'BeginsWith' ? p.name.startsWith(v) : p.name === v)));
      }
      return {
        Parameters: list.map((p) => {
          const last = p.versions[p.versions.length - 1];
          return { Name: p.name, ARN: parameterArn(ctx, p.name), Type: p.type, ...(p.keyId !== null && { KeyId: p.keyId }), Version: last?.version, LastModifiedDate: new Date(last?.atMs ?? 0), Tier: 'Standard', DataType: 'text' };
        }),
      };
    },
  };
}

/** The simulated Systems Manager Parameter Store API. */
export function createSsmService(): SimService {
  return { name: 'ssm', operations: operations() };
}
