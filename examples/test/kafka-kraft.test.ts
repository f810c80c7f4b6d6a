import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defineCluster } from '@berth/core';
import { checkUserDataFits } from '@berth/aws-driver';
import { describe, expect, it } from 'vitest';
import { kafkaCluster } from '../aws/kafka-kraft.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('examples/aws/kafka-kraft.ts (what can be checked without AWS)', () => {
  it('its spec validates and its user data fits in 16 KB', () => {
    const spec = defineCluster(kafkaCluster('ami-0fedcba9876543210'));
    expect(spec.nodes.map((n) => n.id)).toEqual(['kafka-1', 'kafka-2', 'kafka-3']);
    expect(checkUserDataFits(spec).sizeBytes).toBeLessThanOrEqual(16 * 1024);
  });

  it('its configure and health scripts are shellcheck clean', () => {
    const { bootstrap } = defineCluster(kafkaCluster('ami-0fedcba9876543210'));
    for (const script of [bootstrap.configureScript, bootstrap.healthScript]) {
      execFileSync('shellcheck', ['-s', 'bash', '-'], { input: `#!/bin/bash\n${script}\n` });
    }
  });

  it('`check` prints the IAM policy without calling AWS', async () => {
    const { stdout } = await run(`${root}/node_modules/.bin/tsx`, ['examples/aws/kafka-kraft.ts', 'check'], {
      cwd: root,
      env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' },
    });
    expect(stdout).toMatch(/spec kafka-prod: 3 nodes, valid; user data \d+ of 16384 bytes/);
    expect(stdout).toContain('"Version": "2012-10-17"');
  }, 30_000);
});
