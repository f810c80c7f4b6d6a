// An operation's command-line arguments, as the AWS CLI builds and reads them: one option per
// input member (`--dry-run`/`--no-dry-run` for booleans, lists taking several words), the
// pagination options of paginated commands, `--cli-input-json`; then each value is unpacked
// (JSON, shorthand, scalars) into the request parameters (awscli/clidriver.py, arguments.py,
// argprocess.py, customizations/paginate.py, customizations/cliinput.py).
import { parseKnownArgs } from './argparse.js';
import type { OptionDef } from './argparse.js';
import { CliFailure } from './cli-failure.js';
import type { ErrorMessageStyle } from './cli-failure.js';
import type { OperationSpec } from './operations.js';
import { PyJsonDecodeError, pyJsonLoads } from './py-json.js';
import { PyValueError, pyInt, pyTypeName } from './py-values.js';
import type { Shape } from './shapes.js';
import { ShorthandParseError, coerceShorthand, parseShorthand } from './shorthand.js';
import { xformName } from './xform-name.js';

interface ArgEntry {
  readonly option: OptionDef;
  /** The input member this option sets; absent for CLI-only options. */
  readonly member?: string;
  readonly shape?: Shape;
  readonly role: 'member' | 'starting-token' | 'page-size' | 'max-items' | 'cli-input-json' | 'cli-input-yaml' | 'generate-cli-skeleton';
}

export interface OperationCall {
  /** The request parameters, in the order the CLI builds them. */
  readonly params: Record<string, unknown>;
  /** The CLI's PaginationConfig (MaxItems, PageSize, StartingToken) when given. */
  readonly pagination: { maxItems?: number; pageSize?: number; startingToken?: string };
  /** False when `--no-paginate` or a manual paging member (`--next-token`, `--max-results`) was given. */
  readonly paginate: boolean;
  /** Warnings the CLI prints to stderr before calling. */
  readonly warnings: string[];
}

const pyName = (cliName: string): string => cliName.replaceAll('-', '_');

export function argumentTable(op: OperationSpec): ArgEntry[] {
  const table: ArgEntry[] = [];
  const required = new Set(op.input.required);
  for (const [member, shape] of Object.entries(op.input.members)) {
    const name = xformName(member);
    if (shape.type === 'boolean') {
      table.push({ option: { flag: `--${name}`, dest: pyName(name), nargs: 'none', constValue: true }, member, shape, role: 'member' });
      table.push({ option: { flag: `--no-${name}`, dest: pyName(name), nargs: 'none', constValue: false }, member, shape, role: 'member' });
      continue;
    }
    const convert = shape.type === 'long' ? 'int' : shape.type === 'double' ? 'float' : undefined;
    const option: OptionDef = {
      flag: `--${name}`,
      dest: pyName(name),
      nargs: shape.type === 'list' ? 'any' : 'one',
      required: required.has(member),
      ...(convert === undefined ? {} : { convert }),
    };
    table.push({ option, member, shape, role: 'member' });
  }
  if (op.paginator !== undefined) {
    table.push({ option: { flag: '--starting-token', dest: 'starting_token', nargs: 'one' }, role: 'starting-token' });
    if (op.paginator.limitKey !== undefined) {
      table.push({ option: { flag: '--page-size', dest: 'page_size', nargs: 'one', convert: 'int' }, role: 'page-size' });
    }
    table.push({ option: { flag: '--max-items', dest: 'max_items', nargs: 'one', convert: 'int' }, role: 'max-items' });
  }
  table.push({ option: { flag: '--cli-input-json', dest: 'cli_input_json', nargs: 'one' }, role: 'cli-input-json' });
  table.push({ option: { flag: '--cli-input-yaml', dest: 'cli_input_yaml', nargs: 'one' }, role: 'cli-input-yaml' });
  table.push({
    option: { flag: '--generate-cli-skeleton', dest: 'generate_cli_skeleton', nargs: 'optional', choices: ['input', 'output', 'yaml-input'] },
    role: 'generate-cli-skeleton',
  });
  return table;
}

/** Parses what follows `aws <service> <command>` into the request, or throws the CLI's error. */
export function parseOperationArgs(op: OperationSpec, args: readonly string[], paginateFlag: boolean, style: ErrorMessageStyle): OperationCall {
  let table = argumentTable(op);
  // --cli-input-json on the command line makes every argument optional (OverrideRequiredArgsArgument).
  if (args.includes('--cli-input-json') || args.includes('--cli-input-yaml')) {
    table = table.map((e) => ({ ...e, option: { ...e.option, required: false } }));
  }
  const parsed = parseKnownArgs(
    args,
    table.map((e) => e.option),
    [{ dest: 'help', optional: true }],
    style,
  );
  const values = parsed.values;
  const remaining = [...parsed.extras];
  const help = values.get('help');
  if (help === 'help') throw CliFailure.unsupported(`\`aws ${op.service} ${op.command} help\` is not available in the simulated AWS CLI`);
  if (typeof help === 'string') remaining.push(help);
  if (remaining.length > 0) throw new CliFailure('unknown-options', `Unknown options: ${remaining.join(', ')}`);
  if (values.get('cli_input_yaml') !== undefined) throw CliFailure.unsupported('--cli-input-yaml is not supported by the simulated AWS CLI; use --cli-input-json');
  if (values.has('generate_cli_skeleton')) throw CliFailure.unsupported('--generate-cli-skeleton is not supported by the simulated AWS CLI');

  // Manual paging (an input token or the limit member given) turns automatic pagination off.
  let paginate = paginateFlag;
  if (op.paginator !== undefined) {
    const manual = [...op.paginator.inputToken, ...(op.paginator.limitKey === undefined ? [] : [op.paginator.limitKey])];
    if (manual.some((m) => values.get(pyName(xformName(m))) !== undefined)) paginate = false;
    if (!paginate) {
      const used = ['starting_token', 'page_size', 'max_items'].filter((p) => isTruthy(values.get(p)));
      if (used.length > 0) {
        throw CliFailure.paramValidation(`Cannot specify --no-paginate along with pagination arguments: ${used.map((p) => `--${p.replaceAll('_', '-')}`).join(', ')}`);
      }
    }
  }

  const params: Record<string, unknown> = {};
  const pagination: { maxItems?: number; pageSize?: number; startingToken?: string } = {};
  const warnings: string[] = [];
  let cliInputJson: string | undefined;
  for (const entry of table) {
    const value = values.get(entry.option.dest);
    if (value === undefined || value === null) continue;
    switch (entry.role) {
      case 'member':
        define(params, entry.member as string, unpack(entry, value));
        break;
      case 'starting-token':
        pagination.startingToken = value as string;
        break;
      case 'page-size':
        pagination.pageSize = value as number;
        break;
      case 'max-items':
        if ((value as number) <= 0) warnings.push('warning: Non-positive values for --max-items may result in undefined behavior.\n');
        pagination.maxItems = value as number;
        break;
      case 'cli-input-json':
        cliInputJson = value as string;
        break;
      default:
        break;
    }
  }

  if (cliInputJson !== undefined) {
    rejectParamFile('--cli-input-json', cliInputJson);
    let loaded: unknown;
    try {
      loaded = pyJsonLoads(cliInputJson);
    } catch (e) {
      if (e instanceof PyJsonDecodeError) throw paramError('cli-input-json', 'Invalid JSON received.');
      throw e;
    }
    if (typeof loaded !== 'object' || loaded === null || Array.isArray(loaded)) {
      throw paramError('--cli-input-json', `Invalid type: expecting map, received ${pyTypeName(loaded)}`);
    }
    for (const [k, v] of Object.entries(loaded)) if (!Object.hasOwn(params, k)) define(params, k, v);
  }
  // Paging members in the call (from --cli-input-json too) also mean manual paging.
  if (op.paginator !== undefined) {
    const manual = [...op.paginator.inputToken, ...(op.paginator.limitKey === undefined ? [] : [op.paginator.limitKey])];
    if (manual.some((m) => Object.hasOwn(params, m))) paginate = false;
  }
  if (!paginate && (pagination.maxItems !== undefined || pagination.pageSize !== undefined || pagination.startingToken !== undefined)) {
    // As the CLI does, a PaginationConfig reaches the (non-paginated) call and fails validation.
    define(params, 'PaginationConfig', {
      ...(pagination.startingToken === undefined ? {} : { StartingToken: pagination.startingToken }),
      ...(pagination.pageSize === undefined ? {} : { PageSize: pagination.pageSize }),
      ...(pagination.maxItems === undefined ? {} : { MaxItems: pagination.maxItems }),
    });
  }
  if (paginate && op.paginator !== undefined && isPlainObject(params.PaginationConfig)) {
    // The paginator takes its settings from the call (e.g. a PaginationConfig in --cli-input-json).
    const cfg = params.PaginationConfig;
    if (cfg.MaxItems !== undefined) pagination.maxItems = Number(cfg.MaxItems);
    if (cfg.PageSize !== undefined) pagination.pageSize = Number(cfg.PageSize);
    if (typeof cfg.StartingToken === 'string') pagination.startingToken = cfg.StartingToken;
    delete params.PaginationConfig;
  }
  if (paginate && op.defaultPageSize !== undefined && pagination.pageSize === undefined) {
    const allowed = new Set([...op.defaultPageSize.allowedMembers, 'NextToken', 'DryRun', 'PaginationConfig']);
    if (Object.keys(params).every((k) => allowed.has(k))) pagination.pageSize = op.defaultPageSize.size;
  }
  return { params, pagination, paginate, warnings };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isTruthy(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '' && v !== 0 && v !== false;
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function paramError(cliName: string, message: string): CliFailure {
  return CliFailure.paramValidation(`Error parsing parameter '${cliName}': ${message}`);
}

// The real CLI reads file:// and fileb:// values from the caller's disk; the simulation runs
// elsewhere and refuses them instead of guessing.
function rejectParamFile(cliName: string, value: unknown): void {
  const v = Array.isArray(value) && value.length === 1 ? value[0] : value;
  if (typeof v === 'string' && (v.startsWith('file://') || v.startsWith('fileb://'))) {
    throw CliFailure.unsupported(`${cliName}: file:// and fileb:// values are not supported by the simulated AWS CLI; pass the value inline`);
  }
}

function supportsShorthand(shape: Shape): boolean {
  if (shape.type === 'structure' || shape.type === 'map') return true;
  return shape.type === 'list' && (shape.member.type === 'structure' || shape.member.type === 'list' || shape.member.type === 'map');
}

function unpack(entry: ArgEntry, value: unknown): unknown {
  const shape = entry.shape as Shape;
  const cliName = entry.option.flag;
  if (typeof value === 'boolean') return value;
  rejectParamFile(cliName, value);
  const first = Array.isArray(value) ? value[0] : value;
  const looksLikeJson = typeof first === 'string' && /^[[{]/u.test(first.trim());
  if (supportsShorthand(shape) && !looksLikeJson) return unpackShorthand(shape, value, cliName);
  try {
    return unpackDefault(shape, value, cliName);
  } catch (e) {
    if (e instanceof PyValueError) throw CliFailure.general(e.message, e);
    throw e;
  }
}

function unpackShorthand(shape: Shape, value: unknown, cliName: string): unknown {
  try {
    if (shape.type === 'structure' && !Array.isArray(value)) {
      const only = Object.entries(shape.members);
      if (only.length === 1 && only[0]?.[0] === 'Value' && only[0][1].type === 'string' && !(value as string).includes('=')) {
        return { Value: value };
      }
    }
    const parsed = Array.isArray(value) ? value.map((v) => parseShorthand(v as string)) : parseShorthand(value as string);
    return coerceShorthand(parsed, shape);
  } catch (e) {
    if (e instanceof ShorthandParseError) throw paramError(cliName, e.message);
    if (e instanceof PyValueError) throw CliFailure.general(e.message, e);
    throw e;
  }
}

function loadJson(value: string, cliName: string): unknown {
  try {
    return pyJsonLoads(value);
  } catch (e) {
    if (e instanceof PyJsonDecodeError) throw paramError(cliName, `Invalid JSON: ${e.message}\nJSON received: ${value}`);
    throw e;
  }
}

function unpackDefault(shape: Shape, value: unknown, cliName: string): unknown {
  switch (shape.type) {
    case 'integer':
    case 'long':
      return typeof value === 'number' ? value : pyInt(value as string);
    case 'double':
      return typeof value === 'number' ? value : Number(value);
    case 'boolean':
      return typeof value === 'string' ? value.toLowerCase() !== 'false' && value !== '' : Boolean(value);
    case 'string':
    case 'timestamp':
      return value;
    case 'structure':
    case 'map': {
      const text = value as string;
      if (text.trimStart() === '') throw CliFailure.general('string index out of range');
      if (text.trimStart().startsWith('{')) return loadJson(text, cliName);
      throw paramError(cliName, `Invalid JSON:\n${text}`);
    }
    case 'list': {
      const items = value as string[];
      if (items.length === 1 && (items[0] as string).trim().startsWith('[')) return loadJson(items[0] as string, cliName);
      try {
        return items.map((v) => unpackDefault(shape.member, v, cliName));
      } catch (e) {
        // The CLI reports a bad list element by the parameter's first word.
        if (e instanceof PyValueError) throw paramError(cliName, items[0] as string);
        throw e;
      }
    }
  }
}
