import { inject } from 'vitest';

/**
 * The moto_server shared by every aws-driver test file of this run (started once by
 * `moto-global-setup.ts`, stopped by it after the last file). Traffic never leaves 127.0.0.1.
 */
export interface MotoServer {
  readonly endpoint: string;
  /** Wipes moto's state (every service, account and region). */
  reset(): Promise<void>;
}

export function sharedMoto(): MotoServer {
  const endpoint = inject('motoEndpoint');
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
