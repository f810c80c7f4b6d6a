// `--output text`, following the AWS CLI's text formatter (awscli/text.py):
// - a scalar prints as Python's str() on its own line (None, True/False);
// - a dict prints its scalar values tab-separated in sorted-key order on one line (prefixed by
//   the upper-cased key it hangs under), then each non-scalar value under its key, sorted;
// - a list of dicts prints one line per element, every line with the sorted union of the scalar
//   keys of all elements ('' where an element lacks one); non-scalar values follow each line;
// - a list of scalars prints on one tab-separated line, or as `KEY\tvalue` lines under a key;
// - a list mixing scalars and lists prints the scalars first, then each list;
// - an empty list prints nothing.
import { pyStr } from './py-values.js';

/** Python raised while formatting (as the CLI would); `partial` is what was printed before. */
export class TextFormatError extends Error {
  override readonly name = 'TextFormatError';
  constructor(
    message: string,
    readonly partial: string,
  ) {
    super(message);
  }
}

export function formatText(value: unknown): string {
  const out: string[] = [];
  try {
    formatItem(value, out, null, null);
  } catch (e) {
    if (e instanceof AttributeFailure) throw new TextFormatError(e.message, out.join(''));
    throw e;
  }
  return out.join('');
}

class AttributeFailure extends Error {}

function isDict(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isContainer(v: unknown): boolean {
  return typeof v === 'object' && v !== null;
}

// Python's sorted() on str compares code points; JS's default sort compares UTF-16 units.
function byCodePoint(a: string, b: string): number {
  const ca = Array.from(a);
  const cb = Array.from(b);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const d = (ca[i] as string).codePointAt(0)! - (cb[i] as string).codePointAt(0)!;
    if (d !== 0) return d;
  }
  return ca.length - cb.length;
}

function formatItem(item: unknown, out: string[], identifier: string | null, scalarKeys: string[] | null): void {
  if (isDict(item)) formatDict(item, out, identifier, scalarKeys);
  else if (Array.isArray(item)) formatList(item, out, identifier);
  else out.push(`${pyStr(item)}\n`);
}

function formatList(items: unknown[], out: string[], identifier: string | null): void {
  if (items.length === 0) return;
  if (items.some(isDict)) {
    const keys = allScalarKeys(items);
    for (const element of items) formatItem(element, out, identifier, keys);
  } else if (items.some(Array.isArray)) {
    const scalars = items.filter((e) => !isContainer(e));
    const nonScalars = items.filter(isContainer);
    if (scalars.length > 0) formatScalarList(scalars, out, identifier);
    for (const e of nonScalars) formatItem(e, out, identifier, null);
  } else {
    formatScalarList(items, out, identifier);
  }
}

function formatScalarList(elements: unknown[], out: string[], identifier: string | null): void {
  if (identifier !== null) {
    for (const e of elements) out.push(`${identifier.toUpperCase()}\t${pyStr(e)}\n`);
  } else {
    out.push(`${elements.map(pyStr).join('\t')}\n`);
  }
}

function formatDict(item: Record<string, unknown>, out: string[], identifier: string | null, scalarKeys: string[] | null): void {
  const scalars: string[] = [];
  const nonScalars: [string, unknown][] = [];
  if (scalarKeys === null) {
    for (const key of Object.keys(item).sort(byCodePoint)) {
      const v = item[key];
      if (isContainer(v)) nonScalars.push([key, v]);
      else scalars.push(pyStr(v));
    }
  } else {
    // Elements of a list of dicts: the shared scalar columns, then everything else by name.
    for (const key of scalarKeys) scalars.push(Object.hasOwn(item, key) ? pyStr(item[key]) : '');
    const seen = new Set(scalarKeys);
    for (const key of Object.keys(item).sort(byCodePoint)) if (!seen.has(key)) nonScalars.push([key, item[key]]);
  }
  if (scalars.length > 0) {
    if (identifier !== null) scalars.unshift(identifier.toUpperCase());
    out.push(`${scalars.join('\t')}\n`);
  }
  for (const [key, v] of nonScalars) formatItem(v, out, key, null);
}

function allScalarKeys(items: unknown[]): string[] {
  const keys = new Set<string>();
  for (const item of items) {
    // The CLI calls .items() on every element: a non-dict element next to dicts makes it fail.
    if (!isDict(item)) throw new AttributeFailure(`'${pyTypeShort(item)}' object has no attribute 'items'`);
    for (const [k, v] of Object.entries(item)) if (!isContainer(v)) keys.add(k);
  }
  return [...keys].sort(byCodePoint);
}

function pyTypeShort(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  return 'list';
}
