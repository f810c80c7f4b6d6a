// Python's json.loads (CPython's json.decoder, strict mode), so that a JSON parameter value is
// accepted or refused as the CLI does, with the same error text (`Expecting ',' delimiter: line 1
// column 10 (char 9)`), and numbers keep Python's int/float distinction for validation.
import { PyFloat } from './py-values.js';

export class PyJsonDecodeError extends Error {
  override readonly name = 'PyJsonDecodeError';
  constructor(msg: string, text: string, pos: number) {
    const lineno = countNewlines(text, pos) + 1;
    const lastNl = text.lastIndexOf('\n', pos - 1);
    const colno = lastNl === -1 || pos === 0 ? pos + 1 : pos - lastNl;
    super(`${msg}: line ${lineno} column ${colno} (char ${pos})`);
  }
}

function countNewlines(text: string, end: number): number {
  let n = 0;
  for (let i = 0; i < end && i < text.length; i++) if (text[i] === '\n') n++;
  return n;
}

const WS = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/uy;

/** Parses `text` as Python's json.loads does; floats come back as PyFloat. */
export function pyJsonLoads(text: string): unknown {
  // Python indexes by code point; so does this parser (astral characters are rare in parameters).
  const s = text;
  let i = skipWs(s, 0);
  const [value, end] = parseValue(s, i);
  i = skipWs(s, end);
  if (i !== s.length) throw new PyJsonDecodeError('Extra data', s, i);
  return value;
}

function skipWs(s: string, i: number): number {
  while (i < s.length && WS.has(s[i] as string)) i++;
  return i;
}

function parseValue(s: string, i: number): [unknown, number] {
  const ch = s[i];
  if (ch === '"') return parseString(s, i + 1);
  if (ch === '{') return parseObject(s, i + 1);
  if (ch === '[') return parseArray(s, i + 1);
  if (ch === 'n' && s.startsWith('null', i)) return [null, i + 4];
  if (ch === 't' && s.startsWith('true', i)) return [true, i + 4];
  if (ch === 'f' && s.startsWith('false', i)) return [false, i + 5];
  if (ch === 'N' && s.startsWith('NaN', i)) return [new PyFloat(Number.NaN), i + 3];
  if (ch === 'I' && s.startsWith('Infinity', i)) return [new PyFloat(Number.POSITIVE_INFINITY), i + 8];
  if (ch === '-' && s.startsWith('-Infinity', i)) return [new PyFloat(Number.NEGATIVE_INFINITY), i + 9];
  NUMBER.lastIndex = i;
  const m = NUMBER.exec(s);
  if (m !== null) {
    const isFloat = m[1] !== undefined || m[2] !== undefined;
    const n = Number(m[0]);
    return [isFloat ? new PyFloat(n) : n, i + m[0].length];
  }
  throw new PyJsonDecodeError('Expecting value', s, i);
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

function parseString(s: string, start: number): [string, number] {
  let out = '';
  let i = start;
  for (;;) {
    if (i >= s.length) throw new PyJsonDecodeError('Unterminated string starting at', s, start - 1);
    const ch = s[i] as string;
    if (ch === '"') return [out, i + 1];
    if (ch.charCodeAt(0) < 0x20) throw new PyJsonDecodeError('Invalid control character at', s, i);
    if (ch !== '\\') {
      out += ch;
      i++;
      continue;
    }
    const esc = s[i + 1];
    if (esc === undefined) throw new PyJsonDecodeError('Unterminated string starting at', s, start - 1);
    if (esc !== 'u') {
      const rep = ESCAPES[esc];
      if (rep === undefined) throw new PyJsonDecodeError('Invalid \\escape', s, i);
      out += rep;
      i += 2;
      continue;
    }
    const hex = s.slice(i + 2, i + 6);
    if (!/^[0-9a-fA-F]{4}$/u.test(hex)) throw new PyJsonDecodeError('Invalid \\uXXXX escape', s, i + 1);
    out += String.fromCharCode(parseInt(hex, 16));
    i += 6;
  }
}

function parseObject(s: string, start: number): [Record<string, unknown>, number] {
  const obj: Record<string, unknown> = {};
  let i = skipWs(s, start);
  if (s[i] === '}') return [obj, i + 1];
  for (;;) {
    if (s[i] !== '"') throw new PyJsonDecodeError('Expecting property name enclosed in double quotes', s, i);
    const [key, afterKey] = parseString(s, i + 1);
    i = skipWs(s, afterKey);
    if (s[i] !== ':') throw new PyJsonDecodeError("Expecting ':' delimiter", s, i);
    i = skipWs(s, i + 1);
    const [value, afterValue] = parseValue(s, i);
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
    i = skipWs(s, afterValue);
    if (s[i] === '}') return [obj, i + 1];
    if (s[i] !== ',') throw new PyJsonDecodeError("Expecting ',' delimiter", s, i);
    i = skipWs(s, i + 1);
  }
}

function parseArray(s: string, start: number): [unknown[], number] {
  const arr: unknown[] = [];
  let i = skipWs(s, start);
  if (s[i] === ']') return [arr, i + 1];
  for (;;) {
    const [value, afterValue] = parseValue(s, i);
    arr.push(value);
    i = skipWs(s, afterValue);
    if (s[i] === ']') return [arr, i + 1];
    if (s[i] !== ',') throw new PyJsonDecodeError("Expecting ',' delimiter", s, i);
    i = skipWs(s, i + 1);
  }
}
