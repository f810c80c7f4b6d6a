#!/usr/bin/env node
/**
 * The `berth-chaos` bin (see cli.ts for the commands). A strategy module written in TypeScript
 * is imported through tsx's `tsImport` (loaded only when one is asked for): it reads `.ts` as ESM
 * in a `"type": "module"` package and as CommonJS elsewhere, as tsx does.
 */
import { pathToFileURL } from 'node:url';
import { main } from './cli.js';

const importer = async (file: string): Promise<Record<string, unknown>> => {
  const url = pathToFileURL(file).href;
  if (!/\.[cm]?tsx?$/.test(file)) return (await import(url)) as Record<string, unknown>;
  const { tsImport } = await import('tsx/esm/api');
  return (await tsImport(url, pathToFileURL(`${process.cwd()}/`).href)) as Record<string, unknown>;
};

// No top-level await: the bin is built as ESM and CJS like the library.
void main(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l), importer }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`berth-chaos: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  },
);
