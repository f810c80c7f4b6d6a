import { LITERAL_STAR } from './iam-simulate-evaluator.js';

// What a set of IAM policies can see of a request, so that a memoised decision is reused only
// for requests the policies cannot tell apart. The resource matching below follows
// @cloud-copilot/iam-simulate 0.1.173 (src/resource/resource.ts, src/util.ts), which follows
// IAM's ARN matching (IAM User Guide, "IAM JSON policy elements: Resource"): `*` alone matches
// everything; an ARN of fewer than six segments is padded with `*`; partition, service, region
// and account are matched segment by segment, case-insensitively, with `*` and `?`; the
// resource part's leading type (`volume/`, `autoScalingGroup:`) must be there as written, and
// the rest is matched case-sensitively with `*`, `?` and policy variables `${...}`.

type Context = Readonly<Record<string, string | readonly string[]>>;

/** One `Resource`/`NotResource` value of the policy set, prepared for matching. */
interface ResourcePattern {
  readonly value: string;
  /** Variables in the pattern (names as written, lowercased for lookup), with their defaults. */
  readonly variables: readonly { readonly name: string; readonly fallback: string | undefined }[];
  /** For a pattern without variables: its matcher, built once. */
  readonly matcher: ((resource: string) => boolean) | null;
}

/** What a set of policies reads: its resource patterns and the context keys its conditions and variables name. */
export interface PolicyReads {
  readonly patterns: readonly ResourcePattern[];
  /** Context keys the conditions read (their keys, and the variables in their values), lowercased, sorted. */
  readonly keys: readonly string[];
  /** A condition key that itself holds a variable: the whole context is read. */
  readonly readsWholeContext: boolean;
  /** Whether some pattern holds a variable (its match then depends on the context too). */
  readonly hasVariablePatterns: boolean;
  /** Match vectors of the patterns without variables, by resource (bounded). */
  readonly staticVectors: Map<string, string>;
}

/** Resources whose static match vector a policy set keeps. */
const MAX_STATIC_VECTORS = 20_000;

/** Analyses policy documents (identity policies and a resource policy alike). */
export function policyReads(documents: readonly unknown[]): PolicyReads {
  const patterns = new Map<string, ResourcePattern>();
  const keys = new Set<string>();
  let readsWholeContext = false;
  for (const doc of documents) {
    for (const st of statements(doc)) {
      for (const field of ['Resource', 'NotResource'] as const) {
        for (const value of strings(st[field])) {
          if (patterns.has(value)) continue;
          // A variable of a pattern is not a key: the match vector holds its effect (see matchVector).
          const variables = variablesIn(value);
          patterns.set(value, { value, variables, matcher: variables.length === 0 ? compilePattern(value, new Map()) : null });
        }
      }
      const condition = st['Condition'];
      if (condition === null || typeof condition !== 'object') continue;
      for (const block of Object.values(condition as Record<string, unknown>)) {
        if (block === null || typeof block !== 'object') continue;
        for (const [key, values] of Object.entries(block as Record<string, unknown>)) {
          if (key.includes('${')) readsWholeContext = true;
          keys.add(key.toLowerCase());
          for (const s of strings(values)) for (const v of variablesIn(s)) keys.add(v.name);
        }
      }
    }
  }
  const list = [...patterns.values()];
  return { patterns: list, keys: [...keys].sort(), readsWholeContext, hasVariablePatterns: list.some((p) => p.matcher === null), staticVectors: new Map() };
}

/**
 * For every pattern, whether `resource` matches it — under every value the library could give
 * each of the pattern's variables: the request's value (or a list's first element), or none and
 * then the default. The library resolves variables from the context it has normalised for the
 * action and resource type (both in the memo key), so it always uses one of these; two requests
 * with the same bits therefore match every pattern alike whatever their variables' values, and
 * a variable used only in patterns needs no place in the key.
 */
export function matchVector(reads: PolicyReads, resource: string, context: ReadonlyMap<string, string | readonly string[]>): string {
  let statics = reads.staticVectors.get(resource);
  const literal = resource === '*' ? '*' : resource.replaceAll('*', LITERAL_STAR);
  if (statics === undefined) {
    statics = '';
    for (const p of reads.patterns) if (p.matcher) statics += p.matcher(literal) ? '1' : '0';
    if (reads.staticVectors.size >= MAX_STATIC_VECTORS) reads.staticVectors.clear();
    reads.staticVectors.set(resource, statics);
  }
  if (!reads.hasVariablePatterns) return statics;
  let out = statics;
  for (const p of reads.patterns) {
    if (p.matcher) continue;
    out += '|';
    for (const binding of bindings(p.variables, context)) out += boundMatcher(p.value, binding)(literal) ? '1' : '0';
  }
  return out;
}

/** Every resolution of the variables: value → string, or null for "unresolvable" (never matches). */
function* bindings(variables: ResourcePattern['variables'], context: ReadonlyMap<string, string | readonly string[]>): Generator<Map<string, string | null>> {
  const options = variables.map((v) => {
    const raw = context.get(v.name);
    const out = new Set<string | null>([v.fallback ?? null]);
    if (typeof raw === 'string') out.add(raw === '' ? (v.fallback ?? null) : raw);
    else if (raw !== undefined && raw.length > 0) out.add(raw[0] === '' ? (v.fallback ?? null) : (raw[0] as string));
    return [...out];
  });
  const total = options.reduce((n, o) => n * o.length, 1);
  for (let i = 0; i < total; i++) {
    const m = new Map<string, string | null>();
    let rest = i;
    variables.forEach((v, j) => {
      const o = options[j] as (string | null)[];
      m.set(v.name, o[rest % o.length] as string | null);
      rest = Math.floor(rest / o.length);
    });
    yield m;
  }
}

/** A matcher for one policy resource pattern, with its variables bound (null: unresolvable). */
/** Compiled patterns with their variables resolved, by pattern and binding (bounded; cleared when full). */
const boundMatchers = new Map<string, (resource: string) => boolean>();
const MAX_BOUND_MATCHERS = 20_000;

function boundMatcher(pattern: string, binding: ReadonlyMap<string, string | null>): (resource: string) => boolean {
  let key = pattern;
  for (const [name, value] of binding) key += `\u0001${name}\u0002${value === null ? '\u0000' : value}`;
  let m = boundMatchers.get(key);
  if (m === undefined) {
    m = compilePattern(pattern, binding);
    if (boundMatchers.size >= MAX_BOUND_MATCHERS) boundMatchers.clear();
    boundMatchers.set(key, m);
  }
  return m;
}

function compilePattern(pattern: string, binding: ReadonlyMap<string, string | null>): (resource: string) => boolean {
  if (/^\*+$/.test(pattern)) return () => true;
  // Anything else is read as an ARN (the library's policy validation rejects what is not one).
  let segments = pattern.split(':');
  if (segments.length < 6) {
    segments = [...segments];
    while (segments.length < 6) segments.push('*');
  }
  const [, partition = '', service = '', region = '', account = ''] = segments;
  const resourcePart = segments.slice(5).join(':');
  const segmentRes = [partition, service, region, account].map((s) => new RegExp(`^${s.replace(/\?/g, '.').replace(/\*/g, '.*?')}$`, 'i'));
  const [product, id] = productAndId(service, region, account, resourcePart);
  const idRe = idRegex(id, binding);
  return (resource: string) => {
    if (resource === '*') return false; // only a `*` pattern matches a wildcard-only request
    const parts = resource.split(':');
    const values = [parts[1] ?? '', parts[2] ?? '', parts[3] ?? '', parts[4] ?? ''];
    for (let i = 0; i < 4; i++) if (!(segmentRes[i] as RegExp).test(values[i] as string)) return false;
    const rest = parts.slice(5).join(':');
    if (!rest.startsWith(product)) return false;
    return idRe !== null && idRe.test(rest.slice(product.length));
  };
}

/** The resource part's leading type (with its separator) and the rest, split at the first `/` or `:`. */
function productAndId(service: string, region: string, account: string, resourcePart: string): [string, string] {
  if (service === 's3' && account === '' && region === '') return ['', resourcePart];
  const slash = resourcePart.indexOf('/');
  const colon = resourcePart.indexOf(':');
  const at = slash !== -1 && colon !== -1 ? Math.min(slash, colon) + 1 : colon === -1 ? slash + 1 : colon + 1;
  return [resourcePart.slice(0, at), resourcePart.slice(at)];
}

const META = new Set(['.', '*', '+', '?', '^', '$', '{', '}', '(', ')', '|', '[', ']', '\\']);

function escapeRegex(s: string): string {
  let out = '';
  for (const c of s) out += META.has(c) ? `\\${c}` : c;
  return out;
}

/** The id part as a regex: `*`, `?`, `${*}`/`${?}`/`${$}` escapes and variables. null when a variable cannot be resolved. */
function idRegex(id: string, binding: ReadonlyMap<string, string | null>): RegExp | null {
  let re = '';
  let literalStart = 0;
  let i = 0;
  while (i < id.length) {
    const c = id[i];
    if (c === '*' || c === '?') {
      re += escapeRegex(id.slice(literalStart, i)) + (c === '*' ? '.*?' : '.');
      i++;
      literalStart = i;
    } else if (c === '$' && id[i + 1] === '{') {
      const end = id.indexOf('}', i + 2);
      if (end === -1) {
        i++;
        continue;
      }
      re += escapeRegex(id.slice(literalStart, i));
      const token = id.slice(i, end + 1);
      if (token === '${*}') re += '\\*';
      else if (token === '${?}') re += '\\?';
      else if (token === '${$}') re += '\\$';
      else {
        const value = binding.get(variableName(token));
        if (value === null || value === undefined) return null;
        re += escapeRegex(value);
      }
      i = end + 1;
      literalStart = i;
    } else i++;
  }
  re += escapeRegex(id.slice(literalStart));
  return new RegExp(`^${re}$`);
}

function variableName(token: string): string {
  return (token.slice(2, -1).split(', ')[0] ?? '').trim().toLowerCase();
}

/** The variables of a policy string (`${aws:username}`, `${aws:PrincipalTag/team, 'none'}`), escapes excluded. */
function variablesIn(value: string): { name: string; fallback: string | undefined }[] {
  const out: { name: string; fallback: string | undefined }[] = [];
  for (const m of value.matchAll(/\$\{([^}]*)\}/g)) {
    const inner = m[1] as string;
    if (inner === '*' || inner === '?' || inner === '$') continue;
    const parts = inner.split(', ');
    const after = parts[1];
    const fallback = parts.length === 2 && after !== undefined && after.startsWith("'") && after.endsWith("'") ? after.slice(1, -1) : undefined;
    out.push({ name: (parts[0] ?? '').trim().toLowerCase(), fallback: fallback === '' ? undefined : fallback });
  }
  return out;
}

function statements(doc: unknown): Record<string, unknown>[] {
  if (doc === null || typeof doc !== 'object') return [];
  const st = (doc as Record<string, unknown>)['Statement'];
  if (Array.isArray(st)) return st.filter((s): s is Record<string, unknown> => s !== null && typeof s === 'object');
  return st !== null && typeof st === 'object' ? [st as Record<string, unknown>] : [];
}

function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

const lowered = new Map<string, string>();

/** `key.toLowerCase()`, remembered (context keys repeat from request to request). */
function lower(key: string): string {
  let l = lowered.get(key);
  if (l === undefined) {
    l = key.toLowerCase();
    if (lowered.size >= 50_000) lowered.clear();
    lowered.set(key, l);
  }
  return l;
}

/** The request context by lowercased key (a later key of the same name wins, as in the library). */
export function lowercaseContext(context: Context): Map<string, string | readonly string[]> {
  const m = new Map<string, string | readonly string[]>();
  for (const k in context) m.set(lower(k), context[k] as string | readonly string[]);
  return m;
}
