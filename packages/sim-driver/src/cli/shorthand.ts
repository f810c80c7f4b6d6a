// The AWS CLI's shorthand syntax (`Name=tag:x,Values=a,b`, `[...]` lists, `{...}` hashes, quoting,
// `\,` escapes), following the grammar and the error texts of awscli/shorthand.py, plus the
// model-driven coercion the CLI applies afterwards (its BackCompatVisitor): a scalar where the
// model wants a list becomes a one-element list, and integers/booleans are converted.
import { CliFailure } from './cli-failure.js';
import { PyValueError, pyInt } from './py-values.js';
import type { Shape } from './shapes.js';

export type ShorthandValue = string | ShorthandValue[] | { [key: string]: ShorthandValue };

/** A syntax error in a shorthand value; the message is the CLI's. */
export class ShorthandParseError extends Error {
  override readonly name = 'ShorthandParseError';
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
const KEY_CHARS = /[A-Za-z0-9\-_.#/:]/u;
// Character classes of shorthand.py's value regexes, written as code-point ranges.
const START = String.raw`\x21\x23-\x26\x28-\x2b\x2d-\x3c\x3e-\x5a\x5c-\x7a\x7c-\uffff`;
const FIRST_FOLLOW = String.raw`\s\x21\x23-\x26\x28-\x2b\x2d-\x5c\x5e-\x7c\x7e-\uffff`;
const SECOND_FOLLOW = String.raw`\s\x21\x23-\x26\x28-\x2b\x2d-\x3c\x3e-\uffff`;
const ESCAPED_COMMA = String.raw`\\,`;

interface NamedRegex {
  readonly name: string;
  readonly regex: RegExp;
}
const FIRST_VALUE: NamedRegex = { name: 'first', regex: new RegExp(`(?:${ESCAPED_COMMA}|[${START}])(?:${ESCAPED_COMMA}|[${FIRST_FOLLOW}])*`, 'uy') };
const SECOND_VALUE: NamedRegex = { name: 'second', regex: new RegExp(`(?:${ESCAPED_COMMA}|[${START}])(?:${ESCAPED_COMMA}|[${SECOND_FOLLOW}])*`, 'uy') };
const SINGLE_QUOTED: NamedRegex = { name: 'singled quoted', regex: /'(?:\\'|[^'])*'/uy };
const DOUBLE_QUOTED: NamedRegex = { name: 'double quoted', regex: /"(?:\\"|[^"])*"/uy };

function errorLocation(value: string, index: number): string {
  let consumed = value;
  let remaining = '';
  let spaces = index;
  const before = value.slice(0, index);
  if (before.includes('\n')) spaces = index - before.lastIndexOf('\n') - 1;
  const after = value.slice(index);
  if (after.includes('\n')) {
    const nextNewline = index + after.indexOf('\n');
    consumed = value.slice(0, nextNewline);
    remaining = value.slice(nextNewline);
  }
  return `${consumed}\n${' '.repeat(spaces)}^${remaining}`;
}

function syntaxError(value: string, expected: string, actual: string, index: number): ShorthandParseError {
  return new ShorthandParseError(`Expected: '${expected}', received: '${actual}' for input:\n ${errorLocation(value, index)}`);
}

/** Parses one shorthand value (what follows `--option`) into strings, lists and hashes. */
export function parseShorthand(input: string): Record<string, ShorthandValue> {
  return new Parser(input).parse();
}

class Parser {
  #i = 0;
  constructor(private readonly input: string) {}

  parse(): Record<string, ShorthandValue> {
    const params: Record<string, ShorthandValue> = {};
    const [firstKey, firstValue] = this.#keyval();
    define(params, firstKey, firstValue);
    let lastIndex = this.#i;
    while (this.#i < this.input.length) {
      this.#expect(',', true);
      const [key, value] = this.#keyval();
      if (Object.hasOwn(params, key)) {
        throw new ShorthandParseError(
          `Second instance of key "${key}" encountered for input:\n${errorLocation(this.input, lastIndex + 1)}\n` +
            'This is often because there is a preceding "," instead of a space.',
        );
      }
      define(params, key, value);
      lastIndex = this.#i;
    }
    return params;
  }

  #keyval(): [string, ShorthandValue] {
    const key = this.#key();
    this.#optionalFileMarker();
    this.#expect('=', true);
    return [key, this.#values()];
  }

  // `key@=file://...` loads a file in the real CLI; the simulated CLI cannot see the caller's files.
  #optionalFileMarker(): void {
    try {
      this.#expect('@', true);
    } catch (e) {
      if (e instanceof ShorthandParseError) return;
      throw e;
    }
    throw CliFailure.unsupported('the shorthand `@=` file syntax (file:// values) is not supported by the simulated AWS CLI');
  }

  #key(): string {
    const start = this.#i;
    while (!this.#atEof() && KEY_CHARS.test(this.input[this.#i] as string)) this.#i++;
    return this.input.slice(start, this.#i);
  }

  #values(): ShorthandValue {
    if (this.#atEof()) return '';
    const c = this.#current();
    if (c === '[') return this.#explicitList();
    if (c === '{') return this.#hashLiteral();
    return this.#csvValue();
  }

  #csvValue(): ShorthandValue {
    const first = this.#firstValue();
    this.#consumeWhitespace();
    if (this.#atEof() || this.input[this.#i] !== ',') return first;
    this.#expect(',', true);
    const csv: string[] = [first];
    for (;;) {
      try {
        const current = this.#secondValue();
        this.#consumeWhitespace();
        if (this.#atEof()) {
          csv.push(current);
          break;
        }
        this.#expect(',', true);
        csv.push(current);
      } catch (e) {
        if (!(e instanceof ShorthandParseError) || this.#atEof()) throw e;
        // `a=b,c,d=e`: `d` starts the next key, so step back to the comma before it.
        this.#backtrackTo(',');
        break;
      }
    }
    return csv.length === 1 ? first : csv;
  }

  #value(): string {
    const m = this.#match(FIRST_VALUE.regex);
    return m === null ? '' : this.#consume(m).replaceAll('\\,', ',').trimEnd();
  }

  #explicitList(): ShorthandValue[] {
    this.#expect('[', true);
    const values: ShorthandValue[] = [];
    while (this.#current() !== ']') {
      values.push(this.#explicitValues());
      this.#consumeWhitespace();
      if (this.#current() !== ']') {
        this.#expect(',');
        this.#consumeWhitespace();
      }
    }
    this.#expect(']');
    return values;
  }

  #explicitValues(): ShorthandValue {
    const c = this.#current();
    if (c === '[') return this.#explicitList();
    if (c === '{') return this.#hashLiteral();
    return this.#firstValue();
  }

  #hashLiteral(): Record<string, ShorthandValue> {
    this.#expect('{', true);
    const keyvals: Record<string, ShorthandValue> = {};
    while (this.#current() !== '}') {
      const key = this.#key();
      this.#optionalFileMarker();
      this.#expect('=', true);
      const v = this.#explicitValues();
      this.#consumeWhitespace();
      if (this.#current() !== '}') {
        this.#expect(',');
        this.#consumeWhitespace();
      }
      define(keyvals, key, v);
    }
    this.#expect('}');
    return keyvals;
  }

  #firstValue(): string {
    const c = this.#current();
    if (c === "'") return this.#quoted(SINGLE_QUOTED, "'");
    if (c === '"') return this.#quoted(DOUBLE_QUOTED, '"');
    return this.#value();
  }

  #secondValue(): string {
    const c = this.#current();
    if (c === "'") return this.#quoted(SINGLE_QUOTED, "'");
    if (c === '"') return this.#quoted(DOUBLE_QUOTED, '"');
    return this.#mustConsume(SECOND_VALUE).replaceAll('\\,', ',').trimEnd();
  }

  #quoted(regex: NamedRegex, quote: string): string {
    const raw = this.#mustConsume(regex).slice(1, -1);
    return raw.replaceAll(`\\${quote}`, quote).replaceAll('\\\\', '\\');
  }

  #expect(char: string, consumeWhitespace = false): void {
    if (consumeWhitespace) this.#consumeWhitespace();
    if (this.#i >= this.input.length) throw syntaxError(this.input, char, 'EOF', this.#i);
    const actual = this.input[this.#i] as string;
    if (actual !== char) throw syntaxError(this.input, char, actual, this.#i);
    this.#i++;
    if (consumeWhitespace) this.#consumeWhitespace();
  }

  #match(regex: RegExp): RegExpExecArray | null {
    regex.lastIndex = this.#i;
    return regex.exec(this.input);
  }

  #mustConsume(named: NamedRegex): string {
    const m = this.#match(named.regex);
    if (m === null) throw syntaxError(this.input, `<${named.name}>`, '<none>', this.#i);
    return this.#consume(m);
  }

  #consume(m: RegExpExecArray): string {
    this.#i += m[0].length;
    return m[0];
  }

  #current(): string | undefined {
    return this.#i < this.input.length ? this.input[this.#i] : undefined;
  }

  #atEof(): boolean {
    return this.#i >= this.input.length;
  }

  #backtrackTo(char: string): void {
    while (this.#i >= 0 && this.input[this.#i] !== char) this.#i--;
  }

  #consumeWhitespace(): void {
    while (!this.#atEof() && WHITESPACE.has(this.input[this.#i] as string)) this.#i++;
  }
}

// Keys come from the user: `__proto__=x` must be data, not a prototype change.
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * The CLI's BackCompatVisitor: walks the parsed value along the model and coerces in place.
 * Python errors it would raise (int() of a bad literal, .lower() of a list) surface as the CLI's
 * generic errors, as they do there.
 */
export function coerceShorthand(value: unknown, shape: Shape): unknown {
  const holder: Record<string, unknown> = {};
  define(holder, 'v', value);
  visit(holder, 'v', shape);
  return holder.v;
}

function visit(parent: Record<string, unknown> | unknown[], name: string | number, shape: Shape): void {
  const value = (parent as Record<string | number, unknown>)[name];
  if (value === undefined || value === null) return;
  switch (shape.type) {
    case 'structure': {
      if (!isDict(value)) return;
      for (const [member, memberShape] of Object.entries(shape.members)) {
        if (Object.hasOwn(value, member)) visit(value, member, memberShape);
      }
      return;
    }
    case 'list': {
      if (!Array.isArray(value)) {
        (parent as Record<string | number, unknown>)[name] = [value];
        return;
      }
      for (let i = 0; i < value.length; i++) visit(value, i, shape.member);
      return;
    }
    case 'map': {
      if (!isDict(value)) return;
      for (const key of Object.keys(value)) visit(value, key, shape.value);
      return;
    }
    case 'integer':
    case 'long':
      (parent as Record<string | number, unknown>)[name] = toPyInt(value);
      return;
    case 'double':
      (parent as Record<string | number, unknown>)[name] = toPyFloat(value);
      return;
    case 'boolean': {
      if (typeof value !== 'string') throw new PyValueError(`'${pyTypeOf(value)}' object has no attribute 'lower'`);
      if (value.toLowerCase() === 'true') (parent as Record<string | number, unknown>)[name] = true;
      else if (value.toLowerCase() === 'false') (parent as Record<string | number, unknown>)[name] = false;
      return;
    }
    default:
      return;
  }
}

function toPyInt(value: unknown): number {
  if (typeof value === 'string') return pyInt(value);
  throw new PyValueError(`int() argument must be a string, a bytes-like object or a real number, not '${pyTypeOf(value)}'`);
}

function toPyFloat(value: unknown): number {
  if (typeof value === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/u.test(value)) return Number(value);
  if (typeof value === 'string') throw new PyValueError(`could not convert string to float: '${value}'`);
  throw new PyValueError(`float() argument must be a string or a real number, not '${pyTypeOf(value)}'`);
}

function pyTypeOf(value: unknown): string {
  return Array.isArray(value) ? 'list' : typeof value === 'object' ? 'dict' : 'str';
}

function isDict(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
