import { inject } from 'vitest';

/**
 * The moto_server of this file's vitest worker slot, shared by the files that run in that slot
 * one after another (started once per slot by `moto-global-setup.ts`, stopped by it after the
 * last file). Traffic never leaves 127.0.0.1.
 */
export interface MotoServer {
  readonly endpoint: string;
  /** Wipes moto's state (every service, account and region). */
  reset(): Promise<void>;
}

/**
 * This file's moto_server: the one of its worker slot (VITEST_POOL_ID, 1 to maxWorkers). Two files
 * running at once are in two slots, so a file's reset never wipes another's state.
 */
export function sharedMoto(): MotoServer {
  const endpoints = inject('motoEndpoints');
  const slot = Number(process.env['VITEST_POOL_ID'] ?? '1');
  if (endpoints && !endpoints[slot - 1]) {
    throw new Error(`no moto_server for vitest worker slot ${slot} (${endpoints.length} started): moto-global-setup.ts starts one per worker slot of the project`);
  }
  const endpoint = endpoints?.[slot - 1] ?? inject('motoEndpoint');
  if (!endpoint) {
    throw new Error('no moto_server: run the aws-driver tests through vitest.config.ts, whose aws-driver project starts one (test/support/moto-global-setup.ts)');
  }
  if (!endpoint.startsWith('http://127.0.0.1:')) throw new Error(`tests only talk to 127.0.0.1, not ${endpoint}`);
  return {
    endpoint,
    async reset() {
      const r = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!r.ok) throw new Error(`moto reset failed: HTTP ${r.status}`);
    },
  };
}
