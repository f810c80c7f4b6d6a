#!/usr/bin/env node
// Embeds node-bootstrap.sh into src/bootstrap-script.generated.ts, so the script ships inside
// the bundle (works from src in vitest, from dist, and through any bundler). A test fails when
// the two differ: run `node packages/aws-driver/bootstrap/generate.mjs` after editing the script.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const scriptPath = fileURLToPath(new URL('./node-bootstrap.sh', import.meta.url));
export const generatedPath = fileURLToPath(new URL('../src/bootstrap-script.generated.ts', import.meta.url));

export function generatedSource(scriptText) {
  return (
    '// GENERATED from packages/aws-driver/bootstrap/node-bootstrap.sh by bootstrap/generate.mjs. Do not edit.\n' +
    '/** The node bootstrap script (bash), before its data block is added. */\n' +
    `export const NODE_BOOTSTRAP_SCRIPT: string = ${JSON.stringify(scriptText)};\n`
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(generatedPath, generatedSource(readFileSync(scriptPath, 'utf8')));
  console.log(`wrote ${generatedPath}`);
}
