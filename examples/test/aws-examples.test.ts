import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defineCluster } from '@berth/core';
import { checkUserDataFits } from '@berth/aws-driver';
import { describe, expect, it } from 'vitest';
import { kafkaCluster } from '../aws/kafka-kraft.js';
import { mongoCluster } from '../aws/mongodb-replica-set.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe.each([
  ['mongodb-replica-set', mongoCluster, 'orders-mongo'],
  ['kafka-kraft', kafkaCluster, 'kafka-prod'],
] as const)('examples/aws/%s.ts (what can be checked without AWS)', (file, cluster, name) => {
  it('its spec validates, its user data fits in 16 KB, and its scripts are shellcheck clean', () => {
    const spec = defineCluster(cluster('ami-0fedcba9876543210'));
    expect(spec.name).toBe(name);
    expect(checkUserDataFits(spec).sizeBytes).toBeLessThanOrEqual(16 * 1024);
    for (const script of [spec.bootstrap.configureScript, spec.bootstrap.healthScript]) {
      execFileSync('shellcheck', ['-s', 'bash', '-'], { input: `#!/bin/bash\n${script}\n` });
    }
  });

  it('`check` prints the IAM policy without calling AWS', async () => {
    const { stdout } = await run(`${root}/node_modules/.bin/tsx`, [`examples/aws/${file}.ts`, 'check'], {
      cwd: root,
      env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' },
    });
    expect(stdout).toMatch(new RegExp(`spec ${name}: 3 nodes, valid; user data \\d+ of 16384 bytes`));
    expect(stdout).toContain('"Version": "2012-10-17"');
  }, 30_000);
});

describe('examples/aws/kafka-kraft.ts specifics', () => {
  it('names its three KRaft voters by their fixed DNS names', () => {
    const spec = defineCluster(kafkaCluster('ami-0fedcba9876543210'));
    expect(spec.nodes.map((n) => n.id)).toEqual(['kafka-1', 'kafka-2', 'kafka-3']);
    expect(spec.bootstrap.files.find((f) => f.path === '/etc/kafka/kraft.properties.tmpl')?.content).toContain('1@kafka-1.kafka.internal.example.com:9093');
  });
});
