import { syncBuiltinESMExports } from 'node:module';
import fs from 'node:fs';
import { iamPolicyFor } from '@berth/aws-driver';
import { defineCluster } from '@berth/core';
import { describe, expect, it } from 'vitest';
import type { IamEvaluationRequest, IamEvaluator } from '../../src/aws/iam/iam-decision.js';
import { loadIamSimulateEvaluator } from '../../src/aws/iam/iam-simulate-evaluator.js';
import { memoizeEvaluator, memoKey, resetEvaluatorMemo } from '../../src/aws/iam/memo-evaluator.js';
import { simulatedClusterInput } from '../../src/simulated-cluster-input.js';

// What an evaluation costs, fresh and memoised (printed; the bounds are loose so the test holds
// on a slow machine), and that a loaded evaluator reads no file.

const ACCT = '123456789012';
const REGION = 'eu-west-1';
const spec = defineCluster(simulatedClusterInput({ nodes: 3 }));
const { controller, node } = iamPolicyFor(spec, { accountId: ACCT });

function attach(i: number, policy: 'controller' | 'node'): IamEvaluationRequest {
  return {
    principalArn: `arn:aws:sts::${ACCT}:assumed-role/demo-node/i-${i}`,
    accountId: ACCT,
    action: 'ec2:AttachVolume',
    resource: `arn:aws:ec2:${REGION}:${ACCT}:volume/vol-${String(i).padStart(17, '0')}`,
    context: {
      'aws:PrincipalArn': `arn:aws:iam::${ACCT}:role/demo-node`,
      'ec2:Region': REGION,
      'aws:ResourceTag/berth:cluster': 'demo',
      'aws:ResourceTag/berth:node-ip': '10.0.1.10',
      'aws:EC2InstanceSourcePrivateIPv4': '10.0.1.10',
      'ec2:SourceInstanceARN': `arn:aws:ec2:${REGION}:${ACCT}:instance/i-${i}`,
    },
    policies: policy === 'controller' ? { key: 'cost-controller', documents: [{ name: 'c', document: controller }] } : { key: 'cost-node', documents: [{ name: 'n', document: node }] },
  };
}

async function perCallMs(evaluator: IamEvaluator, make: (i: number) => IamEvaluationRequest, n: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) await evaluator.evaluate(make(i));
  return (performance.now() - t) / n;
}

describe('evaluator cost', () => {
  it('loads once, then evaluates without reading a file', async () => {
    const t = performance.now();
    const evaluator = await loadIamSimulateEvaluator();
    const loadMs = performance.now() - t;
    const reads: string[] = [];
    const original = fs.promises.readFile;
    fs.promises.readFile = ((...args: Parameters<typeof original>) => {
      reads.push(String(args[0]));
      return original(...args);
    }) as typeof original;
    syncBuiltinESMExports();
    try {
      await evaluator.evaluate(attach(1, 'controller'));
      await evaluator.evaluate({ ...attach(2, 'node'), action: 'autoscaling:CompleteLifecycleAction', resource: `arn:aws:autoscaling:${REGION}:${ACCT}:autoScalingGroup:x:autoScalingGroupName/berth-demo-demo-1` });
      await evaluator.evaluate({ ...attach(3, 'controller'), action: 'route53:ChangeResourceRecordSets', resource: 'arn:aws:route53:::hostedzone/Z1' });
      await evaluator.evaluate({ ...attach(4, 'controller'), action: 'kms:CreateGrant', resource: `arn:aws:kms:${REGION}:${ACCT}:key/k` });
    } finally {
      fs.promises.readFile = original;
      syncBuiltinESMExports();
    }
    expect(reads).toEqual([]);
    console.log(`iam-simulate: load and warm-up ${loadMs.toFixed(0)} ms`);
  }, 60_000);

  it('measures a fresh evaluation, a memo miss and a memo hit', async () => {
    const evaluator = await loadIamSimulateEvaluator();
    const n = 200;
    await perCallMs(evaluator, (i) => attach(i, 'node'), 20); // JIT warm-up
    const freshNode = await perCallMs(evaluator, (i) => attach(i, 'node'), n);
    const freshController = await perCallMs(evaluator, (i) => attach(i, 'controller'), n);
    resetEvaluatorMemo();
    const memo = memoizeEvaluator(evaluator);
    // Distinct source IPs: every request a miss.
    const miss = await perCallMs(memo, (i) => ({ ...attach(i, 'node'), context: { ...attach(i, 'node').context, 'aws:ResourceTag/berth:node-ip': `10.1.${i >> 8}.${i & 255}` } }), n);
    // Same policies, other volume ids: every request a hit, answered synchronously.
    const hits = 20_000;
    const reqs = Array.from({ length: 100 }, (_, i) => attach(i, 'controller'));
    await memo.evaluate(reqs[0]!);
    const t = performance.now();
    for (let i = 0; i < hits; i++) {
      const d = memo.evaluate(reqs[i % 100]!);
      if (d instanceof Promise) throw new Error('a hit must be synchronous');
    }
    const hitUs = ((performance.now() - t) / hits) * 1000;
    const t2 = performance.now();
    for (let i = 0; i < hits; i++) memoKey(reqs[i % 100]!);
    const keyUs = ((performance.now() - t2) / hits) * 1000;
    console.log(
      `iam-simulate 0.1.173, fresh evaluation: node policy ${freshNode.toFixed(2)} ms, controller policy ${freshController.toFixed(2)} ms; ` +
        `memo miss ${miss.toFixed(2)} ms; memo hit ${hitUs.toFixed(1)} µs (of which the key ${keyUs.toFixed(1)} µs)`,
    );
    expect(hitUs * 20).toBeLessThan(freshController * 1000);
  }, 120_000);
});
