// schema/cluster-spec.schema.json: generated from the zod schema, never edited by hand, and the
// specs the examples use are valid against it (checked with Ajv, a JSON Schema 2020-12 validator).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineCluster, type ClusterInput } from '@berth/core';
import { simulatedClusterInput } from '@berth/sim-driver';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { kafkaCluster } from '../../../../examples/aws/kafka-kraft.js';
import { mongoCluster } from '../../../../examples/aws/mongodb-replica-set.js';
import { clusterSpecJsonSchema } from '../../src/spec/json-schema.js';
import { clusterInput } from '../support/fixtures.js';

const file = fileURLToPath(new URL('../../../../schema/cluster-spec.schema.json', import.meta.url));
const committed = readFileSync(file, 'utf8');
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(JSON.parse(committed));

/** Every spec the examples and the README build, as a user would write it in a JSON file. */
const exampleSpecs: [string, ClusterInput][] = [
  ['examples/aws/kafka-kraft.ts', kafkaCluster('ami-0123456789abcdef0')],
  ['examples/aws/mongodb-replica-set.ts', mongoCluster('ami-0123456789abcdef0')],
  ['simulatedClusterInput (the demo, game-day and CLI examples)', simulatedClusterInput({ nodes: 5 })],
  ['examples/game-day.ts', { ...simulatedClusterInput({ nodes: 5, name: 'staging-kafka' }), tags: { env: 'staging', team: 'data' } }],
  ['README quick start', readmeQuickStart()],
  ['test fixture, with $schema', { $schema: './schema/cluster-spec.schema.json', ...clusterInput(3) }],
  ...['kafka.json', 'kafka-next.json'].map((f): [string, ClusterInput] => [`examples/specs/${f} (the CLI's)`, JSON.parse(readFileSync(fileURLToPath(new URL(`../../../../examples/specs/${f}`, import.meta.url)), 'utf8')) as ClusterInput]),
];

describe('schema/cluster-spec.schema.json', () => {
  it('is what `pnpm schema` generates from the zod schema now (run it and commit the file if this fails)', () => {
    expect(committed).toBe(`${JSON.stringify(clusterSpecJsonSchema(), null, 2)}\n`);
  });

  it('documents every field', () => {
    const undocumented: string[] = [];
    (function walk(node: unknown, path: string) {
      if (!node || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      for (const [key, child] of Object.entries((n.properties as Record<string, unknown>) ?? {})) {
        if (!(child as Record<string, unknown>).description) undocumented.push(`${path}${key}`);
        walk(child, `${path}${key}.`);
      }
      if (n.items) walk(n.items, path.replace(/\.$/, '[].'));
    })(JSON.parse(committed), '');
    expect(undocumented).toEqual([]);
  });

  it.each(exampleSpecs)('accepts the spec of %s', (_name, spec) => {
    const json = JSON.parse(JSON.stringify(spec));
    expect(validate(json), JSON.stringify(validate.errors, null, 2)).toBe(true);
    expect(() => defineCluster(json)).not.toThrow();
  });

  it.each<[string, Record<string, unknown>]>([
    ['an unknown field', { instanceTyp: 'm6i.large' }],
    ['a wrong type', { nodes: 'n1,n2,n3' }],
    ['an unknown Region', { region: 'eu-west-9' }],
    ['an unknown volume type', { dataVolume: { sizeGiB: 10, type: 'gp4' } }],
    ['too many tags', { tags: Object.fromEntries(Array.from({ length: 43 }, (_, i) => [`k${i}`, 'v'])) }],
  ])('rejects %s, as defineCluster does', (_what, change) => {
    const spec = { ...clusterInput(3), ...change };
    expect(validate(JSON.parse(JSON.stringify(spec)))).toBe(false);
    expect(() => defineCluster(spec as ClusterInput)).toThrow();
  });
});

/** The README's quick-start input, read from the README itself so the two cannot drift. */
function readmeQuickStart(): ClusterInput {
  const readme = readFileSync(fileURLToPath(new URL('../../../../README.md', import.meta.url)), 'utf8');
  const m = /const input: ClusterInput = (\{[\s\S]*?\n\});/.exec(readme);
  if (!m) throw new Error('README.md no longer has `const input: ClusterInput = {...};`');
  const literal = (m[1] as string).replace(/\s*\/\/[^\n]*/g, '');
  return new Function(`return (${literal});`)() as ClusterInput;
}
