import { createController, defineCluster, type ClusterInput, type RollHooks } from '@berth/core';
import { checkUserDataFits, createAwsDriver, createSystemClock, iamPolicyFor } from '@berth/aws-driver';

/**
 * The command line both AWS examples share:
 *   check              validate the spec, check the user data size, print the IAM policy (no AWS call)
 *   roll --image ami-… preflight, apply, then a quorum-safe roll with the example's hooks
 */
export async function runAwsExample(options: {
  readonly cluster: (image: string) => ClusterInput;
  readonly defaultImage: string;
  readonly hooks: RollHooks;
  readonly replacementTimeoutMs?: number;
}): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  const imageAt = rest.indexOf('--image');
  const image = imageAt >= 0 ? (rest[imageAt + 1] ?? options.defaultImage) : options.defaultImage;
  const spec = defineCluster(options.cluster(image));
  if (cmd === 'check' || cmd === undefined) {
    const fit = checkUserDataFits(spec);
    console.log(`spec ${spec.name}: ${spec.nodes.length} nodes, valid; user data ${fit.sizeBytes} of ${fit.limitBytes} bytes${fit.gzipped ? ' (gzipped)' : ''}`);
    // The roll below waits on the change queue, so the policy includes it.
    console.log(JSON.stringify(iamPolicyFor(spec, { changeQueue: true }), null, 2));
    return;
  }
  if (cmd !== 'roll') throw new Error(`unknown command '${cmd}': use check, or roll --image ami-…`);
  const driver = createAwsDriver({ region: spec.region, changeQueue: true });
  try {
    const pre = await driver.preflight(spec);
    if (!pre.ok) {
      for (const p of pre.problems) console.error(`preflight: ${p.path}: ${p.message}`);
      process.exitCode = 2;
      return;
    }
    await driver.ensureLockTable();
    const controller = createController({ spec, driver, clock: createSystemClock(), hooks: options.hooks });
    controller.on('node.replaced', (e) => console.log(`${e.nodeId}: ${e.oldInstanceId} → ${e.newInstanceId}`));
    await controller.apply();
    const report = await controller.roll({ maxUnavailable: 1, ...(options.replacementTimeoutMs && { replacementTimeoutMs: options.replacementTimeoutMs }) });
    console.log(`roll ${report.outcome} in ${Math.round(report.durationMs / 60_000)} min`);
  } finally {
    driver.destroy();
  }
}
