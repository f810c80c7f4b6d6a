import { fault } from '../aws-error.js';

/** An EC2 `Filters` entry (or an Auto Scaling one: the same shape). */
export interface FilterInput {
  readonly Name?: string;
  readonly Values?: readonly string[];
}

/**
 * The values a resource has for a filter name, or `undefined` when the filter does not exist
 * for this resource type (AWS then answers `InvalidParameterValue`, it never ignores a filter).
 */
export type FilterValues<T> = (resource: T, name: string) => readonly string[] | undefined;

/** Tag filters every taggable EC2 resource has: `tag:<key>`, `tag-key`, `tag-value`. */
export function tagFilter(tags: Readonly<Record<string, string>>, name: string): readonly string[] | undefined {
  if (name.startsWith('tag:')) {
    const v = tags[name.slice(4)];
    return v === undefined ? [] : [v];
  }
  if (name === 'tag-key') return Object.keys(tags);
  if (name === 'tag-value') return Object.values(tags);
  return undefined;
}

/** EC2 filter values may use `*` (any sequence) and `?` (one character); `\` escapes them. */
function valueMatcher(pattern: string): (v: string) => boolean {
  if (!/[*?]/.test(pattern)) {
    const literal = pattern.replace(/\\([*?\\])/g, '$1');
    return (v) => v === literal;
  }
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) re += (pattern[++i] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const r = new RegExp(`^${re}$`, 's');
  return (v) => r.test(v);
}

/** How a resource type answers filters: the names it knows and a resource's values for one. */
export interface FilterSpec<T> {
  readonly kind: string;
  /** Filter names other than the tag filters. */
  readonly names: ReadonlySet<string>;
  readonly tagged: boolean;
  readonly values: FilterValues<T>;
}

/** A resource's values for one filter name. */
export type FilterField<T> = (resource: T) => readonly string[];

/**
 * A {@link FilterSpec} from one function per filter name (aliases share a function): `names`
 * are the keys, and with `tags` the resource type also answers the tag filters, through
 * {@link tagFilter}.
 */
export function filterSpec<T>(kind: string, fields: Readonly<Record<string, FilterField<T>>>, tags?: (resource: T) => Readonly<Record<string, string>>): FilterSpec<T> {
  const byName = new Map(Object.entries(fields));
  return {
    kind,
    names: new Set(byName.keys()),
    tagged: tags !== undefined,
    values: (r, n) => {
      const field = byName.get(n);
      if (field) return field(r);
      return tags ? tagFilter(tags(r), n) : undefined;
    },
  };
}

/** For a resource type that takes the tag filters but carries no tags here: they match none. */
export const noTags = (): Readonly<Record<string, string>> => ({});

/**
 * Keeps the resources that match every filter (AND across filters, OR across one filter's
 * values), as EC2 does. An unknown filter name is refused, naming it — never ignored.
 */
export function applyFilters<T>(resources: Iterable<T>, filters: readonly FilterInput[] | undefined, spec: FilterSpec<T>): T[] {
  const list = [...resources];
  if (!filters || filters.length === 0) return list;
  checkFilterLimits(filters);
  const compiled = filters.map((f) => {
    const name = f.Name ?? '';
    const known = spec.names.has(name) || (spec.tagged && (name.startsWith('tag:') || name === 'tag-key' || name === 'tag-value'));
    if (!known) throw fault('InvalidParameterValue', `The filter '${name}' is invalid`);
    const vals = f.Values ?? [];
    return { name, matchers: vals.map(valueMatcher) };
  });
  return list.filter((r) =>
    compiled.every((f) => {
      const have = spec.values(r, f.name) ?? [];
      return have.some((v) => f.matchers.some((m) => m(v)));
    }),
  );
}

/** API-8: the most filter values one EC2 call may carry (all its filters together). */
export const MAX_FILTER_VALUES = 200;

/** API-8: EC2 refuses more than 200 filter values in one call, or a value longer than 255 characters, with `FilterLimitExceeded`. */
export function checkFilterLimits(filters: readonly FilterInput[]): void {
  let count = 0;
  for (const f of filters) {
    for (const v of f.Values ?? []) {
      count++;
      if (v.length > 255) throw fault('FilterLimitExceeded', 'The maximum length for a filter value is 255 characters');
    }
  }
  if (count > MAX_FILTER_VALUES) throw fault('FilterLimitExceeded', `The maximum number of filter values specified on a single call is ${MAX_FILTER_VALUES}`);
}

/**
 * One page of `items` for EC2-style pagination: `MaxResults` within `[min, max]` (else
 * `InvalidParameterValue`), `NextToken` from a previous page of the same listing.
 */
export function page<T>(items: readonly T[], input: { MaxResults?: number; NextToken?: string }, bounds: { min: number; max: number; defaultAll: boolean }, op: string): { items: T[]; nextToken: string | undefined } {
  const max = input.MaxResults;
  if (max !== undefined && (!Number.isInteger(max) || max < bounds.min || max > bounds.max)) {
    throw fault('InvalidParameterValue', `Value ( ${max} ) for parameter maxResults is invalid. Parameter must be between ${bounds.min} and ${bounds.max}.`);
  }
  let start = 0;
  if (input.NextToken !== undefined) {
    const m = /^sim:(\d+)$/.exec(input.NextToken);
    if (!m) throw fault('InvalidNextToken', `The token '${input.NextToken}' is invalid for ${op}.`);
    start = Number(m[1]);
  }
  const size = max ?? (bounds.defaultAll ? Number.MAX_SAFE_INTEGER : bounds.max);
  const end = Math.min(items.length, start + size);
  return { items: items.slice(start, end), nextToken: end < items.length ? `sim:${end}` : undefined };
}

/** SDK `Tags` / `TagSet` lists → a record (AWS keeps the last value of a repeated key). */
export function tagsFromList(list: readonly { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of list ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

export function tagList(tags: Readonly<Record<string, string>>): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}
