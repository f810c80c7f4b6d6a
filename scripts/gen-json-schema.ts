/**
 * Writes the JSON Schema of the cluster spec, generated from core's zod schema, to
 * schema/cluster-spec.schema.json (`pnpm schema`). With --check it writes nothing and exits 1
 * when the committed file differs from what the schema generates now.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { clusterSpecJsonSchema } from '../packages/core/src/spec/json-schema.js';

const target = fileURLToPath(new URL('../schema/cluster-spec.schema.json', import.meta.url));
const text = `${JSON.stringify(clusterSpecJsonSchema(), null, 2)}\n`;

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing: differs
  }
  if (current !== text) {
    console.error('schema/cluster-spec.schema.json is out of date: run `pnpm schema` and commit it');
    process.exit(1);
  }
  console.log('schema/cluster-spec.schema.json is up to date');
} else {
  writeFileSync(target, text);
  console.log(`wrote schema/cluster-spec.schema.json (${text.length} bytes)`);
}
