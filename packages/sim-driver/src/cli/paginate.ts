// The CLI's automatic pagination (botocore/paginate.py PageIterator): follow the output token until
// it runs out, cut the result at --max-items and hand back a resume token (base64 of a JSON
// object with the service token and `boto_truncate_amount`), resume from --starting-token, and
// merge the pages' result keys into one result (build_full_result).
import jmespath from 'jmespath';
import { CliFailure } from './cli-failure.js';
import type { PaginatorSpec } from './operations.js';
import { pyJsonDumps, pyRepr } from './py-values.js';

export type Page = Record<string, unknown>;
type Token = Record<string, unknown>;

export interface PaginationConfig {
  readonly maxItems?: number;
  readonly pageSize?: number;
  readonly startingToken?: string;
}

function search(expression: string, data: unknown): unknown {
  const v: unknown = jmespath.search(data, expression);
  return v === undefined ? null : v;
}

/** botocore's set_value_from_jmespath: dotted keys only, creating objects on the way. */
export function setByPath(target: Record<string, unknown>, expression: string, value: unknown): void {
  const dot = expression.indexOf('.');
  if (dot === -1) {
    target[expression] = value;
    return;
  }
  const head = expression.slice(0, dot);
  if (!Object.hasOwn(target, head)) target[head] = {};
  setByPath(target[head] as Record<string, unknown>, expression.slice(dot + 1), value);
}

function encodeToken(token: Token): string {
  // json.dumps with its default ensure_ascii=True.
  const json = pyJsonDumps(token).replace(/[\u0080-\uffff]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return Buffer.from(json, 'utf8').toString('base64');
}

function decodeToken(token: string): Token | null {
  // Python's b64decode drops characters outside the alphabet, then insists on padding.
  const cleaned = token.replace(/[^A-Za-z0-9+/=]/gu, '');
  if (cleaned.replace(/=+$/u, '').length % 4 === 1 || cleaned.length % 4 !== 0) return null;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(cleaned, 'base64'));
  } catch {
    return null;
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) {
    throw CliFailure.general(`'${Array.isArray(decoded) ? 'list' : typeof decoded === 'string' ? 'str' : 'int'}' object has no attribute 'pop'`);
  }
  return decoded as Token;
}

export class PageIterator {
  readonly #spec: PaginatorSpec;
  readonly #config: PaginationConfig;
  readonly #request: (params: Record<string, unknown>) => Promise<Page>;
  #resumeToken: string | null = null;
  #nonAggregatePart: Page = {};

  constructor(spec: PaginatorSpec, config: PaginationConfig, request: (params: Record<string, unknown>) => Promise<Page>) {
    this.#spec = spec;
    this.#config = config;
    this.#request = request;
  }

  get resultKeys(): readonly string[] {
    return this.#spec.resultKeys;
  }
  get resumeToken(): string | null {
    return this.#resumeToken;
  }
  get nonAggregatePart(): Page {
    return this.#nonAggregatePart;
  }

  #setResumeToken(value: Token): void {
    const expected = [...this.#spec.inputToken, ...(Object.hasOwn(value, 'boto_truncate_amount') ? ['boto_truncate_amount'] : [])].sort();
    const actual = Object.keys(value).sort();
    if (expected.join('\n') !== actual.join('\n')) throw CliFailure.general(`Bad starting token: ${pyRepr(value)}`);
    this.#resumeToken = encodeToken(value);
  }

  #parseStartingToken(): [Token, number] {
    const raw = this.#config.startingToken as string;
    const decoded = decodeToken(raw);
    if (decoded !== null) {
      const index = Object.hasOwn(decoded, 'boto_truncate_amount') ? Number(decoded.boto_truncate_amount) : 0;
      delete decoded.boto_truncate_amount;
      return [decoded, index];
    }
    // The old `token___index` form, or an opaque service token.
    let parts = raw.split('___');
    let index = 0;
    if (parts.length === this.#spec.inputToken.length + 1) {
      const last = parts[parts.length - 1] as string;
      if (/^\s*[+-]?\d+\s*$/u.test(last)) {
        index = Number(last);
        parts = parts.slice(0, -1);
      } else {
        parts = [raw];
      }
    }
    if (parts.length > this.#spec.inputToken.length) throw CliFailure.general(`Bad starting token: ${raw}`);
    const token: Token = {};
    this.#spec.inputToken.forEach((name, i) => {
      const part = parts[i];
      token[name] = part === undefined || part === 'None' ? null : part;
    });
    return [token, index];
  }

  #injectToken(params: Record<string, unknown>, token: Token): void {
    for (const [name, value] of Object.entries(token)) {
      if (value !== null && value !== undefined && value !== 'None') params[name] = value;
      else delete params[name];
    }
  }

  #nextToken(page: Page): Token {
    if (this.#spec.moreResults !== undefined && !isTruthy(search(this.#spec.moreResults, page))) return {};
    const token: Token = {};
    this.#spec.outputToken.forEach((expr, i) => {
      const v = search(expr, page);
      token[this.#spec.inputToken[i] as string] = isTruthy(v) ? v : null;
    });
    return token;
  }

  /** The pages, each after the request that fetched it. */
  async *pages(params: Record<string, unknown>): AsyncGenerator<Page> {
    const maxItems = this.#config.maxItems;
    let nextToken: Token = Object.fromEntries(this.#spec.inputToken.map((t) => [t, null]));
    let startingIndex = 0;
    if (this.#config.startingToken !== undefined) {
      [nextToken, startingIndex] = this.#parseStartingToken();
      this.#injectToken(params, nextToken);
    }
    if (this.#config.pageSize !== undefined && this.#spec.limitKey !== undefined) params[this.#spec.limitKey] = this.#config.pageSize;
    const primary = this.#spec.resultKeys[0] as string;
    let previous: Token | null = null;
    let totalItems = 0;
    let first = true;
    let startingTruncation = 0;
    for (;;) {
      const page = await this.#request({ ...params });
      if (first) {
        if (this.#config.startingToken !== undefined) startingTruncation = this.#truncateStart(page, primary, startingIndex);
        first = false;
        this.#recordNonAggregate(page);
      } else {
        startingTruncation = 0;
      }
      const current = search(primary, page);
      const count = lengthOf(current);
      const truncateAmount = maxItems === undefined ? 0 : totalItems + count - maxItems;
      if (truncateAmount > 0) {
        const original = (current ?? []) as unknown[];
        const keep = lengthOf(original) - truncateAmount;
        setByPath(page, primary, original.slice(0, keep));
        this.#setResumeToken({ ...nextToken, boto_truncate_amount: keep + startingTruncation });
        yield page;
        return;
      }
      yield page;
      totalItems += count;
      nextToken = this.#nextToken(page);
      if (Object.values(nextToken).every((t) => t === null)) return;
      if (maxItems !== undefined && totalItems === maxItems) {
        this.#setResumeToken(nextToken);
        return;
      }
      if (previous !== null && pyJsonDumps(previous) === pyJsonDumps(nextToken)) {
        throw CliFailure.general(`Error during pagination: The same next token was received twice: ${pyRepr(nextToken)}`);
      }
      this.#injectToken(params, nextToken);
      previous = nextToken;
    }
  }

  #truncateStart(page: Page, primary: string, index: number): number {
    const all = search(primary, page);
    setByPath(page, primary, Array.isArray(all) || typeof all === 'string' ? all.slice(index) : null);
    for (const key of this.#spec.resultKeys) {
      if (key === primary) continue;
      const sample = search(key, page);
      setByPath(page, key, Array.isArray(sample) ? [] : typeof sample === 'string' ? '' : typeof sample === 'number' ? sample : null);
    }
    return index;
  }

  #recordNonAggregate(page: Page): void {
    const part: Page = {};
    for (const expr of this.#spec.nonAggregateKeys ?? []) setByPath(part, expr, search(expr, page));
    this.#nonAggregatePart = part;
  }

  /** build_full_result: result keys concatenated (or summed) across pages, then the rest. */
  async fullResult(params: Record<string, unknown>): Promise<Page> {
    const complete: Page = {};
    for await (const page of this.pages(params)) {
      for (const expr of this.#spec.resultKeys) {
        const value = search(expr, page);
        if (value === null) continue;
        const existing = search(expr, complete);
        if (existing === null) setByPath(complete, expr, value);
        else if (Array.isArray(value)) (existing as unknown[]).push(...value);
        else if (typeof value === 'number' || typeof value === 'string') {
          setByPath(complete, expr, (existing as number) + (value as number));
        }
      }
    }
    mergeDicts(complete, this.#nonAggregatePart);
    if (this.#resumeToken !== null) complete.NextToken = this.#resumeToken;
    return complete;
  }
}

function lengthOf(v: unknown): number {
  if (v === null) return 0;
  if (Array.isArray(v) || typeof v === 'string') return v.length;
  throw CliFailure.general(`object of type '${typeof v === 'number' ? 'int' : 'dict'}' has no len()`);
}

function isTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function mergeDicts(a: Page, b: Page): void {
  for (const [k, v] of Object.entries(b)) {
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.hasOwn(a, k)) mergeDicts(a[k] as Page, v as Page);
    else a[k] = v;
  }
}
