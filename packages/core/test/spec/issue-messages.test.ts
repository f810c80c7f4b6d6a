// Spec messages in Berth's words: "did you mean …?" for unknown fields at every level, every zod
// issue code mapped, and none of zod's stock English left, whatever the input.
import { BerthConfigError, defineCluster, type ClusterInput } from '@berth/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { closestMatch, editDistance } from '../../src/spec/did-you-mean.js';
import { issueMessage } from '../../src/spec/issue-messages.js';
import { clusterInput } from '../support/fixtures.js';

function problems(input: unknown): { path: string; message: string }[] {
  try {
    defineCluster(input as ClusterInput);
  } catch (err) {
    if (!(err instanceof BerthConfigError)) throw err;
    return [...err.issues];
  }
  return [];
}

/** A spec with every optional field set, so that mutations reach every level. */
function fullInput(): Record<string, unknown> {
  const input = clusterInput(3);
  return {
    ...input,
    nodes: input.nodes.map((n, i) => (i === 0 ? { ...n, image: 'ami-0fedcba9876543210', dataVolume: { sizeGiB: 200, type: 'gp3', iops: 4000, throughputMiBps: 200 } } : n)),
    keyName: 'ops',
    rootVolume: { sizeGiB: 30, type: 'gp3', encrypted: true },
    dataVolume: {
      sizeGiB: 100, type: 'gp3', iops: 3000, throughputMiBps: 125, deviceName: '/dev/sdf', fileSystem: 'xfs', mountPath: '/var/lib/kafka',
      mountOptions: 'defaults,noatime', owner: 'kafka', group: 'kafka', encrypted: true, kmsKeyId: 'alias/kafka', deletionPolicy: 'retain',
    },
    dns: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', clusterRecord: 'kafka.internal.example.com', nodeRecordTemplate: '{node}.kafka.internal.example.com', ttl: 30 },
    loadBalancer: { targetGroupArns: ['arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/kafka/0123456789abcdef'] },
    lifecycle: { heartbeatTimeoutSec: 300, defaultResult: 'ABANDON', onFailure: 'abandon' },
    bootstrap: { configureScript: 'true', healthScript: 'true', files: [{ path: '/etc/kafka/x', content: 'x', mode: '0640', owner: 'kafka:kafka' }], configureTimeoutSec: 60, healthTimeoutSec: 60, attachTimeoutSec: 60 },
    tags: { team: 'data' },
    quorum: { allowUnsafeSize: false },
  };
}

/** zod 4's English (zod/v4/locales/en.js): none of it may reach a user. */
const ZOD_STOCK_PHRASES = [
  'Invalid input',
  'Invalid option',
  'Too big',
  'Too small',
  'Invalid string',
  'Invalid number',
  'Unrecognized key',
  'Invalid key in',
  'Invalid value in',
  'Invalid discriminator',
  'Expected',
  'expected',
  'received',
];

describe('zod stock messages', () => {
  it('the phrases checked are the ones zod 4 really writes', () => {
    const stock = [
      z.number().safeParse('x'),
      z.enum(['a', 'b']).safeParse('c'),
      z.number().max(1).safeParse(2),
      z.array(z.number()).min(1).safeParse([]),
      z.string().regex(/a/).safeParse('b'),
      z.number().multipleOf(2).safeParse(3),
      z.strictObject({}).safeParse({ a: 1 }),
      z.record(z.enum(['a']), z.number()).safeParse({ b: 1 }),
      z.set(z.number()).safeParse(new Set(['x'])),
      z.union([z.number(), z.boolean()]).safeParse('x'),
    ].flatMap((r) => r.error?.issues.map((i) => i.message) ?? []);
    for (const phrase of ['Invalid input', 'Invalid option', 'Too big', 'Too small', 'Invalid string', 'Invalid number', 'Unrecognized key', 'expected', 'received']) {
      expect(stock.some((m) => m.includes(phrase)), `${phrase} in ${JSON.stringify(stock)}`).toBe(true);
    }
  });
});

describe('"did you mean …?" for unknown fields', () => {
  const at = (path: string, set: (input: Record<string, unknown>) => void) => {
    const input = fullInput();
    set(input);
    return { input, path };
  };
  const cases: [string, ReturnType<typeof at>, string][] = [
    ['top level', at('instanceTyp', (i) => (i.instanceTyp = 'm6i.large')), 'instanceType'],
    ['snake case', at('iam_instance_profile', (i) => (i.iam_instance_profile = 'x')), 'iamInstanceProfile'],
    ['subnets[i]', at('subnets[1].AZ', (i) => ((i.subnets as Record<string, unknown>[])[1]!.AZ = 'x')), 'az'],
    ['nodes[i]', at('nodes[2].subnetID', (i) => ((i.nodes as Record<string, unknown>[])[2]!.subnetID = 'x')), 'subnetId'],
    ['nodes[i].dataVolume', at('nodes[0].dataVolume.sizeGB', (i) => (((i.nodes as Record<string, unknown>[])[0]!.dataVolume as Record<string, unknown>).sizeGB = 1)), 'sizeGiB'],
    ['dataVolume', at('dataVolume.kmsKey', (i) => ((i.dataVolume as Record<string, unknown>).kmsKey = 'x')), 'kmsKeyId'],
    ['rootVolume', at('rootVolume.encrpyted', (i) => ((i.rootVolume as Record<string, unknown>).encrpyted = true)), 'encrypted'],
    ['dns', at('dns.hostedZone', (i) => ((i.dns as Record<string, unknown>).hostedZone = 'Z1')), 'hostedZoneId'],
    ['loadBalancer', at('loadBalancer.targetGroupArn', (i) => ((i.loadBalancer as Record<string, unknown>).targetGroupArn = 'x')), 'targetGroupArns'],
    ['lifecycle', at('lifecycle.heartbeatTimeout', (i) => ((i.lifecycle as Record<string, unknown>).heartbeatTimeout = 60)), 'heartbeatTimeoutSec'],
    ['bootstrap', at('bootstrap.healthScrip', (i) => ((i.bootstrap as Record<string, unknown>).healthScrip = 'true')), 'healthScript'],
    ['bootstrap.files[i]', at('bootstrap.files[0].mod', (i) => (((i.bootstrap as Record<string, unknown>).files as Record<string, unknown>[])[0]!.mod = '0600')), 'mode'],
    ['quorum', at('quorum.allowUnsafe', (i) => ((i.quorum as Record<string, unknown>).allowUnsafe = true)), 'allowUnsafeSize'],
  ];

  it.each(cases)('%s', (_level, { input, path }, meant) => {
    expect(problems(input)).toEqual([{ path, message: `unknown field: did you mean '${meant}'?` }]);
  });

  it('lists the fields of the level when nothing is close', () => {
    const [issue] = problems({ ...fullInput(), colour: 'blue' });
    expect(issue).toEqual({ path: 'colour', message: expect.stringMatching(/^unknown field: remove it \(the fields here are \$schema, name, region, subnets, nodes, .*quorum\)$/) });
  });

  it('a misspelt required field is one problem, not two', () => {
    const input = fullInput();
    const nodes = input.nodes as Record<string, unknown>[];
    const { subnetId, ...rest } = nodes[2]!;
    nodes[2] = { ...rest, subnetID: subnetId };
    expect(problems(input)).toEqual([{ path: 'nodes[2].subnetID', message: "unknown field: did you mean 'subnetId'?" }]);
  });

  it('reports each unknown field of one object on its own', () => {
    expect(problems({ ...fullInput(), imagee: 'x', regoin: 'y' }).map((p) => p.path)).toEqual(['imagee', 'regoin']);
  });

  it('accepts $schema, for editors', () => {
    expect(problems({ ...fullInput(), $schema: './schema/cluster-spec.schema.json' })).toEqual([]);
  });
});

describe('closestMatch', () => {
  it.each([
    ['instanceTyp', 'instanceType'],
    ['INSTANCETYPE', 'instanceType'],
    ['instance-type', 'instanceType'],
    ['imgae', 'image'],
    ['size', 'sizeGiB'],
    ['colour', null],
    ['', null],
  ])('%s → %s', (word, meant) => {
    expect(closestMatch(word, ['name', 'image', 'instanceType', 'sizeGiB', 'region'])).toBe(meant);
  });

  it('stays cheap on a very long word', () => {
    expect(closestMatch('x'.repeat(100_000), ['name', 'image'])).toBeNull();
  });

  it('suggests nothing between two equally close candidates', () => {
    expect(closestMatch('gp4', ['gp2', 'gp3', 'io1'])).toBeNull();
  });

  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('encrpyted', 'encrypted')).toBe(1);
    expect(editDistance('abc', '')).toBe(3);
  });
});

describe("Berth's wording for every zod issue", () => {
  it.each<[string, (i: Record<string, unknown>) => void, string, string]>([
    ['invalid_type', (i) => (i.image = 5), 'image', 'must be a string; got 5'],
    ['invalid_type (whole number)', (i) => ((i.dns as Record<string, unknown>).ttl = 1.5), 'dns.ttl', 'must be a whole number; got the fraction 1.5'],
    ['invalid_type (list)', (i) => (i.nodes = 'n1,n2,n3'), 'nodes', 'must be a list; got the string "n1,n2,n3"'],
    ['invalid_type (boolean)', (i) => ((i.quorum as Record<string, unknown>).allowUnsafeSize = 'yes'), 'quorum.allowUnsafeSize', 'must be true or false; got the string "yes"'],
    ['invalid_type (object)', (i) => (i.dns = ['Z1']), 'dns', 'must be an object; got a list of 1 item'],
    ['invalid_type (record)', (i) => (i.tags = 'team=data'), 'tags', 'must be an object of names to values; got the string "team=data"'],
    ['required', (i) => delete i.dataVolume, 'dataVolume', 'is required (an object)'],
    ['too_small (number)', (i) => ((i.dns as Record<string, unknown>).ttl = -1), 'dns.ttl', 'must be at least 0; got -1'],
    ['too_small (string)', (i) => (i.keyName = ''), 'keyName', 'must not be empty'],
    ['too_big (number)', (i) => ((i.dns as Record<string, unknown>).ttl = 2 ** 31), 'dns.ttl', 'must be at most 2147483647; got 2147483648'],
    ['too_big (string)', (i) => (i.keyName = 'k'.repeat(300)), 'keyName', 'must be at most 255 characters long; got 300 characters'],
    ['invalid_value', (i) => ((i.dataVolume as Record<string, unknown>).fileSystem = 'zfs'), 'dataVolume.fileSystem', 'must be one of xfs, ext4; got the string "zfs" (did you mean \'xfs\'?)'],
    ['invalid_value (did you mean)', (i) => ((i.lifecycle as Record<string, unknown>).defaultResult = 'continue'), 'lifecycle.defaultResult', 'must be one of CONTINUE, ABANDON; got the string "continue" (did you mean \'CONTINUE\'?)'],
    ['invalid_value (typo)', (i) => ((i.dataVolume as Record<string, unknown>).deletionPolicy = 'retian'), 'dataVolume.deletionPolicy', 'must be one of retain, snapshot, delete; got the string "retian" (did you mean \'retain\'?)'],
  ])('%s', (_code, mutate, path, message) => {
    const input = fullInput();
    mutate(input);
    expect(problems(input)).toContainEqual({ path, message });
  });

  it('the root itself', () => {
    expect(problems(null)).toEqual([{ path: '', message: 'must be an object; got null' }]);
    expect(problems([])).toEqual([{ path: '', message: 'must be an object; got a list of 0 items' }]);
  });

  // Codes the cluster schema does not raise today, from schemas that do.
  it.each<[string, z.ZodType, unknown, string]>([
    ['invalid_format (regex)', z.string().regex(/^a+$/), 'b', 'has the wrong form (it must match /^a+$/); got the string "b"'],
    ['invalid_format (starts_with)', z.string().startsWith('ami-'), 'x', 'must start with "ami-"; got the string "x"'],
    ['invalid_format (ends_with)', z.string().endsWith('.com'), 'x', 'must end with ".com"; got the string "x"'],
    ['invalid_format (email)', z.email(), 'x', 'must be a valid email; got the string "x"'],
    ['not_multiple_of', z.number().multipleOf(4), 6, 'must be a multiple of 4; got 6'],
    ['invalid_value (literal)', z.literal('on'), 'off', 'must be on; got the string "off"'],
    ['too_small (exclusive)', z.number().positive(), 0, 'must be greater than 0; got 0'],
    ['too_small (list)', z.array(z.number()).min(2), [1], 'must list at least 2 items; got 1'],
    ['too_big (list)', z.array(z.number()).max(1), [1, 2], 'must list at most 1 item; got 2'],
    ['invalid_union', z.union([z.number(), z.boolean()]), 'x', 'does not match any accepted form; got the string "x"'],
    ['invalid_key', z.record(z.string().min(2), z.number()), { b: 1 }, 'has a key that is not allowed here'],
    ['custom', z.string().refine((s) => s === 'ok'), 'no', 'is not valid here'],
  ])('%s', (_code, schema, input, message) => {
    const r = schema.safeParse(input, { error: issueMessage });
    expect(r.error?.issues.map((i) => i.message)).toContain(message);
  });

  it('invalid_element (which no zod 4.6 schema seems to raise any more)', () => {
    expect(issueMessage({ code: 'invalid_element', origin: 'map', key: 'a', issues: [], input: new Map(), path: [] })).toBe('holds a value that is not allowed here');
  });
});

describe('no zod wording, whatever the input (fast-check)', () => {
  type Path = (string | number)[];
  const base = fullInput();
  const paths: Path[] = [];
  (function walk(v: unknown, path: Path) {
    paths.push(path);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  })(base, []);
  const fieldNames = [...new Set(paths.flatMap((p) => p.filter((k): k is string => typeof k === 'string')))];

  const value = fc.oneof(
    fc.anything({ maxDepth: 2 }),
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.object({ maxDepth: 1 }),
  );
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), path: fc.constantFrom(...paths), value }),
    fc.record({ kind: fc.constant('delete' as const), path: fc.constantFrom(...paths) }),
    fc.record({
      kind: fc.constant('add' as const),
      path: fc.constantFrom(...paths),
      key: fc.oneof(fc.string({ minLength: 1 }), fc.constantFrom(...fieldNames).map((k) => `${k}x`), fc.constantFrom(...fieldNames).map((k) => k.toUpperCase())),
      value,
    }),
  );

  function apply(input: unknown, m: { kind: string; path: Path; value?: unknown; key?: string }): unknown {
    if (m.path.length === 0) return m.kind === 'set' ? m.value : m.kind === 'delete' ? undefined : input;
    let parent: unknown = input;
    for (const k of m.path.slice(0, -1)) parent = parent && typeof parent === 'object' ? (parent as Record<string | number, unknown>)[k] : undefined;
    if (!parent || typeof parent !== 'object') return input;
    const last = m.path[m.path.length - 1] as string | number;
    const p = parent as Record<string | number, unknown>;
    if (m.kind === 'set') p[last] = m.value;
    else if (m.kind === 'delete') delete p[last];
    else if (p[last] && typeof p[last] === 'object' && !Array.isArray(p[last])) (p[last] as Record<string, unknown>)[m.key as string] = m.value;
    return input;
  }

  it('every message is Berth\'s, with a path, and defineCluster throws nothing but BerthConfigError', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 5 }), (mutations) => {
        let input: unknown = structuredClone(base);
        for (const m of mutations) input = apply(input, m);
        for (const { path, message } of problems(input)) {
          expect(typeof path).toBe('string');
          expect(message.length).toBeGreaterThan(0);
          for (const phrase of ZOD_STOCK_PHRASES) expect(message, `${path}: ${message}`).not.toContain(phrase);
          expect(message).not.toContain('[object Object]');
        }
      }),
      { numRuns: 400 },
    );
  });
});
