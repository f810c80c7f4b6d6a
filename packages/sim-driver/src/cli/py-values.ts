// How Python (the language of the AWS CLI) writes values: str(), repr(), int() parsing and
// json.dumps. The simulated CLI's output and error messages must read exactly like the real
// CLI's, and those are made by these Python built-ins.

/** A JSON number that Python would hold as a float (it had a fraction or an exponent). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** The error Python's int() raises on text that is not an integer literal. */
export class PyValueError extends Error {
  override readonly name = 'PyValueError';
}

/** Python's float repr: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pyFloatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const [mantissa = '0', expText = '0'] = n.toExponential().split('e');
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  let body: string;
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    body = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (exp < 0) {
    body = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else if (digits.length <= exp + 1) {
    body = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  } else {
    body = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return negative ? `-${body}` : body;
}

/** A JS number as Python prints it: integral values as ints (the wire does not say which). */
export function pyNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return BigInt(n).toString();
  return pyFloatRepr(n);
}

/** Python's repr() of a string. */
export function pyStringRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || (code >= 0x7f && code <= 0xa0) || code === 0xad) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

/** Python's repr() of a value decoded from JSON or built by the CLI. */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return pyNumber(value);
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (typeof value === 'string') return pyStringRepr(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pyStringRepr(k)}: ${pyRepr(v)}`)
      .join(', ')}}`;
  }
  return String(value);
}

/** Python's str(): like repr() except that a string is itself. */
export function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pyRepr(value);
}

/** Python's str(type(value)), e.g. `<class 'str'>`. */
export function pyTypeName(value: unknown): string {
  let name: string;
  if (value === null || value === undefined) name = 'NoneType';
  else if (typeof value === 'boolean') name = 'bool';
  else if (typeof value === 'number') name = Number.isInteger(value) ? 'int' : 'float';
  else if (value instanceof PyFloat) name = 'float';
  else if (typeof value === 'string') name = 'str';
  else if (Array.isArray(value)) name = 'list';
  else name = 'dict';
  return `<class '${name}'>`;
}

/** Python's int(text) for base 10: surrounding whitespace, a sign, `_` between digits. */
export function pyInt(text: string): number {
  const m = /^\s*([+-]?)(\d(?:_?\d)*)\s*$/u.exec(text);
  if (m === null) throw new PyValueError(`invalid literal for int() with base 10: ${pyStringRepr(text)}`);
  const n = Number(`${m[1]}${(m[2] ?? '').replaceAll('_', '')}`);
  return Object.is(n, -0) ? 0 : n;
}

/**
 * Python's json.dumps(value, ensure_ascii=False) with `indent` (the CLI's JSON output uses 4) or,
 * without it, the default `, ` and `: ` separators (as botocore's pagination tokens are made).
 */
export function pyJsonDumps(value: unknown, indent?: number): string {
  return dump(value, indent, 0);
}

function dump(value: unknown, indent: number | undefined, level: number): string {
  if (value === null || value === undefined) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return pyNumber(value);
  }
  if (value instanceof PyFloat) return dump(value.value, indent, level).replace(/^(-?\d+)$/u, '$1.0');
  if (typeof value === 'string') return JSON.stringify(value);
  const entries: [string | null, unknown][] = Array.isArray(value)
    ? value.map((v) => [null, v])
    : Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return `${open}${close}`;
  const items = entries.map(([k, v]) => (k === null ? '' : `${JSON.stringify(k)}: `) + dump(v, indent, level + 1));
  if (indent === undefined) return `${open}${items.join(', ')}${close}`;
  const pad = ' '.repeat(indent * (level + 1));
  return `${open}\n${pad}${items.join(`,\n${pad}`)}\n${' '.repeat(indent * level)}${close}`;
}
