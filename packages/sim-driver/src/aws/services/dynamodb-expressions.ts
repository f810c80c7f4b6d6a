import { fault } from '../aws-error.js';

/*
 * DynamoDB's attribute values and expression language, as the service defines them:
 * - condition grammar, comparators, functions and precedence:
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html
 * - update expressions (SET, REMOVE, ADD, DELETE; if_not_exists, list_append, + and -):
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html
 * - reserved words (attribute names that need an `#alias`):
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ReservedWords.html
 * - numbers: up to 38 significant digits, magnitude 1E-130 to 9.99…E+125, compared numerically:
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
 * Anything the simulator does not implement is a ValidationException that names it, never a silent pass.
 */

/** An attribute value in its wire shape (the SDK's `AttributeValue`), validated and with numbers normalized. */
export type DdbValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly B: Uint8Array }
  | { readonly SS: readonly string[] }
  | { readonly NS: readonly string[] }
  | { readonly BS: readonly Uint8Array[] }
  | { readonly BOOL: boolean }
  | { readonly NULL: true }
  | { readonly M: Readonly<Record<string, DdbValue>> }
  | { readonly L: readonly DdbValue[] };

export type DdbItem = Readonly<Record<string, DdbValue>>;

export type DdbType = 'S' | 'N' | 'B' | 'SS' | 'NS' | 'BS' | 'BOOL' | 'NULL' | 'M' | 'L';
const TYPES: readonly DdbType[] = ['S', 'N', 'B', 'SS', 'NS', 'BS', 'BOOL', 'NULL', 'M', 'L'];

/** The expression parameters of a request, as AWS names them in its messages. */
export type ExpressionKind = 'ConditionExpression' | 'UpdateExpression' | 'ProjectionExpression';

function validation(message: string): Error {
  return fault('ValidationException', message);
}

// ---------------------------------------------------------------------------------------------
// Numbers: exact decimals (coefficient × 10^exponent), as DynamoDB stores them.

interface Decimal {
  readonly negative: boolean;
  /** Without trailing zeros; 0n for zero. */
  readonly coefficient: bigint;
  readonly exponent: number;
}

const NUMBER_RE = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/;

function parseDecimal(text: string): Decimal | null {
  const m = NUMBER_RE.exec(text);
  if (!m) return null;
  const int = m[2] ?? '';
  const frac = m[3] ?? '';
  if (int.length === 0 && frac.length === 0) return null;
  const exp = Number(m[4] ?? '0');
  if (!Number.isSafeInteger(exp)) return null;
  return normalize(m[1] === '-', BigInt(int + frac || '0'), exp - frac.length);
}

function normalize(negative: boolean, coefficient: bigint, exponent: number): Decimal {
  if (coefficient === 0n) return { negative: false, coefficient: 0n, exponent: 0 };
  let c = coefficient;
  let e = exponent;
  while (c % 10n === 0n) {
    c /= 10n;
    e++;
  }
  return { negative, coefficient: c, exponent: e };
}

function decimalToString(d: Decimal): string {
  if (d.coefficient === 0n) return '0';
  const digits = d.coefficient.toString();
  let plain: string;
  if (d.exponent >= 0) plain = digits + '0'.repeat(d.exponent);
  else if (digits.length > -d.exponent) plain = `${digits.slice(0, digits.length + d.exponent)}.${digits.slice(digits.length + d.exponent)}`;
  else plain = `0.${'0'.repeat(-d.exponent - digits.length)}${digits}`;
  return d.negative ? `-${plain}` : plain;
}

function scaled(d: Decimal, exponent: number): bigint {
  const c = d.coefficient * 10n ** BigInt(d.exponent - exponent);
  return d.negative ? -c : c;
}

function compareDecimal(a: Decimal, b: Decimal): number {
  const e = Math.min(a.exponent, b.exponent);
  const x = scaled(a, e);
  const y = scaled(b, e);
  return x < y ? -1 : x > y ? 1 : 0;
}

function addDecimal(a: Decimal, b: Decimal, negateB: boolean): Decimal {
  const e = Math.min(a.exponent, b.exponent);
  const sum = scaled(a, e) + (negateB ? -scaled(b, e) : scaled(b, e));
  return normalize(sum < 0n, sum < 0n ? -sum : sum, e);
}

/** A number as DynamoDB stores and returns it, or a ValidationException. */
function checkedNumber(d: Decimal | null): string {
  if (d === null) throw validation('A value provided cannot be converted into a number');
  if (d.coefficient !== 0n) {
    const digits = d.coefficient.toString().length;
    if (digits > 38) throw validation('Attempting to store more than 38 significant digits in a Number');
    const magnitude = d.exponent + digits - 1;
    if (magnitude > 125) throw validation('Number overflow. Attempting to store a number with magnitude larger than supported range');
    if (magnitude < -130) throw validation('Number underflow. Attempting to store a number with magnitude smaller than supported range');
  }
  return decimalToString(d);
}

function numberOf(text: string): Decimal {
  const d = parseDecimal(text);
  if (d === null) throw validation('A value provided cannot be converted into a number');
  return d;
}

// ---------------------------------------------------------------------------------------------
// Attribute values.

export function typeOf(v: DdbValue): DdbType {
  for (const t of TYPES) if (Object.hasOwn(v, t)) return t;
  throw new Error('not an attribute value');
}

function isBytes(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array;
}

function bytesKey(b: Uint8Array): string {
  return Buffer.from(b).toString('base64');
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** String order as DynamoDB compares strings: by their UTF-8 bytes. */
function compareStrings(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const EMPTY_SET: Record<'SS' | 'NS' | 'BS', string> = {
  SS: 'One or more parameter values were invalid: An string set  may not be empty',
  NS: 'One or more parameter values were invalid: An number set  may not be empty',
  BS: 'One or more parameter values were invalid: Binary sets should not be empty',
};

/**
 * Validates an attribute value from a request (the SDK's wire shape) and returns a private copy
 * with numbers normalized (`1.50` → `1.5`), as DynamoDB stores them.
 */
export function validateValue(raw: unknown): DdbValue {
  if (raw === null || typeof raw !== 'object') throw validation('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
  const present = Object.entries(raw as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (present.length === 0) throw validation('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
  if (present.length > 1) throw validation('Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes');
  const [type, value] = present[0] as [string, unknown];
  switch (type) {
    case 'S':
      if (typeof value !== 'string') break;
      return { S: value };
    case 'N':
      if (typeof value !== 'string') break;
      return { N: checkedNumber(parseDecimal(value)) };
    case 'B':
      if (!isBytes(value)) break;
      return { B: Uint8Array.from(value) };
    case 'BOOL':
      if (typeof value !== 'boolean') break;
      return { BOOL: value };
    case 'NULL':
      if (value !== true) throw validation('One or more parameter values were invalid: Null attribute value types must have the value of true');
      return { NULL: true };
    case 'SS':
    case 'NS':
    case 'BS': {
      if (!Array.isArray(value)) break;
      if (value.length === 0) throw validation(EMPTY_SET[type]);
      const seen = new Set<string>();
      const out: (string | Uint8Array)[] = [];
      for (const e of value as unknown[]) {
        let k: string;
        if (type === 'SS') {
          if (typeof e !== 'string') throw validation('One or more parameter values were invalid: A string set may only contain strings');
          k = e;
          out.push(e);
        } else if (type === 'NS') {
          if (typeof e !== 'string') throw validation('A value provided cannot be converted into a number');
          k = checkedNumber(parseDecimal(e));
          out.push(k);
        } else {
          if (!isBytes(e)) throw validation('One or more parameter values were invalid: A binary set may only contain binary values');
          k = bytesKey(e);
          out.push(Uint8Array.from(e));
        }
        if (seen.has(k)) throw validation(`One or more parameter values were invalid: Input collection [${(value as unknown[]).map((x) => (isBytes(x) ? bytesKey(x) : String(x))).join(', ')}] contains duplicates.`);
        seen.add(k);
      }
      return type === 'SS' ? { SS: out as string[] } : type === 'NS' ? { NS: out as string[] } : { BS: out as Uint8Array[] };
    }
    case 'M': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) break;
      const out: Record<string, DdbValue> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (v !== undefined) out[k] = validateValue(v);
      return { M: out };
    }
    case 'L':
      if (!Array.isArray(value)) break;
      return { L: (value as unknown[]).map(validateValue) };
    default:
      throw validation(`Supplied AttributeValue has an unsupported datatype '${type}'; supported: ${TYPES.join(', ')}`);
  }
  throw validation(`One or more parameter values were invalid: the ${type} member of an AttributeValue has the wrong shape`);
}

/** Validates a whole item (a map of attribute values). */
export function validateItem(raw: unknown, what = 'Item'): Record<string, DdbValue> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw validation(`1 validation error detected: Value null at '${what}' failed to satisfy constraint: Member must not be null`);
  const out: Record<string, DdbValue> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) if (v !== undefined) out[k] = validateValue(v);
  return out;
}

/** A deep copy (so that callers never hold the table's own objects). */
export function copyValue(v: DdbValue): DdbValue {
  if ('B' in v) return { B: Uint8Array.from(v.B) };
  if ('BS' in v) return { BS: v.BS.map((b) => Uint8Array.from(b)) };
  if ('SS' in v) return { SS: [...v.SS] };
  if ('NS' in v) return { NS: [...v.NS] };
  if ('M' in v) return { M: copyItem(v.M) };
  if ('L' in v) return { L: v.L.map(copyValue) };
  return { ...v } as DdbValue;
}

export function copyItem(item: DdbItem): Record<string, DdbValue> {
  const out: Record<string, DdbValue> = {};
  for (const [k, v] of Object.entries(item)) out[k] = copyValue(v);
  return out;
}

/** Equality as `=` defines it: same type and same value (numbers numerically, sets as sets). */
export function valueEquals(a: DdbValue, b: DdbValue): boolean {
  const t = typeOf(a);
  if (t !== typeOf(b)) return false;
  switch (t) {
    case 'S':
      return (a as { S: string }).S === (b as { S: string }).S;
    case 'N':
      return compareDecimal(numberOf((a as { N: string }).N), numberOf((b as { N: string }).N)) === 0;
    case 'B':
      return compareBytes((a as { B: Uint8Array }).B, (b as { B: Uint8Array }).B) === 0;
    case 'BOOL':
      return (a as { BOOL: boolean }).BOOL === (b as { BOOL: boolean }).BOOL;
    case 'NULL':
      return true;
    case 'SS':
    case 'NS':
    case 'BS': {
      const x = setKeys(a);
      const y = setKeys(b);
      return x.size === y.size && [...x].every((k) => y.has(k));
    }
    case 'M': {
      const x = (a as { M: DdbItem }).M;
      const y = (b as { M: DdbItem }).M;
      const kx = Object.keys(x);
      if (kx.length !== Object.keys(y).length) return false;
      return kx.every((k) => Object.hasOwn(y, k) && valueEquals(x[k] as DdbValue, y[k] as DdbValue));
    }
    case 'L': {
      const x = (a as { L: readonly DdbValue[] }).L;
      const y = (b as { L: readonly DdbValue[] }).L;
      return x.length === y.length && x.every((e, i) => valueEquals(e, y[i] as DdbValue));
    }
  }
}

function setKeys(v: DdbValue): Set<string> {
  if ('SS' in v) return new Set(v.SS);
  if ('NS' in v) return new Set(v.NS.map((n) => decimalToString(numberOf(n))));
  if ('BS' in v) return new Set(v.BS.map(bytesKey));
  return new Set();
}

/** `<`, `<=`, `>`, `>=`, BETWEEN: only S, N and B of the same type compare; anything else is false. */
function order(a: DdbValue, b: DdbValue): number | null {
  if ('S' in a && 'S' in b) return compareStrings(a.S, b.S);
  if ('N' in a && 'N' in b) return compareDecimal(numberOf(a.N), numberOf(b.N));
  if ('B' in a && 'B' in b) return compareBytes(a.B, b.B);
  return null;
}

/** A short rendering for messages: `{N:5}`. */
export function renderValue(v: DdbValue): string {
  const t = typeOf(v);
  const x = (v as Record<string, unknown>)[t];
  if (t === 'M' || t === 'L') return `{${t}:…}`;
  if (t === 'B') return `{B:${bytesKey(x as Uint8Array)}}`;
  if (t === 'BS') return `{BS:[${(x as Uint8Array[]).map(bytesKey).join(', ')}]}`;
  return `{${t}:${Array.isArray(x) ? `[${x.join(', ')}]` : String(x)}}`;
}

// ---------------------------------------------------------------------------------------------
// Expression attribute names and values of one request.

/**
 * The `ExpressionAttributeNames` and `ExpressionAttributeValues` of one request, with what the
 * request's expressions used of them (a request must use every name and value it supplies).
 */
export class ExpressionAttributes {
  readonly #names: ReadonlyMap<string, string>;
  readonly #values: ReadonlyMap<string, DdbValue>;
  readonly #usedNames = new Set<string>();
  readonly #usedValues = new Set<string>();

  constructor(names: unknown, values: unknown, hasExpression: boolean) {
    this.#names = ExpressionAttributes.#readNames(names, hasExpression);
    this.#values = ExpressionAttributes.#readValues(values, hasExpression);
  }

  static #readNames(raw: unknown, hasExpression: boolean): ReadonlyMap<string, string> {
    if (raw === undefined || raw === null) return new Map();
    if (!hasExpression) throw validation('ExpressionAttributeNames can only be specified when using expressions');
    const entries = Object.entries(raw as Record<string, unknown>);
    if (entries.length === 0) throw validation('ExpressionAttributeNames must not be empty');
    for (const [k, v] of entries) {
      if (!/^#[A-Za-z0-9_]+$/.test(k)) throw validation(`ExpressionAttributeNames contains invalid key: Syntax error; key: "${k}"`);
      if (typeof v !== 'string' || v.length === 0) throw validation(`ExpressionAttributeNames contains invalid value: Empty attribute name for key ${k}`);
    }
    return new Map(entries as [string, string][]);
  }

  static #readValues(raw: unknown, hasExpression: boolean): ReadonlyMap<string, DdbValue> {
    if (raw === undefined || raw === null) return new Map();
    if (!hasExpression) throw validation('ExpressionAttributeValues can only be specified when using expressions');
    const entries = Object.entries(raw as Record<string, unknown>);
    if (entries.length === 0) throw validation('ExpressionAttributeValues must not be empty');
    const out = new Map<string, DdbValue>();
    for (const [k, v] of entries) {
      if (!/^:[A-Za-z0-9_]+$/.test(k)) throw validation(`ExpressionAttributeValues contains invalid key: Syntax error; key: "${k}"`);
      try {
        out.set(k, validateValue(v));
      } catch (e) {
        throw validation(`ExpressionAttributeValues contains invalid value: ${(e as Error).message} for key ${k}`);
      }
    }
    return out;
  }

  /** Resolves `#name` (recording its use) or checks a bare name against the reserved words. */
  name(token: string, scope: Scope): string {
    if (token.startsWith('#')) {
      const n = this.#names.get(token);
      if (n === undefined) {
        scope.defer(`An expression attribute name used in the document path is not defined; attribute name: ${token}`);
        return token;
      }
      this.#usedNames.add(token);
      return n;
    }
    if (RESERVED.has(token.toUpperCase())) scope.defer(`Attribute name is a reserved keyword; reserved keyword: ${token}`);
    return token;
  }

  value(token: string, scope: Scope): DdbValue {
    const v = this.#values.get(token);
    if (v === undefined) {
      scope.defer(`An expression attribute value used in expression is not defined; attribute value: ${token}`);
      return { NULL: true };
    }
    this.#usedValues.add(token);
    return v;
  }

  /** After every expression of the request is parsed: names or values supplied but unused are an error. */
  checkUnused(): void {
    const names = [...this.#names.keys()].filter((k) => !this.#usedNames.has(k)).sort();
    if (names.length > 0) throw validation(`Value provided in ExpressionAttributeNames unused in expressions: keys: {${names.join(', ')}}`);
    const values = [...this.#values.keys()].filter((k) => !this.#usedValues.has(k)).sort();
    if (values.length > 0) throw validation(`Value provided in ExpressionAttributeValues unused in expressions: keys: {${values.join(', ')}}`);
  }
}

/** Collects the first resolution error of one expression, reported only once the whole expression parsed (syntax errors win). */
class Scope {
  readonly kind: ExpressionKind;
  #first: string | null = null;
  constructor(kind: ExpressionKind) {
    this.kind = kind;
  }
  defer(message: string): void {
    this.#first ??= message;
  }
  error(message: string): Error {
    return validation(`Invalid ${this.kind}: ${message}`);
  }
  settle(): void {
    if (this.#first !== null) throw this.error(this.#first);
  }
}

// ---------------------------------------------------------------------------------------------
// Tokens.

type TokenKind = 'name' | 'nameref' | 'valueref' | 'number' | 'punct' | 'eof';
interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly pos: number;
}

const PUNCT = ['<>', '<=', '>=', '(', ')', '[', ']', ',', '.', '=', '<', '>', '+', '-'];

function tokenize(src: string, scope: Scope): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = src.slice(i);
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest) ?? null;
    if (m) {
      out.push({ kind: 'name', text: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    const ref = /^[#:][A-Za-z0-9_]+/.exec(rest);
    if (ref) {
      out.push({ kind: ref[0].startsWith('#') ? 'nameref' : 'valueref', text: ref[0], pos: i });
      i += ref[0].length;
      continue;
    }
    const num = /^[0-9]+/.exec(rest);
    if (num) {
      out.push({ kind: 'number', text: num[0], pos: i });
      i += num[0].length;
      continue;
    }
    const p = PUNCT.find((x) => rest.startsWith(x));
    if (p) {
      out.push({ kind: 'punct', text: p, pos: i });
      i += p.length;
      continue;
    }
    const prev = out[out.length - 1];
    throw scope.error(`Invalid token: "${c}", near: "${src.slice(prev?.pos ?? i, i + 1)}"`);
  }
  out.push({ kind: 'eof', text: '<EOF>', pos: src.length });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Syntax trees (names and values already resolved).

export type PathElement = { readonly name: string } | { readonly index: number };
export type DocumentPath = readonly PathElement[];

type Operand =
  | { readonly kind: 'path'; readonly path: DocumentPath }
  | { readonly kind: 'value'; readonly value: DdbValue; readonly token: string }
  | { readonly kind: 'size'; readonly path: DocumentPath };

type Comparator = '=' | '<>' | '<' | '<=' | '>' | '>=';

/** A parsed ConditionExpression. */
export type Condition =
  | { readonly kind: 'compare'; readonly op: Comparator; readonly left: Operand; readonly right: Operand }
  | { readonly kind: 'between'; readonly subject: Operand; readonly low: Operand; readonly high: Operand }
  | { readonly kind: 'in'; readonly subject: Operand; readonly list: readonly Operand[] }
  | { readonly kind: 'attribute_exists' | 'attribute_not_exists'; readonly path: DocumentPath }
  | { readonly kind: 'attribute_type'; readonly path: DocumentPath; readonly type: Operand }
  | { readonly kind: 'begins_with' | 'contains'; readonly subject: Operand; readonly operand: Operand }
  | { readonly kind: 'and' | 'or'; readonly left: Condition; readonly right: Condition }
  | { readonly kind: 'not'; readonly condition: Condition };

type SetOperand =
  | Operand
  | { readonly kind: 'if_not_exists'; readonly path: DocumentPath; readonly fallback: SetOperand }
  | { readonly kind: 'list_append'; readonly first: SetOperand; readonly second: SetOperand };

type SetValue = SetOperand | { readonly kind: 'arith'; readonly op: '+' | '-'; readonly left: SetOperand; readonly right: SetOperand };

/** A parsed UpdateExpression: its actions by clause. */
export interface UpdatePlan {
  readonly set: readonly { readonly path: DocumentPath; readonly value: SetValue }[];
  readonly remove: readonly DocumentPath[];
  readonly add: readonly { readonly path: DocumentPath; readonly value: DdbValue }[];
  readonly delete: readonly { readonly path: DocumentPath; readonly value: DdbValue }[];
}

const CONDITION_FUNCTIONS = new Set(['attribute_exists', 'attribute_not_exists', 'attribute_type', 'begins_with', 'contains', 'size']);
const UPDATE_FUNCTIONS = new Set(['if_not_exists', 'list_append']);
const COMPARATORS = new Set<string>(['=', '<>', '<', '<=', '>', '>=']);
const ATTRIBUTE_TYPES = new Set<string>(TYPES);

class Parser {
  readonly #src: string;
  readonly #tokens: Token[];
  readonly #attrs: ExpressionAttributes;
  readonly scope: Scope;
  #i = 0;

  constructor(src: string, kind: ExpressionKind, attrs: ExpressionAttributes) {
    this.#src = src;
    this.scope = new Scope(kind);
    this.#attrs = attrs;
    this.#tokens = tokenize(src, this.scope);
  }

  get #peek(): Token {
    return this.#tokens[this.#i] as Token;
  }

  #next(): Token {
    const t = this.#peek;
    if (t.kind !== 'eof') this.#i++;
    return t;
  }

  #isPunct(text: string, t: Token = this.#peek): boolean {
    return t.kind === 'punct' && t.text === text;
  }

  #isKeyword(word: string, t: Token = this.#peek): boolean {
    return t.kind === 'name' && t.text.toUpperCase() === word;
  }

  #after(t: Token): Token {
    return this.#tokens[this.#tokens.indexOf(t) + 1] ?? t;
  }

  /** AWS's syntax error: the offending token and the text around it. */
  syntaxError(t: Token = this.#peek): Error {
    const idx = this.#tokens.indexOf(t);
    const prev = idx > 0 ? (this.#tokens[idx - 1] as Token) : t;
    const near = t.kind === 'eof' ? this.#src.slice(prev.pos) : this.#src.slice(prev.pos, t.pos + t.text.length);
    return this.scope.error(`Syntax error; token: "${t.text}", near: "${near}"`);
  }

  #expectPunct(text: string): void {
    if (!this.#isPunct(text)) throw this.syntaxError();
    this.#next();
  }

  expectEnd(): void {
    if (this.#peek.kind !== 'eof') throw this.syntaxError();
  }

  // document-path ::= element ( '.' element | '[' n ']' )*
  path(): DocumentPath {
    const first = this.#next();
    if (first.kind !== 'name' && first.kind !== 'nameref') throw this.syntaxError(first);
    const out: PathElement[] = [{ name: this.#attrs.name(first.text, this.scope) }];
    for (;;) {
      if (this.#isPunct('.')) {
        this.#next();
        const t = this.#next();
        if (t.kind !== 'name' && t.kind !== 'nameref') throw this.syntaxError(t);
        out.push({ name: this.#attrs.name(t.text, this.scope) });
      } else if (this.#isPunct('[')) {
        this.#next();
        const t = this.#next();
        if (t.kind !== 'number') throw this.syntaxError(t);
        this.#expectPunct(']');
        out.push({ index: Number(t.text) });
      } else return out;
    }
  }

  #isCall(): boolean {
    return this.#peek.kind === 'name' && this.#isPunct('(', this.#after(this.#peek));
  }

  // operand ::= path | :value | size(path)
  operand(): Operand {
    const t = this.#peek;
    if (t.kind === 'valueref') {
      this.#next();
      return { kind: 'value', value: this.#attrs.value(t.text, this.scope), token: t.text };
    }
    if (this.#isCall()) {
      const fn = t.text;
      if (fn !== 'size') {
        if (CONDITION_FUNCTIONS.has(fn)) throw this.scope.error(`The function is not allowed to be used this way in an expression; function: ${fn}`);
        if (UPDATE_FUNCTIONS.has(fn)) throw this.scope.error(`The function is not allowed in a condition expression; function: ${fn}`);
        throw this.scope.error(`Invalid function name; function: ${fn}`);
      }
      this.#next();
      this.#next();
      const p = this.#pathArgument('size');
      this.#expectPunct(')');
      return { kind: 'size', path: p };
    }
    if (t.kind === 'name' || t.kind === 'nameref') return { kind: 'path', path: this.path() };
    throw this.syntaxError();
  }

  #pathArgument(fn: string): DocumentPath {
    const t = this.#peek;
    if (t.kind === 'valueref') throw this.scope.error(`Operator or function requires a document path; operator or function: ${fn}`);
    return this.path();
  }

  // condition ::= and-condition ( OR and-condition )*
  condition(): Condition {
    let left = this.#and();
    while (this.#isKeyword('OR')) {
      this.#next();
      left = { kind: 'or', left, right: this.#and() };
    }
    return left;
  }

  #and(): Condition {
    let left = this.#not();
    while (this.#isKeyword('AND')) {
      this.#next();
      left = { kind: 'and', left, right: this.#not() };
    }
    return left;
  }

  #not(): Condition {
    if (this.#isKeyword('NOT')) {
      this.#next();
      return { kind: 'not', condition: this.#not() };
    }
    return this.#primary();
  }

  #primary(): Condition {
    if (this.#isPunct('(')) {
      this.#next();
      const c = this.condition();
      this.#expectPunct(')');
      return c;
    }
    if (this.#isCall() && this.#peek.text !== 'size') return this.#conditionFunction();
    const subject = this.operand();
    const t = this.#peek;
    if (t.kind === 'punct' && COMPARATORS.has(t.text)) {
      this.#next();
      return { kind: 'compare', op: t.text as Comparator, left: subject, right: this.operand() };
    }
    if (this.#isKeyword('BETWEEN')) {
      this.#next();
      const low = this.operand();
      if (!this.#isKeyword('AND')) throw this.syntaxError();
      this.#next();
      return { kind: 'between', subject, low, high: this.operand() };
    }
    if (this.#isKeyword('IN')) {
      this.#next();
      this.#expectPunct('(');
      const list = [this.operand()];
      while (this.#isPunct(',')) {
        this.#next();
        list.push(this.operand());
      }
      this.#expectPunct(')');
      if (list.length > 100) throw this.scope.error(`The IN operator is provided with too many operands; number of operands: ${list.length}`);
      return { kind: 'in', subject, list };
    }
    throw this.syntaxError();
  }

  #conditionFunction(): Condition {
    const fn = this.#next().text;
    this.#next(); // (
    let c: Condition;
    switch (fn) {
      case 'attribute_exists':
      case 'attribute_not_exists':
        c = { kind: fn, path: this.#pathArgument(fn) };
        break;
      case 'attribute_type': {
        const p = this.#pathArgument(fn);
        this.#expectPunct(',');
        c = { kind: 'attribute_type', path: p, type: this.operand() };
        break;
      }
      case 'begins_with':
      case 'contains': {
        const subject = this.operand();
        this.#expectPunct(',');
        c = { kind: fn, subject, operand: this.operand() };
        break;
      }
      default:
        if (UPDATE_FUNCTIONS.has(fn)) throw this.scope.error(`The function is not allowed in a condition expression; function: ${fn}`);
        throw this.scope.error(`Invalid function name; function: ${fn}`);
    }
    this.#expectPunct(')');
    return c;
  }

  // update ::= ( SET set-action, … | REMOVE path, … | ADD path value, … | DELETE path value, … )+
  update(): UpdatePlan {
    const plan = { set: [] as UpdatePlan['set'][number][], remove: [] as DocumentPath[], add: [] as UpdatePlan['add'][number][], delete: [] as UpdatePlan['delete'][number][] };
    const seen = new Set<string>();
    const eof = (): boolean => this.#peek.kind === 'eof';
    if (eof()) throw this.syntaxError();
    while (!eof()) {
      const t = this.#next();
      const clause = t.kind === 'name' ? t.text.toUpperCase() : '';
      if (!['SET', 'REMOVE', 'ADD', 'DELETE'].includes(clause)) throw this.syntaxError(t);
      if (seen.has(clause)) throw this.scope.error(`The "${clause}" section can only be used once in an update expression;`);
      seen.add(clause);
      for (;;) {
        if (clause === 'SET') {
          const path = this.path();
          this.#expectPunct('=');
          plan.set.push({ path, value: this.#setValue() });
        } else if (clause === 'REMOVE') {
          plan.remove.push(this.path());
        } else {
          const path = this.path();
          const v = this.#peek;
          if (v.kind !== 'valueref') throw this.syntaxError(v);
          this.#next();
          (clause === 'ADD' ? plan.add : plan.delete).push({ path, value: this.#attrs.value(v.text, this.scope) });
        }
        if (!this.#isPunct(',')) break;
        this.#next();
      }
    }
    return plan;
  }

  #setValue(): SetValue {
    const left = this.#setOperand();
    if (this.#isPunct('+') || this.#isPunct('-')) {
      const op = this.#next().text as '+' | '-';
      return { kind: 'arith', op, left, right: this.#setOperand() };
    }
    return left;
  }

  #setOperand(): SetOperand {
    if (this.#isCall()) {
      const fn = this.#next().text;
      this.#next(); // (
      let out: SetOperand;
      if (fn === 'if_not_exists') {
        const p = this.#pathArgument(fn);
        this.#expectPunct(',');
        out = { kind: 'if_not_exists', path: p, fallback: this.#setOperand() };
      } else if (fn === 'list_append') {
        const first = this.#setOperand();
        this.#expectPunct(',');
        out = { kind: 'list_append', first, second: this.#setOperand() };
      } else if (CONDITION_FUNCTIONS.has(fn)) {
        throw this.scope.error(`The function is not allowed in an update expression; function: ${fn}`);
      } else throw this.scope.error(`Invalid function name; function: ${fn}`);
      this.#expectPunct(')');
      return out;
    }
    const t = this.#peek;
    if (t.kind === 'valueref') {
      this.#next();
      return { kind: 'value', value: this.#attrs.value(t.text, this.scope), token: t.text };
    }
    return { kind: 'path', path: this.path() };
  }

  projection(): DocumentPath[] {
    const out = [this.path()];
    while (this.#isPunct(',')) {
      this.#next();
      out.push(this.path());
    }
    return out;
  }
}

/** Parses a ConditionExpression, resolving its names and values (and recording their use). */
export function parseCondition(text: string, attrs: ExpressionAttributes): Condition {
  if (text.trim().length === 0) throw validation('Invalid ConditionExpression: The expression can not be empty;');
  const p = new Parser(text, 'ConditionExpression', attrs);
  const c = p.condition();
  p.expectEnd();
  p.scope.settle();
  checkCondition(c, p.scope);
  return c;
}

/** Parses an UpdateExpression; `keyNames` are the table's key attributes, which no action may touch. */
export function parseUpdate(text: string, attrs: ExpressionAttributes, keyNames: readonly string[]): UpdatePlan {
  if (text.trim().length === 0) throw validation('Invalid UpdateExpression: The expression can not be empty;');
  const p = new Parser(text, 'UpdateExpression', attrs);
  const plan = p.update();
  p.scope.settle();
  const paths = [...plan.set.map((a) => a.path), ...plan.remove, ...plan.add.map((a) => a.path), ...plan.delete.map((a) => a.path)];
  for (let i = 0; i < paths.length; i++) {
    for (let j = i + 1; j < paths.length; j++) {
      const a = paths[i] as DocumentPath;
      const b = paths[j] as DocumentPath;
      if (isPrefix(a, b) || isPrefix(b, a)) throw p.scope.error(`Two document paths overlap with each other; must remove or rewrite one of these paths; path one: ${formatPath(a)}, path two: ${formatPath(b)}`);
    }
  }
  for (const path of paths) {
    const top = path[0] as { name: string };
    if (keyNames.includes(top.name)) throw validation(`One or more parameter values were invalid: Cannot update attribute ${top.name}. This attribute is part of the key`);
  }
  for (const a of plan.add) {
    const t = typeOf(a.value);
    if (t !== 'N' && t !== 'SS' && t !== 'NS' && t !== 'BS') throw p.scope.error(`Incorrect operand type for operator or function; operator: ADD, operand type: ${t}`);
  }
  for (const d of plan.delete) {
    const t = typeOf(d.value);
    if (t !== 'SS' && t !== 'NS' && t !== 'BS') throw p.scope.error(`Incorrect operand type for operator or function; operator: DELETE, operand type: ${t}`);
  }
  for (const s of plan.set) checkSetValue(s.value, p.scope);
  return plan;
}

/** Parses a ProjectionExpression into its document paths. */
export function parseProjection(text: string, attrs: ExpressionAttributes): DocumentPath[] {
  if (text.trim().length === 0) throw validation('Invalid ProjectionExpression: The expression can not be empty;');
  const p = new Parser(text, 'ProjectionExpression', attrs);
  const paths = p.projection();
  p.expectEnd();
  p.scope.settle();
  return paths;
}

function isPrefix(a: DocumentPath, b: DocumentPath): boolean {
  if (a.length > b.length) return false;
  return a.every((e, i) => {
    const f = b[i] as PathElement;
    return 'name' in e ? 'name' in f && f.name === e.name : 'index' in f && f.index === e.index;
  });
}

export function formatPath(p: DocumentPath): string {
  return `[${p.map((e) => ('name' in e ? e.name : `[${e.index}]`)).join(', ')}]`;
}

/** Static checks AWS makes on constant operands before it looks at the item. */
function checkCondition(c: Condition, scope: Scope): void {
  switch (c.kind) {
    case 'and':
    case 'or':
      checkCondition(c.left, scope);
      checkCondition(c.right, scope);
      return;
    case 'not':
      checkCondition(c.condition, scope);
      return;
    case 'attribute_type': {
      const t = c.type.kind === 'value' ? c.type.value : null;
      if (t === null || !('S' in t)) throw scope.error(`Incorrect operand type for operator or function; operator or function: attribute_type, operand type: ${t ? typeOf(t) : 'path'}`);
      if (!ATTRIBUTE_TYPES.has(t.S)) throw scope.error(`Invalid attribute type name found; type: ${t.S}, valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }`);
      return;
    }
    case 'begins_with': {
      for (const o of [c.subject, c.operand]) {
        if (o.kind === 'value' && !('S' in o.value) && !('B' in o.value)) throw scope.error(`Incorrect operand type for operator or function; operator or function: begins_with, operand type: ${typeOf(o.value)}`);
      }
      return;
    }
    case 'between': {
      if (c.low.kind === 'value' && c.high.kind === 'value') {
        const o = order(c.low.value, c.high.value);
        if (o !== null && o > 0) throw scope.error(`The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower operand: AttributeValue: ${renderValue(c.low.value)}, upper operand: AttributeValue: ${renderValue(c.high.value)}`);
      }
      return;
    }
    default:
      return;
  }
}

function checkSetValue(v: SetValue, scope: Scope): void {
  if (v.kind === 'arith') {
    for (const o of [v.left, v.right]) {
      if (o.kind === 'value' && !('N' in o.value)) throw scope.error(`Incorrect operand type for operator or function; operator or function: ${v.op}, operand type: ${typeOf(o.value)}`);
      checkSetValue(o, scope);
    }
  } else if (v.kind === 'list_append') {
    for (const o of [v.first, v.second]) {
      if (o.kind === 'value' && !('L' in o.value)) throw scope.error(`Incorrect operand type for operator or function; operator or function: list_append, operand type: ${typeOf(o.value)}`);
      checkSetValue(o, scope);
    }
  } else if (v.kind === 'if_not_exists') checkSetValue(v.fallback, scope);
}

// ---------------------------------------------------------------------------------------------
// Evaluation.

/** The value at a document path of an item, or undefined. */
export function getPath(item: DdbItem | undefined, path: DocumentPath): DdbValue | undefined {
  let cur: DdbValue | undefined;
  for (let i = 0; i < path.length; i++) {
    const e = path[i] as PathElement;
    if (i === 0) {
      if (!item || !('name' in e) || !Object.hasOwn(item, e.name)) return undefined;
      cur = item[e.name];
      continue;
    }
    if (cur === undefined) return undefined;
    if ('name' in e) {
      if (!('M' in cur) || !Object.hasOwn(cur.M, e.name)) return undefined;
      cur = cur.M[e.name];
    } else {
      if (!('L' in cur)) return undefined;
      cur = cur.L[e.index];
    }
  }
  return cur;
}

function operandValue(o: Operand, item: DdbItem | undefined): DdbValue | undefined {
  switch (o.kind) {
    case 'value':
      return o.value;
    case 'path':
      return getPath(item, o.path);
    case 'size': {
      const v = getPath(item, o.path);
      if (v === undefined) return undefined;
      let n: number | null = null;
      if ('S' in v) n = [...v.S].length;
      else if ('B' in v) n = v.B.byteLength;
      else if ('SS' in v) n = v.SS.length;
      else if ('NS' in v) n = v.NS.length;
      else if ('BS' in v) n = v.BS.length;
      else if ('L' in v) n = v.L.length;
      else if ('M' in v) n = Object.keys(v.M).length;
      return n === null ? undefined : { N: String(n) };
    }
  }
}

/** Evaluates a condition against the item as it is now (`undefined`: no item). */
export function evaluateCondition(c: Condition, item: DdbItem | undefined): boolean {
  switch (c.kind) {
    case 'and':
      return evaluateCondition(c.left, item) && evaluateCondition(c.right, item);
    case 'or':
      return evaluateCondition(c.left, item) || evaluateCondition(c.right, item);
    case 'not':
      return !evaluateCondition(c.condition, item);
    case 'attribute_exists':
      return getPath(item, c.path) !== undefined;
    case 'attribute_not_exists':
      return getPath(item, c.path) === undefined;
    case 'attribute_type': {
      const v = getPath(item, c.path);
      const t = operandValue(c.type, item);
      return v !== undefined && t !== undefined && 'S' in t && typeOf(v) === t.S;
    }
    case 'begins_with': {
      const v = operandValue(c.subject, item);
      const p = operandValue(c.operand, item);
      if (!v || !p) return false;
      if ('S' in v && 'S' in p) return v.S.startsWith(p.S);
      if ('B' in v && 'B' in p) return v.B.byteLength >= p.B.byteLength && compareBytes(v.B.subarray(0, p.B.byteLength), p.B) === 0;
      return false;
    }
    case 'contains': {
      const v = operandValue(c.subject, item);
      const x = operandValue(c.operand, item);
      if (!v || !x) return false;
      if ('S' in v) return 'S' in x && v.S.includes(x.S);
      if ('SS' in v) return 'S' in x && v.SS.includes(x.S);
      if ('NS' in v) return 'N' in x && v.NS.some((n) => compareDecimal(numberOf(n), numberOf(x.N)) === 0);
      if ('BS' in v) return 'B' in x && v.BS.some((b) => compareBytes(b, x.B) === 0);
      if ('L' in v) return v.L.some((e) => valueEquals(e, x));
      return false;
    }
    case 'compare': {
      const l = operandValue(c.left, item);
      const r = operandValue(c.right, item);
      if (c.op === '=') return l !== undefined && r !== undefined && valueEquals(l, r);
      // A missing attribute is "not equal" to anything.
      if (c.op === '<>') return !(l !== undefined && r !== undefined && valueEquals(l, r));
      if (l === undefined || r === undefined) return false;
      const o = order(l, r);
      if (o === null) return false;
      return c.op === '<' ? o < 0 : c.op === '<=' ? o <= 0 : c.op === '>' ? o > 0 : o >= 0;
    }
    case 'between': {
      const s = operandValue(c.subject, item);
      const lo = operandValue(c.low, item);
      const hi = operandValue(c.high, item);
      if (!s || !lo || !hi) return false;
      const a = order(s, lo);
      const b = order(s, hi);
      return a !== null && b !== null && a >= 0 && b <= 0;
    }
    case 'in': {
      const s = operandValue(c.subject, item);
      return s !== undefined && c.list.some((o) => {
        const v = operandValue(o, item);
        return v !== undefined && valueEquals(s, v);
      });
    }
  }
}

const MISSING_ATTRIBUTE = 'The provided expression refers to an attribute that does not exist in the item';
const INVALID_PATH = 'The document path provided in the update expression is invalid for update';

function setOperandValue(o: SetOperand, item: DdbItem | undefined): DdbValue {
  switch (o.kind) {
    case 'if_not_exists':
      return getPath(item, o.path) ?? setOperandValue(o.fallback, item);
    case 'list_append': {
      const a = setOperandValue(o.first, item);
      const b = setOperandValue(o.second, item);
      for (const v of [a, b]) if (!('L' in v)) throw validation(`Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: ${typeOf(v)}`);
      return { L: [...(a as { L: DdbValue[] }).L, ...(b as { L: DdbValue[] }).L] };
    }
    case 'size':
      throw validation('Invalid UpdateExpression: The function is not allowed in an update expression; function: size');
    default: {
      const v = operandValue(o, item);
      if (v === undefined) throw validation(MISSING_ATTRIBUTE);
      return v;
    }
  }
}

function setValueOf(v: SetValue, item: DdbItem | undefined): DdbValue {
  if (v.kind !== 'arith') return setOperandValue(v, item);
  const a = setOperandValue(v.left, item);
  const b = setOperandValue(v.right, item);
  for (const x of [a, b]) if (!('N' in x)) throw validation(`Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: ${v.op}, operand type: ${typeOf(x)}`);
  return { N: checkedNumber(addDecimal(numberOf((a as { N: string }).N), numberOf((b as { N: string }).N), v.op === '-')) };
}

type MutableContainer = Record<string, DdbValue> | DdbValue[];

/** The container (map members or list) that holds the last element of `path`, or null. */
function parentOf(item: Record<string, DdbValue>, path: DocumentPath): MutableContainer | null {
  if (path.length === 1) return item;
  const parent = getPath(item, path.slice(0, -1));
  if (parent === undefined) return null;
  const last = path[path.length - 1] as PathElement;
  if ('name' in last) return 'M' in parent ? (parent.M as Record<string, DdbValue>) : null;
  return 'L' in parent ? (parent.L as DdbValue[]) : null;
}

function putAt(item: Record<string, DdbValue>, path: DocumentPath, value: DdbValue): void {
  const container = parentOf(item, path);
  const last = path[path.length - 1] as PathElement;
  if (container === null) throw validation(INVALID_PATH);
  if (Array.isArray(container)) {
    const i = (last as { index: number }).index;
    if (i >= container.length) container.push(value);
    else container[i] = value;
  } else container[(last as { name: string }).name] = value;
}

/** The result of applying an update: the new item and the paths it touched. */
export interface UpdateResult {
  readonly item: Record<string, DdbValue>;
  readonly updatedPaths: readonly DocumentPath[];
}

/**
 * Applies an update to (a copy of) `item`: every right-hand side is evaluated against the item
 * as it was, then REMOVE, SET, ADD and DELETE are applied (their paths never overlap).
 */
export function applyUpdate(plan: UpdatePlan, item: DdbItem | undefined, key: DdbItem): UpdateResult {
  const before = item;
  const next: Record<string, DdbValue> = item ? copyItem(item) : copyItem(key);
  const values = plan.set.map((s) => copyValue(setValueOf(s.value, before)));
  // REMOVE list elements from the highest index down, so that indices refer to the list as it was.
  const removals = [...plan.remove].sort((a, b) => {
    const x = a[a.length - 1] as PathElement;
    const y = b[b.length - 1] as PathElement;
    return 'index' in x && 'index' in y ? y.index - x.index : 0;
  });
  for (const path of removals) {
    const container = parentOf(next, path);
    if (container === null) continue;
    const last = path[path.length - 1] as PathElement;
    if (Array.isArray(container)) {
      const i = (last as { index: number }).index;
      if (i < container.length) container.splice(i, 1);
    } else delete container[(last as { name: string }).name];
  }
  plan.set.forEach((s, i) => putAt(next, s.path, values[i] as DdbValue));
  for (const a of plan.add) {
    const cur = getPath(next, a.path);
    if (cur === undefined) {
      putAt(next, a.path, copyValue(a.value));
      continue;
    }
    if ('N' in cur && 'N' in a.value) {
      putAt(next, a.path, { N: checkedNumber(addDecimal(numberOf(cur.N), numberOf(a.value.N), false)) });
      continue;
    }
    if (typeOf(cur) === typeOf(a.value) && ('SS' in cur || 'NS' in cur || 'BS' in cur)) {
      putAt(next, a.path, setUnion(cur, a.value));
      continue;
    }
    throw validation(`Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: ${typeOf(cur)}`);
  }
  for (const d of plan.delete) {
    const cur = getPath(next, d.path);
    if (cur === undefined) continue;
    if (typeOf(cur) !== typeOf(d.value)) throw validation(`Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: ${typeOf(cur)}`);
    const left = setDifference(cur, d.value);
    if (left === null) {
      const container = parentOf(next, d.path);
      const last = d.path[d.path.length - 1] as PathElement;
      if (container && !Array.isArray(container)) delete container[(last as { name: string }).name];
      else if (container && Array.isArray(container)) container.splice((last as { index: number }).index, 1);
    } else putAt(next, d.path, left);
  }
  return { item: next, updatedPaths: [...plan.set.map((s) => s.path), ...plan.remove, ...plan.add.map((a) => a.path), ...plan.delete.map((d) => d.path)] };
}

function setMembers(v: DdbValue): { type: 'SS' | 'NS' | 'BS'; items: (string | Uint8Array)[]; key: (x: string | Uint8Array) => string } {
  if ('SS' in v) return { type: 'SS', items: [...v.SS], key: (x) => x as string };
  if ('NS' in v) return { type: 'NS', items: [...v.NS], key: (x) => decimalToString(numberOf(x as string)) };
  if ('BS' in v) return { type: 'BS', items: v.BS.map((b) => Uint8Array.from(b)), key: (x) => bytesKey(x as Uint8Array) };
  throw new Error('not a set');
}

function fromMembers(type: 'SS' | 'NS' | 'BS', items: (string | Uint8Array)[]): DdbValue {
  return type === 'SS' ? { SS: items as string[] } : type === 'NS' ? { NS: items as string[] } : { BS: items as Uint8Array[] };
}

function setUnion(a: DdbValue, b: DdbValue): DdbValue {
  const x = setMembers(a);
  const y = setMembers(b);
  const keys = new Set(x.items.map(x.key));
  const out = [...x.items];
  for (const e of y.items) {
    if (!keys.has(y.key(e))) {
      keys.add(y.key(e));
      out.push(e);
    }
  }
  return fromMembers(x.type, out);
}

function setDifference(a: DdbValue, b: DdbValue): DdbValue | null {
  const x = setMembers(a);
  const y = setMembers(b);
  const drop = new Set(y.items.map(y.key));
  const out = x.items.filter((e) => !drop.has(x.key(e)));
  return out.length === 0 ? null : fromMembers(x.type, out);
}

interface Selection {
  all: boolean;
  readonly children: Map<string | number, Selection>;
}

/**
 * The parts of an item at the given paths, as DynamoDB returns a projection (and the
 * UPDATED_OLD / UPDATED_NEW return values): nested maps keep their structure, selected list
 * elements are kept in order; paths that do not exist are left out.
 */
export function project(item: DdbItem, paths: readonly DocumentPath[]): Record<string, DdbValue> {
  const root: Selection = { all: false, children: new Map() };
  for (const p of paths) {
    let s = root;
    for (const e of p) {
      const k = 'name' in e ? e.name : e.index;
      let c = s.children.get(k);
      if (!c) {
        c = { all: false, children: new Map() };
        s.children.set(k, c);
      }
      s = c;
    }
    s.all = true;
  }
  const out: Record<string, DdbValue> = {};
  for (const [k, sel] of root.children) {
    if (typeof k !== 'string' || !Object.hasOwn(item, k)) continue;
    const v = projectValue(item[k] as DdbValue, sel);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function projectValue(v: DdbValue, sel: Selection): DdbValue | undefined {
  if (sel.all) return copyValue(v);
  if ('M' in v) {
    const m: Record<string, DdbValue> = {};
    for (const [k, s] of sel.children) {
      if (typeof k !== 'string' || !Object.hasOwn(v.M, k)) continue;
      const x = projectValue(v.M[k] as DdbValue, s);
      if (x !== undefined) m[k] = x;
    }
    return Object.keys(m).length > 0 ? { M: m } : undefined;
  }
  if ('L' in v) {
    const idx = [...sel.children.keys()].filter((k): k is number => typeof k === 'number' && k < v.L.length).sort((a, b) => a - b);
    const l = idx.map((i) => projectValue(v.L[i] as DdbValue, sel.children.get(i) as Selection)).filter((x): x is DdbValue => x !== undefined);
    return l.length > 0 ? { L: l } : undefined;
  }
  return undefined;
}

// The reserved words of DynamoDB expressions (case-insensitive), from the page cited above.
const RESERVED = new Set(
  (
    'ABORT ABSOLUTE ACTION ADD AFTER AGENT AGGREGATE ALL ALLOCATE ALTER ANALYZE AND ANY ARCHIVE ARE ARRAY AS ASC ASCII ASENSITIVE ASSERTION ' +
    'ASYMMETRIC AT ATOMIC ATTACH ATTRIBUTE AUTH AUTHORIZATION AUTHORIZE AUTO AVG BACK BACKUP BASE BATCH BEFORE BEGIN BETWEEN BIGINT BINARY BIT ' +
    'BLOB BLOCK BOOLEAN BOTH BREADTH BUCKET BULK BY BYTE CALL CALLED CALLING CAPACITY CASCADE CASCADED CASE CAST CATALOG CHAR CHARACTER CHECK ' +
    'CLASS CLOB CLOSE CLUSTER CLUSTERED CLUSTERING CLUSTERS COALESCE COLLATE COLLATION COLLECTION COLUMN COLUMNS COMBINE COMMENT COMMIT COMPACT ' +
    'COMPILE COMPRESS CONDITION CONFLICT CONNECT CONNECTION CONSISTENCY CONSISTENT CONSTRAINT CONSTRAINTS CONSTRUCTOR CONSUMED CONTINUE CONVERT ' +
    'COPY CORRESPONDING COUNT COUNTER CREATE CROSS CUBE CURRENT CURSOR CYCLE DATA DATABASE DATE DATETIME DAY DEALLOCATE DEC DECIMAL DECLARE ' +
    'DEFAULT DEFERRABLE DEFERRED DEFINE DEFINED DEFINITION DELETE DELIMITED DEPTH DEREF DESC DESCRIBE DESCRIPTOR DETACH DETERMINISTIC ' +
    'DIAGNOSTICS DIRECTORIES DISABLE DISCONNECT DISTINCT DISTRIBUTE DO DOMAIN DOUBLE DROP DUMP DURATION DYNAMIC EACH ELEMENT ELSE ELSEIF EMPTY ' +
    'ENABLE END EQUAL EQUALS ERROR ESCAPE ESCAPED EVAL EVALUATE EXCEEDED EXCEPT EXCEPTION EXCEPTIONS EXCLUSIVE EXEC EXECUTE EXISTS EXIT EXPLAIN ' +
    'EXPLODE EXPORT EXPRESSION EXTENDED EXTERNAL EXTRACT FAIL FALSE FAMILY FETCH FIELDS FILE FILTER FILTERING FINAL FINISH FIRST FIXED FLATTERN ' +
    'FLOAT FOR FORCE FOREIGN FORMAT FORWARD FOUND FREE FROM FULL FUNCTION FUNCTIONS GENERAL GENERATE GET GLOB GLOBAL GO GOTO GRANT GREATER GROUP ' +
    'GROUPING HANDLER HASH HAVE HAVING HEAP HIDDEN HOLD HOUR IDENTIFIED IDENTITY IF IGNORE IMMEDIATE IMPORT IN INCLUDING INCLUSIVE INCREMENT ' +
    'INCREMENTAL INDEX INDEXED INDEXES INDICATOR INFINITE INITIALLY INLINE INNER INNTER INOUT INPUT INSENSITIVE INSERT INSTEAD INT INTEGER ' +
    'INTERSECT INTERVAL INTO INVALIDATE IS ISOLATION ITEM ITEMS ITERATE JOIN KEY KEYS LAG LANGUAGE LARGE LAST LATERAL LEAD LEADING LEAVE LEFT ' +
    'LENGTH LESS LEVEL LIKE LIMIT LIMITED LINES LIST LOAD LOCAL LOCALTIME LOCALTIMESTAMP LOCATION LOCATOR LOCK LOCKS LOG LOGED LONG LOOP LOWER ' +
    'MAP MATCH MATERIALIZED MAX MAXLEN MEMBER MERGE METHOD METRICS MIN MINUS MINUTE MISSING MOD MODE MODIFIES MODIFY MODULE MONTH MULTI MULTISET ' +
    'NAME NAMES NATIONAL NATURAL NCHAR NCLOB NEW NEXT NO NONE NOT NULL NULLIF NUMBER NUMERIC OBJECT OF OFFLINE OFFSET OLD ON ONLINE ONLY OPAQUE ' +
    'OPEN OPERATOR OPTION OR ORDER ORDINALITY OTHER OTHERS OUT OUTER OUTPUT OVER OVERLAPS OVERRIDE OWNER PAD PARALLEL PARAMETER PARAMETERS ' +
    'PARTIAL PARTITION PARTITIONED PARTITIONS PATH PERCENT PERCENTILE PERMISSION PERMISSIONS PIPE PIPELINED PLAN POOL POSITION PRECISION PREPARE ' +
    'PRESERVE PRIMARY PRIOR PRIVATE PRIVILEGES PROCEDURE PROCESSED PROJECT PROJECTION PROPERTY PROVISIONING PUBLIC PUT QUERY QUIT QUORUM RAISE ' +
    'RANDOM RANGE RANK RAW READ READS REAL REBUILD RECORD RECURSIVE REDUCE REF REFERENCE REFERENCES REFERENCING REGEXP REGION REINDEX RELATIVE ' +
    'RELEASE REMAINDER RENAME REPEAT REPLACE REQUEST RESET RESIGNAL RESOURCE RESPONSE RESTORE RESTRICT RESULT RETURN RETURNING RETURNS REVERSE ' +
    'REVOKE RIGHT ROLE ROLES ROLLBACK ROLLUP ROUTINE ROW ROWS RULE RULES SAMPLE SATISFIES SAVE SAVEPOINT SCAN SCHEMA SCOPE SCROLL SEARCH SECOND ' +
    'SECTION SEGMENT SEGMENTS SELECT SELF SEMI SENSITIVE SEPARATE SEQUENCE SERIALIZABLE SESSION SET SETS SHARD SHARE SHARED SHORT SHOW SIGNAL ' +
    'SIMILAR SIZE SKEWED SMALLINT SNAPSHOT SOME SOURCE SPACE SPACES SPARSE SPECIFIC SPECIFICTYPE SPLIT SQL SQLCODE SQLERROR SQLEXCEPTION ' +
    'SQLSTATE SQLWARNING START STATE STATIC STATUS STORAGE STORE STORED STREAM STRING STRUCT STYLE SUB SUBMULTISET SUBPARTITION SUBSTRING ' +
    'SUBTYPE SUM SUPER SYMMETRIC SYNONYM SYSTEM TABLE TABLESAMPLE TEMP TEMPORARY TERMINATED TEXT THAN THEN THROUGHPUT TIME TIMESTAMP TIMEZONE ' +
    'TINYINT TO TOKEN TOTAL TOUCH TRAILING TRANSACTION TRANSFORM TRANSLATE TRANSLATION TREAT TRIGGER TRIM TRUE TRUNCATE TTL TUPLE TYPE UNDER ' +
    'UNDO UNION UNIQUE UNIT UNKNOWN UNLOGGED UNNEST UNPROCESSED UNSIGNED UNTIL UPDATE UPPER URL USAGE USE USER USERS USING UUID VACUUM VALUE ' +
    'VALUED VALUES VARCHAR VARIABLE VARIANCE VARINT VARYING VIEW VIEWS VIRTUAL VOID WAIT WHEN WHENEVER WHERE WHILE WINDOW WITH WITHIN WITHOUT ' +
    'WORK WRAPPED WRITE YEAR ZONE ' +
    ''
  ).split(' ').filter((w) => w.length > 0),
);
