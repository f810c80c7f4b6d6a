// Spec and user data helpers for the tests of renderUserData and the script text. The script's
// behaviour is tested by running it against the simulated AWS: packages/sim-driver/test/bootstrap/.
import { execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { defineCluster } from '@berth/core';
import type { ClusterInput, ClusterSpec } from '@berth/core';
import { renderUserData } from '../../src/user-data.js';
import type { UserDataOptions } from '../../src/user-data.js';

/** The one AZ of the test cluster (also used by the simulated-account bootstrap tests). */
export const AZ = 'us-east-1a';

const USER = userInfo().username;
const GROUP = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();

/** A 3-node cluster in one subnet whose data volume mounts under `dir`, owned by the user running the tests. */
export function makeSpec(dir: string, over: Partial<ClusterInput> = {}, dataVolume: Record<string, unknown> = {}): ClusterSpec {
  return defineCluster({
    name: 'kafka',
    region: 'us-east-1',
    subnets: [{ id: 'subnet-0123456789abcdef0', az: AZ, cidr: '10.0.1.0/24' }],
    nodes: ['n1', 'n2', 'n3'].map((id, i) => ({ id, ip: `10.0.1.${10 + i}`, subnetId: 'subnet-0123456789abcdef0' })),
    image: 'ami-0123456789abcdef0',
    instanceType: 'm6i.large',
    securityGroupIds: ['sg-0123456789abcdef0'],
    iamInstanceProfile: 'kafka-node',
    dataVolume: { sizeGiB: 10, fileSystem: 'ext4', mountPath: join(dir, 'data'), owner: USER, group: GROUP, ...dataVolume },
    lifecycle: { heartbeatTimeoutSec: 300, defaultResult: 'ABANDON', onFailure: 'abandon' },
    ...over,
  });
}

/** Decoded (and gunzipped) user data text. */
export function userDataText(spec: ClusterSpec, nodeId = 'n1', options: UserDataOptions = {}): string {
  const r = renderUserData(spec, nodeId, 'r-0011223344556677', options);
  const bytes = Buffer.from(r.userData, 'base64');
  return (r.gzipped ? gunzipSync(bytes) : bytes).toString('utf8');
}
