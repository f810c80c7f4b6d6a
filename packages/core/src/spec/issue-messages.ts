import type { z } from 'zod';
import { closestMatch } from './did-you-mean.js';

// Berth's wording for every issue zod can raise while parsing a spec: used as the parse's error
// map, so zod's stock English ("Invalid input: expected number, received string") never reaches
// a user. A field's own `error` in schema.ts still wins where it says something more specific.

/**
 * The message for one zod issue, in Berth's words: what the field must be, what it got, and
 * (for enum values) the closest allowed value.
 */
export function issueMessage(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const want = expectedKind(issue.expected);
      if (issue.input === undefined) return `is required (${want})`;
      return `must be ${want}; got ${describeValue(issue.input)}`;
    }
    case 'too_small':
      return tooSmall(issue.origin, Number(issue.minimum), issue.inclusive !== false, issue.exact === true, issue.input);
    case 'too_big':
      return tooBig(issue.origin, Number(issue.maximum), issue.inclusive !== false, issue.exact === true, issue.input);
    case 'invalid_format':
      return invalidFormat(issue);
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}; got ${describeValue(issue.input)}`;
    case 'invalid_value':
      return invalidValue(issue.values, issue.input);
    case 'unrecognized_keys':
      return issue.keys.map((k) => `'${k}': ${unknownFieldMessage(k, [])}`).join('; ');
    case 'invalid_union':
      return `does not match any accepted form; got ${describeValue(issue.input)}`;
    case 'invalid_key':
      return 'has a key that is not allowed here';
    case 'invalid_element':
      return 'holds a value that is not allowed here';
    case 'custom':
      return 'is not valid here';
    default:
      return 'is not valid here';
  }
}

/**
 * The message for a field that the spec does not have: the closest known field if one is a
 * plausible typo, else the fields that are allowed at that place.
 */
export function unknownFieldMessage(key: string, known: readonly string[]): string {
  const guess = closestMatch(key, known);
  if (guess !== null) return `unknown field: did you mean '${guess}'?`;
  if (known.length === 0) return 'unknown field: remove it';
  return `unknown field: remove it (the fields here are ${known.join(', ')})`;
}

function expectedKind(expected: string): string {
  switch (expected) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'int':
      return 'a whole number';
    case 'boolean':
      return 'true or false';
    case 'object':
      return 'an object';
    case 'array':
    case 'tuple':
      return 'a list';
    case 'record':
      return 'an object of names to values';
    case 'null':
      return 'null';
    default:
      return `a value of kind ${expected}`;
  }
}

/** A value as a message shows it after "got". */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length} item${v.length === 1 ? '' : 's'}`;
  switch (typeof v) {
    case 'string':
      return `the string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)}`;
    case 'number':
      return Number.isInteger(v) || !Number.isFinite(v) ? String(v) : `the fraction ${v}`;
    case 'boolean':
      return String(v);
    case 'bigint':
      return `the bigint ${v}n`;
    case 'object':
      return 'an object';
    default:
      return `a ${typeof v}`;
  }
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function tooSmall(origin: string, min: number, inclusive: boolean, exact: boolean, input: unknown): string {
  switch (origin) {
    case 'array':
    case 'set':
      if (exact) return `must list exactly ${plural(min, 'item', 'items')}; got ${countOf(input)}`;
      return `must list at least ${plural(inclusive ? min : min + 1, 'item', 'items')}; got ${countOf(input)}`;
    case 'string':
      if (min <= 1 && inclusive && !exact) return 'must not be empty';
      return `must be ${exact ? 'exactly' : 'at least'} ${plural(inclusive ? min : min + 1, 'character', 'characters')} long; got ${lengthOf(input)}`;
    default:
      return `must be ${inclusive ? 'at least' : 'greater than'} ${min}; got ${describeValue(input)}`;
  }
}

function tooBig(origin: string, max: number, inclusive: boolean, exact: boolean, input: unknown): string {
  switch (origin) {
    case 'array':
    case 'set':
      if (exact) return `must list exactly ${plural(max, 'item', 'items')}; got ${countOf(input)}`;
      return `must list at most ${plural(inclusive ? max : max - 1, 'item', 'items')}; got ${countOf(input)}`;
    case 'string':
      return `must be ${exact ? 'exactly' : 'at most'} ${plural(inclusive ? max : max - 1, 'character', 'characters')} long; got ${lengthOf(input)}`;
    default:
      return `must be ${inclusive ? 'at most' : 'less than'} ${max}; got ${describeValue(input)}`;
  }
}

const countOf = (v: unknown) => (Array.isArray(v) ? String(v.length) : v instanceof Set ? String(v.size) : describeValue(v));
const lengthOf = (v: unknown) => (typeof v === 'string' ? plural(v.length, 'character', 'characters') : describeValue(v));

function invalidFormat(issue: z.core.$ZodRawIssue<z.core.$ZodIssueInvalidStringFormat>): string {
  const got = describeValue(issue.input);
  const extra = issue as { includes?: unknown; prefix?: unknown; suffix?: unknown; pattern?: unknown };
  switch (issue.format) {
    case 'includes':
      return `must contain "${String(extra.includes)}"; got ${got}`;
    case 'starts_with':
      return `must start with "${String(extra.prefix)}"; got ${got}`;
    case 'ends_with':
      return `must end with "${String(extra.suffix)}"; got ${got}`;
    case 'regex':
      return `has the wrong form (it must match ${String(extra.pattern)}); got ${got}`;
    default:
      return `must be a valid ${issue.format}; got ${got}`;
  }
}

function invalidValue(values: readonly unknown[], input: unknown): string {
  const shown = values.map((v) => (typeof v === 'string' ? v : String(v)));
  const allowed = shown.length === 1 ? `must be ${shown[0]}` : `must be one of ${shown.join(', ')}`;
  const guess = typeof input === 'string' ? closestMatch(input, values.filter((v): v is string => typeof v === 'string')) : null;
  return `${allowed}; got ${describeValue(input)}${guess !== null ? ` (did you mean '${guess}'?)` : ''}`;
}
