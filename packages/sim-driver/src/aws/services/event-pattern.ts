/*
 * EventBridge event patterns: validation (at PutRule) and matching, per the content-filtering
 * rules EventBridge documents and its matching engine (aws/event-ruler) implements:
 * - syntax and matching of values, arrays and nested objects:
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern.html
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html
 * - operators (prefix, suffix, anything-but, numeric, exists, equals-ignore-case, wildcard, cidr, $or):
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/content-filtering-with-event-patterns.html
 * - null and "" are different values:
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-null-values.html
 * - the validation messages are event-ruler's (JsonRuleCompiler), which EventBridge returns as
 *   "Event pattern is not valid. Reason: …": https://github.com/aws/event-ruler
 * Not modelled: IPv6 `cidr` (refused with a clear reason rather than matched wrongly).
 */

/** A pattern EventBridge would refuse; `reason` is what AWS puts after "Reason: ". */
export class InvalidEventPatternError extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(`Event pattern is not valid. Reason: ${reason}`);
    this.name = 'InvalidEventPatternError';
    this.reason = reason;
  }
}

type Leaf = string | number | boolean | null;

type Matcher =
  | { readonly kind: 'exact'; readonly value: Leaf }
  | { readonly kind: 'prefix' | 'suffix' | 'equals-ignore-case'; readonly value: string; readonly ignoreCase: boolean }
  | { readonly kind: 'wildcard'; readonly regex: RegExp }
  | { readonly kind: 'numeric'; readonly lower?: { readonly value: number; readonly open: boolean }; readonly upper?: { readonly value: number; readonly open: boolean }; readonly equals?: number }
  | { readonly kind: 'exists'; readonly exists: boolean }
  | { readonly kind: 'cidr'; readonly network: number; readonly mask: number }
  | { readonly kind: 'anything-but'; readonly test: (leaf: Leaf) => boolean };

interface ObjectPattern {
  readonly fields: ReadonlyMap<string, FieldPattern>;
  /** Each `$or` of this object: one of its alternatives must match too. */
  readonly ors: readonly (readonly ObjectPattern[])[];
}

type FieldPattern = { readonly kind: 'object'; readonly pattern: ObjectPattern } | { readonly kind: 'leaf'; readonly matchers: readonly Matcher[] };

/** A validated event pattern, ready to match events. */
export interface EventPattern {
  readonly root: ObjectPattern;
}

const MATCH_TYPES = ['prefix', 'suffix', 'equals-ignore-case', 'wildcard', 'anything-but', 'numeric', 'exists', 'cidr'];
/** Field names event-ruler reserves inside `$or` (Constants.RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP). */
const RESERVED_IN_OR = new Set([...MATCH_TYPES, 'exact']);

function invalid(reason: string): InvalidEventPatternError {
  return new InvalidEventPatternError(reason);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Parses and validates an EventPattern (the JSON text PutRule takes). */
export function parseEventPattern(text: string): EventPattern {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw invalid(`Invalid JSON: ${(e as Error).message}`);
  }
  if (!isObject(json)) throw invalid('Filter is not an object');
  return { root: compileObject(json, false) };
}

function compileObject(obj: Record<string, unknown>, insideOr: boolean): ObjectPattern {
  const entries = Object.entries(obj);
  if (entries.length === 0) throw invalid('Empty objects are not allowed');
  const fields = new Map<string, FieldPattern>();
  const ors: ObjectPattern[][] = [];
  for (const [key, value] of entries) {
    if (key === '$or') {
      if (!Array.isArray(value)) throw invalid('It must be an Array followed with $or.');
      const alternatives = value.map((v: unknown) => {
        if (!isObject(v)) throw invalid('Only JSON object is allowed in array of $or relationship.');
        return compileObject(v, true);
      });
      if (alternatives.length < 2) throw invalid('There must have at least 2 Objects in $or relationship.');
      ors.push(alternatives);
      continue;
    }
    if (insideOr && RESERVED_IN_OR.has(key)) throw invalid(`${key} is Ruler reserved fieldName which cannot be used inside $or.`);
    if (isObject(value)) fields.set(key, { kind: 'object', pattern: compileObject(value, insideOr) });
    else if (Array.isArray(value)) fields.set(key, { kind: 'leaf', matchers: compileValues(value) });
    else throw invalid(`"${key}" must be an object or an array`);
  }
  return { fields, ors };
}

function compileValues(values: readonly unknown[]): Matcher[] {
  if (values.length === 0) throw invalid('Empty arrays are not allowed');
  return values.map((v) => {
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return { kind: 'exact', value: v } as const;
    if (isObject(v)) return compileExpression(v);
    throw invalid('Match value must be String, number, true, false, or null');
  });
}

function onlyKey(obj: Record<string, unknown>, notFound: string): [string, unknown] {
  const entries = Object.entries(obj);
  if (entries.length === 0) throw invalid(notFound);
  if (entries.length > 1) throw invalid('Only one key allowed in match expression');
  return entries[0] as [string, unknown];
}

function compileExpression(expr: Record<string, unknown>): Matcher {
  const [type, arg] = onlyKey(expr, 'Match expression name not found');
  switch (type) {
    case 'prefix':
    case 'suffix': {
      if (isObject(arg)) {
        const [op, v] = onlyKey(arg, `${type === 'prefix' ? 'Prefix' : 'Suffix'} expression name not found`);
        if (op !== 'equals-ignore-case') throw invalid(`Unsupported ${type} pattern: ${op}`);
        if (typeof v !== 'string') throw invalid('equals-ignore-case match pattern must be a string');
        return { kind: type, value: v.toLowerCase(), ignoreCase: true };
      }
      if (typeof arg !== 'string') throw invalid(`${type} match pattern must be a string`);
      return { kind: type, value: arg, ignoreCase: false };
    }
    case 'equals-ignore-case':
      if (typeof arg !== 'string') throw invalid('equals-ignore-case match pattern must be a string');
      return { kind: 'equals-ignore-case', value: arg.toLowerCase(), ignoreCase: true };
    case 'wildcard':
      if (typeof arg !== 'string') throw invalid('wildcard match pattern must be a string');
      return { kind: 'wildcard', regex: wildcardRegex(arg) };
    case 'exists':
      if (typeof arg !== 'boolean') throw invalid('exists match pattern must be either true or false.');
      return { kind: 'exists', exists: arg };
    case 'numeric':
      if (!Array.isArray(arg)) throw invalid('Value of numeric must be an array.');
      return compileNumeric(arg);
    case 'cidr':
      if (typeof arg !== 'string') throw invalid('prefix match pattern must be a string');
      return compileCidr(arg);
    case 'anything-but':
      return compileAnythingBut(arg);
    default:
      throw invalid(`Unrecognized match type ${type}`);
  }
}

/** `*` matches any run of characters; `\*` and `\\` are a literal `*` and `\`; `**` is refused. */
function wildcardRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') {
      if (pattern[i + 1] === '*') throw invalid(`Consecutive wildcard characters at pos ${i}`);
      re += '.*';
    } else if (c === '\\') {
      const n = pattern[i + 1];
      if (n !== '*' && n !== '\\') throw invalid(`Invalid escape character at pos ${i}`);
      re += `\\${n}`;
      i++;
    } else re += c.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

function compileNumeric(arr: readonly unknown[]): Matcher {
  const op = arr[0];
  if (typeof op !== 'string') throw invalid(`Invalid member in numeric match: ${JSON.stringify(op)}`);
  const num = (i: number, what: string): number => {
    const v = arr[i];
    if (typeof v !== 'number') throw invalid(`Value of ${what} must be numeric`);
    return v;
  };
  switch (op) {
    case '=': {
      const v = num(1, '=');
      if (arr.length > 2) throw invalid('Too many elements in numeric expression');
      return { kind: 'numeric', equals: v };
    }
    case '<':
    case '<=': {
      const v = num(1, op);
      if (arr.length > 2) throw invalid('Too many elements in numeric expression');
      return { kind: 'numeric', upper: { value: v, open: op === '<' } };
    }
    case '>':
    case '>=': {
      const lower = { value: num(1, op), open: op === '>' };
      if (arr.length === 2) return { kind: 'numeric', lower };
      const op2 = arr[2];
      if (typeof op2 !== 'string') throw invalid(`Bad value in numeric range: ${JSON.stringify(op2)}`);
      if (op2 !== '<' && op2 !== '<=') throw invalid(`Bad numeric range operator: ${op2}`);
      const upper = { value: num(3, op2), open: op2 === '<' };
      if (arr.length > 4) throw invalid('Too many terms in numeric range expression');
      if (upper.value < lower.value) throw invalid('Bottom must be less than top');
      return { kind: 'numeric', lower, upper };
    }
    default:
      throw invalid(`Unrecognized numeric range operator: ${op}`);
  }
}

function compileCidr(text: string): Matcher {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!m) {
    if (text.includes(':')) throw invalid(`IPv6 cidr ${text} is not supported by the simulator (IPv4 only)`);
    throw invalid(`Malformed CIDR, one '/' required: ${text}`);
  }
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) throw invalid(`Nonstandard IP address: ${text}`);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { kind: 'cidr', network: (ipv4(octets) & mask) >>> 0, mask };
}

function ipv4(octets: readonly number[]): number {
  return octets.reduce((acc, o) => ((acc << 8) | o) >>> 0, 0);
}

function parseIpv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const octets = m.slice(1, 5).map(Number);
  return octets.some((o) => o > 255) ? null : ipv4(octets);
}

function compileAnythingBut(arg: unknown): Matcher {
  if (isObject(arg)) {
    const [op, v] = onlyKey(arg, 'Anything-But expression name not found');
    const strings = (): string[] => {
      const list = Array.isArray(v) ? v : [v];
      if (list.length === 0 || list.some((x) => typeof x !== 'string')) throw invalid(`Inside anything-but/${op} list, number|start|null|boolean is not supported.`);
      return list as string[];
    };
    switch (op) {
      case 'prefix':
      case 'suffix': {
        if (typeof v !== 'string' && !Array.isArray(v)) throw invalid('prefix/suffix match pattern must be a string');
        const list = strings();
        if (list.some((s) => s.length === 0)) throw invalid('Null prefix/suffix not allowed');
        const test = op === 'prefix' ? (s: string) => list.some((p) => s.startsWith(p)) : (s: string) => list.some((p) => s.endsWith(p));
        return { kind: 'anything-but', test: (leaf) => typeof leaf !== 'string' || !test(leaf) };
      }
      case 'equals-ignore-case': {
        const list = new Set(strings().map((s) => s.toLowerCase()));
        return { kind: 'anything-but', test: (leaf) => typeof leaf !== 'string' || !list.has(leaf.toLowerCase()) };
      }
      case 'wildcard': {
        const list = strings().map(wildcardRegex);
        return { kind: 'anything-but', test: (leaf) => typeof leaf !== 'string' || !list.some((r) => r.test(leaf)) };
      }
      default:
        throw invalid(`Unsupported anything-but pattern: ${op}`);
    }
  }
  const list = Array.isArray(arg) ? arg : [arg];
  if (!Array.isArray(arg) && typeof arg !== 'string' && typeof arg !== 'number') throw invalid('Value of anything-but must be an array or single string/number value.');
  if (list.some((x) => typeof x !== 'string' && typeof x !== 'number')) throw invalid('Inside anything but list, start|null|boolean is not supported.');
  const hasNumber = list.some((x) => typeof x === 'number');
  const hasString = list.some((x) => typeof x === 'string');
  if (hasNumber === hasString) throw invalid('Inside anything but list, either all values are number or string, mixed type is not supported');
  if (hasString) {
    const set = new Set(list as string[]);
    return { kind: 'anything-but', test: (leaf) => typeof leaf !== 'string' || !set.has(leaf) };
  }
  const nums = list as number[];
  return { kind: 'anything-but', test: (leaf) => typeof leaf !== 'number' || !nums.includes(leaf) };
}

// ---------------------------------------------------------------------------------------------
// Matching.

/** Whether `event` (the full envelope, as delivered) matches the pattern. */
export function matchesEventPattern(pattern: EventPattern, event: unknown): boolean {
  return matchObject(pattern.root, event);
}

function matchObject(p: ObjectPattern, value: unknown): boolean {
  // A pattern object over an event array matches when one element matches all of it.
  if (Array.isArray(value)) return value.flat(Infinity).some((e) => isObject(e) && matchObject(p, e));
  const obj = isObject(value) ? value : {};
  for (const [key, fp] of p.fields) {
    const v = Object.hasOwn(obj, key) ? obj[key] : undefined;
    if (fp.kind === 'object') {
      if (!matchObject(fp.pattern, v)) return false;
    } else if (!matchLeaf(fp.matchers, v)) return false;
  }
  return p.ors.every((alternatives) => alternatives.some((a) => matchObject(a, obj)));
}

/** The leaf values at a field: a value, or the values of an array (nested arrays flattened); objects are not leaves. */
function leavesOf(v: unknown): Leaf[] {
  if (v === undefined || isObject(v)) return [];
  if (Array.isArray(v)) return v.flat(Infinity).filter((e): e is Leaf => e === null || ['string', 'number', 'boolean'].includes(typeof e));
  return [v as Leaf];
}

function matchLeaf(matchers: readonly Matcher[], v: unknown): boolean {
  const leaves = leavesOf(v);
  return matchers.some((m) => {
    if (m.kind === 'exists') return m.exists === leaves.length > 0;
    return leaves.some((leaf) => matchOne(m, leaf));
  });
}

function matchOne(m: Exclude<Matcher, { kind: 'exists' }>, leaf: Leaf): boolean {
  switch (m.kind) {
    case 'exact':
      return leaf === m.value;
    case 'prefix':
      return typeof leaf === 'string' && (m.ignoreCase ? leaf.toLowerCase() : leaf).startsWith(m.value);
    case 'suffix':
      return typeof leaf === 'string' && (m.ignoreCase ? leaf.toLowerCase() : leaf).endsWith(m.value);
    case 'equals-ignore-case':
      return typeof leaf === 'string' && leaf.toLowerCase() === m.value;
    case 'wildcard':
      return typeof leaf === 'string' && m.regex.test(leaf);
    case 'numeric': {
      if (typeof leaf !== 'number') return false;
      if (m.equals !== undefined) return leaf === m.equals;
      if (m.lower && (m.lower.open ? leaf <= m.lower.value : leaf < m.lower.value)) return false;
      if (m.upper && (m.upper.open ? leaf >= m.upper.value : leaf > m.upper.value)) return false;
      return true;
    }
    case 'cidr': {
      const ip = typeof leaf === 'string' ? parseIpv4(leaf) : null;
      return ip !== null && ((ip & m.mask) >>> 0) === m.network;
    }
    case 'anything-but':
      return m.test(leaf);
  }
}
