// Expected values follow awscli/shorthand.py's grammar (AWS CLI v2.36.7); each was also checked
// by running that module's ShorthandParser on the same input.
import { describe, expect, it } from 'vitest';
import { boolean, integer, list, string, structure } from '../../src/cli/shapes.js';
import { coerceShorthand, parseShorthand } from '../../src/cli/shorthand.js';

describe('shorthand syntax: parsing', () => {
  const cases: [string, unknown][] = [
    ['Name=tag:berth:cluster,Values=kafka', { Name: 'tag:berth:cluster', Values: 'kafka' }],
    ['Name=status,Values=available,in-use', { Name: 'status', Values: ['available', 'in-use'] }],
    ['Key=berth:phase,Value=failed:launching:lifecycle-lookup', { Key: 'berth:phase', Value: 'failed:launching:lifecycle-lookup' }],
    // A comma list stops where the next `key=` starts.
    ['a=b,c,d=e', { a: ['b', 'c'], d: 'e' }],
    ['Values=a\\,b,Name=x', { Values: 'a,b', Name: 'x' }],
    ['Values=[a,b],Name=x', { Values: ['a', 'b'], Name: 'x' }],
    ['Values=[ a , b ]', { Values: ['a', 'b'] }],
    ['a={b=c,d=[e,f]},g=h', { a: { b: 'c', d: ['e', 'f'] }, g: 'h' }],
    [`Name='x,y',Values="it\\"s"`, { Name: 'x,y', Values: 'it"s' }],
    ['a = b , c = d', { a: 'b', c: 'd' }],
    ['a=b=c', { a: 'b=c' }],
    ['a=', { a: '' }],
  ];
  for (const [input, expected] of cases) {
    it(`parses ${input}`, () => {
      expect(parseShorthand(input)).toEqual(expected);
    });
  }

  it('reports a list left open with the CLI text and caret', () => {
    expect(() => parseShorthand('Name=x,Values=[a,b')).toThrow("Expected: ',', received: 'EOF' for input:\n Name=x,Values=[a,b\n                  ^");
  });

  it('reports a trailing comma', () => {
    expect(() => parseShorthand('a=b,')).toThrow("Expected: '<second>', received: '<none>' for input:\n a=b,\n    ^");
  });

  it('reports an unterminated quote', () => {
    expect(() => parseShorthand('a="unterminated')).toThrow("Expected: '<double quoted>', received: '<none>' for input:\n a=\"unterminated\n  ^");
  });

  it('reports a key given twice', () => {
    expect(() => parseShorthand('a=b,a=c')).toThrow(
      'Second instance of key "a" encountered for input:\na=b,a=c\n    ^\nThis is often because there is a preceding "," instead of a space.',
    );
  });

  it('keeps __proto__ as a plain key', () => {
    const parsed = parseShorthand('__proto__=x');
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });
});

describe('shorthand syntax: coercion along the model (BackCompatVisitor)', () => {
  const filters = list(structure({ Name: string(), Values: list(string()) }));

  it('wraps a single value in a list where the model has a list', () => {
    const parsed = ['Name=tag:berth:cluster,Values=kafka', 'Name=status,Values=available,in-use'].map(parseShorthand);
    expect(coerceShorthand(parsed, filters)).toEqual([
      { Name: 'tag:berth:cluster', Values: ['kafka'] },
      { Name: 'status', Values: ['available', 'in-use'] },
    ]);
  });

  it('converts integers and true/false, and leaves unknown keys for validation to report', () => {
    const shape = structure({ Count: integer(), Flag: boolean(), Other: boolean() });
    expect(coerceShorthand(parseShorthand('Count=12,Flag=TRUE,Other=maybe,Extra=1'), shape)).toEqual({ Count: 12, Flag: true, Other: 'maybe', Extra: '1' });
  });

  it('fails like Python int() on a bad integer', () => {
    expect(() => coerceShorthand(parseShorthand('Count=x1'), structure({ Count: integer() }))).toThrow("invalid literal for int() with base 10: 'x1'");
  });
});
