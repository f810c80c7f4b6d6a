// Expected strings follow the AWS CLI's formatters: awscli/text.py for text (checked by running
// its format_text on the same values) and json.dump(indent=4, ensure_ascii=False) for JSON.
import { describe, expect, it } from 'vitest';
import { isoTimestamp, normalizeOutput } from '../../src/cli/normalize-output.js';
import { pyJsonLoads } from '../../src/cli/py-json.js';
import { PyFloat, pyFloatRepr, pyJsonDumps } from '../../src/cli/py-values.js';
import { formatText } from '../../src/cli/text-format.js';

describe('text output (awscli/text.py)', () => {
  const cases: [string, unknown, string][] = [
    ['a string', 'vol-1', 'vol-1\n'],
    ['null as None', null, 'None\n'],
    ['booleans as True/False', true, 'True\n'],
    ['an integer', 10, '10\n'],
    ['a float', 1.5, '1.5\n'],
    ['a list of scalars on one tab-separated line', ['vol-1', 'vol-2'], 'vol-1\tvol-2\n'],
    ['the bootstrap attachment query with nulls', ['in-use', 'us-east-1a', null, null], 'in-use\tus-east-1a\tNone\tNone\n'],
    [
      'a list of dicts: shared sorted scalar columns, blanks for missing keys, nested lists under their KEY',
      {
        Volumes: [
          { VolumeId: 'v1', Size: 10, Tags: [{ Key: 'k', Value: 'v' }], Attachments: [] },
          { VolumeId: 'v2', Encrypted: false, Attachments: [{ InstanceId: 'i-1', State: 'attached' }] },
        ],
      },
      'VOLUMES\t\t10\tv1\nTAGS\tk\tv\nVOLUMES\tFalse\t\tv2\nATTACHMENTS\ti-1\tattached\n',
    ],
    [
      'a dict: scalars first in key order, then nested values by key',
      { b: 1, a: 'x', n: { z: null, y: [1, 2] }, l: ['p', 'q'] },
      'x\t1\nL\tp\nL\tq\nN\tNone\nY\t1\nY\t2\n',
    ],
    ['a list of lists, one line each', [['a', 'b'], ['c']], 'a\tb\nc\n'],
    ['a mixed list: scalars first, then the lists', ['x', ['a', 'b'], 'y'], 'x\ty\na\tb\n'],
    ['an empty list prints nothing', [], ''],
    ['an empty dict prints nothing', {}, ''],
    ['dicts with different keys', [{ a: 1 }, { b: 2 }], '1\t\n\t2\n'],
    ['lists of lists under a key', { T: [['k1', 'v1'], ['k2', 'v2']] }, 'T\tk1\nT\tv1\nT\tk2\nT\tv2\n'],
  ];
  for (const [name, value, expected] of cases) {
    it(name, () => {
      expect(formatText(value)).toBe(expected);
    });
  }

  it('fails as the CLI does on a scalar next to dicts in a list', () => {
    expect(() => formatText([{ a: 1 }, 'x'])).toThrow("'str' object has no attribute 'items'");
  });
});

describe('JSON output (json.dump, indent=4)', () => {
  it('indents by 4, keeps key order, keeps non-ASCII, writes empty containers inline', () => {
    expect(pyJsonDumps({ b: [], a: {}, c: [1, 'é\t', null, true], d: 0.5 }, 4)).toBe(
      '{\n    "b": [],\n    "a": {},\n    "c": [\n        1,\n        "é\\t",\n        null,\n        true\n    ],\n    "d": 0.5\n}',
    );
  });

  it('writes floats as Python does', () => {
    expect([1e-5, 1e16, 123456789.125, 0.1, -2.5e-7].map(pyFloatRepr)).toEqual(['1e-05', '1e+16', '123456789.125', '0.1', '-2.5e-07']);
    expect(pyJsonDumps([new PyFloat(2)])).toBe('[2.0]');
  });
});

describe('timestamps (cli_timestamp_format iso8601)', () => {
  it('renders Dates as datetime.isoformat() does, before anything else sees them', () => {
    expect(isoTimestamp(new Date('2024-01-01T00:00:00Z'))).toBe('2024-01-01T00:00:00+00:00');
    expect(isoTimestamp(new Date('2024-01-01T00:00:05.250Z'))).toBe('2024-01-01T00:00:05.250000+00:00');
    expect(normalizeOutput({ $metadata: { httpStatusCode: 200 }, A: [{ T: new Date(0), U: undefined }] })).toEqual({ A: [{ T: '1970-01-01T00:00:00+00:00' }] });
  });
});

describe('JSON parameter values (Python json.loads)', () => {
  it('keeps ints and floats apart and reports errors with Python positions', () => {
    expect(pyJsonLoads('[1, 1.0]')).toEqual([1, new PyFloat(1)]);
    expect(() => pyJsonLoads('[{"Name": "x",}]')).toThrow('Expecting property name enclosed in double quotes: line 1 column 15 (char 14)');
    expect(() => pyJsonLoads('[{"Name": "x"')).toThrow("Expecting ',' delimiter: line 1 column 14 (char 13)");
    expect(() => pyJsonLoads('{"a": 1}\n x')).toThrow('Extra data: line 2 column 2 (char 10)');
  });
});
