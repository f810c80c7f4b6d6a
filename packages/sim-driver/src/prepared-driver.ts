import type { ClusterSpec, LockDriver } from '@berth/core';
import type { AwsDriver } from '@berth/aws-driver';
import type { SimAccount } from './account.js';

/** The methods of the AWS driver that take a spec first. */
const SPEC_FIRST = ['observe', 'ensureNode', 'restoreLaunchTemplate', 'setCapacityMarket', 'replaceInstance', 'completeLifecycle', 'setDns', 'snapshotVolume', 'modifyVolume', 'volumeModifications', 'deleteNode', 'preflight', 'ensureChangeQueue', 'deleteChangeQueue', 'waitForChange', 'describeTargetGroups', 'registerTargets', 'deregisterTargets', 'setNodePaused', 'checkAdoption', 'takeOverAdoption'] as const;

/**
 * The production AWS driver, unchanged, with one addition: before a call about a spec, the
 * simulated account gets what that spec names and a real account would already have
 * (`SimAccount.prepare`: subnets, security groups, images, zone, instance profile, policies).
 * Nothing of the driver's own logic is reimplemented here.
 */
export function withPreparedAccount(driver: AwsDriver, account: SimAccount): AwsDriver {
  const prepare = (spec: ClusterSpec): void => {
    if (!account.isPrepared(spec)) account.prepare(spec);
  };
  const wrapped: Record<string, unknown> = Object.create(driver) as Record<string, unknown>;
  for (const name of SPEC_FIRST) {
    const fn = (driver as unknown as Record<string, unknown>)[name];
    if (typeof fn !== 'function') continue;
    wrapped[name] = (spec: ClusterSpec, ...rest: unknown[]) => {
      prepare(spec);
      return (fn as (...a: unknown[]) => unknown).call(driver, spec, ...rest);
    };
  }
  const lock: LockDriver = {
    acquire: (spec, o) => (prepare(spec), driver.lock.acquire(spec, o)),
    renew: (spec, lease, o) => (prepare(spec), driver.lock.renew(spec, lease, o)),
    release: (spec, lease, o) => (prepare(spec), driver.lock.release(spec, lease, o)),
    inspect: (spec, o) => (prepare(spec), driver.lock.inspect(spec, o)),
  };
  wrapped['lock'] = Object.freeze(lock);
  for (const name of ['iamPolicyFor', 'ensureLockTable', 'apiCallCounts', 'resetApiCallCounts', 'destroy'] as const) {
    const fn = (driver as unknown as Record<string, unknown>)[name];
    if (typeof fn === 'function') wrapped[name] = (fn as (...a: unknown[]) => unknown).bind(driver);
  }
  return Object.freeze(wrapped) as unknown as AwsDriver;
}
