#!/usr/bin/env node
/**
 * The `berth-chaos` bin (see cli.ts for the commands). A strategy module written in TypeScript
 * is loaded through tsx's ESM loader, registered only when one is asked for.
 */
import { main } from './cli.js';

let registered = false;
const beforeLoad = async (modulePath: string): Promise<void> => {
  if (registered || !/\.[cm]?tsx?$/.test(modulePath)) return;
  const { register } = await import('tsx/esm/api');
  register();
  registered = true;
};

// No top-level await: the bin is built as ESM and CJS like the library.
void main(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l), beforeLoad }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`berth-chaos: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  },
);
